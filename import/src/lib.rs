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

pub mod cluster_info;
pub mod json_stream;
pub mod must_gather;
pub mod sink;

pub use sink::{ImportError, LogRef, Sink};

use std::io::Read;

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
pub static FORMATS: &[&dyn Format] = &[&cluster_info::CLUSTER_INFO_DUMP, &must_gather::MUST_GATHER];

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
