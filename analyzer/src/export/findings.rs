//! The case tables an export adds before writing: `export_partitions` (which cluster each
//! bundle belongs to), `export_bundles` and `export_findings` (the rules' findings as rows).

use anyhow::{Context, Result};
use duckdb::{Connection, params};

use crate::db::quote;
use crate::rules::{Rule, RuleRun, Severity};

/// Creates the export tables. A finding that names no bundle (or an unknown one) belongs to
/// the case's first cluster bundle, or its first bundle when it has none.
pub fn prepare(conn: &Connection, rules: &[Rule], runs: &[RuleRun]) -> Result<()> {
    // A cluster bundle's cluster is its manifest's cluster id, else its context; a node
    // bundle belongs to the cluster bundle its node was found in, else to its own cluster id.
    conn.execute_batch(&format!(
        "CREATE TABLE export_partitions AS
         WITH cl AS (
             SELECT bundle_id, coalesce(nullif(cluster_id, ''), nullif(context, ''),
                                        nullif(label, ''), bundle_id) AS cid
             FROM bundles WHERE kind = 'cluster')
         SELECT b.bundle_id,
             coalesce(own.cid, tied.cid, nullif(b.cluster_id, ''), '') AS cluster_id,
             row_number() OVER (ORDER BY b.kind <> 'cluster', b.rowid) AS position
         FROM bundles b
         LEFT JOIN cl own ON own.bundle_id = b.bundle_id
         LEFT JOIN (SELECT bundle_id, any_value(cluster_bundle_id) AS cluster_bundle_id
                    FROM host_nodes GROUP BY bundle_id) h ON h.bundle_id = b.bundle_id
         LEFT JOIN cl tied ON tied.bundle_id = h.cluster_bundle_id;
         CREATE TABLE export_bundles AS SELECT *, {} AS exported_by FROM bundles;
         CREATE TABLE export_findings (
             bundle_id VARCHAR, rule_id VARCHAR, severity VARCHAR, severity_rank INTEGER,
             benign BOOLEAN, category VARCHAR, faq_ids VARCHAR, resource VARCHAR,
             namespace VARCHAR, name VARCHAR, node VARCHAR, container VARCHAR,
             message_en VARCHAR, message_zh VARCHAR, evidence_count BIGINT,
             first_seen VARCHAR, last_seen VARCHAR, recent_count BIGINT, symptom_of VARCHAR);",
        quote(&format!("ktriage {}", env!("CARGO_PKG_VERSION")))
    ))
    .context("preparing the export tables")?;
    let known: Vec<String> = conn
        .prepare("SELECT bundle_id FROM export_partitions ORDER BY position")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    let fallback = known.first().cloned().unwrap_or_default();
    let mut appender = conn.appender("export_findings")?;
    for finding in runs.iter().flat_map(|r| &r.findings) {
        let rule = rules.iter().find(|r| r.meta.id == finding.rule_id);
        let bundle = finding
            .bundle_id
            .clone()
            .filter(|b| known.contains(b))
            .unwrap_or_else(|| fallback.clone());
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        };
        appender.append_row(params![
            bundle,
            finding.rule_id,
            finding.severity.as_str(),
            severity_rank(finding.severity),
            rule.is_some_and(|r| r.meta.benign),
            rule.map(|r| r.meta.category.clone()),
            rule.map(|r| r.meta.faq.join(" ")).unwrap_or_default(),
            finding.resource,
            finding.namespace,
            finding.name,
            finding.node,
            finding.container,
            finding.message,
            finding.message_zh,
            finding.count.unwrap_or(1),
            time(finding.first_seen),
            time(finding.last_seen),
            finding.recent_count,
            finding.symptom_of,
        ])?;
    }
    appender.flush()?;
    Ok(())
}

/// 0 for `info` up to 4 for `critical`, so queries can compare severities.
fn severity_rank(severity: Severity) -> i32 {
    Severity::ALL
        .iter()
        .position(|s| *s == severity)
        .unwrap_or_default() as i32
}

/// Each bundle of the case with the cluster it is filed under, cluster bundles first.
pub fn partitions(conn: &Connection) -> Result<Vec<(String, String)>> {
    conn.prepare("SELECT cluster_id, bundle_id FROM export_partitions ORDER BY position")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()
        .context("reading the bundles to export")
}
