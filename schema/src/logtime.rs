//! When a log line was written.
//!
//! Container logs of format 1.1 carry the API's own stamp (`timestamps=true`): an RFC 3339
//! time and one space before each line ([`split_api_stamp`]). Service logs carry whatever
//! their writer put there ([`line_stamp`]): journal `short-iso`, `short-iso-precise`,
//! `short` and `short-precise`, syslog, klog, RFC 3339 / ISO 8601 (also logrus'
//! `time="…"`), and JSON lines with a `ts` or `time` field (zap writes epoch seconds).
//!
//! klog and syslog stamps carry neither year nor zone. The year is the one that puts the
//! stamp at most [`ZONE_SLACK`] after the reference time (the collection), and the time is
//! read as UTC: such a stamp is [`Stamp::Local`], off by the host's zone at most.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// How far a stamp without a zone may lie from the instant it names: the largest UTC offset
/// in use.
pub const ZONE_SLACK: Duration = Duration::hours(14);

/// A line's time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// With a zone (or `Z`): an instant.
    Exact(DateTime<Utc>),
    /// Without a zone: read as UTC.
    Local(DateTime<Utc>),
}

impl Stamp {
    /// The time, reading a zone-less stamp as UTC.
    pub fn time(self) -> DateTime<Utc> {
        match self {
            Stamp::Exact(t) | Stamp::Local(t) => t,
        }
    }
}

/// Splits the API's `timestamps=true` prefix (`2026-01-15T11:59:00.123456789Z `) off a
/// container log line: the time and the line as the container wrote it.
pub fn split_api_stamp(line: &[u8]) -> Option<(DateTime<Utc>, &[u8])> {
    let space = line.iter().take(40).position(|&b| b == b' ')?;
    let head = std::str::from_utf8(&line[..space]).ok()?;
    if head.len() < 20 || head.as_bytes()[10] != b'T' {
        return None;
    }
    let t = DateTime::parse_from_rfc3339(head).ok()?;
    Some((t.with_timezone(&Utc), &line[space + 1..]))
}

/// The stamp at the start of a service log line, if it has one. `reference` (the collection
/// time) settles the year of year-less stamps.
pub fn line_stamp(line: &[u8], reference: DateTime<Utc>) -> Option<Stamp> {
    let head = String::from_utf8_lossy(&line[..line.len().min(256)]);
    let head = head.trim_start();
    if head.starts_with('{') {
        return json(head);
    }
    let head = head.strip_prefix("time=\"").unwrap_or(head);
    iso(head)
        .or_else(|| klog(head, reference).map(Stamp::Local))
        .or_else(|| syslog(head, reference).map(Stamp::Local))
}

/// `2026-11-23T06:09:28.123Z`, `2026-11-23 06:09:28+08:00`, journal's
/// `2026-11-23T06:09:28+0000`, `2026-11-23T06:09:28` (no zone).
fn iso(head: &str) -> Option<Stamp> {
    let b = head.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
        || b[13] != b':'
    {
        return None;
    }
    let mut text = String::with_capacity(40);
    text.push_str(head.get(..10)?);
    text.push('T');
    text.push_str(head.get(11..19)?);
    let mut end = 19;
    if matches!(b.get(end), Some(b'.' | b',')) {
        let start = end + 1;
        end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end > start {
            text.push('.');
            text.push_str(&head[start..end.min(start + 9)]);
        }
    }
    match b.get(end) {
        Some(b'Z' | b'z') => text.push('Z'),
        Some(b'+' | b'-') => {
            let digits = |r: std::ops::Range<usize>| {
                head.get(r)
                    .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
            };
            let hours = digits(end + 1..end + 3)?;
            let minutes = if b.get(end + 3) == Some(&b':') {
                digits(end + 4..end + 6)?
            } else {
                digits(end + 3..end + 5).unwrap_or("00")
            };
            text.push(b[end] as char);
            text.push_str(hours);
            text.push(':');
            text.push_str(minutes);
        }
        _ => {
            return NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| Stamp::Local(t.and_utc()));
        }
    }
    DateTime::parse_from_rfc3339(&text)
        .ok()
        .map(|t| Stamp::Exact(t.with_timezone(&Utc)))
}

/// `I1123 06:09:28.123456 …` (severity, month, day, time).
fn klog(head: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let b = head.as_bytes();
    if b.len() < 14 || !matches!(b[0], b'I' | b'W' | b'E' | b'F') || b[5] != b' ' {
        return None;
    }
    let month: u32 = head.get(1..3)?.parse().ok()?;
    let day: u32 = head.get(3..5)?.parse().ok()?;
    let time = clock(head.get(6..)?)?;
    with_year(month, day, time, reference)
}

/// `Nov 23 06:09:28 host unit[pid]: …` (day may be space-padded or zero-padded, and
/// journal's `short-precise` adds microseconds).
fn syslog(head: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| head.starts_with(m))? as u32 + 1;
    let rest = head.get(3..)?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (day, rest) = rest.trim_start().split_once(' ')?;
    let day: u32 = day.parse().ok()?;
    with_year(month, day, clock(rest)?, reference)
}

/// `06:09:28` with an optional `.123456` fraction.
fn clock(text: &str) -> Option<NaiveTime> {
    let end = text
        .bytes()
        .position(|c| !(c.is_ascii_digit() || c == b':' || c == b'.'))
        .unwrap_or(text.len());
    let text = &text[..end];
    if text.len() < 8 || text.as_bytes()[2] != b':' {
        return None;
    }
    NaiveTime::parse_from_str(text, "%H:%M:%S%.f").ok()
}

