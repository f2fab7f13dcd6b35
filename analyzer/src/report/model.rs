//! What a report shows, gathered once and rendered by every format.

use anyhow::Result;
use duckdb::Connection;
use serde::Serialize;

use crate::faq;
use crate::rules::{Finding, Lang, Rule, RuleRun, Severity};

/// Everything the templates receive.
#[derive(Debug, Serialize)]
pub struct Report {
    /// ktriage version.
    pub version: String,
    /// `zh` or `en`.
    pub lang: Lang,
    /// Bundles of the case.
    pub bundles: Vec<BundleInfo>,
    /// Per cluster bundle: version, nodes, pods.
    pub clusters: Vec<ClusterOverview>,
    /// Per host bundle: what host data exists.
    pub hosts: Vec<HostInfo>,
    /// Rules with findings above info, most severe first.
    pub groups: Vec<FindingGroup>,
    /// Known-benign noise and info findings.
    pub benign: Vec<FindingGroup>,
    /// Counts by severity, most severe first: (severity, count of findings).
    pub summary: Vec<(Severity, usize)>,
    /// Collection gaps.
    pub gaps: Vec<GapRow>,
    /// Rules that failed to run.
    pub rule_errors: Vec<(String, String)>,
    /// Rules run.
    pub rules_run: usize,
    /// The timeline chart and its densest period (`crate::timeline::chart::build`, set by the
    /// caller); `None` when nothing is dated. Left out of `findings.json`.
    pub timeline: Option<crate::timeline::chart::Section>,
}

/// A bundle's identity.
#[derive(Debug, Serialize)]
pub struct BundleInfo {
    /// Bundle id.
    pub id: String,
    /// `cluster` or `host`.
    pub kind: String,
    /// Context, cluster id or node.
    pub label: String,
    /// File given.
    pub source: String,
    /// Producer and version.
    pub producer: String,
    /// Collection time (UTC).
    pub collected_at: String,
    /// Incomplete collection.
    pub partial: bool,
    /// Redaction on.
    pub redaction_enabled: bool,
    /// What each redactor replaced, with the resource kinds it replaced values in.
    pub redaction: Vec<RedactorCount>,
    /// Where an imported bundle came from; `None` for bundles ktriage collected.
    pub imported: Option<ImportInfo>,
}

/// Where an imported bundle came from, what was converted and what its source lacked.
#[derive(Debug, Default, Serialize)]
pub struct ImportInfo {
    /// The source format (`troubleshoot`).
    pub format: String,
    /// The source tool's version, when it recorded it.
    pub format_version: String,
    /// The source's file name.
    pub source: String,
    /// Objects, resource files, container logs and findings of the source tool converted.
    pub objects: u64,
    pub resources: u64,
    pub logs: u64,
    /// What the source format does not carry (`source-format` gaps): `(what, detail)`.
    pub missing: Vec<(String, String)>,
    /// The source tool's own findings.
    pub findings: Vec<SourceFindingRow>,
}

/// One finding of the tool that produced an imported bundle.
#[derive(Debug, Serialize)]
pub struct SourceFindingRow {
    pub severity: String,
    pub title: String,
    pub message: String,
}

/// One redactor's count, split by resource kind (most first).
#[derive(Debug, Clone, Serialize)]
pub struct RedactorCount {
    /// The redactor (`secret-data`, `credential-field`, ...).
    pub name: String,
    /// Values it replaced.
    pub count: u64,
    /// `(kind, values)`, most first; empty for bundles written before the split existed.
    pub kinds: Vec<(String, u64)>,
}

/// The shape of one cluster.
#[derive(Debug, Serialize)]
pub struct ClusterOverview {
    /// Bundle id.
    pub bundle_id: String,
    /// Label.
    pub label: String,
    /// Server version.
    pub server_version: String,
    /// Nodes.
    pub nodes: Vec<NodeRow>,
    /// (phase, count), in a fixed phase order.
    pub pod_phases: Vec<(String, i64)>,
    /// Total pods.
    pub pods: i64,
    /// Namespaces.
    pub namespaces: i64,
    /// Containers.
    pub containers: i64,
    /// Objects of all kinds.
    pub objects: i64,
}

