//! Errors of reading a bundle. Each renders as one line naming the file (and entry or line).

use std::path::{Path, PathBuf};

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The archive ends in the middle of an entry or frame.
    #[error("{}: archive is truncated", file.display())]
    Truncated {
        /// The archive.
        file: PathBuf,
    },
    /// The archive is not a readable tar/zstd stream.
    #[error("{}: not a readable bundle archive: {detail}", file.display())]
    Corrupt {
        /// The archive.
        file: PathBuf,
        /// What the decoder said.
        detail: String,
    },
    /// An entry that must never be unpacked.
    #[error("{}: refusing entry {entry:?}: {why}", file.display())]
    UnsafeEntry {
        /// The archive.
        file: PathBuf,
        /// The entry's path as stored.
        entry: String,
        /// Why it was refused.
        why: String,
    },
    /// A size, count or ratio limit was exceeded.
    #[error("{}: {detail}", file.display())]
    Limit {
        /// The archive.
        file: PathBuf,
        /// Which limit.
        detail: String,
    },
    /// No `manifest.json`.
    #[error("{}: not a ktriage bundle (no manifest.json)", file.display())]
    NoManifest {
        /// The bundle.
        file: PathBuf,
    },
    /// A major format this reader does not know.
    #[error("{}: bundle format {found} is newer than this ktriage understands (format {supported}.x); upgrade ktriage", file.display())]
    NewerFormat {
        /// The bundle.
        file: PathBuf,
        /// The format version found.
        found: String,
        /// The major version this reader supports.
        supported: u32,
    },
    /// The manifest lists a file that is not there.
    #[error("{}: entry {entry} is listed in the manifest but missing", file.display())]
    Missing {
        /// The bundle.
        file: PathBuf,
        /// The entry.
        entry: String,
    },
    /// Size or checksum differs from the manifest.
    #[error("{}: entry {entry}: {detail}", file.display())]
    Checksum {
        /// The bundle.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// What differs.
        detail: String,
    },
    /// Malformed JSON.
    #[error("{}:{line}: malformed JSON: {message}", file.display())]
    Json {
        /// The file inside the bundle.
        file: PathBuf,
        /// 1-based line.
        line: u64,
        /// Parser message.
        message: String,
    },
}

impl BundleError {
    pub(crate) fn io(file: &Path, source: std::io::Error) -> Self {
        BundleError::Io {
            file: file.to_path_buf(),
            source,
        }
    }
    pub(crate) fn unsafe_entry(file: &Path, entry: &str, why: &str) -> Self {
        BundleError::UnsafeEntry {
            file: file.to_path_buf(),
            entry: entry.to_string(),
            why: why.to_string(),
        }
    }
    pub(crate) fn limit(file: &Path, detail: String) -> Self {
        BundleError::Limit {
            file: file.to_path_buf(),
            detail,
        }
    }
}
