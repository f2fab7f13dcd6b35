//! Every rule against its fixtures: each fires on its `fire` case and stays quiet on its
//! `quiet` near-miss; every `detect` and `benign` FAQ entry is covered by a rule; the healthy
//! baseline yields nothing above info.
//!
//! Rules are read from `analyzer/rules/` on disk, so editing a rule needs no rebuild of this
//! test. `KTRIAGE_RULE=<id>` limits the fixture tests to one rule while developing it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ktriage::case::Case;
use ktriage::progress::Progress;
use ktriage::rules::{self, Rule, Severity, engine};
use ktriage_schema::reader::Limits;
use serde::Deserialize;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn disk_rules() -> Vec<Rule> {
    let rules = rules::from_dir(&repo().join("analyzer/rules")).expect("rules load");
    let ids: BTreeSet<_> = rules.iter().map(|r| r.meta.id.clone()).collect();
    assert_eq!(ids.len(), rules.len(), "rule ids must be unique");
    rules
}

fn fixture_dir(rule: &Rule, case: &str) -> PathBuf {
    repo()
        .join("tests/fixtures/rules")
        .join(&rule.meta.id)
        .join(case)
}

/// Builds every bundle source of `dir` into a temp dir and opens them as one case.
fn open_case(dir: &Path) -> (Case, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sources = ktriage_tests::source::bundle_sources(dir).unwrap_or_else(|e| panic!("{e:#}"));
    let mut archives = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let out = tmp.path().join(format!("b{i}.tar.zst"));
        ktriage_tests::source::build(src, &out)
            .unwrap_or_else(|e| panic!("{}: {e:#}", src.display()));
        archives.push(out);
    }
    let case = Case::open(&archives, &Limits::default(), &Progress::hidden())
        .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
    (case, tmp)
}

/// Optional `expect.toml` beside a `fire` fixture: sharper checks than "fires at all".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Expect {
    /// Exact number of findings.
    count: Option<usize>,
    /// Substrings that must each appear in some finding's message or evidence.
    contains: Vec<String>,
    /// Highest severity expected.
    severity: Option<String>,
    /// Nodes that must be named by findings.
    nodes: Vec<String>,
}

fn selected(rule: &Rule) -> bool {
    std::env::var("KTRIAGE_RULE")
        .map(|only| only == rule.meta.id)
        .unwrap_or(true)
}

