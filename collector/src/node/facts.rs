//! Host facts: kernel, OS, memory and CPUs, the sysctls and modules the FAQ's rules look at,
//! mounts, swap, cgroups, tools on PATH, runtime sockets, CNI plugins, filesystems and
//! leftover data directories.
//!
//! Everything is read under the root (`/proc` and `/sys` included), so a host mounted at
//! `/host` describes itself. System calls and commands describe the running system and are
//! used only when the root is `/`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ktriage_schema::host::{Cgroup, Filesystem, HostFacts, Kernel, LeftoverDir, Mount, Swap};
use ktriage_schema::manifest::{Gap, GapKind, GapReason};

use super::Sink;
use super::cmd;
use super::hostfs::{HostFs, ReadError};
use crate::stop::Stop;

const MAX_PROC_BYTES: u64 = 4 << 20;

/// Sysctls recorded (dotted names), read from `/proc/sys`.
pub const SYSCTLS: &[&str] = &[
    "fs.inotify.max_user_watches",
    "fs.inotify.max_user_instances",
    "fs.file-max",
    "fs.file-nr",
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.ip_local_port_range",
    "net.netfilter.nf_conntrack_max",
    "net.core.somaxconn",
    "vm.swappiness",
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "vm.max_map_count",
    "kernel.pid_max",
    "kernel.panic",
    "kernel.panic_on_oops",
    "user.max_user_namespaces",
];

/// Tools whose presence on PATH is recorded.
pub const BINARIES: &[&str] = &[
    "ebtables",
    "ethtool",
    "conntrack",
    "socat",
    "iptables",
    "ip6tables",
    "ipset",
    "ipvsadm",
    "ip",
    "crictl",
    "ctr",
    "docker",
    "containerd",
    "runc",
    "kubelet",
    "kubeadm",
    "nsenter",
    "mount",
    "xfs_info",
    "journalctl",
    "systemctl",
];

/// The standard PATH, searched in this order under the root.
pub const PATH_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Container runtime sockets looked for.
pub const RUNTIME_SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/var/run/docker.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/k3s/containerd/containerd.sock",
];

/// Directories whose filesystem type and usage are recorded, when they exist.
pub const FILESYSTEMS: &[&str] = &[
    "/",
    "/var/lib/kubelet",
    "/var/lib/containerd",
    "/var/lib/docker",
    "/var/lib/rancher",
    "/var/lib/etcd",
];

/// Data directories of earlier installs that the FAQ names.
pub const LEFTOVER_DIRS: &[&str] = &["/var/lib/karmada-etcd", "/var/lib/etcd"];

/// Known cgroup v1 controller names, to tell them from other mount options.
const CGROUP_V1_CONTROLLERS: &[&str] = &[
    "cpuset",
    "cpu",
    "cpuacct",
    "blkio",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// Gathers the facts; what cannot be read is recorded as a gap and left at its default.
pub fn collect<W: Write>(fs: &HostFs, sink: &mut Sink<W>) -> HostFacts {
    let mut g = Gather { fs, sink };
    let mut facts = HostFacts {
        kernel: g.kernel(),
        hostname: g.hostname(),
        os_release: g.os_release(),
        cmdline: g
            .proc_text("/proc/cmdline")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        memory_bytes: g.memory(),
        cpus: g.cpus(),
        sysctls: g.sysctls(),
        modules: g.modules(),
        mounts: g.mounts(),
        swaps: g.swaps(),
        ..Default::default()
    };
    facts.cgroup = g.cgroup(&facts.mounts);
    facts.binaries = g.binaries();
    facts.runtime_sockets = RUNTIME_SOCKETS
        .iter()
        .map(|s| (s.to_string(), g.fs.exists(s)))
        .collect();
    facts.cni_bin = g.cni_bin();
    facts.filesystems = g.filesystems(&facts.mounts, &facts.binaries);
    facts.leftover_dirs = g.leftover_dirs();
    facts.extra = g.extra(&facts.binaries);
    facts
}

struct Gather<'a, W: Write> {
    fs: &'a HostFs,
    sink: &'a mut Sink<W>,
}

