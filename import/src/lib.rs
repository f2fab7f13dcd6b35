//! Reads the support bundles support teams already receive — Replicated troubleshoot support
//! bundles, `kubectl cluster-info dump` output and OpenShift must-gather archives — and turns
//! them into ktriage bundles, so every rule, the report, `sql` and `serve` work on them.
//!
//! The work is split in two halves joined by the [`Sink`] trait:
//! - a [`Converter`] per source format reads the source's files one at a time, in the order
//!   the source gives them, and tells the sink what it found: API objects, container logs,
//!   the server version, gaps;
//! - the sink writing a ktriage bundle spools objects per resource, streams logs, redacts,
//!   and writes the manifest with its checksums and gaps.
//!
//! Neither half holds a whole source in memory: sources can be as large as the clusters they
//! describe.

pub mod bundle_sink;
pub mod cluster_info;
pub mod json_stream;
mod log_spool;
pub mod must_gather;
mod node_bundles;
pub mod sink;
pub mod source;
pub mod troubleshoot;
mod troubleshoot_host;
mod troubleshoot_host_shapes;
mod troubleshoot_logs;

pub use bundle_sink::{BundleSink, ImportCounts, SinkOptions};
pub use node_bundles::ImportedNode;
pub use sink::{ImportError, LogRef, Sink};

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ktriage_redact::RedactConfig;
use ktriage_schema::manifest::Manifest;
use ktriage_schema::reader::Limits;
use ktriage_schema::writer::WriterOptions;

/// A source format ktriage can import. Every format is listed in [`FORMATS`], the order in
/// which detection tries them.
pub trait Format: Sync {
    /// Short stable name, recorded as the bundle's `producer` (`troubleshoot`,
    /// `cluster-info-dump`, `must-gather`) and shown to users.
    fn name(&self) -> &'static str;

    /// Whether a source is in this format, judged from its layout (and, for a source that is
    /// one plain file, its first bytes).
    fn detect(&self, probe: &Probe) -> bool;

    /// A fresh converter for one source.
    fn converter(&self) -> Box<dyn Converter>;
}

/// What detection may look at without reading a source in full.
#[derive(Debug, Default)]
pub struct Probe {
    /// Relative paths of the source's regular files (an archive's single top-level directory
    /// removed), `/`-separated.
    pub paths: Vec<String>,
    /// The first bytes of the source when it is one plain (uncompressed, non-archive) file,
    /// such as the single-stream output of `kubectl cluster-info dump`.
    pub head: Option<Vec<u8>>,
}

/// Every format, in the order detection tries them.
pub static FORMATS: &[&dyn Format] = &[
    &troubleshoot::Troubleshoot,
    &cluster_info::CLUSTER_INFO_DUMP,
    &must_gather::MUST_GATHER,
];

/// The format of a source, by its layout.
pub fn detect(probe: &Probe) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|f| f.detect(probe))
}

/// How to import.
pub struct ImportOptions {
    /// Limits on reading the source (as for our own bundles).
    pub limits: Limits,
    /// Redaction rules (`RedactConfig::default()`: the built-in ones); `None` keeps the
    /// source as it is.
    pub redaction: Option<RedactConfig>,
    /// Compression of the bundles written.
    pub writer: WriterOptions,
    /// The directory node bundles are written to, as `node-<name>.tar.zst`: one per host
    /// whose data the source holds (troubleshoot's host collectors). `None` leaves host
    /// data out, with a gap.
    pub node_dir: Option<PathBuf>,
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// The source format's name.
    pub format: &'static str,
    /// The manifest written.
    pub manifest: Manifest,
    /// What was converted.
    pub counts: ImportCounts,
    /// The node bundles written into [`ImportOptions::node_dir`], with the cluster bundle
    /// one case.
    pub nodes: Vec<ImportedNode>,
}

