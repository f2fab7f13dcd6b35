//! Rule packs with `[message]` templates through the `ktriage` binary: broken or unsafe
//! templates are refused at load as bad input naming the file, a hostile template cannot hang
//! a run, and templated and column-message rules run side by side.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::{ktriage, repo, stderr};

/// A rule pack directory holding `rules` (`(id, message templates header, SELECT)`).
fn pack(dir: &Path, rules: &[(&str, &str, &str)]) -> PathBuf {
    let pack = dir.join("pack");
    std::fs::create_dir_all(&pack).expect("mkdir");
    for (id, message, sql) in rules {
        let text = format!(
            "/* ---\nid = \"{id}\"\nseverity = \"medium\"\nfaq = [\"DCE-01\"]\ncategory = \"workloads\"\n\
             [title]\nen = \"T\"\nzh = \"标题\"\n[remediation]\nen = \"R\"\nzh = \"处理\"\n{message}\n--- */\n{sql}\n"
        );
        std::fs::write(pack.join(format!("{id}.sql")), text).expect("write rule");
    }
    pack
}

fn templates(en: &str, zh: &str) -> String {
    format!("[message]\nen = {en:?}\nzh = {zh:?}")
}

fn baseline() -> Vec<String> {
    let dir = repo().join("tests/fixtures/built/baseline");
    let mut bundles: Vec<String> = std::fs::read_dir(&dir)
        .expect("built baseline")
        .filter_map(|e| e.ok().map(|e| e.path().to_string_lossy().into_owned()))
        .filter(|p| p.ends_with(".tar.zst"))
        .collect();
    bundles.sort();
    bundles
}

/// `ktriage analyze` of the baseline case with only the rules of `pack`, as JSON into `out`.
fn analyze(pack: &Path, out: &Path) -> Output {
    let mut args = vec![
        "analyze".to_string(),
        "-q".into(),
        "--no-builtin-rules".into(),
        "--rules".into(),
        pack.to_string_lossy().into_owned(),
        "--format".into(),
        "json".into(),
        "--lang".into(),
        "en".into(),
        "-o".into(),
        out.to_string_lossy().into_owned(),
    ];
    args.extend(baseline());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ktriage(&args)
}

#[test]
fn broken_or_undefined_templates_are_bad_input_naming_the_file() {
    const SQL: &str = "SELECT 'cluster' AS resource, 3 AS restarts";
    for (en, expected) in [
        ("{{ restarts ", "message.en template: syntax error"),
        (
            "{{ restart }} restarts",
            "`restart` that no column or threshold defines",
        ),
        ("{% set x = 1 %}{{ x }}", "`{% set %}` is not allowed"),
        (
            "{{ restarts | replace('1', '11') }}",
            "unknown filter `replace`",
        ),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let rules = pack(
            tmp.path(),
            &[(
                "broken-template",
                &templates(en, "重启 {{ restarts }} 次"),
                SQL,
            )],
        );
        for args in [
            vec!["rules", "--rules", rules.to_str().expect("utf-8")],
            vec!["explain", "--rules", rules.to_str().expect("utf-8"), "x"],
        ] {
            let o = ktriage(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{en}: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{en}: one line: {err}");
            assert!(
                err.contains("broken-template.sql") && err.contains(expected),
                "{en}: {err}"
            );
        }
        // Refused before any bundle is opened.
        let o = analyze(&rules, &tmp.path().join("r"));
        assert_eq!(o.status.code(), Some(2), "{en}: {}", stderr(&o));
        assert!(!tmp.path().join("r").exists());
    }
}

#[test]
fn a_hostile_template_fails_its_rule_without_hanging_the_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let loops = "{% for a in items %}{% for b in items %}{% for c in items %}\
                 {% for d in items %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}";
    let rules = pack(
        tmp.path(),
        &[
            (
                "endless-message",
                &templates(loops, loops),
                "SELECT 'r' || i AS resource, list_transform(range(1000), lambda n: 'x') AS items FROM range(500) t(i)",
            ),
            (
                "node-count",
                &templates("{{ n }} nodes", "{{ n }} 个节点"),
                "SELECT 'cluster' AS resource, count(*) AS n FROM nodes",
            ),
        ],
    );
    let start = Instant::now();
    let o = analyze(&rules, &tmp.path().join("r"));
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(i32::from(ktriage::exit::ERROR)),
        "{err}"
    );
    assert!(
        err.contains("rule endless-message failed") && err.contains("fuel"),
        "{err}"
    );
    let findings =
        std::fs::read_to_string(tmp.path().join("r/findings.json")).expect("findings.json");
    assert!(
        findings.contains(" nodes\""),
        "node-count still ran: {findings}"
    );
}

#[test]
fn templated_and_column_message_rules_run_side_by_side() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = pack(
        tmp.path(),
        &[
            (
                "templated",
                &templates(
                    "{{ n }} nodes, {{ names | join(', ', 1) }}, {{ missing }}",
                    "{{ n }} 个节点：{{ names | join('、', 1) }}{{ missing }}",
                ),
                "SELECT 'cluster' AS resource, count(*) AS n, list(name ORDER BY name) AS names, \
                 NULL AS missing FROM nodes",
            ),
            (
                "columns",
                "",
                "SELECT 'cluster' AS resource, 'plain message' AS message, '普通消息' AS message_zh",
            ),
        ],
    );
    let o = analyze(&rules, &tmp.path().join("r"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let findings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("r/findings.json")).expect("findings.json"),
    )
    .expect("json");
    let message = |rule: &str| -> (String, String) {
        let group = findings["groups"]
            .as_array()
            .into_iter()
            .chain(findings["benign"].as_array())
            .flatten()
            .find(|g| g["rule_id"] == rule)
            .unwrap_or_else(|| panic!("no finding of {rule}: {findings}"));
        let f = &group["findings"][0];
        (
            f["message"].as_str().unwrap_or_default().to_string(),
            f["message_zh"].as_str().unwrap_or_default().to_string(),
        )
    };
    // A NULL column prints as nothing; the message is trimmed.
    assert_eq!(
        message("templated"),
        (
            "3 nodes, node-cp-1 … and 2 more,".to_string(),
            "3 个节点：node-cp-1…等 3 项".to_string()
        )
    );
    assert_eq!(
        message("columns"),
        ("plain message".to_string(), "普通消息".to_string())
    );
}
