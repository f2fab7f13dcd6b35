//! Durations on the command line, one syntax for every command of both programs.

use std::time::Duration;

/// Parses a duration the way kubectl does (`1h30m`, `90s`, `500ms`), plus fractions (`1.5h`),
/// days (`2d`) and weeks (`1w`); a bare number is seconds.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "invalid duration {text:?}: expected a number at {rest:?}"
            ));
        }
        let number: f64 = rest[..digits].parse().map_err(|_| {
            format!(
                "invalid duration {text:?}: bad number {:?}",
                &rest[..digits]
            )
        })?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let seconds = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 7.0 * 86_400.0,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: missing unit (ms, s, m, h, d, w)"
                ));
            }
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?} (ms, s, m, h, d, w)"
                ));
            }
        };
        total += Duration::try_from_secs_f64(number * seconds)
            .map_err(|_| format!("invalid duration {text:?}: out of range"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax() {
        let secs = Duration::from_secs;
        assert_eq!(parse("90"), Ok(secs(90)));
        assert_eq!(parse(" 24h "), Ok(secs(86_400)));
        assert_eq!(parse("1h30m"), Ok(secs(5_400)));
        assert_eq!(parse("1.5h"), Ok(secs(5_400)));
        assert_eq!(parse("2d"), Ok(secs(172_800)));
        assert_eq!(parse("1w"), Ok(secs(604_800)));
        assert_eq!(parse("1w2d"), Ok(secs(777_600)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (text, says) in [
            ("", "empty"),
            ("5x", "unknown unit"),
            ("1h5", "missing unit"),
            ("h", "expected a number"),
            ("1..5h", "bad number"),
            ("99999999999999999999w", "out of range"),
            ("10 s", "unknown unit"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
