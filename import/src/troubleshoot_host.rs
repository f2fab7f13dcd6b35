//! troubleshoot's host collectors (`host-collectors/…`), as its `pkg/collect/host_*.go`
//! write them, turned into host facts, certificate records and host logs, one host each.
//!
//! A host collector run on the machine of the `support-bundle` command writes
//! `host-collectors/<dir>/<file>`; run on the nodes (`runHostCollectorsInPod`, remote
//! collectors) it writes `host-collectors/<dir>/<node>/<file>` for each node before v0.110
//! (`pkg/collect/host_collector.go`) and `host-collectors/<node>/<dir>/<file>` from v0.110
//! on, when they run in a DaemonSet's pods (`pkg/supportbundle/collect.go`,
//! `runRemoteHostCollectors`), with `host-collectors/system/node_list.json` naming the
//! nodes in both. Converted:
//!
//! | Output | Becomes |
//! |---|---|
//! | `system/hostos_info.json` (`name`, `kernelVersion`, `platform`, `platformVersion`, `platformFamily`) | `hostname`, `kernel.release`, `os_release` `ID`, `VERSION_ID`, `ID_LIKE` |
//! | `system/cpu.json` (`logicalCount`, `machineArch`) | `cpus`, `kernel.machine` |
//! | `system/memory.json` (`total`) | `memory_bytes` |
//! | `system/kernel_modules.json` (name → `status`) | `modules`: every module but the merely `loadable` |
//! | `system/sysctl.json` (name → value) | `sysctls` |
//! | `system/cgroups.json` (`cgroup-v1`/`cgroup-v2` `enabled`, `controllers`) | `cgroup` |
//! | `system/time.json`, `system/systemctl_services.json` | `extra` (`timezone`, `ntp_synchronized`, `ntp_active`, `systemd:<unit>`) |
//! | `certificatesCollection/<name>.json` | certificate records (no serial, key or fingerprint: troubleshoot keeps none) |
//! | `journald/<name>.txt` with `<name>-info.json` | a host log named by its one unit (`kubelet`), `kernel` for `--dmesg`, else the collector's name |
//!
//! Everything else (block devices, disk usage, copied files, commands run, network checks,
//! the key-pair check of `certificate/`) says too little to become our facts: it is counted
//! in one gap. What node mode collects and troubleshoot never does becomes `source-format`
//! gaps of the node bundle, in node mode's own terms, so rules that need it stay quiet.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use ktriage_schema::host::HostFacts;
use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use serde::Deserialize;
use serde_json::Value;

use crate::troubleshoot_host_shapes::{
    Cgroups, CpuInfo, HostOsInfo, KernelModule, MemoryInfo, certificates,
};
use crate::{ImportError, Sink};

/// Prefix of every host collector's output.
pub(crate) const HOST_COLLECTORS: &str = "host-collectors/";

/// The directories whose output is converted.
const CONVERTED_DIRS: &[&str] = &["system", "certificatesCollection", "journald"];

/// The directories troubleshoot's host collectors write under `host-collectors/`
/// (`pkg/collect/host_*.go`); the `copy` collector writes under its own name instead.
const HOST_DIRS: &[&str] = &[
    "system",
    "certificatesCollection",
    "journald",
    "certificate",
    "connect",
    "diskUsage",
    "dns",
    "filesystemPerformance",
    "http",
    "httpLoadBalancer",
    "registry-images",
    "run-host",
    "subnetAvailable",
    "tcpLoadBalancer",
    "tcpPortStatus",
    "udpPortStatus",
];

/// Largest host collector document read whole (sysctls and module lists are a few hundred KiB).
const MAX_HOST_DOCUMENT_BYTES: u64 = 64 << 20;

/// The host collectors' output of a source, host by host.
#[derive(Default)]
pub(crate) struct HostCollectors {
    hosts: BTreeMap<String, Host>,
    /// Host collector files not converted, by collector directory.
    not_converted: BTreeMap<String, u64>,
}

