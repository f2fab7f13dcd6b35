//! Timeline rows that need the rules: bursts of log lines matching their patterns, and the
//! findings themselves.

use anyhow::{Context, Result};
use duckdb::{Connection, params};

use crate::rules::{Lang, Rule, RuleRun, Severity};

/// Width of the buckets log bursts are counted in.
const BURST_MINUTES: u32 = 10;
/// Matching lines in one bucket that make a burst, shown at the rule's severity; fewer are
/// weaker evidence (a pattern also matches lines of healthy services) and shown as low.
const BURST_LINES: u32 = 5;

/// The report's anchor of finding `index` of rule `rule_id`: the findings table and the
/// timeline link to each other through it.
pub fn finding_anchor(rule_id: &str, index: usize) -> String {
    format!("finding-{rule_id}-{index}")
}

/// The anchor of a `finding` row from its evidence (`rule-id#index`).
pub(super) fn anchor_of_evidence(evidence: &str) -> String {
    match evidence.rsplit_once('#') {
        Some((rule, index)) => format!("finding-{rule}-{index}"),
        None => format!("finding-{evidence}"),
    }
}

/// Adds a `log-burst` row per rule with findings, log file origin and 10-minute bucket holding
/// lines that match one of the rule's patterns (case-insensitive, as `explain` matches them), at the
/// rule's severity from [`BURST_LINES`] lines on. A pattern
/// DuckDB's regex engine refuses is left out of the timeline; the rule itself is unaffected.
pub(super) fn log_bursts(conn: &Connection, rules: &[Rule], runs: &[RuleRun]) -> Result<()> {
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE timeline_patterns (rule_id VARCHAR, severity VARCHAR, regex VARCHAR)",
    )?;
    let mut accepted = Vec::new();
    // Only the patterns of rules that found something: their lines are evidence of a problem
    // of this case (the patterns of the others also match healthy services' lines), and each
    // pattern costs a pass of the regex engine over every matching line.
    let found = |rule: &&Rule| {
        runs.iter()
            .any(|run| run.rule_id == rule.meta.id && !run.findings.is_empty())
    };
    for rule in rules
        .iter()
        .filter(|r| !r.meta.patterns.is_empty())
        .filter(found)
    {
        let regex = format!(
            "(?i)(?:{})",
            rule.meta
                .patterns
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|")
        );
        let compiles = conn
            .query_row("SELECT regexp_matches('', ?)", params![regex], |_| Ok(()))
            .is_ok();
        if !compiles {
            continue;
        }
        let severity = if rule.meta.benign {
            Severity::Info
        } else {
            rule.meta.severity
        };
        conn.execute(
            "INSERT INTO timeline_patterns VALUES (?, ?, ?)",
            params![rule.meta.id, severity.as_str(), regex],
        )?;
        accepted.push(regex);
    }
    if accepted.is_empty() {
        return Ok(());
    }
    // One pass over every line with all patterns at once; only the lines that match are
    // matched again per rule.
    let any = accepted.join("|");
    conn.execute(
        &format!(
            "INSERT INTO timeline
            WITH hits AS (
                SELECT bundle_id, source, namespace, pod, container, node, service, line_no,
                    CAST(ts AS TIMESTAMP) AS ts, line
                FROM log_lines WHERE ts IS NOT NULL AND regexp_matches(line, ?)
            ),
            matched AS (
                SELECT h.*, p.rule_id, p.severity,
                    time_bucket(INTERVAL {BURST_MINUTES} MINUTE, h.ts) AS bucket
                FROM hits h JOIN timeline_patterns p ON regexp_matches(h.line, p.regex)
            ),
            clusters AS (
                SELECT b.bundle_id,
                    coalesce((SELECT c.label FROM bundles c WHERE c.bundle_id = h.cluster_bundle_id),
                             b.label) AS cluster
                FROM bundles b LEFT JOIN host_nodes h USING (bundle_id)
            )
            SELECT m.bundle_id, any_value(c.cluster), min(m.ts),
                CASE WHEN max(m.ts) > min(m.ts) THEN max(m.ts) END,
                'log-burst',
                CASE WHEN m.severity = 'info' OR count(*) >= {BURST_LINES} THEN m.severity ELSE 'low' END,
                m.namespace,
                CASE WHEN m.pod IS NOT NULL THEN 'pod/' || m.namespace || '/' || m.pod
                     ELSE 'node/' || coalesce(m.node, '?') END,
                m.node, count(*),
                count(*) || ' log line' || CASE WHEN count(*) > 1 THEN 's' ELSE '' END
                    || ' matching ' || m.rule_id || ' in '
                    || coalesce('container ' || m.container, m.service || ' log', 'a log')
                    || ': ' || left(arg_min(m.line, m.ts), 200),
                count(*) || ' 行日志匹配 ' || m.rule_id || '（'
                    || coalesce('容器 ' || m.container, m.service || ' 日志', '日志')
                    || '）：' || left(arg_min(m.line, m.ts), 200),
                'log',
                coalesce(m.namespace || '/' || m.pod || '/' || m.container, m.node || ' ' || m.service, m.service, '?')
                    || ' line ' || min(m.line_no)
            FROM matched m JOIN clusters c USING (bundle_id)
            GROUP BY m.bundle_id, m.rule_id, m.severity, m.source, m.namespace, m.pod,
                m.container, m.node, m.service, m.bucket"
        ),
        params![any],
    )
    .context("timeline: log bursts")?;
    conn.execute_batch("DROP TABLE timeline_patterns")?;
    Ok(())
}

