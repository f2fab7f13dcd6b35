//! Node mode: `ktriage-collect node` gathers what only the host can tell (resolver and
//! runtime configuration, kernel settings and modules, certificates, kubeconfigs, service
//! logs) into one bundle whose source is the host.
//!
//! Everything is read under `--root` (default `/`), so the collector can run in a privileged
//! pod with the host mounted at `/host`, or against a copied host tree. Nothing is ever fatal
//! but failing to write the bundle: what cannot be read becomes a [`Gap`] in the manifest.
//!
//! Module map: [`hostfs`] resolves host paths safely under the root; [`files`] copies
//! configuration files; [`kubeconfig`] and [`certs`] describe credentials without copying
//! them; [`facts`] builds `host/facts.json`; [`logs`] gathers service logs; [`scrub`] redacts.

pub mod certs;
pub mod cmd;
pub mod facts;
pub mod files;
pub mod hostfs;
pub mod kubeconfig;
pub mod logs;
pub mod scrub;
pub mod since;

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason, HostSource, Manifest, Source};
use ktriage_schema::writer::{BundleWriter, WriterOptions};
use serde::Serialize;

use crate::pseudonym::{PseudonymOptions, Pseudonymizer};
use crate::redact::{RedactConfig, Redactor};
use crate::stop::Stop;
use hostfs::{HostFs, ReadError};
use scrub::Scrubber;

/// `ktriage-collect node`: collect this node's host data.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// Where the host's file system is: `/` on the host itself, `/host` in a pod that mounts
    /// the host there.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,

    /// Kubernetes node name [default: $NODE_NAME, else the host name].
    #[arg(long, value_name = "NAME")]
    pub node_name: Option<String>,

    /// How far back service logs go (journal and stamped lines of log files): e.g. 30m, 24h, 7d.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = ktriage_schema::duration::parse)]
    pub since: Duration,

    /// Most bytes kept of each service log (its most recent part).
    #[arg(long, value_name = "N", default_value_t = 16 << 20)]
    pub log_max_bytes: u64,

    /// Output file [default: ktriage-node-<name>-<UTC time>.tar.zst in the current directory].
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Extra redaction rules (YAML or JSON: `literals`, `regexes`).
    #[arg(long, value_name = "FILE")]
    pub redact: Option<PathBuf>,

    /// Turn redaction off (private keys are still never copied).
    #[arg(long)]
    pub no_redact: bool,

    /// Replace these with stable pseudonyms: `hosts`, `ips`, `names` (comma-separated).
    #[arg(long, value_name = "CLASS,..", value_delimiter = ',')]
    pub pseudonymize: Vec<String>,

    /// The chosen names for `--pseudonymize names`: one a line.
    #[arg(long, value_name = "FILE")]
    pub pseudonymize_names: Option<PathBuf>,

    /// The cluster collection's OUT.pseudonyms.json: this bundle gets the same pseudonyms.
    #[arg(long, value_name = "FILE")]
    pub pseudonymize_key: Option<PathBuf>,
}

impl NodeArgs {
    /// The defaults for a host at `root`, as the command line would give them.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        NodeArgs {
            root: root.into(),
            node_name: None,
            since: Duration::from_secs(24 * 3600),
            log_max_bytes: 16 << 20,
            output: None,
            redact: None,
            no_redact: false,
            pseudonymize: Vec::new(),
            pseudonymize_names: None,
            pseudonymize_key: None,
        }
    }
}

/// What a node collection produced.
#[derive(Debug, Clone)]
pub struct NodeOutcome {
    /// The bundle written.
    pub output: PathBuf,
    /// The manifest written into it.
    pub manifest: Manifest,
}

impl NodeOutcome {
    /// Number of gaps recorded.
    pub fn gap_count(&self) -> usize {
        self.manifest.gaps.len()
    }
}

/// Where collected data goes: the bundle, the gaps, and the redaction in front of both.
pub struct Sink<W: Write> {
    writer: BundleWriter<W>,
    added: std::collections::HashSet<String>,
    gaps: Vec<Gap>,
    /// The redaction every copied byte passes through.
    pub scrub: Scrubber,
    /// Thrown by SIGINT/SIGTERM: what is left is recorded as gaps, not collected.
    pub stop: Stop,
    /// `--pseudonymize`: what every entry and its path pass through after redaction.
    pub pseudonyms: Option<Pseudonymizer>,
}

impl<W: Write> Sink<W> {
    /// Records a gap.
    pub fn gap(&mut self, gap: Gap) {
        self.gaps.push(gap);
    }

    /// True, with a gap for `what` at `location`, once the collection is stopped.
    pub fn stopped_before(&mut self, what: GapKind, location: &str) -> bool {
        let Some(reason) = self.stop.reason() else {
            return false;
        };
        self.gaps.push(
            Gap::new(what, location, reason.gap_reason())
                .with_detail(format!("not collected: {}", reason.describe())),
        );
        true
    }

