//! The timeline end to end, through the real binary: the `outage` fixture's known sequence
//! (a node going NotReady, its pod evicted, a stuck rollout, an OOM kill, a kubelet restart)
//! comes out in order with both event shapes as intervals; the sample's HTML report carries a
//! self-contained timeline SVG on which every finding has its anchor; headless Chromium
//! renders that report.

mod common;

use common::stderr;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn ktriage(args: &[&str], bundles: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .args(bundles)
        .output()
        .expect("ktriage runs")
}

fn outage(dir: &Path) -> Vec<PathBuf> {
    common::build_case(&common::repo().join("tests/fixtures/timeline/outage"), dir)
}

/// `ktriage timeline --format json` rows.
fn rows(flags: &[&str], bundles: &[PathBuf]) -> Vec<Value> {
    let mut args = vec!["timeline", "-q", "--format", "json", "--lang", "en"];
    args.extend_from_slice(flags);
    let o = ktriage(&args, bundles);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice::<Vec<Value>>(&o.stdout).expect("a JSON array")
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap_or("")
}

#[test]
fn the_outage_comes_out_in_the_order_it_happened() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = outage(tmp.path());
    let kinds = "kubelet-exit,kubelet-start,node-condition,event,pod-deleting,rollout,rollout-condition,oom-kill";
    let got: Vec<(String, String, String, String)> =
        rows(&["--since", "4h", "--kind", kinds], &bundles)
            .iter()
            .filter(|r| field(r, "severity") != "info" || field(r, "kind") == "event")
            .map(|r| {
                (
                    field(r, "ts").to_string(),
                    field(r, "kind").to_string(),
                    field(r, "severity").to_string(),
                    field(r, "resource").to_string(),
                )
            })
            .collect();
    let want = [
        (
            "2026-01-15T08:30:00Z",
            "kubelet-exit",
            "medium",
            "node/tl-worker-1",
        ),
        (
            "2026-01-15T08:30:05Z",
            "kubelet-start",
            "low",
            "node/tl-worker-1",
        ),
        (
            "2026-01-15T09:00:00Z",
            "node-condition",
            "high",
            "node/tl-worker-2",
        ),
        ("2026-01-15T09:00:40Z", "event", "info", "node/tl-worker-2"),
        (
            "2026-01-15T09:05:40Z",
            "event",
            "info",
            "pod/shop/web-7d4b9c8f6d-x2k9p",
        ),
        (
            "2026-01-15T09:05:40Z",
            "pod-deleting",
            "low",
            "pod/shop/web-7d4b9c8f6d-x2k9p",
        ),
        (
            "2026-01-15T10:01:00Z",
            "event",
            "medium",
            "pod/shop/api-6f7c9d5b8-m4n5p",
        ),
        (
            "2026-01-15T10:10:00Z",
            "rollout-condition",
            "medium",
            "deployment/shop/api",
        ),
        (
            "2026-01-15T11:20:00Z",
            "oom-kill",
            "high",
            "pod/shop/worker-5c9f7b6d4-q8z7m",
        ),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn both_event_shapes_are_intervals_with_their_counts_and_rollouts_name_their_revision() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = outage(tmp.path());
    let events = rows(&["--kind", "event", "--namespace", "shop"], &bundles);
    // core/v1: firstTimestamp = lastTimestamp, count 1: a point.
    let eviction = events
        .iter()
        .find(|e| field(e, "summary").starts_with("TaintManagerEviction"))
        .expect("eviction event");
    assert_eq!(eviction["count"], 1);
    assert!(eviction["end_ts"].is_null(), "{eviction}");
    assert_eq!(field(eviction, "node"), "tl-worker-2");
    assert_eq!(field(eviction, "evidence_kind"), "event");
    assert_eq!(
        field(eviction, "evidence"),
        "e1000000-0000-4000-8000-000000000002"
    );
    // events.k8s.io/v1: eventTime to series.lastObservedTime, series.count.
    let pulls = events
        .iter()
        .find(|e| field(e, "summary").starts_with("Failed: Failed to pull"))
        .expect("events.k8s.io event");
    assert_eq!(field(pulls, "ts"), "2026-01-15T10:01:00Z");
    assert_eq!(field(pulls, "end_ts"), "2026-01-15T10:40:00Z");
    assert_eq!(pulls["count"], 12);
    assert_eq!(field(pulls, "node"), "tl-worker-1");
    let rollouts = rows(&["--kind", "rollout"], &bundles);
    let summaries: Vec<&str> = rollouts.iter().map(|r| field(r, "summary")).collect();
    assert_eq!(
        summaries,
        [
            "rollout: ReplicaSet api-55d8f7c4b created (revision 1)",
            "rollout: ReplicaSet api-6f7c9d5b8 created (revision 2)"
        ]
    );
}

