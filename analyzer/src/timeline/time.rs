//! Times as people write them on the command line and read them in a post-mortem: relative to
//! the collection (`-3h12m`) and absolute (UTC).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};

/// `t` relative to `reference`, in the two largest units: `-3h12m`, `-2d4h`, `-45m`, `+10d`,
/// `0m` within a minute.
pub fn relative(t: DateTime<Utc>, reference: DateTime<Utc>) -> String {
    let delta = t - reference;
    let minutes = delta.num_minutes();
    if minutes == 0 {
        return "0m".to_string();
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    let (days, hours, mins) = (m / 1440, (m / 60) % 24, m % 60);
    let text = match (days, hours, mins) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    };
    format!("{sign}{text}")
}

/// `2026-01-15 09:48:00 UTC`.
pub fn absolute(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A duration as every command takes it (`2h`, `1h30m`, `1.5h`, `3d`: `schema::duration`).
pub fn parse_duration(text: &str) -> Option<TimeDelta> {
    let d = ktriage_schema::duration::parse(text).ok()?;
    TimeDelta::from_std(d).ok()
}

/// An absolute time: RFC 3339 (`2026-01-15T09:00:00Z`), `2026-01-15 09:00[:00]` (UTC) or a
/// date (its midnight, UTC).
pub fn parse_absolute(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `--since`/`--until`: a duration before `reference` (`2h`, `-2h`) or an absolute time.
pub fn parse_point(text: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let trimmed = text.trim();
    let duration = trimmed.strip_prefix('-').unwrap_or(trimmed);
    if let Some(d) = parse_duration(duration) {
        return reference.checked_sub_signed(d);
    }
    parse_absolute(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_absolute(s).expect("time")
    }

    #[test]
    fn relative_times_use_the_two_largest_units() {
        let now = at("2026-01-15T12:00:00Z");
        assert_eq!(relative(at("2026-01-15T08:48:00Z"), now), "-3h12m");
        assert_eq!(relative(at("2026-01-13T08:00:00Z"), now), "-2d4h");
        assert_eq!(relative(at("2026-01-15T11:15:00Z"), now), "-45m");
        assert_eq!(relative(at("2026-01-15T10:00:00Z"), now), "-2h");
        assert_eq!(relative(at("2026-01-25T12:00:00Z"), now), "+10d");
        assert_eq!(relative(at("2026-01-15T11:59:30Z"), now), "0m");
    }

    #[test]
    fn points_are_durations_before_the_reference_or_absolute_times() {
        let now = at("2026-01-15T12:00:00Z");
        assert_eq!(parse_point("2h", now), Some(at("2026-01-15T10:00:00Z")));
        assert_eq!(parse_point("-1h30m", now), Some(at("2026-01-15T10:30:00Z")));
        assert_eq!(parse_point("3d", now), Some(at("2026-01-12T12:00:00Z")));
        assert_eq!(
            parse_point("2026-01-14 22:10", now),
            Some(at("2026-01-14T22:10:00Z"))
        );
        assert_eq!(
            parse_point("2026-01-14T22:10:00+08:00", now),
            Some(at("2026-01-14T14:10:00Z"))
        );
        assert_eq!(
            parse_point("2026-01-14", now),
            Some(at("2026-01-14T00:00:00Z"))
        );
        assert_eq!(parse_point("2x", now), None);
        assert_eq!(parse_point("h", now), None);
        assert_eq!(parse_point("", now), None);
        assert_eq!(parse_point("99999999999999d", now), None);
    }
}
