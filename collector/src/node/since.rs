//! `--since` for service logs read from files: where a log's recent part starts.
//!
//! Log files are in time order, so the recent part starts at the first line stamped at or
//! after the cutoff; lines without a stamp (continuations, stack traces) go with the lines
//! around them. Stamps are read in the forms service logs use: RFC 3339 / ISO 8601 (also
//! logrus' `time="…"`), klog (`I1123 06:09:28.123456`) and syslog (`Nov 23 06:09:28`).
//! klog and syslog stamps carry neither year nor zone: the year is the one that puts the
//! stamp at most a day ahead of now, and, the host's zone being unknown, such a stamp counts
//! as recent while it is within [`ZONE_SLACK`] of the cutoff: a few lines more, never fewer.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// How far a stamp without a zone may lie before the cutoff and still count as recent: the
/// largest UTC offset in use.
pub const ZONE_SLACK: Duration = Duration::hours(14);

/// A line's time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// With a zone (or `Z`): an instant.
    Exact(DateTime<Utc>),
    /// Without a zone: read as UTC.
    Local(DateTime<Utc>),
}

/// Byte offset in `text` where lines stamped at or after `cutoff` begin; `None` when no line
/// carries a stamp (the log cannot be judged and is kept whole). Equal to `text.len()` when
/// every stamped line is older.
pub fn recent_start(text: &[u8], cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Option<usize> {
    let mut stamped = false;
    let mut offset = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        if let Some(stamp) = stamp(line, now) {
            stamped = true;
            let recent = match stamp {
                Stamp::Exact(t) => t >= cutoff,
                Stamp::Local(t) => t >= cutoff - ZONE_SLACK,
            };
            if recent {
                return Some(offset);
            }
        }
        offset += line.len();
    }
    stamped.then_some(text.len())
}

/// The stamp at the start of `line`, if it has one.
fn stamp(line: &[u8], now: DateTime<Utc>) -> Option<Stamp> {
    let head = String::from_utf8_lossy(&line[..line.len().min(64)]);
    let head = head.trim_start();
    let head = head.strip_prefix("time=\"").unwrap_or(head);
    iso(head)
        .or_else(|| klog(head, now).map(Stamp::Local))
        .or_else(|| syslog(head, now).map(Stamp::Local))
}

/// `2026-11-23T06:09:28.123Z`, `2026-11-23 06:09:28+08:00`, `2026-11-23T06:09:28`.
fn iso(head: &str) -> Option<Stamp> {
    let b = head.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    // The stamp runs through the seconds, then a fraction and a zone when there are.
    let mut end = 19;
    if b.get(end) == Some(&b'.') {
        end += 1;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    }
    match b.get(end) {
        Some(b'Z') => end += 1,
        Some(b'+' | b'-') if b.get(end + 3) == Some(&b':') => end += 6,
        _ => {}
    }
    let text = head.get(..end.min(b.len()))?.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(Stamp::Exact(t.with_timezone(&Utc)));
    }
    NaiveDateTime::parse_from_str(text.get(..19)?, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| Stamp::Local(t.and_utc()))
}

/// `I1123 06:09:28.123456 …` (severity, month, day, time).
fn klog(head: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let b = head.as_bytes();
    if b.len() < 14 || !matches!(b[0], b'I' | b'W' | b'E' | b'F') || b[5] != b' ' {
        return None;
    }
    let month: u32 = head.get(1..3)?.parse().ok()?;
    let day: u32 = head.get(3..5)?.parse().ok()?;
    let time = NaiveTime::parse_from_str(head.get(6..14)?, "%H:%M:%S").ok()?;
    with_year(month, day, time, now)
}

/// `Nov 23 06:09:28 host unit[pid]: …` (day may be space-padded).
fn syslog(head: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| head.starts_with(m))? as u32 + 1;
    let rest = head.get(3..)?.trim_start();
    let (day, rest) = rest.split_once(' ')?;
    let day: u32 = day.parse().ok()?;
    let time = NaiveTime::parse_from_str(rest.get(..8)?, "%H:%M:%S").ok()?;
    with_year(month, day, time, now)
}