/// Converts the foreign source at `src` into a ktriage bundle written to `out`, and the
/// hosts' data it holds into node bundles in [`ImportOptions::node_dir`]. `progress`
/// is told each file of the source as it is converted; when it answers false, the import
/// stops with [`ImportError::Stopped`].
pub fn import<W: Write>(
    src: &Path,
    out: W,
    options: ImportOptions,
    progress: &mut dyn FnMut(&str) -> bool,
) -> Result<(W, Imported), ImportError> {
    let (source, probe) = source::Source::scan(src, &options.limits)?;
    let Some(format) = detect(&probe) else {
        let known: Vec<&str> = FORMATS.iter().map(|f| f.name()).collect();
        return Err(ImportError::bad_input(
            src.display().to_string(),
            format!(
                "not a bundle of a known format ({}), nor a ktriage bundle",
                known.join(", ")
            ),
        ));
    };
    let source_name = src
        .file_name()
        .map(|n| ktriage_schema::text::terminal_safe(&n.to_string_lossy()))
        .unwrap_or_default();
    let mut sink = BundleSink::new(
        out,
        SinkOptions {
            format: format.name(),
            redaction: options.redaction,
            writer: options.writer,
            source_name,
            node_dir: options.node_dir,
        },
    )?;
    let mut converter = format.converter();
    let mut newest: u64 = 0;
    source.for_each_file(&mut |file| {
        if !progress(file.path) {
            return Err(ImportError::Stopped);
        }
        newest = newest.max(file.mtime);
        converter.file(file.path, file.body, &mut sink)
    })?;
    converter.finish(&mut sink)?;
    if let Some(at) = i64::try_from(newest)
        .ok()
        .filter(|&t| t > 0)
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
    {
        sink.set_collected_at(at);
    }
    let (out, manifest, counts, nodes) = sink.finish()?;
    Ok((
        out,
        Imported {
            format: format.name(),
            manifest,
            counts,
            nodes,
        },
    ))
}

/// Top-level names of our own bundles' archives.
const OWN_ROOTS: &[&str] = &[
    "manifest.json",
    "cluster",
    "logs",
    "nodes",
    "host",
    "source",
];

/// Whether `path` is something other than a ktriage bundle (so to be imported first): a
/// directory without `manifest.json`, a gzip archive, a tar archive (plain or zstd) whose
/// first entry is not where our bundles start, or a plain file of JSON text (the
/// single-stream `kubectl cluster-info dump`). Anything unreadable or undecidable answers
/// false: opening it as our own reports the error precisely.
pub fn is_foreign(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.is_dir() {
        return !path.join(ktriage_schema::layout::MANIFEST).exists();
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(512);
    if (&mut file).take(512).read_to_end(&mut head).is_err() {
        return false;
    }
    drop(file);
    if head.starts_with(&[0x1f, 0x8b]) {
        return true;
    }
    let zstd = head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    let tar = head.len() == 512 && &head[257..262] == b"ustar";
    if !zstd && !tar {
        let text = head.iter().find(|b| !b.is_ascii_whitespace());
        return matches!(text, Some(b'{' | b'['));
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let stream: Box<dyn Read> = if zstd {
        match zstd::Decoder::new(file) {
            Ok(d) => Box::new(d),
            Err(_) => return false,
        }
    } else {
        Box::new(file)
    };
    let mut archive = tar::Archive::new(stream);
    let first = archive
        .entries()
        .ok()
        .and_then(|mut e| e.next())
        .and_then(Result::ok)
        .map(|e| String::from_utf8_lossy(&e.path_bytes()).into_owned());
    match first {
        Some(name) => {
            let root = name
                .trim_start_matches("./")
                .split('/')
                .next()
                .unwrap_or("");
            !OWN_ROOTS.contains(&root)
        }
        None => false,
    }
}
/// One source format: reads the files of a source and reports what they hold to a [`Sink`].
pub trait Converter {
    /// One regular file of the source. `path` is relative to the source's root (an archive's
    /// single top-level directory removed), `/`-separated, already checked to be safe.
    fn file(
        &mut self,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError>;

    /// Called once after the last file: report as gaps what the source lacked.
    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), ImportError>;
}