/// JSON lines: `{"ts":1718000000.123,…}` (zap), `{"time":"2026-…Z",…}`, `{"ts":"…"}`.
fn json(head: &str) -> Option<Stamp> {
    for key in ["\"ts\":", "\"time\":", "\"timestamp\":", "\"@timestamp\":"] {
        let Some(at) = head.find(key) else { continue };
        let value = head[at + key.len()..].trim_start();
        if let Some(text) = value.strip_prefix('"') {
            return iso(text.split('"').next()?);
        }
        let end = value
            .bytes()
            .position(|c| !(c.is_ascii_digit() || c == b'.'))
            .unwrap_or(value.len());
        let seconds: f64 = value[..end].parse().ok()?;
        // Epoch seconds after 2001, or milliseconds written by some loggers.
        let seconds = if seconds > 1e11 {
            seconds / 1000.0
        } else {
            seconds
        };
        if seconds < 1e9 {
            return None;
        }
        let micros = (seconds * 1e6).round() as i64;
        return DateTime::from_timestamp_micros(micros).map(Stamp::Exact);
    }
    None
}

/// The date in the year that puts it at most [`ZONE_SLACK`] after `reference`.
fn with_year(
    month: u32,
    day: u32,
    time: NaiveTime,
    reference: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let in_year =
        |year: i32| NaiveDate::from_ymd_opt(year, month, day).map(|d| d.and_time(time).and_utc());
    match in_year(reference.year()) {
        Some(t) if t <= reference + ZONE_SLACK => Some(t),
        // Past the reference this year: last year's (also for 29 February).
        _ => in_year(reference.year() - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn reads_the_stamps_service_logs_use() {
        let now = at("2026-11-23T12:00:00Z");
        let exact = |s| Some(Stamp::Exact(at(s)));
        let local = |s| Some(Stamp::Local(at(s)));
        let cases = [
            (
                "2026-11-23T06:09:28.123456Z kubelet ...",
                exact("2026-11-23T06:09:28.123456Z"),
            ),
            ("2026-11-23T06:09:28+08:00 x", exact("2026-11-22T22:09:28Z")),
            // journal short-iso and short-iso-precise
            (
                "2026-11-23T06:09:28+0000 node-1 kubelet[812]: E1123 06:09:28.1 x",
                exact("2026-11-23T06:09:28Z"),
            ),
            (
                "2026-11-23T06:09:28.654321+0100 node-1 containerd[1]: x",
                exact("2026-11-23T05:09:28.654321Z"),
            ),
            (
                "time=\"2026-11-23T06:09:28.5Z\" level=info msg=\"x\"",
                exact("2026-11-23T06:09:28.5Z"),
            ),
            (
                "2026-11-23 06:09:28 containerd ...",
                local("2026-11-23T06:09:28Z"),
            ),
            (
                "2026-11-23 06:09:28,250 INFO java",
                local("2026-11-23T06:09:28.25Z"),
            ),
            (
                "I1123 06:09:28.123456   12345 kubelet.go:1] x",
                local("2026-11-23T06:09:28.123456Z"),
            ),
            (
                "E0101 00:00:01.000000   1 x.go:1] y",
                local("2026-01-01T00:00:01Z"),
            ),
            (
                "Nov 23 06:09:28 node-1 kubelet[99]: x",
                local("2026-11-23T06:09:28Z"),
            ),
            (
                "Nov  3 06:09:28 node-1 kubelet[99]: x",
                local("2026-11-03T06:09:28Z"),
            ),
            // journal short-precise
            (
                "Nov 03 06:09:28.250000 node-1 kubelet[99]: x",
                local("2026-11-03T06:09:28.25Z"),
            ),
            // A year-less date after the reference is last year's.
            (
                "Dec 30 23:59:59 node-1 kubelet[99]: x",
                local("2025-12-30T23:59:59Z"),
            ),
            (
                r#"{"level":"info","ts":1763878168.5,"msg":"x"}"#,
                exact("2025-11-23T06:09:28.5Z"),
            ),
            (
                r#"{"level":"error","time":"2026-11-23T06:09:28Z","msg":"x"}"#,
                exact("2026-11-23T06:09:28Z"),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(line_stamp(line.as_bytes(), now), want, "{line}");
        }
        for line in [
            "\tat main.go:12",
            "goroutine 1 [running]:",
            "Information only",
            "",
            "2026",
            "Nov 99 06:09:28 x",
            r#"{"msg":"no time"}"#,
            "May the force",
        ] {
            assert_eq!(line_stamp(line.as_bytes(), now), None, "{line:?}");
        }
    }

    #[test]
    fn splits_the_api_stamp_off_container_lines() {
        let (t, rest) = split_api_stamp(b"2026-01-15T11:59:00.123456789Z Back-off pulling image")
            .expect("stamped");
        assert_eq!(t, at("2026-01-15T11:59:00.123456789Z"));
        assert_eq!(rest, b"Back-off pulling image");
        let (_, rest) = split_api_stamp(b"2026-01-15T11:59:00Z ").expect("empty line");
        assert_eq!(rest, b"");
        for line in [
            &b"Back-off pulling image"[..],
            b"2026-01-15 11:59:00 local time",
            b"I0115 11:59:00.000000 1 x.go:1] y",
            b"",
        ] {
            assert!(split_api_stamp(line).is_none(), "{line:?}");
        }
    }
}
