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
    let rest = path.strip_prefix(CLUSTER_DIR)?.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let (group, version, file) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let resource = file.strip_suffix(NDJSON_EXT)?;
    let group = if group == CORE_GROUP_DIR { "" } else { group };
    Some((group.to_string(), version.to_string(), resource.to_string()))
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
    let rest = path.strip_prefix(LOGS_DIR)?.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let (namespace, pod, file) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (container, previous) = match file.strip_suffix(PREVIOUS_LOG_SUFFIX) {
        Some(c) => (c, true),
        None => (file.strip_suffix(LOG_SUFFIX)?, false),
    };
    Some(ContainerLogRef {
        namespace: namespace.into(),
        pod: pod.into(),
        container: container.into(),
        previous,
    })
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
}
