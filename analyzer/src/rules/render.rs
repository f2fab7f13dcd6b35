//! Text of a rule's column values, as a finding shows them.
//!
//! Rules may return any column type; the engine reads values as DuckDB hands them over and
//! renders them here, the way DuckDB's own `CAST(… AS VARCHAR)` would for the types rules
//! use. Converting in SQL instead would need each rule's column types first, and finding
//! them out costs a second planning of every query.

use chrono::{DateTime, NaiveDate, NaiveTime};
use duckdb::arrow::datatypes::{DataType, TimeUnit as ArrowTimeUnit};
use duckdb::types::{TimeUnit, Value};

/// Whether values of `ty`, as DuckDB exports a result column, can be read into a [`Value`]:
/// the driver handles these and nothing else (a nested NULL type, for one, would stop it).
pub fn readable(ty: &DataType) -> bool {
    match ty {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::FixedSizeBinary(_)
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Timestamp(..)
        | DataType::Date32
        | DataType::Time64(ArrowTimeUnit::Microsecond)
        | DataType::Interval(_) => true,
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            readable(item.data_type())
        }
        DataType::Dictionary(key, value) => {
            matches!(**key, DataType::UInt8 | DataType::UInt16 | DataType::UInt32)
                && readable(value)
        }
        DataType::Struct(fields) => fields.iter().all(|f| readable(f.data_type())),
        DataType::Map(entries, _) => readable(entries.data_type()),
        _ => false,
    }
}

/// The text of `value`, `None` for NULL. Lists render as `[a, b]`.
pub fn text(value: &Value) -> Option<String> {
    let mut out = String::new();
    write(value, &mut out).then_some(out)
}

