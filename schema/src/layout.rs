//! Where everything lives inside a bundle. Collector, analyzer, server and fixture builder
//! all take paths from here, so what is collected and what is analyzed cannot drift apart.
//!
//! Paths are relative, `/`-separated, and never start with `/` or contain `..`.

/// The manifest: format version, source, options, entries with checksums, gaps, redaction.
pub const MANIFEST: &str = "manifest.json";

/// Recorded API discovery of a cluster (groups, versions, resources, CRDs included).
pub const DISCOVERY: &str = "cluster/discovery.json";
/// The API server's `/version` answer.
pub const VERSION: &str = "cluster/version.json";
/// Directory holding one NDJSON file per collected resource.
pub const CLUSTER_DIR: &str = "cluster";
/// Directory holding container logs.
pub const LOGS_DIR: &str = "logs";
/// Directory holding per-node data obtained through the API server (kubelet configz, logs).
pub const NODES_DIR: &str = "nodes";
/// Directory holding host data gathered by node mode.
pub const HOST_DIR: &str = "host";
/// Host facts (kernel, sysctls, modules, mounts, ...) as one JSON document.
pub const HOST_FACTS: &str = "host/facts.json";
/// Certificate metadata, one JSON object per certificate.
pub const HOST_CERTIFICATES: &str = "host/certificates.ndjson";
/// Kubeconfig summaries (never credentials), one JSON object per kubeconfig.
pub const HOST_KUBECONFIGS: &str = "host/kubeconfigs.ndjson";
/// Private-key files seen on the host: path, mode, owner. Never their content.
pub const HOST_KEY_FILES: &str = "host/key-files.ndjson";
/// Copied host files live under this prefix, followed by their absolute path without the `/`.
pub const HOST_FILES_DIR: &str = "host/files";
/// Service logs of the host (kubelet, containerd, docker).
pub const HOST_LOGS_DIR: &str = "host/logs";

/// Directory of what an imported bundle keeps of its source (its tool's own analysis).
pub const SOURCE_DIR: &str = "source";
/// The source tool's own findings, one [`SourceFinding`] per line (imported bundles only).
pub const SOURCE_FINDINGS: &str = "source/findings.ndjson";

/// One finding of the tool that produced an imported bundle (troubleshoot's analyzers),
/// as that tool stated it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceFinding {
    /// The tool's name for the check (`required.kubernetes.version`).
    pub name: String,
    /// The tool's own severity word (`pass`, `warn`, `fail`, `debug`, ...).
    pub severity: String,
    /// Title.
    pub title: String,
    /// What the tool said.
    pub message: String,
}

/// Longest line of an NDJSON file, its newline included: one API object or record. The
/// collector leaves a longer object out (a `too-large` gap) and the analyzer skips one it
/// finds. etcd's own limit on an object is 1.5 MiB; this leaves room for what aggregated APIs
/// and custom resources may serve while keeping DuckDB's per-thread JSON buffers bounded.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Extension of resource files.
pub const NDJSON_EXT: &str = ".ndjson";
/// Suffix of a container's current log.
pub const LOG_SUFFIX: &str = ".log";
/// Suffix of a container's previous (before last restart) log.
pub const PREVIOUS_LOG_SUFFIX: &str = ".previous.log";

/// The group directory name used for the core (legacy, empty-named) API group.
pub const CORE_GROUP_DIR: &str = "core";

/// `cluster/<group|core>/<version>/<resource>.ndjson`
pub fn resource_path(group: &str, version: &str, resource: &str) -> String {
    let group = if group.is_empty() {
        CORE_GROUP_DIR
    } else {
        group
    };
    format!("{CLUSTER_DIR}/{group}/{version}/{resource}{NDJSON_EXT}")
}

/// Inverse of [`resource_path`]: `(group, version, resource)`, group empty for core.
pub fn parse_resource_path(path: &str) -> Option<(String, String, String)> {
    match BundlePath::parse(path) {
        BundlePath::Resource {
            group,
            version,
            resource,
        } => Some((group, version, resource)),
        _ => None,
    }
}

