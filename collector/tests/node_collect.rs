//! Node mode against fake host trees (`tests/fixtures/hosts/<name>/`): each test copies a tree
//! into a temporary directory, fills its `@PLACEHOLDER@`s with certificates and keys generated
//! now (chosen validity and SANs), plants canaries, runs `node::run` with `--root` at the copy,
//! and reads the bundle back with the schema's safe reader.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use base64::Engine;
use ktriage_collect::node::{self, NodeArgs};
use ktriage_collect::stop::{Signal, Stop, StopReason};
use ktriage_schema::host::{CertificateInfo, HostFacts, KeyFile, KubeconfigSummary};
use ktriage_schema::layout;
use ktriage_schema::manifest::{GapKind, GapReason, Source};
use ktriage_schema::reader::{self, Limits, OpenBundle};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber, date_time_ymd,
};

const CANARY_TOKEN: &str = "ktriage-canary-token-5c1d0e7a93b2";
const CANARY_PASSWORD: &str = "ktriage-canary-password-f00d";
const CANARY_BEARER: &str = "ktriage-canary-bearer-0a1b2c3d4e5f";
/// A committed RSA key used as the cluster CA key (ring cannot generate RSA keys).
const RSA_CA_KEY: &str = include_str!("../../tests/fixtures/hosts/testdata/rsa-2048-ca.key");

fn fixtures() -> PathBuf {
    ktriage_tests::manifest_dir!().join("../tests/fixtures/hosts")
}

/// Copies a tree, keeping symbolic links as links and file modes.
fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).expect("mkdir");
    for entry in fs::read_dir(src).expect("read_dir") {
        let entry = entry.expect("entry");
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            symlink(fs::read_link(&from).expect("readlink"), &to).expect("symlink");
        } else if kind.is_dir() {
            copy_tree(&from, &to);
        } else {
            fs::copy(&from, &to).expect("copy");
        }
    }
}

/// Replaces `@NAME@` placeholders in every regular file of the tree.
fn fill(dir: &Path, values: &BTreeMap<&str, String>) {
    for entry in fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            fill(&entry.path(), values);
        } else if kind.is_file() {
            let Ok(mut text) = fs::read_to_string(entry.path()) else {
                continue;
            };
            if !text.contains('@') {
                continue;
            }
            for (k, v) in values {
                text = text.replace(&format!("@{k}@"), v);
            }
            fs::write(entry.path(), text).expect("write");
        }
    }
}

fn write(root: &Path, path: &str, data: &str, mode: u32) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(&p, data).expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The base64 body of a PEM block, joined: what must never show up in a bundle.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// A CA, and leaf certificates signed by it.
struct Pki {
    ca_key: KeyPair,
    ca_params: CertificateParams,
    ca_pem: String,
    /// Private keys written into the tree (PEM): none may leave it.
    secrets: Vec<String>,
}

impl Pki {
    fn new(cn: &str) -> Pki {
        let ca_key = KeyPair::from_pem(RSA_CA_KEY).expect("RSA CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = date_time_ymd(2024, 1, 1);
        params.not_after = date_time_ymd(2034, 1, 1);
        params.serial_number = Some(SerialNumber::from(vec![0x0a, 0xbc]));
        let ca_pem = params.self_signed(&ca_key).expect("CA").pem();
        let secrets = vec![RSA_CA_KEY.to_string()];
        Pki {
            ca_key,
            ca_params: params,
            ca_pem,
            secrets,
        }
    }

    /// A leaf (EC P-256) valid between the given years; returns (cert PEM, key PEM).
    fn leaf(
        &mut self,
        cn: &str,
        sans: &[&str],
        from: i32,
        until: (i32, u8, u8),
    ) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(until.0, until.1, until.2);
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = params.signed_by(&key, &issuer).expect("sign");
        let key_pem = key.serialize_pem();
        self.secrets.push(key_pem.clone());
        (cert.pem(), key_pem)
    }
}

struct Collected {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bundle: OpenBundle,
    outcome: node::NodeOutcome,
}