/// What was read for one host (key: its node name, empty for the local host).
#[derive(Default)]
struct Host {
    facts: HostFacts,
    /// The system files whose facts were read (`hostos_info.json`, ...).
    read: BTreeSet<&'static str>,
    certificates: u64,
    logs: u64,
    /// journald collector name → the service its log is filed under.
    journald_services: BTreeMap<String, String>,
}

impl Host {
    fn has_data(&self) -> bool {
        !self.read.is_empty() || self.certificates > 0 || self.logs > 0
    }
}

/// The system files converted, with the node-mode source each stands for (named in the gap
/// when the file is absent).
const SYSTEM_FILES: &[(&str, &str, &str)] = &[
    (
        "hostos_info.json",
        "uname",
        "kernel release, host name and distribution",
    ),
    ("cpu.json", "/proc/cpuinfo", "CPUs and architecture"),
    ("memory.json", "/proc/meminfo", "total memory"),
    (
        "kernel_modules.json",
        "/proc/modules",
        "loaded kernel modules",
    ),
    ("sysctl.json", "/proc/sys", "sysctls"),
    (
        "cgroups.json",
        "/sys/fs/cgroup",
        "cgroup version and controllers",
    ),
];

/// What node mode collects and troubleshoot's host collectors never do: (gap `what`,
/// location as node mode names it, what is missing).
const NEVER_COLLECTED: &[(GapKind, &str, &str)] = &[
    (GapKind::Fact, "/proc/cmdline", "the kernel command line"),
    (
        GapKind::Fact,
        "/proc/mounts",
        "mounts (block_devices.json lists devices, not mounts)",
    ),
    (GapKind::Fact, "/proc/swaps", "active swap"),
    (GapKind::Fact, "PATH", "the tools installed on the host"),
    (
        GapKind::Fact,
        "runtime sockets",
        "container runtime sockets",
    ),
    (GapKind::Fact, "/opt/cni/bin", "CNI plugins installed"),
    (
        GapKind::Fact,
        "statvfs",
        "filesystems of the data directories (diskUsage names no path)",
    ),
    (GapKind::File, "/etc/cni/net.d", "CNI configuration"),
    (
        GapKind::File,
        "/etc",
        "configuration files (copy collectors keep a file's base name, not its path)",
    ),
    (
        GapKind::Kubeconfig,
        "/etc/kubernetes",
        "kubeconfig summaries",
    ),
    (GapKind::KeyFile, "/etc/kubernetes/pki", "private key files"),
];

impl HostCollectors {
    /// One file under `host-collectors/` (`rest` is the path after it).
    pub(crate) fn file(
        &mut self,
        rest: &str,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let parts: Vec<&str> = rest.split('/').collect();
        let (dir, node, file) = match parts.as_slice() {
            [dir, file] => (*dir, "", *file),
            // Collectors run on the nodes before v0.110: `<dir>/<node>/<file>`.
            [dir, node, file] if CONVERTED_DIRS.contains(dir) => (*dir, *node, *file),
            // From v0.110, run in a DaemonSet's pods: `<node>/<dir>/<file>`.
            [node, dir, rest @ ..] if HOST_DIRS.contains(dir) && !HOST_DIRS.contains(node) => {
                match rest {
                    [file] if CONVERTED_DIRS.contains(dir) => (*dir, *node, *file),
                    _ => return self.skip(dir),
                }
            }
            [dir, ..] => return self.skip(dir),
            [] => return Ok(()),
        };
        if !node.is_empty() && !is_node_name(node) {
            sink.gap(Gap {
                what: GapKind::Host,
                location: ktriage_schema::text::terminal_safe(path),
                reason: GapReason::Error,
                detail: "the node name in the path cannot name a bundle; not converted".into(),
            });
            return Ok(());
        }
        match (dir, file) {
            // Which nodes remote collectors ran on: their own directories say it too.
            ("system", "node_list.json") => Ok(()),
            ("system", _) => match SYSTEM_FILES.iter().find(|(f, ..)| *f == file) {
                Some(&(name, ..)) => {
                    let result = read_json(path, body)
                        .and_then(|doc| self.system_file(node, name, path, &doc));
                    crate::troubleshoot::tolerate(path, result, sink)
                }
                None => self.system_extra(node, file, path, body, sink),
            },
            ("certificatesCollection", _) if file.ends_with(".json") => {
                let result = read_json(path, body).and_then(|doc| {
                    let n = certificates(node, path, &doc, sink)?;
                    self.host(node).certificates += n;
                    Ok(())
                });
                crate::troubleshoot::tolerate(path, result, sink)
            }
            ("journald", _) => self.journald(node, file, path, body, sink),
            _ => self.skip(dir),
        }
    }

