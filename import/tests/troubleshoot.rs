//! troubleshoot support bundles, from the readable trees under `tests/foreign/troubleshoot/`
//! tarred here as troubleshoot does (one wrapping directory, links in `all-logs/`), imported
//! and read back with the bundle reader.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ktriage_import::{ImportError, ImportOptions, import};
use ktriage_redact::{RedactConfig, Redactor};
use ktriage_schema::discovery::Discovery;
use ktriage_schema::manifest::{GapKind, GapReason, Manifest};
use ktriage_schema::reader::{self, Limits, OpenBundle};
use ktriage_schema::writer::WriterOptions;
use serde_json::Value;

/// 2026-01-15T12:00:00Z, stamped on every entry of the archives built here.
const COLLECTED: u64 = 1_768_478_400;

fn foreign(tree: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/foreign")
        .join(tree)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("readable tree") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A tar of `tree` under `support-bundle-…/`, with a link like troubleshoot's `all-logs/`.
fn tar_of(tree: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let top = "support-bundle-2026-01-15T12_00_00";
    for file in files_under(tree) {
        let rel = file
            .strip_prefix(tree)
            .expect("under tree")
            .to_string_lossy()
            .into_owned();
        let data = fs::read(&file).expect("readable");
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_mtime(COLLECTED);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, format!("{top}/{rel}"), data.as_slice())
            .expect("append");
    }
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mtime(COLLECTED);
    h.set_entry_type(tar::EntryType::Symlink);
    b.append_link(
        &mut h,
        format!("{top}/all-logs/calico-node-7xk2p/calico-node.log"),
        "../../cluster-resources/pods/logs/kube-system/calico-node-7xk2p/calico-node.log",
    )
    .expect("link");
    b.into_inner().expect("tar")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn options(redact: bool) -> ImportOptions {
    ImportOptions {
        limits: Limits::default(),
        redactor: if redact {
            Redactor::new(&RedactConfig::default()).expect("built-in rules")
        } else {
            Redactor::disabled()
        },
        writer: WriterOptions {
            workers: 0,
            ..WriterOptions::default()
        },
    }
}

struct Imported {
    _dir: tempfile::TempDir,
    bundle: OpenBundle,
}

impl Imported {
    fn manifest(&self) -> &Manifest {
        &self.bundle.manifest
    }

    fn text(&self, path: &str) -> String {
        fs::read_to_string(self.bundle.path(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn objects(&self, path: &str) -> Vec<Value> {
        self.text(path)
            .lines()
            .map(|l| serde_json::from_str(l).expect("NDJSON line"))
            .collect()
    }

    fn names(&self, path: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .objects(path)
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["metadata"]["namespace"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                )
            })
            .collect();
        names.sort();
        names
    }

    fn discovery(&self) -> Discovery {
        serde_json::from_str(&self.text("cluster/discovery.json")).expect("discovery")
    }

    fn gap(&self, what: GapKind, reason: GapReason) -> Vec<String> {
        self.manifest()
            .gaps
            .iter()
            .filter(|g| g.what == what && g.reason == reason)
            .map(|g| format!("{} | {}", g.location, g.detail))
            .collect()
    }
}

/// Imports the archive bytes `data` (written to a file named `name`) and opens the result.
fn import_archive(name: &str, data: &[u8], redact: bool) -> Result<Imported, ImportError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join(name);
    fs::write(&src, data).expect("write source");
    import_path(dir, &src, redact)
}

fn import_path(dir: tempfile::TempDir, src: &Path, redact: bool) -> Result<Imported, ImportError> {
    let out = dir.path().join("imported.tar.zst");
    let file = fs::File::create(&out).expect("create output");
    import(src, file, options(redact), &mut |_| true)?;
    let bundle = reader::open(&out, &dir.path().join("open"), &Limits::default())
        .expect("the imported bundle opens with the reader's checks");
    Ok(Imported { _dir: dir, bundle })
}

#[test]
fn the_current_layout_imports_objects_logs_discovery_gaps_and_findings() {
    let tar = tar_of(&foreign("troubleshoot/current"));
    let b = import_archive("support-bundle.tar.gz", &gzip(&tar), true).expect("imports");
    let m = b.manifest();
    assert_eq!(m.producer, "troubleshoot");
    assert_eq!(m.producer_version, "v0.107.1");
    assert_eq!(
        m.format_version, "1.0",
        "imported logs carry no API time stamps"
    );
    match &m.source {
        ktriage_schema::manifest::Source::Cluster(c) => assert_eq!(c.server_version, "v1.29.3"),
        other => panic!("source {other:?}"),
    }
    assert_eq!(m.finished_at.timestamp() as u64, COLLECTED);
    assert_eq!(
        b.names("cluster/core/v1/pods.ndjson"),
        [
            "default/shop-5d9f7c6b8-abcde",
            "kube-system/calico-node-7xk2p"
        ]
    );
    assert_eq!(b.names("cluster/core/v1/nodes.ndjson"), ["/cp-1"]);
    assert_eq!(
        b.names("cluster/core/v1/namespaces.ndjson"),
        ["/default", "/kube-system"]
    );
    // The same widget as JSON and as YAML is imported once.
    assert_eq!(
        b.names("cluster/example.com/v1/widgets.ndjson"),
        ["default/blue"]
    );
    assert_eq!(
        b.names("cluster/apiextensions.k8s.io/v1/customresourcedefinitions.ndjson"),
        ["/widgets.example.com"]
    );
    assert!(
        b.text("logs/kube-system/calico-node-7xk2p/calico-node.previous.log")
            .contains("Calico node failed to start")
    );
    assert!(
        b.text("logs/kube-system/calico-node-7xk2p/calico-node.log")
            .contains("Early log level")
    );
    // Discovery is the source's own: its groups, and nothing the source did not serve.
    let d = b.discovery();
    assert!(d.find_kind("example.com/v1", "Widget").is_some());
    assert!(d.find_kind("v1", "Pod").is_some());
    assert!(d.find_kind("apps/v1", "Deployment").is_none());
    assert!(
        b.gap(GapKind::Discovery, GapReason::SourceFormat)
            .is_empty()
    );
    // troubleshoot's errors and what the format never has.
    assert_eq!(
        b.gap(GapKind::Resource, GapReason::Forbidden),
        [
            "pods restricted | pods is forbidden: User \"system:serviceaccount:default:sb\" cannot list resource \"pods\" in API group \"\" in the namespace \"restricted\""
        ]
    );
    assert_eq!(b.gap(GapKind::Logs, GapReason::Error).len(), 1);
    assert!(
        b.gap(GapKind::Logs, GapReason::Error)[0]
            .starts_with("default/shop-5d9f7c6b8-abcde/proxy | failed to get log stream")
    );
    for what in [
        GapKind::Configz,
        GapKind::NodeLog,
        GapKind::Logs,
        GapKind::Host,
    ] {
        let gaps = b.gap(what.clone(), GapReason::SourceFormat);
        assert_eq!(gaps.len(), 1, "{what}");
    }
    // analysis.json is kept, and its results as findings of the source tool.
    assert!(b.text("source/analysis.json").contains("pod.status"));
    let findings = b.objects("source/findings.ndjson");
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[1]["severity"], "error");
    assert_eq!(findings[1]["title"], "kube-system/calico-node-7xk2p Status");
    assert_eq!(findings[1]["message"], "Status: CrashLoopBackOff");
}

