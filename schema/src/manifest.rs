//! The manifest: what a bundle is, where it came from, what it holds and what is missing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::gap::{Gap, GapKind, GapReason};

/// Major version of the bundle format. A reader refuses a newer major version.
pub const FORMAT_MAJOR: u32 = 1;
/// Minor version: additions that older readers can ignore. 1.1: container log lines begin
/// with the API's RFC 3339 time stamp and a space (`timestamps=true`).
pub const FORMAT_MINOR: u32 = 1;

/// `manifest.json` at the root of every bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Format version as `"MAJOR.MINOR"`.
    pub format_version: String,
    /// Program that wrote the bundle, e.g. `ktriage-collect`.
    pub producer: String,
    /// Version of that program.
    pub producer_version: String,
    /// Unique id of this bundle.
    pub bundle_id: String,
    /// When collection started.
    pub started_at: DateTime<Utc>,
    /// When collection finished: the reference time rules compare against.
    pub finished_at: DateTime<Utc>,
    /// What was collected from.
    pub source: Source,
    /// The options the collection ran with (free-form, for the reader's information).
    #[serde(default)]
    pub options: serde_json::Value,
    /// Every file in the bundle except the manifest itself.
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// What could not be collected, and why.
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// What redaction did.
    #[serde(default)]
    pub redaction: Redaction,
    /// True when collection stopped early (deadline, signal): the bundle is valid but incomplete.
    #[serde(default)]
    pub partial: bool,
}

/// Where a bundle's data came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    /// A cluster, through its API server.
    Cluster(ClusterSource),
    /// One host, in node mode.
    Host(HostSource),
}

/// A cluster collected through its API server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClusterSource {
    /// `gitVersion` from `/version`, e.g. `v1.29.3`.
    #[serde(default)]
    pub server_version: String,
    /// The uid of the `kube-system` namespace: stable identity of a cluster.
    #[serde(default)]
    pub cluster_id: String,
    /// Kubeconfig context name, when one was used.
    #[serde(default)]
    pub context: String,
    /// API server URL.
    #[serde(default)]
    pub server: String,
}

/// A host collected in node mode.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HostSource {
    /// The Kubernetes node name, when known.
    #[serde(default)]
    pub node_name: String,
    /// The host name (`/etc/hostname` or uname).
    #[serde(default)]
    pub hostname: String,
}

/// One file of the bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Relative path inside the bundle (see [`crate::layout`]).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// Set when the content was cut short (log bounds), with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<String>,
}

/// What redaction did: counts per redactor, never values.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Redaction {
    /// False only when the user turned redaction off explicitly.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Redactor name to the number of values it replaced.
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    /// The same counts split by what held the values: redactor name to resource kind
    /// (`Secret`, `Pod`, ...; `text` for logs and host files) to the number replaced. Absent
    /// in bundles written before it existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_kind: BTreeMap<String, BTreeMap<String, u64>>,
}

fn default_true() -> bool {
    true
}

impl Manifest {
    /// The major part of `format_version`, if it parses.
    pub fn format_major(&self) -> Option<u32> {
        self.format_version.split('.').next()?.parse().ok()
    }

    /// The minor part of `format_version`, 0 when absent.
    pub fn format_minor(&self) -> u32 {
        self.format_version
            .split('.')
            .nth(1)
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }

    /// Whether container log lines begin with the API's time stamp (format 1.1 on).
    pub fn container_logs_stamped(&self) -> bool {
        self.format_major().is_some_and(|major| major > 1)
            || (self.format_major() == Some(1) && self.format_minor() >= 1)
    }

    /// The current format version string.
    pub fn current_format_version() -> String {
        format!("{FORMAT_MAJOR}.{FORMAT_MINOR}")
    }

