//! The `ktriage` binary end to end: reports from the sample case, exit codes, errors on
//! hostile input, `rules`, `explain` and `sql`.

mod common;

use common::{ktriage, repo, stderr};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `ktriage flags... bundles...`.
fn ktriage_on(flags: &[&str], bundles: &[String]) -> Output {
    let mut args = flags.to_vec();
    args.extend(bundles.iter().map(String::as_str));
    ktriage(&args)
}

/// Builds every bundle of a fixture source into `dir`; returns the archive paths as arguments.
fn build_case(source: &Path, dir: &Path) -> Vec<String> {
    common::path_args(&common::build_case(source, dir))
}

#[test]
fn analyze_sample_writes_three_reports_with_the_planted_problems() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = build_case(&repo().join("tests/fixtures/sample"), tmp.path());
    let out = tmp.path().join("report");
    let timings = tmp.path().join("timings.json");
    let o = ktriage_on(
        &[
            "analyze",
            "-q",
            "-o",
            out.to_str().expect("utf-8"),
            "--lang",
            "en",
            "--timings",
            timings.to_str().expect("utf-8"),
        ],
        &bundles,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    // The bundle section says what redaction removed, redactor by redactor and kind by
    // kind, never a value.
    assert!(
        md.contains("Redaction: env-credential 2 (Deployment 2); secret-data 9 (Secret 9)"),
        "{md}"
    );
    assert!(
        html.contains("env-credential: 2 (Deployment 2); secret-data: 9 (Secret 9)"),
        "bundle table without the redaction by kind"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("findings.json")).expect("findings.json"),
    )
    .expect("json");
    let found: Vec<String> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["rule_id"].as_str().unwrap_or("").to_string())
        .collect();
    for rule in [
        "container-oomkilled",
        "image-pull-unreachable-registry",
        "stuck-terminating",
        "resolv-conf-too-many-nameservers",
        "certificate-expiry",
        "coredns-no-nameservers",
        "apiservice-unavailable",
    ] {
        assert!(
            found.iter().any(|f| f == rule),
            "sample should trigger {rule}; found {found:?}"
        );
        assert!(
            html.contains(rule) && md.contains(rule),
            "{rule} in both reports"
        );
    }
    let benign: Vec<&str> = json["benign"]
        .as_array()
        .expect("benign")
        .iter()
        .filter_map(|g| g["rule_id"].as_str())
        .collect();
    assert!(
        benign.contains(&"apiserver-tls-handshake-noise"),
        "benign noise section: {benign:?}"
    );
    // Log evidence says when it was first and last seen and how often, in every format.
    let pull = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|g| g["rule_id"] == "image-pull-unreachable-registry")
        .flat_map(|g| g["findings"].as_array().expect("findings"))
        .find(|f| f["resource"] == "pod/kube-system/metrics-server-5c6d8b9f7d-q56dc")
        .expect("the metrics-server pull failure");
    assert_eq!(pull["first_seen"], "2026-01-09T05:58:34Z", "{pull}");
    assert_eq!(pull["last_seen"], "2026-01-15T11:59:37Z", "{pull}");
    assert_eq!(pull["count"], 3625, "{pull}");
    let seen = "first seen 2026-01-09 05:58:34 UTC, last seen 2026-01-15 11:59:37 UTC, 3625 times";
    assert!(html.contains(seen) && md.contains(seen), "{seen}");
    // Self-contained: no external resources.
    for needle in [
        "<script src",
        "<link ",
        "http://",
        "https://fonts",
        "@import",
    ] {
        assert!(
            !html.contains(needle),
            "report.html must be self-contained, found {needle:?}"
        );
    }
    assert!(html.contains("<svg"), "an inline chart");
    assert!(html.contains("What to do") && md.contains("What to do"));
    // English reports show the English message; findings.json carries both.
    assert!(
        md.contains("container helm was OOMKilled (last termination)"),
        "{md}"
    );
    assert!(!md.contains("被 OOMKilled"), "{md}");
    let oom = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["rule_id"] == "container-oomkilled")
        .expect("container-oomkilled group");
    let finding = &oom["findings"][0];
    assert!(
        finding["message"]
            .as_str()
            .is_some_and(|m| m.contains("was OOMKilled"))
            && finding["message_zh"]
                .as_str()
                .is_some_and(|m| m.contains("被 OOMKilled")),
        "{finding}"
    );

    // --timings: every phase, and every rule once, in the rules' order, with its rows and
    // planning time.
    let timings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&timings).expect("timings.json"))
            .expect("timings are JSON");
    for phase in ["open", "load", "derive", "rules", "report"] {
        assert!(
            timings["phases_ms"][phase]
                .as_f64()
                .is_some_and(|ms| ms >= 0.0),
            "phase {phase} in {timings}"
        );
    }
    assert!(timings["rule_workers"].as_u64().is_some_and(|n| n >= 1));
    let per_rule = timings["rules"].as_array().expect("rules");
    let ids: Vec<&str> = per_rule
        .iter()
        .filter_map(|r| r["rule_id"].as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "each rule once, sorted by id");
    for r in per_rule {
        let (ms, planning) = (r["ms"].as_f64(), r["planning_ms"].as_f64());
        assert!(
            matches!((ms, planning), (Some(ms), Some(p)) if p > 0.0 && p <= ms),
            "planning is part of a rule's time: {r}"
        );
    }
    let oom = per_rule
        .iter()
        .find(|r| r["rule_id"] == "container-oomkilled")
        .expect("container-oomkilled timed");
    assert!(oom["rows"].as_u64().is_some_and(|n| n > 0) && oom["error"].is_null());
}