impl Collected {
    fn text(&self, rel: &str) -> String {
        fs::read_to_string(self.bundle.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
    fn has(&self, rel: &str) -> bool {
        self.bundle.manifest.entries.iter().any(|e| e.path == rel)
    }
    fn ndjson<T: serde::de::DeserializeOwned>(&self, rel: &str) -> Vec<T> {
        self.text(rel)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{rel}: {e}: {l}")))
            .collect()
    }
    fn facts(&self) -> HostFacts {
        serde_json::from_str(&self.text(layout::HOST_FACTS)).expect("facts")
    }
    /// Every byte of every file of the bundle, manifest included.
    fn all_bytes(&self) -> Vec<u8> {
        let mut all = fs::read(self.bundle.path(layout::MANIFEST)).expect("manifest");
        for e in &self.bundle.manifest.entries {
            all.extend(fs::read(self.bundle.path(&e.path)).expect("entry"));
            all.extend(e.path.as_bytes());
        }
        all
    }
    fn assert_absent(&self, needle: &str) {
        let all = self.all_bytes();
        assert!(
            !all.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle:?} leaked into the bundle"
        );
    }
    fn gap(&self, location: &str) -> Option<&ktriage_schema::manifest::Gap> {
        self.bundle
            .manifest
            .gaps
            .iter()
            .find(|g| g.location == location)
    }
}

/// Copies fixture `name`, lets `prepare` change the copy, collects it.
fn collect(
    name: &str,
    prepare: impl FnOnce(&Path) -> BTreeMap<&'static str, String>,
    args: impl FnOnce(&mut NodeArgs),
) -> Collected {
    collect_until(name, prepare, args, &Stop::new())
}

/// [`collect`] with a stop switch.
fn collect_until(
    name: &str,
    prepare: impl FnOnce(&Path) -> BTreeMap<&'static str, String>,
    args: impl FnOnce(&mut NodeArgs),
    stop: &Stop,
) -> Collected {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    copy_tree(&fixtures().join(name), &root);
    let values = prepare(&root);
    fill(&root, &values);
    let mut a = NodeArgs::new(&root);
    a.output = Some(dir.path().join("out").join("node.tar.zst"));
    // The fixtures' service logs are stamped in January 2024: a window that takes them all.
    a.since = std::time::Duration::from_secs(5 * 365 * 86400);
    fs::create_dir_all(dir.path().join("out")).expect("mkdir");
    args(&mut a);
    let outcome = node::run(&a, stop).expect("node mode runs");
    let bundle = reader::open(
        &outcome.output,
        &dir.path().join("unpacked"),
        &Limits::default(),
    )
    .expect("bundle opens");
    Collected {
        _dir: dir,
        root,
        bundle,
        outcome,
    }
}

#[test]
fn node_kubeadm_control_plane() {
    let mut secrets = Vec::new();
    let mut ca_fingerprint_input = String::new();
    let c = collect(
        "kubeadm-ubuntu",
        |root| {
            let mut pki = Pki::new("kubernetes");
            let ca = pki.ca_pem.clone();
            write(root, "/etc/kubernetes/pki/ca.crt", &ca, 0o644);
            write(root, "/etc/kubernetes/pki/ca.key", RSA_CA_KEY, 0o600);
            let (crt, key) = pki.leaf(
                "kube-apiserver",
                &[
                    "cp-1",
                    "kubernetes",
                    "kubernetes.default",
                    "kubernetes.default.svc",
                    "10.96.0.1",
                    "192.168.122.10",
                ],
                2024,
                (2025, 1, 1),
            );
            write(root, "/etc/kubernetes/pki/apiserver.crt", &crt, 0o644);
            write(root, "/etc/kubernetes/pki/apiserver.key", &key, 0o600);
            let (crt, key) = pki.leaf("kube-apiserver-kubelet-client", &[], 2023, (2024, 1, 1));
            write(
                root,
                "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
                &crt,
                0o644,
            );
            write(
                root,
                "/etc/kubernetes/pki/apiserver-kubelet-client.key",
                &key,
                0o600,
            );
            let (crt, key) = pki.leaf(
                "kube-etcd",
                &["cp-1", "localhost", "127.0.0.1"],
                2024,
                (2030, 6, 30),
            );
            write(root, "/etc/kubernetes/pki/etcd/server.crt", &crt, 0o644);
            write(root, "/etc/kubernetes/pki/etcd/server.key", &key, 0o600);
            write(
                root,
                "/etc/kubernetes/pki/sa.key",
                &pki.leaf("sa", &[], 2024, (2034, 1, 1)).1,
                0o600,
            );
            // A chain: leaf then CA.
            let (front, front_key) = pki.leaf("front-proxy-client", &[], 2024, (2025, 1, 1));
            write(
                root,
                "/etc/kubernetes/pki/front-proxy-client.crt",
                &format!("{front}{ca}"),
                0o644,
            );
            write(
                root,
                "/etc/kubernetes/pki/front-proxy-client.key",
                &front_key,
                0o600,
            );
            // The kubelet's rotated client certificate: certificate and key in one file.
            let (kc, kk) = pki.leaf("system:node:cp-1", &[], 2024, (2026, 3, 15));
            write(
                root,
                "/var/lib/kubelet/pki/kubelet-client-2024-03-15-10-00-00.pem",
                &format!("{kc}{kk}"),
                0o600,
            );
            symlink(
                "/var/lib/kubelet/pki/kubelet-client-2024-03-15-10-00-00.pem",
                root.join("var/lib/kubelet/pki/kubelet-client-current.pem"),
            )
            .expect("symlink");
            let (admin, admin_key) = pki.leaf("kubernetes-admin", &[], 2024, (2025, 6, 1));
            // A live runtime socket.
            let sock = root.join("run/containerd/containerd.sock");
            fs::create_dir_all(sock.parent().expect("parent")).expect("mkdir");
            let listener = std::os::unix::net::UnixListener::bind(&sock).expect("socket");
            std::mem::forget(listener);
            secrets = pki.secrets.clone();
            ca_fingerprint_input = ca;
            let canary_key = b64("ktriage canary private key body that must never leave the host");
            secrets.push(canary_key.clone());
            BTreeMap::from([
                ("CA_DATA", b64(&pki.ca_pem)),
                ("ADMIN_CERT_DATA", b64(&admin)),
                ("ADMIN_KEY_DATA", b64(&admin_key)),
                ("CANARY_TOKEN", CANARY_TOKEN.to_string()),
                ("CANARY_BEARER", CANARY_BEARER.to_string()),
                ("CANARY_KEY_BODY", canary_key),
            ])
        },
        |_| {},
    );

    // Manifest: a host source named after the host.
    let m = &c.bundle.manifest;
    let Source::Host(src) = &m.source else {
        panic!("not a host bundle: {:?}", m.source)
    };
    assert_eq!(src.hostname, "cp-1");
    let expected_node = std::env::var("NODE_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or("cp-1".into());
    assert_eq!(src.node_name, expected_node);
    assert!(m.redaction.enabled);
    assert!(m.gaps.is_empty(), "unexpected gaps: {:#?}", m.gaps);
    assert_eq!(c.outcome.gap_count(), 0);

    // Files, links resolved inside the root.
    let resolv = c.text(&layout::host_file_path("/etc/resolv.conf"));
    assert!(resolv.contains("nameserver 127.0.0.53"), "{resolv}");
    assert!(
        c.text(&layout::host_file_path("/run/systemd/resolve/resolv.conf"))
            .contains("nameserver 192.168.122.1")
    );
    assert!(
        c.text(&layout::host_file_path("/var/lib/kubelet/config.yaml"))
            .contains("cgroupDriver: systemd")
    );
    assert!(
        c.text(&layout::host_file_path("/etc/containerd/config.toml"))
            .contains("SystemdCgroup = true")
    );
    assert!(
        c.text(&layout::host_file_path(
            "/etc/cni/net.d/10-flannel.conflist"
        ))
        .contains("\"type\": \"portmap\"")
    );
    assert!(c.has(&layout::host_file_path(
        "/etc/containerd/certs.d/registry.internal:5000/hosts.toml"
    )));
    assert!(c.has(&layout::host_file_path(
        "/etc/kubernetes/manifests/kube-apiserver.yaml"
    )));
    assert!(c.has(&layout::host_file_path(
        "/etc/sysctl.d/99-kubernetes-cri.conf"
    )));
    assert!(
        c.text(&layout::host_file_path("/etc/os-release"))
            .contains("ID=ubuntu")
    );
    // /lib is a link to /usr/lib: the drop-in is stored once, under its first listed path.
    assert!(c.has(&layout::host_file_path(
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
    )));
    assert!(!c.has(&layout::host_file_path(
        "/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
    )));
    // A private key in a copied file is redacted; the file itself is kept.
    let planted = c.text(&layout::host_file_path("/etc/cni/net.d/99-canary-key.pem"));
    assert!(planted.contains("<redacted len="), "{planted}");
    // Kubeconfigs are never copied.
    for kc in [
        "/etc/kubernetes/admin.conf",
        "/etc/kubernetes/kubelet.conf",
        "/etc/kubernetes/scheduler.conf",
    ] {
        assert!(!c.has(&layout::host_file_path(kc)), "{kc} copied");
    }

    // Certificates.
    let certs: Vec<CertificateInfo> = c.ndjson(layout::HOST_CERTIFICATES);
    let by_path = |p: &str, i: u32| {
        certs
            .iter()
            .find(|x| x.path == p && x.index == i)
            .unwrap_or_else(|| panic!("no certificate {p}#{i}"))
    };
    let ca = by_path("/etc/kubernetes/pki/ca.crt", 0);
    assert!(ca.is_ca);
    assert_eq!(ca.subject, "CN=kubernetes");
    assert_eq!(ca.key_algorithm, "RSA");
    assert_eq!(ca.key_bits, 2048);
    assert_eq!(ca.serial, "abc");
    assert_eq!(ca.not_before, "2024-01-01T00:00:00Z");
    assert_eq!(ca.not_after, "2034-01-01T00:00:00Z");
    let ca_der = pem_der(&ca_fingerprint_input);
    assert_eq!(
        ca.fingerprint_sha256,
        ktriage_schema::writer::sha256_hex(&ca_der)
    );
    let api = by_path("/etc/kubernetes/pki/apiserver.crt", 0);
    assert!(!api.is_ca);
    assert_eq!(api.issuer, "CN=kubernetes");
    assert_eq!((api.key_algorithm.as_str(), api.key_bits), ("EC", 256));
    for san in [
        "DNS:kubernetes.default.svc",
        "DNS:cp-1",
        "IP:10.96.0.1",
        "IP:192.168.122.10",
    ] {
        assert!(
            api.sans.iter().any(|s| s == san),
            "{san} missing from {:?}",
            api.sans
        );
    }
    assert_eq!(
        by_path("/etc/kubernetes/pki/apiserver-kubelet-client.crt", 0).not_after,
        "2024-01-01T00:00:00Z"
    );
    assert_eq!(
        by_path("/etc/kubernetes/pki/etcd/server.crt", 0).not_after,
        "2030-06-30T00:00:00Z"
    );
    assert_eq!(
        by_path("/etc/kubernetes/pki/front-proxy-client.crt", 1).fingerprint_sha256,
        ca.fingerprint_sha256
    );
    let kubelet_client = by_path("/var/lib/kubelet/pki/kubelet-client-current.pem", 0);
    assert_eq!(kubelet_client.subject, "CN=system:node:cp-1");
    assert_eq!(kubelet_client.not_after, "2026-03-15T00:00:00Z");

    // Key files: metadata only.
    let keys: Vec<KeyFile> = c.ndjson(layout::HOST_KEY_FILES);
    for p in [
        "/etc/kubernetes/pki/ca.key",
        "/etc/kubernetes/pki/sa.key",
        "/etc/kubernetes/pki/etcd/server.key",
        "/var/lib/kubelet/pki/kubelet-client-current.pem",
    ] {
        let k = keys
            .iter()
            .find(|k| k.path == p)
            .unwrap_or_else(|| panic!("no key file {p}"));
        assert_eq!(k.mode, "0600");
    }

    // Kubeconfig summaries.
    let kcs: Vec<KubeconfigSummary> = c.ndjson(layout::HOST_KUBECONFIGS);
    let kc = |p: &str| {
        kcs.iter()
            .find(|k| k.path == p)
            .unwrap_or_else(|| panic!("no kubeconfig {p}"))
    };
    let admin = kc("/etc/kubernetes/admin.conf");
    assert_eq!(admin.current_context, "kubernetes-admin@kubernetes");
    assert_eq!(admin.clusters[0].server, "https://192.168.122.10:6443");
    assert!(admin.clusters[0].ca_embedded);
    assert_eq!(
        admin.clusters[0].ca_fingerprint_sha256,
        ca.fingerprint_sha256
    );
    assert_eq!(admin.users[0].auth, "client-certificate-data");
    assert_eq!(
        admin.users[0].client_certificate_not_after,
        "2025-06-01T00:00:00Z"
    );
    let kubelet = kc("/etc/kubernetes/kubelet.conf");
    assert_eq!(kubelet.users[0].auth, "client-certificate");
    assert_eq!(
        kubelet.users[0].client_certificate_path,
        "/var/lib/kubelet/pki/kubelet-client-current.pem"
    );
    assert_eq!(
        kubelet.users[0].client_certificate_not_after,
        "2026-03-15T00:00:00Z"
    );
    let sched = kc("/etc/kubernetes/scheduler.conf");
    assert!(sched.clusters[0].insecure_skip_tls_verify);
    assert!(!sched.clusters[0].ca_embedded);
    assert_eq!(sched.users[0].auth, "token");

    // Facts.
    let f = c.facts();
    assert_eq!(f.hostname, "cp-1");
    assert_eq!(f.kernel.sysname, "Linux");
    assert_eq!(f.kernel.release, "5.15.0-91-generic");
    assert_eq!(f.kernel.machine, "x86_64");
    assert_eq!(f.os_release["ID"], "ubuntu");
    assert_eq!(f.os_release["VERSION_ID"], "22.04");
    assert!(
        f.cmdline
            .starts_with("BOOT_IMAGE=/vmlinuz-5.15.0-91-generic")
    );
    assert_eq!(f.memory_bytes, Some(8_137_524 * 1024));
    assert_eq!(f.cpus, Some(4));
    assert_eq!(f.sysctls["fs.inotify.max_user_watches"], "8192");
    assert_eq!(f.sysctls["net.bridge.bridge-nf-call-iptables"], "1");
    assert_eq!(f.sysctls["fs.file-nr"], "2080 0 9223372036854775807");
    assert_eq!(f.sysctls["kernel.pid_max"], "4194304");
    assert!(!f.sysctls.contains_key("net.ipv6.conf.all.forwarding"));
    for m in ["nf_conntrack", "br_netfilter", "overlay"] {
        assert!(f.modules.iter().any(|x| x == m), "module {m}");
    }
    assert_eq!(f.cgroup.version, 2);
    assert!(f.cgroup.controllers.iter().any(|c| c == "pids"));
    assert!(f.swaps.is_empty());
    assert_eq!(
        f.binaries["ebtables"].as_deref(),
        Some("/usr/sbin/ebtables")
    );
    assert_eq!(f.binaries["socat"].as_deref(), Some("/usr/bin/socat"));
    assert_eq!(f.binaries["docker"], None);
    assert_eq!(f.binaries["xfs_info"], None);
    assert!(f.runtime_sockets["/run/containerd/containerd.sock"]);
    assert!(!f.runtime_sockets["/var/run/docker.sock"]);
    assert!(f.cni_bin.iter().any(|b| b == "flannel") && f.cni_bin.iter().any(|b| b == "portmap"));
    let fs_of = |p: &str| {
        f.filesystems
            .iter()
            .find(|x| x.path == p)
            .unwrap_or_else(|| panic!("no filesystem {p}"))
    };
    assert_eq!(fs_of("/").fstype, "ext4");
    assert!(fs_of("/").size_bytes > 0);
    assert_eq!(fs_of("/var/lib/kubelet").fstype, "ext4");
    assert!(f.filesystems.iter().all(|x| x.path != "/var/lib/docker"));
    assert_eq!(f.leftover_dirs.len(), 1);
    assert_eq!(f.leftover_dirs[0].path, "/var/lib/karmada-etcd");
    assert_eq!(f.leftover_dirs[0].entries, 1);
    assert!(
        f.mounts
            .iter()
            .any(|m| m.mountpoint == "/var/lib/containerd" && m.fstype == "xfs")
    );

    // Service logs from syslog, each with its own lines only.
    let kubelet_log = c.text(&layout::host_log_path("kubelet"));
    assert!(kubelet_log.contains("Container runtime network not ready"));
    assert!(!kubelet_log.contains("containerd[812]"));
    let containerd_log = c.text(&layout::host_log_path("containerd"));
    assert!(containerd_log.contains("failed to load cni during init"));
    assert!(!c.has(&layout::host_log_path("docker")));
    // The kernel's log from rsyslog's kern.log, whole: IPVS dropping NodePort traffic is
    // only ever logged there.
    let kernel_log = c.text(&layout::host_log_path("kernel"));
    assert!(kernel_log.starts_with("Jan 15 09:59:40 cp-1 kernel: [    0.000000] Linux version"));
    assert!(kernel_log.contains("IPVS: rr: TCP 192.168.122.10:30443 - no destination available"));
    assert!(!kernel_log.contains("kubelet"));

    // Nothing secret left the host.
    for s in &secrets {
        c.assert_absent(&pem_body(s));
        c.assert_absent(&b64(s));
        for line in s
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 20)
        {
            c.assert_absent(line);
        }
    }
    c.assert_absent(CANARY_TOKEN);
    c.assert_absent(CANARY_BEARER);
    c.assert_absent("PRIVATE KEY-----");
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .take_while(|l| !l.starts_with("-----END"))
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64")
}

#[test]
fn node_legacy_worker_with_unreadable_entries() {
    let is_root = rustix::process::geteuid().is_root();
    let mut kubelet_key = String::new();
    let mut ca_pem = String::new();
    let c = collect(
        "centos7-worker",
        |root| {
            let mut pki = Pki::new("kubernetes");
            write(root, "/etc/kubernetes/pki/ca.crt", &pki.ca_pem, 0o644);
            let (crt, key) = pki.leaf("system:node:worker-2", &[], 2022, (2023, 5, 1));
            kubelet_key = key.clone();
            ca_pem = pki.ca_pem.clone();
            // Entries that cannot be read as files, whoever runs the test:
            // a FIFO where /etc/hosts should be (opening it would block),
            let hosts = root.join("etc/hosts");
            fs::remove_file(&hosts).expect("rm");
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &hosts,
                rustix::fs::FileType::Fifo,
                0o644.into(),
                0,
            )
            .expect("mkfifo");
            // a dangling link for /etc/os-release,
            fs::remove_file(root.join("usr/lib/os-release")).expect("rm");
            // a directory where /etc/sysctl.conf should be,
            fs::remove_file(root.join("etc/sysctl.conf")).expect("rm");
            fs::create_dir(root.join("etc/sysctl.conf")).expect("mkdir");
            // a link that climbs out of the root towards a file outside it,
            let outside = root.parent().expect("parent").join("outside-secret.txt");
            fs::write(&outside, CANARY_PASSWORD).expect("write");
            symlink("../../../outside-secret.txt", root.join("etc/crictl.yaml")).expect("symlink");
            // a file name a bundle cannot hold,
            fs::write(root.join("etc/cni/net.d/odd\\name.conflist"), "{}").expect("write");
            // and, when permissions mean something, a file nobody may read.
            if !is_root {
                fs::set_permissions(
                    root.join("etc/docker/daemon.json"),
                    fs::Permissions::from_mode(0o000),
                )
                .expect("chmod");
            }
            BTreeMap::from([
                ("CA_DATA", b64(&pki.ca_pem)),
                ("KUBELET_CERT_DATA", b64(&crt)),
                ("KUBELET_KEY_DATA", b64(&key)),
                ("CANARY_TOKEN", CANARY_TOKEN.to_string()),
                ("CANARY_PASSWORD", CANARY_PASSWORD.to_string()),
            ])
        },
        |a| {
            a.node_name = Some("worker-2".into());
            a.log_max_bytes = 400;
        },
    );
    let m = &c.bundle.manifest;
    let Source::Host(src) = &m.source else {
        panic!("not a host bundle")
    };
    assert_eq!(
        (src.node_name.as_str(), src.hostname.as_str()),
        ("worker-2", "Worker-2")
    );

