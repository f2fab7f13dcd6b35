//! Signals to the real binary in the middle of a collection: the first SIGINT or SIGTERM
//! closes a readable bundle marked partial and exits 130 or 143, even while a request is
//! stalled by a slow server; a second signal quits at once. Whatever happens, no temporary
//! file is left beside the output or in `TMPDIR`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ktriage_schema::manifest::{GapKind, GapReason};
use ktriage_serve::faults::{Fault, FaultPlan, FaultRule};

use crate::common::{Fixture, Setup, open_bundle, setup};

/// A collection under way, with its own empty `TMPDIR` and output directory.
struct Running {
    s: Setup,
    child: Child,
    output: PathBuf,
    out_dir: tempfile::TempDir,
    tmpdir: tempfile::TempDir,
}

/// Starts the collector against a server whose `pods/log` answers only after `log_delay`,
/// and waits until `logs_started` log requests have reached it.
async fn start(log_delay: Duration, logs_started: u32) -> Running {
    let fixture = Fixture::standard(30);
    let plan = FaultPlan::new().rule(FaultRule::new(Fault::Delay(log_delay)).resource("pods/log"));
    let s = setup(&fixture, plan).await;
    let out_dir = tempfile::tempdir().expect("tempdir");
    let tmpdir = tempfile::tempdir().expect("tempdir");
    let output = out_dir.path().join("interrupted.tar.zst");
    let child = Command::new(env!("CARGO_BIN_EXE_ktriage-collect"))
        .args([
            "--kubeconfig",
            s.kubeconfig.to_str().expect("utf8"),
            "-o",
            output.to_str().expect("utf8"),
            "--concurrency",
            "2",
        ])
        .env("TMPDIR", tmpdir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ktriage-collect");
    let waiting = Instant::now();
    while s.server.faults.fired()[0] < logs_started {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "no log request within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Running {
        s,
        child,
        output,
        out_dir,
        tmpdir,
    }
}

/// Sends `signal` (a name `kill` knows: INT, TERM, STOP, CONT) to the process.
fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal}");
}

impl Running {
    /// Waits for the process to end within `limit`; its status, stdout and stderr.
    async fn exit_within(mut self, limit: Duration) -> (Ended, ExitStatus, String, String) {
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                break exit;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("ktriage-collect did not stop within {limit:?} of the signal");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let out = self.child.wait_with_output().expect("output");
        let ended = Ended {
            _s: self.s,
            output: self.output,
            out_dir: self.out_dir,
            tmpdir: self.tmpdir,
        };
        (
            ended,
            exit,
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// What a finished collection left.
struct Ended {
    _s: Setup,
    output: PathBuf,
    out_dir: tempfile::TempDir,
    tmpdir: tempfile::TempDir,
}

impl Ended {
    /// Nothing but the bundle (when one is expected) beside the output, nothing in `TMPDIR`.
    fn assert_no_temp_files(&self, bundle_expected: bool) {
        let beside = entries(self.out_dir.path());
        let expected: Vec<String> = if bundle_expected {
            vec!["interrupted.tar.zst".into()]
        } else {
            Vec::new()
        };
        assert_eq!(beside, expected, "left beside the output");
        assert_eq!(
            entries(self.tmpdir.path()),
            Vec::<String>::new(),
            "left in TMPDIR"
        );
    }

    /// The bundle is readable, partial, and says what was interrupted.
    fn assert_partial_bundle(&self) {
        let c = open_bundle(&self.output);
        let m = c.manifest();
        assert!(m.partial);
        assert!(
            m.gaps
                .iter()
                .any(|g| g.what == GapKind::Logs && g.reason == GapReason::Interrupted),
            "the stalled logs are interrupted gaps: {:?}",
            m.gaps
        );
        assert!(
            c.objects("", "v1", "pods").is_some(),
            "what was listed before the signal is kept"
        );
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_leaves_a_partial_readable_bundle() {
    let run = start(Duration::from_millis(400), 2).await;
    send(&run.child, "INT");
    let (ended, exit, stdout, stderr) = run.exit_within(Duration::from_secs(20)).await;
    assert_eq!(exit.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("PARTIAL"), "{stdout}");
    ended.assert_partial_bundle();
    ended.assert_no_temp_files(true);
}

/// The server holds every log request for ten minutes: the signal must not wait for them.
const STALLED: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_a_stalled_log_request_exits_130_within_10_s() {
    let run = start(STALLED, 1).await;
    send(&run.child, "INT");
    let (ended, exit, stdout, stderr) = run.exit_within(Duration::from_secs(10)).await;
    assert_eq!(exit.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("SIGINT"), "{stderr}");
    assert!(
        stdout.contains("PARTIAL: interrupted by SIGINT"),
        "{stdout}"
    );
    ended.assert_partial_bundle();
    ended.assert_no_temp_files(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_stalled_log_request_exits_143_within_10_s() {
    let run = start(STALLED, 1).await;
    send(&run.child, "TERM");
    let (ended, exit, stdout, stderr) = run.exit_within(Duration::from_secs(10)).await;
    assert_eq!(exit.code(), Some(143), "stderr: {stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(
        stdout.contains("PARTIAL: interrupted by SIGTERM"),
        "{stdout}"
    );
    ended.assert_partial_bundle();
    ended.assert_no_temp_files(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_quits_at_once_and_removes_the_part_file() {
    let run = start(STALLED, 1).await;
    // Both signals are pending when the process resumes, so the second arrives while the
    // first is still closing the bundle, however fast that is.
    send(&run.child, "STOP");
    send(&run.child, "INT");
    send(&run.child, "TERM");
    send(&run.child, "CONT");
    let (ended, exit, stdout, stderr) = run.exit_within(Duration::from_secs(5)).await;
    assert!(
        matches!(exit.code(), Some(130 | 143)),
        "{exit:?}, stderr: {stderr}"
    );
    assert!(
        stderr.contains("again: quitting without closing the bundles"),
        "{stderr}"
    );
    assert!(!stdout.contains("PARTIAL"), "no bundle is closed: {stdout}");
    ended.assert_no_temp_files(false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_collection_leaves_no_temp_file() {
    let run = start(Duration::ZERO, 0).await;
    let (ended, exit, _, stderr) = run.exit_within(Duration::from_secs(60)).await;
    assert_eq!(exit.code(), Some(0), "stderr: {stderr}");
    assert!(!open_bundle(&ended.output).manifest().partial);
    ended.assert_no_temp_files(true);
}

#[test]
fn an_unreachable_server_leaves_no_temp_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmpdir = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let kubeconfig = dir.path().join("kubeconfig");
    ktriage_serve::write_kubeconfig(&kubeconfig, &format!("http://127.0.0.1:{port}"))
        .expect("kubeconfig");
    let out = Command::new(env!("CARGO_BIN_EXE_ktriage-collect"))
        .args([
            "--kubeconfig",
            kubeconfig.to_str().expect("utf8"),
            "-o",
            dir.path().join("b.tar.zst").to_str().expect("utf8"),
            "-q",
        ])
        .env("TMPDIR", tmpdir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(entries(dir.path()), vec!["kubeconfig".to_string()]);
    assert_eq!(entries(tmpdir.path()), Vec::<String>::new());
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
