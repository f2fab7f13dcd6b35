//! `ktriage export` and `ktriage fleet` end to end: fixture cases exported into one tree,
//! queried with the shipped fleet queries in DuckDB and (when PySpark and Java are present)
//! Spark, re-exports, hostile partition values.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{build_case, ktriage, repo};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `ktriage export -q -o out bundles...`.
fn export(out: &Path, bundles: &[PathBuf], extra: &[&str]) -> Output {
    let mut args = vec!["export", "-q", "-o", s(out)];
    args.extend_from_slice(extra);
    args.extend(bundles.iter().map(|b| s(b)));
    ktriage(&args)
}

fn export_ok(out: &Path, bundles: &[PathBuf]) {
    let o = export(out, bundles, &[]);
    assert!(o.status.success(), "export: {}", text(&o.stderr));
}

/// `ktriage fleet DIR args... --output tsv`: the rows, header first.
fn fleet_tsv(dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["fleet", "-q", s(dir), "--output", "tsv"];
    all.extend_from_slice(args);
    let o = ktriage(&all);
    assert!(o.status.success(), "fleet {args:?}: {}", text(&o.stderr));
    text(&o.stdout).lines().map(str::to_string).collect()
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under").display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Three cases (the sample: a cluster and three node bundles; a year-old kubeadm cluster and
/// its four nodes; a managed EKS cluster and a node) exported into one tree, the last two
/// by two processes at the same time.
struct Fleet {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    sample: Vec<PathBuf>,
}

fn exported_fleet() -> Fleet {
    let tmp = tempfile::tempdir().expect("tempdir");
    let build = |name: &str, source: &str| {
        let d = tmp.path().join(name);
        fs::create_dir_all(&d).expect("mkdir");
        build_case(&repo().join(source), &d)
    };
    let sample = build("sample", "tests/fixtures/sample");
    let kubeadm = build("kubeadm", "tests/fixtures/noisy/kubeadm-year-old");
    let eks = build("eks", "tests/fixtures/noisy/managed-eks");
    let dir = tmp.path().join("export");
    export_ok(&dir, &sample);
    // Two workers into one tree at once: they share no file.
    let spawn = |bundles: &[PathBuf]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ktriage"));
        cmd.args(["export", "-q", "-o", s(&dir)]);
        cmd.args(bundles);
        cmd.spawn().expect("spawn")
    };
    let (mut a, mut b) = (spawn(&kubeadm), spawn(&eks));
    assert!(a.wait().expect("wait").success());
    assert!(b.wait().expect("wait").success());
    Fleet { tmp, dir, sample }
}

/// The cluster id the export filed the cluster bundle labelled `label` under.
fn cluster_of(dir: &Path, label: &str) -> String {
    let rows = fleet_tsv(
        dir,
        &[
            "-c",
            &format!("SELECT cluster_id FROM bundles WHERE kind = 'cluster' AND label = '{label}'"),
        ],
    );
    assert_eq!(rows.len(), 2, "{label}: {rows:?}");
    rows[1].clone()
}

const SAMPLE: &str = "prod-shanghai";
const KUBEADM: &str = "kubernetes-admin@prod-onprem";
const EKS: &str = "arn:aws:eks:eu-west-1:123456789012:cluster/shop-prod";

/// One export tree of three fixture cases, checked from every side: its layout, the tables
/// `ktriage fleet` sees, the findings against `analyze`'s, the shipped queries against what
/// the fixtures hold, and Spark against DuckDB.
#[test]
fn fixture_cases_export_and_answer_fleet_questions_in_duckdb_and_spark() {
    let fleet = exported_fleet();
    let sample = cluster_of(&fleet.dir, SAMPLE);
    check_layout(&fleet, &sample);
    check_fleet_tables(&fleet);
    check_findings_match_analyze(&fleet, &sample);
    check_shipped_queries(&fleet, &sample);
    check_timeline(&fleet, &sample);
    check_spark_matches_duckdb(&fleet);
}

/// The generation directory a data file is in, when `file` is one
/// (`<table>/cluster_id=…/bundle_id=…/gen-…/part-0.parquet`).
fn generation_of(file: &str) -> Option<&str> {
    let parts: Vec<&str> = file.split('/').collect();
    (parts.len() == 5
        && parts[1].starts_with("cluster_id=")
        && parts[2].starts_with("bundle_id=")
        && parts[3].starts_with("gen-")
        && parts[4] == "part-0.parquet")
        .then_some(parts[3])
}

/// The commit file of a bundle, parsed.
fn commit_of(dir: &Path, bundle_file_name: &str) -> serde_json::Value {
    let path = dir.join("_ktriage_commits").join(bundle_file_name);
    serde_json::from_str(&fs::read_to_string(&path).expect("commit file")).expect("json")
}