    // Gaps for what could not be read; the rest of the collection went on.
    let hosts = c.gap("/etc/hosts").expect("gap for the FIFO");
    assert_eq!(hosts.what, GapKind::File);
    assert_eq!(hosts.reason, GapReason::Error);
    assert!(hosts.detail.contains("FIFO"), "{}", hosts.detail);
    assert_eq!(
        c.gap("/etc/os-release")
            .expect("gap for the dangling link")
            .reason,
        GapReason::NotFound
    );
    assert_eq!(
        c.gap("/etc/sysctl.conf")
            .expect("gap for the directory")
            .reason,
        GapReason::Error
    );
    if !is_root {
        assert_eq!(
            c.gap("/etc/docker/daemon.json").expect("gap").reason,
            GapReason::Forbidden
        );
    } else {
        assert!(
            c.text(&layout::host_file_path("/etc/docker/daemon.json"))
                .contains("native.cgroupdriver=cgroupfs")
        );
    }
    let odd = m
        .gaps
        .iter()
        .find(|g| g.location.ends_with("odd\\name.conflist"))
        .expect("gap for the odd name");
    assert_eq!(odd.reason, GapReason::Error);
    // The escaping link resolved inside the root, found nothing there, and read nothing outside.
    assert!(!c.has(&layout::host_file_path("/etc/crictl.yaml")));
    assert!(c.root.join("etc/crictl.yaml").is_symlink());

