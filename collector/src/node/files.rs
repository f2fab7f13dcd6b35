//! Which host files are copied into the bundle. Each is read with a bound, redacted, and stored
//! at `host/files/<absolute path>`. Kubeconfigs found among them are not copied: they are
//! handed back to be summarised instead.

use std::io::Write;

use ktriage_schema::layout;
use ktriage_schema::manifest::GapKind;

use super::Sink;
use super::hostfs::HostFs;

/// Largest host file copied; longer ones keep their first bytes.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Deepest directory recursion for `certs.d`-style trees.
const MAX_DEPTH: usize = 6;

/// A file or a set of files to copy.
#[derive(Debug, Clone, Copy)]
enum Spec {
    /// Every host has it: its absence is recorded.
    Core(&'static str),
    /// Copied when present.
    Optional(&'static str),
    /// Files in a directory whose names end with one of `suffixes` (all files when empty).
    Dir(&'static str, &'static [&'static str]),
    /// Files named `name` anywhere below a directory.
    Tree(&'static str, &'static str),
}

const ANY: &[&str] = &[];
const CONF: &[&str] = &[".conf"];
const YAML: &[&str] = &[".yaml", ".yml", ".json"];
const TOML: &[&str] = &[".toml"];

const SPECS: &[Spec] = &[
    Spec::Core("/etc/resolv.conf"),
    Spec::Core("/etc/hosts"),
    Spec::Core("/etc/hostname"),
    Spec::Core("/etc/os-release"),
    Spec::Optional("/run/systemd/resolve/resolv.conf"),
    Spec::Optional("/etc/fstab"),
    Spec::Optional("/etc/selinux/config"),
    // kubelet
    Spec::Optional("/var/lib/kubelet/config.yaml"),
    Spec::Optional("/var/lib/kubelet/kubeadm-flags.env"),
    Spec::Optional("/etc/default/kubelet"),
    Spec::Optional("/etc/sysconfig/kubelet"),
    Spec::Optional("/etc/systemd/system/kubelet.service"),
    Spec::Dir("/etc/systemd/system/kubelet.service.d", CONF),
    Spec::Optional("/usr/lib/systemd/system/kubelet.service"),
    Spec::Dir("/usr/lib/systemd/system/kubelet.service.d", CONF),
    Spec::Optional("/lib/systemd/system/kubelet.service"),
    Spec::Dir("/lib/systemd/system/kubelet.service.d", CONF),
    Spec::Dir("/etc/kubernetes/manifests", YAML),
    // container runtimes
    Spec::Optional("/etc/containerd/config.toml"),
    Spec::Dir("/etc/containerd/conf.d", TOML),
    Spec::Tree("/etc/containerd/certs.d", "hosts.toml"),
    Spec::Optional("/etc/docker/daemon.json"),
    Spec::Optional("/etc/crio/crio.conf"),
    Spec::Dir("/etc/crio/crio.conf.d", ANY),
    Spec::Optional("/etc/crictl.yaml"),
    // network
    Spec::Dir("/etc/cni/net.d", ANY),
    // kernel settings
    Spec::Optional("/etc/sysctl.conf"),
    Spec::Dir("/etc/sysctl.d", CONF),
    Spec::Dir("/etc/modules-load.d", CONF),
    // k3s / rke2
    Spec::Optional("/etc/rancher/k3s/config.yaml"),
    Spec::Dir("/etc/rancher/k3s/config.yaml.d", YAML),
    Spec::Optional("/etc/rancher/k3s/registries.yaml"),
    Spec::Optional("/etc/rancher/rke2/config.yaml"),
    Spec::Dir("/etc/rancher/rke2/config.yaml.d", YAML),
    Spec::Optional("/etc/rancher/rke2/registries.yaml"),
];

/// What copying found that other collectors need.
#[derive(Debug, Default)]
pub struct Copied {
    /// Real paths under the root already copied: a file reached twice (`/lib` is a link to
    /// `/usr/lib` on most distributions) is stored once, under the first path listed.
    seen: std::collections::HashSet<std::path::PathBuf>,
    /// Host paths of the files copied (redacted text kept for the kubelet flags search).
    pub texts: Vec<(String, String)>,
    /// Files that turned out to be kubeconfigs: summarise, do not copy.
    pub kubeconfigs: Vec<String>,
}

/// Copies every listed file that exists.
pub fn collect<W: Write>(fs: &HostFs, sink: &mut Sink<W>) -> anyhow::Result<Copied> {
    let mut copied = Copied::default();
    for spec in SPECS {
        match *spec {
            Spec::Core(path) => copy(fs, sink, path, true, &mut copied)?,
            Spec::Optional(path) => copy(fs, sink, path, false, &mut copied)?,
            Spec::Dir(dir, suffixes) => {
                for path in list(fs, sink, dir, |name| {
                    suffixes.is_empty() || suffixes.iter().any(|s| name.ends_with(s))
                }) {
                    copy(fs, sink, &path, false, &mut copied)?;
                }
            }
            Spec::Tree(dir, name) => {
                let mut found = Vec::new();
                walk(fs, sink, dir, name, 0, &mut found);
                for path in found {
                    copy(fs, sink, &path, false, &mut copied)?;
                }
            }
        }
    }
    Ok(copied)
}

/// Files (not directories) of `dir` whose names pass `keep`. A missing directory is no gap.
fn list<W: Write>(
    fs: &HostFs,
    sink: &mut Sink<W>,
    dir: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    match fs.list_dir(dir) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| !e.is_dir && !e.name.starts_with('.') && keep(&e.name))
            .map(|e| e.path)
            .collect(),
        Err(e) => {
            sink.optional_gap(GapKind::File, dir, &e);
            Vec::new()
        }
    }
}

fn walk<W: Write>(
    fs: &HostFs,
    sink: &mut Sink<W>,
    dir: &str,
    name: &str,
    depth: usize,
    found: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let entries = match fs.list_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            sink.optional_gap(GapKind::File, dir, &e);
            return;
        }
    };
    for entry in entries {
        if entry.is_dir {
            walk(fs, sink, &entry.path, name, depth + 1, found);
        } else if entry.name == name {
            found.push(entry.path);
        }
    }
}