fn check_layout(fleet: &Fleet, sample: &str) {
    let all = files(&fleet.dir);
    assert!(all.contains(&"_ktriage_schema.json".to_string()), "{all:?}");
    // The sample's cluster bundle: every table's file in one generation, which its commit
    // names, and its node bundles filed under its cluster.
    let commit = commit_of(&fleet.dir, "bundle_id=prod-shanghai-20260115-120000.json");
    let generation = commit["generation"].as_str().expect("generation");
    assert_eq!(commit["cluster_id"], sample);
    for table in ["findings", "timeline"] {
        let file = format!(
            "{table}/cluster_id={sample}/bundle_id=prod-shanghai-20260115-120000/{generation}/part-0.parquet"
        );
        assert!(all.contains(&file), "{file}: {all:?}");
        assert!(
            commit["files"]
                .as_array()
                .expect("files")
                .iter()
                .any(|f| f["table"] == table && f["path"] == file.as_str()),
            "{commit}"
        );
    }
    let node = commit_of(&fleet.dir, "bundle_id=sh-cp-1-20260115-120000.json");
    assert_eq!(node["cluster_id"], sample);
    assert!(
        all.iter().all(|f| f == "_ktriage_schema.json"
            || (f.starts_with("_ktriage_commits/bundle_id=") && f.ends_with(".json"))
            || generation_of(f).is_some()),
        "temporary files left: {all:?}"
    );
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(fleet.dir.join("_ktriage_schema.json")).expect("schema"),
    )
    .expect("json");
    assert_eq!(schema["version"], 2);
    assert_eq!(schema["commits"], "_ktriage_commits");
    assert_eq!(
        schema["partitioning"],
        serde_json::json!(["cluster_id", "bundle_id"])
    );
    // Each table of the schema has a file for every bundle, empty or not: 4 + 5 + 2, each
    // bundle committed once.
    let commits = all
        .iter()
        .filter(|f| f.starts_with("_ktriage_commits/"))
        .count();
    assert_eq!(commits, 11, "{all:?}");
    let names: Vec<&str> = schema["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"timeline"), "{names:?}");
    for name in names {
        let count = all
            .iter()
            .filter(|f| f.starts_with(&format!("{name}/")))
            .count();
        assert_eq!(count, 11, "{name}: {all:?}");
    }
}

fn check_fleet_tables(fleet: &Fleet) {
    let rows = fleet_tsv(
        &fleet.dir,
        &[
            "-c",
            "SELECT any_value(label) FILTER (WHERE kind = 'cluster') AS cluster, count(*) AS bundles, count(DISTINCT bundle_id) AS ids FROM bundles GROUP BY cluster_id ORDER BY cluster",
        ],
    );
    assert_eq!(
        rows,
        [
            "cluster\tbundles\tids".to_string(),
            format!("{EKS}\t2\t2"),
            format!("{KUBEADM}\t5\t5"),
            format!("{SAMPLE}\t4\t4"),
        ]
    );
    // Column types are the declared ones, whatever the data held.
    let types = fleet_tsv(
        &fleet.dir,
        &[
            "-c",
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'findings' AND column_name IN ('faq_ids', 'first_seen', 'evidence_count', 'bundle_id') ORDER BY column_name",
        ],
    );
    assert_eq!(
        types,
        [
            "column_name\tdata_type",
            "bundle_id\tVARCHAR",
            "evidence_count\tBIGINT",
            "faq_ids\tVARCHAR[]",
            "first_seen\tTIMESTAMP",
        ]
    );
}

fn check_findings_match_analyze(fleet: &Fleet, sample: &str) {
    let report = fleet.tmp.path().join("report");
    let mut args = vec![
        "analyze",
        "-q",
        "--format",
        "json",
        "--lang",
        "en",
        "-o",
        s(&report),
    ];
    args.extend(fleet.sample.iter().map(|b| s(b)));
    let o = ktriage(&args);
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        text(&o.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report.join("findings.json")).expect("json"))
            .expect("parse");
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    collect_rule_ids(&json, &mut expected);
    assert!(!expected.is_empty(), "the sample has findings");
    let rows = fleet_tsv(
        &fleet.dir,
        &[
            "-c",
            &format!(
                "SELECT rule_id, count(*) FROM findings WHERE cluster_id = '{sample}' GROUP BY rule_id ORDER BY rule_id"
            ),
        ],
    );
    let got: BTreeMap<String, usize> = rows[1..]
        .iter()
        .map(|r| {
            let (id, n) = r.split_once('\t').expect("two columns");
            (id.to_string(), n.parse().expect("count"))
        })
        .collect();
    assert_eq!(got, expected);
    // Every finding has its English message, a severity and its rule's FAQ ids, each of
    // which is one row of finding_faqs.
    let checks = fleet_tsv(
        &fleet.dir,
        &[
            "-c",
            "SELECT count(*) FILTER (WHERE message_en <> '' AND len(faq_ids) > 0 AND severity_rank BETWEEN 0 AND 4), count(*), sum(len(faq_ids)), (SELECT count(*) FROM finding_faqs) FROM findings",
        ],
    );
    let cells: Vec<&str> = checks[1].split('\t').collect();
    assert_eq!(cells[0], cells[1], "{checks:?}");
    assert_eq!(cells[2], cells[3], "{checks:?}");
    // Chinese messages travel too.
    let zh = fleet_tsv(
        &fleet.dir,
        &["-c", "SELECT count(*) FROM findings WHERE message_zh <> ''"],
    );
    assert_ne!(zh[1], "0", "{zh:?}");
}