    let resolv = c.text(&layout::host_file_path("/etc/resolv.conf"));
    assert_eq!(
        resolv
            .lines()
            .filter(|l| l.starts_with("nameserver"))
            .count(),
        4
    );
    let containerd = c.text(&layout::host_file_path("/etc/containerd/config.toml"));
    assert!(containerd.contains("version = 3") && containerd.contains("SystemdCgroup = false"));
    assert!(
        containerd
            .contains("[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]")
    );
    let auth = c.text(&layout::host_file_path(
        "/etc/containerd/conf.d/10-registry-auth.toml",
    ));
    assert!(
        auth.contains("username = 'puller'") && auth.contains("password = '<redacted len="),
        "{auth}"
    );
    assert!(
        c.text(&layout::host_file_path("/etc/cni/net.d/10-calico.conflist"))
            .contains("\"type\": \"calico\"")
    );
    assert!(!c.has(&layout::host_file_path("/etc/cni/net.d/calico-kubeconfig")));
    let rke2 = c.text(&layout::host_file_path("/etc/rancher/rke2/config.yaml"));
    assert!(
        rke2.contains("server: https://10.0.0.10:9345") && rke2.contains("token: <redacted len="),
        "{rke2}"
    );
    assert!(
        c.text(&layout::host_file_path("/etc/rancher/rke2/registries.yaml"))
            .contains("username: puller")
    );
    assert!(
        c.text(&layout::host_file_path("/etc/sysconfig/kubelet"))
            .contains("--node-ip=10.0.0.12")
    );