#[test]
fn findings_sit_at_their_earliest_evidence() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = outage(tmp.path());
    let findings = rows(&["--kind", "finding"], &bundles);
    let on = |resource: &str, rule: &str| -> &Value {
        findings
            .iter()
            .find(|f| {
                field(f, "resource") == resource
                    && field(f, "evidence").starts_with(&format!("{rule}#"))
            })
            .unwrap_or_else(|| panic!("no {rule} finding on {resource} in {findings:#?}"))
    };
    // The evicted pod: its first notable fact is losing readiness when its node went away.
    let stuck = on("pod/shop/web-7d4b9c8f6d-x2k9p", "stuck-terminating");
    assert_eq!(field(stuck, "ts"), "2026-01-15T09:00:40Z");
    assert_eq!(field(stuck, "node"), "tl-worker-2");
    // The OOM kill: the termination itself.
    let oom = on("pod/shop/worker-5c9f7b6d4-q8z7m", "container-oomkilled");
    assert_eq!(field(oom, "ts"), "2026-01-15T11:20:00Z");
}

#[test]
fn text_is_oldest_first_with_relative_and_absolute_times() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = outage(tmp.path());
    let o = ktriage(
        &["timeline", "-q", "--lang", "en", "--node", "tl-worker-2"],
        &bundles,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 5, "{text}");
    let stamps: Vec<&str> = lines.iter().map(|l| &l[..23]).collect();
    let mut sorted = stamps.clone();
    sorted.sort();
    assert_eq!(stamps, sorted, "newest last");
    assert!(
        lines.iter().all(|l| l.contains("tl-worker-2")),
        "--node keeps that node only: {text}"
    );
    let ready = lines
        .iter()
        .find(|l| l.contains("Ready=Unknown"))
        .expect("the node going NotReady");
    assert!(
        ready.starts_with("2026-01-15 09:00:00 UTC     -3h  high"),
        "{ready}"
    );
    let csv = ktriage(
        &["timeline", "-q", "--format", "csv", "--kind", "oom-kill"],
        &bundles,
    );
    assert_eq!(csv.status.code(), Some(0), "{}", stderr(&csv));
    let csv = String::from_utf8(csv.stdout).expect("utf-8");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("ts,relative,end_ts,kind,severity")),
        "{csv}"
    );
    let row = lines.next().expect("one row");
    assert!(
        row.starts_with("2026-01-15T11:20:00Z,-40m,,oom-kill,high,"),
        "{row}"
    );
    assert_eq!(lines.next(), None, "{csv}");
}

#[test]
fn bad_times_are_bad_input_named_on_one_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = outage(tmp.path());
    let o = ktriage(
        &["timeline", "-q", "--since", "yesterday\u{1b}[2J"],
        &bundles,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--since yesterday\\u{1b}[2J"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");
}