/// `logs/<namespace>/<pod>/<container>.log` or `.previous.log`.
pub fn container_log_path(namespace: &str, pod: &str, container: &str, previous: bool) -> String {
    let suffix = if previous {
        PREVIOUS_LOG_SUFFIX
    } else {
        LOG_SUFFIX
    };
    format!("{LOGS_DIR}/{namespace}/{pod}/{container}{suffix}")
}

/// A container log path taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLogRef {
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Whether this is the log of the previous instance.
    pub previous: bool,
}

/// Inverse of [`container_log_path`].
pub fn parse_container_log_path(path: &str) -> Option<ContainerLogRef> {
    match BundlePath::parse(path) {
        BundlePath::ContainerLog(log) => Some(log),
        _ => None,
    }
}

/// `nodes/<node>/configz.json`: the kubelet's `/configz` answer through the node proxy.
pub fn node_configz_path(node: &str) -> String {
    format!("{NODES_DIR}/{node}/configz.json")
}

/// `nodes/<node>/logs/<service>.log`: a node service log fetched through the API.
pub fn node_log_path(node: &str, service: &str) -> String {
    format!("{NODES_DIR}/{node}/logs/{service}{LOG_SUFFIX}")
}

/// `host/files/<absolute path without leading slash>`.
pub fn host_file_path(absolute: &str) -> String {
    format!("{HOST_FILES_DIR}/{}", absolute.trim_start_matches('/'))
}

/// `host/logs/<service>.log`.
pub fn host_log_path(service: &str) -> String {
    format!("{HOST_LOGS_DIR}/{service}{LOG_SUFFIX}")
}

/// A host record file: one JSON object per line, each a record of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRecord {
    /// [`HOST_CERTIFICATES`]
    Certificate,
    /// [`HOST_KUBECONFIGS`]
    Kubeconfig,
    /// [`HOST_KEY_FILES`]
    KeyFile,
}

impl HostRecord {
    pub const ALL: [HostRecord; 3] = [
        HostRecord::Certificate,
        HostRecord::Kubeconfig,
        HostRecord::KeyFile,
    ];

    /// The record file's path in a bundle.
    pub fn path(self) -> &'static str {
        match self {
            HostRecord::Certificate => HOST_CERTIFICATES,
            HostRecord::Kubeconfig => HOST_KUBECONFIGS,
            HostRecord::KeyFile => HOST_KEY_FILES,
        }
    }

    /// The record kind as the `raw_host_records.record` column names it.
    pub fn name(self) -> &'static str {
        match self {
            HostRecord::Certificate => "certificate",
            HostRecord::Kubeconfig => "kubeconfig",
            HostRecord::KeyFile => "key-file",
        }
    }
}

/// Every kind of file a bundle holds, parsed from its path: the one grammar of bundle paths
/// (the builders above produce them, [`BundlePath::parse`] takes them apart, and the two are
/// tested to round-trip). A path this version does not know is [`BundlePath::Unknown`]: a
/// newer minor format may add files, and readers record rather than drop them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundlePath {
    /// [`MANIFEST`]
    Manifest,
    /// [`DISCOVERY`]
    Discovery,
    /// [`VERSION`]
    Version,
    /// [`resource_path`]: group (empty for core), version, resource.
    Resource {
        group: String,
        version: String,
        resource: String,
    },
    /// [`container_log_path`]
    ContainerLog(ContainerLogRef),
    /// [`node_configz_path`]
    NodeConfigz { node: String },
    /// [`node_log_path`]
    NodeLog { node: String, service: String },
    /// [`HOST_FACTS`]
    HostFacts,
    /// A host record file.
    HostRecord(HostRecord),
    /// [`host_file_path`]: the file's absolute path on the host.
    HostFile { absolute: String },
    /// [`host_log_path`]
    HostLog { service: String },
    /// [`SOURCE_FINDINGS`] of an imported bundle.
    SourceFindings,
    /// Another file under [`SOURCE_DIR`]: a source file an imported bundle keeps as it was.
    SourceFile { name: String },
    /// Anything else.
    Unknown,
}

