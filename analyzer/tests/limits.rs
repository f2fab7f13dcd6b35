//! The `ktriage` binary under hostile rule packs, runaway queries and signals: a rule cannot
//! run anything but one SELECT, a rule or query past its limits fails alone, and SIGINT or
//! SIGTERM stops the command with its exit code and nothing left in `TMPDIR`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{sample, send as signal, stderr};

/// Writes a rule file `<dir>/<id>.sql` with a valid header and `sql`.
fn write_rule(dir: &Path, id: &str, sql: &str) {
    std::fs::create_dir_all(dir).expect("rule dir");
    let text = format!(
        "/* ---\nid = \"{id}\"\nseverity = \"medium\"\nfaq = [\"DCE-01\"]\ncategory = \"workloads\"\n\
         [title]\nen = \"T\"\nzh = \"T\"\n[remediation]\nen = \"R\"\nzh = \"R\"\n--- */\n{sql}\n"
    );
    std::fs::write(dir.join(format!("{id}.sql")), text).expect("rule file");
}

/// Never finishes on its own (a trillion rows), but checks for interrupts as it goes.
const ENDLESS: &str =
    "SELECT count(*)::VARCHAR AS resource, 'm' AS message FROM range(1000000000000) t(n)";

/// A `ktriage` command with its own empty `TMPDIR`.
struct Run {
    tmpdir: tempfile::TempDir,
    work: tempfile::TempDir,
    bundles: Vec<String>,
}

