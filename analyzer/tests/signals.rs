//! `ktriage serve` ends on SIGINT and SIGTERM within a bounded time even while clients hold
//! connections open, removes its work directory (unpacked bundles, the kubeconfig it wrote)
//! and exits 130 or 143; a second signal quits at once, still removing it. Each run has its
//! own empty `TMPDIR`, checked empty afterwards.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{sample as sample_bundles, send};

/// A running `ktriage serve` with its own `TMPDIR`.
struct Serving {
    child: Child,
    /// `127.0.0.1:PORT`.
    addr: String,
    /// The kubeconfig it wrote into its work directory.
    kubeconfig: PathBuf,
    tmpdir: tempfile::TempDir,
    stderr: mpsc::Receiver<String>,
    _bundles: tempfile::TempDir,
}

/// Starts `ktriage serve` on a free port and waits until it serves.
fn start() -> Serving {
    let bundles = tempfile::tempdir().expect("tempdir");
    let tmpdir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .arg("serve")
        .args(sample_bundles(bundles.path()))
        .args(["--addr", "127.0.0.1:0"])
        .env("TMPDIR", tmpdir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ktriage serve");
    let (tx, stderr) = mpsc::channel();
    let err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut addr = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while addr.is_none() {
        let line = stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("ktriage serve says where it serves within 60 s");
        addr = line
            .split(" at http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string);
    }
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("stdout line");
    let kubeconfig = PathBuf::from(
        first
            .trim()
            .strip_prefix("export KUBECONFIG=")
            .unwrap_or_else(|| panic!("an export line: {first:?}")),
    );
    Serving {
        child,
        addr: addr.expect("address"),
        kubeconfig,
        tmpdir,
        stderr,
        _bundles: bundles,
    }
}

impl Serving {
    /// A connection that sent half a request and waits: a slow client.
    fn half_request(&self) -> TcpStream {
        let mut c = TcpStream::connect(&self.addr).expect("connect");
        c.write_all(b"GET /api/v1/pods HTTP/1.1\r\nHost: ktriage\r\n")
            .expect("write");
        c
    }

    /// A connection that asked for a pod's log and reads nothing of the answer.
    fn unread_log(&self) -> TcpStream {
        let mut c = TcpStream::connect(&self.addr).expect("connect");
        c.write_all(
            b"GET /api/v1/namespaces/kube-system/pods/coredns-76f75df574-9xk2p/log?follow=true HTTP/1.1\r\nHost: ktriage\r\n\r\n",
        )
        .expect("write");
        c
    }

    /// Proves the server answers while the slow clients wait.
    fn assert_answers(&self) {
        let mut c = TcpStream::connect(&self.addr).expect("connect");
        c.write_all(b"GET /version HTTP/1.1\r\nHost: ktriage\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut answer = String::new();
        c.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    /// Waits for the exit within `limit`; the status and what was printed on stderr.
    fn exit_within(mut self, limit: Duration) -> (Ended, ExitStatus, String) {
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                break exit;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("ktriage serve did not stop within {limit:?} of the signal");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr: Vec<String> = self.stderr.try_iter().collect();
        let ended = Ended {
            kubeconfig: self.kubeconfig,
            tmpdir: self.tmpdir,
        };
        (ended, exit, stderr.join("\n"))
    }
}

struct Ended {
    kubeconfig: PathBuf,
    tmpdir: tempfile::TempDir,
}

impl Ended {
    /// The work directory, with the kubeconfig in it, is gone: `TMPDIR` is empty.
    fn assert_work_dir_gone(&self) {
        assert!(
            self.kubeconfig.starts_with(self.tmpdir.path()),
            "the kubeconfig was written in the work directory under TMPDIR: {}",
            self.kubeconfig.display()
        );
        assert!(!self.kubeconfig.exists(), "{}", self.kubeconfig.display());
        let left: Vec<_> = std::fs::read_dir(self.tmpdir.path())
            .expect("read TMPDIR")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    }
}

/// Serves, holds two slow connections, sends `signal`: the exit status and the remains.
fn stop_with_slow_clients(signal: &str) -> (Ended, ExitStatus, String) {
    let serving = start();
    assert!(serving.kubeconfig.exists());
    let _half = serving.half_request();
    let _unread = serving.unread_log();
    serving.assert_answers();
    send(&serving.child, signal);
    serving.exit_within(Duration::from_secs(10))
}

#[test]
fn sigint_with_slow_clients_exits_130_within_10_s_and_removes_the_work_dir() {
    let (ended, exit, stderr) = stop_with_slow_clients("INT");
    assert_eq!(exit.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("SIGINT"), "{stderr}");
    ended.assert_work_dir_gone();
}

#[test]
fn sigterm_with_slow_clients_exits_143_within_10_s_and_removes_the_work_dir() {
    let (ended, exit, stderr) = stop_with_slow_clients("TERM");
    assert_eq!(exit.code(), Some(143), "stderr: {stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    ended.assert_work_dir_gone();
}

#[test]
fn a_second_signal_quits_at_once_and_removes_the_work_dir() {
    let serving = start();
    let _half = serving.half_request();
    serving.assert_answers();
    send(&serving.child, "INT");
    // Let the first start its 3 s wait for the slow client, then insist: the second must not
    // wait for the rest of it.
    std::thread::sleep(Duration::from_millis(300));
    send(&serving.child, "INT");
    let (ended, exit, stderr) = serving.exit_within(Duration::from_millis(1500));
    assert_eq!(exit.code(), Some(130), "stderr: {stderr}");
    assert!(!stderr.contains("still open after"), "{stderr}");
    ended.assert_work_dir_gone();
}