#[test]
fn chinese_report_is_the_default() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = build_case(&repo().join("tests/fixtures/sample"), tmp.path());
    let out = tmp.path().join("r");
    let o = ktriage_on(
        &[
            "analyze",
            "-q",
            "--format",
            "md",
            "-o",
            out.to_str().expect("utf-8"),
        ],
        &bundles,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).expect("md");
    assert!(md.contains("诊断报告") && md.contains("处理建议"), "{md}");
    assert!(
        md.contains("脱敏: env-credential 2 (Deployment 2); secret-data 9 (Secret 9)"),
        "{md}"
    );
    // Findings speak Chinese too: the rule's message_zh, not its English message.
    assert!(
        md.contains("容器 helm 被 OOMKilled（上次终止），内存限制 128Mi"),
        "{md}"
    );
    assert!(!md.contains("container helm was OOMKilled"), "{md}");
    assert!(
        md.contains(
            "首次出现 2026-01-09 05:58:34 UTC，最近出现 2026-01-15 11:59:37 UTC，共 3625 次"
        ),
        "{md}"
    );
    assert!(
        !out.join("report.html").exists(),
        "only the formats asked for"
    );
}

#[test]
fn fail_on_sets_exit_code_one_and_baseline_passes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = build_case(
        &repo().join("tests/fixtures/sample"),
        &tmp.path().join("s").tap_mkdir(),
    );
    let mut args: Vec<String> = ["analyze", "-q", "--fail-on", "high", "-o"]
        .map(String::from)
        .to_vec();
    args.push(tmp.path().join("r1").to_string_lossy().into_owned());
    args.extend(sample);
    let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(&args)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    let baseline = build_case(
        &repo().join("tests/fixtures/baseline"),
        &tmp.path().join("b").tap_mkdir(),
    );
    let mut args: Vec<String> = ["analyze", "-q", "--fail-on", "low", "-o"]
        .map(String::from)
        .to_vec();
    args.push(tmp.path().join("r2").to_string_lossy().into_owned());
    args.extend(baseline);
    let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(&args)
        .output()
        .expect("runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "baseline must not reach --fail-on low: {}",
        stderr(&o)
    );
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}
impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).expect("mkdir");
        self
    }
}