/// One node of the overview.
#[derive(Debug, Serialize)]
pub struct NodeRow {
    /// Name.
    pub name: String,
    /// Ready / NotReady.
    pub ready: bool,
    /// Roles.
    pub roles: String,
    /// Kubelet version.
    pub version: String,
    /// Internal IP.
    pub internal_ip: String,
    /// OS image.
    pub os_image: String,
    /// Kernel.
    pub kernel: String,
    /// Runtime.
    pub runtime: String,
    /// Pods scheduled on it.
    pub pods: i64,
    /// Whether a node bundle for it is part of the case.
    pub host_data: bool,
}

/// A node bundle.
#[derive(Debug, Serialize)]
pub struct HostInfo {
    /// Bundle id.
    pub bundle_id: String,
    /// Node it belongs to.
    pub node: String,
    /// Whether that node exists in a cluster bundle of the case.
    pub matched: bool,
    /// Files collected.
    pub files: i64,
    /// Certificates.
    pub certificates: i64,
    /// Kubeconfigs.
    pub kubeconfigs: i64,
    /// Log lines.
    pub log_lines: i64,
    /// Kernel release.
    pub kernel: String,
    /// OS.
    pub os: String,
}

/// Findings of one rule.
#[derive(Debug, Serialize)]
pub struct FindingGroup {
    /// Rule id.
    pub rule_id: String,
    /// Highest severity among the findings.
    pub severity: Severity,
    /// Title in the report language.
    pub title: String,
    /// Title in the other language.
    pub title_alt: String,
    /// Category.
    pub category: String,
    /// Remediation Markdown in the report language.
    pub remediation: String,
    /// FAQ sources.
    pub faq: Vec<FaqRef>,
    /// Findings (capped).
    pub findings: Vec<Finding>,
    /// Rows in all.
    pub total: usize,
    /// Sum of `count` where rows carry one, else the number of rows.
    pub occurrences: i64,
    /// Known-benign noise.
    pub benign: bool,
}

/// A catalog reference.
#[derive(Debug, Serialize)]
pub struct FaqRef {
    /// Id.
    pub id: String,
    /// Document title.
    pub document: String,
    /// Section.
    pub section: String,
}

/// A collection gap.
#[derive(Debug, Serialize)]
pub struct GapRow {
    /// Bundle label.
    pub bundle: String,
    /// What.
    pub what: String,
    /// Where.
    pub location: String,
    /// Why.
    pub reason: String,
    /// Error text.
    pub detail: String,
}

/// Builds the report from the database and the rule runs.
pub fn build(conn: &Connection, rules: &[Rule], runs: &[RuleRun], lang: Lang) -> Result<Report> {
    let mut groups = Vec::new();
    let mut benign = Vec::new();
    let mut rule_errors = Vec::new();
    for (rule, run) in rules.iter().zip(runs) {
        if let Some(e) = &run.error {
            rule_errors.push((rule.meta.id.clone(), e.clone()));
        }
        if run.findings.is_empty() {
            continue;
        }
        let severity = run
            .findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(rule.meta.severity);
        let alt = match lang {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        };
        let group = FindingGroup {
            rule_id: rule.meta.id.clone(),
            severity,
            title: rule.meta.title.get(lang).to_string(),
            title_alt: rule.meta.title.get(alt).to_string(),
            category: rule.meta.category.clone(),
            remediation: rule.meta.remediation.get(lang).to_string(),
            faq: rule
                .meta
                .faq
                .iter()
                .map(|id| match faq::find(id) {
                    Some(e) => FaqRef {
                        id: id.clone(),
                        document: e.document.clone(),
                        section: e.section.clone(),
                    },
                    None => FaqRef {
                        id: id.clone(),
                        document: String::new(),
                        section: String::new(),
                    },
                })
                .collect(),
            occurrences: run
                .findings
                .iter()
                .map(|f| f.count.unwrap_or(1))
                .sum::<i64>()
                + (run.total.saturating_sub(run.findings.len())) as i64,
            findings: run.findings.clone(),
            total: run.total,
            benign: rule.meta.benign,
        };
        if rule.meta.benign || severity == Severity::Info {
            benign.push(group);
        } else {
            groups.push(group);
        }
    }
    groups.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule_id.cmp(&b.rule_id)));
    let summary: Vec<(Severity, usize)> = Severity::ALL
        .iter()
        .rev()
        .map(|s| {
            (
                *s,
                groups
                    .iter()
                    .chain(&benign)
                    .flat_map(|g| &g.findings)
                    .filter(|f| f.severity == *s)
                    .count(),
            )
        })
        .collect();
    Ok(Report {
        version: env!("CARGO_PKG_VERSION").to_string(),
        lang,
        bundles: bundles(conn)?,
        clusters: clusters(conn)?,
        hosts: hosts(conn)?,
        groups,
        benign,
        summary,
        gaps: gaps(conn)?,
        rule_errors,
        rules_run: rules.len(),
        timeline: None,
    })
}