    fn host(&mut self, node: &str) -> &mut Host {
        self.hosts.entry(node.to_string()).or_default()
    }

    fn skip(&mut self, dir: &str) -> Result<(), ImportError> {
        *self
            .not_converted
            .entry(ktriage_schema::text::terminal_safe(dir))
            .or_default() += 1;
        Ok(())
    }

    /// `system/time.json` and `system/systemctl_services.json` go to the free-form facts;
    /// the other system files are not converted.
    fn system_extra(
        &mut self,
        node: &str,
        file: &str,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let result = match file {
            "time.json" => read_json(path, body).map(|doc| {
                let extra = &mut self.host(node).facts.extra;
                if let Some(tz) = doc["timezone"].as_str() {
                    extra.insert("timezone".into(), tz.to_string());
                }
                for key in ["ntp_synchronized", "ntp_active"] {
                    if let Some(b) = doc[key].as_bool() {
                        extra.insert(key.into(), b.to_string());
                    }
                }
            }),
            "systemctl_services.json" => read_json(path, body).map(|doc| {
                let extra = &mut self.host(node).facts.extra;
                for unit in doc.as_array().into_iter().flatten() {
                    let field = |k: &str| unit[k].as_str().unwrap_or_default().to_string();
                    let name = field("Unit");
                    if !name.is_empty() {
                        let state = [field("Load"), field("Active"), field("Sub")].join(" ");
                        extra.insert(format!("systemd:{name}"), state);
                    }
                }
            }),
            _ => return self.skip("system"),
        };
        if result.is_ok() {
            self.host(node).read.insert(if file == "time.json" {
                "time.json"
            } else {
                "systemctl_services.json"
            });
        }
        crate::troubleshoot::tolerate(path, result, sink)
    }

