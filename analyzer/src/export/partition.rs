//! Hive-style partition directories (`cluster_id=…`, `bundle_id=…`) for untrusted values.
//!
//! Cluster and bundle ids come from bundles, so they may hold `/`, `..`, `=`, `%`, control
//! characters or nothing at all. Every byte outside `[A-Za-z0-9._-]` of an ASCII value is
//! written as `%XX`, as Hive escapes path names (Spark and DuckDB decode it the same way); a
//! non-ASCII character stays as it is unless it is a control, format or space character,
//! whose UTF-8 bytes are escaped too. The directory name always starts with `key=`, so no
//! value can become `.`, `..` or a hidden name.

use anyhow::{Result, bail};

/// The directory name Hive gives an empty or missing value.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Longest escaped value: a directory name must stay under the file systems' 255 bytes.
const MAX_ESCAPED_BYTES: usize = 200;

/// `key=value` with `value` escaped; an error when the escaped value is too long.
pub fn dir_name(key: &str, value: &str) -> Result<String> {
    let escaped = escape(value);
    if escaped.len() > MAX_ESCAPED_BYTES {
        bail!(
            "{key} {:?} is too long for a partition directory ({} bytes escaped, at most {MAX_ESCAPED_BYTES})",
            ktriage_schema::text::terminal_safe(&value.chars().take(60).collect::<String>()),
            escaped.len()
        );
    }
    Ok(format!("{key}={escaped}"))
}

/// The escaped form of `value` (see the module comment).
pub fn escape(value: &str) -> String {
    if value.is_empty() {
        return DEFAULT_PARTITION.to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let keep = if c.is_ascii() {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
        } else {
            !(c.is_control() || c.is_whitespace() || is_format(c))
        };
        if keep {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// The value of a `key=…` directory name, or `None` when `name` is not one.
pub fn parse(key: &str, name: &str) -> Option<String> {
    let escaped = name.strip_prefix(key)?.strip_prefix('=')?;
    if escaped == DEFAULT_PARTITION {
        return Some(String::new());
    }
    Some(unescape(escaped))
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Unicode format characters that reorder or hide text (bidi overrides, zero-width marks).
fn is_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_one_plain_directory_name() {
        for value in [
            "../../etc",
            "a/b",
            "..",
            ".",
            "x=y%z",
            "tab\there",
            "esc\u{1b}[31m",
            "rtl\u{202E}txt",
            "sp ace",
            "C:\\win",
        ] {
            let name = dir_name("bundle_id", value).expect("short");
            let escaped = name.strip_prefix("bundle_id=").expect("prefix");
            assert!(
                escaped
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-%".contains(c)),
                "{value:?} -> {name}"
            );
            // `..` stays `..`, but only after `bundle_id=`: never a path of its own.
            assert!(
                name.starts_with("bundle_id=") && !name.contains('/'),
                "{name}"
            );
            assert_eq!(parse("bundle_id", &name).as_deref(), Some(value));
        }
    }

    #[test]
    fn plain_and_non_ascii_names_are_kept_readable() {
        assert_eq!(escape("prod-shanghai_1.2"), "prod-shanghai_1.2");
        assert_eq!(escape("生产集群"), "生产集群");
        assert_eq!(escape("a:b"), "a%3Ab");
        assert_eq!(
            parse("cluster_id", "cluster_id=生产集群").as_deref(),
            Some("生产集群")
        );
    }

    #[test]
    fn empty_values_use_hives_default_partition() {
        assert_eq!(
            dir_name("cluster_id", "").expect("ok"),
            "cluster_id=__HIVE_DEFAULT_PARTITION__"
        );
        assert_eq!(
            parse("cluster_id", "cluster_id=__HIVE_DEFAULT_PARTITION__").as_deref(),
            Some("")
        );
    }

    #[test]
    fn overlong_values_are_refused_not_cut() {
        let err = dir_name("bundle_id", &"/".repeat(100)).expect_err("too long");
        assert!(err.to_string().contains("too long"), "{err}");
        assert!(parse("bundle_id", "cluster_id=x").is_none());
    }
}
