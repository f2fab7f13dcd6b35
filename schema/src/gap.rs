//! Gaps: what a bundle lacks ([`GapKind`]), where, and why ([`GapReason`]).
//!
//! Both travel as text in `manifest.json` and in the analyzer's `gaps` table, so their names
//! are part of the bundle format: `schema/README.md` lists every kind.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Something that could not be collected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Gap {
    /// What was being collected.
    pub what: GapKind,
    /// Where: a resource (`apps/v1/deployments`), a namespace, a pod/container, a node, a path.
    #[serde(rename = "where")]
    pub location: String,
    /// Why, as a category.
    pub reason: GapReason,
    /// The error text as received.
    #[serde(default)]
    pub detail: String,
}

impl Gap {
    /// A gap of `what` at `location`, without detail.
    pub fn new(what: GapKind, location: impl Into<String>, reason: GapReason) -> Self {
        Gap {
            what,
            location: location.into(),
            reason,
            detail: String::new(),
        }
    }

    /// The same gap with the error text (or explanation) set.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// What an imported bundle cannot hold because its source tool never collects it.
    pub fn source_format(
        what: GapKind,
        location: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Gap::new(what, location, GapReason::SourceFormat).with_detail(detail)
    }
}

/// Declares [`GapKind`] once: its variants, their names, and the list of them.
macro_rules! gap_kinds {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)+) => {
        /// What a gap is missing. Serialized as its name; a name this version does not know (a
        /// newer collector's) reads as [`GapKind::Other`] and is written back unchanged.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum GapKind {
            $($(#[doc = $doc])* $variant,)+
            /// A kind this version does not know, kept as written.
            Other(UnknownGapKind),
        }

        impl GapKind {
            /// Every kind this version knows, in the order of `schema/README.md`.
            pub const KNOWN: &'static [GapKind] = &[$(GapKind::$variant,)+];

            /// Stable name, as used in the manifest and the `gaps` table.
            pub fn as_str(&self) -> &str {
                match self {
                    $(GapKind::$variant => $name,)+
                    GapKind::Other(unknown) => &unknown.0,
                }
            }

            /// The kind named `name`: a known one, else [`GapKind::Other`].
            pub fn from_name(name: &str) -> Self {
                match name {
                    $($name => GapKind::$variant,)+
                    _ => GapKind::Other(UnknownGapKind(name.to_string())),
                }
            }
        }
    };
}

gap_kinds! {
    /// A resource type could not be listed (or an imported source did not hold it).
    Resource => "resource",
    /// API discovery of a group/version failed, or an imported source recorded none.
    Discovery => "discovery",
    /// The API server's `/version`.
    Version => "version",
    /// The cluster's identity (the `kube-system` namespace's uid).
    ClusterId => "cluster-id",
    /// One object: too large for a line, or not convertible on import.
    Object => "object",
    /// A container log.
    Logs => "logs",
    /// A node's kubelet configuration (`/configz`).
    Configz => "configz",
    /// A node service log through the API's node log query.
    NodeLog => "node-log",
    /// Node mode: a host service log (journal or file).
    HostLog => "host-log",
    /// A host file, a directory of them, or a file of an imported source.
    File => "file",
    /// Node mode: one host fact (a `/proc` or `/sys` file, a directory, a filesystem).
    Fact => "fact",
    /// Node mode: the whole host facts file, when the collection stopped before it.
    HostFacts => "host-facts",
    /// An imported source's host data as a whole (troubleshoot's host collectors).
    Host => "host",
    /// Node mode: a certificate file or directory.
    Certificate => "certificate",
    /// Node mode: a private-key file's metadata.
    KeyFile => "key-file",
    /// Node mode: a kubeconfig's summary.
    Kubeconfig => "kubeconfig",
}

/// The name of a gap kind this version does not know. Only [`GapKind::from_name`] makes one,
/// so a known name never hides in [`GapKind::Other`] and kinds compare by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownGapKind(String);

impl fmt::Display for GapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for GapKind {
    fn from(name: String) -> Self {
        match GapKind::from_name(&name) {
            GapKind::Other(_) => GapKind::Other(UnknownGapKind(name)),
            known => known,
        }
    }
}

impl From<&str> for GapKind {
    fn from(name: &str) -> Self {
        GapKind::from_name(name)
    }
}

impl From<GapKind> for String {
    fn from(kind: GapKind) -> Self {
        match kind {
            GapKind::Other(unknown) => unknown.0,
            known => known.as_str().to_string(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A gap as an older collector wrote it into `manifest.json`.
    fn old_gap_json(what: &str) -> String {
        format!(r#"{{"what":"{what}","where":"somewhere","reason":"not-found","detail":"404"}}"#)
    }

    #[test]
    fn every_known_kind_reads_as_itself_and_writes_back_byte_equal() {
        for kind in GapKind::KNOWN {
            let json = old_gap_json(kind.as_str());
            let gap: Gap = serde_json::from_str(&json).expect("an old gap parses");
            assert_eq!(&gap.what, kind, "{json}");
            assert_eq!(serde_json::to_string(&gap).expect("serializes"), json);
        }
    }

    #[test]
    fn a_kind_this_version_does_not_know_survives_a_round_trip() {
        let json = old_gap_json("etcd-snapshot");
        let gap: Gap = serde_json::from_str(&json).expect("a newer gap parses");
        assert!(matches!(gap.what, GapKind::Other(_)), "{:?}", gap.what);
        assert_eq!(gap.what.as_str(), "etcd-snapshot");
        assert_eq!(gap.what.to_string(), "etcd-snapshot");
        assert_eq!(serde_json::to_string(&gap).expect("serializes"), json);
    }

    #[test]
    fn a_known_name_never_becomes_other() {
        for kind in GapKind::KNOWN {
            assert_eq!(&GapKind::from(kind.as_str().to_string()), kind);
            assert_eq!(&GapKind::from(kind.as_str()), kind);
            assert_eq!(String::from(kind.clone()), kind.as_str());
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }

    #[test]
    fn kind_names_are_distinct_lower_case_words() {
        let mut names: Vec<&str> = GapKind::KNOWN.iter().map(GapKind::as_str).collect();
        assert!(
            names
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a name is used twice");
    }

    #[test]
    fn constructors_fill_every_field() {
        let gap = Gap::new(GapKind::Logs, "ns/pod/c", GapReason::Timeout).with_detail("slow");
        assert_eq!(
            gap,
            Gap {
                what: GapKind::Logs,
                location: "ns/pod/c".into(),
                reason: GapReason::Timeout,
                detail: "slow".into(),
            }
        );
        assert_eq!(
            Gap::new(GapKind::Fact, "/proc", GapReason::Error).detail,
            ""
        );
        let imported = Gap::source_format(GapKind::Configz, "nodes", "never collected");
        assert_eq!(imported.reason, GapReason::SourceFormat);
        assert_eq!(imported.detail, "never collected");
    }

    #[test]
    fn a_gap_reason_this_version_does_not_know_reads_as_error() {
        let known: GapReason = serde_json::from_str("\"too-large\"").expect("known reason");
        assert_eq!(known, GapReason::TooLarge);
        let future: GapReason = serde_json::from_str("\"quota-exceeded\"").expect("new reason");
        assert_eq!(future, GapReason::Error);
    }
}