#[test]
fn every_rule_fires_on_its_case_and_stays_quiet_on_its_near_miss() {
    let mut failures = Vec::new();
    for rule in disk_rules().iter().filter(|r| selected(r)) {
        let fire = fixture_dir(rule, "fire");
        let quiet = fixture_dir(rule, "quiet");
        if !fire.is_dir() || !quiet.is_dir() {
            failures.push(format!(
                "{}: needs fixtures {} and {}",
                rule.meta.id,
                fire.display(),
                quiet.display()
            ));
            continue;
        }
        let (case, _tmp) = open_case(&fire);
        let run = engine::run_rule(&case.conn, rule);
        if let Some(e) = &run.error {
            failures.push(format!("{}: failed on fire: {e}", rule.meta.id));
            continue;
        }
        if run.findings.is_empty() {
            failures.push(format!("{}: no finding on its fire fixture", rule.meta.id));
        }
        let expect_path = fire.join("expect.toml");
        if expect_path.exists() {
            let text = std::fs::read_to_string(&expect_path).expect("read expect.toml");
            let expect: Expect =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", expect_path.display()));
            if let Some(n) = expect.count
                && run.findings.len() != n
            {
                failures.push(format!(
                    "{}: expected {n} findings, got {}: {:#?}",
                    rule.meta.id,
                    run.findings.len(),
                    run.findings
                ));
            }
            let haystack: Vec<String> = run
                .findings
                .iter()
                .map(|f| format!("{}\n{}", f.message, f.evidence.clone().unwrap_or_default()))
                .collect();
            for needle in &expect.contains {
                if !haystack.iter().any(|h| h.contains(needle.as_str())) {
                    failures.push(format!(
                        "{}: no finding mentions {needle:?}; got {haystack:#?}",
                        rule.meta.id
                    ));
                }
            }
            if let Some(sev) = &expect.severity {
                let worst = run
                    .findings
                    .iter()
                    .map(|f| f.severity)
                    .max()
                    .map(|s| s.as_str().to_string());
                if worst.as_deref() != Some(sev.as_str()) {
                    failures.push(format!(
                        "{}: expected severity {sev}, got {worst:?}",
                        rule.meta.id
                    ));
                }
            }
            for node in &expect.nodes {
                if !run
                    .findings
                    .iter()
                    .any(|f| f.node.as_deref() == Some(node.as_str()))
                {
                    failures.push(format!("{}: no finding names node {node}", rule.meta.id));
                }
            }
        }
        let (case, _tmp) = open_case(&quiet);
        let run = engine::run_rule(&case.conn, rule);
        if let Some(e) = &run.error {
            failures.push(format!("{}: failed on quiet: {e}", rule.meta.id));
        } else if !run.findings.is_empty() {
            failures.push(format!(
                "{}: fired on its quiet near-miss: {:#?}",
                rule.meta.id, run.findings
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_detect_and_benign_faq_entry_has_a_rule() {
    let covered: BTreeSet<String> = disk_rules()
        .iter()
        .flat_map(|r| r.meta.faq.clone())
        .collect();
    let catalog = ktriage::faq::catalog();
    for id in &covered {
        assert!(
            catalog.iter().any(|e| &e.id == id),
            "a rule names {id}, which is not in the catalog"
        );
    }
    let missing: Vec<&str> = catalog
        .iter()
        .filter(|e| e.class == "detect" || e.class == "benign")
        .filter(|e| !covered.contains(&e.id))
        .map(|e| e.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "{} catalog entries have no rule: {}",
        missing.len(),
        missing.join(", ")
    );
}

#[test]
fn benign_entries_are_benign_rules() {
    let catalog = ktriage::faq::catalog();
    for rule in disk_rules() {
        for id in &rule.meta.faq {
            let benign = catalog.iter().any(|e| &e.id == id && e.class == "benign");
            if benign {
                assert!(
                    rule.meta.benign,
                    "{} covers benign {id} but is not marked benign",
                    rule.meta.id
                );
            }
        }
    }
}

#[test]
fn healthy_baseline_yields_nothing_above_info() {
    let (case, _tmp) = open_case(&repo().join("tests/fixtures/baseline"));
    let mut loud = Vec::new();
    for rule in disk_rules() {
        let run = engine::run_rule(&case.conn, &rule);
        assert!(run.error.is_none(), "{}: {:?}", rule.meta.id, run.error);
        loud.extend(
            run.findings
                .into_iter()
                .filter(|f| f.severity > Severity::Info),
        );
    }
    assert!(
        loud.is_empty(),
        "the healthy baseline raised findings: {loud:#?}"
    );
}

#[test]
fn embedded_rule_list_matches_the_rules_directory() {
    let list = std::fs::read_to_string(repo().join("analyzer/src/builtin_rules.rs"))
        .expect("builtin_rules.rs");
    let mut on_disk: Vec<String> = std::fs::read_dir(repo().join("analyzer/rules"))
        .expect("rules dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".sql"))
        .collect();
    on_disk.sort();
    let body = list.split("rules![").nth(1).expect("a rules![...] list");
    let listed: Vec<String> = body
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"').and_then(|r| r.strip_suffix("\",")))
        .map(String::from)
        .collect();
    assert_eq!(
        listed, on_disk,
        "analyzer/src/builtin_rules.rs must list every analyzer/rules/*.sql, one per line, sorted"
    );
}