impl<W: Write> Gather<'_, W> {
    /// A proc/sys text file; every failure is a gap.
    fn proc_text(&mut self, path: &str) -> Option<String> {
        match self.fs.read_text(path, MAX_PROC_BYTES) {
            Ok(t) => Some(t),
            Err(e) => {
                self.sink.gap(e.gap(GapKind::Fact, path));
                None
            }
        }
    }

    /// A text file that may be absent; only other failures are gaps.
    fn optional_text(&mut self, path: &str) -> Option<String> {
        match self.fs.read_text(path, MAX_PROC_BYTES) {
            Ok(t) => Some(t),
            Err(e) => {
                self.sink.optional_gap(GapKind::Fact, path, &e);
                None
            }
        }
    }

    fn kernel(&mut self) -> Kernel {
        if self.fs.is_live() {
            let u = rustix::system::uname();
            return Kernel {
                sysname: u.sysname().to_string_lossy().into_owned(),
                release: u.release().to_string_lossy().into_owned(),
                version: u.version().to_string_lossy().into_owned(),
                machine: u.machine().to_string_lossy().into_owned(),
            };
        }
        let mut read = |name: &str| {
            self.proc_text(&format!("/proc/sys/kernel/{name}"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let sysname = read("ostype");
        let release = read("osrelease");
        let version = read("version");
        // `arch` exists on newer kernels only; without it, a host mounted into a pod runs the
        // same kernel as the pod, so its own uname is right, while a copied tree just lacks it.
        let machine = match self.fs.read_text("/proc/sys/kernel/arch", 256) {
            Ok(s) => s.trim().to_string(),
            Err(_) if self.fs.has_live_proc() => rustix::system::uname()
                .machine()
                .to_string_lossy()
                .into_owned(),
            Err(_) => String::new(),
        };
        Kernel {
            sysname,
            release,
            version,
            machine,
        }
    }

    fn hostname(&mut self) -> String {
        super::host_name(self.fs)
    }

    fn os_release(&mut self) -> BTreeMap<String, String> {
        let text = match self.fs.read_text("/etc/os-release", 64 * 1024) {
            Ok(t) => Some(t),
            Err(_) => self.optional_text("/usr/lib/os-release"),
        };
        text.map(|t| parse_os_release(&t)).unwrap_or_default()
    }

    /// `MemTotal`, or `None` with a gap: unknown is not zero.
    fn memory(&mut self) -> Option<u64> {
        let text = self.proc_text("/proc/meminfo")?;
        let kib = text
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
        if kib.is_none() {
            self.unreadable_fact("/proc/meminfo", "no MemTotal line");
        }
        kib.map(|kib| kib * 1024)
    }

    /// Online CPUs, or `None` with a gap.
    fn cpus(&mut self) -> Option<u32> {
        if let Ok(t) = self.fs.read_text("/sys/devices/system/cpu/online", 4096)
            && let Some(n) = count_cpu_list(t.trim())
        {
            return Some(n);
        }
        let text = self.proc_text("/proc/cpuinfo")?;
        let n = text
            .lines()
            .filter(|l| l.split(':').next().is_some_and(|k| k.trim() == "processor"))
            .count() as u32;
        if n == 0 {
            self.unreadable_fact("/proc/cpuinfo", "no processor lines");
        }
        (n > 0).then_some(n)
    }

    /// A fact file that was read but did not say what it should.
    fn unreadable_fact(&mut self, path: &str, detail: &str) {
        self.sink
            .gap(Gap::new(GapKind::Fact, path, GapReason::Error).with_detail(detail));
    }

    fn sysctls(&mut self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for name in SYSCTLS {
            let path = format!("/proc/sys/{}", name.replace('.', "/"));
            if let Some(v) = self.optional_text(&path) {
                out.insert(
                    name.to_string(),
                    v.split_whitespace().collect::<Vec<_>>().join(" "),
                );
            }
        }
        out
    }

    fn modules(&mut self) -> Vec<String> {
        let text = self.proc_text("/proc/modules").unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }

    /// The host's mounts. Under a root other than `/` with a live procfs, `/proc/mounts`
    /// would show this process's own mount namespace (a pod's); the host's init process
    /// (`/proc/1/mounts` of the host's procfs) shows the host's.
    fn mounts(&mut self) -> Vec<Mount> {
        if !self.fs.is_live()
            && self.fs.has_live_proc()
            && let Ok(text) = self.fs.read_text("/proc/1/mounts", MAX_PROC_BYTES)
        {
            return parse_mounts(&text);
        }
        let text = self.proc_text("/proc/mounts").unwrap_or_default();
        parse_mounts(&text)
    }

    fn swaps(&mut self) -> Vec<Swap> {
        let text = self.proc_text("/proc/swaps").unwrap_or_default();
        parse_swaps(&text)
    }

    fn cgroup(&mut self, mounts: &[Mount]) -> Cgroup {
        let v2_root = mounts
            .iter()
            .any(|m| m.mountpoint == "/sys/fs/cgroup" && m.fstype == "cgroup2");
        let v1 = mounts.iter().any(|m| m.fstype == "cgroup");
        let controllers_file = "/sys/fs/cgroup/cgroup.controllers";
        if v2_root || (!v1 && self.fs.exists(controllers_file)) {
            let controllers = self
                .optional_text(controllers_file)
                .map(|t| t.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            return Cgroup {
                version: 2,
                controllers,
            };
        }
        if v1 {
            let mut controllers: Vec<String> = mounts
                .iter()
                .filter(|m| m.fstype == "cgroup")
                .flat_map(|m| m.options.split(','))
                .filter(|o| CGROUP_V1_CONTROLLERS.contains(o))
                .map(str::to_string)
                .collect();
            controllers.sort();
            controllers.dedup();
            return Cgroup {
                version: 1,
                controllers,
            };
        }
        Cgroup::default()
    }

    fn binaries(&mut self) -> BTreeMap<String, Option<String>> {
        BINARIES
            .iter()
            .map(|name| (name.to_string(), find_on_path(self.fs, name)))
            .collect()
    }

    fn cni_bin(&mut self) -> Vec<String> {
        match self.fs.list_dir("/opt/cni/bin") {
            Ok(entries) => entries
                .into_iter()
                .filter(|e| !e.is_dir)
                .map(|e| e.name)
                .collect(),
            Err(e) => {
                self.sink.optional_gap(GapKind::Fact, "/opt/cni/bin", &e);
                Vec::new()
            }
        }
    }

    fn filesystems(
        &mut self,
        mounts: &[Mount],
        binaries: &BTreeMap<String, Option<String>>,
    ) -> Vec<Filesystem> {
        let mut out = Vec::new();
        for path in FILESYSTEMS {
            let Ok(real) = self.fs.resolve(path) else {
                continue;
            };
            if !real.is_dir() {
                continue;
            }
            let mut f = Filesystem {
                path: path.to_string(),
                ..Default::default()
            };
            if let Some(m) = mount_of(mounts, path) {
                f.fstype = m.fstype.clone();
            }
            match rustix::fs::statvfs(&real) {
                Ok(st) => {
                    f.size_bytes = st.f_blocks.saturating_mul(st.f_frsize);
                    f.used_bytes = st
                        .f_blocks
                        .saturating_sub(st.f_bfree)
                        .saturating_mul(st.f_frsize);
                }
                Err(e) => self
                    .sink
                    .gap(ReadError::from_errno(e).gap(GapKind::Fact, &format!("statvfs {path}"))),
            }
            if f.fstype == "xfs"
                && self.fs.is_live()
                && let Some(Some(xfs_info)) = binaries.get("xfs_info")
            {
                f.xfs_ftype = xfs_ftype(Path::new(xfs_info), &real, &self.sink.stop);
            }
            out.push(f);
        }
        out
    }

    fn leftover_dirs(&mut self) -> Vec<LeftoverDir> {
        let mut out = Vec::new();
        for path in LEFTOVER_DIRS {
            match self.fs.list_dir(path) {
                Ok(entries) => out.push(LeftoverDir {
                    path: path.to_string(),
                    entries: entries.len() as u64,
                }),
                Err(e) => self.sink.optional_gap(GapKind::Fact, path, &e),
            }
        }
        out
    }

    fn extra(&mut self, binaries: &BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Ok(v) = self.fs.read_text("/sys/fs/selinux/enforce", 16) {
            out.insert("selinux_enforce".into(), v.trim().to_string());
        }
        if let Ok(v) = self.fs.read_text("/etc/timezone", 256) {
            out.insert("timezone".into(), v.trim().to_string());
        }
        if !self.fs.is_live() {
            return out;
        }
        for (tool, args) in [
            ("containerd", &["--version"][..]),
            ("runc", &["--version"][..]),
            ("docker", &["--version"][..]),
            ("kubelet", &["--version"][..]),
            ("crictl", &["--version"][..]),
        ] {
            let Some(Some(path)) = binaries.get(tool) else {
                continue;
            };
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            if let Ok(o) = cmd::run_tail_until(
                Path::new(path),
                &args,
                Duration::from_secs(5),
                4096,
                &self.sink.stop,
            ) && o.success
            {
                let text = String::from_utf8_lossy(&o.stdout);
                if let Some(line) = text.lines().next() {
                    out.insert(format!("{tool}_version"), line.trim().to_string());
                }
            }
        }
        out
    }
}

/// The first path under which `name` exists on the standard PATH, as a host path.
pub fn find_on_path(fs: &HostFs, name: &str) -> Option<String> {
    PATH_DIRS.iter().map(|d| format!("{d}/{name}")).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        fs.metadata(p)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// The mount holding host path `path`: the longest mount point that is a prefix of it.
pub fn mount_of<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| {
            let mp = m.mountpoint.trim_end_matches('/');
            path == m.mountpoint
                || mp.is_empty()
                || path.strip_prefix(mp).is_some_and(|r| r.starts_with('/'))
        })
        // The last of equal length wins: later mounts hide earlier ones.
        .fold(None, |best: Option<&Mount>, m| match best {
            Some(b) if b.mountpoint.len() > m.mountpoint.len() => Some(b),
            _ => Some(m),
        })
}

fn xfs_ftype(xfs_info: &Path, dir: &Path, stop: &Stop) -> Option<u8> {
    let dir: PathBuf = dir.to_path_buf();
    let out = cmd::run_tail_until(
        xfs_info,
        &[dir.to_string_lossy().into_owned()],
        Duration::from_secs(10),
        64 * 1024,
        stop,
    )
    .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let at = text.find("ftype=")?;
    text[at + 6..].chars().next()?.to_digit(10).map(|d| d as u8)
}

/// `KEY=VALUE` lines, values unquoted.
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            (
                k.trim().to_string(),
                v.replace("\\\"", "\"").replace("\\\\", "\\"),
            )
        })
        .collect()
}