    /// Records a gap unless the thing is merely absent (optional data).
    pub fn optional_gap(&mut self, what: GapKind, location: &str, err: &ReadError) {
        if !err.is_not_found() {
            self.gaps.push(err.gap(what, location));
        }
    }

    /// Adds a file to the bundle. A path the bundle cannot hold (a host file name with a
    /// backslash, say) becomes a gap; a path already added is skipped. Only a failure to write
    /// is an error.
    pub fn add(
        &mut self,
        path: &str,
        data: &[u8],
        truncated: Option<String>,
    ) -> anyhow::Result<()> {
        let (path, data) = match &self.pseudonyms {
            Some(p) => (Cow::Owned(p.apply_str(path)), p.apply(data)),
            None => (Cow::Borrowed(path), Cow::Borrowed(data)),
        };
        let (path, data) = (path.as_ref(), data.as_ref());
        if !path.split('/').all(layout::is_safe_component) {
            self.gaps.push(
                Gap::new(GapKind::File, path, GapReason::Error)
                    .with_detail("the name cannot be stored in a bundle"),
            );
            return Ok(());
        }
        if !self.added.insert(path.to_string()) {
            return Ok(());
        }
        self.writer
            .add_reader(path, data.len() as u64, data, truncated)
            .with_context(|| format!("writing {path} into the bundle"))
    }

    /// Adds records as NDJSON, one object per line.
    pub fn add_ndjson<T: Serialize>(&mut self, path: &str, records: &[T]) -> anyhow::Result<()> {
        let mut buf = Vec::new();
        for r in records {
            serde_json::to_writer(&mut buf, r)?;
            buf.push(b'\n');
        }
        self.add(path, &buf, None)
    }
}

/// Runs node mode: collects the host at `args.root` and writes one bundle. Once `stop` is
/// thrown, the rest is recorded as gaps and the bundle is closed, marked partial.
pub fn run(args: &NodeArgs, stop: &Stop) -> anyhow::Result<NodeOutcome> {
    let started_at = Utc::now();
    let root_meta =
        fs::metadata(&args.root).with_context(|| format!("--root {}", args.root.display()))?;
    anyhow::ensure!(
        root_meta.is_dir(),
        "--root {} is not a directory",
        args.root.display()
    );
    let redactor = if args.no_redact {
        Redactor::disabled()
    } else {
        let config = match &args.redact {
            Some(path) => RedactConfig::from_file(path)?,
            None => RedactConfig::default(),
        };
        Redactor::new(&config)?
    };
    let pseudonym_options = PseudonymOptions::from_flags(
        &args.pseudonymize,
        args.pseudonymize_names.as_deref(),
        args.pseudonymize_key.as_deref(),
    )?;
    let host = HostFs::new(&args.root);
    let hostname = host_name(&host);
    let node_name = args
        .node_name
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| std::env::var("NODE_NAME").ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| hostname.clone());
    let pseudonyms = pseudonym_options
        .as_ref()
        .map(|o| Pseudonymizer::new(o, &[node_name.clone(), hostname.clone()]))
        .transpose()?;
    let output = match &args.output {
        Some(p) => p.clone(),
        None => PathBuf::from(default_output_name(&node_name, started_at)),
    };
    let (tmp, file) = create_beside(&output)?;
    // Removed even when a second signal quits at once.
    let registered = crate::cleanup::temp_file(&tmp);
    let sink = Sink {
        writer: BundleWriter::new(BufWriter::new(file), &WriterOptions::default())?,
        added: Default::default(),
        gaps: Vec::new(),
        scrub: Scrubber::new(redactor),
        stop: stop.clone(),
        pseudonyms,
    };
    let result = collect(&host, args, sink, started_at, &node_name, &hostname);
    match result {
        Ok((manifest, pseudonyms)) => {
            if let Some(p) = pseudonyms {
                p.write_key_file(&output)?;
            }
            tmp.persist(&output)
                .with_context(|| format!("moving the bundle to {}", output.display()))?;
            drop(registered);
            Ok(NodeOutcome { output, manifest })
        }
        Err(e) => Err(e),
    }
}

