//! Runs rules against the case database and turns their rows into findings.
//!
//! A rule runs as one statement that adds the total row count and a limit; its columns are
//! checked against the contract once it has run, and values of any type become text in
//! [`super::render`]. Each rule is planned once: planning, not execution, is most of a
//! rule's time on small clusters.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use duckdb::Connection;
use duckdb::arrow::datatypes::DataType;
use duckdb::types::Value;
use serde::Serialize;

use super::render;
use super::rule::{Rule, Severity};
use crate::one_line;

/// Columns a rule must return.
pub const REQUIRED_COLUMNS: &[&str] = &["resource", "message"];
/// Columns a rule may return.
pub const OPTIONAL_COLUMNS: &[&str] = &[
    "message_zh",
    "namespace",
    "name",
    "node",
    "container",
    "severity",
    "evidence",
    "bundle_id",
    "count",
];

/// The row total the engine adds to every rule's result.
const TOTAL_COLUMN: &str = "__ktriage_total";

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
    /// What is wrong, in English.
    pub message: String,
    /// What is wrong, in Chinese, when the rule says it.
    pub message_zh: Option<String>,
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
    /// The part of `elapsed` DuckDB spent parsing, binding, optimising and planning the
    /// statement, before it read a row.
    #[serde(serialize_with = "ser_ms")]
    pub planning: Duration,
    /// Set when the rule failed to run.
    pub error: Option<String>,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// Where each finding column sits in a rule's result, checked against the contract.
struct ColumnIndex {
    /// Each result column's name, `None` for a column of the NULL type.
    names: Vec<Option<String>>,
}

impl ColumnIndex {
    /// Checks `names` (a rule's result columns, of `types`) against the contract. Columns of
    /// the NULL type (an uncast `NULL AS node`) are left out: they never hold a value.
    fn check(rule: &Rule, names: Vec<String>, types: &[DataType]) -> Result<ColumnIndex> {
        for required in REQUIRED_COLUMNS {
            if !names.iter().any(|n| n == required) {
                bail!("{}: missing required column `{required}`", rule.origin);
            }
        }
        for name in &names {
            if !REQUIRED_COLUMNS.contains(&name.as_str())
                && !OPTIONAL_COLUMNS.contains(&name.as_str())
            {
                bail!(
                    "{}: unknown column `{name}` (allowed: {}, {})",
                    rule.origin,
                    REQUIRED_COLUMNS.join(", "),
                    OPTIONAL_COLUMNS.join(", ")
                );
            }
        }
        for (name, ty) in names.iter().zip(types) {
            if *ty != DataType::Null && !render::readable(ty) {
                bail!(
                    "{}: column `{name}` has a type findings cannot show ({ty}); cast it to VARCHAR",
                    rule.origin
                );
            }
        }
        let names = names
            .into_iter()
            .zip(types)
            .map(|(name, ty)| (*ty != DataType::Null).then_some(name))
            .collect();
        Ok(ColumnIndex { names })
    }

    /// Where column `name` is, if the rule returns it with values.
    fn get(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.as_deref() == Some(name))
    }
}