/// The date in the year that puts it at most a day after `now`.
fn with_year(month: u32, day: u32, time: NaiveTime, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let this_year = NaiveDate::from_ymd_opt(now.year(), month, day)?
        .and_time(time)
        .and_utc();
    if this_year > now + Duration::days(1) {
        NaiveDate::from_ymd_opt(now.year() - 1, month, day).map(|d| d.and_time(time).and_utc())
    } else {
        Some(this_year)
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
        let cases = [
            (
                "2026-11-23T06:09:28.123456Z kubelet ...",
                Stamp::Exact(at("2026-11-23T06:09:28.123456Z")),
            ),
            (
                "2026-11-23T06:09:28+08:00 x",
                Stamp::Exact(at("2026-11-22T22:09:28Z")),
            ),
            (
                "time=\"2026-11-23T06:09:28.5Z\" level=info msg=\"x\"",
                Stamp::Exact(at("2026-11-23T06:09:28.5Z")),
            ),
            (
                "2026-11-23 06:09:28 containerd ...",
                Stamp::Local(at("2026-11-23T06:09:28Z")),
            ),
            (
                "I1123 06:09:28.123456   12345 kubelet.go:1] x",
                Stamp::Local(at("2026-11-23T06:09:28Z")),
            ),
            (
                "E0101 00:00:01.000000   1 x.go:1] y",
                Stamp::Local(at("2026-01-01T00:00:01Z")),
            ),
            (
                "Nov 23 06:09:28 node-1 kubelet[99]: x",
                Stamp::Local(at("2026-11-23T06:09:28Z")),
            ),
            (
                "Nov  3 06:09:28 node-1 kubelet[99]: x",
                Stamp::Local(at("2026-11-03T06:09:28Z")),
            ),
            // A year-less date more than a day ahead is last year's.
            (
                "Dec 30 23:59:59 node-1 kubelet[99]: x",
                Stamp::Local(at("2025-12-30T23:59:59Z")),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(stamp(line.as_bytes(), now), Some(want), "{line}");
        }
        for line in [
            "\tat main.go:12",
            "goroutine 1 [running]:",
            "Information only",
            "",
            "2026",
        ] {
            assert_eq!(stamp(line.as_bytes(), now), None, "{line:?}");
        }
    }

    #[test]
    fn the_recent_part_starts_at_the_first_recent_stamp() {
        let now = at("2026-11-23T12:00:00Z");
        let cutoff = at("2026-11-23T11:00:00Z");
        let text = "2026-11-23T09:00:00Z old\n  continued\n2026-11-23T11:30:00Z new\n  trace\n2026-11-23T11:45:00Z newer\n";
        let start = recent_start(text.as_bytes(), cutoff, now).expect("stamped");
        assert_eq!(
            &text[start..],
            "2026-11-23T11:30:00Z new\n  trace\n2026-11-23T11:45:00Z newer\n"
        );
        let all_old = "2026-11-20T09:00:00Z a\n2026-11-21T09:00:00Z b\n";
        assert_eq!(
            recent_start(all_old.as_bytes(), cutoff, now),
            Some(all_old.len())
        );
        assert_eq!(recent_start(b"no stamps here\nat all\n", cutoff, now), None);
    }

    #[test]
    fn stamps_without_a_zone_keep_a_margin() {
        let now = at("2026-11-23T12:00:00Z");
        let cutoff = at("2026-11-23T11:00:00Z");
        // 10 hours before the cutoff, no zone: it may be local time ahead of UTC, so kept.
        let text = "I1123 01:00:00.000000 1 a.go:1] maybe recent\n";
        assert_eq!(recent_start(text.as_bytes(), cutoff, now), Some(0));
        // 20 hours before: old in every zone.
        let text = "I1122 15:00:00.000000 1 a.go:1] old\nI1123 11:30:00.000000 1 a.go:1] new\n";
        let start = recent_start(text.as_bytes(), cutoff, now).expect("stamped");
        assert!(
            text[start..].starts_with("I1123 11:30"),
            "{}",
            &text[start..]
        );
    }
}
