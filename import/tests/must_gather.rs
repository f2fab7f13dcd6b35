//! OpenShift must-gather, from the fixture in `tests/foreign/must-gather`, and hostile input.

mod common;

use chrono::{TimeZone, Utc};
use common::{convert_files, convert_tree, foreign, one_line, probe_tree};
use ktriage_import::cluster_info::CLUSTER_INFO_DUMP;
use ktriage_import::must_gather::MUST_GATHER;
use ktriage_import::{Format, Probe};
use ktriage_schema::manifest::{GapKind, GapReason};

#[test]
fn must_gather_converts() {
    let got = convert_tree(&MUST_GATHER, &foreign("must-gather")).expect("converts");
    // The pod both in core/pods.yaml and in pods/<pod>/<pod>.yaml is there once.
    assert_eq!(
        got.object_names(),
        [
            "ClusterOperator kube-apiserver",
            "Event openshift-etcd/etcd-master-0.17b0c1d2e3f40001",
            "Namespace openshift-etcd",
            "Namespace openshift-monitoring",
            "Node master-0",
            "Pod openshift-etcd/etcd-master-0",
            "Pod openshift-monitoring/prometheus-k8s-0",
            "Route openshift-monitoring/prometheus-k8s",
            "StorageClass gp2-csi",
            "StorageClass gp3-csi",
        ]
    );
    // The first copy wins: the List's, whose item got its kind from `kind: PodList`.
    let (etcd, resource) = got.object("Pod", "etcd-master-0");
    assert_eq!(etcd["apiVersion"], "v1");
    assert_eq!(etcd["status"]["containerStatuses"][0]["restartCount"], 1);
    assert_eq!(resource.as_deref(), Some("pods"));
    assert_eq!(
        got.object("Route", "prometheus-k8s").1.as_deref(),
        Some("routes")
    );
    assert_eq!(
        got.object("StorageClass", "gp3-csi").0["apiVersion"],
        "storage.k8s.io/v1"
    );

    assert_eq!(
        got.log_names(),
        [
            "openshift-etcd/etcd-master-0/etcd",
            "openshift-etcd/etcd-master-0/etcd previous",
            "openshift-monitoring/prometheus-k8s-0/config-reloader",
            "openshift-monitoring/prometheus-k8s-0/prometheus",
            "openshift-monitoring/prometheus-k8s-0/prometheus previous",
        ]
    );
    assert!(
        got.log("openshift-etcd/etcd-master-0/etcd previous")
            .contains("shutting down")
    );
    // current.log was empty, current.insecure.log has the log: the log is the latter.
    assert!(
        got.log("openshift-monitoring/prometheus-k8s-0/prometheus")
            .contains("2026-01-15T11:52:03")
    );
    // An empty current.log is an empty log; an empty previous.log is no log (oc leaves one
    // for every container that never restarted).
    assert_eq!(
        got.log("openshift-monitoring/prometheus-k8s-0/config-reloader"),
        ""
    );

    assert_eq!(
        got.versions,
        [serde_json::json!({"gitVersion": "v1.28.6", "major": "1", "minor": "28"})]
    );
    let start = Utc
        .with_ymd_and_hms(2026, 1, 15, 11, 58, 2)
        .single()
        .expect("time");
    let end = Utc
        .with_ymd_and_hms(2026, 1, 15, 11, 59, 41)
        .single()
        .expect("time");
    let (started, finished) = got.collected.expect("collection time");
    assert_eq!(started.timestamp(), start.timestamp());
    assert_eq!(finished.timestamp(), end.timestamp());
    assert_eq!(
        got.gap_whats(),
        [
            GapKind::Configz,
            GapKind::Discovery,
            GapKind::Fact,
            GapKind::NodeLog,
            GapKind::Resource
        ]
    );
    assert!(got.gaps.iter().all(|g| g.reason == GapReason::SourceFormat));
}