/// `/proc/mounts`, octal escapes (`\040`) decoded.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some(Mount {
                device: unescape_octal(f.next()?),
                mountpoint: unescape_octal(f.next()?),
                fstype: f.next()?.to_string(),
                options: f.next().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// `/proc/swaps`, header skipped.
pub fn parse_swaps(text: &str) -> Vec<Swap> {
    text.lines()
        .skip_while(|l| l.starts_with("Filename"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 5 {
                return None;
            }
            Some(Swap {
                filename: unescape_octal(f[0]),
                kind: f[1].to_string(),
                size_kib: f[2].parse().ok()?,
                used_kib: f[3].parse().ok()?,
                priority: f[4].parse().ok()?,
            })
        })
        .collect()
}

/// Counts a CPU list such as `0-3,6,8-9`.
pub fn count_cpu_list(list: &str) -> Option<u32> {
    if list.is_empty() {
        return None;
    }
    let mut n = 0u32;
    for part in list.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                n += b.checked_sub(a)? + 1;
            }
            None => {
                part.trim().parse::<u32>().ok()?;
                n += 1;
            }
        }
    }
    Some(n)
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_formats() {
        let m = parse_mounts(
            "/dev/sda1 / ext4 rw,relatime 0 0\n/dev/sdb1 /var/lib/my\\040disk xfs ro 0 0\n",
        );
        assert_eq!(m[1].mountpoint, "/var/lib/my disk");
        assert_eq!(m[1].fstype, "xfs");
        let s =
            parse_swaps("Filename\tType\tSize\tUsed\tPriority\n/swap.img  file  2097148  0  -2\n");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, "file");
        assert_eq!(s[0].priority, -2);
        assert_eq!(count_cpu_list("0-3,6,8-9"), Some(7));
        assert_eq!(count_cpu_list("0"), Some(1));
        let os = parse_os_release("NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\n# c\n");
        assert_eq!(os["NAME"], "Ubuntu");
        assert_eq!(os["ID"], "ubuntu");
    }

    #[test]
    fn longest_mount_prefix() {
        let m = parse_mounts(
            "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /var/lib xfs rw 0 0\n/dev/sdc1 /var/lib/kube ext4 rw 0 0\n",
        );
        assert_eq!(
            mount_of(&m, "/var/lib/kubelet").map(|m| m.fstype.as_str()),
            Some("xfs")
        );
        assert_eq!(
            mount_of(&m, "/var/lib/kube").map(|m| m.device.as_str()),
            Some("/dev/sdc1")
        );
        assert_eq!(mount_of(&m, "/").map(|m| m.fstype.as_str()), Some("ext4"));
        assert_eq!(
            mount_of(&m, "/etc").map(|m| m.device.as_str()),
            Some("/dev/sda1")
        );
    }
}
