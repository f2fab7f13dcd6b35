//! The resources `kubectl cluster-info dump` writes, and the file names it gives them.

/// `(file stem, apiVersion, kind, resource)`. `replication-controllers` is kubectl's own
/// spelling of the file name; `replicationcontrollers` is accepted too.
const DUMPED: &[(&str, &str, &str, &str)] = &[
    ("nodes", "v1", "Node", "nodes"),
    ("events", "v1", "Event", "events"),
    (
        "replication-controllers",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
    ),
    (
        "replicationcontrollers",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
    ),
    ("services", "v1", "Service", "services"),
    ("daemonsets", "apps/v1", "DaemonSet", "daemonsets"),
    ("deployments", "apps/v1", "Deployment", "deployments"),
    ("replicasets", "apps/v1", "ReplicaSet", "replicasets"),
    ("pods", "v1", "Pod", "pods"),
];

/// `(apiVersion, kind, resource)` of the List in the file named `stem` (`pods`, `nodes`, ...).
pub(crate) fn by_file_stem(stem: &str) -> Option<(&'static str, &'static str, &'static str)> {
    DUMPED
        .iter()
        .find(|(s, ..)| *s == stem)
        .map(|&(_, version, kind, resource)| (version, kind, resource))
}

/// The plural resource name of a kind the dump writes.
pub(crate) fn plural_of(kind: &str) -> Option<&'static str> {
    DUMPED
        .iter()
        .find(|(_, _, k, _)| *k == kind)
        .map(|&(.., resource)| resource)
}