    let kcs: Vec<KubeconfigSummary> = c.ndjson(layout::HOST_KUBECONFIGS);
    let kubelet = kcs
        .iter()
        .find(|k| k.path == "/etc/kubernetes/kubelet.conf")
        .expect("kubelet.conf");
    assert_eq!(kubelet.clusters[0].ca_path, "/etc/kubernetes/pki/ca.crt");
    assert!(!kubelet.clusters[0].ca_embedded);
    assert_eq!(
        kubelet.clusters[0].ca_fingerprint_sha256,
        ktriage_schema::writer::sha256_hex(&pem_der(&ca_pem))
    );
    assert_eq!(kubelet.users[0].auth, "client-certificate-data");
    assert_eq!(
        kubelet.users[0].client_certificate_not_after,
        "2023-05-01T00:00:00Z"
    );
    let calico = kcs
        .iter()
        .find(|k| k.path == "/etc/cni/net.d/calico-kubeconfig")
        .expect("calico kubeconfig");
    assert_eq!(calico.users[0].auth, "token");
    assert_eq!(calico.clusters[0].server, "https://10.96.0.1:443");
    assert!(calico.clusters[0].ca_embedded);

    let f = c.facts();
    assert_eq!(f.hostname, "Worker-2");
    assert_eq!(f.kernel.release, "3.10.0-1160.el7.x86_64");
    assert_eq!(f.kernel.machine, "");
    assert!(f.os_release.is_empty());
    assert_eq!(f.cpus, Some(2));
    assert_eq!(f.memory_bytes, Some(3_880_412 * 1024));
    assert_eq!(f.cgroup.version, 1);
    assert!(f.cgroup.controllers.iter().any(|c| c == "memory"));
    assert!(!f.cgroup.controllers.iter().any(|c| c == "pids"));
    assert_eq!(f.swaps.len(), 1);
    assert_eq!(
        (f.swaps[0].kind.as_str(), f.swaps[0].size_kib),
        ("partition", 4_194_300)
    );
    assert!(
        f.mounts
            .iter()
            .any(|m| m.mountpoint == "/usr" && m.options.split(',').any(|o| o == "ro"))
    );
    assert!(!f.modules.iter().any(|m| m == "nf_conntrack"));
    assert!(!f.sysctls.contains_key("net.netfilter.nf_conntrack_max"));
    assert_eq!(f.sysctls["net.bridge.bridge-nf-call-ip6tables"], "0");
    for tool in ["ebtables", "ethtool", "conntrack", "socat"] {
        assert_eq!(f.binaries[tool], None, "{tool}");
    }
    assert_eq!(
        f.binaries["crictl"], None,
        "a file without exec bits is not a tool"
    );
    assert_eq!(f.binaries["docker"].as_deref(), Some("/usr/bin/docker"));
    assert_eq!(
        f.binaries["xfs_info"].as_deref(),
        Some("/usr/sbin/xfs_info")
    );
    assert!(!f.cni_bin.iter().any(|b| b == "portmap" || b == "flannel"));
    assert_eq!(
        f.extra.get("selinux_enforce").map(String::as_str),
        Some("1")
    );
    let root_fs = f.filesystems.iter().find(|x| x.path == "/").expect("/");
    assert_eq!(root_fs.fstype, "xfs");
    assert_eq!(
        root_fs.xfs_ftype, None,
        "xfs_info runs only on the live host"
    );
    assert!(f.runtime_sockets.values().all(|present| !present));

