//! A foreign source as a sequence of files: a directory, a tar archive (plain, gzip or zstd)
//! or one plain file (the single-stream output of `kubectl cluster-info dump`).
//!
//! A source is as untrusted as our own bundles and goes through the same checks
//! (`ktriage_schema::reader::walk_archive` / `walk_directory`): no traversal, no absolute
//! path, no device, entry-count, size and compression-ratio limits, truncation detected.
//! Links are never followed; other tools' bundles hold links to their own files
//! (troubleshoot's `all-logs/`), so they are skipped and listed rather than refused.
//! Archives are streamed twice (once to list the paths for detection, once to convert) and
//! never unpacked to disk.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use ktriage_schema::error::BundleError;
use ktriage_schema::reader::{self, ArchiveItem, Limits, Links};

use crate::{ImportError, Probe};

/// How many bytes of a plain file detection may look at.
const HEAD_BYTES: usize = 64 * 1024;

/// Top-level directories that belong to a source's own layout: an archive holding only one
/// of them has no wrapping directory to strip.
const LAYOUT_ROOTS: &[&str] = &[
    "cluster-resources",
    "cluster-info",
    "cluster-scoped-resources",
    "namespaces",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Directory,
    Archive(Compression),
    PlainFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One file of a source.
pub struct SourceFile<'a> {
    /// Relative, `/`-separated, the wrapping directory removed.
    pub path: &'a str,
    /// Modification time (seconds since the epoch), 0 when unknown.
    pub mtime: u64,
    /// The file's bytes.
    pub body: &'a mut dyn Read,
}

/// A foreign source, listed once.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    kind: Kind,
    limits: Limits,
    /// The wrapping directory removed from every path (`support-bundle-…/`), if any.
    prefix: Option<String>,
    /// Links met and skipped, relative.
    links: Vec<String>,
}

impl Source {
    /// Opens and lists `path`: the paths its regular files have, for detection.
    pub fn scan(path: &Path, limits: &Limits) -> Result<(Source, Probe), ImportError> {
        let meta =
            fs::metadata(path).map_err(|e| ImportError::io(path.display().to_string(), e))?;
        let kind = if meta.is_dir() {
            Kind::Directory
        } else {
            sniff(path)?
        };
        let mut source = Source {
            path: path.to_path_buf(),
            kind,
            limits: limits.clone(),
            prefix: None,
            links: Vec::new(),
        };
        let mut probe = Probe::default();
        let mut seen = HashSet::new();
        let mut links = Vec::new();
        source.walk(&mut |item| match item {
            Item::File { path, body, .. } => {
                if !seen.insert(path.to_string()) {
                    return Err(ImportError::from(BundleError::unsafe_entry(
                        &source.path,
                        path,
                        "duplicate entry",
                    )));
                }
                if kind == Kind::PlainFile {
                    let mut head = Vec::with_capacity(HEAD_BYTES);
                    body.take(HEAD_BYTES as u64)
                        .read_to_end(&mut head)
                        .map_err(|e| ImportError::io(path, e))?;
                    probe.head = Some(head);
                }
                probe.paths.push(path.to_string());
                Ok(())
            }
            Item::Link(raw) => {
                links.push(raw.to_string());
                Ok(())
            }
        })?;
        if kind != Kind::PlainFile {
            source.prefix = wrapping_directory(&probe.paths);
            if let Some(prefix) = &source.prefix {
                for p in &mut probe.paths {
                    p.drain(..prefix.len());
                }
            }
        }
        probe.paths.sort();
        source.links = links;
        Ok((source, probe))
    }

    /// The path the user gave.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Links the source holds, skipped (relative to the source, wrapping directory included).
    pub fn links(&self) -> &[String] {
        &self.links
    }

    /// Hands every regular file to `each`, in the source's order.
    pub fn for_each_file(
        &self,
        each: &mut dyn FnMut(SourceFile<'_>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let prefix = self.prefix.as_deref().unwrap_or("");
        self.walk(&mut |item| match item {
            Item::File { path, mtime, body } => each(SourceFile {
                path: path.strip_prefix(prefix).unwrap_or(path),
                mtime,
                body,
            }),
            Item::Link(_) => Ok(()),
        })
    }

    fn walk(
        &self,
        each: &mut dyn FnMut(Item<'_>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        match self.kind {
            Kind::Directory => self.walk_directory(each),
            Kind::PlainFile => {
                let name = self
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "input".into());
                let file = File::open(&self.path)
                    .map_err(|e| ImportError::io(self.path.display().to_string(), e))?;
                let mtime = mtime_of(&self.path);
                each(Item::File {
                    path: &name,
                    mtime,
                    body: &mut BufReader::new(file),
                })
            }
            Kind::Archive(compression) => self.walk_archive(compression, each),
        }
    }