fn copy<W: Write>(
    fs: &HostFs,
    sink: &mut Sink<W>,
    path: &str,
    core: bool,
    copied: &mut Copied,
) -> anyhow::Result<()> {
    let read = match fs.resolve(path).and_then(|real| {
        let read = fs.read_head(path, MAX_FILE_BYTES)?;
        Ok((real, read))
    }) {
        Ok((real, read)) => {
            if !copied.seen.insert(real) {
                return Ok(());
            }
            read
        }
        Err(e) if e.is_not_found() && !core => return Ok(()),
        Err(e) => {
            sink.gap(e.gap(GapKind::File, path));
            return Ok(());
        }
    };
    if looks_like_kubeconfig(&read.data) {
        copied.kubeconfigs.push(path.to_string());
        return Ok(());
    }
    let clean = sink.scrub.config(&read.data);
    let truncated = read
        .cut_from
        .map(|size| format!("file is {size} bytes; the first {MAX_FILE_BYTES} bytes were kept"));
    sink.add(&layout::host_file_path(path), &clean, truncated)?;
    copied.texts.push((
        path.to_string(),
        String::from_utf8_lossy(&clean).into_owned(),
    ));
    Ok(())
}

/// A kubeconfig (`kind: Config` with clusters and users), which holds credentials.
pub fn looks_like_kubeconfig(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let top = |key: &str| text.lines().any(|l| l.starts_with(key));
    let yaml =
        (top("kind: Config") || top("current-context:")) && top("clusters:") && top("users:");
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    yaml || compact.contains("\"kind\":\"Config\"") && compact.contains("\"users\":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_detection() {
        let kc = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://x\n  name: k\nkind: Config\nusers:\n- name: u\n";
        assert!(looks_like_kubeconfig(kc.as_bytes()));
        let conflist = "{\"cniVersion\": \"0.3.1\", \"name\": \"cbr0\", \"plugins\": []}";
        assert!(!looks_like_kubeconfig(conflist.as_bytes()));
    }
}
