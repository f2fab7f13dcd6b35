//! Every rule against its fixtures: each fires on its `fire` case and stays quiet on its
//! `quiet` near-miss; every `detect` and `benign` FAQ entry is covered by a rule; the healthy
//! baseline yields nothing above info.
//!
//! Rules are read from `analyzer/rules/` on disk, so editing a rule needs no rebuild of this
//! test. `KTRIAGE_RULE=<id>` limits the fixture tests to one rule while developing it.

mod common;

use common::repo;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ktriage::case::{Case, CaseOptions};
use ktriage::progress::Progress;
use ktriage::rules::{self, Rule, Severity, engine};
use serde::Deserialize;

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
    let case = Case::open(&archives, &CaseOptions::default(), &Progress::hidden())
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
    /// Substrings that must each appear in some finding's Chinese message.
    contains_zh: Vec<String>,
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
    let rules = disk_rules();
    for rule in rules.iter().filter(|r| selected(r)) {
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
        failures.extend(problems_on_fire(rule, &fire));
        for variant in cases_named(rule, "fire-") {
            failures.extend(problems_on_fire(rule, &variant));
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
        for benign in cases_named(rule, "quiet-") {
            failures.extend(loud_on_look_alike(rule, &rules, &benign));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A rule's fixture cases whose names start with `prefix`: `quiet-<case>` benign look-alikes
/// seen on real clusters, `fire-<case>` other forms of the problem.
fn cases_named(rule: &Rule, prefix: &str) -> Vec<PathBuf> {
    let dir = repo().join("tests/fixtures/rules").join(&rule.meta.id);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_dir()
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    cases
}

/// What is wrong with `rule` on a case it must fire on (`fire`, or a `fire-<variant>` with
/// the evidence in another place or form): an error, no finding, a finding without both
/// messages, or a miss of what the case's optional `expect.toml` names.
fn problems_on_fire(rule: &Rule, dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let mut failures = Vec::new();
    let (case, _tmp) = open_case(dir);
    let run = engine::run_rule(&case.conn, rule);
    if let Some(e) = &run.error {
        return vec![format!("{}: failed on {name}: {e}", rule.meta.id)];
    }
    if run.findings.is_empty() {
        failures.push(format!(
            "{}: no finding on its {name} fixture",
            rule.meta.id
        ));
    }
    for f in &run.findings {
        if f.message.trim().is_empty() {
            failures.push(format!(
                "{}: finding {} has no message",
                rule.meta.id, f.resource
            ));
        }
        let zh = f.message_zh.as_deref().unwrap_or_default();
        if !zh.chars().any(is_chinese) {
            failures.push(format!(
                "{}: finding {} has no Chinese message (message_zh: {zh:?})",
                rule.meta.id, f.resource
            ));
        }
    }
    let expect_path = dir.join("expect.toml");
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
        for needle in &expect.contains_zh {
            if !run.findings.iter().any(|f| {
                f.message_zh
                    .as_deref()
                    .is_some_and(|m| m.contains(needle.as_str()))
            }) {
                failures.push(format!(
                    "{}: no Chinese message mentions {needle:?}",
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
    failures
}

/// Runs `rule` with the root-cause rules it names on a benign look-alike: problems when it
/// fails or raises anything above info there.
fn loud_on_look_alike(rule: &Rule, all: &[Rule], dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let with_causes: Vec<Rule> = all
        .iter()
        .filter(|r| r.meta.id == rule.meta.id || rule.meta.symptom_of.contains(&r.meta.id))
        .cloned()
        .collect();
    let (case, _tmp) = open_case(dir);
    let runs = engine::run_case(
        &case.conn,
        &with_causes,
        1,
        engine::Limits::default(),
        &|_| {},
    )
    .expect("rules run");
    let run = runs
        .iter()
        .find(|r| r.rule_id == rule.meta.id)
        .expect("the rule ran");
    if let Some(e) = &run.error {
        return vec![format!("{}: failed on {name}: {e}", rule.meta.id)];
    }
    let loud: Vec<_> = run
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .collect();
    if loud.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{}: raised findings above info on its benign look-alike {name}: {loud:#?}",
            rule.meta.id
        )]
    }
}

#[test]
fn log_rules_say_how_recent_and_frequent_their_evidence_must_be() {
    let rules = disk_rules();
    let ids: BTreeSet<&str> = rules.iter().map(|r| r.meta.id.as_str()).collect();
    let mut missing = Vec::new();
    for rule in &rules {
        if rule.sql.contains("log_lines") && rule.meta.recent_window().is_none() {
            missing.push(format!(
                "{}: reads log_lines but declares no recent window",
                rule.meta.id
            ));
        }
        for cause in &rule.meta.symptom_of {
            if !ids.contains(cause.as_str()) {
                missing.push(format!(
                    "{}: symptom_of names no rule {cause:?}",
                    rule.meta.id
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// A CJK unified ideograph: what a Chinese message cannot do without.
fn is_chinese(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
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

/// Healthy clusters with the noise real ones carry (`tests/fixtures/noisy/<case>/`): all rules
/// run together, as a report runs them (symptoms linked to their causes), and nothing may come
/// out above info.
#[test]
fn noisy_baselines_yield_nothing_above_info() {
    let dir = repo().join("tests/fixtures/noisy");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no case under {}", dir.display());
    let rules = disk_rules();
    let mut loud = Vec::new();
    for case_dir in &cases {
        let name = case_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (case, _tmp) = open_case(case_dir);
        let runs = engine::run_case(&case.conn, &rules, 1, engine::Limits::default(), &|_| {})
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        for (rule, run) in rules.iter().zip(runs) {
            assert!(
                run.error.is_none(),
                "{name}: {}: {:?}",
                rule.meta.id,
                run.error
            );
            for f in run
                .findings
                .into_iter()
                .filter(|f| f.severity > Severity::Info)
            {
                loud.push(format!(
                    "{name}: {} [{:?}] {}: {}",
                    f.rule_id, f.severity, f.resource, f.message
                ));
            }
        }
    }
    assert!(
        loud.is_empty(),
        "the noisy healthy clusters raised {} findings above info:\n{}",
        loud.len(),
        loud.join("\n")
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

/// What a customer pastes into a ticket, as the FAQ quotes it, and the entry it must find.
const FAQ_TEXTS: &[(&str, &str)] = &[
    (
        "E1224 11:13:31.677889    3680 dns.go:135] Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.100.20.105 10.100.105.11 10.100.21.240",
        "CRN-18",
    ),
    ("plugin/forward: no nameservers found", "CRN-07"),
    (
        "E1121 06:33:46.169909       1 webhook.go:132] webhook server exits unexpectedly: too many open files",
        "KMD-04",
    ),
    (
        "Failed to start ContainerManager failed to build map of initial containers from runtime: no PodsandBox found with Id 'a3c0e2b1'",
        "CRN-16",
    ),
    (
        "OCI runtime create failed: container_linux.go:349: starting container process caused \"process_linux.go:319: getting the final child's pid from pipe caused \\\"EOF\\\"\": unknown",
        "CRN-20",
    ),
    (
        "Error response from daemon: OCI runtime create failed: container_linux.go:348: starting container process caused \"process_linux.go:301: running exec setns process for init caused \\\"exit status 40\\\"\": unknown",
        "CRN-22",
    ),
    (
        "Unable to connect to the server: x509: certificate is valid for 10.10.1.2, 10.43.0.1, 127.0.0.1, 192.168.1.10, not 123.123.123.123",
        "WNR-17",
    ),
    (
        "error: specifying a root certificates file with the insecure flag is not allowed",
        "WNR-19",
    ),
    (
        "running \"VolumeBinding\" filter plugin for pod \"web-0\": pod has unbound immediate PersistentVolumeClaims",
        "WNR-20",
    ),
    (
        "MountVolume.SetUp failed for volume \"config-volume\" : failed to sync secret cache: timed out waiting for the condition",
        "WNR-23",
    ),
    (
        "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.",
        "WNR-25",
    ),
    (
        "0/3 nodes are available: 1 node(s) had volume node affinity conflict",
        "WNR-29",
    ),
    (
        "failed to run Kubelet: mountpoint for cpu not found",
        "WNR-32",
    ),
    (
        "orphaned pod \"2b4ebd5e-0f0e-4f6c-a3c1-1d5b0c8b7f11\" found, but error not a directory occurred when trying to remove the volumes dir",
        "WNR-33",
    ),
    (
        "failed to reserve container name \"nginx_web-0_default_1\": name \"nginx_web-0_default_1\" is reserved for \"4f3c\"",
        "WNR-35",
    ),
    ("invalid bearer token, Token has been invalidated", "WNR-37"),
    (
        "could not load server certificate file \"server.crt\": Permission denied",
        "WNR-41",
    ),
    (
        "Usage of EmptyDir volume \"cache\" exceeds the limit \"1m\".",
        "WNR-42",
    ),
    (
        "error forwarding port 8080 to pod abc, uid : failed to execute portforward in network namespace \"/var/run/netns/cni-1\": failed to connect to localhost:8080",
        "WNR-45",
    ),
    (
        "I0301 10:00:00.000000 1 node_lifecycle_controller.go:1433] Initializing eviction metric for zone: us-east-1a",
        "WNR-07",
    ),
    (
        "http: TLS handshake error from 10.0.0.5:51234: read tcp 10.0.0.1:6443->10.0.0.5:51234: read: connection reset by peer",
        "CRN-09",
    ),
];

#[test]
fn explain_recognises_the_faq_error_texts() {
    let rules = disk_rules();
    let mut misses = Vec::new();
    for (text, id) in FAQ_TEXTS {
        let matches =
            ktriage::commands::explain::explain(text, rules::Lang::En, &rules).expect("explain");
        if !matches.iter().any(|m| m.faq.iter().any(|f| f == id)) {
            let got: Vec<_> = matches.iter().flat_map(|m| m.faq.clone()).collect();
            misses.push(format!("{id}: {text:?} matched {got:?}"));
        }
    }
    assert!(misses.is_empty(), "explain missed:\n{}", misses.join("\n"));
}

#[test]
fn explain_knowledge_entries_compile_and_name_catalog_ids() {
    let knowledge = ktriage::commands::explain::knowledge().expect("knowledge.toml parses");
    for (id, k) in &knowledge {
        assert!(
            ktriage::faq::find(id).is_some(),
            "knowledge.toml names unknown id {id}"
        );
        assert!(!k.patterns.is_empty(), "{id}: no patterns");
        for p in &k.patterns {
            regex::Regex::new(p).unwrap_or_else(|e| panic!("{id}: bad pattern {p:?}: {e}"));
        }
        assert!(
            !k.remediation.en.trim().is_empty() && !k.remediation.zh.trim().is_empty(),
            "{id}"
        );
    }
    let knowledge_ids: Vec<_> = ktriage::faq::catalog()
        .iter()
        .filter(|e| e.class == "knowledge")
        .map(|e| e.id.clone())
        .collect();
    let missing: Vec<_> = knowledge_ids
        .iter()
        .filter(|id| !knowledge.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "knowledge entries without explain text: {missing:?}"
    );
}