    /// A short human label: context or cluster id for clusters, node name for hosts.
    pub fn label(&self) -> String {
        match &self.source {
            Source::Cluster(c) if !c.context.is_empty() => c.context.clone(),
            Source::Cluster(c) if !c.cluster_id.is_empty() => c.cluster_id.clone(),
            Source::Cluster(_) => "cluster".into(),
            Source::Host(h) if !h.node_name.is_empty() => h.node_name.clone(),
            Source::Host(h) => h.hostname.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_is_tagged_and_gap_reason_kebab() {
        let gap = Gap::new(
            GapKind::Resource,
            "metrics.k8s.io/v1beta1",
            GapReason::NotFound,
        )
        .with_detail("404");
        let v = serde_json::to_value(&gap).expect("serialises");
        assert_eq!(v["reason"], "not-found");
        assert_eq!(v["where"], "metrics.k8s.io/v1beta1");
        let s: Source =
            serde_json::from_str(r#"{"kind":"host","node_name":"n1"}"#).expect("parses");
        assert_eq!(
            s,
            Source::Host(HostSource {
                node_name: "n1".into(),
                hostname: String::new()
            })
        );
    }

    /// Every gap kind's name as bundles spell it (collectors and importers wrote these
    /// strings before kinds were typed, so they are part of the format).
    const KIND_NAMES: &[&str] = &[
        "resource",
        "discovery",
        "version",
        "cluster-id",
        "object",
        "logs",
        "configz",
        "node-log",
        "host-log",
        "file",
        "fact",
        "host-facts",
        "host",
        "certificate",
        "key-file",
        "kubeconfig",
    ];

    /// `manifest.json` as the bundle writer lays it out (pretty JSON), with one gap per kind.
    fn manifest_with_gaps(kinds: &[&str]) -> String {
        let gaps: Vec<String> = kinds
            .iter()
            .map(|what| {
                format!(
                    "    {{\n      \"what\": \"{what}\",\n      \"where\": \"w\",\n      \
                     \"reason\": \"forbidden\",\n      \"detail\": \"d\"\n    }}"
                )
            })
            .collect();
        format!(
            "{{\n  \"format_version\": \"1.1\",\n  \"producer\": \"ktriage-collect\",\n  \
             \"producer_version\": \"0.1.0\",\n  \"bundle_id\": \"b\",\n  \
             \"started_at\": \"2026-01-15T11:59:00Z\",\n  \"finished_at\": \"2026-01-15T12:00:00Z\",\n  \
             \"source\": {{\n    \"kind\": \"cluster\",\n    \"server_version\": \"v1.29.3\",\n    \
             \"cluster_id\": \"c\",\n    \"context\": \"\",\n    \"server\": \"\"\n  }},\n  \
             \"options\": {{}},\n  \"entries\": [],\n  \"gaps\": [\n{}\n  ],\n  \
             \"redaction\": {{\n    \"enabled\": true,\n    \"counts\": {{}}\n  }},\n  \
             \"partial\": false\n}}",
            gaps.join(",\n")
        )
    }

    #[test]
    fn an_older_manifest_reads_and_writes_back_byte_equal_with_every_gap_kind() {
        let mut kinds = KIND_NAMES.to_vec();
        kinds.push("etcd-snapshot");
        let old = manifest_with_gaps(&kinds);
        let manifest: Manifest = serde_json::from_str(&old).expect("an older manifest parses");
        let read: Vec<&GapKind> = manifest.gaps.iter().map(|g| &g.what).collect();
        assert!(matches!(read.last(), Some(GapKind::Other(_))));
        assert!(
            read[..read.len() - 1]
                .iter()
                .all(|k| !matches!(k, GapKind::Other(_)))
        );
        assert_eq!(
            serde_json::to_string_pretty(&manifest).expect("serializes"),
            old
        );
    }

    #[test]
    fn the_known_kinds_are_exactly_the_names_bundles_use() {
        let known: Vec<&str> = GapKind::KNOWN.iter().map(GapKind::as_str).collect();
        assert_eq!(known, KIND_NAMES);
    }
}