/// The text of an evidence value: list elements one per line, anything else as [`text`].
pub fn evidence(value: &Value) -> Option<String> {
    match value {
        Value::List(items) | Value::Array(items) => Some(
            items
                .iter()
                .map(|item| text(item).unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        other => text(other),
    }
}

/// `value` as a whole number, as `TRY_CAST(… AS BIGINT)` gives it: `None` when it is NULL or
/// does not fit.
pub fn integer(value: &Value) -> Option<i64> {
    match *value {
        Value::TinyInt(n) => Some(n.into()),
        Value::SmallInt(n) => Some(n.into()),
        Value::Int(n) => Some(n.into()),
        Value::BigInt(n) => Some(n),
        Value::HugeInt(n) => i64::try_from(n).ok(),
        Value::UTinyInt(n) => Some(n.into()),
        Value::USmallInt(n) => Some(n.into()),
        Value::UInt(n) => Some(n.into()),
        Value::UBigInt(n) => i64::try_from(n).ok(),
        Value::UHugeInt(n) => i64::try_from(n).ok(),
        Value::Float(f) => float_to_integer(f.into()),
        Value::Double(f) => float_to_integer(f),
        // Rounded half away from zero, as DuckDB casts a DECIMAL.
        Value::Decimal(d) => {
            let unit = 10i128.checked_pow(d.scale().into())?;
            let (whole, rest) = (d.value() / unit, d.value() % unit);
            let rounded = if rest.abs() * 2 >= unit {
                whole + d.value().signum()
            } else {
                whole
            };
            i64::try_from(rounded).ok()
        }
        Value::Boolean(b) => Some(b.into()),
        Value::Text(ref s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A time value as an instant (UTC): a TIMESTAMP of any unit or zone, or text DuckDB wrote
/// (`2026-01-15 11:59:00[.123][+00]`) or RFC 3339.
pub fn instant(value: &Value) -> Option<DateTime<chrono::Utc>> {
    match value {
        Value::Timestamp(unit, t) => DateTime::from_timestamp_micros(micros(*unit, *t)),
        Value::Text(s) => {
            let s = s.trim();
            let s = s.strip_suffix("+00").unwrap_or(s);
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.to_utc())
                .ok()
                .or_else(|| {
                    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                        .ok()
                        .map(|t| t.and_utc())
                })
        }
        _ => None,
    }
}

/// `value` as a message template sees it: numbers stay numbers (DECIMAL becomes a float),
/// text and booleans stay themselves, lists and structs stay lists and maps, NULL is none, and
/// anything else (times, intervals, blobs) is its text.
pub fn fact(value: &Value) -> minijinja::Value {
    use minijinja::Value as V;
    match value {
        Value::Null => V::from(()),
        Value::Boolean(b) => V::from(*b),
        Value::TinyInt(n) => V::from(*n),
        Value::SmallInt(n) => V::from(*n),
        Value::Int(n) => V::from(*n),
        Value::BigInt(n) => V::from(*n),
        Value::HugeInt(n) => V::from(*n),
        Value::UTinyInt(n) => V::from(*n),
        Value::USmallInt(n) => V::from(*n),
        Value::UInt(n) => V::from(*n),
        Value::UBigInt(n) => V::from(*n),
        Value::UHugeInt(n) => V::from(*n),
        Value::Float(f) => V::from(f64::from(*f)),
        Value::Double(f) => V::from(*f),
        Value::Decimal(d) => {
            let scale = 10f64.powi(i32::from(d.scale()));
            V::from(d.value() as f64 / scale)
        }
        Value::Text(s) | Value::Enum(s) => V::from(s.as_str()),
        Value::List(items) | Value::Array(items) => {
            V::from(items.iter().map(fact).collect::<Vec<_>>())
        }
        Value::Struct(fields) => V::from_iter(fields.iter().map(|(k, v)| (k.clone(), fact(v)))),
        Value::Map(entries) => V::from_iter(
            entries
                .iter()
                .map(|(k, v)| (text(k).unwrap_or_default(), fact(v))),
        ),
        Value::Union(inner) => fact(inner),
        other => text(other).map_or_else(|| V::from(()), V::from),
    }
}

fn float_to_integer(f: f64) -> Option<i64> {
    // 2^63 is exact as a float; i64::MAX is not.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let rounded = f.round();
    (-LIMIT..LIMIT).contains(&rounded).then_some(rounded as i64)
}

/// Appends the text of `value` to `out`; false for NULL.
fn write(value: &Value, out: &mut String) -> bool {
    use std::fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = match value {
        Value::Null => return false,
        Value::Text(s) | Value::Enum(s) => {
            out.push_str(s);
            Ok(())
        }
        Value::Boolean(b) => write!(out, "{b}"),
        Value::TinyInt(n) => write!(out, "{n}"),
        Value::SmallInt(n) => write!(out, "{n}"),
        Value::Int(n) => write!(out, "{n}"),
        Value::BigInt(n) => write!(out, "{n}"),
        Value::HugeInt(n) => write!(out, "{n}"),
        Value::UTinyInt(n) => write!(out, "{n}"),
        Value::USmallInt(n) => write!(out, "{n}"),
        Value::UInt(n) => write!(out, "{n}"),
        Value::UBigInt(n) => write!(out, "{n}"),
        Value::UHugeInt(n) => write!(out, "{n}"),
        // `{:?}` keeps the `.0` of whole numbers, as DuckDB does (1.0, not 1).
        Value::Float(f) => write!(out, "{f:?}"),
        Value::Double(f) => write!(out, "{f:?}"),
        Value::Decimal(d) => write!(out, "{d}"),
        Value::Timestamp(unit, t) => match DateTime::from_timestamp_micros(micros(*unit, *t)) {
            Some(ts) => write!(out, "{}", ts.naive_utc().format("%Y-%m-%d %H:%M:%S%.f")),
            None => write!(out, "{t}"),
        },
        Value::Date32(days) => {
            match NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days((*days).into())))
            {
                Some(date) => write!(out, "{date}"),
                None => write!(out, "{days}"),
            }
        }
        Value::Time64(unit, t) => {
            let micros = micros(*unit, *t);
            let (secs, frac) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
            match NaiveTime::from_num_seconds_from_midnight_opt(
                u32::try_from(secs).unwrap_or(u32::MAX),
                (frac * 1000) as u32,
            ) {
                Some(time) => write!(out, "{}", time.format("%H:%M:%S%.f")),
                None => write!(out, "{t}"),
            }
        }
        Value::Interval {
            months,
            days,
            nanos,
        } => write!(out, "{months} months {days} days {} us", nanos / 1000),
        Value::Blob(bytes) | Value::Geometry(bytes) => {
            out.push_str(&String::from_utf8_lossy(bytes));
            Ok(())
        }
        Value::List(items) | Value::Array(items) => {
            write_joined(
                out,
                ('[', ']'),
                items.iter().map(|item| (String::new(), item)),
            );
            Ok(())
        }
        Value::Struct(fields) => {
            let fields = fields
                .iter()
                .map(|(key, item)| (format!("'{key}': "), item));
            write_joined(out, ('{', '}'), fields);
            Ok(())
        }
        Value::Map(entries) => {
            let entries = entries
                .iter()
                .map(|(key, item)| (text(key).unwrap_or_else(|| "NULL".into()) + "=", item));
            write_joined(out, ('{', '}'), entries);
            Ok(())
        }
        Value::Union(inner) => return write(inner, out),
        // Value is non-exhaustive: a type added later still shows something readable.
        other => write!(out, "{other:?}"),
    };
    true
}

/// Appends `(prefix, value)` pairs between `brackets`, comma-separated, as DuckDB prints
/// lists (`[a, b]`), structs (`{'k': v}`) and maps (`{k=v}`).
fn write_joined<'a>(
    out: &mut String,
    brackets: (char, char),
    items: impl Iterator<Item = (String, &'a Value)>,
) {
    out.push(brackets.0);
    for (i, (prefix, item)) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&prefix);
        if !write(item, out) {
            out.push_str("NULL");
        }
    }
    out.push(brackets.1);
}

fn micros(unit: TimeUnit, t: i64) -> i64 {
    match unit {
        TimeUnit::Second => t.saturating_mul(1_000_000),
        TimeUnit::Millisecond => t.saturating_mul(1000),
        TimeUnit::Microsecond => t,
        TimeUnit::Nanosecond => t / 1000,
    }
}
