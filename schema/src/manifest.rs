//! The manifest: what a bundle is, where it came from, what it holds and what is missing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// Something that could not be collected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Gap {
    /// What was being collected: `resource`, `discovery`, `logs`, `configz`, `node-log`, `file`, `fact`, ...
    pub what: String,
    /// Where: a resource (`apps/v1/deployments`), a namespace, a pod/container, a node, a path.
    #[serde(rename = "where")]
    pub location: String,
    /// Why, as a category.
    pub reason: GapReason,
    /// The error text as received.
    #[serde(default)]
    pub detail: String,
}

/// Why something could not be collected.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum GapReason {
    /// 401/403, or a file permission error.
    Forbidden,
    /// A request or the global deadline ran out.
    Timeout,
    /// 404, or a file that does not exist where expected.
    NotFound,
    /// The server could not serve it (5xx, APIService unavailable).
    Unavailable,
    /// Collection was interrupted before reaching it.
    Interrupted,
    /// An object too large for one NDJSON line (`layout::MAX_LINE_BYTES`): left out.
    TooLarge,
    /// The bundle was imported from another tool's format, which does not carry it (no
    /// discovery, no kubelet configuration, no host data, logs cut by the source, ...).
    SourceFormat,
    /// Any other error, and any reason a newer collector writes that this version does not
    /// know: a minor format version may add reasons without making older readers refuse.
    #[serde(other)]
    Error,
}

impl GapReason {
    /// Stable lower-case name, as used in the manifest and the `gaps` table.
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::Forbidden => "forbidden",
            GapReason::Timeout => "timeout",
            GapReason::NotFound => "not-found",
            GapReason::Unavailable => "unavailable",
            GapReason::Interrupted => "interrupted",
            GapReason::TooLarge => "too-large",
            GapReason::SourceFormat => "source-format",
            GapReason::Error => "error",
        }
    }
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
    fn a_gap_reason_this_version_does_not_know_reads_as_error() {
        let known: GapReason = serde_json::from_str("\"too-large\"").expect("known reason");
        assert_eq!(known, GapReason::TooLarge);
        let future: GapReason = serde_json::from_str("\"quota-exceeded\"").expect("new reason");
        assert_eq!(future, GapReason::Error);
    }

    #[test]
    fn source_is_tagged_and_gap_reason_kebab() {
        let gap = Gap {
            what: "resource".into(),
            location: "metrics.k8s.io/v1beta1".into(),
            reason: GapReason::NotFound,
            detail: "404".into(),
        };
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
}
