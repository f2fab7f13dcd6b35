//! `ktriage diff` end to end: the real binary compares two fixture snapshots of one cluster,
//! before and after a fix (`tests/fixtures/diff/`), and its three reports say what was
//! resolved, what appeared and which fields changed, without showing hidden values. Odd input
//! (a foreign bundle, a hostile one, two clusters on one side) and SIGINT or SIGTERM in the
//! middle of a generated cluster's diff end in one line, with nothing left behind.

mod common;

use common::{copy_dir, stderr};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use pulldown_cmark::{Event, Options, Parser};
use serde_json::Value;

fn fixture(side: &str) -> PathBuf {
    common::repo().join("tests/fixtures/diff").join(side)
}

/// Builds the fixture case `src` into `dir` and returns its bundles as one comma-separated
/// argument.
fn side(src: &Path, dir: &Path) -> String {
    std::fs::create_dir_all(dir).expect("mkdir");
    common::build_case(src, dir)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

fn diff(old: &str, new: &str, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["diff", old, new, "-q", "-o"])
        .arg(out)
        .args(extra)
        .output()
        .expect("ktriage runs")
}

fn read(out: &Path, name: &str) -> String {
    std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(out: &Path) -> Value {
    serde_json::from_str(&read(out, "diff.json")).expect("diff.json parses")
}

/// `(rule_id, resource)` of a findings list of diff.json.
fn keys(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().expect("rule_id").to_string(),
                f["resource"].as_str().expect("resource").to_string(),
            )
        })
        .collect()
}

