//! A pseudonymized bundle analyzes like the plain one: the sample cluster is served with
//! `ktriage serve` and collected twice by the real `ktriage-collect`, once plain and once with
//! `--pseudonymize hosts,ips`; both are analyzed, and the findings agree rule by rule
//! (severities and counts) while the node names and addresses are gone from the pseudonymized
//! one's report.
//!
//! The collector binary is a sibling of `ktriage` in the target directory: `scripts/test.sh`
//! builds it (`cargo test -p ktriage-collect`) before the analyzer's tests; `KTRIAGE_COLLECT`
//! names another one.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

mod common;

use common::{collector, repo};

/// `ktriage serve` on a free loopback port, stopped when dropped: with SIGTERM, so that it
/// removes its work directory as a user's Ctrl-C would, and killed only if it does not stop.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        common::send(&self.0, "TERM");
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(bundle: &Path, kubeconfig: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .arg("serve")
        .arg(bundle)
        .args(["--addr", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ktriage serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let served = Served(child);
    // The kubeconfig is complete once the server says it is serving.
    for line in BufReader::new(stderr).lines() {
        if line.expect("stderr line").contains("Ctrl-C to stop") {
            return served;
        }
    }
    panic!("ktriage serve stopped before serving");
}

fn collect(kubeconfig: &Path, out: &Path, extra: &[&str]) {
    let o = Command::new(collector())
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("-o")
        .arg(out)
        .args(["-q", "--timeout", "2m"])
        .args(extra)
        .output()
        .expect("ktriage-collect runs");
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "ktriage-collect: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// findings.json of `bundle`.
fn analyze(bundle: &Path, out: &Path) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .arg("analyze")
        .arg(bundle)
        .arg("-o")
        .arg(out)
        .args(["-q", "--lang", "en", "--format", "json"])
        .output()
        .expect("ktriage analyze runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("findings.json")).expect("findings"))
        .expect("findings.json")
}

/// Rule id → (severity, rows, occurrences, benign, the findings' severities).
fn verdicts(findings: &Value) -> Vec<(String, Value, Value, Value, Value, Vec<Value>)> {
    findings["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let mut severities: Vec<Value> = g["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| f["severity"].clone())
                .collect();
            severities.sort_by_key(Value::to_string);
            (
                g["rule_id"].as_str().expect("rule id").to_string(),
                g["severity"].clone(),
                g["total"].clone(),
                g["occurrences"].clone(),
                g["benign"].clone(),
                severities,
            )
        })
        .collect()
}

/// Whether `word` stands in `text` on its own (not inside a longer name or address).
fn has_word(text: &str, word: &str) -> bool {
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
    text.match_indices(word).any(|(at, _)| {
        !joined(text[..at].chars().next_back()) && !joined(text[at + word.len()..].chars().next())
    })
}

#[test]
fn a_pseudonymized_sample_gives_the_same_findings_with_names_replaced() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = tmp.path().join("sample.tar.zst");
    ktriage_tests::source::build(&repo().join("tests/fixtures/sample/cluster"), &sample)
        .expect("sample cluster bundle");
    let kubeconfig = tmp.path().join("kubeconfig");
    let _served = serve(&sample, &kubeconfig);

    let plain = tmp.path().join("plain.tar.zst");
    let pseudo = tmp.path().join("pseudo.tar.zst");
    collect(&kubeconfig, &plain, &[]);
    collect(&kubeconfig, &pseudo, &["--pseudonymize", "hosts,ips"]);

    let plain_findings = analyze(&plain, &tmp.path().join("plain-report"));
    let pseudo_findings = analyze(&pseudo, &tmp.path().join("pseudo-report"));
    let expected = verdicts(&plain_findings);
    assert!(
        expected.len() >= 5,
        "the sample has its planted problems: {expected:?}"
    );
    assert_eq!(verdicts(&pseudo_findings), expected);

    // Names replaced: the nodes and their addresses appear only as pseudonyms.
    let keys: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("pseudo.pseudonyms.json")).expect("key file"),
    )
    .expect("key file json");
    // The findings themselves (resources, evidence, messages), not the rules' own texts.
    let evidence = |f: &Value| -> String {
        f["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["findings"].to_string())
            .collect()
    };
    let plain_text = evidence(&plain_findings);
    let pseudo_text = evidence(&pseudo_findings);
    let mut replaced = 0;
    for class in ["hosts", "ips"] {
        for (token, original) in keys[class].as_object().expect("map") {
            let original = original.as_str().expect("original");
            assert!(
                !pseudo_text.contains(&format!("\"{original}\"")),
                "{original} is in the pseudonymized findings"
            );
            if has_word(&plain_text, original) {
                replaced += 1;
                assert!(has_word(&pseudo_text, token), "{token} for {original}");
            }
        }
    }
    assert!(
        replaced >= 3,
        "findings name nodes or addresses: {replaced}"
    );
    for node in ["sh-cp-1", "sh-worker-1", "sh-worker-2"] {
        assert!(plain_text.contains(node), "{node} in the plain findings");
        assert!(
            !pseudo_text.contains(node),
            "{node} in the pseudonymized findings"
        );
    }
}
