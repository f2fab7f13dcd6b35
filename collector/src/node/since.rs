//! `--since` for service logs read from files: where a log's recent part starts.
//!
//! Log files are in time order, so the recent part starts at the first line stamped at or
//! after the cutoff; lines without a stamp (continuations, stack traces) go with the lines
//! around them. Stamps are read as [`ktriage_schema::logtime`] reads them. A stamp without a
//! zone (klog, syslog) counts as recent while it is within [`ZONE_SLACK`] of the cutoff, the
//! host's zone being unknown: a few lines more, never fewer.

use chrono::{DateTime, Utc};
use ktriage_schema::logtime::{Stamp, ZONE_SLACK, line_stamp};

/// Byte offset in `text` where lines stamped at or after `cutoff` begin; `None` when no line
/// carries a stamp (the log cannot be judged and is kept whole). Equal to `text.len()` when
/// every stamped line is older.
pub fn recent_start(text: &[u8], cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Option<usize> {
    let mut stamped = false;
    let mut offset = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        if let Some(stamp) = line_stamp(line, now) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
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