/// The change of `field` on the object `kind/namespace/name`, if any.
fn change<'a>(
    d: &'a Value,
    kind: &str,
    namespace: &str,
    name: &str,
    field: &str,
) -> Option<&'a Value> {
    d["objects"]["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .find(|o| o["kind"] == kind && o["namespace"] == namespace && o["name"] == name)
        .and_then(|o| {
            o["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .find(|c| c["field"] == field)
        })
}

fn has_object(list: &Value, kind: &str, name: &str) -> bool {
    list.as_array()
        .expect("objects")
        .iter()
        .any(|o| o["kind"] == kind && o["name"] == name)
}

#[test]
fn diff_of_a_fix_lists_resolved_and_new_findings_and_the_changed_fields() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = side(&fixture("before"), &tmp.path().join("old"));
    let new = side(&fixture("after"), &tmp.path().join("new"));
    let out = tmp.path().join("out");
    let o = diff(&old, &new, &out, &["--lang", "en", "--fail-on", "high"]);
    // The new image pull failure is high: --fail-on high fails on it.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let d = json(&out);
    assert_eq!(d["schema"], "ktriage-diff/1");
    assert_eq!(d["warnings"].as_array().map(Vec::len), Some(0));

    let resolved = keys(&d["findings"]["resolved"]);
    for expected in [
        ("container-oomkilled", "deployment/shop/cart"),
        ("image-pull-unreachable-registry", "deployment/shop/web"),
    ] {
        assert!(
            resolved
                .iter()
                .any(|(r, res)| (r.as_str(), res.as_str()) == expected),
            "{expected:?} not resolved: {resolved:?}"
        );
    }
    let appeared = keys(&d["findings"]["appeared"]);
    assert_eq!(
        appeared,
        vec![(
            "image-pull-unreachable-registry".to_string(),
            "deployment/shop/search".to_string()
        )],
        "only the new pull failure appeared"
    );
    let new_finding = &d["findings"]["appeared"][0];
    assert_eq!(new_finding["severity"], "high");
    assert_eq!(new_finding["object"], "pod/shop/search-5f4e3d2c1-w6v5u");

    // The fix itself: the limit raised, the image changed.
    let limit = change(
        &d,
        "Deployment",
        "shop",
        "cart",
        "containers[app].resources.limits.memory",
    )
    .expect("cart's memory limit changed");
    assert_eq!(
        (limit["old"].as_str(), limit["new"].as_str()),
        (Some("128Mi"), Some("512Mi"))
    );
    assert_eq!(limit["change"], "changed");
    let image = change(&d, "Deployment", "shop", "web", "containers[web].image")
        .expect("web's image changed");
    assert_eq!(
        (image["old"].as_str(), image["new"].as_str()),
        (
            Some("registry.example.com/shop/web:2.0.1"),
            Some("registry.example.com/shop/web:2.0.2")
        )
    );
    // Same pod, more restarts.
    let restarts = change(
        &d,
        "Pod",
        "shop",
        "db-0",
        "containers[postgres].restartCount",
    )
    .expect("db-0 restarts grew");
    assert_eq!(restarts["change"], "grew");
    assert_eq!(
        (restarts["old"].as_str(), restarts["new"].as_str()),
        (Some("1"), Some("3"))
    );
    assert_eq!(d["summary"]["restarts_grew"], 1);
    // The node: kernel, kubelet configuration, a host file by checksum; the file that stayed
    // the same and the Ready condition (only its heartbeat moved) do not show.
    let kernel = change(&d, "Node", "", "worker-1", "status.nodeInfo.kernelVersion")
        .expect("kernel changed");
    assert_eq!(kernel["new"], "5.15.0-101-generic");
    let max_pods =
        change(&d, "Node", "", "worker-1", "kubelet configz: maxPods").expect("maxPods changed");
    assert_eq!(
        (max_pods["old"].as_str(), max_pods["new"].as_str()),
        (Some("110"), Some("150"))
    );
    let file = change(
        &d,
        "Node",
        "",
        "worker-1",
        "host file /etc/containerd/config.toml",
    )
    .expect("containerd config changed");
    assert_eq!(file["hidden"], true);
    assert!(change(&d, "Node", "", "worker-1", "host file /etc/resolv.conf").is_none());
    assert!(change(&d, "Node", "", "worker-1", "status.conditions[Ready]").is_none());
    // ConfigMap keys: changed and added, by name only.
    let level = change(&d, "ConfigMap", "shop", "cart-config", "data[LOG_LEVEL]")
        .expect("LOG_LEVEL changed");
    assert_eq!(level["change"], "changed");
    assert!(level["old"].is_null() && level["new"].is_null(), "{level}");
    let flags = change(
        &d,
        "ConfigMap",
        "shop",
        "cart-config",
        "data[FEATURE_FLAGS]",
    )
    .expect("FEATURE_FLAGS added");
    assert_eq!(flags["change"], "added");
    assert!(change(&d, "ConfigMap", "shop", "cart-config", "data[CACHE_TTL]").is_none());
    // Unchanged objects do not show; noise fields never do.
    for o in d["objects"]["changed"].as_array().expect("changed") {
        assert_ne!(o["name"], "db", "the StatefulSet did not change: {o}");
        for c in o["changes"].as_array().expect("changes") {
            let field = c["field"].as_str().expect("field");
            assert!(
                !field.contains("resourceVersion")
                    && !field.contains("generation")
                    && !field.contains("Heartbeat"),
                "{field}"
            );
        }
    }
    assert!(has_object(&d["objects"]["added"], "Deployment", "search"));
    assert!(has_object(
        &d["objects"]["removed"],
        "Pod",
        "cart-5d8f7b9c4-x7k2p"
    ));

    let md = read(&out, "diff.md");
    let html = read(&out, "diff.html");
    for (name, text) in [
        ("diff.md", &md),
        ("diff.html", &html),
        ("diff.json", &read(&out, "diff.json")),
    ] {
        for secret in ["pw-before-4f1d", "pw-after-9c2e", "new-checkout"] {
            assert!(
                !text.contains(secret),
                "{name} shows the ConfigMap value {secret}"
            );
        }
    }
    for text in [&md, &html] {
        assert!(text.contains("512Mi") && text.contains("search-5f4e3d2c1-w6v5u"));
        assert!(text.contains("Resolved findings") && text.contains("container-oomkilled"));
    }
    assert!(md.contains("deployment/shop/search"));
    assert!(html.contains("deployment&#x2f;shop&#x2f;search"));
    assert!(
        html.contains("<style>") && !html.contains("<script"),
        "self-contained, inert HTML"
    );
}

