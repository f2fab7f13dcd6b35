//! Faults injected by `ktriage serve`'s fault layer: the bundle stays valid (the safe reader
//! opens it), every failure is a recorded gap, the rest is collected, and the deadline holds.

use std::time::{Duration, Instant};

use ktriage_collect::cluster::summary::Status;
use ktriage_schema::layout;
use ktriage_schema::manifest::{GapKind, GapReason};
use ktriage_serve::faults::{Fault, FaultPlan, FaultRule};

use crate::common::{Fixture, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_kinds_and_namespaces_become_gaps() {
    let fixture = Fixture::standard(4);
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::Status(403)).resource("secrets"))
        .rule(FaultRule::new(Fault::Status(403)).namespace("restricted"));
    let s = setup(&fixture, plan).await;
    let outcome = s
        .collect(&["-n", "app", "-n", "restricted"], Duration::from_secs(60))
        .await;
    assert_eq!(outcome.status(), Status::ApiGaps);
    let c = s.open_output();
    let secret_gaps = c.gaps(GapKind::Resource, "core/v1/secrets");
    assert_eq!(secret_gaps.len(), 2, "one per namespace: {secret_gaps:?}");
    assert!(secret_gaps.iter().all(|g| g.reason == GapReason::Forbidden));
    assert!(
        c.objects("", "v1", "secrets").is_none(),
        "nothing listed, no file"
    );
    let restricted = c.gaps(GapKind::Resource, "(namespace restricted)");
    assert!(restricted.len() >= 5, "{restricted:?}");
    assert!(restricted.iter().all(|g| g.reason == GapReason::Forbidden));
    // The allowed namespace is complete.
    let pods = c.objects("", "v1", "pods").expect("pods");
    assert_eq!(pods.len(), 4);
    assert!(pods.keys().all(|k| k.starts_with("app/")));
    assert!(
        c.objects("", "v1", "configmaps")
            .expect("configmaps")
            .contains_key("app/app-config")
    );
    assert!(!c.manifest().partial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_resets_and_broken_groups_become_gaps() {
    let fixture = Fixture::standard(4);
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::Status(500)).resource("deployments.apps"))
        .rule(FaultRule::new(Fault::Reset).resource("configmaps"))
        .rule(FaultRule::new(Fault::Status(503)).path_contains("/apis/example.com/v1"))
        .rule(FaultRule::new(Fault::Status(403)).path_contains("/proxy/configz"))
        .rule(FaultRule::new(Fault::Status(404)).path_contains("/proxy/logs"))
        .rule(FaultRule::new(Fault::Status(500)).path_contains("/pods/web-001/log"));
    let s = setup(&fixture, plan).await;
    let outcome = s.collect(&[], Duration::from_secs(60)).await;
    assert_eq!(outcome.status(), Status::ApiGaps);
    let c = s.open_output();
    let deploy = c.gaps(GapKind::Resource, "apps/v1/deployments");
    assert_eq!(deploy.len(), 1);
    assert_eq!(deploy[0].reason, GapReason::Unavailable);
    assert!(deploy[0].detail.contains("500"), "{}", deploy[0].detail);
    let cm = c.gaps(GapKind::Resource, "core/v1/configmaps");
    assert_eq!(cm.len(), 1, "{:?}", c.manifest().gaps);
    assert_eq!(cm[0].reason, GapReason::Unavailable);
    let group = c.gaps(GapKind::Discovery, "example.com/v1");
    assert_eq!(group.len(), 1);
    assert_eq!(group[0].reason, GapReason::Unavailable);
    assert!(c.objects("example.com", "v1", "widgets").is_none());
    assert_eq!(
        c.gaps(GapKind::Configz, "node-1")[0].reason,
        GapReason::Forbidden
    );
    assert_eq!(
        c.gaps(GapKind::NodeLog, "node-2")[0].reason,
        GapReason::NotFound
    );
    assert_eq!(
        c.gaps(GapKind::Logs, "app/web-001/").len(),
        2,
        "current and init logs"
    );
    // Transient failures were retried (three tries), then recorded.
    let fired = s.server.faults.fired();
    assert_eq!(fired[0], 3, "{fired:?}");
    // Everything else is there.
    assert_eq!(c.objects("", "v1", "pods").expect("pods").len(), 5);
    assert!(
        c.file(&layout::container_log_path("app", "web-002", "web", false))
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_continue_token_restarts_the_list() {
    let fixture = Fixture::standard(40);
    let plan = FaultPlan::new().rule(
        FaultRule::new(Fault::ExpireContinue { after_pages: 2 })
            .resource("pods")
            .times(1),
    );
    let s = setup(&fixture, plan).await;
    let outcome = s
        .collect(
            &["--chunk-size", "10", "--no-logs"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(outcome.status(), Status::Complete);
    assert_eq!(s.server.faults.fired(), vec![1]);
    let c = s.open_output();
    let text = String::from_utf8(
        c.file(&layout::resource_path("", "v1", "pods"))
            .expect("pods"),
    )
    .expect("utf8");
    assert_eq!(text.lines().count(), 41, "every pod exactly once");
    let events = c.manifest().options["events"]
        .as_array()
        .expect("events recorded")
        .clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "list-restarted");
    assert_eq!(events[0]["resource"], "core/v1/pods");
    assert_eq!(events[0]["full_relist"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_that_always_expire_fall_back_to_one_full_list() {
    let fixture = Fixture::standard(30);
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::ExpireContinue { after_pages: 1 }).resource("pods"));
    let s = setup(&fixture, plan).await;
    let outcome = s
        .collect(
            &["--chunk-size", "10", "--no-logs"],
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(outcome.status(), Status::Complete);
    let c = s.open_output();
    assert_eq!(c.objects("", "v1", "pods").expect("pods").len(), 31);
    let events = c.manifest().options["events"]
        .as_array()
        .expect("events")
        .clone();
    assert_eq!(events[0]["full_relist"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_time_out_per_request() {
    let fixture = Fixture::standard(3);
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::Delay(Duration::from_secs(20))).path_contains("/proxy/configz"))
        .rule(FaultRule::new(Fault::Delay(Duration::from_secs(20))).resource("events"));
    let s = setup(&fixture, plan).await;
    let started = Instant::now();
    let outcome = s
        .collect(&["--request-timeout", "1s"], Duration::from_secs(30))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(outcome.status(), Status::ApiGaps);
    let c = s.open_output();
    assert_eq!(
        c.gaps(GapKind::Configz, "node-1")[0].reason,
        GapReason::Timeout
    );
    assert_eq!(
        c.gaps(GapKind::Resource, "core/v1/events")[0].reason,
        GapReason::Timeout
    );
    assert!(!c.manifest().partial);
    assert_eq!(c.objects("", "v1", "pods").expect("pods").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_holds_and_marks_the_bundle_partial() {
    let fixture = Fixture::standard(20);
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::Delay(Duration::from_secs(60))).resource("pods/log"))
        .rule(
            FaultRule::new(Fault::Delay(Duration::from_secs(60))).resource("widgets.example.com"),
        );
    let s = setup(&fixture, plan).await;
    let started = Instant::now();
    let outcome = s
        .collect(
            &[
                "--timeout",
                "2s",
                "--request-timeout",
                "5m",
                "--concurrency",
                "4",
            ],
            Duration::from_secs(30),
        )
        .await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "deadline of 2s overran: {took:?}"
    );
    assert_eq!(outcome.status(), Status::Partial);
    let c = s.open_output();
    let m = c.manifest();
    assert!(m.partial);
    let cut: Vec<_> = m
        .gaps
        .iter()
        .filter(|g| g.reason == GapReason::Timeout)
        .collect();
    assert!(
        cut.len() >= 20,
        "every log not collected is a gap: {}",
        cut.len()
    );
    assert!(
        !c.gaps(GapKind::Resource, "example.com/v1/widgets")
            .is_empty()
    );
    // What was collected before the deadline is there.
    assert_eq!(c.objects("", "v1", "pods").expect("pods").len(), 21);
}
