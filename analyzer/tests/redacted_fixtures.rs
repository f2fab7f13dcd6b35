//! Redaction keeps what rules read: every rule still fires on its `fire` fixture after each of
//! the fixture's bundles went through the real `ktriage-collect redact` (the redactors a
//! collection applies). A redactor that took a field a rule depends on, say a `secretName` or
//! a `tokenPath`, would silence that rule on every redacted bundle.
//!
//! The collector binary is the one beside `ktriage` in the target directory: `scripts/test.sh`
//! builds it (`cargo test -p ktriage-collect`) before the analyzer's tests; `KTRIAGE_COLLECT`
//! names another one.

use std::path::Path;
use std::process::Command;

use ktriage::case::{Case, CaseOptions};
use ktriage::progress::Progress;
use ktriage::rules::{self, engine};

mod common;

use common::{collector, repo};

/// Builds each bundle of `fixture`, redacts it with the collector, and opens the redacted
/// bundles as one case. Returns the case and how many values redaction replaced.
fn open_redacted(fixture: &Path, tmp: &Path) -> (Case, u64) {
    let sources = ktriage_tests::source::bundle_sources(fixture).expect("sources");
    let mut redacted = Vec::new();
    let mut replaced = 0;
    for (i, src) in sources.iter().enumerate() {
        let plain = tmp.join(format!("b{i}.tar.zst"));
        ktriage_tests::source::build(src, &plain)
            .unwrap_or_else(|e| panic!("{}: {e:#}", src.display()));
        let out = tmp.join(format!("r{i}.tar.zst"));
        let o = Command::new(collector())
            .arg("redact")
            .arg(&plain)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("ktriage-collect runs");
        assert!(
            o.status.success(),
            "{}: redact failed: {}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let dir = tmp.join(format!("r{i}"));
        let bundle = ktriage_schema::reader::open(&out, &dir, &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        replaced += bundle.manifest.redaction.counts.values().sum::<u64>();
        redacted.push(out);
    }
    let case = Case::open(&redacted, &CaseOptions::default(), &Progress::hidden())
        .unwrap_or_else(|e| panic!("{}: {e:#}", fixture.display()));
    (case, replaced)
}

#[test]
fn every_rule_still_fires_on_its_fire_fixture_once_redacted() {
    let rules = rules::from_dir(&repo().join("analyzer/rules")).expect("rules load");
    let only = std::env::var("KTRIAGE_RULE").ok();
    let mut failures = Vec::new();
    let mut redacted_somewhere = 0;
    for rule in rules
        .iter()
        .filter(|r| only.as_deref().is_none_or(|id| id == r.meta.id))
    {
        let fire = repo()
            .join("tests/fixtures/rules")
            .join(&rule.meta.id)
            .join("fire");
        let tmp = tempfile::tempdir().expect("tempdir");
        let (case, replaced) = open_redacted(&fire, tmp.path());
        redacted_somewhere += usize::from(replaced > 0);
        let run = engine::run_rule(&case.conn, rule);
        match (&run.error, run.findings.is_empty()) {
            (Some(e), _) => failures.push(format!("{}: failed: {e}", rule.meta.id)),
            (None, true) => failures.push(format!(
                "{}: no finding once redacted ({replaced} values replaced)",
                rule.meta.id
            )),
            (None, false) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The fixtures hold credentials (Secrets, tokens in kubeconfigs, passwords in env): a run
    // where redaction replaced nothing anywhere would prove nothing.
    if only.is_none() {
        assert!(
            redacted_somewhere > 0,
            "redaction replaced nothing in any fixture"
        );
    }
}