/// Adds a `finding` row per finding, at the time of its earliest evidence: the first log line
/// it cites, else the earliest non-info fact about its resource in the same cluster, else the
/// collection. Its node is the finding's, else the one of that fact.
pub(super) fn findings(conn: &Connection, rules: &[Rule], runs: &[RuleRun]) -> Result<()> {
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE timeline_findings (
            evidence VARCHAR, bundle_id VARCHAR, severity VARCHAR, resource VARCHAR,
            namespace VARCHAR, node VARCHAR, first_seen_us BIGINT, summary VARCHAR, summary_zh VARCHAR)",
    )?;
    {
        let mut app = conn.appender("timeline_findings")?;
        for run in runs {
            let rule = rules.iter().find(|r| r.meta.id == run.rule_id);
            let (title_en, title_zh) = rule
                .map(|r| {
                    (
                        r.meta.title.get(Lang::En).to_string(),
                        r.meta.title.get(Lang::Zh).to_string(),
                    )
                })
                .unwrap_or_default();
            for (i, f) in run.findings.iter().enumerate() {
                let zh = f.message_zh.as_deref().unwrap_or(&f.message);
                app.append_row(params![
                    format!("{}#{i}", f.rule_id),
                    f.bundle_id,
                    f.severity.as_str(),
                    f.resource,
                    f.namespace,
                    f.node,
                    f.first_seen.map(|t| t.timestamp_micros()),
                    format!("[{}] {title_en}: {}", f.rule_id, f.message),
                    format!("[{}] {title_zh}：{zh}", f.rule_id),
                ])?;
            }
        }
        app.flush().context("timeline: findings")?;
    }
    conn.execute_batch(
        "INSERT INTO timeline
        WITH clusters AS (
            SELECT b.bundle_id, b.collected_at,
                coalesce((SELECT c.label FROM bundles c WHERE c.bundle_id = h.cluster_bundle_id),
                         CASE WHEN b.kind = 'cluster' THEN b.label END,
                         (SELECT any_value(c.label) FROM bundles c WHERE c.kind = 'cluster'),
                         b.label) AS cluster
            FROM bundles b LEFT JOIN host_nodes h USING (bundle_id)
        ),
        f AS (
            SELECT f.*, c.cluster, c.collected_at
            FROM timeline_findings f LEFT JOIN clusters c USING (bundle_id)
        ),
        facts AS (
            SELECT f.evidence, arg_min(t.ts, t.ts) AS ts, arg_min(t.node, t.ts) AS node
            FROM f JOIN timeline t
                ON t.resource = f.resource AND (f.cluster IS NULL OR t.cluster = f.cluster)
            WHERE t.severity <> 'info' AND t.kind NOT IN ('collection', 'finding')
            GROUP BY f.evidence
        )
        SELECT f.bundle_id, coalesce(f.cluster, (SELECT any_value(label) FROM bundles WHERE kind = 'cluster')),
            coalesce(make_timestamp(f.first_seen_us), x.ts, f.collected_at,
                     (SELECT max(collected_at) FROM bundles)),
            NULL, 'finding', f.severity, f.namespace, f.resource, coalesce(f.node, x.node), NULL,
            f.summary, f.summary_zh, 'finding', f.evidence
        FROM f LEFT JOIN facts x USING (evidence);
        DROP TABLE timeline_findings;",
    )
    .context("timeline: findings")?;
    Ok(())
}