impl BundlePath {
    /// Takes a bundle path apart.
    pub fn parse(path: &str) -> BundlePath {
        match path {
            MANIFEST => return BundlePath::Manifest,
            DISCOVERY => return BundlePath::Discovery,
            VERSION => return BundlePath::Version,
            HOST_FACTS => return BundlePath::HostFacts,
            SOURCE_FINDINGS => return BundlePath::SourceFindings,
            _ => {}
        }
        if let Some(record) = HostRecord::ALL.into_iter().find(|r| r.path() == path) {
            return BundlePath::HostRecord(record);
        }
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            [CLUSTER_DIR, group, version, file] => match file.strip_suffix(NDJSON_EXT) {
                Some(resource) => BundlePath::Resource {
                    group: if *group == CORE_GROUP_DIR { "" } else { group }.to_string(),
                    version: version.to_string(),
                    resource: resource.to_string(),
                },
                None => BundlePath::Unknown,
            },
            [LOGS_DIR, namespace, pod, file] => {
                let (container, previous) = match file.strip_suffix(PREVIOUS_LOG_SUFFIX) {
                    Some(c) => (c, true),
                    None => match file.strip_suffix(LOG_SUFFIX) {
                        Some(c) => (c, false),
                        None => return BundlePath::Unknown,
                    },
                };
                BundlePath::ContainerLog(ContainerLogRef {
                    namespace: namespace.to_string(),
                    pod: pod.to_string(),
                    container: container.to_string(),
                    previous,
                })
            }
            [NODES_DIR, node, "configz.json"] => BundlePath::NodeConfigz {
                node: node.to_string(),
            },
            [NODES_DIR, node, "logs", file] => match file.strip_suffix(LOG_SUFFIX) {
                Some(service) => BundlePath::NodeLog {
                    node: node.to_string(),
                    service: service.to_string(),
                },
                None => BundlePath::Unknown,
            },
            ["host", "logs", file] => match file.strip_suffix(LOG_SUFFIX) {
                Some(service) => BundlePath::HostLog {
                    service: service.to_string(),
                },
                None => BundlePath::Unknown,
            },
            ["host", "files", rest @ ..] if !rest.is_empty() => BundlePath::HostFile {
                absolute: format!("/{}", rest.join("/")),
            },
            [SOURCE_DIR, name] => BundlePath::SourceFile {
                name: name.to_string(),
            },
            _ => BundlePath::Unknown,
        }
    }

    /// The path this value stands for; `None` for [`BundlePath::Unknown`].
    pub fn to_path(&self) -> Option<String> {
        Some(match self {
            BundlePath::Manifest => MANIFEST.to_string(),
            BundlePath::Discovery => DISCOVERY.to_string(),
            BundlePath::Version => VERSION.to_string(),
            BundlePath::Resource {
                group,
                version,
                resource,
            } => resource_path(group, version, resource),
            BundlePath::ContainerLog(log) => {
                container_log_path(&log.namespace, &log.pod, &log.container, log.previous)
            }
            BundlePath::NodeConfigz { node } => node_configz_path(node),
            BundlePath::NodeLog { node, service } => node_log_path(node, service),
            BundlePath::HostFacts => HOST_FACTS.to_string(),
            BundlePath::HostRecord(record) => record.path().to_string(),
            BundlePath::HostFile { absolute } => host_file_path(absolute),
            BundlePath::HostLog { service } => host_log_path(service),
            BundlePath::SourceFindings => SOURCE_FINDINGS.to_string(),
            BundlePath::SourceFile { name } => format!("{SOURCE_DIR}/{name}"),
            BundlePath::Unknown => return None,
        })
    }

    /// A short stable name of the kind, as the `bundle_entries.kind` column records it.
    pub fn kind(&self) -> &'static str {
        match self {
            BundlePath::Manifest => "manifest",
            BundlePath::Discovery => "discovery",
            BundlePath::Version => "version",
            BundlePath::Resource { .. } => "resource",
            BundlePath::ContainerLog(log) if log.previous => "previous-log",
            BundlePath::ContainerLog(_) => "log",
            BundlePath::NodeConfigz { .. } => "configz",
            BundlePath::NodeLog { .. } => "node-log",
            BundlePath::HostFacts => "host-facts",
            BundlePath::HostRecord(_) => "host-record",
            BundlePath::HostFile { .. } => "host-file",
            BundlePath::HostLog { .. } => "host-log",
            BundlePath::SourceFindings => "source-findings",
            BundlePath::SourceFile { .. } => "source-file",
            BundlePath::Unknown => "unknown",
        }
    }
}