#[test]
fn fail_on_counts_only_new_findings_and_chinese_reports_are_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = side(&fixture("before"), &tmp.path().join("old"));
    let new = side(&fixture("after"), &tmp.path().join("new"));
    let out = tmp.path().join("out");
    // The new finding is high, not critical.
    let o = diff(&old, &new, &out, &["--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = read(&out, "diff.html");
    assert!(
        html.contains("已解决的问题") && html.contains("新出现的问题"),
        "Chinese headings"
    );
    assert!(read(&out, "diff.md").contains("变更的对象"));
    // A snapshot compared with itself: nothing appeared, nothing to fail on, even though
    // high findings persist.
    let same = tmp.path().join("same");
    let o = diff(
        &old,
        &old,
        &same,
        &["--fail-on", "high", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = json(&same);
    assert_eq!(d["summary"]["appeared"], 0);
    assert_eq!(d["summary"]["resolved"], 0);
    assert!(d["summary"]["persisted"].as_u64().expect("persisted") >= 2);
    assert_eq!(d["summary"]["objects_changed"], 0, "{}", d["objects"]);
    assert!(
        !same.join("diff.html").exists(),
        "--format json writes diff.json only"
    );
}

#[test]
fn different_clusters_and_swapped_sides_are_warned_about() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = side(&fixture("before"), &tmp.path().join("old"));
    let new = side(&fixture("after"), &tmp.path().join("new"));
    let other = side(
        &common::repo().join("tests/fixtures/baseline/cluster"),
        &tmp.path().join("other"),
    );

    let out = tmp.path().join("clusters");
    let o = diff(&old, &other, &out, &["--lang", "en"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: OLD and NEW are different clusters"),
        "{err}"
    );
    let d = json(&out);
    let codes: Vec<&str> = d["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["cluster-mismatch"]);
    assert!(read(&out, "diff.html").contains("different clusters"));
    assert!(read(&out, "diff.md").contains("different clusters"));

    let out = tmp.path().join("swapped");
    let o = diff(&new, &old, &out, &["--lang", "en", "--format", "json"]);
    assert!(
        stderr(&o).contains("warning: OLD was collected after NEW"),
        "{}",
        stderr(&o)
    );
    let d = json(&out);
    let codes: Vec<&str> = d["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["sides-swapped"]);
    // Swapped, the fixed problems read as appeared.
    assert!(
        keys(&d["findings"]["appeared"])
            .iter()
            .any(|(r, res)| r == "container-oomkilled" && res == "deployment/shop/cart")
    );
}

/// Control characters and markup in names and values from a bundle stay inert escapes in all
/// three outputs.
#[test]
fn hostile_names_stay_escaped_in_every_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let evil = "evil\u{1b}]0;owned\u{7}\u{1b}[2J<script>alert(1)</script>";
    let mut sides = Vec::new();
    for (name, image) in [
        ("before", "registry.example.com/a:1"),
        ("after", "registry.example.com/a:2\u{1b}[31m"),
    ] {
        let src = tmp.path().join(format!("src-{name}"));
        copy_dir(&fixture(name), &src);
        let objects = serde_json::json!({"kind": "List", "items": [
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": format!("{evil}-deploy"), "namespace": "shop", "uid": "f6000000-0000-4000-8000-000000000001"},
             "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": evil, "image": image}]}}}},
        ]});
        let mut items = objects["items"].as_array().expect("items").clone();
        if name == "after" {
            items.push(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("{evil}-cm"), "namespace": "shop", "uid": "f6000000-0000-4000-8000-000000000002"},
                "data": {evil: "x"}}));
        }
        std::fs::write(
            src.join("cluster/objects/hostile.json"),
            serde_json::to_string(&serde_json::json!({"kind": "List", "items": items}))
                .expect("json"),
        )
        .expect("write");
        sides.push(side(&src, &tmp.path().join(name)));
    }
    let out = tmp.path().join("out");
    let o = diff(&sides[0], &sides[1], &out, &["--lang", "en"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in ["diff.md", "diff.html", "diff.json"] {
        let text = read(&out, name);
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{name} carries a raw control character"
        );
        match name {
            "diff.html" => assert!(!text.contains("<script>"), "{name} carries live markup"),
            "diff.md" => assert!(
                Parser::new_ext(&text, Options::ENABLE_TABLES)
                    .all(|e| !matches!(e, Event::Html(_) | Event::InlineHtml(_))),
                "{name} carries live markup"
            ),
            _ => {}
        }
        assert!(text.contains("evil"), "{name} lost the hostile object");
    }
    assert!(read(&out, "diff.html").contains("evil\\u{1b}]0;owned\\u{7}"));
    assert!(read(&out, "diff.md").contains("evil\\u{1b}\\]0;owned\\u{7}"));
    let d = json(&out);
    assert!(has_object(
        &d["objects"]["added"],
        "ConfigMap",
        &format!("{evil}-cm")
    ));
    assert!(
        change(
            &d,
            "Deployment",
            "shop",
            &format!("{evil}-deploy"),
            &format!("containers[{evil}].image")
        )
        .is_some()
    );
}