#[test]
fn redaction_is_on_by_default_and_recorded() {
    let tar = tar_of(&foreign("troubleshoot/current"));
    let b = import_archive("sb.tgz", &gzip(&tar), true).expect("imports");
    let pods = b.text("cluster/core/v1/pods.ndjson");
    assert!(!pods.contains("hunter2-very-secret"), "{pods}");
    assert!(pods.contains("<redacted len=19>"));
    let log = b.text("logs/default/shop-5d9f7c6b8-abcde/shop.log");
    assert!(!log.contains("s3cr3t-pw"), "{log}");
    assert!(log.contains("ready"));
    let r = &b.manifest().redaction;
    assert!(r.enabled);
    assert!(r.counts["env-credential"] >= 1);
    assert!(r.counts["url-password"] >= 1);
}

#[test]
fn skipping_redaction_keeps_the_source_as_is_and_says_so() {
    let tar = tar_of(&foreign("troubleshoot/current"));
    let b = import_archive("sb.tar.gz", &gzip(&tar), false).expect("imports");
    assert!(
        b.text("cluster/core/v1/pods.ndjson")
            .contains("hunter2-very-secret")
    );
    assert!(
        b.text("logs/default/shop-5d9f7c6b8-abcde/shop.log")
            .contains("s3cr3t-pw")
    );
    assert!(!b.manifest().redaction.enabled);
}