#[test]
fn detection_by_layout() {
    let probe = probe_tree(&foreign("must-gather"));
    assert!(MUST_GATHER.detect(&probe));
    assert!(!CLUSTER_INFO_DUMP.detect(&probe));
    let unwrapped = Probe {
        paths: vec!["namespaces/ns/core/pods.yaml".into()],
        head: None,
    };
    assert!(MUST_GATHER.detect(&unwrapped));
    let elsewhere = Probe {
        paths: vec!["a/b/c/namespaces/ns/core/pods.yaml".into(), "x.yaml".into()],
        head: None,
    };
    assert!(!MUST_GATHER.detect(&elsewhere));
}

#[test]
fn no_version_without_the_kube_apiserver_operator() {
    let got = convert_files(
        &MUST_GATHER,
        &[(
            "cluster-scoped-resources/core/nodes/n.yaml",
            b"apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n",
        )],
    )
    .expect("converts");
    assert!(got.versions.is_empty());
    assert!(got.collected.is_none());
    assert!(got.gap_whats().contains(&GapKind::Version));
}

#[test]
fn multi_document_yaml_and_generic_list_items_need_their_kind() {
    let two = b"---\napiVersion: v1\nkind: Node\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: b\n";
    let got = convert_files(
        &MUST_GATHER,
        &[("cluster-scoped-resources/core/nodes.yaml", two)],
    )
    .expect("converts");
    assert_eq!(got.object_names(), ["Node a", "Node b"]);
    let err = convert_files(
        &MUST_GATHER,
        &[(
            "cluster-scoped-resources/core/nodes.yaml",
            b"kind: List\nitems:\n- metadata:\n    name: a\n",
        )],
    )
    .expect_err("no kind");
    let text = one_line(err);
    assert!(
        text.starts_with("cluster-scoped-resources/core/nodes.yaml: an object without a kind"),
        "{text}"
    );
}

fn hostile(path: &str, content: &[u8]) -> String {
    let started = std::time::Instant::now();
    let err = convert_files(&MUST_GATHER, &[(path, content)]).expect_err("refused");
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    let text = one_line(err);
    assert!(
        text.starts_with(&format!("{path}: ")),
        "names the file: {text}"
    );
    text
}

#[test]
fn billion_laughs_is_refused_quickly() {
    // Nine levels of nine aliases: 387 million strings if expanded.
    let mut yaml = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for level in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
        let refs = vec![format!("*{prev}"); 9].join(",");
        yaml.push_str(&format!("{level}: &{level} [{refs}]\n"));
        prev = level;
    }
    let text = hostile("namespaces/ns/core/configmaps/lol.yaml", yaml.as_bytes());
    assert!(text.contains("repetition limit exceeded"), "{text}");
}

#[test]
fn deep_nesting_is_refused() {
    // Deeper than the parser's own limit, refused by it.
    let yaml = "[a, ".repeat(1_000);
    let text = hostile("namespaces/ns/core/configmaps.yaml", yaml.as_bytes());
    assert!(text.contains("not YAML: recursion limit"), "{text}");
    // Deep enough to be slow to parse: refused before parsing.
    let yaml = "[a, ".repeat(10_001);
    let text = hostile("namespaces/ns/core/configmaps.yaml", yaml.as_bytes());
    assert!(text.contains("nested deeper than 10000"), "{text}");
}

#[test]
fn truncated_and_non_utf8_yaml_are_refused() {
    let text = hostile(
        "namespaces/ns/core/pods.yaml",
        b"apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: \"p",
    );
    assert!(text.contains("not YAML"), "{text}");
    let text = hostile(
        "namespaces/ns/core/pods.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \xff\xfe\n",
    );
    assert!(text.contains("not UTF-8"), "{text}");
    let text = hostile("namespaces/ns/core/pods.yaml", b"- 1\n- 2\n");
    assert!(text.contains("not a Kubernetes object"), "{text}");
}

#[test]
fn a_bad_timestamp_is_refused() {
    let text = hostile("timestamp", b"yesterday \x1b[2J\n");
    assert!(text.contains("not a time"), "{text}");
}
