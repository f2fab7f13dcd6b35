//! Errors of reading a bundle. Each renders as one line naming the file (and entry or line),
//! with any control character in a name or message shown as a visible escape.

use std::path::{Path, PathBuf};

use crate::text::Safe;

/// A path for a message: entry names inside a bundle are the sender's choice, so control
/// characters in them are escaped.
fn shown(path: &Path) -> String {
    Safe(&path.to_string_lossy()).to_string()
}

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", shown(.file))]
    Io {
        /// The file.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The archive ends in the middle of an entry or frame.
    #[error("{}: archive is truncated", shown(.file))]
    Truncated {
        /// The archive.
        file: PathBuf,
    },
    /// The archive is not a readable tar/zstd stream.
    #[error("{}: not a readable bundle archive: {}", shown(.file), Safe(.detail))]
    Corrupt {
        /// The archive.
        file: PathBuf,
        /// What the decoder said.
        detail: String,
    },
    /// An entry that must never be unpacked.
    #[error("{}: refusing entry {entry:?}: {why}", shown(.file))]
    UnsafeEntry {
        /// The archive.
        file: PathBuf,
        /// The entry's path as stored.
        entry: String,
        /// Why it was refused.
        why: String,
    },
    /// A size, count or ratio limit was exceeded.
    #[error("{}: {}", shown(.file), Safe(.detail))]
    Limit {
        /// The archive.
        file: PathBuf,
        /// Which limit.
        detail: String,
    },
    /// No `manifest.json`.
    #[error("{}: not a ktriage bundle (no manifest.json)", shown(.file))]
    NoManifest {
        /// The bundle.
        file: PathBuf,
    },
    /// A major format this reader does not know.
    #[error("{}: bundle format {} is newer than this ktriage understands (format {supported}.x); upgrade ktriage", shown(.file), Safe(.found))]
    NewerFormat {
        /// The bundle.
        file: PathBuf,
        /// The format version found.
        found: String,
        /// The major version this reader supports.
        supported: u32,
    },
    /// The manifest lists a file that is not there.
    #[error("{}: entry {} is listed in the manifest but missing", shown(.file), Safe(.entry))]
    Missing {
        /// The bundle.
        file: PathBuf,
        /// The entry.
        entry: String,
    },
    /// Size or checksum differs from the manifest.
    #[error("{}: entry {}: {detail}", shown(.file), Safe(.entry))]
    Checksum {
        /// The bundle.
        file: PathBuf,
        /// The entry.
        entry: String,
        /// What differs.
        detail: String,
    },
    /// Malformed JSON.
    #[error("{}:{line}: malformed JSON: {}", shown(.file), Safe(.message))]
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
    pub fn unsafe_entry(file: &Path, entry: &str, why: &str) -> Self {
        BundleError::UnsafeEntry {
            file: file.to_path_buf(),
            entry: entry.to_string(),
            why: why.to_string(),
        }
    }
    pub fn limit(file: &Path, detail: String) -> Self {
        BundleError::Limit {
            file: file.to_path_buf(),
            detail,
        }
    }
}