    // Logs from /var/log/messages, bounded to the newest bytes.
    let entry = m
        .entries
        .iter()
        .find(|e| e.path == layout::host_log_path("kubelet"))
        .expect("kubelet log");
    assert!(entry.size <= 400);
    assert!(
        entry
            .truncated
            .as_deref()
            .is_some_and(|t| t.contains("older matching lines dropped")),
        "{:?}",
        entry.truncated
    );
    let kubelet_log = c.text(&layout::host_log_path("kubelet"));
    assert!(
        kubelet_log.ends_with("10.0.0.2 10.0.0.3 10.0.1.2\"\n"),
        "{kubelet_log}"
    );
    assert!(!kubelet_log.contains("Started kubelet"));
    assert!(
        c.text(&layout::host_log_path("docker"))
            .contains("Docker daemon")
    );
    // No kern.log: the kernel's lines of /var/log/messages.
    assert_eq!(
        c.text(&layout::host_log_path("kernel")),
        "Jan 15 10:00:03 Worker-2 kernel: XFS (sdb1): Mounting V5 Filesystem\n"
    );

    c.assert_absent(CANARY_TOKEN);
    c.assert_absent(CANARY_PASSWORD);
    c.assert_absent(&pem_body(&kubelet_key));
    c.assert_absent(&b64(&kubelet_key));
}

