//! `ktriage import` and foreign bundles given to `analyze` / `sql`, through the real binary:
//! troubleshoot trees under `tests/foreign/` tarred as troubleshoot does, and a real bundle
//! of the troubleshoot project.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ktriage, repo, stderr};

/// `tests/foreign/<tree>` as `dir/<name>` (a `.tar.gz` of one wrapping directory, every
/// entry stamped 2026-01-15T12:00:00Z, as troubleshoot writes it).
fn troubleshoot_archive(tree: &str, dir: &Path, name: &str) -> PathBuf {
    let staging = dir.join("staging");
    let top = staging.join("support-bundle-2026-01-15T12_00_00");
    std::fs::create_dir_all(&staging).expect("mkdir");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(repo().join("tests/foreign").join(tree))
        .arg(&top)
        .status()
        .expect("cp runs");
    assert!(copied.success());
    let out = dir.join(name);
    let tarred = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("--mtime=@1768478400")
        .arg("-C")
        .arg(&staging)
        .arg("support-bundle-2026-01-15T12_00_00")
        .status()
        .expect("tar runs");
    assert!(tarred.success());
    std::fs::remove_dir_all(&staging).expect("clean staging");
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn import_writes_a_bundle_atomically_and_reports_what_it_converted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = troubleshoot_archive("troubleshoot/current", dir.path(), "support-bundle.tar.gz");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let bundle = out.join("imported.tar.zst");
    let o = ktriage(&["import", s(&src), "-o", s(&bundle)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("imported troubleshoot bundle")
            && err.contains("7 objects in 5 resources")
            && err.contains("3 container logs"),
        "{err}"
    );
    // Nothing but the bundle is left beside it.
    let left: Vec<_> = std::fs::read_dir(&out)
        .expect("readable")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["imported.tar.zst"]);

    // The imported bundle is an ordinary bundle: analyze it, in both languages.
    let report = dir.path().join("report");
    let o = ktriage(&[
        "analyze",
        s(&bundle),
        "-o",
        s(&report),
        "--lang",
        "en",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(report.join("report.md")).expect("report.md");
    assert!(md.contains("Imported from another tool"), "{md}");
    assert!(md.contains("**troubleshoot** v0.107.1"), "{md}");
    assert!(md.contains("kube-system/calico-node-7xk2p Status"), "{md}");
    assert!(md.contains("`configz`"), "{md}");
    let html = std::fs::read_to_string(report.join("report.html")).expect("report.html");
    assert!(
        html.contains("The source tool&#x27;s own findings")
            || html.contains("The source tool's own findings"),
        "html"
    );
    let report_zh = dir.path().join("report-zh");
    let o = ktriage(&[
        "analyze",
        s(&bundle),
        "-o",
        s(&report_zh),
        "--lang",
        "zh",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(report_zh.join("report.md")).expect("report.md");
    assert!(
        md.contains("由其他工具的包导入") && md.contains("源工具自己的检查结果"),
        "{md}"
    );
}

#[test]
fn analyze_imports_a_foreign_bundle_and_the_crash_loop_rule_fires() {
    for tree in ["troubleshoot/current", "troubleshoot/older"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = troubleshoot_archive(tree, dir.path(), "sb.tgz");
        let report = dir.path().join("report");
        let o = ktriage(&[
            "analyze",
            s(&src),
            "-o",
            s(&report),
            "--format",
            "json",
            "-q",
        ]);
        assert_eq!(o.status.code(), Some(0), "{tree}: {}", stderr(&o));
        let findings = std::fs::read_to_string(report.join("findings.json")).expect("json");
        let v: serde_json::Value = serde_json::from_str(&findings).expect("findings JSON");
        let groups: Vec<&serde_json::Value> = ["groups", "benign"]
            .iter()
            .flat_map(|k| v[*k].as_array().into_iter().flatten())
            .collect();
        let ids: Vec<&str> = groups
            .iter()
            .filter_map(|f| f["rule_id"].as_str())
            .collect();
        assert!(
            ids.contains(&"kube-system-pods-crashing"),
            "{tree}: {ids:?}"
        );
        // What the format never carries does not read as a failure.
        assert!(!ids.contains(&"apiservice-unavailable"), "{tree}: {ids:?}");
        let crash = groups
            .iter()
            .find(|f| f["rule_id"] == "kube-system-pods-crashing")
            .expect("finding")
            .to_string();
        assert!(
            crash.contains("Calico node failed to start"),
            "{tree}: {crash}"
        );
    }
}

#[test]
fn sql_reads_a_foreign_directory_and_the_source_format_gaps() {
    let o = ktriage(&[
        "sql",
        s(&repo().join("tests/foreign/troubleshoot/older")),
        "--output",
        "tsv",
        "-c",
        "SELECT what FROM gaps WHERE reason = 'source-format' ORDER BY what",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // `logs` twice: the cluster's, and a log of an older logs collector whose pod
    // (`app-logs/web-0`) is not in the bundle.
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "what",
            "configz",
            "discovery",
            "host",
            "logs",
            "logs",
            "node-log"
        ],
        "{out}"
    );
}

#[test]
fn host_collectors_become_node_bundles_where_a_certificate_rule_fires() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = troubleshoot_archive("troubleshoot/hosts", dir.path(), "support-bundle.tar.gz");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let bundle = out.join("case.tar.zst");
    let o = ktriage(&["import", s(&src), "-o", s(&bundle)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("host data of 2 hosts in node bundles"),
        "{}",
        stderr(&o)
    );
    // The node bundles are named after the output, and nothing else is left.
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "case.node-cp-1.tar.zst",
            "case.node-worker-1.tar.zst",
            "case.tar.zst"
        ]
    );
    let nodes = [
        out.join("case.node-cp-1.tar.zst"),
        out.join("case.node-worker-1.tar.zst"),
    ];

    // The three are one case: each node bundle is tied to its Node, its facts loaded.
    let o = ktriage(&[
        "sql",
        s(&bundle),
        s(&nodes[0]),
        s(&nodes[1]),
        "--output",
        "tsv",
        "-c",
        "SELECT h.node, h.cluster_bundle_id = (SELECT bundle_id FROM bundles WHERE kind = 'cluster'), \
                f.kernel_release, f.cpus, (SELECT count(*) FROM host_modules m WHERE m.bundle_id = h.bundle_id) \
         FROM host_nodes h JOIN host_facts f USING (bundle_id) ORDER BY 1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        rows.lines().skip(1).collect::<Vec<_>>(),
        [
            "cp-1\ttrue\t5.15.0-91-generic\t4\t5",
            "worker-1\ttrue\t5.15.0-91-generic\t2\t5"
        ],
        "{rows}"
    );

    // apiserver.crt, read by troubleshoot's certificatesCollection on cp-1, expires in 9
    // days: certificate-expiry fires from the imported host data, whether the case is
    // the imported bundles or the source itself.
    for (name, inputs) in [
        ("from-bundles", vec![s(&bundle), s(&nodes[0]), s(&nodes[1])]),
        ("from-source", vec![s(&src)]),
    ] {
        let report = dir.path().join(name);
        let mut args = vec!["analyze"];
        args.extend(&inputs);
        args.extend(["-o", s(&report), "--format", "json", "-q"]);
        let o = ktriage(&args);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let text = std::fs::read_to_string(report.join("findings.json")).expect("findings.json");
        let v: serde_json::Value = serde_json::from_str(&text).expect("findings JSON");
        let finding = v["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|g| g["rule_id"] == "certificate-expiry")
            .flat_map(|g| g["findings"].as_array().into_iter().flatten())
            .next()
            .unwrap_or_else(|| {
                panic!(
                    "{name}: no certificate-expiry finding in {}",
                    fired(&report.join("findings.json")).join(", ")
                )
            });
        assert_eq!(finding["node"], "cp-1", "{name}");
        assert_eq!(finding["severity"], "high", "{name}");
        let message = finding["message"].as_str().expect("message");
        assert!(
            message.starts_with("/etc/kubernetes/pki/apiserver.crt on cp-1 expires in 9 days"),
            "{name}: {message}"
        );
    }
}

#[test]
fn the_real_troubleshoot_bundle_analyzes_without_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = repo().join("tests/foreign/real/troubleshoot-k3s-2022.tar.gz");
    let o = ktriage(&["analyze", s(&src), "-o", s(&dir.path().join("r")), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = ktriage(&[
        "sql",
        s(&src),
        "--output",
        "tsv",
        "-c",
        "SELECT count(*) FROM pods WHERE namespace = 'kube-system'",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let n: u64 = String::from_utf8_lossy(&o.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("a count");
    assert!(n >= 6, "{n}");
}

#[test]
fn unusable_sources_fail_with_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.tar.gz");
    std::fs::write(&junk, b"\x1f\x8b\x08\x00not really gzip\x1b[31m").expect("write");
    let out = dir.path().join("out.tar.zst");
    for args in [
        vec!["import", s(&junk), "-o", s(&out)],
        vec!["analyze", s(&junk), "-o", s(&dir.path().join("r"))],
    ] {
        let o = ktriage(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains("junk.tar.gz") && !err.contains('\x1b'),
            "{err}"
        );
    }
    assert!(!out.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("readable")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["junk.tar.gz"], "nothing left behind");

    let notes = dir.path().join("notes");
    std::fs::create_dir(&notes).expect("mkdir");
    std::fs::write(notes.join("readme.txt"), "hello").expect("write");
    let o = ktriage(&["import", s(&notes), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a bundle of a known format"),
        "{}",
        stderr(&o)
    );
}

/// Rule ids of a findings.json, benign ones included.
fn fired(findings: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(findings).expect("findings.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("findings JSON");
    ["groups", "benign"]
        .iter()
        .flat_map(|k| v[*k].as_array().into_iter().flatten())
        .filter_map(|f| f["rule_id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn cluster_info_dumps_and_must_gather_import_and_their_evidence_fires_rules() {
    let foreign = repo().join("tests/foreign");
    let cases = [
        // CoreDNS crash-loops on "plugin/forward: no nameservers found" in both forms.
        (
            "cluster-info-dump",
            foreign.join("cluster-info/dir"),
            vec!["coredns-no-nameservers", "kube-system-pods-crashing"],
        ),
        (
            "cluster-info-dump",
            foreign.join("cluster-info/stream.txt"),
            vec!["coredns-no-nameservers", "kube-system-pods-crashing"],
        ),
        // prometheus-k8s-0 was OOM-killed and is in CrashLoopBackOff.
        (
            "must-gather",
            foreign.join("must-gather"),
            vec!["container-oomkilled"],
        ),
    ];
    for (format, src, want) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = dir.path().join("imported.tar.zst");
        let o = ktriage(&["import", s(&src), "-o", s(&bundle)]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            src.display(),
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(&format!("imported {format} bundle")),
            "{}: {}",
            src.display(),
            stderr(&o)
        );
        // The manifest names the source format; what it lacks is listed as source-format gaps.
        let o = ktriage(&[
            "sql",
            s(&bundle),
            "--output",
            "tsv",
            "-c",
            "SELECT (SELECT producer FROM bundles), \
                    (SELECT count(*) FROM gaps WHERE reason = 'source-format' AND what = 'configz'), \
                    (SELECT count(*) FROM log_lines WHERE source = 'container')",
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}: {}",
            src.display(),
            stderr(&o)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        let row: Vec<&str> = out.lines().nth(1).expect("a row").split('\t').collect();
        assert_eq!(row[0], format, "{}: {out}", src.display());
        assert_eq!(row[1], "1", "{}: {out}", src.display());
        assert!(
            row[2].parse::<u64>().expect("count") > 0,
            "{}: {out}",
            src.display()
        );

        // The imported bundle and the source itself give the same findings.
        for (input, name) in [
            (bundle.as_path(), "from-bundle"),
            (src.as_path(), "from-source"),
        ] {
            let report = dir.path().join(name);
            let o = ktriage(&[
                "analyze",
                s(input),
                "-o",
                s(&report),
                "--format",
                "json",
                "-q",
            ]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}: {}",
                input.display(),
                stderr(&o)
            );
            let mut ids = fired(&report.join("findings.json"));
            ids.sort();
            assert_eq!(ids, want, "{}", input.display());
        }
    }
}