#[test]
fn the_older_layout_of_bare_kindless_arrays_imports() {
    let tar = tar_of(&foreign("troubleshoot/older"));
    let b = import_archive("support-bundle.tar.gz", &gzip(&tar), true).expect("imports");
    let pods = b.objects("cluster/core/v1/pods.ndjson");
    assert_eq!(pods.len(), 2);
    assert!(
        pods.iter()
            .all(|p| p["kind"] == "Pod" && p["apiVersion"] == "v1")
    );
    assert_eq!(
        b.names("cluster/rbac.authorization.k8s.io/v1/clusterrolebindings.ndjson"),
        ["/cluster-admin"]
    );
    assert_eq!(
        b.names("cluster/core/v1/resourcequotas.ndjson"),
        ["default/compute"]
    );
    // YAML custom resources, their CRD known from the bare array of CRDs.
    assert_eq!(
        b.names("cluster/example.com/v1/widgets.ndjson"),
        ["default/blue"]
    );
    // No discovery in the source: synthesized, and said so.
    let d = b.discovery();
    assert!(d.find_kind("example.com/v1", "Widget").is_some());
    assert!(d.find_kind("apps/v1", "Deployment").is_some());
    assert_eq!(b.gap(GapKind::Discovery, GapReason::SourceFormat).len(), 1);
    assert_eq!(b.gap(GapKind::Resource, GapReason::Forbidden).len(), 1);
    assert!(b.gap(GapKind::Resource, GapReason::Forbidden)[0].starts_with("storageclasses |"));
    assert_eq!(b.manifest().producer_version, "");
    assert!(
        b.text("logs/kube-system/calico-node-7xk2p/calico-node.previous.log")
            .contains("Calico node failed to start")
    );
}

#[test]
fn plain_tar_zstd_tar_and_directories_are_sources_too() {
    let tar = tar_of(&foreign("troubleshoot/current"));
    let plain = import_archive("sb.tar", &tar, true).expect("plain tar");
    let zstd = import_archive(
        "sb.tar.zst",
        &zstd::encode_all(tar.as_slice(), 3).expect("zstd"),
        true,
    )
    .expect("tar.zst");
    let dir = tempfile::tempdir().expect("tempdir");
    let directory = import_path(dir, &foreign("troubleshoot/current"), true).expect("directory");
    for b in [&plain, &zstd, &directory] {
        assert_eq!(
            b.names("cluster/core/v1/pods.ndjson"),
            [
                "default/shop-5d9f7c6b8-abcde",
                "kube-system/calico-node-7xk2p"
            ]
        );
        assert_eq!(b.manifest().producer, "troubleshoot");
    }
}

#[test]
fn the_real_bundle_of_the_troubleshoot_project_imports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = import_path(dir, &foreign("real/troubleshoot-k3s-2022.tar.gz"), true).expect("imports");
    assert_eq!(b.manifest().producer_version, "v0.50.0-13-gd9e2465-dirty");
    assert!(b.names("cluster/core/v1/pods.ndjson").len() >= 8);
    assert!(
        b.bundle
            .manifest
            .entries
            .iter()
            .any(|e| e.path == "logs/kube-system/coredns-b96499967-tncf4/coredns.previous.log")
    );
}

fn hostile(entry: &str, kind: tar::EntryType) -> Vec<u8> {
    let mut data = tar_of(&foreign("troubleshoot/older"));
    // Drop the two zero blocks that end the archive and append the hostile entry.
    data.truncate(data.len() - 1024);
    let mut b = tar::Builder::new(data);
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    h.set_entry_type(kind);
    h.set_mode(0o600);
    // Written raw: the tar crate refuses `..` in set_path.
    let name = &mut h.as_old_mut().name;
    name[..entry.len()].copy_from_slice(entry.as_bytes());
    h.set_cksum();
    b.append(&h, &b"evil"[..]).expect("append");
    b.into_inner().expect("tar")
}

#[test]
fn hostile_sources_are_refused_with_the_entry_named() {
    for (entry, kind, why) in [
        ("../../etc/evil", tar::EntryType::Regular, "'..'"),
        ("/etc/evil", tar::EntryType::Regular, "absolute"),
        (
            "support-bundle-x/dev",
            tar::EntryType::Char,
            "character device",
        ),
    ] {
        let data = gzip(&hostile(entry, kind));
        let err = import_archive("evil.tar.gz", &data, true)
            .err()
            .unwrap_or_else(|| panic!("{entry} must be refused"))
            .to_string();
        assert!(err.contains(entry) && err.contains(why), "{entry}: {err}");
    }
}

#[test]
fn a_truncated_archive_is_refused() {
    let data = gzip(&tar_of(&foreign("troubleshoot/current")));
    let err = import_archive("cut.tar.gz", &data[..data.len() / 2], true)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("cut.tar.gz"), "{err}");
}

#[test]
fn a_source_of_no_known_format_is_refused() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "notes/readme.txt", &b"hello"[..])
        .expect("append");
    let err = import_archive("other.tar.gz", &gzip(&b.into_inner().expect("tar")), true)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("not a bundle of a known format"), "{err}");
}
