//! `kubectl cluster-info dump`: the directory form and the single stream, from the fixtures
//! in `tests/foreign/cluster-info`, and hostile input.

mod common;

use common::{Recorded, convert_files, convert_tree, foreign, one_line, probe_file, probe_tree};
use ktriage_import::cluster_info::CLUSTER_INFO_DUMP;
use ktriage_import::must_gather::MUST_GATHER;
use ktriage_import::{FORMATS, Format, Probe};
use ktriage_schema::manifest::{GapKind, GapReason};

fn dump_stream() -> Recorded {
    let path = foreign("cluster-info/stream.txt");
    let mut file = std::fs::File::open(&path).expect("open stream");
    let mut converter = CLUSTER_INFO_DUMP.converter();
    let mut sink = Recorded::default();
    converter
        .file("stream.txt", &mut file, &mut sink)
        .expect("stream converts");
    converter.finish(&mut sink).expect("finish");
    sink
}

const EXPECTED_OBJECTS: &[&str] = &[
    "DaemonSet kube-system/kube-proxy",
    "Deployment default/web",
    "Deployment kube-system/coredns",
    "Event default/web-7c9f8d6b5-q2w4e.17a1b2c3d4e5f601",
    "Node node-1",
    "Pod default/web-7c9f8d6b5-q2w4e",
    "Pod kube-system/coredns-5d78c9869d-7xk2p",
    "ReplicaSet default/web-7c9f8d6b5",
    "ReplicaSet kube-system/coredns-5d78c9869d",
    "Service kube-system/kube-dns",
];

const EXPECTED_LOGS: &[&str] = &[
    "default/web-7c9f8d6b5-q2w4e/app",
    "default/web-7c9f8d6b5-q2w4e/migrate",
    "kube-system/coredns-5d78c9869d-7xk2p/coredns",
];

fn check_dump(got: &Recorded) {
    assert_eq!(got.object_names(), EXPECTED_OBJECTS);
    // kubectl prints typed Lists: the items get their kind and apiVersion from the List.
    let (deploy, resource) = got.object("Deployment", "web");
    assert_eq!(deploy["apiVersion"], "apps/v1");
    assert_eq!(resource.as_deref(), Some("deployments"));
    let (pod, resource) = got.object("Pod", "web-7c9f8d6b5-q2w4e");
    assert_eq!(pod["apiVersion"], "v1");
    assert_eq!(resource.as_deref(), Some("pods"));
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    assert_eq!(got.log_names(), EXPECTED_LOGS);
    assert!(got.logs.iter().all(|(l, _)| !l.previous));
    assert_eq!(
        got.log("default/web-7c9f8d6b5-q2w4e/migrate"),
        "applying migration 0042_add_index\nmigrations complete\n"
    );
    // The last line had no newline: the END marker followed it on the same line.
    assert_eq!(
        got.log("default/web-7c9f8d6b5-q2w4e/app"),
        "starting web 1.4.2\nloading config from /etc/web/config.yaml\n\
         panic: dial tcp 10.96.44.12:5432: connect: connection refused"
    );
    assert!(got.versions.is_empty(), "a dump has no server version");
    assert!(got.collected.is_none());
    assert_eq!(
        got.gap_whats(),
        [
            GapKind::Configz,
            GapKind::Discovery,
            GapKind::Fact,
            GapKind::Logs,
            GapKind::NodeLog,
            GapKind::Resource,
            GapKind::Version
        ]
    );
    assert!(got.gaps.iter().all(|g| g.reason == GapReason::SourceFormat));
    // Rules that treat a gap on pods as "pods unknown" must not stay quiet on a dump.
    assert!(got.gaps.iter().all(|g| !g.location.contains("pods")));
}

#[test]
fn directory_form_converts() {
    let got = convert_tree(&CLUSTER_INFO_DUMP, &foreign("cluster-info/dir")).expect("converts");
    check_dump(&got);
}