fn collect(
    host: &HostFs,
    args: &NodeArgs,
    mut sink: Sink<BufWriter<File>>,
    started_at: DateTime<Utc>,
    node_name: &str,
    hostname: &str,
) -> anyhow::Result<(Manifest, Option<Pseudonymizer>)> {
    if !sink.stopped_before(GapKind::File, "host files and kubeconfigs") {
        let copied = files::collect(host, &mut sink)?;
        let mut summaries = Vec::new();
        for (path, referenced) in kubeconfig::candidates(host, &copied.texts, &copied.kubeconfigs) {
            match kubeconfig::summarise(host, &path) {
                Ok(s) => summaries.push(s),
                Err(e) if e.is_not_found() && !referenced => {}
                Err(e) => sink.gap(e.gap(GapKind::Kubeconfig, &path)),
            }
        }
        sink.add_ndjson(layout::HOST_KUBECONFIGS, &summaries)?;
    }

    if !sink.stopped_before(GapKind::Certificate, "certificates and keys") {
        let pki = certs::collect(host, &mut sink);
        sink.add_ndjson(layout::HOST_CERTIFICATES, &pki.certificates)?;
        sink.add_ndjson(layout::HOST_KEY_FILES, &pki.key_files)?;
    }

    if !sink.stopped_before(GapKind::HostFacts, layout::HOST_FACTS) {
        let facts = facts::collect(host, &mut sink);
        let facts_json = serde_json::to_vec_pretty(&facts)?;
        sink.add(layout::HOST_FACTS, &facts_json, None)?;
    }

    logs::collect(
        host,
        &mut sink,
        logs::LogBounds {
            since: args.since,
            max_bytes: args.log_max_bytes,
        },
    )?;

    let manifest = crate::manifest::build(crate::manifest::Closing {
        started_at,
        source: Source::Host(HostSource {
            node_name: node_name.to_string(),
            hostname: hostname.to_string(),
        }),
        options: serde_json::json!({
            "mode": "node",
            "root": args.root.display().to_string(),
            "since_seconds": args.since.as_secs(),
            "log_max_bytes": args.log_max_bytes,
            "redaction_rules": args.redact.as_ref().map(|p| p.display().to_string()),
            "pseudonymize": pseudonym_record(args)?,
        }),
        gaps: std::mem::take(&mut sink.gaps),
        redaction: sink.scrub.summary(),
        partial: sink.stop.is_stopped(),
    });
    let manifest = match &sink.pseudonyms {
        Some(p) => p.apply_manifest(manifest)?,
        None => manifest,
    };
    let (mut out, written) = sink.writer.finish_with(manifest)?;
    out.flush()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok((written, sink.pseudonyms))
}

/// The manifest's record of `--pseudonymize` (classes only: no key, no names).
fn pseudonym_record(args: &NodeArgs) -> anyhow::Result<serde_json::Value> {
    let classes = crate::pseudonym::Classes::parse(&args.pseudonymize)?;
    Ok(if classes.any() {
        serde_json::json!({
            "classes": classes.names(),
            "key_reused": args.pseudonymize_key.is_some(),
        })
    } else {
        serde_json::Value::Null
    })
}

/// The host's name: `/etc/hostname` under the root, else the kernel's.
pub(crate) fn host_name(host: &HostFs) -> String {
    let from_file = host.read_text("/etc/hostname", 4096).ok().and_then(|t| {
        t.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
    });
    if let Some(name) = from_file {
        return name;
    }
    if host.is_live() {
        return rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned();
    }
    host.read_text("/proc/sys/kernel/hostname", 4096)
        .map(|t| t.trim().to_string())
        .unwrap_or_default()
}

/// `ktriage-node-<name>-<YYYYMMDDTHHMMSSZ>.tar.zst`, the name made safe for a file name.
pub fn default_output_name(node_name: &str, at: DateTime<Utc>) -> String {
    let safe: String = node_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.is_empty() || safe.chars().all(|c| c == '.') {
        "unknown".into()
    } else {
        safe
    };
    format!(
        "ktriage-node-{safe}-{}.tar.zst",
        at.format("%Y%m%dT%H%M%SZ")
    )
}

/// A temporary file next to `output`, renamed over it once the bundle is complete, so a
/// failed run never leaves a truncated bundle under the final name.
fn create_beside(output: &Path) -> anyhow::Result<(tempfile::TempPath, File)> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".ktriage-node-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .with_context(|| format!("creating the bundle in {}", dir.display()))?;
    let (file, path) = tmp.into_parts();
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("time");
        assert_eq!(
            default_output_name("node-1", at),
            "ktriage-node-node-1-20231114T221320Z.tar.zst"
        );
        assert_eq!(
            default_output_name("a/b", at),
            "ktriage-node-a_b-20231114T221320Z.tar.zst"
        );
        assert_eq!(
            default_output_name("", at),
            "ktriage-node-unknown-20231114T221320Z.tar.zst"
        );
    }

    #[test]
    fn flags_parse() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            node: NodeArgs,
        }
        let cli = Cli::try_parse_from(["x"]).expect("defaults");
        assert_eq!(cli.node.root, PathBuf::from("/"));
        assert_eq!(cli.node.since, Duration::from_secs(86_400));
        assert_eq!(cli.node.log_max_bytes, NodeArgs::new("/").log_max_bytes);
        let cli = Cli::try_parse_from([
            "x",
            "--root",
            "/host",
            "--node-name",
            "n1",
            "--since",
            "2h",
            "--log-max-bytes",
            "1000",
            "-o",
            "out.tar.zst",
        ])
        .expect("parses");
        assert_eq!(cli.node.root, PathBuf::from("/host"));
        assert_eq!(cli.node.node_name.as_deref(), Some("n1"));
        assert_eq!(cli.node.since, Duration::from_secs(7200));
        assert_eq!(cli.node.log_max_bytes, 1000);
        assert_eq!(cli.node.output, Some(PathBuf::from("out.tar.zst")));
        assert!(Cli::try_parse_from(["x", "--since", "soon"]).is_err());
    }
}