#[test]
fn hostile_bundles_exit_two_with_one_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let corpus = repo().join("tests/fixtures/hostile");
    let expect = std::fs::read_to_string(corpus.join("expect.tsv")).expect("expect.tsv");
    for line in expect.lines().skip(1) {
        let (file, expected) = line.split_once('\t').expect("tsv");
        let path = corpus.join(file);
        let o = ktriage(&[
            "analyze",
            "-q",
            "-o",
            tmp.path().join("r").to_str().expect("utf-8"),
            path.to_str().expect("utf-8"),
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{file}: one line: {err}");
        assert!(
            err.contains(expected) && err.contains(file),
            "{file}: {err}"
        );
        assert!(!err.contains("panicked"), "{file}: {err}");
    }
}

#[test]
fn missing_bundle_and_bad_rule_dir_are_bad_input() {
    let o = ktriage(&["analyze", "-q", "/nonexistent/bundle.tar.zst"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/nonexistent/bundle.tar.zst"));

    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("broken.sql"), "SELECT 1").expect("write");
    let o = ktriage(&["rules", "--rules", tmp.path().to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("broken.sql"), "{}", stderr(&o));

    // A host bundle alone has no API to serve.
    let host = repo().join("tests/fixtures/built/sample/sh-cp-1.tar.zst");
    let o = ktriage(&[
        "serve",
        "-q",
        "--addr",
        "127.0.0.1:0",
        host.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no cluster bundle"), "{}", stderr(&o));
}

#[test]
fn user_rules_cannot_read_files_and_fail_alone() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = build_case(&repo().join("tests/fixtures/sample"), tmp.path());
    let rules = tmp.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    let header = |id: &str| {
        format!(
            "/* ---\nid = \"{id}\"\nseverity = \"high\"\nfaq = [\"DCE-01\"]\ncategory = \"workloads\"\n\
             [title]\nen = \"T\"\nzh = \"T\"\n[remediation]\nen = \"R\"\nzh = \"R\"\n--- */\n"
        )
    };
    std::fs::write(
        rules.join("read-passwd.sql"),
        header("read-passwd")
            + "SELECT 'r' AS resource, content AS message FROM read_text('/etc/passwd')",
    )
    .expect("write");
    std::fs::write(
        rules.join("node-count.sql"),
        header("node-count")
            + "SELECT 'cluster' AS resource, count(*) || ' nodes' AS message FROM nodes",
    )
    .expect("write");
    let out = tmp.path().join("r");
    let o = ktriage_on(
        &[
            "analyze",
            "-q",
            "--no-builtin-rules",
            "--rules",
            rules.to_str().expect("utf-8"),
            "--format",
            "json",
            "-o",
            out.to_str().expect("utf-8"),
        ],
        &bundles,
    );
    // The failed rule makes the run an error; the other rule's finding is still reported.
    let error = Some(i32::from(ktriage::exit::ERROR));
    assert_eq!(o.status.code(), error, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("rule read-passwd failed"),
        "{}",
        stderr(&o)
    );
    let findings = std::fs::read_to_string(out.join("findings.json")).expect("findings.json");
    assert!(
        !findings.contains("root:"),
        "file access must be off for rules"
    );
    assert!(
        findings.contains(" nodes"),
        "node-count still ran: {findings}"
    );
}

#[test]
fn version_names_the_duckdb_library_in_use() {
    let runtime = ktriage::db::library_version();
    assert!(runtime.starts_with("v1.5."), "unsupported DuckDB {runtime}");
    let o = ktriage(&["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines().any(|l| l == format!("duckdb: {runtime}")),
        "--version does not name DuckDB {runtime}:\n{out}"
    );
}

#[test]
fn rules_lists_ids_severities_faq_ids_and_both_titles() {
    let o = ktriage(&["rules", "--lang", "en"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("container-oomkilled"))
        .expect("oom rule listed");
    assert!(
        line.contains("high")
            && line.contains("DCE-01")
            && line.contains("OOMKilled")
            && line.contains("容器"),
        "{line}"
    );
}

#[test]
fn explain_matches_faq_error_texts() {
    let o = ktriage(&[
        "explain",
        "--lang",
        "en",
        "[ERROR] plugin/forward: no nameservers found",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("CRN-07") && out.contains("coredns-no-nameservers"),
        "{out}"
    );

    let o = ktriage(&[
        "explain",
        "--lang",
        "en",
        "everything is fine, nothing to see",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn sql_runs_a_query_over_a_bundle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = build_case(&repo().join("tests/fixtures/baseline"), tmp.path());
    let o = ktriage(&[
        "sql",
        "-q",
        "--output",
        "tsv",
        &bundles[0],
        "-c",
        "SELECT count(*) AS n FROM nodes",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let n: i64 = out
        .lines()
        .nth(1)
        .expect("a row")
        .trim()
        .parse()
        .expect("a number");
    assert!(n >= 1, "{out}");

    // Rules and ad-hoc SQL cannot reach the file system.
    let o = ktriage(&[
        "sql",
        "-q",
        &bundles[0],
        "-c",
        "SELECT * FROM read_text('/etc/passwd')",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("root:"),
        "file access must be off"
    );

    // Statements that cannot be a subquery still run: a rule's plan, a table's columns.
    let run = |query: &str| {
        let o = ktriage(&["sql", "-q", "--output", "tsv", &bundles[0], "-c", query]);
        assert_eq!(o.status.code(), Some(0), "{query}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let plan = run("EXPLAIN SELECT namespace, count(*) FROM pods GROUP BY namespace");
    assert!(plan.starts_with("explain_key\texplain_value"), "{plan}");
    // `SEQ_SCAN` on DuckDB 1.5, `Seq Scan` on 2.x.
    assert!(
        plan.to_lowercase().replace('_', " ").contains("seq scan"),
        "{plan}"
    );
    let columns = run("PRAGMA table_info('pods')");
    assert!(columns.starts_with("cid\tname\ttype"), "{columns}");
    assert!(columns.contains("\tphase\tVARCHAR\t"), "{columns}");
}

#[test]
fn memory_limit_bounds_the_database_and_spills_to_the_work_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = build_case(&repo().join("tests/fixtures/baseline"), tmp.path());
    let setting = |args: &[&str]| {
        let mut all = vec!["sql", "-q", "--output", "tsv"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            &bundles[0],
            "-c",
            "SELECT (SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'), \
             (SELECT value FROM duckdb_settings() WHERE name = 'temp_directory')",
        ]);
        let o = ktriage(&all);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let row = out.lines().nth(1).expect("a row").to_string();
        let (limit, spill) = row.split_once('\t').expect("two columns");
        (limit.to_string(), spill.to_string())
    };
    let (limit, spill) = setting(&[]);
    assert_eq!(limit, "1.2 GiB", "default limit (1280 MiB)");
    assert!(
        spill.contains("ktriage-") && spill.ends_with("spill"),
        "spill inside the case's work directory: {spill}"
    );
    assert_eq!(setting(&["--memory-mib", "300"]).0, "300.0 MiB");
}

#[test]
fn a_bundle_of_format_1_0_still_analyzes() {
    // The sample case as format 1.0 wrote it: container log lines without the API's stamps.
    let dir = repo().join("tests/fixtures/legacy/format-1.0");
    let mut bundles: Vec<String> = std::fs::read_dir(&dir)
        .expect("legacy fixtures")
        .map(|e| e.expect("entry").path().to_string_lossy().into_owned())
        .collect();
    bundles.sort();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("report");
    let o = ktriage_on(
        &[
            "analyze",
            "-q",
            "-o",
            out.to_str().expect("utf-8"),
            "--lang",
            "en",
        ],
        &bundles,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("findings.json")).expect("findings.json"),
    )
    .expect("json");
    assert_eq!(json["rule_errors"].as_array().map(Vec::len), Some(0));
    let found: Vec<&str> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["rule_id"].as_str())
        .collect();
    for rule in [
        "container-oomkilled",
        "coredns-no-nameservers",
        "stuck-terminating",
    ] {
        assert!(found.contains(&rule), "{rule}: {found:?}");
    }
    // Lines keep their text; a line is dated by its own stamp, else it has no time.
    let query = |sql: &str| {
        let o = ktriage(&["sql", "-q", "--output", "tsv", &bundles[0], "-c", sql]);
        assert_eq!(o.status.code(), Some(0), "{sql}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let own = query(
        "SELECT CAST(ts AS VARCHAR) AS ts, CAST(age AS VARCHAR) AS age FROM log_lines \
         WHERE line LIKE '2025-01-14T10:27:45.114Z%starting cart service%'",
    );
    assert_eq!(
        own.lines().nth(1),
        Some("2025-01-14 10:27:45.114+00\t366 days 01:32:14.886"),
        "{own}"
    );
    let unknown = query(
        "SELECT count(*) FROM log_lines WHERE source = 'container' AND ts IS NULL AND age IS NULL",
    );
    let n: i64 = unknown
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("a count");
    assert!(n > 0, "lines without a stamp have no time: {unknown}");
}

/// The README's exit-code table, one row per class, each run by the real binary.
#[test]
fn every_class_of_outcome_exits_with_its_documented_code() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let built = |fixture: &str| -> Vec<String> {
        let dir = repo().join("tests/fixtures/built").join(fixture);
        let mut paths: Vec<String> = std::fs::read_dir(&dir)
            .expect("built fixtures")
            .map(|e| e.expect("entry").path().to_string_lossy().into_owned())
            .filter(|p| p.ends_with(".tar.zst"))
            .collect();
        paths.sort();
        paths
    };
    let (baseline, sample) = (built("baseline"), built("sample"));
    let out = |name: &str| tmp.path().join(name).to_string_lossy().into_owned();
    let header = |id: &str| {
        format!(
            "/* ---\nid = \"{id}\"\nseverity = \"high\"\nfaq = [\"DCE-01\"]\ncategory = \"workloads\"\n\
             [title]\nen = \"T\"\nzh = \"T\"\n[remediation]\nen = \"R\"\nzh = \"R\"\n--- */\n"
        )
    };
    let rule_dir = |name: &str, files: &[(&str, String)]| {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).expect("mkdir");
        for (file, text) in files {
            std::fs::write(dir.join(file), text).expect("write");
        }
        dir.to_string_lossy().into_owned()
    };
    let broken_header = rule_dir("broken", &[("broken.sql", "SELECT 1".into())]);
    let wrong_id = rule_dir(
        "wrong-id",
        &[(
            "file-name.sql",
            header("other-id") + "SELECT 'r' AS resource, 'm' AS message",
        )],
    );
    let failing = rule_dir(
        "failing",
        &[
            (
                "boom.sql",
                header("boom") + "SELECT error('boom') AS resource, 'm' AS message",
            ),
            (
                "fine.sql",
                header("fine") + "SELECT 'cluster' AS resource, 'm' AS message",
            ),
        ],
    );
    let hostile = repo().join("tests/fixtures/hostile/checksum-mismatch.tar.zst");
    let hostile = hostile.to_string_lossy().into_owned();
    std::fs::write(out("a-file"), "a regular file where a directory must go").expect("write");

    let with = |args: &[&str], bundles: &[String]| -> Vec<String> {
        args.iter()
            .map(|a| a.to_string())
            .chain(bundles.iter().cloned())
            .collect()
    };
    let (ok, findings, bad, failed) = (0, 1, 2, 3);
    let cases: Vec<(&str, Vec<String>, i32, &str)> = vec![
        (
            "no finding at --fail-on",
            with(
                &["analyze", "-q", "--fail-on", "low", "-o", &out("ok")],
                &baseline,
            ),
            ok,
            "",
        ),
        (
            "a finding at --fail-on",
            with(
                &["analyze", "-q", "--fail-on", "high", "-o", &out("fail-on")],
                &sample,
            ),
            findings,
            "",
        ),
        (
            "bad argument value",
            with(&["analyze", "-q", "--lang", "xx"], &baseline),
            bad,
            "--lang",
        ),
        (
            "unknown flag",
            with(&["analyze", "--no-such-flag"], &baseline),
            bad,
            "--no-such-flag",
        ),
        (
            "no bundle given",
            with(&["analyze", "-q"], &[]),
            bad,
            "BUNDLE",
        ),
        (
            "missing bundle",
            with(
                &[
                    "analyze",
                    "-q",
                    "-o",
                    &out("missing"),
                    "/nonexistent/b.tar.zst",
                ],
                &[],
            ),
            bad,
            "/nonexistent/b.tar.zst",
        ),
        (
            "report directory cannot be created",
            with(
                &["analyze", "-q", "-o", &format!("{}/report", out("a-file"))],
                &baseline,
            ),
            failed,
            "a-file/report",
        ),
        (
            "imported bundle cannot be written",
            with(
                &[
                    "import",
                    "-q",
                    &repo().join("tests/foreign/must-gather").to_string_lossy(),
                    "-o",
                    &format!("{}/imported.tar.zst", out("a-file")),
                ],
                &[],
            ),
            failed,
            "a-file",
        ),
        (
            "hostile bundle",
            with(
                &["analyze", "-q", "-o", &out("hostile")],
                std::slice::from_ref(&hostile),
            ),
            bad,
            "sha256 does not match",
        ),
        (
            "rule file without a header",
            with(
                &[
                    "analyze",
                    "-q",
                    "--rules",
                    &broken_header,
                    "-o",
                    &out("broken"),
                ],
                &baseline,
            ),
            bad,
            "broken.sql",
        ),
        (
            "rule id not its file name",
            with(
                &[
                    "analyze",
                    "-q",
                    "--rules",
                    &wrong_id,
                    "-o",
                    &out("wrong-id"),
                ],
                &baseline,
            ),
            bad,
            "file-name.sql",
        ),
        (
            "bad rule file for explain",
            with(&["explain", "--rules", &broken_header, "x"], &[]),
            bad,
            "broken.sql",
        ),
        (
            "a rule fails to run",
            with(
                &[
                    "analyze",
                    "-q",
                    "--no-builtin-rules",
                    "--rules",
                    &failing,
                    "-o",
                    &out("failed"),
                ],
                &baseline,
            ),
            failed,
            "rule boom failed",
        ),
        (
            "sql query fails",
            with(
                &[
                    "sql",
                    "-q",
                    &baseline[0],
                    "-c",
                    "SELECT * FROM no_such_table",
                ],
                &[],
            ),
            findings,
            "no_such_table",
        ),
        (
            "sql over a hostile bundle",
            with(&["sql", "-q", &hostile, "-c", "SELECT 1"], &[]),
            bad,
            "sha256 does not match",
        ),
        (
            "explain matches nothing",
            with(
                &["explain", "zzqx nothing like this is in any catalog qxzz"],
                &[],
            ),
            findings,
            "",
        ),
        (
            "explain matches",
            with(&["explain", "plugin/forward: no nameservers found"], &[]),
            ok,
            "",
        ),
    ];
    for (class, args, code, says) in cases {
        let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
            .args(&args)
            .output()
            .expect("ktriage runs");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{class}: {args:?}: {err}");
        assert!(
            err.contains(says),
            "{class}: stderr does not say {says:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{class}: {err}");
    }
    // A failed rule still leaves every report, with the other rule's finding in it.
    for report in ["report.html", "report.md", "findings.json"] {
        assert!(
            tmp.path().join("failed").join(report).is_file(),
            "{report} written despite the failed rule"
        );
    }
    let json =
        std::fs::read_to_string(tmp.path().join("failed/findings.json")).expect("findings.json");
    assert!(json.contains("\"fine\""), "{json}");
}

#[test]
fn completions_for_four_shells_name_every_subcommand() {
    let subcommands = ktriage_schema::cli::visible_subcommands(&ktriage::cli::command(None));
    assert!(
        subcommands.iter().any(|p| p == &["analyze"]),
        "{subcommands:?}"
    );
    ktriage_tests::cli_docs::assert_completions_cover(
        Path::new(env!("CARGO_BIN_EXE_ktriage")),
        &subcommands,
    );
}

#[test]
fn man_pages_cover_every_subcommand_and_render() {
    let subcommands = ktriage_schema::cli::visible_subcommands(&ktriage::cli::command(None));
    ktriage_tests::cli_docs::assert_man_pages_render(
        Path::new(env!("CARGO_BIN_EXE_ktriage")),
        "ktriage",
        &subcommands,
    );
}

#[test]
fn version_names_crate_commit_bundle_format_and_duckdb() {
    let out = ktriage(&["--version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("ktriage {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        lines[1],
        format!("commit: {}", ktriage_tests::cli_docs::expected_commit())
    );
    assert_eq!(
        lines[2],
        format!(
            "bundle format: {}",
            ktriage_schema::manifest::Manifest::current_format_version()
        )
    );
    // DuckDB names itself `v<major>.<minor>.<patch>`; an error opening it would read `unknown`.
    let duckdb = lines[3].strip_prefix("duckdb: v").expect("a duckdb line");
    assert!(
        duckdb.split('.').take(3).all(|n| n.parse::<u32>().is_ok()),
        "{text}"
    );
    // -V: one line, crate version and commit.
    let short = ktriage(&["-V"]);
    assert_eq!(
        String::from_utf8_lossy(&short.stdout).trim_end(),
        format!(
            "ktriage {} ({})",
            env!("CARGO_PKG_VERSION"),
            ktriage_tests::cli_docs::expected_commit()
        )
    );
}

/// A third party's rule file chooses its title, advice and patterns: `rules` and `explain`
/// show them with control characters escaped, never raw on the terminal.
#[test]
fn third_party_rule_text_reaches_the_terminal_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rule = concat!(
        "/* ---\n",
        "id = \"odd-text\"\n",
        "severity = \"low\"\n",
        "faq = [\"DCE-01\"]\n",
        "category = \"workloads\"\n",
        "patterns = [\"odd marker\"]\n",
        "[title]\n",
        "en = \"Odd \\u001b[2J\\u0007 title\"\n",
        "zh = \"Odd \\u001b]0;x\\u0007 title\"\n",
        "[remediation]\n",
        "en = \"Fix \\u001b[31m it\"\n",
        "zh = \"Fix \\u001b[31m it\"\n",
        "--- */\n",
        "SELECT 'x' AS resource, 'y' AS message WHERE false\n",
    );
    std::fs::write(tmp.path().join("odd-text.sql"), rule).expect("write");
    let dir = tmp.path().to_str().expect("utf-8");
    for args in [
        vec!["rules", "--rules", dir],
        vec![
            "explain",
            "--lang",
            "en",
            "--rules",
            dir,
            "odd marker \u{1b}[5m here",
        ],
    ] {
        let o = ktriage(&args);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(out.contains("Odd"), "{args:?}: {out}");
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: {out:?}"
        );
    }
}
