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

pub mod json_stream;
pub mod sink;

pub use sink::{ImportError, LogRef, Sink};

use std::io::Read;

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
