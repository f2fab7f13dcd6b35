//! One side of a diff: its bundles loaded as a case, the rules run over it, and what the
//! comparison needs kept — the findings and the facts that matter — before the case (and its
//! database) is dropped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use duckdb::Connection;
use serde::Serialize;

use super::facts::{self, Facts};
use crate::case::{BadInput, Case, CaseOptions};
use crate::progress::Progress;
use crate::rules::{self, Finding, Rule};

/// A bundle of one side, as the reports name it.
#[derive(Debug, Clone, Serialize)]
pub struct SideBundle {
    /// Bundle id.
    pub id: String,
    /// `cluster` or `host`.
    pub kind: String,
    /// Context, cluster id or node.
    pub label: String,
    /// The manifest's `source.cluster_id` (empty for node bundles and when unknown).
    pub cluster_id: String,
    /// Collection time (RFC 3339, UTC).
    pub collected_at: String,
    /// The file given.
    pub source: String,
}

/// A finding with the identity it is compared by.
#[derive(Debug, Clone)]
pub struct KeyedFinding {
    /// Rule id, resource identity and container: what makes two findings the same problem.
    pub key: FindingKey,
    /// The finding as the rule reported it.
    pub finding: Finding,
}

/// Rule id plus resource identity (a pod stands for its controller, so a rollout's new pod
/// names are the same problem), plus the container when the rule names one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FindingKey {
    /// Rule id.
    pub rule_id: String,
    /// `kind/namespace/name` of the object, pods replaced by their controller.
    pub resource: String,
    /// Container, when the rule names one.
    pub container: Option<String>,
}

/// What one side leaves for the comparison.
pub struct Snapshot {
    /// Its bundles.
    pub bundles: Vec<SideBundle>,
    /// Latest collection time among its bundles.
    pub collected_at: Option<DateTime<Utc>>,
    /// Findings of the non-benign rules.
    pub findings: Vec<KeyedFinding>,
    /// Objects present and their fields that matter.
    pub facts: Facts,
    /// Rules that failed to run: (rule id, error).
    pub rule_errors: Vec<(String, String)>,
}

/// How each side is loaded and analyzed.
pub struct SideOptions<'a> {
    /// Case options (limits, memory).
    pub case: CaseOptions,
    /// Rules to run.
    pub rules: &'a [Rule],
    /// Per-rule timeout.
    pub rule_timeout: Duration,
}

/// Loads `paths` as one case, runs the rules and keeps what the diff needs. The case is
/// dropped on return, so only one database is ever open.
pub fn capture(
    paths: &[PathBuf],
    options: &SideOptions,
    progress: &Progress,
    label: &str,
) -> Result<Snapshot> {
    let case = Case::open(paths, &options.case, progress)?;
    let bundles = side_bundles(&case).map_err(interrupted_or)?;
    // Objects are compared by kind, namespace and name: two clusters on one side would mix.
    let clusters: Vec<String> = bundles
        .iter()
        .filter(|b| b.kind == "cluster")
        .map(|b| format!("{} ({})", b.source, b.label))
        .collect();
    if clusters.len() > 1 {
        return Err(BadInput(format!(
            "{label} holds {} cluster bundles: {}; a diff compares one cluster (and its node bundles) per side, so diff each cluster on its own",
            clusters.len(),
            clusters.join(", ")
        ))
        .into());
    }
    let runs = rules::run_with_progress(
        &case.conn,
        options.rules,
        options.rule_timeout,
        progress,
        &format!("{label} rules"),
    )?;
    let spinner = progress.spinner(&format!("{label}: reading objects"));
    let mut rule_errors = Vec::new();
    let mut found = Vec::new();
    for (rule, run) in options.rules.iter().zip(runs) {
        if let Some(e) = run.error {
            rule_errors.push((run.rule_id.clone(), e));
        }
        // Known-benign noise is not a problem that can appear or go away.
        if !rule.meta.benign {
            found.extend(run.findings);
        }
    }
    let controllers = controllers(&case.conn).map_err(interrupted_or)?;
    let findings = found
        .into_iter()
        .map(|finding| KeyedFinding {
            key: key_of(&finding, &controllers),
            finding,
        })
        .collect();
    let collected_at = bundles
        .iter()
        .filter_map(|b| DateTime::parse_from_rfc3339(&b.collected_at).ok())
        .map(|t| t.to_utc())
        .max();
    let facts = facts::read(&case.conn, &case.bundles).map_err(interrupted_or)?;
    spinner.finish_and_clear();
    Ok(Snapshot {
        bundles,
        collected_at,
        findings,
        facts,
        rule_errors,
    })
}

/// A query a signal interrupted fails with DuckDB's error; the signal is what to report.
fn interrupted_or(e: anyhow::Error) -> anyhow::Error {
    match crate::stop::requested() {
        Some(signal) => anyhow::Error::new(signal),
        None => e,
    }
}

fn side_bundles(case: &Case) -> Result<Vec<SideBundle>> {
    let mut stmt = case.conn.prepare(
        "SELECT bundle_id, kind, label, coalesce(cluster_id, ''),
                strftime(collected_at, '%Y-%m-%dT%H:%M:%SZ'), source_path
         FROM bundles ORDER BY kind, label",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SideBundle {
            id: r.get(0)?,
            kind: r.get(1)?,
            label: r.get(2)?,
            cluster_id: r.get(3)?,
            collected_at: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            source: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `(namespace, pod)` → `kind/namespace/name` of the controller that stands for the pod: a
/// Deployment for its ReplicaSets' pods, a CronJob for its Jobs' pods, else the direct owner.
/// Static pods (owned by their Node) and bare pods keep their own name.
fn controllers(conn: &Connection) -> Result<HashMap<(String, String), String>> {
    let mut stmt = conn.prepare(
        "SELECT p.namespace, p.name,
                lower(coalesce(w.owner_kind, p.owner_kind)) || '/' || p.namespace || '/' || coalesce(w.owner_name, p.owner_name)
         FROM pods p
         LEFT JOIN workloads w ON w.bundle_id = p.bundle_id AND w.kind = p.owner_kind
              AND w.namespace = p.namespace AND w.name = p.owner_name
              AND ((w.kind = 'ReplicaSet' AND w.owner_kind = 'Deployment') OR (w.kind = 'Job' AND w.owner_kind = 'CronJob'))
         WHERE p.owner_kind IS NOT NULL AND p.owner_kind <> 'Node' AND p.owner_name IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn key_of(finding: &Finding, controllers: &HashMap<(String, String), String>) -> FindingKey {
    let resource = match (&finding.namespace, &finding.name) {
        (Some(ns), Some(name)) if finding.resource.starts_with("pod/") => controllers
            .get(&(ns.clone(), name.clone()))
            .cloned()
            .unwrap_or_else(|| finding.resource.clone()),
        _ => finding.resource.clone(),
    };
    FindingKey {
        rule_id: finding.rule_id.clone(),
        resource,
        container: finding.container.clone(),
    }
}