/// Each redactor that did something, with its kinds, most first.
fn redactor_counts(
    counts: std::collections::BTreeMap<String, u64>,
    mut by_kind: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> Vec<RedactorCount> {
    counts
        .into_iter()
        .filter(|&(_, count)| count > 0)
        .map(|(name, count)| {
            let mut kinds: Vec<(String, u64)> = by_kind
                .remove(&name)
                .unwrap_or_default()
                .into_iter()
                .collect();
            kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            RedactorCount { name, count, kinds }
        })
        .collect()
}

fn bundles(conn: &Connection) -> Result<Vec<BundleInfo>> {
    let mut stmt = conn.prepare(
        "SELECT bundle_id, kind, label, source_path, producer || ' ' || producer_version,
                strftime(collected_at, '%Y-%m-%d %H:%M:%S UTC'), partial, redaction_enabled, CAST(redaction AS VARCHAR),
                CAST(redaction_by_kind AS VARCHAR), CAST(options->'$.import' AS VARCHAR)
         FROM bundles ORDER BY kind, label",
    )?;
    let rows = stmt.query_map([], |r| {
        let redaction: String = r.get(8)?;
        let counts: std::collections::BTreeMap<String, u64> =
            serde_json::from_str(&redaction).unwrap_or_default();
        let by_kind: Option<String> = r.get(9)?;
        let by_kind: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> =
            by_kind
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default();
        Ok(BundleInfo {
            id: r.get(0)?,
            kind: r.get(1)?,
            label: r.get(2)?,
            source: r.get(3)?,
            producer: r.get(4)?,
            collected_at: r.get(5)?,
            partial: r.get(6)?,
            redaction_enabled: r.get(7)?,
            redaction: redactor_counts(counts, by_kind),
            imported: r
                .get::<_, Option<String>>(10)?
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .filter(serde_json::Value::is_object)
                .map(|import| import_info(&import)),
        })
    })?;
    let mut bundles: Vec<BundleInfo> = rows.collect::<Result<_, _>>()?;
    for b in &mut bundles {
        if let Some(info) = &mut b.imported {
            add_import_details(conn, &b.id, info)?;
        }
    }
    Ok(bundles)
}

/// The manifest's `options.import` record of an imported bundle.
fn import_info(import: &serde_json::Value) -> ImportInfo {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let count = |k: &str| import["counts"][k].as_u64().unwrap_or(0);
    ImportInfo {
        format: text(&import["format"]),
        format_version: text(&import["format_version"]),
        source: text(&import["source"]),
        objects: count("objects"),
        resources: count("resources"),
        logs: count("logs"),
        missing: Vec::new(),
        findings: Vec::new(),
    }
}

/// What the source lacked (its `source-format` gaps) and its tool's own findings, the
/// worst first as that tool words severity.
fn add_import_details(conn: &Connection, id: &str, info: &mut ImportInfo) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT what, detail FROM gaps WHERE bundle_id = ? AND reason = 'source-format'
         ORDER BY what, location",
    )?;
    info.missing = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT coalesce(doc->>'severity', ''), coalesce(doc->>'title', doc->>'name', ''),
                coalesce(doc->>'message', '')
         FROM source_findings WHERE bundle_id = ?
         ORDER BY CASE lower(doc->>'severity') WHEN 'error' THEN 0 WHEN 'fail' THEN 0
                  WHEN 'warn' THEN 1 WHEN 'warning' THEN 1 ELSE 2 END, doc->>'title'",
    )?;
    info.findings = stmt
        .query_map([id], |r| {
            Ok(SourceFindingRow {
                severity: r.get(0)?,
                title: r.get(1)?,
                message: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(())
}

const PHASES: &[&str] = &["Running", "Pending", "Succeeded", "Failed", "Unknown"];

fn clusters(conn: &Connection) -> Result<Vec<ClusterOverview>> {
    let mut stmt = conn.prepare(
        "SELECT bundle_id, label, server_version,
            (SELECT count(*) FROM pods p WHERE p.bundle_id = b.bundle_id),
            (SELECT count(*) FROM namespaces n WHERE n.bundle_id = b.bundle_id),
            (SELECT count(*) FROM containers c WHERE c.bundle_id = b.bundle_id),
            (SELECT count(*) FROM objects o WHERE o.bundle_id = b.bundle_id)
         FROM bundles b WHERE kind = 'cluster' ORDER BY label",
    )?;
    let mut out: Vec<ClusterOverview> = stmt
        .query_map([], |r| {
            Ok(ClusterOverview {
                bundle_id: r.get(0)?,
                label: r.get(1)?,
                server_version: r.get(2)?,
                pods: r.get(3)?,
                namespaces: r.get(4)?,
                containers: r.get(5)?,
                objects: r.get(6)?,
                nodes: Vec::new(),
                pod_phases: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    for c in &mut out {
        let mut stmt = conn.prepare(
            "SELECT coalesce(phase, 'Unknown'), count(*) FROM pods WHERE bundle_id = ? GROUP BY ALL",
        )?;
        let counts: Vec<(String, i64)> = stmt
            .query_map([&c.bundle_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        c.pod_phases = PHASES
            .iter()
            .map(|p| {
                (
                    p.to_string(),
                    counts.iter().filter(|(k, _)| k == p).map(|(_, n)| *n).sum(),
                )
            })
            .collect();
        let mut stmt = conn.prepare(
            // A node object without a name (a stranger's bundle) is still a row of the table.
            "SELECT coalesce(n.name, ''), n.ready, array_to_string(n.roles, ','), coalesce(n.kubelet_version, ''),
                coalesce(n.internal_ip, ''), coalesce(n.os_image, ''), coalesce(n.kernel_version, ''),
                coalesce(n.container_runtime_version, ''),
                (SELECT count(*) FROM pods p WHERE p.bundle_id = n.bundle_id AND p.node = n.name),
                EXISTS (SELECT 1 FROM host_nodes h WHERE h.node = n.name)
             FROM nodes n WHERE n.bundle_id = ? ORDER BY n.name",
        )?;
        c.nodes = stmt
            .query_map([&c.bundle_id], |r| {
                Ok(NodeRow {
                    name: r.get(0)?,
                    ready: r.get(1)?,
                    roles: r.get(2)?,
                    version: r.get(3)?,
                    internal_ip: r.get(4)?,
                    os_image: r.get(5)?,
                    kernel: r.get(6)?,
                    runtime: r.get(7)?,
                    pods: r.get(8)?,
                    host_data: r.get(9)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}

fn hosts(conn: &Connection) -> Result<Vec<HostInfo>> {
    let mut stmt = conn.prepare(
        "SELECT h.bundle_id, h.node, h.cluster_bundle_id IS NOT NULL,
            (SELECT count(*) FROM host_files f WHERE f.bundle_id = h.bundle_id),
            (SELECT count(*) FROM certificates c WHERE c.bundle_id = h.bundle_id),
            (SELECT count(*) FROM kubeconfigs k WHERE k.bundle_id = h.bundle_id),
            (SELECT count(*) FROM log_lines l WHERE l.bundle_id = h.bundle_id),
            coalesce((SELECT any_value(kernel_release) FROM host_facts f WHERE f.bundle_id = h.bundle_id), ''),
            coalesce((SELECT any_value(os_pretty_name) FROM host_facts f WHERE f.bundle_id = h.bundle_id), '')
         FROM host_nodes h ORDER BY h.node",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(HostInfo {
            bundle_id: r.get(0)?,
            node: r.get(1)?,
            matched: r.get(2)?,
            files: r.get(3)?,
            certificates: r.get(4)?,
            kubeconfigs: r.get(5)?,
            log_lines: r.get(6)?,
            kernel: r.get(7)?,
            os: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn gaps(conn: &Connection) -> Result<Vec<GapRow>> {
    let mut stmt = conn.prepare(
        "SELECT b.label, g.what, g.location, g.reason, g.detail FROM gaps g JOIN bundles b USING (bundle_id)
         ORDER BY b.label, g.what, g.location",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(GapRow {
            bundle: r.get(0)?,
            what: r.get(1)?,
            location: r.get(2)?,
            reason: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
