//! A bundle holding an object line over the line limit (a foreign or older collector wrote
//! it) analyzes: that object is skipped with a gap naming it, everything else loads.

mod common;

use common::{copy_dir, ktriage};

use ktriage_schema::layout;
use serde_json::json;

/// Rows of `ktriage sql` in TSV, header left out.
fn query(bundle: &str, sql: &str) -> Vec<String> {
    let o = ktriage(&["sql", "-q", "--output", "tsv", bundle, "-c", sql]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn an_object_over_the_line_limit_is_skipped_with_a_gap() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("cluster");
    let repo = ktriage_tests::manifest_dir!().join("..");
    copy_dir(&repo.join("tests/fixtures/baseline/cluster"), &source);
    let configmaps = ktriage_tests::source::read_objects(&source.join("objects"))
        .expect("objects")
        .iter()
        .filter(|o| o["kind"] == "ConfigMap")
        .count();
    assert!(configmaps > 0);
    // Sorted among the other ConfigMaps by name, so some load before it and some after.
    let huge = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "m-huge", "namespace": "shop"},
        "data": {"blob": "x".repeat(20 << 20)}
    });
    std::fs::write(
        source.join("objects/huge.json"),
        serde_json::to_vec(&huge).expect("json"),
    )
    .expect("write");
    let bundle = tmp.path().join("huge.tar.zst");
    ktriage_tests::source::build(&source, &bundle).expect("build");
    let bundle = bundle.to_str().expect("utf-8");

    let out = tmp.path().join("report");
    let o = ktriage(&[
        "analyze",
        "-q",
        "--lang",
        "en",
        "-o",
        out.to_str().expect("utf-8"),
        bundle,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    let gaps_section = report.split("\n## ").find(|s| s.contains("| too-large |"));
    assert!(
        gaps_section.is_some_and(|s| s.contains("m-huge")),
        "the gap is in the report: {}",
        &report[report.len().saturating_sub(3000)..]
    );

    let gaps = query(bundle, "SELECT what, location, reason, detail FROM gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let gap: Vec<&str> = gaps[0].split('\t').collect();
    assert_eq!(&gap[..3], ["object", "ConfigMap shop/m-huge", "too-large"]);
    let size = serde_json::to_vec(&huge).expect("json").len();
    assert!(
        gap[3].contains(&format!(
            ": {size} bytes, over the {}-byte limit",
            layout::MAX_LINE_BYTES
        )),
        "{}",
        gap[3]
    );
    assert!(
        gap[3].starts_with("cluster/core/v1/configmaps.ndjson line "),
        "{}",
        gap[3]
    );
    let loaded = query(
        bundle,
        "SELECT count(*) FROM objects WHERE kind = 'ConfigMap'",
    );
    assert_eq!(loaded, vec![configmaps.to_string()]);
    let pods = query(bundle, "SELECT count(*) FROM pods");
    assert_ne!(pods, vec!["0".to_string()]);
}

#[test]
fn an_object_line_at_the_limit_loads() {
    // What the collector may still write must load: a line of exactly the limit, newline
    // included.
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("cluster");
    std::fs::create_dir_all(source.join("objects")).expect("mkdir");
    let mut object = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "at-limit", "namespace": "default"},
        "data": {"blob": ""}
    });
    let base = serde_json::to_vec(&object).expect("json").len();
    object["data"]["blob"] = json!("y".repeat(layout::MAX_LINE_BYTES - 1 - base));
    std::fs::write(
        source.join("objects/at-limit.json"),
        serde_json::to_vec(&object).expect("json"),
    )
    .expect("write");
    let bundle = tmp.path().join("limit.tar.zst");
    ktriage_tests::source::build(&source, &bundle).expect("build");
    let bundle = bundle.to_str().expect("utf-8");
    let rows = query(
        bundle,
        "SELECT name, length(doc) FROM objects UNION ALL SELECT 'gaps', count(*) FROM gaps",
    );
    assert_eq!(
        rows,
        vec![
            format!("at-limit\t{}", layout::MAX_LINE_BYTES - 1),
            "gaps\t0".to_string()
        ]
    );
}