    /// One of [`SYSTEM_FILES`] into the host's facts.
    fn system_file(
        &mut self,
        node: &str,
        name: &'static str,
        path: &str,
        doc: &Value,
    ) -> Result<(), ImportError> {
        let host = self.host(node);
        let facts = &mut host.facts;
        match name {
            "hostos_info.json" => {
                let info: HostOsInfo = parse(path, doc)?;
                facts.hostname = info.name;
                facts.kernel.release = info.kernel_version;
                for (key, value) in [
                    ("ID", info.platform),
                    ("VERSION_ID", info.platform_version),
                    ("ID_LIKE", info.platform_family),
                ] {
                    if !value.is_empty() {
                        facts.os_release.insert(key.into(), value);
                    }
                }
            }
            "cpu.json" => {
                let cpu: CpuInfo = parse(path, doc)?;
                facts.cpus = u32::try_from(cpu.logical_count).ok().filter(|&n| n > 0);
                facts.kernel.machine = cpu.machine_arch;
            }
            "memory.json" => {
                let memory: MemoryInfo = parse(path, doc)?;
                facts.memory_bytes = Some(memory.total).filter(|&n| n > 0);
            }
            "kernel_modules.json" => {
                let modules: BTreeMap<String, KernelModule> = parse(path, doc)?;
                // Loadable modules are on disk only; every other status is a module the
                // kernel has (in /proc/modules, or built in).
                facts.modules = modules
                    .into_iter()
                    .filter(|(_, m)| m.status != "loadable")
                    .map(|(name, _)| name)
                    .collect();
            }
            "sysctl.json" => {
                let sysctls: BTreeMap<String, Value> = parse(path, doc)?;
                facts.sysctls = sysctls
                    .into_iter()
                    .map(|(k, v)| {
                        let text = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, text.split_whitespace().collect::<Vec<_>>().join(" "))
                    })
                    .collect();
            }
            "cgroups.json" => {
                let cgroups: Cgroups = parse(path, doc)?;
                // troubleshoot reports the hierarchy mounted at /sys/fs/cgroup, one of the two.
                let (version, mut controllers) = if cgroups.v2.enabled {
                    (2, cgroups.v2.controllers)
                } else if cgroups.v1.enabled {
                    (1, cgroups.v1.controllers)
                } else {
                    (0, Vec::new())
                };
                controllers.sort();
                facts.cgroup.version = version;
                facts.cgroup.controllers = controllers;
            }
            _ => return Ok(()),
        }
        host.read.insert(name);
        Ok(())
    }

    /// `journald/<name>.txt` (the log) and `<name>-info.json` (the command that wrote it).
    fn journald(
        &mut self,
        node: &str,
        file: &str,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        if let Some(name) = file.strip_suffix("-info.json") {
            let result = read_json(path, body).map(|doc| {
                let command = doc["command"].as_str().unwrap_or_default();
                let service = journald_service(command).unwrap_or_else(|| name.to_string());
                let exit = doc["exitCode"].as_str().unwrap_or("0");
                if exit != "0" {
                    sink.host_gap(
                        node,
                        Gap {
                            what: GapKind::HostLog,
                            location: service.clone(),
                            reason: GapReason::Error,
                            detail: crate::troubleshoot::one_line(&format!(
                                "journalctl exited {exit}: {}",
                                doc["error"].as_str().unwrap_or_default()
                            )),
                        },
                    );
                }
                self.host(node)
                    .journald_services
                    .insert(name.to_string(), service);
            });
            return crate::troubleshoot::tolerate(path, result, sink);
        }
        if file.ends_with("-stderr.txt") {
            return Ok(());
        }
        let Some(name) = file.strip_suffix(".txt") else {
            return self.skip("journald");
        };
        // troubleshoot archives its directory in lexical order: `<name>-info.json` comes
        // before `<name>.txt`, so the unit is known by now. Otherwise the collector's name.
        let host = self.host(node);
        let service = host
            .journald_services
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string());
        host.logs += 1;
        sink.host_log(node, &service, body)
    }

    /// Reports every host's facts and what its data lacks; a `host` gap of the cluster for
    /// what is not converted. `cluster_nodes` are the Node objects of the source.
    pub(crate) fn finish(
        &mut self,
        cluster_nodes: &BTreeSet<String>,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let hosts = std::mem::take(&mut self.hosts);
        let mut covered = BTreeSet::new();
        for (node, host) in hosts {
            if !host.has_data() {
                continue;
            }
            covered.insert(if node.is_empty() {
                host.facts.hostname.to_ascii_lowercase()
            } else {
                node.to_ascii_lowercase()
            });
            for gap in missing(&host) {
                sink.host_gap(&node, gap);
            }
            if !host.read.is_empty() {
                sink.host_facts(&node, host.facts)?;
            }
        }
        let without: Vec<&str> = cluster_nodes
            .iter()
            .filter(|n| !covered.contains(&n.to_ascii_lowercase()))
            .map(String::as_str)
            .collect();
        if covered.is_empty() {
            sink.gap(source_format(
                GapKind::Host,
                "nodes",
                if self.not_converted.is_empty() {
                    "the bundle holds no host collectors' data (kernel, mounts, certificates)"
                        .into()
                } else {
                    "the host collectors' output holds no facts, certificates or logs ktriage reads"
                        .into()
                },
            ));
        } else if !without.is_empty() {
            sink.gap(source_format(
                GapKind::Host,
                "nodes",
                format!(
                    "host collectors did not run on {} of the {} nodes: {}",
                    without.len(),
                    cluster_nodes.len(),
                    list_of(&without)
                ),
            ));
        }
        if !self.not_converted.is_empty() {
            let total: u64 = self.not_converted.values().sum();
            let dirs: Vec<&str> = self.not_converted.keys().map(String::as_str).collect();
            sink.gap(source_format(
                GapKind::Host,
                "host-collectors",
                format!(
                    "{total} files of host collectors are not converted: their output says too little to become host facts ({})",
                    list_of(&dirs)
                ),
            ));
        }
        Ok(())
    }
}

