//! The contract between the source formats and the bundle they are converted into.

use std::io::Read;

use chrono::{DateTime, Utc};
use ktriage_schema::discovery::Discovery;
use ktriage_schema::host::{CertificateInfo, HostFacts};
use ktriage_schema::layout::SourceFinding;
use ktriage_schema::manifest::Gap;
use serde_json::Value;

/// Where a container log belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRef {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// The log of the container's previous instance (before its last restart).
    pub previous: bool,
}

/// Why an import failed. Every variant names the source file or object it is about.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source is malformed: the message names the file and what is wrong with it.
    #[error("{path}: {message}")]
    BadInput { path: String, message: String },
    /// The source failed a safety check or a limit (names the source and the entry).
    #[error("{0}")]
    Source(#[from] ktriage_schema::error::BundleError),
    /// The caller asked the import to stop (a signal).
    #[error("import stopped")]
    Stopped,
    /// Reading the source failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Writing the bundle (or its temporary spool files) failed: not the source's fault.
    #[error("writing {what}: {source}")]
    Write {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl ImportError {
    pub fn bad_input(path: impl Into<String>, message: impl Into<String>) -> Self {
        ImportError::BadInput {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn write(what: impl Into<String>, source: std::io::Error) -> Self {
        ImportError::Write {
            what: what.into(),
            source,
        }
    }

    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        ImportError::Io {
            path: path.into(),
            source,
        }
    }
}

/// What a [`crate::Converter`] reports. Implemented by the bundle writer and, in tests, by
/// recorders.
pub trait Sink {
    /// One API object as the API server would serve it: `apiVersion`, `kind` and `metadata`
    /// set (a converter fills `apiVersion`/`kind` from the list it came from when the items
    /// lack them). `resource` is the plural resource name when the source names it (e.g. the
    /// file `cluster-resources/pods/default.json`), so that kinds unknown to the sink still
    /// land under the right resource.
    fn object(&mut self, object: Value, resource: Option<&str>) -> Result<(), ImportError>;

    /// One container log, streamed.
    fn log(&mut self, log: &LogRef, body: &mut dyn Read) -> Result<(), ImportError>;

    /// The API server's `/version` answer (`gitVersion`, `major`, `minor`, ...).
    fn version(&mut self, version: Value) -> Result<(), ImportError>;

    /// Something the source lacks or that could not be converted.
    fn gap(&mut self, gap: Gap);

    /// When the source was collected, for a source that records it (must-gather's
    /// `timestamp`). A sink that has no use for it ignores it.
    fn collected(&mut self, started: DateTime<Utc>, finished: DateTime<Utc>) {
        let _ = (started, finished);
    }

    /// The source's own discovery (what the API server served): replaces the discovery the
    /// sink would otherwise synthesize from built-in kinds, CRDs and the objects seen.
    fn discovery(&mut self, _discovery: Discovery) -> Result<(), ImportError> {
        Ok(())
    }

    /// The version of the tool that produced the source, when the source records it.
    fn producer_version(&mut self, _version: &str) {}

    /// One finding of the source tool's own analysis (troubleshoot's `analysis.json`),
    /// kept so the report can show it beside ktriage's.
    fn source_finding(&mut self, _finding: SourceFinding) -> Result<(), ImportError> {
        Ok(())
    }

    /// A file of the source kept as it is in the bundle, under `source/` (its tool's own
    /// analysis, for instance).
    fn source_file(&mut self, _path: &str, _body: &mut dyn Read) -> Result<(), ImportError> {
        Ok(())
    }

    // Host data: what the source collected on the hosts themselves, each host becoming a
    // node bundle. `node` is the host's Kubernetes node name, or empty for the one host a
    // source was collected on when it does not say which node that is (the host name in
    // its facts then identifies it).

    /// A host's facts, reported once per host.
    fn host_facts(&mut self, _node: &str, _facts: HostFacts) -> Result<(), ImportError> {
        Ok(())
    }

    /// One certificate found on a host: metadata only, never key material.
    fn host_certificate(
        &mut self,
        _node: &str,
        _certificate: CertificateInfo,
    ) -> Result<(), ImportError> {
        Ok(())
    }

    /// A service log of a host (`kubelet`, `kernel`), streamed.
    fn host_log(
        &mut self,
        _node: &str,
        _service: &str,
        _body: &mut dyn Read,
    ) -> Result<(), ImportError> {
        Ok(())
    }

    /// Something a host's data lacks or that could not be converted.
    fn host_gap(&mut self, _node: &str, _gap: Gap) {}
}
