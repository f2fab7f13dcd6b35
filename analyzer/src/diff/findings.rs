//! Findings that appeared, were resolved, or persisted between two sides, matched by rule id
//! and resource identity ([`FindingKey`]), never by message text: a message that quotes a
//! count or an age differs between snapshots of the same problem.

use std::collections::BTreeMap;

use serde::Serialize;

use super::snapshot::{FindingKey, KeyedFinding};
use crate::rules::{Finding, Lang, Rule, Severity};

/// One problem as the diff reports it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingChange {
    /// Rule id.
    pub rule_id: String,
    /// Rule title in the report language.
    pub title: String,
    /// Severity on the side that has it (NEW for persisted findings).
    pub severity: Severity,
    /// Severity in OLD, for persisted findings.
    pub old_severity: Option<Severity>,
    /// The resource identity compared (pods stand for their controller).
    pub resource: String,
    /// Container, when the rule names one.
    pub container: Option<String>,
    /// The object the rule named (a pod's own name).
    pub object: String,
    /// Node, when the rule names one.
    pub node: Option<String>,
    /// What the rule said, in the report language, on the side that has it (NEW for
    /// persisted findings).
    pub message: String,
    /// Rows of the rule this stands for on that side (several pods of one Deployment).
    pub rows: usize,
}

/// The finding comparison.
#[derive(Debug, Default, Serialize)]
pub struct FindingDiff {
    /// In NEW only: most severe first.
    pub appeared: Vec<FindingChange>,
    /// In OLD only.
    pub resolved: Vec<FindingChange>,
    /// In both.
    pub persisted: Vec<FindingChange>,
}

/// Groups findings by key; the most severe row stands for its group.
fn grouped(findings: &[KeyedFinding]) -> BTreeMap<&FindingKey, (&Finding, usize)> {
    let mut out: BTreeMap<&FindingKey, (&Finding, usize)> = BTreeMap::new();
    for f in findings {
        let entry = out.entry(&f.key).or_insert((&f.finding, 0));
        entry.1 += 1;
        if f.finding.severity > entry.0.severity {
            entry.0 = &f.finding;
        }
    }
    out
}

/// Compares the findings of the two sides.
pub fn compare(
    old: &[KeyedFinding],
    new: &[KeyedFinding],
    rules: &[Rule],
    lang: Lang,
) -> FindingDiff {
    let (old, new) = (grouped(old), grouped(new));
    let title = |id: &str| {
        rules
            .iter()
            .find(|r| r.meta.id == id)
            .map(|r| r.meta.title.get(lang).to_string())
            .unwrap_or_default()
    };
    let change = |key: &FindingKey, f: &Finding, rows: usize, old_severity: Option<Severity>| {
        FindingChange {
            rule_id: key.rule_id.clone(),
            title: title(&key.rule_id),
            severity: f.severity,
            old_severity,
            resource: key.resource.clone(),
            container: key.container.clone(),
            object: f.resource.clone(),
            node: f.node.clone(),
            message: match (lang, &f.message_zh) {
                (Lang::Zh, Some(zh)) if !zh.is_empty() => zh.clone(),
                _ => f.message.clone(),
            },
            rows,
        }
    };
    let mut diff = FindingDiff::default();
    for (key, (f, rows)) in &new {
        match old.get(key) {
            Some((was, _)) => diff
                .persisted
                .push(change(key, f, *rows, Some(was.severity))),
            None => diff.appeared.push(change(key, f, *rows, None)),
        }
    }
    for (key, (f, rows)) in &old {
        if !new.contains_key(key) {
            diff.resolved.push(change(key, f, *rows, None));
        }
    }
    for list in [&mut diff.appeared, &mut diff.resolved, &mut diff.persisted] {
        list.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.resource.cmp(&b.resource))
        });
    }
    diff
}