#[test]
fn single_stream_converts_to_the_same_as_the_directory() {
    let stream = dump_stream();
    check_dump(&stream);
    let dir = convert_tree(&CLUSTER_INFO_DUMP, &foreign("cluster-info/dir")).expect("converts");
    let sorted = |r: &Recorded| {
        let mut objects: Vec<String> = r.objects.iter().map(|(o, _)| o.to_string()).collect();
        objects.sort();
        objects
    };
    assert_eq!(sorted(&stream), sorted(&dir));
}

#[test]
fn detection_by_layout_and_by_first_bytes() {
    let dir = probe_tree(&foreign("cluster-info/dir"));
    assert!(CLUSTER_INFO_DUMP.detect(&dir));
    assert!(!MUST_GATHER.detect(&dir));
    let stream = probe_file(&foreign("cluster-info/stream.txt"));
    assert!(CLUSTER_INFO_DUMP.detect(&stream));
    assert!(!MUST_GATHER.detect(&stream));
    let first = |p: &Probe| FORMATS.iter().find(|f| f.detect(p)).map(|f| f.name());
    assert_eq!(first(&dir), Some("cluster-info-dump"));
    assert_eq!(first(&stream), Some("cluster-info-dump"));
    // A JSON file that is not a NodeList, and a tree without nodes.json, are not dumps.
    let pods = Probe {
        paths: vec!["x.json".into()],
        head: Some(br#"{"kind": "PodList", "items": []}"#.to_vec()),
    };
    assert!(!CLUSTER_INFO_DUMP.detect(&pods));
    let no_nodes = Probe {
        paths: vec!["default/pods.json".into()],
        head: None,
    };
    assert!(!CLUSTER_INFO_DUMP.detect(&no_nodes));
}

#[test]
fn yaml_directory_form_converts() {
    let nodes = b"apiVersion: v1\nitems:\n- metadata:\n    name: node-1\nkind: NodeList\n";
    let pods =
        b"apiVersion: v1\nitems:\n- metadata:\n    name: p\n    namespace: ns\nkind: PodList\n";
    let got = convert_files(
        &CLUSTER_INFO_DUMP,
        &[("nodes.yaml", nodes), ("ns/pods.yaml", pods)],
    )
    .expect("converts");
    assert_eq!(got.object_names(), ["Node node-1", "Pod ns/p"]);
    assert_eq!(got.object("Pod", "p").0["apiVersion"], "v1");
}

#[test]
fn unfetched_log_is_a_gap_and_other_files_are_ignored() {
    let logs = b"==== START logs for container c of pod ns/p ====\n\
Request log error: the server could not find the requested resource\n\
==== END logs for container c of pod ns/p ====\n\
==== START logs for container d of pod ns/p ====\n\
==== END logs for container d of pod ns/p ====\n";
    let per_container = b"==== START logs for container e of pod ns/p ====\nhello\n\
==== END logs for container e of pod ns/p ====\n";
    let got = convert_files(
        &CLUSTER_INFO_DUMP,
        &[
            ("ns/p/logs.txt", logs),
            ("ns/p/e/logs.txt", per_container),
            ("ns/README.md", b"# notes\n"),
        ],
    )
    .expect("converts");
    assert_eq!(
        got.log_names(),
        ["ns/p/d", "ns/p/e"],
        "an empty log is still a log"
    );
    assert_eq!(got.log("ns/p/e"), "hello\n");
    assert_eq!(got.log("ns/p/d"), "");
    let gap = got
        .gaps
        .iter()
        .find(|g| g.location == "ns/p/c")
        .expect("gap for the unfetched log");
    assert_eq!(gap.what, GapKind::Logs);
    assert!(gap.detail.contains("could not find"), "{}", gap.detail);
}

#[test]
fn long_log_streams_through_intact() {
    let line = "x".repeat(1000) + "\n";
    let body = line.repeat(5000);
    let text = format!(
        "==== START logs for container c of pod ns/p ====\n{body}==== END logs for container c of pod ns/p ====\n{}",
        r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"q","namespace":"ns"}}]}"#
    );
    let got =
        convert_files(&CLUSTER_INFO_DUMP, &[("dump.txt", text.as_bytes())]).expect("converts");
    assert_eq!(got.log("ns/p/c").len(), body.len());
    assert_eq!(got.object_names(), ["Pod ns/q"]);
}