/// Whether `name` is safe as one path component inside a bundle (namespace, pod, node, ...).
/// Kubernetes names never contain `/`, but a hostile or buggy source might.
pub fn is_safe_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths_round_trip() {
        assert_eq!(
            resource_path("", "v1", "pods"),
            "cluster/core/v1/pods.ndjson"
        );
        assert_eq!(
            parse_resource_path("cluster/apps/v1/deployments.ndjson"),
            Some(("apps".into(), "v1".into(), "deployments".into()))
        );
        assert_eq!(
            parse_resource_path("cluster/core/v1/pods.ndjson"),
            Some(("".into(), "v1".into(), "pods".into()))
        );
        assert_eq!(parse_resource_path("cluster/discovery.json"), None);
        assert_eq!(parse_resource_path("cluster/a/b/c/d.ndjson"), None);
    }

    #[test]
    fn log_paths_round_trip() {
        let p = container_log_path("kube-system", "coredns-1", "coredns", true);
        assert_eq!(p, "logs/kube-system/coredns-1/coredns.previous.log");
        let r = parse_container_log_path(&p).expect("parses");
        assert!(r.previous);
        assert_eq!(r.container, "coredns");
        let r = parse_container_log_path("logs/a/b/c.log").expect("parses");
        assert!(!r.previous);
        assert_eq!(parse_container_log_path("logs/a/b/c.txt"), None);
    }

    #[test]
    fn host_paths() {
        assert_eq!(
            host_file_path("/etc/resolv.conf"),
            "host/files/etc/resolv.conf"
        );
        assert!(!is_safe_component(".."));
        assert!(!is_safe_component("a/b"));
        assert!(is_safe_component("node-1"));
    }

    #[test]
    fn every_kind_of_path_round_trips() {
        let log = |previous| {
            BundlePath::ContainerLog(ContainerLogRef {
                namespace: "kube-system".into(),
                pod: "coredns-1".into(),
                container: "coredns".into(),
                previous,
            })
        };
        let all = [
            BundlePath::Manifest,
            BundlePath::Discovery,
            BundlePath::Version,
            BundlePath::Resource {
                group: "".into(),
                version: "v1".into(),
                resource: "pods".into(),
            },
            BundlePath::Resource {
                group: "apps".into(),
                version: "v1".into(),
                resource: "deployments".into(),
            },
            log(false),
            log(true),
            BundlePath::NodeConfigz { node: "n1".into() },
            BundlePath::NodeLog {
                node: "n1".into(),
                service: "kubelet".into(),
            },
            BundlePath::HostFacts,
            BundlePath::HostRecord(HostRecord::Certificate),
            BundlePath::HostRecord(HostRecord::Kubeconfig),
            BundlePath::HostRecord(HostRecord::KeyFile),
            BundlePath::HostFile {
                absolute: "/etc/kubernetes/kubelet.conf".into(),
            },
            BundlePath::SourceFindings,
            BundlePath::SourceFile {
                name: "analysis.json".into(),
            },
            BundlePath::HostLog {
                service: "containerd".into(),
            },
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for value in all {
            let path = value.to_path().expect("a known kind has a path");
            assert_eq!(BundlePath::parse(&path), value, "{path}");
            kinds.insert(value.kind());
        }
        assert_eq!(
            kinds.len(),
            14,
            "every kind but unknown is covered: {kinds:?}"
        );
    }

    #[test]
    fn unknown_paths_are_unknown() {
        for path in [
            "cluster/a/b/c/d.ndjson",
            "cluster/core/v1/pods.json",
            "logs/a/b/c.txt",
            "logs/a/b/c/d.log",
            "nodes/n1/other.json",
            "nodes/n1/logs/x.txt",
            "host/files",
            "host/other.ndjson",
            "readme.txt",
        ] {
            assert_eq!(BundlePath::parse(path), BundlePath::Unknown, "{path}");
            assert_eq!(BundlePath::Unknown.to_path(), None);
        }
    }
}