#[test]
fn node_k0s_certificates_are_read_keys_only_listed() {
    let mut key_pem = String::new();
    let c = collect(
        "centos7-worker",
        |root| {
            let mut pki = Pki::new("kubernetes-ca");
            write(root, "/var/lib/k0s/pki/ca.crt", &pki.ca_pem, 0o644);
            let (crt, key) = pki.leaf("etcd-server", &[], 2024, (2025, 1, 10));
            write(root, "/var/lib/k0s/pki/etcd/server.crt", &crt, 0o644);
            write(root, "/var/lib/k0s/pki/etcd/server.key", &key, 0o600);
            let (crt, key) = pki.leaf("system:node:worker-2", &[], 2024, (2025, 2, 1));
            write(
                root,
                "/var/lib/k0s/kubelet/pki/kubelet-client-current.pem",
                &format!("{crt}{key}"),
                0o600,
            );
            key_pem = key;
            BTreeMap::new()
        },
        |_| {},
    );
    let certs: Vec<CertificateInfo> = c.ndjson(layout::HOST_CERTIFICATES);
    let not_after = |p: &str| {
        certs
            .iter()
            .find(|x| x.path == p)
            .map(|x| x.not_after.clone())
    };
    assert!(
        certs
            .iter()
            .any(|x| x.path == "/var/lib/k0s/pki/ca.crt" && x.is_ca)
    );
    assert_eq!(
        not_after("/var/lib/k0s/pki/etcd/server.crt").as_deref(),
        Some("2025-01-10T00:00:00Z")
    );
    assert_eq!(
        not_after("/var/lib/k0s/kubelet/pki/kubelet-client-current.pem").as_deref(),
        Some("2025-02-01T00:00:00Z")
    );
    let keys: Vec<KeyFile> = c.ndjson(layout::HOST_KEY_FILES);
    for p in [
        "/var/lib/k0s/pki/etcd/server.key",
        "/var/lib/k0s/kubelet/pki/kubelet-client-current.pem",
    ] {
        assert!(keys.iter().any(|k| k.path == p), "no key file {p}");
    }
    c.assert_absent(&pem_body(&key_pem));
    c.assert_absent("PRIVATE KEY-----");
}