fn hostile(path: &str, content: &[u8]) -> String {
    let err = convert_files(&CLUSTER_INFO_DUMP, &[(path, content)]).expect_err("refused");
    let text = one_line(err);
    assert!(
        text.starts_with(&format!("{path}: ")),
        "names the file: {text}"
    );
    text
}

#[test]
fn truncated_json_is_refused() {
    let full = std::fs::read(foreign("cluster-info/stream.txt")).expect("read");
    let text = hostile("dump.txt", &full[..full.len() / 3]);
    assert!(text.contains("not JSON"), "{text}");
    let text = hostile(
        "default/pods.json",
        br#"{"kind":"PodList","items":[{"metadata":"#,
    );
    assert!(text.contains("not JSON"), "{text}");
}

#[test]
fn start_without_end_is_refused() {
    let text = hostile(
        "ns/p/logs.txt",
        b"==== START logs for container c of pod ns/p ====\nsome log\nmore log\n",
    );
    assert!(text.contains("has no END line"), "{text}");
    // An END of another container does not close the block either.
    let text = hostile(
        "dump.txt",
        b"==== START logs for container c of pod ns/p ====\nlog\n==== END logs for container d of pod ns/p ====\n",
    );
    assert!(text.contains("has no END line"), "{text}");
}

#[test]
fn traversal_and_control_characters_in_a_log_header_are_refused() {
    for header in [
        "==== START logs for container ../../etc of pod ns/p ====\n",
        "==== START logs for container c of pod ../x/p ====\n",
        "==== START logs for container c of pod ns/p/../../q ====\n",
        "==== START logs for container c\u{1b}[2J of pod ns/p ====\n",
    ] {
        let content = format!("{header}x\n{}", header.replace("START", "END"));
        let text = hostile("dump.txt", content.as_bytes());
        assert!(text.contains("invalid container or pod"), "{text}");
    }
}

#[test]
fn a_pods_log_file_holding_another_pods_log_is_refused() {
    let text = hostile(
        "ns/p/logs.txt",
        b"==== START logs for container c of pod other/q ====\nx\n==== END logs for container c of pod other/q ====\n",
    );
    assert!(text.contains("not of ns/p"), "{text}");
}

#[test]
fn garbage_and_non_utf8_are_refused() {
    let text = hostile("dump.txt", b"\x1b[31mhello\n");
    assert!(text.contains("expected a JSON list"), "{text}");
    let text = hostile(
        "dump.txt",
        b"==== START logs for container \xff of pod ns/p ====\n",
    );
    assert!(text.contains("expected a JSON list"), "{text}");
    let text = hostile(
        "nodes.json",
        b"{\"kind\":\"NodeList\",\"items\":[{\"metadata\":{\"name\":\"\xff\"}}]}",
    );
    assert!(text.contains("not JSON"), "{text}");
    // Items that are not objects are refused, not passed on.
    let text = hostile("nodes.json", br#"{"kind":"NodeList","items":[42]}"#);
    assert!(text.contains("item 1"), "{text}");
}

#[test]
fn log_bodies_are_bytes_and_pass_as_they_are() {
    let text = b"==== START logs for container c of pod ns/p ====\n\xff\xfe binary \x1b[0m\n==== END logs for container c of pod ns/p ====\n";
    let got = convert_files(&CLUSTER_INFO_DUMP, &[("dump.txt", text)]).expect("converts");
    assert_eq!(got.logs[0].1, b"\xff\xfe binary \x1b[0m\n");
}
