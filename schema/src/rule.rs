//! One rule: a metadata header and one SELECT, read from a `.sql` file. The rule file format
//! is part of the contract (third parties write rule packs); parsing it needs no database,
//! so it lives here, where it can be fuzzed without building DuckDB.
//!
//! ```sql
//! /* ---
//! id = "container-oomkilled"
//! severity = "high"
//! faq = ["DCE-01"]
//! category = "workloads"
//! [title]
//! en = "..."
//! zh = "..."
//! [remediation]
//! en = """..."""
//! zh = """..."""
//! [message]
//! en = "container {{ container }} has {{ limit_bytes | size }}, below {{ min_memory_mib }} MiB"
//! zh = "容器 {{ container }} 的内存限制为 {{ limit_bytes | size }}，低于 {{ min_memory_mib }} MiB"
//! [thresholds]
//! min_memory_mib = 400
//! --- */
//! SELECT ... AS resource, name AS container, memory_limit_bytes AS limit_bytes
//! FROM containers WHERE memory_limit_bytes < ${min_memory_mib} * 1048576
//! ```
//!
//! The `[message]` templates are checked and rendered by the analyzer; a rule without them
//! returns its message as the `message` and `message_zh` columns:
//!
//! ```sql
//! SELECT ... AS resource, ... AS message, ... AS message_zh FROM ...
//! ```

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never a failure (known-benign noise lives here).
    Info,
    /// Minor.
    Low,
    /// Degrades something.
    Medium,
    /// Breaks something.
    High,
    /// Breaks the cluster or loses data.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim().to_ascii_lowercase())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text in both languages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    /// English.
    pub en: String,
    /// Chinese.
    pub zh: String,
}

impl Localized {
    /// The text in `lang` (`zh` or `en`).
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// Report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 中文.
    Zh,
    /// English.
    En,
}

/// A threshold value named in the header and substituted for `${name}` in the SQL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Threshold {
    /// A number.
    Number(f64),
    /// A string (quoted as a SQL literal).
    Text(String),
    /// SQL made by the engine from the header (`${recent}`); never read from a file.
    #[serde(skip)]
    Sql(String),
}

impl Threshold {
    fn to_sql(&self) -> String {
        match self {
            Threshold::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Threshold::Number(n) => format!("{n}"),
            Threshold::Text(s) => crate::sql::quote(s),
            Threshold::Sql(s) => s.clone(),
        }
    }
}

/// The metadata header.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    /// Stable id, the file's stem.
    pub id: String,
    /// Default severity of its findings.
    pub severity: Severity,
    /// Catalog ids covered (`KADM-13`).
    pub faq: Vec<String>,
    /// Area: workloads, nodes, network, dns, storage, certificates, control-plane, ...
    pub category: String,
    /// Known-benign noise: reported in its own section, never above info.
    #[serde(default)]
    pub benign: bool,
    /// Links or document sections.
    #[serde(default)]
    pub references: Vec<String>,
    /// Regexes of log/error text this rule recognises, used by `ktriage explain`.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Title.
    pub title: Localized,
    /// What to do, Markdown.
    pub remediation: Localized,
    /// Message templates (minijinja), rendered per finding row with the row's columns and the
    /// thresholds as variables. Without them the rule returns `message` and `message_zh`.
    #[serde(default)]
    pub message: Option<Localized>,
    /// Named thresholds.
    #[serde(default)]
    pub thresholds: BTreeMap<String, Threshold>,
    /// How recent log evidence must be to count as current (`90s`, `30m`, `6h`, `2d`):
    /// `${recent}` in the SQL. Every rule that reads `log_lines` declares it.
    #[serde(default)]
    pub recent: Option<String>,
    /// Current log hits a finding needs (`${min_count}`, default 1); rows with fewer become
    /// info.
    #[serde(default)]
    pub min_count: Option<u32>,
    /// Root-cause rules: when one of them has a finding above info in the same cluster (and
    /// on the same node when both name one), this rule's findings there are its symptoms.
    #[serde(default)]
    pub symptom_of: Vec<String>,
}

impl RuleMeta {
    /// The `recent` window, once validated.
    pub fn recent_window(&self) -> Option<std::time::Duration> {
        self.recent.as_deref().and_then(parse_window)
    }

    /// Current log hits a finding needs.
    pub fn min_count(&self) -> u32 {
        self.min_count.unwrap_or(1)
    }
}

/// `90s`, `30m`, `6h`, `2d` as a duration.
pub fn parse_window(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let n: u64 = text[..text.len() - unit.len_utf8()].trim().parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    let seconds = n.checked_mul(seconds).filter(|_| n > 0)?;
    Some(std::time::Duration::from_secs(seconds))
}