/// Counts findings per rule id anywhere in findings.json (objects with `rule_id` and
/// `resource`).
fn collect_rule_ids(v: &serde_json::Value, out: &mut BTreeMap<String, usize>) {
    match v {
        serde_json::Value::Object(map) => {
            if let (Some(id), Some(_)) = (
                map.get("rule_id").and_then(|i| i.as_str()),
                map.get("resource"),
            ) {
                *out.entry(id.to_string()).or_default() += 1;
            } else {
                map.values().for_each(|x| collect_rule_ids(x, out));
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|x| collect_rule_ids(x, out)),
        _ => {}
    }
}

fn check_shipped_queries(fleet: &Fleet, sample: &str) {
    let list = ktriage(&["fleet", "--list"]);
    assert!(list.status.success());
    for name in [
        "certificates-expiring",
        "findings-by-faq-version",
        "node-versions",
        "nodes-not-ready",
        "noisy-rules",
    ] {
        assert!(text(&list.stdout).contains(name), "{}", text(&list.stdout));
    }
    // NotReady nodes, from the timeline: the sample's sh-worker-2 is Ready=Unknown since
    // 2026-01-12T09:44:05Z (NodeStatusUnknown), with no NodeNotReady event object; the
    // kubeadm cluster's k8s-wkr-02 had one NodeNotReady event when it rebooted on
    // 2025-12-26T03:05:36Z (its pods' copies of the event are not counted) and is Ready now.
    let not_ready = fleet_tsv(&fleet.dir, &["--query", "nodes-not-ready"]);
    let kubeadm = cluster_of(&fleet.dir, KUBEADM);
    // Both went NotReady once: ordered by cluster id.
    let mut expected = vec![
        format!("{kubeadm}\tk8s-wkr-02\t1\t0\t2025-12-26 03:05:36\t2025-12-26 03:05:36"),
        format!("{sample}\tsh-worker-2\t1\t1\t2026-01-12 09:44:05\t2026-01-12 09:44:05"),
    ];
    expected.sort();
    expected.insert(
        0,
        "cluster_id\tnode\tnot_ready\tnot_ready_at_collection\tfirst_seen\tlast_seen".into(),
    );
    assert_eq!(not_ready, expected);
    // The sample's seven control-plane certificates on sh-cp-1 expire 2026-01-25T08:14:14Z,
    // 9.8 days after collection, and sh-worker-2's kubelet client certificate expired
    // 2026-01-12T09:43:33Z, 3.1 days before: 8 certificates on 2 nodes, the soonest -3.1
    // days (rounded down, -4). The managed EKS fixture has no expiring certificate.
    let certs = fleet_tsv(&fleet.dir, &["--query", "certificates-expiring"]);
    assert_eq!(
        certs[0],
        "cluster_id\tcertificates\tnodes\tsoonest_days_left"
    );
    assert!(certs.contains(&format!("{sample}\t8\t2\t-4")), "{certs:?}");
    let eks = cluster_of(&fleet.dir, EKS);
    assert!(!certs.iter().any(|r| r.starts_with(&eks)), "{certs:?}");
    // Every node of every cluster is counted once.
    let versions = fleet_tsv(&fleet.dir, &["--query", "node-versions"]);
    let nodes: usize = versions[1..]
        .iter()
        .map(|r| {
            r.split('\t')
                .nth(4)
                .expect("nodes")
                .parse::<usize>()
                .expect("n")
        })
        .sum();
    let total = fleet_tsv(&fleet.dir, &["-c", "SELECT count(*) FROM nodes"]);
    assert_eq!(nodes.to_string(), total[1]);
    assert!(
        versions.contains(
            &"Ubuntu 22.04.3 LTS\t5.15.0-91-generic\tcontainerd://1.7.12\tv1.29.3\t3\t1"
                .to_string()
        ),
        "{versions:?}"
    );
    // Findings per FAQ id and version (the sample is 1.29); benign findings are left out.
    let faq = fleet_tsv(&fleet.dir, &["--query", "findings-by-faq-version"]);
    assert!(faq.iter().any(|r| r.contains("\t1.29\t")), "{faq:?}");
    let faq_total: usize = faq[1..]
        .iter()
        .map(|r| {
            r.split('\t')
                .nth(2)
                .expect("findings")
                .parse::<usize>()
                .expect("n")
        })
        .sum();
    let not_benign = fleet_tsv(
        &fleet.dir,
        &["-c", "SELECT count(*) FROM finding_faqs WHERE NOT benign"],
    );
    assert_eq!(faq_total.to_string(), not_benign[1]);
    // Noisy rules: the benign column counts findings of benign rules; the sample's
    // apiserver TLS handshake noise is one.
    let noisy = fleet_tsv(&fleet.dir, &["--query", "noisy-rules"]);
    assert_eq!(noisy[0], "rule_id\tfired\tclusters\tbenign\tinfo\tsymptoms");
    let tls = noisy
        .iter()
        .find(|r| r.starts_with("apiserver-tls-handshake-noise\t"))
        .unwrap_or_else(|| panic!("{noisy:?}"));
    let cells: Vec<&str> = tls.split('\t').collect();
    assert_eq!(
        cells[1], cells[3],
        "every finding of a benign rule is benign: {tls}"
    );
    let benign: usize = noisy[1..]
        .iter()
        .map(|r| {
            r.split('\t')
                .nth(3)
                .expect("benign")
                .parse::<usize>()
                .expect("n")
        })
        .sum();
    let expected = fleet_tsv(
        &fleet.dir,
        &["-c", "SELECT count(*) FILTER (WHERE benign) FROM findings"],
    );
    assert_eq!(benign.to_string(), expected[1]);
}

/// The exported timeline of the sample is `ktriage timeline`'s, row for row, with the
/// analyzer's log bursts and findings.
fn check_timeline(fleet: &Fleet, sample: &str) {
    let key = |v: &serde_json::Value| {
        let field = |name: &str| v[name].as_str().unwrap_or("").to_string();
        let ts = field("ts");
        format!(
            "{}|{}|{}|{}|{}|{}",
            ts.get(..19).unwrap_or(&ts),
            field("kind"),
            field("bundle_id"),
            field("resource"),
            field("evidence"),
            field("summary")
        )
    };
    let mut args = vec!["timeline", "-q", "--format", "json"];
    args.extend(fleet.sample.iter().map(|b| s(b)));
    let o = ktriage(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let shown: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).expect("json");
    let mut expected: Vec<String> = shown.iter().map(key).collect();
    expected.sort();
    let o = ktriage(&[
        "fleet",
        "-q",
        s(&fleet.dir),
        "--output",
        "json",
        "-c",
        &format!(
            "SELECT strftime(ts, '%Y-%m-%dT%H:%M:%S') AS ts, kind, bundle_id, resource, evidence, summary FROM timeline WHERE cluster_id = '{sample}'"
        ),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut got: Vec<String> = text(&o.stdout)
        .lines()
        .map(|l| key(&serde_json::from_str(l).expect("json row")))
        .collect();
    got.sort();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    for kind in ["finding", "log-burst", "event", "node-condition"] {
        assert!(
            got.iter().any(|k| k.split('|').nth(1) == Some(kind)),
            "no {kind} row"
        );
    }
    let types = fleet_tsv(
        &fleet.dir,
        &[
            "-c",
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'timeline' AND column_name IN ('ts', 'end_ts', 'count', 'cluster_id') ORDER BY column_name",
        ],
    );
    assert_eq!(
        types,
        [
            "column_name\tdata_type",
            "cluster_id\tVARCHAR",
            "count\tBIGINT",
            "end_ts\tTIMESTAMP",
            "ts\tTIMESTAMP",
        ]
    );
}

fn check_spark_matches_duckdb(fleet: &Fleet) {
    let java = Command::new("java").arg("-version").output();
    if !java.is_ok_and(|o| o.status.success()) {
        eprintln!("Spark comparison skipped: no Java (Spark needs Java 17)");
        return;
    }
    let pyspark = Command::new("python3")
        .args(["-c", "import pyspark"])
        .output();
    if !pyspark.is_ok_and(|o| o.status.success()) {
        eprintln!("Spark comparison skipped: PySpark is not installed (pip install pyspark)");
        return;
    }
    let o = Command::new("python3")
        .arg(repo().join("scripts/fleet-spark.py"))
        .arg(&fleet.dir)
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "fleet-spark: {}", text(&o.stderr));
    let out = text(&o.stdout);
    let mut spark: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            current = Some(name.to_string());
            spark.insert(name.to_string(), Vec::new());
        } else if let Some(name) = &current {
            spark.get_mut(name).expect("section").push(line.to_string());
        }
    }
    let shipped: Vec<String> = text(&ktriage(&["fleet", "--list"]).stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(spark.keys().cloned().collect::<Vec<_>>(), shipped, "{out}");
    for (name, rows) in &spark {
        let duck = fleet_tsv(&fleet.dir, &["--query", name]);
        assert!(duck.len() > 1, "{name} returns rows over the fixtures");
        assert_eq!(&duck, rows, "{name}: DuckDB vs Spark");
    }
}

/// The data file of `table` that the commit of the bundle `bundle_file_name` names.
fn committed_file(dir: &Path, bundle_file_name: &str, table: &str) -> PathBuf {
    let commit = commit_of(dir, bundle_file_name);
    let file = commit["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["table"] == table)
        .unwrap_or_else(|| panic!("{table} in {commit}"));
    dir.join(file["path"].as_str().expect("path"))
}

const SAMPLE_COMMIT: &str = "bundle_id=prod-shanghai-20260115-120000.json";

#[test]
fn re_export_replaces_a_bundles_files_and_a_failed_one_leaves_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = build_case(&repo().join("tests/fixtures/sample"), tmp.path());
    let dir = tmp.path().join("export");
    export_ok(&dir, &sample);
    let cluster = cluster_of(&dir, SAMPLE);
    let first = committed_file(&dir, SAMPLE_COMMIT, "bundles");
    let before = fs::read(&first).expect("part");
    export_ok(&dir, &sample);
    let second = committed_file(&dir, SAMPLE_COMMIT, "bundles");
    assert_ne!(first, second, "a re-export commits a new generation");
    assert_eq!(
        fs::read(&second).expect("part"),
        before,
        "same case, same bytes"
    );
    // The superseded generation stays for readers that read the previous commit.
    assert!(first.exists(), "{}", first.display());
    let count = fleet_tsv(&dir, &["-c", "SELECT count(*) FROM bundles"]);
    assert_eq!(count[1], "4", "no bundle is doubled");

    // A partition that cannot be written fails the export; the commit stays, and what the
    // failed export wrote of its own is removed.
    let blocked = dir.join(format!(
        "pods/cluster_id={cluster}/bundle_id=prod-shanghai-20260115-120000"
    ));
    fs::remove_dir_all(&blocked).expect("rm");
    fs::write(&blocked, "not a directory").expect("block");
    let files_before = files(&dir);
    let commit_before = commit_of(&dir, SAMPLE_COMMIT);
    let o = export(&dir, &sample, &[]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("pods"), "{err}");
    assert_eq!(commit_of(&dir, SAMPLE_COMMIT), commit_before);
    assert_eq!(files(&dir), files_before, "the failed export left files");
    // The committed set lost its pods file by hand: a reader says so in one line.
    let o = ktriage(&["fleet", "-q", s(&dir), "-c", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("pods/") && err.contains("not a directory") && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn hostile_ids_become_escaped_partition_names_and_read_back_exactly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("objects")).expect("mkdir");
    let bundle_id = "../../../escaped\u{1b}[31m=%2F";
    let context = "/etc/passwd/..";
    fs::write(
        src.join("bundle.yaml"),
        format!(
            "kind: cluster\nserver_version: v1.30.2\nbundle_id: {}\ncontext: {}\n",
            serde_json::to_string(bundle_id).expect("json"),
            serde_json::to_string(context).expect("json")
        ),
    )
    .expect("bundle.yaml");
    fs::write(
        src.join("objects/nodes.yaml"),
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  creationTimestamp: '2026-01-01T00:00:00Z'\nstatus:\n  nodeInfo:\n    kubeletVersion: v1.30.2\n",
    )
    .expect("node");
    let archive = tmp.path().join("hostile.tar.zst");
    ktriage_tests::source::build(&src, &archive).expect("build");
    let dir = tmp.path().join("out").join("export");
    export_ok(&dir, &[archive]);
    // Nothing escaped the export directory.
    let outside: Vec<String> = files(tmp.path())
        .into_iter()
        .filter(|f| {
            !f.starts_with("out/export/") && !f.starts_with("src/") && f != "hostile.tar.zst"
        })
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    let node_files: Vec<String> = files(&dir)
        .into_iter()
        .filter(|f| f.starts_with("nodes/"))
        .collect();
    assert_eq!(node_files.len(), 1, "{node_files:?}");
    assert!(
        node_files[0].starts_with(
            "nodes/cluster_id=%2Fetc%2Fpasswd%2F../bundle_id=..%2F..%2F..%2Fescaped%1B%5B31m%3D%252F/gen-"
        ) && generation_of(&node_files[0]).is_some(),
        "{node_files:?}"
    );
    assert!(
        files(&dir).contains(
            &"_ktriage_commits/bundle_id=..%2F..%2F..%2Fescaped%1B%5B31m%3D%252F.json".to_string()
        ),
        "{:?}",
        files(&dir)
    );
    let rows = fleet_tsv(
        &dir,
        &["-c", "SELECT cluster_id, bundle_id, name FROM nodes"],
    );
    assert_eq!(rows[1], format!("{context}\t{bundle_id}\tn1"));
}

#[test]
fn fleet_refuses_what_is_not_an_export_tree() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = ktriage(&["fleet", "-q", s(tmp.path()), "-c", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("_ktriage_schema.json"),
        "{}",
        text(&o.stderr)
    );
    // A corrupt data file names itself.
    fs::write(
        tmp.path().join("_ktriage_schema.json"),
        ktriage_json_schema(),
    )
    .expect("schema");
    let bad = tmp.path().join("nodes/cluster_id=c/bundle_id=b/gen-1");
    fs::create_dir_all(&bad).expect("mkdir");
    fs::write(bad.join("part-0.parquet"), b"PAR1 not really").expect("write");
    // Without a commit naming it, the file is not read.
    let o = ktriage(&[
        "fleet",
        "-q",
        s(tmp.path()),
        "-c",
        "SELECT count(*) FROM nodes",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    fs::create_dir_all(tmp.path().join("_ktriage_commits")).expect("mkdir");
    fs::write(
        tmp.path().join("_ktriage_commits/bundle_id=b.json"),
        serde_json::json!({"bundle_id": "b", "cluster_id": "c", "generation": "gen-1",
            "files": [{"table": "nodes", "path": "nodes/cluster_id=c/bundle_id=b/gen-1/part-0.parquet"}]})
        .to_string(),
    )
    .expect("commit");
    let o = ktriage(&["fleet", "-q", s(tmp.path()), "-c", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("part-0.parquet") && err.trim().lines().count() == 1,
        "{err}"
    );
    // A committed generation that is a symbolic link (here to the bundle's other
    // generation) is not followed.
    std::os::unix::fs::symlink(
        &bad,
        tmp.path().join("nodes/cluster_id=c/bundle_id=b/gen-2"),
    )
    .expect("symlink");
    fs::write(
        tmp.path().join("_ktriage_commits/bundle_id=b.json"),
        serde_json::json!({"bundle_id": "b", "cluster_id": "c", "generation": "gen-2",
            "files": [{"table": "nodes", "path": "nodes/cluster_id=c/bundle_id=b/gen-2/part-0.parquet"}]})
        .to_string(),
    )
    .expect("commit");
    let o = ktriage(&["fleet", "-q", s(tmp.path()), "-c", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("gen-2: not a directory") && err.trim().lines().count() == 1,
        "{err}"
    );
    // A commit file naming another bundle than its name says is refused, naming it.
    fs::write(
        tmp.path().join("_ktriage_commits/bundle_id=b.json"),
        serde_json::json!({"bundle_id": "other", "cluster_id": "c", "generation": "gen-1", "files": []})
            .to_string(),
    )
    .expect("commit");
    let o = ktriage(&["fleet", "-q", s(tmp.path()), "-c", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("bundle_id=b.json") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// The schema file an export writes (taken from a real export of nothing but its schema).
fn ktriage_json_schema() -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = build_case(&repo().join("tests/fixtures/noisy/managed-eks"), tmp.path());
    let out = tmp.path().join("x");
    let o = export(&out, &bundles, &["--tables", "bundles"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    fs::read_to_string(out.join("_ktriage_schema.json")).expect("schema")
}

#[test]
fn fleet_sql_cannot_read_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundles = build_case(&repo().join("tests/fixtures/noisy/managed-eks"), tmp.path());
    let dir = tmp.path().join("x");
    let o = export(&dir, &bundles, &["--tables", "bundles,nodes"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let schema = dir.join("_ktriage_schema.json");
    let o = ktriage(&[
        "fleet",
        "-q",
        s(&dir),
        "-c",
        &format!("SELECT * FROM read_text('{}')", s(&schema)),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!text(&o.stdout).contains("ktriage-export"));
    let o = ktriage(&["fleet", "-q", s(&dir), "-c", "INSTALL httpfs"]);
    assert_eq!(o.status.code(), Some(1));
}

/// Two versions of one cluster bundle, `atomic-1`: one healthy node, or three NotReady
/// nodes under disk pressure. Every table tells them apart.
fn variant(tmp: &Path, name: &str, nodes: usize, sick: bool) -> PathBuf {
    let src = tmp.join(name);
    fs::create_dir_all(src.join("objects")).expect("mkdir");
    fs::write(
        src.join("bundle.yaml"),
        "kind: cluster\nserver_version: v1.30.2\nbundle_id: atomic-1\ncontext: atomic\n",
    )
    .expect("bundle.yaml");
    let (ready, pressure) = if sick {
        ("'False'", "'True'")
    } else {
        ("'True'", "'False'")
    };
    let docs: Vec<String> = (1..=nodes)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: n{i}\n  uid: uid-n{i}\n  creationTimestamp: '2026-01-0{i}T00:00:00Z'\nstatus:\n  conditions:\n  - type: Ready\n    status: {ready}\n    reason: KubeletNotReady\n    lastTransitionTime: '2026-01-15T11:00:00Z'\n  - type: DiskPressure\n    status: {pressure}\n    reason: KubeletHasDiskPressure\n    lastTransitionTime: '2026-01-15T11:00:00Z'\n  nodeInfo:\n    kubeletVersion: v1.30.2\n"
            )
        })
        .collect();
    fs::write(src.join("objects/nodes.yaml"), docs.join("---\n")).expect("nodes");
    let archive = tmp.join(format!("{name}.tar.zst"));
    ktriage_tests::source::build(&src, &archive).expect("build");
    archive
}

const ATOMIC_COMMIT: &str = "bundle_id=atomic-1.json";

/// What a reader of the tree sees of the bundle, one count per table it reads.
fn signature(dir: &Path) -> String {
    let rows = fleet_tsv(
        dir,
        &[
            "-c",
            "SELECT (SELECT count(*) FROM bundles), (SELECT count(*) FROM nodes), (SELECT count(*) FROM findings), (SELECT count(*) FROM finding_faqs), (SELECT count(*) FROM timeline), (SELECT count(*) FROM timeline WHERE kind = 'node-created')",
        ],
    );
    rows[1].clone()
}

/// The signatures of the two variants, each exported alone.
fn variant_signatures(tmp: &Path, a: &Path, b: &Path) -> (String, String) {
    let alone = |name: &str, bundle: &Path| {
        let dir = tmp.join(name);
        export_ok(&dir, &[bundle.to_path_buf()]);
        signature(&dir)
    };
    let (sig_a, sig_b) = (alone("alone-a", a), alone("alone-b", b));
    let (ca, cb): (Vec<&str>, Vec<&str>) =
        (sig_a.split('\t').collect(), sig_b.split('\t').collect());
    // bundles is the same; nodes, findings and timeline differ.
    for i in 1..6 {
        assert_ne!(ca[i], cb[i], "column {i}: {sig_a} / {sig_b}");
    }
    (sig_a, sig_b)
}

/// The generation directories of `atomic-1` in every table (empty or not), relative to
/// `dir`.
fn atomic_generations(dir: &Path) -> Vec<String> {
    let entries = |d: &Path| -> Vec<PathBuf> {
        fs::read_dir(d)
            .map(|it| it.map(|e| e.expect("entry").path()).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for table in entries(dir).iter().filter(|p| p.is_dir()) {
        for cluster in entries(table) {
            for generation in entries(&cluster.join("bundle_id=atomic-1")) {
                let rel = generation.strip_prefix(dir).expect("under");
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn concurrent_re_exports_of_one_bundle_are_seen_as_whole_sets() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let tmp = tempfile::tempdir().expect("tempdir");
    let a = variant(tmp.path(), "a", 1, false);
    let b = variant(tmp.path(), "b", 3, true);
    let (sig_a, sig_b) = variant_signatures(tmp.path(), &a, &b);
    let dir = tmp.path().join("export");
    export_ok(&dir, std::slice::from_ref(&a));
    // Two workers re-export the bundle at the same time, each alternating the versions,
    // while a reader reads the tree over and over.
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (dir, a, b) = (dir.clone(), a.clone(), b.clone());
            std::thread::spawn(move || {
                for round in 0..4 {
                    let bundle = if (w + round) % 2 == 0 { &b } else { &a };
                    export_ok(&dir, std::slice::from_ref(bundle));
                }
            })
        })
        .collect();
    let watcher = {
        let done = Arc::clone(&done);
        let writers_done: Vec<_> = writers;
        std::thread::spawn(move || {
            for w in writers_done {
                w.join().expect("writer");
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut reads = 0;
    let mut seen = std::collections::BTreeSet::new();
    while !done.load(Ordering::SeqCst) {
        let sig = signature(&dir);
        assert!(
            sig == sig_a || sig == sig_b,
            "a mixed set: {sig} (whole sets: {sig_a} / {sig_b})"
        );
        seen.insert(sig);
        reads += 1;
    }
    watcher.join().expect("writers");
    assert!(reads >= 2, "the reader ran {reads} times");
    let last = signature(&dir);
    assert!(last == sig_a || last == sig_b, "{last}");
    // Every generation is whole or gone: the directories hold one file each.
    let tree = files(&dir);
    assert!(
        tree.iter().all(|f| f == "_ktriage_schema.json"
            || f == &format!("_ktriage_commits/{ATOMIC_COMMIT}")
            || generation_of(f).is_some()),
        "{tree:?}"
    );
    eprintln!("reader: {reads} reads, sets seen: {seen:?}");
}

/// Sets the modification time of `path` (a file or directory) `ago` in the past.
fn backdate(path: &Path, ago: std::time::Duration) {
    let when = std::time::SystemTime::now() - ago;
    fs::File::open(path)
        .and_then(|f| f.set_modified(when))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn an_export_killed_midway_leaves_the_previous_set_and_its_leftovers_go_later() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = variant(tmp.path(), "a", 1, false);
    let b = variant(tmp.path(), "b", 3, true);
    let (sig_a, sig_b) = variant_signatures(tmp.path(), &a, &b);
    let dir = tmp.path().join("export");
    let work = tmp.path().join("work");
    fs::create_dir_all(&work).expect("mkdir");
    export_ok(&dir, std::slice::from_ref(&a));

    // Kill an export of b with SIGKILL as soon as its first file's directory appears; if it
    // finished first, put a back and try again.
    let mut killed = false;
    for _ in 0..20 {
        let committed = commit_of(&dir, ATOMIC_COMMIT);
        let known = atomic_generations(&dir);
        let mut child = Command::new(env!("CARGO_BIN_EXE_ktriage"))
            .args(["export", "-q", "-o", s(&dir), s(&b)])
            .env("TMPDIR", &work)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let started = loop {
            if child.try_wait().expect("try_wait").is_some() {
                break false;
            }
            if atomic_generations(&dir).iter().any(|g| !known.contains(g)) {
                break true;
            }
        };
        if started {
            common::send(&child, "KILL");
        }
        child.wait().expect("wait");
        if commit_of(&dir, ATOMIC_COMMIT) == committed {
            killed = true;
            break;
        }
        export_ok(&dir, std::slice::from_ref(&a));
    }
    assert!(killed, "no export was killed before its commit");
    let committed = commit_of(&dir, ATOMIC_COMMIT);
    let generation = committed["generation"].as_str().expect("generation");
    let leftovers: Vec<String> = atomic_generations(&dir)
        .into_iter()
        .filter(|g| !g.ends_with(generation))
        .collect();
    assert!(!leftovers.is_empty(), "the killed export left nothing");
    // The previous set is read whole; the leftovers are not read.
    assert_eq!(signature(&dir), sig_a);
    // The next export succeeds and is read whole.
    export_ok(&dir, std::slice::from_ref(&b));
    assert_eq!(signature(&dir), sig_b);
    // Within the grace period the leftovers and the superseded set stay (a reader may be
    // reading it); once the commit and they are older, the next export removes them.
    for g in &leftovers {
        assert!(dir.join(g).exists(), "{g} removed too early");
    }
    let two_hours = std::time::Duration::from_secs(2 * 3600);
    for g in atomic_generations(&dir) {
        backdate(&dir.join(g), two_hours);
    }
    let current = commit_of(&dir, ATOMIC_COMMIT);
    backdate(&dir.join("_ktriage_commits").join(ATOMIC_COMMIT), two_hours);
    export_ok(&dir, std::slice::from_ref(&b));
    assert_eq!(signature(&dir), sig_b);
    let remaining = atomic_generations(&dir);
    for g in &leftovers {
        assert!(!remaining.contains(g), "{g} left: {remaining:?}");
    }
    // Left: the set just superseded (still in its grace period) and the new one.
    let superseded = current["generation"].as_str().expect("generation");
    let latest = commit_of(&dir, ATOMIC_COMMIT);
    let latest = latest["generation"].as_str().expect("generation");
    assert!(
        remaining
            .iter()
            .all(|g| g.ends_with(superseded) || g.ends_with(latest)),
        "{remaining:?}"
    );
    let tables = fs::read_dir(&dir)
        .expect("dir")
        .filter(|e| {
            let name = e.as_ref().expect("entry").file_name();
            !name.to_string_lossy().starts_with('_')
        })
        .count();
    assert_eq!(remaining.len(), 2 * tables, "{remaining:?}");
}