#[test]
fn a_side_with_two_clusters_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = side(&fixture("before/cluster"), &tmp.path().join("old"));
    let other = side(
        &common::repo().join("tests/fixtures/baseline/cluster"),
        &tmp.path().join("other"),
    );
    let out = tmp.path().join("out");
    let o = diff(&format!("{old},{other}"), &old, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("OLD") && err.contains("2 cluster bundles"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists(), "no report for a refused input");
}

/// A `ktriage diff` with its own empty `TMPDIR`, so whatever it leaves there shows.
struct Isolated {
    tmpdir: tempfile::TempDir,
}

impl Isolated {
    fn new() -> Isolated {
        Isolated {
            tmpdir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn command(&self, old: &str, new: &str, out: &Path, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ktriage"));
        c.args(["diff", old, new, "-q", "--lang", "en", "-o"])
            .arg(out)
            .args(extra)
            .env("TMPDIR", self.tmpdir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn diff(&self, old: &str, new: &str, out: &Path, extra: &[&str]) -> Output {
        self.command(old, new, out, extra)
            .output()
            .expect("ktriage runs")
    }

    /// What the command left in its `TMPDIR`: work directories, DuckDB spill.
    fn leftovers(&self) -> Vec<String> {
        entries(self.tmpdir.path())
    }
}

/// The names in `dir`; none when it does not exist.
fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(list) => list
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn one_line(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

/// A generated cluster big enough that its diff is mid-work a second after it starts.
fn generated_cluster(dir: &Path) -> String {
    let spec = ktriage_tests::generate::Spec {
        nodes: 200,
        pods: 6000,
        host_bundles: 1,
        ..ktriage_tests::generate::Spec::named("S").expect("S")
    };
    ktriage_tests::generate::generate(&spec, dir)
        .expect("generated")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

/// Waits for `child` at most `limit`; kills it and fails if it is still running.
fn wait_within(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigint_and_sigterm_stop_a_diff_mid_work_leaving_no_report_and_no_temp_file() {
    let data = tempfile::tempdir().expect("tempdir");
    let cluster = generated_cluster(&data.path().join("gen"));
    for (name, code, settle) in [
        ("INT", 130, Duration::from_millis(500)),
        ("TERM", 143, Duration::from_millis(2500)),
    ] {
        let run = Isolated::new();
        let out = data.path().join(format!("out-{name}"));
        // A finished diff's reports are in the way: an interrupted one must not touch them.
        std::fs::create_dir_all(&out).expect("mkdir");
        std::fs::write(out.join("diff.md"), "earlier").expect("write");
        let child = run
            .command(&cluster, &cluster, &out, &[])
            .spawn()
            .expect("ktriage starts");
        let start = Instant::now();
        while run.leftovers().is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no work directory"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(settle);
        common::send(&child, name);
        let o = wait_within(child, Duration::from_secs(10));
        let err = one_line(&o);
        assert_eq!(o.status.code(), Some(code), "SIG{name}: {err}");
        assert!(err.contains(&format!("interrupted by SIG{name}")), "{err}");
        assert!(
            run.leftovers().is_empty(),
            "SIG{name}: {:?}",
            run.leftovers()
        );
        assert_eq!(entries(&out), ["diff.md"], "SIG{name}");
        assert_eq!(
            std::fs::read_to_string(out.join("diff.md")).expect("read"),
            "earlier"
        );
    }
}

#[test]
fn the_same_file_on_both_sides_differs_in_nothing() {
    let run = Isolated::new();
    let tmp = tempfile::tempdir().expect("tempdir");
    let old = side(&fixture("before"), &tmp.path().join("old"));
    let out = tmp.path().join("out");
    let o = run.diff(&old, &old, &out, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let d = json(&out);
    for count in [
        "appeared",
        "resolved",
        "objects_added",
        "objects_removed",
        "objects_changed",
    ] {
        assert_eq!(d["summary"][count], 0, "{count}: {}", d["summary"]);
    }
    assert_eq!(
        entries(&out),
        ["diff.json"],
        "no staging left beside the report"
    );
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}

/// `tests/foreign/<tree>` tarred as troubleshoot writes it: one wrapping directory, gzip.
fn troubleshoot_archive(tree: &str, dir: &Path) -> PathBuf {
    let staging = dir.join("staging");
    let top = staging.join("support-bundle-2026-01-15T12_00_00");
    std::fs::create_dir_all(&staging).expect("mkdir");
    copy_dir(&common::repo().join("tests/foreign").join(tree), &top);
    let out = dir.join("support-bundle.tar.gz");
    let tarred = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(&staging)
        .arg("support-bundle-2026-01-15T12_00_00")
        .status()
        .expect("tar runs");
    assert!(tarred.success());
    out
}

#[test]
fn a_foreign_bundle_is_imported_on_its_side_and_compared() {
    let run = Isolated::new();
    let tmp = tempfile::tempdir().expect("tempdir");
    let foreign = troubleshoot_archive("troubleshoot/current", tmp.path());
    let foreign = foreign.to_str().expect("UTF-8");
    let old = side(&fixture("before"), &tmp.path().join("old"));

    let out = tmp.path().join("same");
    let o = run.diff(foreign, foreign, &out, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = json(&out);
    assert_eq!(d["new"]["bundles"][0]["source"], foreign, "{}", d["new"]);
    assert!(d["summary"]["objects_changed"] == 0 && d["summary"]["appeared"] == 0);

    let out = tmp.path().join("mixed");
    let o = run.diff(&old, foreign, &out, &["--format", "json"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let d = json(&out);
    assert!(
        d["summary"]["objects_added"].as_u64().expect("added") > 0,
        "the foreign side's objects were loaded: {}",
        d["summary"]
    );
    assert!(run.leftovers().is_empty(), "{:?}", run.leftovers());
}

#[test]
fn a_hostile_or_unreadable_side_is_refused_in_one_line_naming_the_file() {
    let run = Isolated::new();
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = side(&fixture("before/cluster"), &tmp.path().join("good"));
    let mut cases: Vec<(String, String)> = Vec::new();
    for case in ktriage_tests::hostile::corpus().expect("corpus") {
        let path = tmp.path().join(case.name);
        std::fs::write(&path, &case.bytes).expect("write");
        cases.push((path.to_string_lossy().into_owned(), case.expect.to_string()));
    }
    let missing = tmp.path().join("missing.tar.zst");
    cases.push((
        missing.to_string_lossy().into_owned(),
        "missing.tar.zst".into(),
    ));
    let garbage = tmp.path().join("garbage.tar.zst");
    std::fs::write(&garbage, b"not a bundle at all").expect("write");
    cases.push((
        garbage.to_string_lossy().into_owned(),
        "garbage.tar.zst".into(),
    ));
    for (i, (bad, expect)) in cases.iter().enumerate() {
        // OLD, and NEW after a good OLD was loaded and dropped.
        let sides = [
            (bad.as_str(), good.as_str(), "OLD"),
            (good.as_str(), bad.as_str(), "NEW"),
        ];
        for (j, (old, new, which)) in sides.into_iter().enumerate() {
            let out = tmp.path().join(format!("out-{i}-{j}"));
            let o = run.diff(old, new, &out, &[]);
            let err = one_line(&o);
            assert_eq!(o.status.code(), Some(2), "{bad} as {which}: {err}");
            let name = Path::new(bad).file_name().expect("name").to_string_lossy();
            assert!(err.contains(name.as_ref()), "{bad} as {which}: {err}");
            assert!(err.contains(expect.as_str()), "{bad} as {which}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(!out.exists(), "{bad} as {which}: a report was written");
            assert!(
                run.leftovers().is_empty(),
                "{bad} as {which}: {:?}",
                run.leftovers()
            );
        }
    }
}
