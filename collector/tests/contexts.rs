//! Several contexts in one run: one bundle per cluster, each naming its context.

use std::time::Duration;

use ktriage_collect::cluster::summary::Status;
use ktriage_schema::manifest::Source;
use ktriage_serve::faults::FaultPlan;

use crate::common::{Fixture, open_bundle, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_contexts_give_one_bundle_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("fixture.tar.zst");
    Fixture::standard(2).write(&bundle);
    let a = serve(&bundle, FaultPlan::new()).await;
    let b = serve(&bundle, FaultPlan::new()).await;
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: karmada\nclusters:\n- name: a\n  cluster: {{server: '{}'}}\n- name: b\n  cluster: {{server: '{}'}}\ncontexts:\n- name: karmada\n  context: {{cluster: a, user: u}}\n- name: member/1\n  context: {{cluster: b, user: u}}\nusers:\n- name: u\n  user: {{}}\n",
            a.url, b.url
        ),
    )
    .expect("kubeconfig");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    let args = [
        "ktriage-collect",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf8"),
        "--all-contexts",
        "-o",
        out.to_str().expect("utf8"),
        "-q",
    ];
    let cli = <ktriage_collect::cli::Cli as clap::Parser>::try_parse_from(args).expect("parses");
    let run = ktriage_collect::cluster::run::run(
        &cli.cluster,
        Default::default(),
        std::sync::Arc::new(ktriage_collect::progress::Ui::hidden()),
    );
    let outcome = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("in time")
        .expect("runs");
    assert_eq!(outcome.status(), Status::Complete);
    assert_eq!(outcome.clusters.len(), 2);
    let mut contexts = Vec::new();
    for c in &outcome.clusters {
        let collected = c.result.as_ref().expect("collected");
        assert!(collected.path.starts_with(&out));
        let name = collected
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        assert!(
            name.starts_with("ktriage-") && name.ends_with(".tar.zst"),
            "{name}"
        );
        let opened = open_bundle(&collected.path);
        let Source::Cluster(source) = &opened.manifest().source else {
            panic!("cluster")
        };
        contexts.push(source.context.clone());
    }
    assert_eq!(contexts, vec!["karmada", "member/1"]);
    let bundle_ids: Vec<_> = outcome
        .clusters
        .iter()
        .map(|c| {
            c.result
                .as_ref()
                .map(|r| r.manifest.bundle_id.clone())
                .unwrap_or_default()
        })
        .collect();
    assert_ne!(bundle_ids[0], bundle_ids[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_cluster_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let kubeconfig = dir.path().join("kubeconfig");
    ktriage_serve::write_kubeconfig(&kubeconfig, &format!("http://127.0.0.1:{port}"))
        .expect("kubeconfig");
    let out = dir.path().join("x.tar.zst");
    let args = [
        "ktriage-collect",
        "--kubeconfig",
        kubeconfig.to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
        "--request-timeout",
        "2s",
        "-q",
    ];
    let cli = <ktriage_collect::cli::Cli as clap::Parser>::try_parse_from(args).expect("parses");
    let run = ktriage_collect::cluster::run::run(
        &cli.cluster,
        Default::default(),
        std::sync::Arc::new(ktriage_collect::progress::Ui::hidden()),
    );
    let outcome = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("in time")
        .expect("runs");
    assert_eq!(outcome.status(), Status::Failed);
    let err = outcome.clusters[0]
        .result
        .as_ref()
        .expect_err("unreachable");
    let text = format!("{err:#}");
    assert!(
        text.contains("cannot reach the API server") && text.contains(&port.to_string()),
        "{text}"
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
}
