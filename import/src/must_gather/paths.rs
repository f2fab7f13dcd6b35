//! Where `oc adm must-gather` (through `oc adm inspect`) puts things, relative to the
//! gathering image's directory (`must-gather.local.<n>/<image>/`, whichever of those wrapping
//! directories the source still has).

use crate::LogRef;
use crate::cluster_info::names::is_object_name;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry<'a> {
    /// `timestamp`: when gathering started and ended, one Go time per line.
    Timestamp,
    /// A YAML file of objects (one, or a List).
    Objects {
        namespace: Option<&'a str>,
        /// The API group's directory name, `core` for the core group.
        group: &'a str,
        resource: &'a str,
    },
    /// A container log; `insecure` when oc fetched it skipping the kubelet's TLS check.
    Log { log: LogRef, insecure: bool },
    /// Anything else (`event-filter.html`, node logs, rotated logs, ...).
    Other,
}

/// The two top-level directories of inspected data.
const ROOTS: [&str; 2] = ["cluster-scoped-resources", "namespaces"];

/// How many wrapping directories may stand before the data.
const MAX_WRAPPERS: usize = 2;

/// The path with its wrapping directories removed, when it is inside inspected data.
fn data_path(path: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = path.split('/').collect();
    let root = parts
        .iter()
        .take(MAX_WRAPPERS + 1)
        .position(|p| ROOTS.contains(p))?;
    Some(parts[root..].to_vec())
}

/// Whether the paths of a source look like must-gather: some YAML under one of its two roots.
pub(crate) fn looks_like_must_gather(paths: &[String]) -> bool {
    paths.iter().any(|p| {
        p.ends_with(".yaml")
            && data_path(p).is_some_and(|parts| {
                matches!(
                    parts.as_slice(),
                    ["cluster-scoped-resources", _, ..] | ["namespaces", _, _, ..]
                )
            })
    })
}

pub(crate) fn classify(path: &str) -> Entry<'_> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.last() == Some(&"timestamp") && parts.len() <= MAX_WRAPPERS + 1 {
        return Entry::Timestamp;
    }
    let Some(parts) = data_path(path) else {
        return Entry::Other;
    };

    let objects = |namespace, group, resource| Entry::Objects {
        namespace,
        group,
        resource,
    };
    match parts.as_slice() {
        ["cluster-scoped-resources", group, file] if yaml(file).is_some() => {
            objects(None, group, yaml(file).unwrap_or_default())
        }
        ["cluster-scoped-resources", group, resource, file] if yaml(file).is_some() => {
            objects(None, group, resource)
        }
        ["namespaces", ns, file] if yaml(file) == Some(ns) => objects(None, "core", "namespaces"),
        ["namespaces", ns, "pods", pod, file] if yaml(file) == Some(pod) => {
            objects(Some(ns), "core", "pods")
        }
        ["namespaces", ns, "pods", pod, container, same, "logs", file] if container == same => {
            log_entry(ns, pod, container, file)
        }
        ["namespaces", ns, "pods", pod, container, "logs", file] => {
            log_entry(ns, pod, container, file)
        }
        ["namespaces", _, "pods", ..] => Entry::Other,
        ["namespaces", ns, group, file] if yaml(file).is_some() => {
            objects(Some(ns), group, yaml(file).unwrap_or_default())
        }
        ["namespaces", ns, group, resource, file] if yaml(file).is_some() => {
            objects(Some(ns), group, resource)
        }
        _ => Entry::Other,
    }
}

/// The name a YAML file's name stands for (`pods.yaml` → `pods`).
fn yaml(file: &str) -> Option<&str> {
    file.strip_suffix(".yaml").filter(|s| is_object_name(s))
}

fn log_entry<'a>(namespace: &str, pod: &str, container: &str, file: &str) -> Entry<'a> {
    let (previous, insecure) = match file {
        "current.log" => (false, false),
        "previous.log" => (true, false),
        "current.insecure.log" => (false, true),
        "previous.insecure.log" => (true, true),
        _ => return Entry::Other,
    };
    if ![namespace, pod, container].into_iter().all(is_object_name) {
        return Entry::Other;
    }
    Entry::Log {
        log: LogRef {
            namespace: namespace.into(),
            pod: pod.into(),
            container: container.into(),
            previous,
        },
        insecure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let mg = "must-gather.local.42/quay-io-openshift-must-gather-sha256-ab12";
        assert_eq!(classify(&format!("{mg}/timestamp")), Entry::Timestamp);
        assert_eq!(classify("must-gather.local.42/timestamp"), Entry::Timestamp);
        assert_eq!(
            classify(&format!("{mg}/cluster-scoped-resources/core/nodes/n1.yaml")),
            Entry::Objects {
                namespace: None,
                group: "core",
                resource: "nodes"
            }
        );
        assert_eq!(
            classify("img/cluster-scoped-resources/config.openshift.io/clusterversions.yaml"),
            Entry::Objects {
                namespace: None,
                group: "config.openshift.io",
                resource: "clusterversions"
            }
        );
        assert_eq!(
            classify("namespaces/ns1/ns1.yaml"),
            Entry::Objects {
                namespace: None,
                group: "core",
                resource: "namespaces"
            }
        );
        assert_eq!(
            classify("namespaces/ns1/apps/deployments.yaml"),
            Entry::Objects {
                namespace: Some("ns1"),
                group: "apps",
                resource: "deployments"
            }
        );
        assert_eq!(
            classify("namespaces/ns1/pods/p1/p1.yaml"),
            Entry::Objects {
                namespace: Some("ns1"),
                group: "core",
                resource: "pods"
            }
        );
        let Entry::Log { log, insecure } =
            classify("namespaces/ns1/pods/p1/c1/c1/logs/previous.insecure.log")
        else {
            panic!("a log");
        };
        assert!(log.previous && insecure && log.container == "c1");
        for other in [
            "namespaces/ns1/pods/p1/c1/c1/logs/rotated/0.log.2024",
            "namespaces/ns1/pods/p1/c1/c2/logs/current.log",
            "event-filter.html",
            "a/b/c/namespaces/ns1/apps/deployments.yaml",
            "host_service_logs/masters/kubelet_service.log",
        ] {
            assert_eq!(classify(other), Entry::Other, "{other}");
        }
    }
}