/// Up to eight names, then how many more.
fn list_of(names: &[&str]) -> String {
    let mut text = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        text.push_str(&format!(" and {} more", names.len() - 8));
    }
    text
}

fn source_format(what: GapKind, location: &str, detail: String) -> Gap {
    Gap::source_format(what, location, detail)
}

/// The `source-format` gaps of one host: the system files it lacks, and what troubleshoot
/// never collects.
fn missing(host: &Host) -> Vec<Gap> {
    let mut gaps = Vec::new();
    for &(file, location, what) in SYSTEM_FILES {
        if !host.read.contains(file) {
            gaps.push(source_format(
                GapKind::Fact,
                location,
                format!("no {what}: the host collectors' output has no system/{file}"),
            ));
        }
    }
    for (kind, location, what) in NEVER_COLLECTED {
        gaps.push(source_format(
            kind.clone(),
            location,
            format!("troubleshoot's host collectors do not collect {what}"),
        ));
    }
    if host.certificates == 0 {
        gaps.push(source_format(
            GapKind::Certificate,
            "/etc/kubernetes/pki",
            "no certificatesCollection host collector ran on this host".into(),
        ));
    }
    if host.logs == 0 {
        gaps.push(source_format(
            GapKind::HostLog,
            "journal",
            "no journald host collector ran on this host: no kubelet or runtime logs".into(),
        ));
    }
    gaps
}

/// The service a journald collector's log is filed under: its only unit without the
/// `.service` suffix, or `kernel` for `--dmesg`. `None` when the command says neither.
fn journald_service(command: &str) -> Option<String> {
    let args: Vec<&str> = command.split_whitespace().collect();
    let mut units = Vec::new();
    let mut dmesg = false;
    for (i, arg) in args.iter().enumerate() {
        match *arg {
            "-u" | "--unit" => units.extend(args.get(i + 1).copied()),
            "--dmesg" | "-k" => dmesg = true,
            a => {
                if let Some(unit) = a.strip_prefix("--unit=") {
                    units.push(unit);
                }
            }
        }
    }
    let service = match (units.as_slice(), dmesg) {
        ([unit], false) => unit.strip_suffix(".service").unwrap_or(unit).to_string(),
        ([], true) => "kernel".to_string(),
        _ => return None,
    };
    layout::is_safe_component(&service).then_some(service)
}

/// A node name as Kubernetes spells it (a DNS subdomain): safe as a file name.
fn is_node_name(name: &str) -> bool {
    layout::is_safe_component(name)
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

fn read_json(path: &str, body: &mut dyn Read) -> Result<Value, ImportError> {
    let mut bytes = Vec::new();
    body.take(MAX_HOST_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::io(path, e))?;
    if bytes.len() as u64 > MAX_HOST_DOCUMENT_BYTES {
        return Err(ImportError::bad_input(
            path,
            format!("over {MAX_HOST_DOCUMENT_BYTES} bytes; not read"),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ImportError::bad_input(path, format!("not JSON: {e}")))
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(
    path: &str,
    doc: &Value,
) -> Result<T, ImportError> {
    T::deserialize(doc).map_err(|e| ImportError::bad_input(path, format!("unexpected shape: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journald_commands_name_their_service() {
        assert_eq!(
            journald_service("/usr/bin/journalctl -u kubelet.service --no-pager").as_deref(),
            Some("kubelet")
        );
        assert_eq!(
            journald_service("journalctl --unit=containerd -n 1000 --no-pager").as_deref(),
            Some("containerd")
        );
        assert_eq!(
            journald_service("journalctl --dmesg --no-pager").as_deref(),
            Some("kernel")
        );
        assert_eq!(journald_service("journalctl -u a -u b --no-pager"), None);
        assert_eq!(journald_service("journalctl --system --no-pager"), None);
        assert_eq!(journald_service("journalctl -u ../evil"), None);
    }

    #[test]
    fn node_names_must_be_usable_as_file_names() {
        assert!(is_node_name("worker-1.example.com"));
        assert!(!is_node_name(".."));
        assert!(!is_node_name("a b"));
        assert!(!is_node_name("x\u{1b}[31m"));
    }
}