impl Run {
    fn new() -> Run {
        let work = tempfile::tempdir().expect("tempdir");
        let bundles = sample(work.path())
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        Run {
            tmpdir: tempfile::tempdir().expect("tempdir"),
            work,
            bundles,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ktriage"));
        c.args(args)
            .args(&self.bundles)
            .env("TMPDIR", self.tmpdir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("ktriage runs")
    }

    /// What the command left in its `TMPDIR`.
    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.tmpdir.path())
            .expect("tmpdir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Starts the command and waits until it has a work directory and has been running
    /// `settle`, so a signal reaches it in the middle of its queries.
    fn spawn_busy(&self, args: &[&str], settle: Duration) -> Child {
        let child = self.command(args).spawn().expect("ktriage starts");
        let start = Instant::now();
        while self.leftovers().is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no work directory"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(settle);
        child
    }
}

/// Waits for `child` at most `limit`; kills it and fails if it is still running.
fn wait_within(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            return (out, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn rule_packs_with_anything_but_one_select_are_refused_naming_the_file() {
    let close = "SELECT 'x' AS resource, 'y' AS message) AS f;";
    let reopen = "; SELECT * FROM (SELECT 'x' AS resource, 'y' AS message";
    let attacks = [
        format!("{close} DELETE FROM pods {reopen}"),
        format!("{close} UPDATE pods SET name = 'evil' {reopen}"),
        format!("{close} CREATE OR REPLACE MACRO k8s_quantity(q) AS 0 {reopen}"),
        format!("{close} CREATE TEMP TABLE pods AS SELECT 1 AS x {reopen}"),
        format!("{close} ATTACH ':memory:' AS evil; USE evil {reopen}"),
        format!("{close} SET search_path = 'temp' {reopen}"),
        format!("{close} DROP TABLE bundles {reopen}"),
        "SELECT 'x' AS resource, 'y' AS message; DROP TABLE bundles".to_string(),
        "DROP TABLE bundles".to_string(),
    ];
    let run = Run::new();
    for (i, attack) in attacks.iter().enumerate() {
        let rules = run.path(&format!("pack-{i}"));
        write_rule(&rules, "harmless", "SELECT 'a' AS resource, 'b' AS message");
        write_rule(&rules, "attack", attack);
        let out = run.path(&format!("report-{i}"));
        let o = run.output(&[
            "analyze",
            "-q",
            "--rules",
            rules.to_str().expect("utf-8"),
            "-o",
            out.to_str().expect("utf-8"),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{attack}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        let refused = err.contains("one SELECT") || err.contains("does not parse");
        assert!(err.contains("attack.sql") && refused, "{attack}: {err}");
        assert!(!out.exists(), "{attack}: a report was written");
    }
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}

#[test]
fn a_rule_past_its_time_limit_fails_alone_and_the_reports_are_written() {
    let run = Run::new();
    let rules = run.path("rules");
    write_rule(&rules, "endless", ENDLESS);
    write_rule(
        &rules,
        "quick",
        "SELECT 'r' AS resource, 'quick one' AS message",
    );
    let out = run.path("report");
    let start = Instant::now();
    let o = run.output(&[
        "analyze",
        "-q",
        "--no-builtin-rules",
        "--rules",
        rules.to_str().expect("utf-8"),
        "--rule-timeout",
        "1",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("rule endless failed: stopped after") && err.contains("--rule-timeout"),
        "{err}"
    );
    let findings = std::fs::read_to_string(out.join("findings.json")).expect("findings.json");
    assert!(findings.contains("quick one"), "{findings}");
    assert!(findings.contains("over the 1 s limit"), "{findings}");
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}

#[test]
fn a_query_spilling_past_the_cap_fails_instead_of_filling_the_disk() {
    let run = Run::new();
    let rules = run.path("rules");
    // Sorting ten million 32-character strings: far more than 256 MiB of memory holds.
    write_rule(
        &rules,
        "hog",
        "SELECT max(rn)::VARCHAR AS resource, 'm' AS message FROM \
         (SELECT row_number() OVER (ORDER BY md5(n::VARCHAR)) AS rn FROM range(10000000) t(n))",
    );
    let out = run.path("report");
    let o = run.output(&[
        "analyze",
        "-q",
        "--no-builtin-rules",
        "--rules",
        rules.to_str().expect("utf-8"),
        "--memory-mib",
        "256",
        "--max-temp-mib",
        "32",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("rule hog failed"), "{err}");
    assert!(err.contains("max_temp_directory_size"), "{err}");
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}

fn analyze_endless(run: &Run) -> Vec<String> {
    let rules = run.path("rules");
    write_rule(&rules, "endless", ENDLESS);
    vec![
        "analyze".into(),
        "-q".into(),
        "--rules".into(),
        rules.to_string_lossy().into_owned(),
        "--rule-timeout".into(),
        "600".into(),
        "-o".into(),
        run.path("report").to_string_lossy().into_owned(),
    ]
}

#[test]
fn sigint_and_sigterm_stop_analyze_mid_rule_and_remove_its_work_directory() {
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let run = Run::new();
        let args = analyze_endless(&run);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = run.spawn_busy(&args, Duration::from_secs(3));
        signal(&child, name);
        let (o, took) = wait_within(child, Duration::from_secs(10));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "SIG{name}: {err}");
        assert!(err.contains(&format!("interrupted by SIG{name}")), "{err}");
        // Interrupted queries unwind at once; the grace period is the fallback.
        assert!(took < Duration::from_secs(4), "SIG{name} took {took:?}");
        assert!(
            run.leftovers().is_empty(),
            "SIG{name}: {:?}",
            run.leftovers()
        );
    }
}

#[test]
fn a_second_sigint_quits_at_once_and_still_removes_the_work_directory() {
    let run = Run::new();
    let args = analyze_endless(&run);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = run.spawn_busy(&args, Duration::ZERO);
    signal(&child, "INT");
    signal(&child, "INT");
    let (o, _) = wait_within(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}

#[test]
fn sql_queries_are_bounded_in_time_and_stopped_by_signals() {
    let run = Run::new();
    let o = run.output(&["sql", "-q", "--query-timeout", "1", "-c", ENDLESS]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("query stopped after 1 s (--query-timeout)"),
        "{err}"
    );
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());

    let child = run.spawn_busy(&["sql", "-q", "-c", ENDLESS], Duration::from_secs(2));
    signal(&child, "INT");
    let (o, _) = wait_within(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}

#[test]
fn an_error_exit_leaves_nothing_in_tmpdir() {
    let run = Run::new();
    // The first bundle is fine and unpacks into the work directory; the second is cut short.
    let whole = std::fs::read(&run.bundles[0]).expect("bundle");
    let cut = run.path("cut.tar.zst");
    std::fs::write(&cut, &whole[..whole.len() / 2]).expect("cut bundle");
    let out = run.path("report");
    let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["analyze", "-q", "-o", out.to_str().expect("utf-8")])
        .args([&run.bundles[0], &cut.to_string_lossy().into_owned()])
        .env("TMPDIR", run.tmpdir.path())
        .output()
        .expect("ktriage runs");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cut.tar.zst"), "{}", stderr(&o));
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}
