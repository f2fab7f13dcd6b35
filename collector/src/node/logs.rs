//! Logs of the node: kubelet, container runtimes, k3s/rke2, and the kernel's.
//!
//! Sources, first that applies: the journal through `journalctl` (`--unit=UNIT` for a service,
//! the kernel transport for the kernel; the running host's journal when the root is `/`, else
//! the journal files under the root with `--directory`, when this system has `journalctl`); the
//! log's own file under `/var/log`; its lines in `/var/log/messages` or `/var/log/syslog`. The
//! journal is read from `--since`; of a file, the last `--log-max-bytes` are read and the lines
//! stamped before `--since` dropped (see [`since`] for the stamps understood).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};

use super::Sink;
use super::cmd;
use super::facts::find_on_path;
use super::hostfs::HostFs;
use super::since;

/// A log that is collected.
struct Service {
    /// Name in the bundle (`host/logs/<name>.log`).
    name: &'static str,
    /// journalctl arguments that select its entries: `--unit=` for each systemd unit.
    journal: &'static [&'static str],
    /// Its own log files under `/var/log`, first present wins.
    files: &'static [&'static str],
    /// Syslog tag.
    tag: &'static str,
}

const SERVICES: &[Service] = &[
    Service {
        name: "kubelet",
        journal: &["--unit=kubelet.service"],
        files: &["/var/log/kubelet.log", "/var/log/kubelet/kubelet.log"],
        tag: "kubelet",
    },
    Service {
        name: "containerd",
        journal: &["--unit=containerd.service"],
        files: &[
            "/var/log/containerd.log",
            "/var/log/containerd/containerd.log",
        ],
        tag: "containerd",
    },
    Service {
        name: "docker",
        journal: &["--unit=docker.service"],
        files: &["/var/log/docker.log", "/var/log/upstart/docker.log"],
        tag: "dockerd",
    },
    Service {
        name: "crio",
        journal: &["--unit=crio.service"],
        files: &["/var/log/crio.log"],
        tag: "crio",
    },
    Service {
        name: "k3s",
        journal: &["--unit=k3s.service", "--unit=k3s-agent.service"],
        files: &["/var/log/k3s.log", "/var/log/k3s-service.log"],
        tag: "k3s",
    },
    Service {
        name: "rke2",
        journal: &["--unit=rke2-server.service", "--unit=rke2-agent.service"],
        files: &["/var/log/rke2.log"],
        tag: "rke2",
    },
    // Kernel messages, e.g. IPVS dropping NodePort traffic ("no destination available"),
    // conntrack table full, OOM kills: the journal's kernel transport across boots, then
    // rsyslog's kern.log, then the "kernel:" lines of the system log.
    Service {
        name: "kernel",
        journal: &["_TRANSPORT=kernel"],
        files: &["/var/log/kern.log"],
        tag: "kernel",
    },
];

/// Syslog files searched for a service's lines when it has no file of its own.
const SYSLOG_FILES: &[&str] = &["/var/log/messages", "/var/log/syslog"];
/// Journal directories under the root.
const JOURNAL_DIRS: &[&str] = &["/var/log/journal", "/run/log/journal"];
/// Time allowed to one `journalctl`.
const JOURNAL_TIME_LIMIT: Duration = Duration::from_secs(60);
/// How much more of a syslog file is read than is kept, to find enough of one service's lines.
const SYSLOG_READ_FACTOR: u64 = 8;
/// Most bytes of a syslog file searched.
const SYSLOG_READ_MAX: u64 = 64 << 20;

/// How logs are bounded.
#[derive(Debug, Clone, Copy)]
pub struct LogBounds {
    /// Journal entries from this long ago.
    pub since: Duration,
    /// Most bytes kept per service (the tail).
    pub max_bytes: u64,
}

enum Journal {
    Live(String),
    Directory(String, String),
    None,
}

/// Collects every service's log that can be found.
pub fn collect<W: Write>(fs: &HostFs, sink: &mut Sink<W>, bounds: LogBounds) -> anyhow::Result<()> {
    let journal = find_journal(fs);
    for service in SERVICES {
        if sink.stopped_before(GapKind::HostLog, service.name) {
            continue;
        }
        let got = match &journal {
            Journal::Live(bin) => from_journal(sink, service, bin, None, bounds)?,
            Journal::Directory(bin, dir) => from_journal(sink, service, bin, Some(dir), bounds)?,
            Journal::None => false,
        };
        if !got && !from_file(fs, sink, service, bounds)? {
            from_syslog(fs, sink, service, bounds)?;
        }
    }
    Ok(())
}

fn find_journal(fs: &HostFs) -> Journal {
    let own = HostFs::new(Path::new("/"));
    let Some(bin) = find_on_path(&own, "journalctl") else {
        return Journal::None;
    };
    if fs.is_live() {
        return Journal::Live(bin);
    }
    for dir in JOURNAL_DIRS {
        if let Ok(real) = fs.resolve(dir)
            && real.is_dir()
        {
            return Journal::Directory(bin, real.to_string_lossy().into_owned());
        }
    }
    Journal::None
}

