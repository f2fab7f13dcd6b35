//! Runs rules against the case database and turns their rows into findings.
//!
//! A rule runs as one statement that adds the total row count and a limit; its columns are
//! checked against the contract once it has run, and values of any type become text in
//! [`super::render`]. Each rule is planned once: planning, not execution, is most of a
//! rule's time on small clusters.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use duckdb::Connection;
use duckdb::arrow::datatypes::DataType;
use duckdb::types::Value;
use serde::Serialize;

use super::message::{self, Messages};
pub use super::pool::{DEFAULT_RULE_TIMEOUT, Limits, run_all};
use super::render;
use super::rule::{Rule, Severity};
use super::statement::check_single_select;
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
    "first_seen",
    "last_seen",
    "recent_count",
    "symptom_key",
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
    /// When its earliest evidence was written (log evidence).
    pub first_seen: Option<DateTime<Utc>>,
    /// When its latest evidence was written (log evidence).
    pub last_seen: Option<DateTime<Utc>>,
    /// Evidence inside the rule's `recent` window before collection.
    pub recent_count: Option<i64>,
    /// What a symptom must share with its cause besides cluster and node (a registry host, a
    /// DNS address): a symptom with a key is linked only to a cause with the same key.
    pub symptom_key: Option<String>,
    /// The root-cause rule this finding is a symptom of (see `symptom_of`).
    pub symptom_of: Option<String>,
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
    /// Each result column's name.
    all: Vec<String>,
}

impl ColumnIndex {
    /// Checks `names` (a rule's result columns, of `types`) against the contract. Columns of
    /// the NULL type (an uncast `NULL AS node`) are left out: they never hold a value.
    /// A rule with message templates needs only `resource`, and any other column is a fact
    /// for its templates.
    fn check(
        rule: &Rule,
        names: Vec<String>,
        types: &[DataType],
        templated: bool,
    ) -> Result<ColumnIndex> {
        let required: &[&str] = if templated {
            &REQUIRED_COLUMNS[..1]
        } else {
            REQUIRED_COLUMNS
        };
        for required in required {
            if !names.iter().any(|n| n == required) {
                bail!("{}: missing required column `{required}`", rule.origin);
            }
        }
        for name in names.iter().filter(|_| !templated) {
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
        let all = names.clone();
        let names = names
            .into_iter()
            .zip(types)
            .map(|(name, ty)| (*ty != DataType::Null).then_some(name))
            .collect();
        Ok(ColumnIndex { names, all })
    }

    /// Where column `name` is, if the rule returns it with values.
    fn get(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.as_deref() == Some(name))
    }
}

/// Runs one rule. Errors are returned in the run, not raised: one broken rule must not stop
/// the others.
pub fn run_rule(conn: &Connection, rule: &Rule) -> RuleRun {
    run_rule_at(conn, rule, None)
}

/// [`run_rule`] with the collection times already read (they are read when needed if not).
pub(super) fn run_rule_at(
    conn: &Connection,
    rule: &Rule,
    times: Option<&CollectionTimes>,
) -> RuleRun {
    let start = Instant::now();
    let mut planning = Duration::ZERO;
    let result = run_rule_inner(conn, rule, times, &mut planning);
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
            planning,
            ..RuleRun::failed(rule, elapsed, one_line(&format!("{e:#}")))
        },
    }
}

impl RuleRun {
    /// A run of `rule` that failed after `elapsed`.
    pub fn failed(rule: &Rule, elapsed: Duration, error: String) -> RuleRun {
        RuleRun {
            rule_id: rule.meta.id.clone(),
            findings: Vec::new(),
            total: 0,
            elapsed,
            planning: Duration::ZERO,
            error: Some(error),
        }
    }
}