/// Runs `analyze` on the sample; returns the report directory.
fn analyze_sample(tmp: &Path, lang: &str) -> PathBuf {
    let dir = tmp.join(format!("bundles-{lang}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let bundles = common::sample(&dir);
    let out = tmp.join(format!("report-{lang}"));
    let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["analyze", "-q", "--lang", lang, "-o"])
        .arg(&out)
        .args(&bundles)
        .output()
        .expect("ktriage runs");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

/// `(rule id, findings)` of every group of `findings.json`, benign ones included.
fn finding_counts(report: &Path) -> Vec<(String, usize)> {
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(report.join("findings.json")).expect("findings.json"),
    )
    .expect("JSON");
    assert!(
        json.get("timeline").is_none(),
        "findings.json stays findings"
    );
    ["groups", "benign"]
        .iter()
        .flat_map(|key| json[key].as_array().cloned().unwrap_or_default())
        .map(|g| {
            (
                g["rule_id"].as_str().expect("rule id").to_string(),
                g["findings"].as_array().expect("findings").len(),
            )
        })
        .collect()
}

#[test]
fn the_sample_report_has_a_self_contained_timeline_with_every_finding_on_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let titles = regex::Regex::new("(?s)<title>.*?</title>").expect("regex");
    for (lang, heading) in [("en", "Timeline"), ("zh", "时间线")] {
        let report = analyze_sample(tmp.path(), lang);
        let html = std::fs::read_to_string(report.join("report.html")).expect("report.html");
        assert!(html.contains(&format!(">{heading}</h2>")), "{lang}");
        let start = html
            .find("<svg class=\"timeline\"")
            .expect("the timeline SVG");
        let svg = &html[start..start + html[start..].find("</svg>").expect("closed")];
        // Self-contained: no address in the markup (a finding's text in a tooltip may
        // quote one, as text).
        let markup = titles.replace_all(svg, "");
        assert!(!markup.contains("://"), "the SVG names no address");
        assert!(!html.contains("<script"), "no script");
        assert!(!html.contains("<link"), "no linked resource");
        assert!(!html.contains(" src=\""), "no fetched resource");
        let style =
            &html[html.find("<style>").expect("style")..html.find("</style>").expect("style")];
        assert!(
            !style.contains("url(") && !style.contains("@import"),
            "no CSS resource"
        );
        let counts = finding_counts(&report);
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        assert!(total > 10, "the sample has findings: {counts:?}");
        for (rule, n) in &counts {
            for i in 0..*n {
                let id = format!("finding-{rule}-{i}");
                assert!(
                    svg.contains(&format!("<a href=\"#{id}\" id=\"tl-{id}\">")),
                    "{lang}: no marker for {id}"
                );
                assert!(
                    html.contains(&format!("id=\"{id}\"")),
                    "{lang}: {id} has no anchor in the findings"
                );
                assert!(
                    html.contains(&format!("href=\"#tl-{id}\"")),
                    "{lang}: {id} does not link to its marker"
                );
            }
        }
        let md = std::fs::read_to_string(report.join("report.md")).expect("report.md");
        assert!(md.contains(&format!("## {heading}")), "{lang}: {md}");
        assert!(
            md.contains("| oom-kill |"),
            "{lang}: the OOM kill is in the densest period"
        );
    }
}

/// A headless Chromium screenshot of `page` at the report's window size.
fn screenshot(chromium: &Path, page: &Path, png: &Path) -> Output {
    let profile = tempfile::tempdir().expect("tempdir");
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1400,3000")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

fn find_chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    })
}

#[test]
fn headless_chromium_renders_the_sample_report() {
    let Some(chromium) = find_chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install -y chromium)");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = analyze_sample(tmp.path(), "en");
    let shot = tmp.path().join("report.png");
    let o = screenshot(&chromium, &report.join("report.html"), &shot);
    assert!(shot.is_file(), "no screenshot: {}", stderr(&o));
    // A blank page of the same size is the baseline a rendered report must be well above.
    let blank_page = tmp.path().join("blank.html");
    std::fs::write(&blank_page, "<!DOCTYPE html><html><body></body></html>").expect("write");
    let blank = tmp.path().join("blank.png");
    let o = screenshot(&chromium, &blank_page, &blank);
    assert!(blank.is_file(), "no blank screenshot: {}", stderr(&o));
    let png = std::fs::read(&shot).expect("read");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let (size, blank_size) = (
        png.len(),
        std::fs::metadata(&blank).expect("meta").len() as usize,
    );
    assert!(
        size > 20 * 1024 && size > 5 * blank_size,
        "the screenshot looks blank: {size} bytes, a blank page {blank_size}"
    );
    if let Some(keep) = std::env::var_os("KTRIAGE_SCREENSHOT_OUT") {
        std::fs::copy(&shot, keep).expect("keep the screenshot");
    }
}
