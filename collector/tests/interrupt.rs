//! SIGINT to the real binary in the middle of a collection leaves a readable bundle marked
//! partial, and the process exits with the interrupted status.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ktriage_schema::manifest::GapReason;
use ktriage_serve::faults::{Fault, FaultPlan, FaultRule};

use crate::common::{Fixture, open_bundle, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_leaves_a_partial_readable_bundle() {
    let fixture = Fixture::standard(30);
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::Delay(Duration::from_millis(400))).resource("pods/log"));
    let s = setup(&fixture, plan).await;
    let output = s.dir.path().join("interrupted.tar.zst");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ktriage-collect"))
        .args([
            "--kubeconfig",
            s.kubeconfig.to_str().expect("utf8"),
            "-o",
            output.to_str().expect("utf8"),
            "--concurrency",
            "2",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ktriage-collect");
    // Wait until logs are being fetched (the slowed log requests have started), then interrupt.
    let waiting = Instant::now();
    while s.server.faults.fired()[0] < 2 {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "no log request within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ktriage-collect did not stop within 20 s of SIGINT");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(exit.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("PARTIAL"), "{stdout}");
    let c = open_bundle(&output);
    let m = c.manifest();
    assert!(m.partial);
    assert!(
        m.gaps.iter().any(|g| g.reason == GapReason::Interrupted),
        "{:?}",
        m.gaps
    );
    assert!(
        c.objects("", "v1", "pods").is_some(),
        "what was listed before the signal is kept"
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_ktriage-collect"))
        .args(["--kubeconfig", "/nonexistent/kubeconfig"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/kubeconfig"), "{stderr}");
}