#[test]
fn node_redaction_off_still_drops_private_keys() {
    let c = collect(
        "kubeadm-ubuntu",
        |_| {
            BTreeMap::from([
                (
                    "CANARY_KEY_BODY",
                    b64("planted key body, still never copied"),
                ),
                ("CANARY_BEARER", CANARY_BEARER.to_string()),
            ])
        },
        |a| a.no_redact = true,
    );
    assert!(!c.bundle.manifest.redaction.enabled);
    c.assert_absent(&b64("planted key body, still never copied"));
    assert!(
        c.bundle
            .manifest
            .redaction
            .counts
            .get(node::scrub::COUNT_PRIVATE_KEY)
            .is_some_and(|n| *n >= 1)
    );
    // Without redaction the log keeps its text.
    assert!(
        c.text(&layout::host_log_path("kubelet"))
            .contains(CANARY_BEARER)
    );
}

#[test]
fn node_stopped_by_a_signal_closes_a_partial_bundle_with_gaps() {
    let stop = Stop::new();
    stop.stop(StopReason::Signal(Signal::Interrupt));
    let c = collect_until("centos7-worker", |_| BTreeMap::new(), |_| {}, &stop);
    let m = &c.bundle.manifest;
    assert!(m.partial, "a stopped collection is partial");
    for step in [
        "host files and kubeconfigs",
        "certificates and keys",
        layout::HOST_FACTS,
        "kubelet",
    ] {
        let gap = c
            .gap(step)
            .unwrap_or_else(|| panic!("a gap for {step}: {:?}", m.gaps));
        assert_eq!(gap.reason, GapReason::Interrupted, "{gap:?}");
        assert!(gap.detail.contains("interrupted"), "{gap:?}");
    }
    assert!(
        m.entries.iter().all(|e| e.path != layout::HOST_FACTS),
        "nothing is collected after the stop: {:?}",
        m.entries
    );
}

#[test]
fn node_file_logs_older_than_since_are_dropped() {
    // The default window is 24 hours; every line of the fixture's syslog is from January.
    let c = collect(
        "kubeadm-ubuntu",
        |_| BTreeMap::new(),
        |a| a.since = std::time::Duration::from_secs(86400),
    );
    let entry = c
        .bundle
        .manifest
        .entries
        .iter()
        .find(|e| e.path == layout::host_log_path("kubelet"))
        .expect("kubelet log entry");
    assert_eq!(entry.size, 0, "no kubelet line is from the last 24 hours");
    assert!(
        entry
            .truncated
            .as_deref()
            .is_some_and(|t| t.contains("--since")),
        "{:?}",
        entry.truncated
    );
}

#[test]
fn node_facts_that_cannot_be_read_are_absent_not_zero() {
    let c = collect(
        "kubeadm-ubuntu",
        |root| {
            fs::remove_file(root.join("proc/meminfo")).expect("rm meminfo");
            fs::write(root.join("proc/cpuinfo"), "vendor_id : x\n").expect("write cpuinfo");
            let _ = fs::remove_file(root.join("sys/devices/system/cpu/online"));
            BTreeMap::new()
        },
        |_| {},
    );
    let f = c.facts();
    assert_eq!((f.memory_bytes, f.cpus), (None, None));
    let facts = fs::read_to_string(c.bundle.path(layout::HOST_FACTS)).expect("facts.json");
    assert!(
        !facts.contains("memory_bytes") && !facts.contains("\"cpus\""),
        "{facts}"
    );
    let gaps: Vec<(&GapKind, &str)> = c
        .bundle
        .manifest
        .gaps
        .iter()
        .map(|g| (&g.what, g.location.as_str()))
        .collect();
    for location in ["/proc/meminfo", "/proc/cpuinfo"] {
        assert!(
            gaps.contains(&(&GapKind::Fact, location)),
            "{location}: {gaps:?}"
        );
    }
}
