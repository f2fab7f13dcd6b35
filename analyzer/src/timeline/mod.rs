//! The case's timeline: what happened, in what order, on which node.
//!
//! `schema/sql/07_timeline.sql` builds the `timeline` table from the objects, events, logs and
//! certificates of the case. Once the rules have run, [`complete`] adds what needs them: bursts
//! of log lines matching a rule's patterns, and each finding at the time of its earliest
//! evidence. [`read`] returns rows in time order for the `timeline` command and the reports.

pub mod chart;
mod place;
pub mod time;

use anyhow::Result;
use chrono::{DateTime, Utc};
use duckdb::Connection;
use serde::Serialize;

use crate::rules::{Rule, RuleRun};

pub use place::finding_anchor;

/// One dated fact.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// For intervals (events seen repeatedly, log bursts): when it was last seen.
    pub end_ts: Option<DateTime<Utc>>,
    /// What kind of fact (`event`, `oom-kill`, `node-condition`, `finding`, …).
    pub kind: String,
    /// On the findings' scale: `info` for a normal fact.
    pub severity: String,
    /// The cluster's label.
    pub cluster: String,
    /// The bundle it comes from.
    pub bundle_id: String,
    /// Namespace, when it has one.
    pub namespace: Option<String>,
    /// What it is about, spelt as findings spell it (`pod/ns/name`, `node/name`).
    pub resource: String,
    /// The node; `None` for cluster-wide facts.
    pub node: Option<String>,
    /// Occurrences the row stands for (events, log bursts).
    pub count: Option<i64>,
    /// What happened, in English.
    pub summary: String,
    /// What happened, in Chinese.
    pub summary_zh: String,
    /// Where the evidence is: `object`, `event`, `log`, `certificate`, `bundle`, `finding`.
    pub evidence_kind: String,
    /// The evidence: a uid, a log file and line, a certificate path, a bundle id, a finding.
    pub evidence: String,
    /// For `finding` rows: the report's anchor of the finding.
    pub anchor: Option<String>,
}

/// Which rows to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// From this time on.
    pub since: Option<DateTime<Utc>>,
    /// Up to this time.
    pub until: Option<DateTime<Utc>>,
    /// Only this node.
    pub node: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
}

/// Adds the rows that need the rules' results: log bursts per rule pattern and the findings.
/// Returns the wall time of each part, for `--timings`.
pub fn complete(
    conn: &Connection,
    rules: &[Rule],
    runs: &[RuleRun],
) -> Result<[(&'static str, std::time::Duration); 2]> {
    let start = std::time::Instant::now();
    place::log_bursts(conn, rules, runs)?;
    let bursts = start.elapsed();
    let start = std::time::Instant::now();
    place::findings(conn, rules, runs)?;
    Ok([
        ("timeline-log-bursts", bursts),
        ("timeline-findings", start.elapsed()),
    ])
}

/// The latest collection time of the case: "now" for relative times.
pub fn reference_time(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    let us: Option<i64> =
        conn.query_row("SELECT max(epoch_us(collected_at)) FROM bundles", [], |r| {
            r.get(0)
        })?;
    Ok(us.and_then(DateTime::from_timestamp_micros))
}

/// The columns [`entry`] reads, in its order.
const ENTRY_COLUMNS: &str = "epoch_us(ts), epoch_us(end_ts), kind, severity, coalesce(cluster, ''),
    coalesce(bundle_id, ''), namespace, coalesce(resource, ''), node, count, coalesce(summary, ''),
    coalesce(summary_zh, summary, ''), evidence_kind, coalesce(evidence, '')";

/// The order rows are shown in: oldest first, ties in a fixed order.
const ENTRY_ORDER: &str = "ts, kind = 'collection', kind, resource, summary, evidence";

/// The rows matching `filter`, oldest first (ties in a fixed order).
pub fn read(conn: &Connection, filter: &Filter) -> Result<Vec<Entry>> {
    let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
    let kinds = filter.kinds.join(",");
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS}
         FROM timeline
         WHERE ts IS NOT NULL
           AND ($1 IS NULL OR ts >= make_timestamp($1))
           AND ($2 IS NULL OR ts <= make_timestamp($2))
           AND ($3 IS NULL OR node = $3)
           AND ($4 IS NULL OR namespace = $4)
           AND ($5 = '' OR list_contains(string_split($5, ','), kind))
         ORDER BY {ENTRY_ORDER}"
    ))?;
    let rows = stmt.query_map(
        duckdb::params![
            micros(filter.since),
            micros(filter.until),
            filter.node,
            filter.namespace,
            kinds
        ],
        entry,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// At most `limit` rows from `since` to `until` (both included), leaving out the collection
/// times: the notable ones (not `info`) first, then the others, each oldest first. Returned
/// oldest first.
pub fn read_notable(
    conn: &Connection,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ENTRY_COLUMNS}
         FROM timeline
         WHERE kind <> 'collection' AND ts BETWEEN make_timestamp($1) AND make_timestamp($2)
         ORDER BY severity = 'info', {ENTRY_ORDER}
         LIMIT $3"
    ))?;
    let rows = stmt.query_map(
        duckdb::params![
            since.timestamp_micros(),
            until.timestamp_micros(),
            limit as i64
        ],
        entry,
    )?;
    let mut entries: Vec<Entry> = rows.collect::<Result<_, _>>()?;
    // Stable: rows at the same time keep the notable ones first.
    entries.sort_by_key(|e| e.ts);
    Ok(entries)
}

/// One row of [`ENTRY_COLUMNS`].
fn entry(r: &duckdb::Row<'_>) -> duckdb::Result<Entry> {
    let ts: i64 = r.get(0)?;
    let end: Option<i64> = r.get(1)?;
    let kind: String = r.get(2)?;
    let evidence: String = r.get(13)?;
    Ok(Entry {
        ts: DateTime::from_timestamp_micros(ts).unwrap_or_default(),
        end_ts: end.and_then(DateTime::from_timestamp_micros),
        anchor: (kind == "finding").then(|| place::anchor_of_evidence(&evidence)),
        kind,
        severity: r.get(3)?,
        cluster: r.get(4)?,
        bundle_id: r.get(5)?,
        namespace: r.get(6)?,
        resource: r.get(7)?,
        node: r.get(8)?,
        count: r.get(9)?,
        summary: r.get(10)?,
        summary_zh: r.get(11)?,
        evidence_kind: r.get(12)?,
        evidence,
    })
}