/// A loaded rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The header.
    pub meta: RuleMeta,
    /// The SELECT with thresholds substituted.
    pub sql: String,
    /// Where it came from (file path or `builtin:<name>`).
    pub origin: String,
}

const HEADER_OPEN: &str = "/* ---";
const HEADER_CLOSE: &str = "--- */";

impl Rule {
    /// Parses a rule file's text. `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Rule> {
        let text = text.trim_start_matches('\u{feff}').trim_start();
        let Some(rest) = text.strip_prefix(HEADER_OPEN) else {
            bail!("{origin}: a rule starts with a `{HEADER_OPEN}` metadata header");
        };
        let Some((header, body)) = rest.split_once(HEADER_CLOSE) else {
            bail!("{origin}: metadata header is not closed with `{HEADER_CLOSE}`");
        };
        let meta: RuleMeta = toml::from_str(header).map_err(|e| {
            anyhow::anyhow!("{origin}: invalid metadata: {}", one_line(&e.to_string()))
        })?;
        validate_meta(origin, &meta)?;
        let mut values = meta.thresholds.clone();
        if let Some(window) = meta.recent_window() {
            for name in ["recent", "min_count"] {
                if values.contains_key(name) {
                    bail!("{origin}: [thresholds] cannot define `{name}`, the header does");
                }
            }
            values.insert(
                "recent".into(),
                Threshold::Sql(format!("INTERVAL '{} seconds'", window.as_secs())),
            );
            values.insert(
                "min_count".into(),
                Threshold::Number(f64::from(meta.min_count())),
            );
        }
        let sql = substitute(origin, body.trim().trim_end_matches(';').trim(), &values)?;
        if sql.is_empty() {
            bail!("{origin}: no SELECT after the header");
        }
        Ok(Rule {
            meta,
            sql,
            origin: origin.to_string(),
        })
    }

    /// Compiled `patterns`.
    pub fn pattern_regexes(&self) -> Result<Vec<regex::Regex>> {
        self.meta
            .patterns
            .iter()
            .map(|p| {
                regex::RegexBuilder::new(p)
                    .case_insensitive(true)
                    .build()
                    .with_context(|| format!("{}: bad pattern {p:?}", self.origin))
            })
            .collect()
    }
}

fn validate_meta(origin: &str, meta: &RuleMeta) -> Result<()> {
    let id_ok = !meta.id.is_empty()
        && meta
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        bail!(
            "{origin}: rule id {:?} must be lower-case letters, digits and dashes",
            meta.id
        );
    }
    if meta.faq.is_empty() {
        bail!("{origin}: names no FAQ catalog id (faq = [...])");
    }
    for (what, l) in [("title", &meta.title), ("remediation", &meta.remediation)] {
        if l.en.trim().is_empty() || l.zh.trim().is_empty() {
            bail!("{origin}: {what} needs both en and zh");
        }
    }
    if let Some(m) = &meta.message
        && (m.en.trim().is_empty() || m.zh.trim().is_empty())
    {
        bail!("{origin}: [message] needs both en and zh templates");
    }
    if meta.benign && meta.severity != Severity::Info {
        bail!("{origin}: a benign rule must have severity info");
    }
    for p in &meta.patterns {
        regex::Regex::new(p).with_context(|| format!("{origin}: bad pattern {p:?}"))?;
    }
    if let Some(recent) = &meta.recent
        && parse_window(recent).is_none()
    {
        bail!("{origin}: recent = {recent:?} is not a window such as \"30m\", \"6h\" or \"2d\"");
    }
    if meta.min_count.is_some() && meta.recent.is_none() {
        bail!("{origin}: min_count needs a recent window");
    }
    if meta.min_count == Some(0) {
        bail!("{origin}: min_count must be at least 1");
    }
    if meta.symptom_of.contains(&meta.id) {
        bail!("{origin}: a rule cannot be a symptom of itself");
    }
    Ok(())
}

