//! `ktriage export` and `ktriage fleet` end to end: fixture cases exported into one tree,
//! queried with the shipped fleet queries in DuckDB and (when PySpark and Java are present)
//! Spark, re-exports, hostile partition values.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{build_case, repo};

fn ktriage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .output()
        .expect("ktriage runs")
}

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
    check_spark_matches_duckdb(&fleet);
}

fn check_layout(fleet: &Fleet, sample: &str) {
    let all = files(&fleet.dir);
    assert!(all.contains(&"_ktriage_schema.json".to_string()), "{all:?}");
    let sample_file = |table: &str, bundle: &str| {
        format!("{table}/cluster_id={sample}/bundle_id={bundle}/part-0.parquet")
    };
    assert!(
        all.contains(&sample_file("findings", "prod-shanghai-20260115-120000")),
        "{all:?}"
    );
    // The sample's node bundles are filed under their cluster.
    assert!(
        all.contains(&sample_file("certificates", "sh-cp-1-20260115-120000")),
        "{all:?}"
    );
    assert!(
        all.iter()
            .all(|f| f == "_ktriage_schema.json" || f.ends_with("/part-0.parquet")),
        "temporary files left: {all:?}"
    );
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(fleet.dir.join("_ktriage_schema.json")).expect("schema"),
    )
    .expect("json");
    assert_eq!(schema["version"], 1);
    assert_eq!(
        schema["partitioning"],
        serde_json::json!(["cluster_id", "bundle_id"])
    );
    // Each table of the schema has a file for every bundle, empty or not: 4 + 5 + 2.
    for table in schema["tables"].as_array().expect("tables") {
        let name = table["name"].as_str().expect("name");
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
        "noisy-rules",
    ] {
        assert!(text(&list.stdout).contains(name), "{}", text(&list.stdout));
    }
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

#[test]
fn re_export_replaces_a_bundles_files_and_a_failed_one_leaves_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = build_case(&repo().join("tests/fixtures/sample"), tmp.path());
    let dir = tmp.path().join("export");
    export_ok(&dir, &sample);
    let cluster = cluster_of(&dir, SAMPLE);
    let part = dir.join(format!(
        "bundles/cluster_id={cluster}/bundle_id=prod-shanghai-20260115-120000/part-0.parquet"
    ));
    let before = fs::read(&part).expect("part");
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).expect("meta"));
    let first = inode(&part);
    export_ok(&dir, &sample);
    assert_ne!(
        inode(&part),
        first,
        "the file is replaced by a rename, not rewritten"
    );
    assert_eq!(
        fs::read(&part).expect("part"),
        before,
        "same case, same bytes"
    );
    let count = fleet_tsv(&dir, &["-c", "SELECT count(*) FROM bundles"]);
    assert_eq!(count[1], "4", "no bundle is doubled");

    // A partition that cannot be written fails the export before any file moves.
    let blocked = dir.join(format!(
        "pods/cluster_id={cluster}/bundle_id=prod-shanghai-20260115-120000"
    ));
    fs::remove_dir_all(&blocked).expect("rm");
    fs::write(&blocked, "not a directory").expect("block");
    let moved = inode(&part);
    let o = export(&dir, &sample, &[]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("pods"), "{err}");
    assert_eq!(
        inode(&part),
        moved,
        "nothing of the failed export moved into place"
    );
    assert!(
        files(&dir).iter().all(|f| !f.contains(".tmp-")),
        "temporary files left"
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
    assert_eq!(
        node_files,
        ["nodes/cluster_id=%2Fetc%2Fpasswd%2F../bundle_id=..%2F..%2F..%2Fescaped%1B%5B31m%3D%252F/part-0.parquet"]
            .map(String::from)
            .to_vec()
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
    let bad = tmp.path().join("nodes/cluster_id=c/bundle_id=b");
    fs::create_dir_all(&bad).expect("mkdir");
    fs::write(bad.join("part-0.parquet"), b"PAR1 not really").expect("write");
    let o = ktriage(&["fleet", "-q", s(tmp.path()), "-c", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("part-0.parquet") && err.trim().lines().count() == 1,
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