/// Runs `rule`'s statement; `planning` is set to the time DuckDB took to prepare it.
fn run_rule_inner(
    conn: &Connection,
    rule: &Rule,
    times: Option<&CollectionTimes>,
    planning: &mut Duration,
) -> Result<(Vec<Finding>, usize)> {
    // One statement, planned once: the rule's own columns plus the row total. Column types
    // are whatever the rule chose; `render` turns values into text. The rule sits on lines of
    // its own, so a trailing comment cannot swallow the closing parenthesis.
    let sql = format!(
        "SELECT *, count(*) OVER () AS \"{TOTAL_COLUMN}\" FROM (\n{}\n) AS finding LIMIT {}",
        rule.sql, MAX_FINDINGS_PER_RULE
    );
    // Preparing several statements would run all but the last: the rule must be one SELECT
    // (checked once per rule text, usually when it was loaded). And it reads inside a
    // read-only transaction, so nothing it calls can change what the next rule sees.
    check_single_select(conn, &rule.origin, &rule.sql)?;
    message::check(conn, rule)?;
    conn.execute_batch("BEGIN TRANSACTION READ ONLY")
        .with_context(|| format!("{}: starting a read-only transaction", rule.origin))?;
    let result = run_wrapped(conn, rule, &sql, times, planning);
    let _ = conn.execute_batch("ROLLBACK");
    result
}

/// Runs the wrapped statement of `rule` and reads its rows into findings.
fn run_wrapped(
    conn: &Connection,
    rule: &Rule,
    sql: &str,
    times: Option<&CollectionTimes>,
    planning: &mut Duration,
) -> Result<(Vec<Finding>, usize)> {
    let prepare_start = Instant::now();
    let prepared = conn.prepare(sql);
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
    let messages = Messages::compile(rule)?;
    let columns = ColumnIndex::check(rule, names, &types, messages.is_some())?;
    let at = |name: &str| columns.get(name);
    let (resource, message, message_zh) = (at("resource"), at("message"), at("message_zh"));
    let (namespace, name, node, container) =
        (at("namespace"), at("name"), at("node"), at("container"));
    let (severity_at, evidence, bundle_id, count) =
        (at("severity"), at("evidence"), at("bundle_id"), at("count"));
    let (first_seen, last_seen, recent_count, symptom_key) = (
        at("first_seen"),
        at("last_seen"),
        at("recent_count"),
        at("symptom_key"),
    );
    let read;
    let judge = match (rule.meta.recent_window(), times) {
        (None, _) => None,
        (Some(window), Some(times)) => Some(Recency::new(rule, window, times)),
        (Some(window), None) => {
            read = CollectionTimes::read(conn)
                .with_context(|| format!("{}: reading collection times", rule.origin))?;
            Some(Recency::new(rule, window, &read))
        }
    };
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
        let (message, message_zh) = match &messages {
            Some(messages) => {
                let facts = columns
                    .all
                    .iter()
                    .enumerate()
                    .map(|(i, name)| Ok((name.clone(), render::fact(&value(Some(i))?))))
                    .collect::<Result<_>>()?;
                let (en, zh) = messages
                    .render(facts)
                    .with_context(|| rule.origin.clone())?;
                (en, Some(zh))
            }
            None => (text(message)?.unwrap_or_default(), text(message_zh)?),
        };
        let mut finding = Finding {
            rule_id: rule.meta.id.clone(),
            severity,
            resource: text(resource)?.unwrap_or_default(),
            message,
            message_zh: message_zh.filter(|s| !s.is_empty()),
            namespace: text(namespace)?.filter(|s| !s.is_empty()),
            name: text(name)?,
            node: text(node)?,
            container: text(container)?,
            evidence: render::evidence(&value(evidence)?).map(|e| truncate(e, MAX_EVIDENCE_CHARS)),
            bundle_id: text(bundle_id)?,
            count: render::integer(&value(count)?),
            first_seen: render::instant(&value(first_seen)?),
            last_seen: render::instant(&value(last_seen)?),
            recent_count: render::integer(&value(recent_count)?),
            symptom_key: text(symptom_key)?,
            symptom_of: None,
        };
        if let Some(judge) = &judge {
            judge.apply(&mut finding);
        }
        findings.push(finding);
        total = row.get::<_, i64>(total_at)? as usize;
    }
    Ok((findings, total))
}

/// When each bundle was collected: the reference time log evidence is aged against.
#[derive(Debug, Default)]
pub(super) struct CollectionTimes(Vec<(String, DateTime<Utc>)>);

impl CollectionTimes {
    pub(super) fn read(conn: &Connection) -> Result<CollectionTimes> {
        let mut stmt =
            conn.prepare("SELECT bundle_id, CAST(collected_at AS VARCHAR) FROM bundles")?;
        let times = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
            })?
            .filter_map(|row| {
                let (id, at) = row.ok()?;
                Some((id, render::instant(&Value::Text(at?))?))
            })
            .collect();
        Ok(CollectionTimes(times))
    }

    /// The bundle's collection time; the case's latest for rows that name no bundle.
    fn of(&self, bundle_id: Option<&str>) -> Option<DateTime<Utc>> {
        match bundle_id {
            Some(id) => self.0.iter().find(|(b, _)| b == id).map(|(_, t)| *t),
            None => self.0.iter().map(|(_, t)| *t).max(),
        }
    }
}