    fn walk_directory(
        &self,
        each: &mut dyn FnMut(Item<'_>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let walk = reader::walk_directory(&self.path, &self.path, Links::Skip)?;
        if walk.files.len() as u64 > self.limits.max_entries {
            return Err(BundleError::limit(
                &self.path,
                format!("more than {} files", self.limits.max_entries),
            )
            .into());
        }
        for link in &walk.links {
            each(Item::Link(link))?;
        }
        let mut total: u64 = 0;
        for file in &walk.files {
            let rel = file.strip_prefix(&self.path).unwrap_or(file);
            let rel = rel
                .to_str()
                .ok_or_else(|| {
                    BundleError::unsafe_entry(
                        &self.path,
                        &rel.to_string_lossy(),
                        "name is not UTF-8",
                    )
                })?
                .replace(std::path::MAIN_SEPARATOR, "/");
            let size = fs::metadata(file)
                .map_err(|e| ImportError::io(rel.clone(), e))?
                .len();
            total = total.saturating_add(size);
            if size > self.limits.max_entry_bytes || total > self.limits.max_total_bytes {
                return Err(BundleError::limit(
                    &self.path,
                    format!("{rel}: over the size limit of a source"),
                )
                .into());
            }
            let opened = File::open(file).map_err(|e| ImportError::io(rel.clone(), e))?;
            // A file that grows while it is read is read up to the size it had.
            let mut body = BufReader::new(opened).take(size);
            each(Item::File {
                path: &rel,
                mtime: mtime_of(file),
                body: &mut body,
            })?;
        }
        Ok(())
    }

    fn walk_archive(
        &self,
        compression: Compression,
        each: &mut dyn FnMut(Item<'_>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let file = File::open(&self.path)
            .map_err(|e| ImportError::io(self.path.display().to_string(), e))?;
        let (packed, count) = reader::count_packed(BufReader::new(file));
        let stream: Box<dyn Read> = match compression {
            Compression::None => Box::new(packed),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(packed)),
            Compression::Zstd => Box::new(
                zstd::Decoder::with_buffer(packed)
                    .map_err(|e| ImportError::io(self.path.display().to_string(), e))?,
            ),
        };
        reader::walk_archive(
            &self.path,
            stream,
            &count,
            &self.limits,
            Links::Skip,
            &mut |item| match item {
                ArchiveItem::Dir { .. } => Ok(()),
                ArchiveItem::Link { raw } => each(Item::Link(raw)),
                ArchiveItem::File {
                    raw, mtime, body, ..
                } => {
                    let path = normalized(raw);
                    each(Item::File {
                        path: &path,
                        mtime,
                        body,
                    })
                }
            },
        )
    }
}

enum Item<'a> {
    File {
        path: &'a str,
        mtime: u64,
        body: &'a mut dyn Read,
    },
    Link(&'a str),
}

/// `./a//b` → `a/b` (the walker already refused `..` and absolute paths).
fn normalized(raw: &str) -> String {
    raw.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// The single top-level directory every path is under, with its `/`, when there is one and
/// it is not part of a source layout.
fn wrapping_directory(paths: &[String]) -> Option<String> {
    let first = paths.first()?.split_once('/')?.0;
    if LAYOUT_ROOTS.contains(&first) {
        return None;
    }
    let prefix = format!("{first}/");
    paths
        .iter()
        .all(|p| p.starts_with(&prefix))
        .then_some(prefix)
}

/// What a file is, from its first bytes.
fn sniff(path: &Path) -> Result<Kind, ImportError> {
    let mut head = [0u8; 512];
    let mut file = File::open(path).map_err(|e| ImportError::io(path.display().to_string(), e))?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImportError::io(path.display().to_string(), e)),
        }
    }
    let head = &head[..filled];
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Kind::Archive(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Kind::Archive(Compression::Zstd)
    } else if head.len() == 512 && &head[257..262] == b"ustar" {
        Kind::Archive(Compression::None)
    } else if head.is_empty() {
        return Err(ImportError::bad_input(
            path.display().to_string(),
            "empty file",
        ));
    } else {
        Kind::PlainFile
    })
}

fn mtime_of(path: &Path) -> u64 {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_wrapping_directory_is_stripped_but_not_a_layout_root() {
        let paths = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            wrapping_directory(&paths(&[
                "sb-1/version.yaml",
                "sb-1/cluster-resources/nodes.json"
            ])),
            Some("sb-1/".into())
        );
        assert_eq!(
            wrapping_directory(&paths(&[
                "cluster-resources/nodes.json",
                "cluster-resources/pods/a.json"
            ])),
            None
        );
        assert_eq!(
            wrapping_directory(&paths(&["version.yaml", "cluster-resources/nodes.json"])),
            None
        );
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalized("./a//b/./c"), "a/b/c");
    }
}
