//! The README's exit status table, one class of outcome per row, run by the real binary
//! against `ktriage serve` (130 and 143 are in `interrupt.rs`).

use std::process::{Command, Output};
use std::time::Duration;

use ktriage_serve::faults::{Fault, FaultPlan, FaultRule};

use crate::common::{Fixture, setup};

/// Runs the collector with `args` (kubeconfig and output included by the caller) in its own
/// empty `TMPDIR`; returns its output and whatever it left there.
async fn collect(args: Vec<String>) -> (Output, Vec<String>) {
    let tmpdir = tempfile::tempdir().expect("tempdir");
    let tmp = tmpdir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ktriage-collect"))
            .args(&args)
            .env("TMPDIR", &tmp)
            .output()
            .expect("ktriage-collect runs")
    })
    .await
    .expect("joined");
    let left = std::fs::read_dir(tmpdir.path())
        .expect("tmpdir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    (output, left)
}

struct Row {
    what: &'static str,
    plan: FaultPlan,
    extra: Vec<&'static str>,
    /// Replaces the kubeconfig the server wrote.
    kubeconfig: Option<&'static str>,
    code: i32,
    /// Text the one-line error must hold, for the rows that fail.
    error: Option<&'static str>,
}

fn row(what: &'static str, code: i32) -> Row {
    Row {
        what,
        plan: FaultPlan::new(),
        extra: Vec::new(),
        kubeconfig: None,
        code,
        error: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exit_status_of_the_readme_table() {
    let rows = vec![
        row("complete", 0),
        Row {
            plan: FaultPlan::new().rule(FaultRule::new(Fault::Status(403)).resource("configmaps")),
            ..row("a resource list forbidden", 1)
        },
        Row {
            extra: vec!["--concurrency", "many"],
            error: Some("--concurrency"),
            ..row("bad flag value", 2)
        },
        Row {
            extra: vec!["--redact", "/nonexistent/rules.yaml"],
            error: Some("/nonexistent/rules.yaml"),
            ..row("unreadable --redact file", 2)
        },
        Row {
            extra: vec!["--context", "no-such-context"],
            error: Some("no-such-context"),
            ..row("unknown context", 2)
        },
        Row {
            plan: FaultPlan::new()
                .rule(FaultRule::new(Fault::Delay(Duration::from_secs(30))).resource("pods")),
            extra: vec!["--timeout", "3s", "--no-logs"],
            ..row("the --timeout deadline", 3)
        },
        Row {
            kubeconfig: Some("http://127.0.0.1:9"),
            extra: vec!["--request-timeout", "2s"],
            error: Some("127.0.0.1:9"),
            ..row("API server unreachable", 4)
        },
    ];
    let mut failures = Vec::new();
    for row in rows {
        let s = setup(&Fixture::standard(3), row.plan).await;
        let kubeconfig = match row.kubeconfig {
            Some(url) => {
                let path = s.dir.path().join("unreachable-kubeconfig");
                ktriage_serve::write_kubeconfig(&path, url).expect("kubeconfig");
                path
            }
            None => s.kubeconfig.clone(),
        };
        let mut args = vec![
            "--kubeconfig".to_string(),
            kubeconfig.to_string_lossy().into_owned(),
            "-o".to_string(),
            s.output().to_string_lossy().into_owned(),
            "-q".to_string(),
        ];
        args.extend(row.extra.iter().map(|a| a.to_string()));
        let (o, left) = collect(args).await;
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        if o.status.code() != Some(row.code) {
            failures.push(format!(
                "{}: exit {:?}, want {}: {stderr}",
                row.what,
                o.status.code(),
                row.code
            ));
        }
        // Flag errors are clap's usage message; every other error is one line.
        let one_line = stderr.trim().lines().count() == 1 || row.extra.contains(&"--concurrency");
        if let Some(text) = row.error
            && (!stderr.contains(text) || !one_line)
        {
            failures.push(format!(
                "{}: want one line naming {text:?}: {stderr}",
                row.what
            ));
        }
        if !left.is_empty() {
            failures.push(format!("{}: left {left:?} in TMPDIR", row.what));
        }
        // 0, 1 and 3 write the bundle; 2 collects nothing; 4 has nothing to write.
        let written = s.output().exists();
        if written != matches!(row.code, 0 | 1 | 3) {
            failures.push(format!("{}: bundle written: {written}", row.what));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
