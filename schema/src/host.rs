//! Records written by node mode (`ktriage-collect node`) under `host/`. The analyzer loads
//! them into `host_*`, `certificates` and `kubeconfigs`; fixtures write them by hand.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `host/facts.json`: what the host is and how it is set up.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HostFacts {
    /// Host name as the host reports it.
    pub hostname: String,
    /// uname: `sysname`, `release`, `version`, `machine`.
    pub kernel: Kernel,
    /// `/etc/os-release` as key/value pairs (`ID`, `VERSION_ID`, `PRETTY_NAME`, ...).
    pub os_release: BTreeMap<String, String>,
    /// `/proc/cmdline`.
    pub cmdline: String,
    /// Total memory in bytes (`MemTotal`); absent when it could not be read (with a gap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Online CPUs; absent when they could not be read (with a gap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<u32>,
    /// Selected sysctls, name (dotted) to value as text.
    pub sysctls: BTreeMap<String, String>,
    /// Loaded kernel modules (`/proc/modules` first column).
    pub modules: Vec<String>,
    /// `/proc/mounts`.
    pub mounts: Vec<Mount>,
    /// `/proc/swaps` entries (active swap).
    pub swaps: Vec<Swap>,
    /// cgroup version (1 or 2) and controllers available.
    pub cgroup: Cgroup,
    /// Tool name to its path on PATH, or `null` when absent.
    pub binaries: BTreeMap<String, Option<String>>,
    /// Runtime socket path to whether it exists.
    pub runtime_sockets: BTreeMap<String, bool>,
    /// File names in `/opt/cni/bin`.
    pub cni_bin: Vec<String>,
    /// Filesystems of the directories that matter.
    pub filesystems: Vec<Filesystem>,
    /// Data directories left from earlier installs that the FAQ names, with entry counts.
    pub leftover_dirs: Vec<LeftoverDir>,
    /// Free-form extra facts (versions of runtimes, etc.).
    pub extra: BTreeMap<String, String>,
}

/// uname.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Kernel {
    /// `Linux`.
    pub sysname: String,
    /// Kernel release, e.g. `5.15.0-91-generic`.
    pub release: String,
    /// Build version string.
    pub version: String,
    /// Machine, e.g. `x86_64`.
    pub machine: String,
}

/// One line of `/proc/mounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Mount {
    /// Device or source.
    pub device: String,
    /// Mount point.
    pub mountpoint: String,
    /// Filesystem type.
    pub fstype: String,
    /// Mount options, comma-separated.
    pub options: String,
}

/// One line of `/proc/swaps`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Swap {
    /// Swap file or device.
    pub filename: String,
    /// `partition` or `file`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Size in KiB.
    pub size_kib: u64,
    /// Used KiB.
    pub used_kib: u64,
    /// Priority.
    pub priority: i64,
}

/// cgroup setup.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Cgroup {
    /// 1 or 2 (0: unknown).
    pub version: u8,
    /// Controllers available (v2 `cgroup.controllers`, v1 mounted hierarchies).
    pub controllers: Vec<String>,
}

/// A directory's filesystem.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Filesystem {
    /// The directory asked about.
    pub path: String,
    /// Filesystem type.
    pub fstype: String,
    /// Total bytes.
    pub size_bytes: u64,
    /// Used bytes.
    pub used_bytes: u64,
    /// xfs `ftype` when the filesystem is xfs and `xfs_info` answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xfs_ftype: Option<u8>,
}

/// A leftover data directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LeftoverDir {
    /// Path.
    pub path: String,
    /// Number of entries in it.
    pub entries: u64,
}

/// One certificate found on the host (`host/certificates.ndjson`). Never key material.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CertificateInfo {
    /// File holding it.
    pub path: String,
    /// Position in the file when it holds a chain (0 first).
    pub index: u32,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Subject alternative names (`DNS:x`, `IP:1.2.3.4`).
    pub sans: Vec<String>,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// Hex serial.
    pub serial: String,
    /// Basic constraints CA flag.
    pub is_ca: bool,
    /// `RSA`, `EC`, `Ed25519`, ...
    pub key_algorithm: String,
    /// Key size in bits, when known.
    pub key_bits: u32,
    /// SHA-256 of the DER certificate, lower-case hex.
    pub fingerprint_sha256: String,
}

/// A kubeconfig found on the host, summarised (`host/kubeconfigs.ndjson`). Never credentials.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KubeconfigSummary {
    /// File.
    pub path: String,
    /// `current-context`.
    pub current_context: String,
    /// Cluster entries.
    pub clusters: Vec<KubeconfigCluster>,
    /// User entries, by how they authenticate.
    pub users: Vec<KubeconfigUser>,
}

/// A kubeconfig cluster entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KubeconfigCluster {
    /// Entry name.
    pub name: String,
    /// Server URL.
    pub server: String,
    /// CA given inline (`certificate-authority-data`).
    pub ca_embedded: bool,
    /// CA file path (`certificate-authority`), empty when none.
    pub ca_path: String,
    /// SHA-256 of the CA certificate (DER), when it could be read.
    pub ca_fingerprint_sha256: String,
    /// `insecure-skip-tls-verify`.
    pub insecure_skip_tls_verify: bool,
}

/// A kubeconfig user entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KubeconfigUser {
    /// Entry name.
    pub name: String,
    /// `client-certificate-data`, `client-certificate`, `token`, `token-file`, `exec`,
    /// `auth-provider`, `basic` or `none`.
    pub auth: String,
    /// Client certificate file, when one is referenced.
    pub client_certificate_path: String,
    /// Expiry of the client certificate (embedded or file), RFC 3339, when readable.
    pub client_certificate_not_after: String,
}

/// A private-key file seen on the host (`host/key-files.ndjson`): metadata only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KeyFile {
    /// Path.
    pub path: String,
    /// Permission bits as octal text, e.g. `0600`.
    pub mode: String,
    /// Owner uid.
    pub uid: u32,
    /// Group gid.
    pub gid: u32,
}