/// Judges log evidence by the rule's `recent` window and `min_count`: a row with fewer
/// current hits is history, shown as info with when it was last seen.
struct Recency<'a> {
    window: Duration,
    min_count: u32,
    times: &'a CollectionTimes,
}

impl<'a> Recency<'a> {
    fn new(rule: &Rule, window: Duration, times: &'a CollectionTimes) -> Recency<'a> {
        Recency {
            window,
            min_count: rule.meta.min_count(),
            times,
        }
    }

    /// Turns `f` into history when its current hits are fewer than the rule needs. Rows
    /// without `recent_count` are not log evidence and keep their severity.
    fn apply(&self, f: &mut Finding) {
        let Some(recent) = f.recent_count else { return };
        if recent >= i64::from(self.min_count) {
            return;
        }
        f.severity = Severity::Info;
        let window = Span(self.window.as_secs());
        let since = f
            .last_seen
            .zip(self.times.of(f.bundle_id.as_deref()))
            .map(|(last, at)| Span((at - last).num_seconds().max(0) as u64));
        let (en, zh) = match (recent, since) {
            (0, Some(ago)) => (
                format!(" (last seen {} before collection, not since)", ago.en()),
                format!("（最近一次出现在收集前 {}，此后未再出现）", ago.zh()),
            ),
            (0, None) => (
                format!(" (not seen in the {} before collection)", window.en()),
                format!("（收集前 {} 内未出现）", window.zh()),
            ),
            (n, _) => (
                format!(
                    " (seen {n} times in the {} before collection, fewer than the {} that show a current problem)",
                    window.en(),
                    self.min_count
                ),
                format!(
                    "（收集前 {} 内仅出现 {n} 次，少于判定为当前问题所需的 {} 次）",
                    window.zh(),
                    self.min_count
                ),
            ),
        };
        f.message.push_str(&en);
        if let Some(m) = &mut f.message_zh {
            m.push_str(&zh);
        }
    }
}

/// A length of time in whole units, for messages.
#[derive(Debug, Clone, Copy)]
struct Span(u64);

impl Span {
    fn unit(self) -> (u64, &'static str, &'static str) {
        match self.0 {
            s if s >= 2 * 86400 => (s / 86400, "days", "天"),
            s if s >= 2 * 3600 => (s / 3600, "hours", "小时"),
            s if s >= 2 * 60 => (s / 60, "minutes", "分钟"),
            s => (s, "seconds", "秒"),
        }
    }

    fn en(self) -> String {
        let (n, unit, _) = self.unit();
        format!("{n} {unit}")
    }

