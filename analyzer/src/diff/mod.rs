//! `ktriage diff`: what changed between two snapshots of a cluster.
//!
//! Each side (a cluster bundle and its node bundles) is loaded and analyzed as `analyze` does
//! ([`snapshot`]); what the comparison needs — findings with their identity, and the facts
//! that matter per object ([`facts`]) — is read out by SQL and the side's database dropped
//! before the other side is opened. Two whole cases never share memory: one side's facts are a
//! small fraction of its database (no documents, no logs), so a diff of two large clusters
//! needs one `--memory-mib` plus the facts, not two databases. The sides are then compared
//! ([`findings`], [`objects`]) and rendered ([`render`]).

pub mod facts;
pub mod findings;
pub mod objects;
pub mod render;
pub mod snapshot;

use serde::Serialize;

use crate::rules::{Lang, Rule};
use findings::FindingDiff;
use objects::{ChangeKind, ObjectDiff};
use snapshot::{SideBundle, Snapshot};

/// `diff.json`'s schema identifier; bumped when a field changes meaning or goes away.
pub const SCHEMA: &str = "ktriage-diff/1";

/// Everything the diff reports show; `diff.json` is this, serialized.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// ktriage version.
    pub version: String,
    /// `zh` or `en`.
    pub lang: Lang,
    /// The earlier snapshot.
    pub old: SideSummary,
    /// The later snapshot.
    pub new: SideSummary,
    /// Why the comparison may mislead: different clusters, sides swapped.
    pub warnings: Vec<Warning>,
    /// Counts.
    pub summary: Summary,
    /// Findings appeared, resolved, persisted.
    pub findings: FindingDiff,
    /// Objects added, removed, changed.
    pub objects: ObjectDiff,
    /// Rules that failed to run on either side.
    pub rule_errors: Vec<RuleError>,
    /// Rules run on each side.
    pub rules_run: usize,
}

/// One side, as the reports name it.
#[derive(Debug, Serialize)]
pub struct SideSummary {
    /// Its bundles.
    pub bundles: Vec<SideBundle>,
    /// Latest collection time of its bundles (RFC 3339, UTC).
    pub collected_at: Option<String>,
    /// Cluster ids of its cluster bundles (sorted, without empty ones).
    pub cluster_ids: Vec<String>,
    /// Findings of non-benign rules on this side.
    pub findings: usize,
}

/// A reason to read the diff with care.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    /// `cluster-mismatch` or `sides-swapped`.
    pub code: &'static str,
    /// The warning in the report language.
    pub message: String,
    /// The warning in English (what the terminal shows).
    pub message_en: String,
}

/// Counts of the diff.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Findings only in NEW.
    pub appeared: usize,
    /// Findings only in OLD.
    pub resolved: usize,
    /// Findings on both sides.
    pub persisted: usize,
    /// Objects only in NEW.
    pub objects_added: usize,
    /// Objects only in OLD.
    pub objects_removed: usize,
    /// Objects whose fields that matter changed.
    pub objects_changed: usize,
    /// Containers whose restart count grew.
    pub restarts_grew: usize,
}

/// A rule that failed on one side.
#[derive(Debug, Serialize)]
pub struct RuleError {
    /// `old` or `new`.
    pub side: &'static str,
    /// Rule id.
    pub rule_id: String,
    /// The error.
    pub error: String,
}

/// Compares two captured sides.
pub fn build(old: Snapshot, new: Snapshot, rules: &[Rule], lang: Lang) -> DiffReport {
    let warnings = warnings(&old, &new, lang);
    let findings = findings::compare(&old.findings, &new.findings, rules, lang);
    let objects = objects::compare(&old.facts, &new.facts);
    let summary = Summary {
        appeared: findings.appeared.len(),
        resolved: findings.resolved.len(),
        persisted: findings.persisted.len(),
        objects_added: objects.added.len(),
        objects_removed: objects.removed.len(),
        objects_changed: objects.changed.len(),
        restarts_grew: objects
            .changed
            .iter()
            .flat_map(|o| &o.changes)
            .filter(|c| c.change == ChangeKind::Grew)
            .count(),
    };
    let rule_errors = [("old", &old), ("new", &new)]
        .into_iter()
        .flat_map(|(side, s)| {
            s.rule_errors.iter().map(move |(id, e)| RuleError {
                side,
                rule_id: id.clone(),
                error: e.clone(),
            })
        })
        .collect();
    DiffReport {
        schema: SCHEMA,
        version: env!("CARGO_PKG_VERSION").to_string(),
        lang,
        old: side_summary(&old),
        new: side_summary(&new),
        warnings,
        summary,
        findings,
        objects,
        rule_errors,
        rules_run: rules.len(),
    }
}

fn cluster_ids(s: &Snapshot) -> Vec<String> {
    let mut ids: Vec<String> = s
        .bundles
        .iter()
        .filter(|b| b.kind == "cluster" && !b.cluster_id.is_empty())
        .map(|b| b.cluster_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn side_summary(s: &Snapshot) -> SideSummary {
    SideSummary {
        bundles: s.bundles.clone(),
        collected_at: s
            .collected_at
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        cluster_ids: cluster_ids(s),
        findings: s.findings.len(),
    }
}

/// Different clusters (by the manifests' cluster ids) and an OLD collected after NEW.
fn warnings(old: &Snapshot, new: &Snapshot, lang: Lang) -> Vec<Warning> {
    let mut out = Vec::new();
    let (a, b) = (cluster_ids(old), cluster_ids(new));
    if !a.is_empty() && !b.is_empty() && a != b {
        let (a, b) = (a.join(", "), b.join(", "));
        let en = format!(
            "OLD and NEW are different clusters (cluster id {a} vs {b}): every object and finding differs"
        );
        let zh =
            format!("OLD 与 NEW 不是同一个集群（集群 ID {a} 与 {b}）：对象与问题的差异没有意义");
        out.push(warning("cluster-mismatch", lang, en, zh));
    }
    if let (Some(a), Some(b)) = (old.collected_at, new.collected_at)
        && a > b
    {
        let (a, b) = (
            a.format("%Y-%m-%d %H:%M:%S UTC"),
            b.format("%Y-%m-%d %H:%M:%S UTC"),
        );
        let en = format!(
            "OLD was collected after NEW ({a} vs {b}): the sides look swapped, so appeared and resolved are reversed"
        );
        let zh =
            format!("OLD 的采集时间晚于 NEW（{a} 与 {b}）：两侧可能颠倒，新增与已解决的问题会互换");
        out.push(warning("sides-swapped", lang, en, zh));
    }
    out
}

fn warning(code: &'static str, lang: Lang, en: String, zh: String) -> Warning {
    Warning {
        code,
        message: match lang {
            Lang::En => en.clone(),
            Lang::Zh => zh,
        },
        message_en: en,
    }
}
