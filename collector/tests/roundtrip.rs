//! Collecting from a served bundle gives back the same objects and logs, apart from
//! redaction and the fields the collector strips.

use std::time::Duration;

use ktriage_collect::cluster::list::clean;
use ktriage_collect::cluster::summary::Status;
use ktriage_collect::redact::{RedactConfig, Redactor};
use ktriage_schema::layout;
use ktriage_schema::manifest::Source;
use ktriage_serve::faults::FaultPlan;

use crate::common::{Fixture, key, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_gives_back_objects_and_logs() {
    let fixture = Fixture::standard(40);
    let s = setup(&fixture, FaultPlan::new()).await;
    // Small pages so every list of more than 7 objects is paginated.
    let outcome = s
        .collect(&["--chunk-size", "7"], Duration::from_secs(60))
        .await;
    let collected = outcome.clusters[0].result.as_ref().expect("collected");
    assert_eq!(
        outcome.status(),
        Status::Complete,
        "gaps: {:?}",
        collected.manifest.gaps
    );
    let c = s.open_output();
    let m = c.manifest();
    assert!(!m.partial);
    assert!(m.gaps.is_empty(), "{:?}", m.gaps);
    assert_eq!(m.producer, "ktriage-collect");
    assert!(m.redaction.enabled);
    let Source::Cluster(source) = &m.source else {
        panic!("cluster source expected")
    };
    assert_eq!(source.server_version, "v1.31.4");
    assert_eq!(source.cluster_id, "cluster-uid-kube-system");
    assert_eq!(source.context, ktriage_serve::CONTEXT);
    assert_eq!(source.server, s.server.url);

    let redactor = Redactor::new(&RedactConfig::default()).expect("redactor");
    for ((group, version, resource), objects) in &fixture.objects {
        let got = c
            .objects(group, version, resource)
            .unwrap_or_else(|| panic!("{group}/{version}/{resource} collected"));
        assert_eq!(got.len(), objects.len(), "{resource}: count");
        for object in objects {
            let mut expected = object.clone();
            let api_version = expected["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let kind = expected["kind"].as_str().unwrap_or_default().to_string();
            clean(&mut expected, &api_version, &kind);
            redactor.redact_json(&mut expected);
            let k = key(object);
            assert_eq!(got.get(&k), Some(&expected), "{resource} {k}");
        }
    }
    assert!(
        m.redaction.counts["secret-data"] >= 3,
        "{:?}",
        m.redaction.counts
    );
    assert!(
        m.redaction.counts["env-credential"] >= 40,
        "{:?}",
        m.redaction.counts
    );

    let mut logs = 0;
    for (path, data) in &fixture.files {
        if !path.starts_with(layout::LOGS_DIR) && !path.starts_with(layout::NODES_DIR) {
            continue;
        }
        let got = c.file(path).unwrap_or_else(|| panic!("{path} collected"));
        let expected: Vec<u8> = if path.ends_with(".json") {
            let mut v: serde_json::Value = serde_json::from_slice(data).expect("json");
            redactor.redact_json(&mut v);
            serde_json::to_vec_pretty(&v).expect("json")
        } else {
            redactor.redact_bytes(data).into_owned()
        };
        assert_eq!(got, expected, "{path}");
        logs += 1;
    }
    assert!(logs > 80, "{logs} logs compared");
    // Bytes that are not UTF-8 survive.
    let previous = c
        .file(&layout::container_log_path("app", "web-000", "web", true))
        .expect("previous log");
    assert!(previous.windows(4).any(|w| w == b"\xff\xfe t"));
    // The recorded discovery and version can be replayed by `ktriage serve`.
    let replay = ktriage_serve::ServeState::new(std::slice::from_ref(&c.bundle))
        .expect("collected bundle serves");
    assert!(replay.object_count() > 40);
    let discovery: ktriage_schema::discovery::Discovery =
        serde_json::from_slice(&c.file(layout::DISCOVERY).expect("discovery"))
            .expect("discovery parses");
    assert!(discovery.find_kind("example.com/v1", "Widget").is_some());
    assert!(discovery.find_kind("apps/v1", "Deployment").is_some());
    assert_eq!(
        collected.objects as usize,
        fixture.objects.values().map(Vec::len).sum::<usize>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_resources_and_logs_are_filtered() {
    let fixture = Fixture::standard(5);
    let s = setup(&fixture, FaultPlan::new()).await;
    let outcome = s
        .collect(
            &[
                "-n",
                "app",
                "--exclude-resources",
                "events,deploy",
                "--no-logs",
            ],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(outcome.status(), Status::Complete);
    let c = s.open_output();
    let pods = c.objects("", "v1", "pods").expect("pods");
    assert!(
        pods.keys().all(|k| k.starts_with("app/")),
        "{:?}",
        pods.keys()
    );
    assert_eq!(pods.len(), 5);
    assert!(c.objects("", "v1", "events").is_none());
    assert!(c.objects("apps", "v1", "deployments").is_none());
    // Cluster-scoped resources are collected whatever -n says.
    assert_eq!(c.objects("", "v1", "nodes").expect("nodes").len(), 2);
    assert!(
        !c.manifest()
            .entries
            .iter()
            .any(|e| e.path.starts_with(layout::LOGS_DIR))
    );
    assert!(c.file(&layout::node_configz_path("node-1")).is_some());

    let outcome = s
        .collect(
            &["--exclude-namespace", "restricted", "--resources", "pods"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(outcome.status(), Status::Complete);
    let c = s.open_output();
    let pods = c.objects("", "v1", "pods").expect("pods");
    assert!(!pods.contains_key("restricted/locked"));
    assert!(
        c.file(&layout::container_log_path(
            "restricted",
            "locked",
            "web",
            false
        ))
        .is_none()
    );
    assert!(
        c.file(&layout::container_log_path("app", "web-001", "web", false))
            .is_some()
    );
}