/// Runs `rules` on `workers` connections at once and returns their runs in the order of
/// `rules`; `on_done` hears each rule as it finishes. Most of a rule's time is planning, which
/// DuckDB does on the calling thread, so rules run side by side rather than one after another.
pub fn run_all(
    conn: &Connection,
    rules: &[Rule],
    workers: usize,
    on_done: &(dyn Fn(&Rule) + Sync),
) -> Result<Vec<RuleRun>> {
    let connections = (0..workers.clamp(1, rules.len().max(1)))
        .map(|_| conn.try_clone())
        .collect::<Result<Vec<_>, _>>()
        .context("opening a connection for rules")?;
    let next = AtomicUsize::new(0);
    let mut runs: Vec<(usize, RuleRun)> = std::thread::scope(|scope| {
        let workers: Vec<_> = connections
            .into_iter()
            .map(|conn| {
                let next = &next;
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rule) = rules.get(i) else { break done };
                        done.push((i, run_rule(&conn, rule)));
                        on_done(rule);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a rule worker panicked"))
            .collect()
    });
    runs.sort_by_key(|(i, _)| *i);
    Ok(runs.into_iter().map(|(_, run)| run).collect())
}

/// Runs one rule. Errors are returned in the run, not raised: one broken rule must not stop
/// the others.
pub fn run_rule(conn: &Connection, rule: &Rule) -> RuleRun {
    let start = Instant::now();
    let mut planning = Duration::ZERO;
    let result = run_rule_inner(conn, rule, &mut planning);
    let elapsed = start.elapsed();
    match result {
        Ok((findings, total)) => RuleRun {
            rule_id: rule.meta.id.clone(),
            findings,
            total,
            elapsed,
            planning,
            error: None,
        },
        Err(e) => RuleRun {
            rule_id: rule.meta.id.clone(),
            findings: Vec::new(),
            total: 0,
            elapsed,
            planning,
            error: Some(one_line(&format!("{e:#}"))),
        },
    }
}

/// Runs `rule`'s statement; `planning` is set to the time DuckDB took to prepare it.
fn run_rule_inner(
    conn: &Connection,
    rule: &Rule,
    planning: &mut Duration,
) -> Result<(Vec<Finding>, usize)> {
    // One statement, planned once: the rule's own columns plus the row total. Column types
    // are whatever the rule chose; `render` turns values into text.
    let sql = format!(
        "SELECT *, count(*) OVER () AS \"{TOTAL_COLUMN}\" FROM ({}) AS finding LIMIT {}",
        rule.sql, MAX_FINDINGS_PER_RULE
    );
    let prepare_start = Instant::now();
    let prepared = conn.prepare(&sql);
    *planning = prepare_start.elapsed();
    let mut stmt = prepared.map_err(|e| {
        anyhow::anyhow!(
            "{}: SQL does not compile: {}",
            rule.origin,
            one_line(&e.to_string())
        )
    })?;
    let mut rows = stmt
        .query([])
        .with_context(|| format!("{}: running", rule.origin))?;
    let Some(executed) = rows.as_ref() else {
        bail!("{}: the statement returned no result", rule.origin);
    };
    let mut names = executed.column_names();
    let types: Vec<DataType> = (0..names.len()).map(|i| executed.column_type(i)).collect();
    let total_at = names
        .pop()
        .filter(|n| n == TOTAL_COLUMN)
        .map(|_| names.len());
    let Some(total_at) = total_at else {
        bail!("{}: the result has no row total", rule.origin);
    };
    let columns = ColumnIndex::check(rule, names, &types)?;
    let at = |name: &str| columns.get(name);
    let (resource, message, message_zh) = (at("resource"), at("message"), at("message_zh"));
    let (namespace, name, node, container) =
        (at("namespace"), at("name"), at("node"), at("container"));
    let (severity_at, evidence, bundle_id, count) =
        (at("severity"), at("evidence"), at("bundle_id"), at("count"));
    let mut findings = Vec::new();
    let mut total = 0usize;
    while let Some(row) = rows.next()? {
        let value = |i: Option<usize>| -> Result<Value> {
            match i {
                Some(i) => Ok(row.get::<_, Value>(i)?),
                None => Ok(Value::Null),
            }
        };
        let text = |i: Option<usize>| -> Result<Option<String>> { Ok(render::text(&value(i)?)) };
        let severity = match text(severity_at)? {
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
            resource: text(resource)?.unwrap_or_default(),
            message: text(message)?.unwrap_or_default(),
            message_zh: text(message_zh)?.filter(|s| !s.is_empty()),
            namespace: text(namespace)?.filter(|s| !s.is_empty()),
            name: text(name)?,
            node: text(node)?,
            container: text(container)?,
            evidence: render::evidence(&value(evidence)?).map(|e| truncate(e, MAX_EVIDENCE_CHARS)),
            bundle_id: text(bundle_id)?,
            count: render::integer(&value(count)?),
        });
        total = row.get::<_, i64>(total_at)? as usize;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(sql: &str) -> Rule {
        let text = format!(
            "/* ---\nid = \"t\"\nseverity = \"medium\"\nfaq = [\"DCE-01\"]\ncategory = \"workloads\"\n\
             [title]\nen = \"T\"\nzh = \"T\"\n[remediation]\nen = \"R\"\nzh = \"R\"\n--- */\n{sql}"
        );
        Rule::parse("t.sql", &text).expect("test rule parses")
    }

    fn run(sql: &str) -> RuleRun {
        let conn = Connection::open_in_memory().expect("in-memory database");
        run_rule(&conn, &rule(sql))
    }

    #[test]
    fn renders_columns_of_any_type_as_text() {
        let run = run(
            "SELECT 42 AS resource, 1.5::DOUBLE AS message, true AS name, \
             TIMESTAMP '2026-01-02 03:04:05' AS node, DATE '2026-01-02' AS container, \
             NULL AS namespace, 'high' AS severity, ['a', NULL, 'c'] AS evidence, '7' AS count",
        );
        assert_eq!(run.error, None);
        let f = &run.findings[0];
        assert_eq!(f.resource, "42");
        assert_eq!(f.message, "1.5");
        assert_eq!(f.name.as_deref(), Some("true"));
        assert_eq!(f.node.as_deref(), Some("2026-01-02 03:04:05"));
        assert_eq!(f.container.as_deref(), Some("2026-01-02"));
        assert_eq!(f.namespace, None);
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.evidence.as_deref(), Some("a\nNULL\nc"));
        assert_eq!(f.count, Some(7));
    }

    #[test]
    fn nested_values_render_as_duckdb_prints_them() {
        let run = run(
            "SELECT 'r' AS resource, {'a': 1, 'b': [2, NULL]} AS message, \
             MAP {'k': 'v'} AS name, [[1, 2], [3]] AS evidence",
        );
        assert_eq!(run.error, None);
        let f = &run.findings[0];
        assert_eq!(f.message, "{'a': 1, 'b': [2, NULL]}");
        assert_eq!(f.name.as_deref(), Some("{k=v}"));
        assert_eq!(f.evidence.as_deref(), Some("[1, 2]\n[3]"));
    }

    #[test]
    fn text_evidence_and_numeric_counts_pass_through() {
        let run = run(
            "SELECT 'r' AS resource, 'm' AS message, 'one line' AS evidence, \
             2.6::DOUBLE AS count UNION ALL \
             SELECT 'r', 'm', NULL, NULL",
        );
        assert_eq!(run.error, None);
        assert_eq!(run.findings[0].evidence.as_deref(), Some("one line"));
        assert_eq!(run.findings[0].count, Some(3));
        assert_eq!(run.findings[1].evidence, None);
        assert_eq!(run.findings[1].count, None);
    }

    #[test]
    fn counts_of_any_numeric_type_become_whole_numbers() {
        for (count, want) in [
            ("sum(n)", Some(6)),
            ("sum(n)::HUGEINT", Some(6)),
            ("CAST(2.5 AS DECIMAL(9, 1))", Some(3)),
            ("CAST(-2.4 AS DECIMAL(9, 1))", Some(-2)),
            ("'12'", Some(12)),
            ("'many'", None),
        ] {
            let run = run(&format!(
                "SELECT 'r' AS resource, 'm' AS message, {count} AS count FROM (VALUES (1), (2), (3)) t(n)"
            ));
            assert_eq!(run.error, None, "{count}");
            assert_eq!(run.findings[0].count, want, "{count}");
        }
    }

    #[test]
    fn keeps_the_first_findings_and_counts_them_all() {
        let run = run("SELECT 'pod/' || i AS resource, 'm' AS message FROM range(1234) t(i)");
        assert_eq!(run.error, None);
        assert_eq!(run.findings.len(), MAX_FINDINGS_PER_RULE);
        assert_eq!(run.total, 1234);
    }

    #[test]
    fn no_rows_is_no_findings() {
        let run = run("SELECT 'r' AS resource, 'm' AS message WHERE false");
        assert_eq!((run.error, run.findings.len(), run.total), (None, 0, 0));
    }

    #[test]
    fn runs_side_by_side_keep_the_order_of_the_rules() {
        let conn = Connection::open_in_memory().expect("in-memory database");
        let rules: Vec<Rule> = (0..9)
            .map(|i| {
                rule(&format!(
                    "SELECT '{i}' AS resource, 'm' AS message FROM range({i}) t(n)"
                ))
            })
            .collect();
        let finished = AtomicUsize::new(0);
        let runs = run_all(&conn, &rules, 3, &|_| {
            finished.fetch_add(1, Ordering::Relaxed);
        })
        .expect("runs");
        assert_eq!(finished.load(Ordering::Relaxed), 9);
        let totals: Vec<usize> = runs.iter().map(|r| r.total).collect();
        assert_eq!(totals, (0..9).collect::<Vec<_>>());
        assert!(
            runs.iter()
                .skip(1)
                .enumerate()
                .all(|(i, r)| r.findings[0].resource == (i + 1).to_string())
        );
    }

    #[test]
    fn contract_violations_name_the_rule_and_the_column() {
        let missing = run("SELECT 'r' AS resource");
        assert_eq!(
            missing.error.as_deref(),
            Some("t.sql: missing required column `message`")
        );
        let unknown = run("SELECT 'r' AS resource, 'm' AS message, 1 AS pod");
        let error = unknown.error.expect("an unknown column is an error");
        assert!(error.starts_with("t.sql: unknown column `pod`"), "{error}");
        let unreadable = run("SELECT 'r' AS resource, 'm' AS message, [NULL] AS evidence");
        let error = unreadable.error.expect("a nested NULL type is an error");
        assert!(
            error.contains("column `evidence`") && error.contains("cast it to VARCHAR"),
            "{error}"
        );
    }

    #[test]
    fn broken_sql_and_bad_severities_are_errors_of_the_run() {
        let broken = run("SELECT resource, message FROM no_such_table");
        let error = broken.error.expect("a missing table is an error");
        assert!(error.starts_with("t.sql: SQL does not compile:"), "{error}");
        assert!(!error.contains('\n'));
        let severity = run("SELECT 'r' AS resource, 'm' AS message, 'urgent' AS severity");
        let error = severity.error.expect("an unknown severity is an error");
        assert!(error.contains("row severity \"urgent\""), "{error}");
    }
}