/// Reads a log's entries from the journal; false when the journal holds none.
fn from_journal<W: Write>(
    sink: &mut Sink<W>,
    service: &Service,
    bin: &str,
    directory: Option<&str>,
    bounds: LogBounds,
) -> anyhow::Result<bool> {
    let mut args = vec![
        "--no-pager".to_string(),
        "--output=short-iso".to_string(),
        format!("--since=-{}s", bounds.since.as_secs().max(1)),
    ];
    if let Some(dir) = directory {
        args.push(format!("--directory={dir}"));
    }
    args.extend(service.journal.iter().map(|a| a.to_string()));
    let selectors: Vec<&str> = service
        .journal
        .iter()
        .map(|a| a.strip_prefix("--unit=").unwrap_or(a))
        .collect();
    let location = format!("journal:{}", selectors.join(","));
    let max = usize::try_from(bounds.max_bytes).unwrap_or(usize::MAX);
    let out = match cmd::run_tail_until(Path::new(bin), &args, JOURNAL_TIME_LIMIT, max, &sink.stop)
    {
        Ok(o) => o,
        Err(e) => {
            sink.gap(
                Gap::new(GapKind::HostLog, location, GapReason::Error)
                    .with_detail(format!("journalctl: {e}")),
            );
            return Ok(false);
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let has_entries = text
        .lines()
        .any(|l| !l.starts_with("-- ") && !l.trim().is_empty());
    if !has_entries {
        if out.stderr.to_ascii_lowercase().contains("permission") {
            sink.gap(
                Gap::new(GapKind::HostLog, location, GapReason::Forbidden).with_detail(out.stderr),
            );
        }
        return Ok(false);
    }
    let mut truncated = (out.total > out.stdout.len() as u64)
        .then(|| format!("kept the last {} of {} bytes", out.stdout.len(), out.total));
    if out.timed_out || out.interrupted {
        let why = match sink.stop.reason() {
            Some(reason) if out.interrupted => format!(": {}", reason.describe()),
            _ => format!(" after {} s", JOURNAL_TIME_LIMIT.as_secs()),
        };
        truncated = Some(format!(
            "journalctl stopped{why}; {}",
            truncated.unwrap_or_else(|| "output may be incomplete".into())
        ));
    }
    let clean = sink.scrub.log(&out.stdout);
    sink.add(&layout::host_log_path(service.name), &clean, truncated)?;
    Ok(true)
}

/// Reads the service's own log file; false when it has none.
fn from_file<W: Write>(
    fs: &HostFs,
    sink: &mut Sink<W>,
    service: &Service,
    bounds: LogBounds,
) -> anyhow::Result<bool> {
    for path in service.files {
        let mut read = match fs.read_tail(path, bounds.max_bytes) {
            Ok(r) => r,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                sink.gap(e.gap(GapKind::HostLog, path));
                continue;
            }
        };
        if read.cut_from.is_some() {
            cmd::align_to_line(&mut read.data);
        }
        let mut notes = Vec::new();
        if let Some(total) = read.cut_from {
            let kept = read.data.len();
            notes.push(format!("kept the last {kept} of {total} bytes of {path}"));
        }
        notes.extend(drop_older(&mut read.data, bounds.since));
        let truncated = (!notes.is_empty()).then(|| notes.join("; "));
        let clean = sink.scrub.log(&read.data);
        sink.add(&layout::host_log_path(service.name), &clean, truncated)?;
        return Ok(true);
    }
    Ok(false)
}

/// Keeps the service's lines from the system log; false when there are none.
fn from_syslog<W: Write>(
    fs: &HostFs,
    sink: &mut Sink<W>,
    service: &Service,
    bounds: LogBounds,
) -> anyhow::Result<bool> {
    let read_max = bounds
        .max_bytes
        .saturating_mul(SYSLOG_READ_FACTOR)
        .min(SYSLOG_READ_MAX.max(bounds.max_bytes));
    for path in SYSLOG_FILES {
        let read = match fs.read_tail(path, read_max) {
            Ok(r) => r,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                sink.gap(e.gap(GapKind::HostLog, path));
                continue;
            }
        };
        let text = String::from_utf8_lossy(&read.data);
        let tag_pid = format!(" {}[", service.tag);
        let tag_colon = format!(" {}:", service.tag);
        let lines: Vec<&str> = text
            .lines()
            .skip(usize::from(read.cut_from.is_some()))
            .filter(|l| l.contains(&tag_pid) || l.contains(&tag_colon))
            .collect();
        if lines.is_empty() {
            continue;
        }
        let mut kept = String::new();
        let mut dropped = 0usize;
        // Lines are selected by their tag first, so the time cut applies to this service's.
        let max = usize::try_from(bounds.max_bytes).unwrap_or(usize::MAX);
        let mut size = 0usize;
        let mut start = lines.len();
        while start > 0 && size + lines[start - 1].len() < max {
            size += lines[start - 1].len() + 1;
            start -= 1;
        }
        dropped += start;
        for l in &lines[start..] {
            kept.push_str(l);
            kept.push('\n');
        }
        let mut notes = vec![format!("lines tagged {:?} from {path}", service.tag)];
        if read.cut_from.is_some() {
            notes.push(format!(
                "only the last {read_max} bytes of {path} were searched"
            ));
        }
        if dropped > 0 {
            notes.push(format!("{dropped} older matching lines dropped"));
        }
        let mut kept = kept.into_bytes();
        let by_time = drop_older(&mut kept, bounds.since);
        let cut = read.cut_from.is_some() || dropped > 0 || by_time.is_some();
        notes.extend(by_time);
        let truncated = cut.then(|| notes.join("; "));
        let clean = sink.scrub.log(&kept);
        sink.add(&layout::host_log_path(service.name), &clean, truncated)?;
        return Ok(true);
    }
    Ok(false)
}

/// Drops the lines of a file log stamped before `since` ago (see [`since`]); says what it
/// dropped, if anything.
fn drop_older(data: &mut Vec<u8>, since: Duration) -> Option<String> {
    let now = Utc::now();
    let cutoff = chrono::Duration::from_std(since)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))?;
    let start = since::recent_start(data, cutoff, now).filter(|&s| s > 0)?;
    data.drain(..start);
    Some(format!(
        "dropped the first {start} bytes: lines stamped more than {} s ago (--since)",
        since.as_secs()
    ))
}