    fn zh(self) -> String {
        let (n, _, unit) = self.unit();
        format!("{n} {unit}")
    }
}

/// Each bundle's cluster: a cluster bundle is its own, a node bundle belongs to the cluster
/// bundle holding its Node object (itself when none does).
pub fn clusters(conn: &Connection) -> Result<std::collections::HashMap<String, String>> {
    let mut stmt = conn.prepare(
        "SELECT b.bundle_id, coalesce(h.cluster_bundle_id, b.bundle_id)
         FROM bundles b LEFT JOIN host_nodes h USING (bundle_id)",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Runs `rules` like [`run_all`], then links symptoms to their causes ([`link_symptoms`]).
pub fn run_case(
    conn: &Connection,
    rules: &[Rule],
    workers: usize,
    limits: Limits,
    on_done: &(dyn Fn(&Rule) + Sync),
) -> Result<Vec<RuleRun>> {
    let mut runs = run_all(conn, rules, workers, limits, on_done)?;
    let clusters = clusters(conn).context("mapping bundles to clusters")?;
    link_symptoms(rules, &mut runs, &|bundle| {
        clusters
            .get(bundle)
            .cloned()
            .unwrap_or_else(|| bundle.to_string())
    });
    Ok(runs)
}

/// Marks findings of rules with `symptom_of` as symptoms of a root cause found in the same
/// cluster (and on the same node when both name one): they drop to info and name the cause.
/// `cluster_of` maps a bundle to its cluster (node bundles to the cluster their node is in).
pub fn link_symptoms(rules: &[Rule], runs: &mut [RuleRun], cluster_of: &dyn Fn(&str) -> String) {
    struct Cause {
        rule_id: String,
        cluster: Option<String>,
        node: Option<String>,
        key: Option<String>,
        resource: String,
    }
    let causes: Vec<Cause> = runs
        .iter()
        .flat_map(|run| run.findings.iter())
        .filter(|f| f.severity > Severity::Info)
        .map(|f| Cause {
            rule_id: f.rule_id.clone(),
            cluster: f.bundle_id.as_deref().map(cluster_of),
            node: f.node.clone(),
            key: f.symptom_key.clone(),
            resource: f.resource.clone(),
        })
        .collect();
    // Two values differ only when both are known.
    let differ =
        |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if a != b);
    for run in runs.iter_mut() {
        let Some(rule) = rules.iter().find(|r| r.meta.id == run.rule_id) else {
            continue;
        };
        if rule.meta.symptom_of.is_empty() {
            continue;
        }
        for f in run
            .findings
            .iter_mut()
            .filter(|f| f.severity > Severity::Info)
        {
            let cluster = f.bundle_id.as_deref().map(cluster_of);
            let cause = causes.iter().find(|c| {
                rule.meta.symptom_of.contains(&c.rule_id)
                    && !differ(&cluster, &c.cluster)
                    && !differ(&f.node, &c.node)
                    && (f.symptom_key.is_none() || f.symptom_key == c.key)
            });
            if let Some(Cause {
                rule_id: id,
                resource,
                ..
            }) = cause
            {
                f.severity = Severity::Info;
                f.message
                    .push_str(&format!(" (a symptom of {id}: {resource})"));
                if let Some(m) = &mut f.message_zh {
                    m.push_str(&format!("（是 {id} 的表现：{resource}）"));
                }
                f.symptom_of = Some(id.clone());
            }
        }
    }
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
    use std::sync::atomic::{AtomicUsize, Ordering};

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
        let runs = run_all(&conn, &rules, 3, Limits::default(), &|_| {
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

    fn named(id: &str, sql: &str) -> Rule {
        let mut r = rule(sql);
        r.meta.id = id.to_string();
        r
    }

    /// A case with rows, a macro and a second table the tampering rules go after.
    fn tamper_target() -> Connection {
        let conn = Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(
            "CREATE TABLE pods(name VARCHAR); INSERT INTO pods VALUES ('cart-1'), ('web-2');
             CREATE TABLE bundles(bundle_id VARCHAR); INSERT INTO bundles VALUES ('b1');
             CREATE MACRO double_it(x) AS x * 2;",
        )
        .expect("setup");
        conn
    }

    fn clean_rules() -> Vec<Rule> {
        vec![
            named(
                "pods",
                "SELECT name AS resource, 'pod' AS message FROM pods",
            ),
            named(
                "macro",
                "SELECT double_it(21)::VARCHAR AS resource, 'm' AS message",
            ),
            named(
                "bundles",
                "SELECT bundle_id AS resource, 'b' AS message FROM bundles",
            ),
        ]
    }

    fn findings_json(runs: &[RuleRun], ids: &[&str]) -> String {
        let kept: Vec<_> = runs
            .iter()
            .filter(|r| ids.contains(&r.rule_id.as_str()))
            .map(|r| (&r.rule_id, &r.findings, r.total, &r.error))
            .collect();
        serde_json::to_string(&kept).expect("json")
    }

    #[test]
    fn a_rule_cannot_change_what_later_rules_see() {
        let close = "SELECT 'x' AS resource, 'y' AS message) AS f;";
        let reopen = "; SELECT * FROM (SELECT 'x' AS resource, 'y' AS message";
        let attacks = [
            format!("{close} DELETE FROM pods {reopen}"),
            format!("{close} UPDATE pods SET name = 'evil' {reopen}"),
            format!("{close} CREATE OR REPLACE MACRO double_it(x) AS 0 {reopen}"),
            format!("{close} CREATE TEMP TABLE pods AS SELECT 'shadow' AS name {reopen}"),
            format!("{close} ATTACH ':memory:' AS evil; USE evil {reopen}"),
            format!("{close} SET search_path = 'temp' {reopen}"),
            format!("{close} COMMIT; DROP TABLE bundles; BEGIN {reopen}"),
            format!("{close} DROP TABLE bundles {reopen}"),
            "DELETE FROM pods".to_string(),
        ];
        let clean_ids = ["pods", "macro", "bundles"];
        let baseline = run_all(
            &tamper_target(),
            &clean_rules(),
            1,
            Limits::default(),
            &|_| {},
        )
        .expect("clean run");
        let expected = findings_json(&baseline, &clean_ids);
        assert!(
            expected.contains("cart-1") && expected.contains("\"42\""),
            "{expected}"
        );
        for attack in &attacks {
            let conn = tamper_target();
            // The attack runs first, on the only worker, then the clean rules on the same
            // connection.
            let mut rules = vec![named("attack", attack)];
            rules.extend(clean_rules());
            let runs = run_all(&conn, &rules, 1, Limits::default(), &|_| {}).expect("run");
            assert!(runs[0].error.is_some(), "{attack}: ran without an error");
            assert_eq!(findings_json(&runs, &clean_ids), expected, "{attack}");
        }
    }

    #[test]
    fn a_trailing_comment_cannot_swallow_the_engines_parenthesis() {
        let run = run("SELECT 'x' AS resource, 'y' AS message -- the end");
        assert_eq!((run.error.as_deref(), run.total), (None, 1));
    }

    #[test]
    fn a_rule_over_its_time_limit_is_interrupted_and_the_others_run() {
        let conn = Connection::open_in_memory().expect("in-memory database");
        let endless = named(
            "endless",
            "SELECT count(*)::VARCHAR AS resource, 'm' AS message FROM range(1000000000000) t(n)",
        );
        let quick = named("quick", "SELECT 'r' AS resource, 'm' AS message");
        let limits = Limits {
            rule_timeout: Duration::from_secs(1),
        };
        let start = Instant::now();
        let runs = run_all(&conn, &[endless, quick], 2, limits, &|_| {}).expect("run");
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "{:?}",
            start.elapsed()
        );
        let error = runs[0].error.as_deref().expect("the endless rule failed");
        assert!(
            error.contains("over the 1 s limit (--rule-timeout)"),
            "{error}"
        );
        assert!(runs[0].elapsed >= Duration::from_secs(1));
        assert_eq!((runs[1].error.as_deref(), runs[1].total), (None, 1));
        // The connection is usable afterwards: the interrupt did not stick to it.
        let again = run_rule(
            &conn,
            &named("again", "SELECT 'r' AS resource, 'm' AS message"),
        );
        assert_eq!(again.error, None);
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
        // A union: no type findings can show on any DuckDB version (`[NULL]`, a list of the
        // NULL type on 2.0, is an INTEGER[] on 1.5).
        let unreadable =
            run("SELECT 'r' AS resource, 'm' AS message, union_value(k := 1) AS evidence");
        let error = unreadable.error.expect("a union is an error");
        assert!(
            error.contains("column `evidence`") && error.contains("cast it to VARCHAR"),
            "{error}"
        );
    }

    fn windowed(sql: &str) -> RuleRun {
        let conn = Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(
            "CREATE TABLE bundles (bundle_id VARCHAR, collected_at TIMESTAMP);
             INSERT INTO bundles VALUES ('b1', '2026-01-15 12:00:00');",
        )
        .expect("bundles");
        let text = format!(
            "/* ---\nid = \"t\"\nseverity = \"high\"\nfaq = [\"DCE-01\"]\ncategory = \"x\"\n\
             recent = \"6h\"\nmin_count = 3\n\
             [title]\nen = \"T\"\nzh = \"T\"\n[remediation]\nen = \"R\"\nzh = \"R\"\n--- */\n{sql}"
        );
        run_rule(&conn, &Rule::parse("t.sql", &text).expect("parses"))
    }

    #[test]
    fn log_evidence_outside_the_window_or_too_rare_is_history() {
        let run = windowed(
            "SELECT * FROM (VALUES
               ('current', 'm', '消息', 'b1', TIMESTAMP '2026-01-15 11:00:00', 5),
               ('old', 'm', '消息', 'b1', TIMESTAMP '2025-12-27 12:00:00', 0),
               ('rare', 'm', '消息', 'b1', TIMESTAMP '2026-01-15 11:59:00', 2),
               ('objects', 'm', '消息', 'b1', NULL, NULL))
             t(resource, message, message_zh, bundle_id, last_seen, recent_count)
             WHERE recent_count IS NULL OR recent_count >= 0 AND ${min_count} = 3",
        );
        assert_eq!(run.error, None);
        let by = |r: &str| {
            run.findings
                .iter()
                .find(|f| f.resource == r)
                .expect("finding")
                .clone()
        };
        assert_eq!(by("current").severity, Severity::High);
        assert_eq!(by("current").message, "m");
        let old = by("old");
        assert_eq!(old.severity, Severity::Info);
        assert_eq!(
            old.message,
            "m (last seen 19 days before collection, not since)"
        );
        assert_eq!(
            old.message_zh.as_deref(),
            Some("消息（最近一次出现在收集前 19 天，此后未再出现）")
        );
        assert_eq!(
            old.last_seen.map(|t| t.to_rfc3339()),
            Some("2025-12-27T12:00:00+00:00".into())
        );
        let rare = by("rare");
        assert_eq!(rare.severity, Severity::Info);
        assert!(
            rare.message
                .contains("seen 2 times in the 6 hours before collection"),
            "{}",
            rare.message
        );
        assert_eq!(by("objects").severity, Severity::High);
    }

    #[test]
    fn symptoms_defer_to_their_cause_in_the_same_cluster_and_node() {
        let finding = |rule: &str, bundle: &str, node: Option<&str>| Finding {
            rule_id: rule.into(),
            severity: Severity::High,
            resource: format!("node/{}", node.unwrap_or("-")),
            message: "m".into(),
            message_zh: Some("消息".into()),
            namespace: None,
            name: None,
            node: node.map(Into::into),
            container: None,
            evidence: None,
            bundle_id: Some(bundle.into()),
            count: None,
            first_seen: None,
            last_seen: None,
            recent_count: None,
            symptom_key: None,
            symptom_of: None,
        };
        let run = |id: &str, findings: Vec<Finding>| RuleRun {
            rule_id: id.into(),
            total: findings.len(),
            findings,
            elapsed: Duration::ZERO,
            planning: Duration::ZERO,
            error: None,
        };
        let mut symptom = rule("SELECT 'r' AS resource, 'm' AS message");
        symptom.meta.id = "dns-timeouts".into();
        symptom.meta.symptom_of = vec!["stale-cluster-dns".into()];
        let mut cause = rule("SELECT 'r' AS resource, 'm' AS message");
        cause.meta.id = "stale-cluster-dns".into();
        let keyed = |key: &str| Finding {
            symptom_key: Some(key.into()),
            ..finding("dns-timeouts", "c1", Some("a"))
        };
        let mut runs = vec![
            run(
                "dns-timeouts",
                vec![
                    finding("dns-timeouts", "node-bundle-a", Some("a")),
                    finding("dns-timeouts", "c1", Some("b")),
                    finding("dns-timeouts", "c2", Some("a")),
                    keyed("10.96.0.10"),
                    keyed("10.0.0.2"),
                    Finding {
                        symptom_key: Some("kube-dns".into()),
                        ..finding("dns-timeouts", "c3", None)
                    },
                ],
            ),
            run(
                "stale-cluster-dns",
                vec![
                    Finding {
                        symptom_key: Some("10.96.0.10".into()),
                        ..finding("stale-cluster-dns", "c1", Some("a"))
                    },
                    finding("stale-cluster-dns", "c3", None),
                ],
            ),
        ];
        // The node bundle of node a belongs to cluster c1.
        let cluster_of = |b: &str| {
            if b == "node-bundle-a" {
                "c1".into()
            } else {
                b.to_string()
            }
        };
        link_symptoms(&[symptom, cause], &mut runs, &cluster_of);
        let got: Vec<(Severity, Option<&str>)> = runs[0]
            .findings
            .iter()
            .map(|f| (f.severity, f.symptom_of.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Severity::Info, Some("stale-cluster-dns")),
                // Another node of the same cluster, and the same node name in another cluster.
                (Severity::High, None),
                (Severity::High, None),
                // The same key as the cause's, and another one.
                (Severity::Info, Some("stale-cluster-dns")),
                (Severity::High, None),
                // A keyed symptom needs a cause with the same key.
                (Severity::High, None),
            ]
        );
        assert_eq!(
            runs[0].findings[0].message,
            "m (a symptom of stale-cluster-dns: node/a)"
        );
        assert_eq!(runs[1].findings[0].severity, Severity::High);
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
