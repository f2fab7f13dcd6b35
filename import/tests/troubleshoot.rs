//! troubleshoot support bundles, from the readable trees under `tests/foreign/troubleshoot/`
//! tarred here as troubleshoot does (one wrapping directory, links in `all-logs/`), imported
//! and read back with the bundle reader, node bundles included.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ktriage_import::troubleshoot::Troubleshoot;
use ktriage_import::{ImportError, ImportOptions, import};
use ktriage_redact::RedactConfig;
use ktriage_schema::discovery::Discovery;
use ktriage_schema::host::{CertificateInfo, HostFacts};
use ktriage_schema::manifest::{GapKind, GapReason, Manifest, Source};
use ktriage_schema::reader::{self, Limits, OpenBundle};
use ktriage_schema::writer::WriterOptions;
use serde_json::Value;

/// 2026-01-15T12:00:00Z, stamped on every entry of the archives built here.
const COLLECTED: u64 = 1_768_478_400;

fn foreign(tree: &str) -> PathBuf {
    ktriage_tests::manifest_dir!()
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
    tar_of_mapped(tree, |rel| rel.to_string())
}

/// [`tar_of`], each file's path in the tree mapped to its path in the archive.
fn tar_of_mapped(tree: &Path, map: impl Fn(&str) -> String) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let top = "support-bundle-2026-01-15T12_00_00";
    for file in files_under(tree) {
        let rel = map(&file
            .strip_prefix(tree)
            .expect("under tree")
            .to_string_lossy());
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

fn options(redact: bool, node_dir: &Path) -> ImportOptions {
    ImportOptions {
        limits: Limits::default(),
        redaction: redact.then(RedactConfig::default),
        writer: WriterOptions {
            workers: 0,
            ..WriterOptions::default()
        },
        node_dir: Some(node_dir.to_path_buf()),
    }
}

struct Imported {
    _dir: tempfile::TempDir,
    bundle: OpenBundle,
    /// The node bundles, by file name.
    nodes: Vec<(String, OpenBundle)>,
}

impl Imported {
    fn manifest(&self) -> &Manifest {
        &self.bundle.manifest
    }

    fn text(&self, path: &str) -> String {
        fs::read_to_string(self.bundle.path(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn node(&self, file: &str) -> &OpenBundle {
        self.nodes
            .iter()
            .find(|(name, _)| name == file)
            .map(|(_, b)| b)
            .unwrap_or_else(|| {
                let names: Vec<&String> = self.nodes.iter().map(|(n, _)| n).collect();
                panic!("no node bundle {file} in {names:?}")
            })
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
    let node_dir = dir.path().join("nodes");
    fs::create_dir(&node_dir).expect("mkdir");
    let file = fs::File::create(&out).expect("create output");
    let (_, imported) = import(src, file, options(redact, &node_dir), &mut |_| true)?;
    let bundle = reader::open(&out, &dir.path().join("open"), &Limits::default())
        .expect("the imported bundle opens with the reader's checks");
    let mut nodes = Vec::new();
    for (i, node) in imported.nodes.iter().enumerate() {
        let opened = reader::open(
            &node.path,
            &dir.path().join(format!("open-node-{i}")),
            &Limits::default(),
        )
        .expect("a node bundle opens with the reader's checks");
        assert_eq!(opened.manifest.bundle_id, node.manifest.bundle_id);
        let name = node
            .path
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        nodes.push((name, opened));
    }
    // Nothing but the node bundles is left in their directory.
    assert_eq!(
        fs::read_dir(&node_dir).expect("readable").count(),
        imported.nodes.len()
    );
    Ok(Imported {
        _dir: dir,
        bundle,
        nodes,
    })
}

fn node_text(bundle: &OpenBundle, path: &str) -> String {
    fs::read_to_string(bundle.path(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn node_facts(bundle: &OpenBundle) -> HostFacts {
    serde_json::from_str(&node_text(bundle, "host/facts.json")).expect("facts")
}

fn node_gaps(bundle: &OpenBundle, what: GapKind, reason: GapReason) -> Vec<String> {
    bundle
        .manifest
        .gaps
        .iter()
        .filter(|g| g.what == what && g.reason == reason)
        .map(|g| g.location.clone())
        .collect()
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

#[test]
fn host_collectors_of_each_node_become_node_bundles() {
    let tar = tar_of(&foreign("troubleshoot/hosts"));
    let b = import_archive("support-bundle.tar.gz", &gzip(&tar), true).expect("imports");
    let names: Vec<&str> = b.nodes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["node-cp-1.tar.zst", "node-worker-1.tar.zst"]);

    let cp = b.node("node-cp-1.tar.zst");
    match &cp.manifest.source {
        Source::Host(h) => assert_eq!(
            (h.node_name.as_str(), h.hostname.as_str()),
            ("cp-1", "cp-1")
        ),
        other => panic!("source {other:?}"),
    }
    assert_eq!(cp.manifest.producer, "troubleshoot");
    assert_eq!(cp.manifest.producer_version, "v0.117.0");
    assert_eq!(cp.manifest.finished_at.timestamp() as u64, COLLECTED);
    assert_ne!(cp.manifest.bundle_id, b.manifest().bundle_id);
    let facts = node_facts(cp);
    assert_eq!(facts.hostname, "cp-1");
    assert_eq!(facts.kernel.release, "5.15.0-91-generic");
    assert_eq!(facts.kernel.machine, "x86_64");
    assert_eq!(facts.os_release["ID"], "ubuntu");
    assert_eq!(facts.os_release["VERSION_ID"], "22.04");
    assert_eq!(facts.cpus, Some(4));
    assert_eq!(facts.memory_bytes, Some(8_336_945_152));
    // Loaded and built-in modules; merely loadable ones are not loaded.
    assert_eq!(
        facts.modules,
        [
            "br_netfilter",
            "ext4",
            "ip_tables",
            "nf_conntrack",
            "overlay"
        ]
    );
    assert_eq!(facts.sysctls["net.netfilter.nf_conntrack_max"], "131072");
    assert_eq!(facts.cgroup.version, 2);
    assert!(facts.cgroup.controllers.contains(&"pids".to_string()));
    assert_eq!(facts.extra["ntp_synchronized"], "false");
    assert_eq!(
        facts.extra["systemd:kubelet.service"],
        "loaded active running"
    );
    // Nothing troubleshoot never collects is made up.
    assert!(facts.mounts.is_empty() && facts.swaps.is_empty() && facts.cmdline.is_empty());

    // Certificate metadata, one record per certificate; a path troubleshoot could not read
    // is a gap.
    let certs: Vec<CertificateInfo> = node_text(cp, "host/certificates.ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a certificate record"))
        .collect();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0].path, "/etc/kubernetes/pki/apiserver.crt");
    assert_eq!(certs[0].subject, "CN=kube-apiserver");
    assert_eq!(certs[0].issuer, "CN=kubernetes");
    assert_eq!(certs[0].not_after, "2026-01-25T09:00:00Z");
    assert!(
        certs[0]
            .sans
            .contains(&"DNS:kubernetes.default.svc".to_string())
    );
    assert!(!certs[0].is_ca && certs[1].is_ca);
    assert_eq!(
        node_gaps(cp, GapKind::Certificate, GapReason::NotFound),
        ["/etc/kubernetes/pki/front-proxy-client.crt"]
    );

    // The kubelet's journal is the node's kubelet log, redacted in the node bundle, which
    // counts what it redacted.
    let log = node_text(cp, "host/logs/kubelet.log");
    assert!(log.contains("\"Kubelet version\""), "{log}");
    assert!(!log.contains("s3cr3t-kubelet-pw"), "{log}");
    assert_eq!(cp.manifest.redaction.counts["url-password"], 1);
    assert_eq!(b.manifest().redaction.counts["url-password"], 0);

    // What troubleshoot never collects is said, in node mode's terms; what it did is not.
    let unmapped = node_gaps(cp, GapKind::Fact, GapReason::SourceFormat);
    for location in [
        "/proc/mounts",
        "/proc/swaps",
        "/proc/cmdline",
        "/opt/cni/bin",
    ] {
        assert!(unmapped.contains(&location.to_string()), "{unmapped:?}");
    }
    assert!(
        !unmapped.contains(&"/proc/modules".to_string()),
        "{unmapped:?}"
    );
    assert!(
        node_gaps(cp, GapKind::File, GapReason::SourceFormat)
            .contains(&"/etc/cni/net.d".to_string())
    );
    assert!(node_gaps(cp, GapKind::HostLog, GapReason::SourceFormat).is_empty());

    // worker-1 ran fewer collectors: its gaps say which.
    let worker = b.node("node-worker-1.tar.zst");
    let facts = node_facts(worker);
    assert_eq!((facts.cpus, facts.cgroup.version), (Some(2), 0));
    assert!(
        !worker
            .manifest
            .entries
            .iter()
            .any(|e| e.path.starts_with("host/logs/"))
    );
    assert!(
        node_gaps(worker, GapKind::Fact, GapReason::SourceFormat)
            .contains(&"/sys/fs/cgroup".to_string())
    );
    assert_eq!(
        node_gaps(worker, GapKind::HostLog, GapReason::SourceFormat),
        ["journal"]
    );
    assert_eq!(
        node_gaps(worker, GapKind::Certificate, GapReason::SourceFormat),
        ["/etc/kubernetes/pki"]
    );

    // The cluster bundle: the node without host data, the output not converted, and the
    // certificates of Secrets, kept but on no host.
    let host = b.gap(GapKind::Host, GapReason::SourceFormat);
    assert_eq!(host.len(), 2, "{host:?}");
    assert!(
        host[0].starts_with("nodes | host collectors did not run on 1 of the 3 nodes: worker-2"),
        "{host:?}"
    );
    assert!(
        host[1].starts_with("host-collectors | 4 files of host collectors are not converted")
            && host[1].contains("diskUsage, run-host, system"),
        "{host:?}"
    );
    assert_eq!(
        b.gap(GapKind::Certificate, GapReason::SourceFormat),
        [
            "certificates/certificates.json | 1 certificates troubleshoot read from 1 Secrets and ConfigMaps belong to no host: kept as source/certificates.json, not analyzed"
        ]
    );
    assert!(
        b.text("source/certificates.json")
            .contains("shop.example.com")
    );
    assert!(b.gap(GapKind::File, GapReason::SourceFormat).is_empty());
}

/// `host-collectors/<dir>/<node>/<file>` (before v0.110) as troubleshoot v0.110 and later
/// write it from the pods of their DaemonSet: `host-collectors/<node>/<dir>/<file>`.
fn node_first(rel: &str) -> String {
    match rel.split('/').collect::<Vec<_>>().as_slice() {
        ["host-collectors", dir, node, file] => format!("host-collectors/{node}/{dir}/{file}"),
        _ => rel.to_string(),
    }
}

#[test]
fn host_collectors_run_in_pods_since_v0_110_become_the_same_node_bundles() {
    let tar = tar_of_mapped(&foreign("troubleshoot/hosts"), node_first);
    let b = import_archive("support-bundle.tar.gz", &gzip(&tar), true).expect("imports");
    let names: Vec<&str> = b.nodes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["node-cp-1.tar.zst", "node-worker-1.tar.zst"]);
    let cp = b.node("node-cp-1.tar.zst");
    match &cp.manifest.source {
        Source::Host(h) => assert_eq!(h.node_name, "cp-1"),
        other => panic!("source {other:?}"),
    }
    let facts = node_facts(cp);
    assert_eq!(facts.kernel.release, "5.15.0-91-generic");
    assert_eq!((facts.cpus, facts.cgroup.version), (Some(4), 2));
    assert_eq!(facts.extra["ntp_synchronized"], "false");
    assert_eq!(node_text(cp, "host/certificates.ndjson").lines().count(), 2);
    assert!(!node_text(cp, "host/logs/kubelet.log").contains("s3cr3t-kubelet-pw"));
    assert_eq!(node_facts(b.node("node-worker-1.tar.zst")).cpus, Some(2));
    // The output not converted is counted by collector directory, not by node.
    let host = b.gap(GapKind::Host, GapReason::SourceFormat);
    assert!(
        host.iter()
            .any(|g| g.starts_with("host-collectors | 4 files")
                && g.contains("(diskUsage, run-host, system)")),
        "{host:?}"
    );
    assert!(
        host[0].contains("did not run on 1 of the 3 nodes: worker-2"),
        "{host:?}"
    );
}

#[test]
fn a_bundle_of_local_host_collectors_is_one_host_bundle() {
    let tar = tar_of(&foreign("troubleshoot/host-only"));
    let b = import_archive("host-bundle.tar.gz", &gzip(&tar), true).expect("imports");
    assert_eq!(b.manifest().producer, "troubleshoot");
    assert!(
        !b.manifest()
            .entries
            .iter()
            .any(|e| e.path.starts_with("cluster/core/")),
        "no objects"
    );
    let names: Vec<&str> = b.nodes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["node-edge-7.tar.zst"]);
    let host = b.node("node-edge-7.tar.zst");
    // The node name is unknown: the host name ties the bundle to its Node.
    match &host.manifest.source {
        Source::Host(h) => assert_eq!((h.node_name.as_str(), h.hostname.as_str()), ("", "edge-7")),
        other => panic!("source {other:?}"),
    }
    let facts = node_facts(host);
    assert_eq!(facts.os_release["ID"], "rocky");
    assert_eq!(facts.os_release["ID_LIKE"], "rhel");
    assert_eq!(facts.cgroup.version, 1);
    assert_eq!(facts.modules, ["overlay", "xfs"]);
    assert!(node_text(host, "host/logs/kernel.log").contains("XFS (sdb1): Ending clean mount"));
    assert!(
        node_gaps(host, GapKind::Fact, GapReason::SourceFormat).contains(&"/proc/sys".to_string())
    );
    assert!(b.gap(GapKind::Host, GapReason::SourceFormat)[0].contains("run-host"));
}

#[test]
fn logs_of_older_logs_collectors_are_filed_under_their_pods_namespace() {
    let tar = tar_of(&foreign("troubleshoot/older"));
    let b = import_archive("support-bundle.tar.gz", &gzip(&tar), true).expect("imports");
    // app-logs/<pod>/<container>.log: the pod is in default.
    let log = b.text("logs/default/shop-5d9f7c6b8-abcde/proxy.log");
    assert!(log.contains("upstream shop:8080 healthy"), "{log}");
    // No pod web-0 in the bundle: a gap, not a guess.
    let gaps = b.gap(GapKind::Logs, GapReason::SourceFormat);
    assert!(
        gaps.iter().any(|g| g.starts_with(
            "app-logs/web-0/nginx | troubleshoot's logs collector app-logs wrote no namespace"
        )),
        "{gaps:?}"
    );
    assert!(b.nodes.is_empty());
}

#[test]
fn a_custom_log_of_a_pod_name_in_two_namespaces_is_a_gap() {
    let pods = |ns: &str| {
        format!(
            r#"[{{"metadata": {{"name": "api-0", "namespace": "{ns}"}}, "spec": {{"containers": [{{"name": "api"}}]}}}}]"#
        )
    };
    let (a, b) = (pods("blue"), pods("green"));
    let r = common::convert_files(
        &Troubleshoot,
        &[
            ("api-logs/api-0/api.log", b"started\n"),
            ("api-logs/api-0/sidecar.log", b"started\n"),
            (
                "api-logs/api-0/api-errors.json",
                br#"["failed to get log stream: timeout"]"#,
            ),
            ("cluster-resources/pods/blue.json", a.as_bytes()),
            ("cluster-resources/pods/green.json", b.as_bytes()),
        ],
    )
    .expect("converts");
    assert!(r.logs.is_empty());
    let gaps: Vec<String> = r
        .gaps
        .iter()
        .filter(|g| g.what == GapKind::Logs && g.location.starts_with("api-logs/"))
        .map(|g| format!("{} {:?} {}", g.location, g.reason, g.detail))
        .collect();
    assert_eq!(gaps.len(), 3, "{gaps:?}");
    assert!(
        gaps[0].starts_with("api-logs/api-0/api Error failed to get log stream"),
        "{gaps:?}"
    );
    assert!(
        gaps[1].contains("in 2 namespaces (blue, green)"),
        "{gaps:?}"
    );
    assert!(
        gaps[2].starts_with("api-logs/api-0/sidecar SourceFormat"),
        "{gaps:?}"
    );
}

#[test]
fn logs_of_single_container_pods_and_collector_names_with_slashes_are_filed() {
    // Before v0.48 a logs collector wrote `<name>/<pod>.log` for a pod of one container
    // (init containers counted), and its name could hold `/` (`kots/admin_console`).
    let pods = br#"[
        {"metadata": {"name": "web-0", "namespace": "shop"}, "spec": {"containers": [{"name": "nginx"}]}},
        {"metadata": {"name": "db-0", "namespace": "shop"}, "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "pg"}]}},
        {"metadata": {"name": "kotsadm-6d4b", "namespace": "app"}, "spec": {"containers": [{"name": "kotsadm"}]}}
    ]"#;
    let r = common::convert_files(
        &Troubleshoot,
        &[
            ("app-logs/web-0.log", b"nginx up\n"),
            ("app-logs/web-0-previous.log", b"nginx crashed\n"),
            ("kots/admin_console/kotsadm-6d4b.log", b"kotsadm ready\n"),
            ("app-logs/db-0/pg.log", b"pg ready\n"),
            // db-0 has two containers: no `<pod>.log` of it can be its log.
            ("app-logs/db-0.log", b"?\n"),
            // A run pod's log, its pod gone: nothing a logs collector wrote.
            ("run-once/run-once.log", b"done\n"),
            ("cluster-resources/pods/shop.json", pods),
        ],
    )
    .expect("converts");
    assert_eq!(
        r.log_names(),
        [
            "app/kotsadm-6d4b/kotsadm",
            "shop/db-0/pg",
            "shop/web-0/nginx",
            "shop/web-0/nginx previous"
        ]
    );
    assert_eq!(r.log("shop/web-0/nginx previous"), "nginx crashed\n");
    assert!(
        !r.gaps.iter().any(|g| g.what == GapKind::Logs
            && g.reason == GapReason::SourceFormat
            && g.location != "cluster"),
        "{:?}",
        r.gaps
    );
    let files: Vec<&str> = r
        .gaps
        .iter()
        .filter(|g| g.what == GapKind::File)
        .map(|g| g.detail.as_str())
        .collect();
    assert_eq!(
        files,
        [
            "2 files of the bundle hold nothing ktriage reads (e.g. app-logs/db-0.log, run-once/run-once.log)"
        ]
    );
}

#[test]
fn lists_troubleshoot_failed_to_collect_are_their_errors_not_broken_files() {
    // A list that failed is written empty (`bytes.NewBuffer(nil)`), discovery that failed as
    // `null`, its error beside it; older versions named storage classes' errors
    // `storage-errors.json`.
    let r = common::convert_files(
        &Troubleshoot,
        &[
            ("cluster-resources/nodes.json", b""),
            (
                "cluster-resources/nodes-errors.json",
                br#"["nodes is forbidden: User \"sb\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"]"#,
            ),
            ("cluster-resources/pvs.json", b"\n"),
            ("cluster-resources/groups.json", b"null"),
            ("cluster-resources/resources.json", b"null\n"),
            (
                "cluster-resources/storage-errors.json",
                br#"["storageclasses.storage.k8s.io is forbidden"]"#,
            ),
            ("cluster-resources/pods/default.json", br#"{"kind": "PodList", "items": []}"#),
        ],
    )
    .expect("converts");
    let gaps: Vec<String> = r
        .gaps
        .iter()
        .filter(|g| g.reason != GapReason::SourceFormat)
        .map(|g| format!("{} {} {:?}", g.what, g.location, g.reason))
        .collect();
    assert_eq!(
        gaps,
        [
            "resource nodes Forbidden",
            "resource storageclasses Forbidden"
        ]
    );
    assert!(r.objects.is_empty());
}

#[test]
fn broken_or_hostile_host_collector_files_are_gaps_and_the_rest_converts() {
    let r = common::convert_files(
        &Troubleshoot,
        &[
            ("host-collectors/system/n1/memory.json", b"{not json"),
            ("host-collectors/system/n1/cpu.json", br#"{"logicalCount": 2}"#),
            ("host-collectors/system/..%2f/cpu.json", br#"{"logicalCount": 2}"#),
            ("host-collectors/system/n\x1b[31m/cpu.json", br#"{"logicalCount": 2}"#),
            ("host-collectors/system/n1/kernel_modules.json", br#"["not", "a", "map"]"#),
            // The log before its info file: named after the collector.
            ("host-collectors/journald/n1/runtime.txt", b"Jan 15 11:00:00 n1 containerd[1]: up\n"),
            (
                "host-collectors/journald/n1/runtime-info.json",
                br#"{"command": "journalctl -u containerd -u docker --no-pager", "exitCode": "1", "error": "No journal files were found."}"#,
            ),
        ],
    )
    .expect("converts");
    let files: Vec<&str> = r
        .gaps
        .iter()
        .filter(|g| g.what == GapKind::File && g.reason == GapReason::Error)
        .map(|g| g.location.as_str())
        .collect();
    assert_eq!(
        files,
        [
            "host-collectors/system/n1/memory.json",
            "host-collectors/system/n1/kernel_modules.json"
        ]
    );
    let hostile: Vec<&str> = r
        .gaps
        .iter()
        .filter(|g| g.what == GapKind::Host && g.reason == GapReason::Error)
        .map(|g| g.location.as_str())
        .collect();
    // Node names Kubernetes would not accept are refused, and named on one clean line.
    assert_eq!(hostile.len(), 2, "{hostile:?}");
    assert!(hostile.iter().all(|l| !l.contains('\x1b')), "{hostile:?}");
    let nodes: Vec<&str> = r.host_facts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(nodes, ["n1"]);
    assert_eq!(r.host_facts[0].1.cpus, Some(2));
    assert_eq!(r.host_logs.len(), 1);
    assert_eq!(r.host_logs[0].1, "runtime");
    assert!(r.host_gaps.iter().any(|(n, g)| n == "n1"
        && g.what == GapKind::HostLog
        && g.detail.contains("No journal files")));
}

#[test]
fn role_based_access_rules_of_the_real_bundle_stay_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = import_path(dir, &foreign("real/troubleshoot-k3s-2022.tar.gz"), true).expect("imports");
    let roles = b.objects("cluster/rbac.authorization.k8s.io/v1/clusterroles.ndjson");
    let admin = roles
        .iter()
        .find(|r| r["metadata"]["name"] == "admin")
        .expect("the admin ClusterRole");
    assert_eq!(
        admin["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"],
        "true"
    );
    let text = serde_json::to_string(&roles).expect("JSON");
    assert!(text.contains(r#""resources":["secrets"]"#), "secrets rules");
    assert!(
        !text.contains("<redacted"),
        "nothing in a ClusterRole is a credential"
    );
    let by_kind = &b.manifest().redaction.by_kind;
    assert!(
        by_kind
            .get("credential-field")
            .is_none_or(|kinds| !kinds.contains_key("ClusterRole")),
        "{by_kind:?}"
    );
}
