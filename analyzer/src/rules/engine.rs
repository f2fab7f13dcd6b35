//! Runs rules against the case database and turns their rows into findings.
//!
//! A rule's columns are checked with `DESCRIBE` before it runs (statement metadata is not
//! reliable before execution), then the rule runs wrapped in a SELECT that casts every
//! finding column to text, so any column type a rule author chooses renders the same way.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use duckdb::Connection;
use serde::Serialize;

use super::rule::{Rule, Severity};
use crate::one_line;

/// Columns a rule must return.
pub const REQUIRED_COLUMNS: &[&str] = &["resource", "message"];
/// Columns a rule may return.
pub const OPTIONAL_COLUMNS: &[&str] = &[
    "namespace",
    "name",
    "node",
    "container",
    "severity",
    "evidence",
    "bundle_id",
    "count",
];

/// Findings kept per rule; the rest are counted.
pub const MAX_FINDINGS_PER_RULE: usize = 500;
/// Evidence kept per finding, in characters.
const MAX_EVIDENCE_CHARS: usize = 8000;

/// One row of a rule.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule_id: String,
    /// Its severity (the rule's, or the row's override).
    pub severity: Severity,
    /// What is affected, e.g. `pod/shop/cart-1`.
    pub resource: String,
    /// What is wrong.
    pub message: String,
    /// Namespace, when it applies.
    pub namespace: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Node.
    pub node: Option<String>,
    /// Container.
    pub container: Option<String>,
    /// Lines, fields or values that prove it.
    pub evidence: Option<String>,
    /// Bundle the finding comes from.
    pub bundle_id: Option<String>,
    /// How many occurrences this row stands for.
    pub count: Option<i64>,
}

/// The outcome of running one rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRun {
    /// Rule id.
    pub rule_id: String,
    /// Findings kept.
    pub findings: Vec<Finding>,
    /// Rows in all, including those not kept.
    pub total: usize,
    /// Wall time.
    #[serde(serialize_with = "ser_ms")]
    pub elapsed: Duration,
    /// Set when the rule failed to run.
    pub error: Option<String>,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// Checks a rule's columns against the contract; returns (name, type) pairs.
pub fn check_columns(conn: &Connection, rule: &Rule) -> Result<Vec<(String, String)>> {
    let mut stmt = conn
        .prepare(&format!("DESCRIBE {}", rule.sql))
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: SQL does not compile: {}",
                rule.origin,
                one_line(&e.to_string())
            )
        })?;
    let columns: Vec<(String, String)> = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<Result<_, _>>()?;
    for required in REQUIRED_COLUMNS {
        if !columns.iter().any(|(n, _)| n == required) {
            bail!("{}: missing required column `{required}`", rule.origin);
        }
    }
    for (name, _) in &columns {
        if !REQUIRED_COLUMNS.contains(&name.as_str()) && !OPTIONAL_COLUMNS.contains(&name.as_str())
        {
            bail!(
                "{}: unknown column `{name}` (allowed: {}, {})",
                rule.origin,
                REQUIRED_COLUMNS.join(", "),
                OPTIONAL_COLUMNS.join(", ")
            );
        }
    }
    Ok(columns)
}

/// Runs one rule. Errors are returned in the run, not raised: one broken rule must not stop
/// the others.
pub fn run_rule(conn: &Connection, rule: &Rule) -> RuleRun {
    let start = Instant::now();
    let result = run_rule_inner(conn, rule);
    let elapsed = start.elapsed();
    match result {
        Ok((findings, total)) => RuleRun {
            rule_id: rule.meta.id.clone(),
            findings,
            total,
            elapsed,
            error: None,
        },
        Err(e) => RuleRun {
            rule_id: rule.meta.id.clone(),
            findings: Vec::new(),
            total: 0,
            elapsed,
            error: Some(one_line(&format!("{e:#}"))),
        },
    }
}

fn run_rule_inner(conn: &Connection, rule: &Rule) -> Result<(Vec<Finding>, usize)> {
    let columns = check_columns(conn, rule)?;
    let col = |name: &str| -> String {
        match columns.iter().find(|(n, _)| n == name) {
            None => "NULL::VARCHAR".to_string(),
            Some((_, ty)) if name == "evidence" && ty.ends_with("[]") => {
                "array_to_string(list_transform(evidence, lambda x: CAST(x AS VARCHAR)), chr(10))"
                    .to_string()
            }
            Some(_) if name == "count" => "TRY_CAST(count AS BIGINT)".to_string(),
            Some(_) => format!("CAST(\"{name}\" AS VARCHAR)"),
        }
    };
    let select = [
        "resource",
        "message",
        "namespace",
        "name",
        "node",
        "container",
        "severity",
        "evidence",
        "bundle_id",
        "count",
    ]
    .iter()
    .map(|c| col(c))
    .collect::<Vec<_>>()
    .join(", ");
    let sql = format!(
        "SELECT {select}, count(*) OVER () FROM ({}) AS finding LIMIT {}",
        rule.sql, MAX_FINDINGS_PER_RULE
    );
    let mut stmt = conn
        .prepare(&sql)
        .with_context(|| format!("{}: preparing", rule.origin))?;
    let mut rows = stmt.query([])?;
    let mut findings = Vec::new();
    let mut total = 0usize;
    while let Some(row) = rows.next()? {
        let text = |i: usize| -> Result<Option<String>> { Ok(row.get::<_, Option<String>>(i)?) };
        let severity = match text(6)? {
            None => rule.meta.severity,
            Some(s) => Severity::parse(&s).with_context(|| {
                format!(
                    "{}: row severity {s:?} is not one of info, low, medium, high, critical",
                    rule.origin
                )
            })?,
        };
        // Benign noise never rises above info, whatever a row says.
        let severity = if rule.meta.benign {
            Severity::Info
        } else {
            severity
        };
        findings.push(Finding {
            rule_id: rule.meta.id.clone(),
            severity,
            resource: text(0)?.unwrap_or_default(),
            message: text(1)?.unwrap_or_default(),
            namespace: text(2)?.filter(|s| !s.is_empty()),
            name: text(3)?,
            node: text(4)?,
            container: text(5)?,
            evidence: text(7)?.map(|e| truncate(e, MAX_EVIDENCE_CHARS)),
            bundle_id: text(8)?,
            count: row.get::<_, Option<i64>>(9)?,
        });
        total = row.get::<_, i64>(10)? as usize;
    }
    Ok((findings, total))
}

fn truncate(mut s: String, max: usize) -> String {
    if s.chars().count() > max {
        let cut = s.char_indices().nth(max).map(|(i, _)| i).unwrap_or(s.len());
        s.truncate(cut);
        s.push_str("\n…");
    }
    s
}
