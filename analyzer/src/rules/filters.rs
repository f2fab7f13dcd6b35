//! The filters and tests message templates may use, in English and Chinese.
//!
//! Templates come from rule packs anyone may write, so the environment starts empty and gets
//! only what messages need: nothing that builds text without bound (`replace`, `format`,
//! `indent`, string repetition) and a `join` that stops at [`MAX_TEXT`] characters.

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, filters, tests as is};

use super::rule::Lang;

/// Longest text a filter returns, in bytes; a message is cut off there too.
pub const MAX_TEXT: usize = 64 * 1024;

/// Filters a template may name.
pub const FILTERS: &[&str] = &[
    "abs",
    "age",
    "default",
    "duration",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "log",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "round",
    "select",
    "selectattr",
    "size",
    "sort",
    "trim",
    "unique",
    "upper",
];

/// Tests a template may name (`x is none`).
pub const TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "even",
    "false",
    "ge",
    "gt",
    "in",
    "integer",
    "le",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "sequence",
    "startingwith",
    "string",
    "true",
    "undefined",
];

/// Adds the filters of [`FILTERS`] in `lang` and the tests of [`TESTS`] to `env`.
pub fn register(env: &mut Environment<'static>, lang: Lang) {
    env.add_filter("abs", filters::abs);
    env.add_filter("default", filters::default);
    env.add_filter("first", filters::first);
    env.add_filter("float", filters::float);
    env.add_filter("int", filters::int);
    env.add_filter("last", filters::last);
    env.add_filter("length", filters::length);
    env.add_filter("lower", filters::lower);
    env.add_filter("map", filters::map);
    env.add_filter("max", filters::max);
    env.add_filter("min", filters::min);
    env.add_filter("reject", filters::reject);
    env.add_filter("rejectattr", filters::rejectattr);
    env.add_filter("reverse", filters::reverse);
    env.add_filter("round", filters::round);
    env.add_filter("select", filters::select);
    env.add_filter("selectattr", filters::selectattr);
    env.add_filter("sort", filters::sort);
    env.add_filter("trim", filters::trim);
    env.add_filter("unique", filters::unique);
    env.add_filter("upper", filters::upper);
    env.add_filter("size", size);
    env.add_filter("log", move |source: String| log(lang, &source));
    env.add_filter("duration", move |seconds: Value| duration(lang, &seconds));
    env.add_filter("age", move |minutes: Value| age(lang, &minutes));
    env.add_filter(
        "join",
        move |items: Value, sep: Option<String>, max: Option<usize>| {
            join(lang, &items, sep.as_deref().unwrap_or(", "), max)
        },
    );

    env.add_test("boolean", is::is_boolean);
    env.add_test("defined", is::is_defined);
    env.add_test("divisibleby", is::is_divisibleby);
    env.add_test("endingwith", is::is_endingwith);
    env.add_test("eq", is::is_eq);
    env.add_test("even", is::is_even);
    env.add_test("false", is::is_false);
    env.add_test("ge", is::is_ge);
    env.add_test("gt", is::is_gt);
    env.add_test("in", is::is_in);
    env.add_test("integer", is::is_integer);
    env.add_test("le", is::is_le);
    env.add_test("lt", is::is_lt);
    env.add_test("mapping", is::is_mapping);
    env.add_test("ne", is::is_ne);
    env.add_test("none", is::is_none);
    env.add_test("number", is::is_number);
    env.add_test("odd", is::is_odd);
    env.add_test("sequence", is::is_sequence);
    env.add_test("startingwith", is::is_startingwith);
    env.add_test("string", is::is_string);
    env.add_test("true", is::is_true);
    env.add_test("undefined", is::is_undefined);
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// A number of seconds as its two largest units: `3d 4h`, `5m 10s`, `45s` (`3天4小时`,
/// `5分钟10秒`, `45秒`).
fn duration(lang: Lang, seconds: &Value) -> Result<String, Error> {
    let Some(total) = whole(seconds) else {
        return Err(invalid(format!(
            "duration needs a number of seconds, not {seconds}"
        )));
    };
    let units: [(i64, &str, &str); 4] = [
        (86400, "d", "天"),
        (3600, "h", "小时"),
        (60, "m", "分钟"),
        (1, "s", "秒"),
    ];
    let mut rest = total.unsigned_abs();
    let mut parts = Vec::new();
    for (size, en, zh) in units {
        let n = rest / size as u64;
        rest %= size as u64;
        if n > 0 || (size == 1 && parts.is_empty()) {
            parts.push(match lang {
                Lang::En => format!("{n}{en}"),
                Lang::Zh => format!("{n}{zh}"),
            });
        }
    }
    parts.truncate(2);
    let sep = match lang {
        Lang::En => " ",
        Lang::Zh => "",
    };
    let sign = if total < 0 { "-" } else { "" };
    Ok(format!("{sign}{}", parts.join(sep)))
}

/// A number of minutes in one unit, as messages state how long ago or how long: minutes below
/// two hours, hours below two days, days beyond, rounded (`45 minutes`, `3 hours`, `12 天`).
fn age(lang: Lang, minutes: &Value) -> Result<String, Error> {
    let Some(m) = f64::try_from(minutes.clone())
        .ok()
        .filter(|_| minutes.kind() == ValueKind::Number)
    else {
        return Err(invalid(format!(
            "age needs a number of minutes, not {minutes}"
        )));
    };
    let (n, en, zh) = if m < 120.0 {
        (m.max(0.0).round(), "minutes", "分钟")
    } else if m < 2880.0 {
        ((m / 60.0).round(), "hours", "小时")
    } else {
        ((m / 1440.0).round(), "days", "天")
    };
    Ok(match lang {
        Lang::En => format!("{} {en}", n as i64),
        Lang::Zh => format!("{} {zh}", n as i64),
    })
}

/// A number as a whole number (floats rounded), `None` for anything else.
fn whole(value: &Value) -> Option<i64> {
    if value.kind() != ValueKind::Number {
        return None;
    }
    i64::try_from(value.clone())
        .ok()
        .or_else(|| f64::try_from(value.clone()).ok().map(|f| f.round() as i64))
}

/// The log of a `log_lines.source` (`container`, `node`, `host`): "container log", "容器日志".
fn log(lang: Lang, source: &str) -> String {
    match lang {
        Lang::En => format!("{source} log"),
        Lang::Zh => match source {
            "container" => "容器日志".into(),
            "node" => "节点日志".into(),
            "host" => "主机日志".into(),
            other => format!("{other} 日志"),
        },
    }
}

/// A number of bytes in binary units: `512 B`, `1.5 GiB`, `2 MiB`.
fn size(bytes: Value) -> Result<String, Error> {
    let Some(n) = f64::try_from(bytes.clone())
        .ok()
        .filter(|_| bytes.kind() == ValueKind::Number)
    else {
        return Err(invalid(format!(
            "size needs a number of bytes, not {bytes}"
        )));
    };
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n.abs();
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let sign = if n < 0.0 { "-" } else { "" };
    let number = format!("{:.1}", value);
    let number = number.strip_suffix(".0").unwrap_or(&number);
    Ok(format!("{sign}{number} {}", UNITS[unit]))
}

/// The items of a list joined by `sep`; past `max` items, the rest are counted ("a, b … and
/// 3 more", "a、b…等 5 项"). Items must be text, numbers or booleans, and the result stops
/// at [`MAX_TEXT`].
fn join(lang: Lang, items: &Value, sep: &str, max: Option<usize>) -> Result<String, Error> {
    if items.is_none() {
        return Ok(String::new());
    }
    let total = items
        .len()
        .ok_or_else(|| invalid(format!("join needs a list, not {}", items.kind())))?;
    let shown = max.map_or(total, |m| m.min(total));
    let mut out = String::new();
    for (i, item) in items.try_iter()?.take(shown).enumerate() {
        if !matches!(
            item.kind(),
            ValueKind::String | ValueKind::Number | ValueKind::Bool | ValueKind::None
        ) {
            return Err(invalid(format!("join cannot show a {} item", item.kind())));
        }
        if i > 0 {
            out.push_str(sep);
        }
        if !item.is_none() {
            out.push_str(&item.to_string());
        }
        if out.len() > MAX_TEXT {
            return Err(invalid(format!("join made more than {MAX_TEXT} bytes")));
        }
    }
    if shown < total {
        match lang {
            Lang::En => out.push_str(&format!(" … and {} more", total - shown)),
            Lang::Zh => out.push_str(&format!("…等 {total} 项")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_show_their_two_largest_units() {
        for (secs, en, zh) in [
            (0, "0s", "0秒"),
            (45, "45s", "45秒"),
            (310, "5m 10s", "5分钟10秒"),
            (3 * 86400 + 4 * 3600 + 59, "3d 4h", "3天4小时"),
            (86400 + 30, "1d 30s", "1天30秒"),
            (-7200, "-2h", "-2小时"),
        ] {
            assert_eq!(duration(Lang::En, &Value::from(secs)).expect("renders"), en);
            assert_eq!(duration(Lang::Zh, &Value::from(secs)).expect("renders"), zh);
        }
        assert_eq!(
            duration(Lang::En, &Value::from(90.4)).expect("renders"),
            "1m 30s"
        );
        assert!(duration(Lang::En, &Value::from("90")).is_err());
    }

    #[test]
    fn ages_take_the_unit_that_reads_best() {
        for (minutes, en, zh) in [
            (-3.0, "0 minutes", "0 分钟"),
            (44.5, "45 minutes", "45 分钟"),
            (119.0, "119 minutes", "119 分钟"),
            (150.0, "3 hours", "3 小时"),
            (2879.0, "48 hours", "48 小时"),
            (4320.0, "3 days", "3 天"),
        ] {
            assert_eq!(age(Lang::En, &Value::from(minutes)).expect("renders"), en);
            assert_eq!(age(Lang::Zh, &Value::from(minutes)).expect("renders"), zh);
        }
        assert!(age(Lang::En, &Value::from("5")).is_err());
    }

    #[test]
    fn log_sources_are_named() {
        assert_eq!(log(Lang::En, "container"), "container log");
        assert_eq!(log(Lang::Zh, "container"), "容器日志");
        assert_eq!(log(Lang::Zh, "host"), "主机日志");
        assert_eq!(log(Lang::Zh, "journal"), "journal 日志");
    }

    #[test]
    fn sizes_use_binary_units() {
        for (bytes, want) in [
            (0i64, "0 B"),
            (512, "512 B"),
            (1536, "1.5 KiB"),
            (2 * 1048576, "2 MiB"),
            (1_610_612_736, "1.5 GiB"),
        ] {
            assert_eq!(size(Value::from(bytes)).expect("renders"), want);
        }
        assert!(size(Value::from("1Gi")).is_err());
    }

    #[test]
    fn lists_are_joined_and_capped() {
        let items = Value::from(vec!["a", "b", "c", "d", "e"]);
        assert_eq!(
            join(Lang::En, &items, ", ", None).expect("renders"),
            "a, b, c, d, e"
        );
        assert_eq!(
            join(Lang::En, &items, ", ", Some(2)).expect("renders"),
            "a, b … and 3 more"
        );
        assert_eq!(
            join(Lang::Zh, &items, "、", Some(2)).expect("renders"),
            "a、b…等 5 项"
        );
        assert_eq!(
            join(Lang::En, &items, ", ", Some(5)).expect("renders"),
            "a, b, c, d, e"
        );
        assert_eq!(
            join(Lang::En, &Value::from(()), ", ", None).expect("renders"),
            ""
        );
        let nested = Value::from(vec![Value::from(vec![1, 2])]);
        assert!(join(Lang::En, &nested, ", ", None).is_err());
        let long = Value::from(vec!["x".repeat(MAX_TEXT / 2); 3]);
        assert!(join(Lang::En, &long, ", ", None).is_err());
    }
}