/// A parser's message on one line (TOML errors quote the offending lines).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Replaces `${name}` with the threshold's SQL literal; an unknown name is an error.
fn substitute(origin: &str, sql: &str, thresholds: &BTreeMap<String, Threshold>) -> Result<String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            bail!("{origin}: unclosed ${{ in SQL")
        };
        let name = &after[..end];
        let Some(value) = thresholds.get(name) else {
            if matches!(name, "recent" | "min_count") {
                bail!("{origin}: SQL uses ${{{name}}}: declare recent = \"6h\" in the header");
            }
            bail!("{origin}: SQL uses ${{{name}}} but [thresholds] does not define it");
        };
        out.push_str(&value.to_sql());
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"/* ---
id = "demo-rule"
severity = "high"
faq = ["DCE-01"]
category = "workloads"
[title]
en = "Demo"
zh = "演示"
[remediation]
en = "Fix it."
zh = "修复。"
[thresholds]
limit_mib = 400
name = "it's"
--- */
SELECT 'x' AS resource, 'y' AS message WHERE 1 < ${limit_mib} AND 'a' <> ${name};
"#;

    #[test]
    fn parses_header_and_substitutes_thresholds() {
        let r = Rule::parse("demo.sql", GOOD).expect("parses");
        assert_eq!(r.meta.id, "demo-rule");
        assert_eq!(r.meta.severity, Severity::High);
        assert!(r.sql.contains("1 < 400"), "{}", r.sql);
        assert!(r.sql.contains("'it''s'"), "{}", r.sql);
        assert!(!r.sql.ends_with(';'));
    }

    #[test]
    fn message_templates_are_read_from_the_header() {
        let r = Rule::parse("demo.sql", GOOD).expect("parses");
        assert!(r.meta.message.is_none());
        let text = GOOD.replace(
            "[thresholds]",
            "[message]\nen = \"{{ pod }} failed\"\nzh = \"{{ pod }} 失败\"\n[thresholds]",
        );
        let r = Rule::parse("demo.sql", &text).expect("parses");
        let message = r.meta.message.expect("templates");
        assert_eq!(
            (message.en.as_str(), message.zh.as_str()),
            ("{{ pod }} failed", "{{ pod }} 失败")
        );
    }

    #[test]
    fn the_window_and_count_become_sql() {
        let text = GOOD
            .replace("[title]", "recent = \"6h\"\nmin_count = 3\n[title]")
            .replace(
                "WHERE 1 < ${limit_mib}",
                "WHERE age <= ${recent} AND n >= ${min_count} AND 1 < ${limit_mib}",
            );
        let r = Rule::parse("demo.sql", &text).expect("parses");
        assert!(
            r.sql.contains("age <= INTERVAL '21600 seconds' AND n >= 3"),
            "{}",
            r.sql
        );
        assert_eq!(
            r.meta.recent_window(),
            Some(std::time::Duration::from_secs(21600))
        );
        for (text, secs) in [("90s", 90), ("30m", 1800), ("2d", 172_800)] {
            assert_eq!(
                parse_window(text),
                Some(std::time::Duration::from_secs(secs))
            );
        }
        for bad in ["", "6", "h", "0h", "-1h", "6w"] {
            assert_eq!(parse_window(bad), None, "{bad}");
        }
        // Without a window, ${recent} is an unknown name.
        let err = Rule::parse("demo.sql", &GOOD.replace("${limit_mib}", "${recent}"))
            .expect_err("no window");
        assert!(err.to_string().contains("recent"), "{err}");
    }

    #[test]
    fn rejects_malformed_rules_naming_the_file() {
        let cases = [
            ("SELECT 1", "metadata header"),
            (&GOOD.replace("--- */", "") as &str, "not closed"),
            (&GOOD.replace("${limit_mib}", "${nope}"), "nope"),
            (
                &GOOD.replace("zh = \"演示\"", "zh = \"\""),
                "both en and zh",
            ),
            (
                &GOOD.replace("severity = \"high\"", "severity = \"urgent\""),
                "invalid metadata",
            ),
            (&GOOD.replace("faq = [\"DCE-01\"]", "faq = []"), "FAQ"),
            (&GOOD.replace("category", "categry"), "invalid metadata"),
            (
                &GOOD.replace("[title]", "recent = \"6 hours\"\n[title]"),
                "not a window",
            ),
            (
                &GOOD.replace("[title]", "min_count = 3\n[title]"),
                "needs a recent window",
            ),
            (
                &GOOD.replace("[title]", "symptom_of = [\"demo-rule\"]\n[title]"),
                "symptom of itself",
            ),
            (
                &GOOD.replace(
                    "[thresholds]",
                    "[message]\nen = \"{{ x }}\"\nzh = \" \"\n[thresholds]",
                ),
                "[message] needs both en and zh",
            ),
            (
                &GOOD.replace("[thresholds]", "[message]\nen = \"{{ x }}\"\n[thresholds]"),
                "invalid metadata",
            ),
        ];
        for (text, expected) in cases {
            let err = Rule::parse("bad.sql", text)
                .expect_err("must fail")
                .to_string();
            assert!(err.starts_with("bad.sql: "), "{err}");
            assert!(err.contains(expected), "{err} should mention {expected}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }
}
