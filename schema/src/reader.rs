//! Opens a bundle safely. A bundle comes from a customer and is treated as hostile: every
//! entry is checked before a byte of it reaches the disk, and nothing is ever written outside
//! the caller's work directory.
//!
//! Rejected: absolute paths, `..`, links, device files and anything but regular files and
//! directories; entries or totals over the limits; a compression ratio that says "bomb"; a
//! truncated stream; duplicate entries; files the manifest does not list or lists with
//! another size or checksum; a newer major format; malformed NDJSON lines.
//!
//! An NDJSON line over the line limit is not refused: its entry's checksum is still verified,
//! and the line is listed in [`OpenBundle::oversized`] for loaders to skip and report.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::BundleError;
use crate::layout;
use crate::manifest::{FORMAT_MAJOR, Gap, GapKind, GapReason, Manifest};
use crate::ndjson::{LongLine, ValidateError};

/// Bounds on what one bundle may unpack to.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest single entry.
    pub max_entry_bytes: u64,
    /// Largest total of all entries.
    pub max_total_bytes: u64,
    /// Most entries.
    pub max_entries: u64,
    /// Highest unpacked/packed ratio, checked once `ratio_floor_bytes` have been unpacked.
    pub max_ratio: u64,
    /// Unpacked bytes below which the ratio is not judged (small files compress very well).
    pub ratio_floor_bytes: u64,
    /// Longest NDJSON line (one object), newline included; longer ones are skipped.
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_bytes: 4 << 30,
            max_total_bytes: 32 << 30,
            max_entries: 2_000_000,
            max_ratio: 250,
            ratio_floor_bytes: 256 << 20,
            max_line_bytes: layout::MAX_LINE_BYTES,
        }
    }
}

/// A bundle ready to read: its files on disk under `root`, its manifest checked.
#[derive(Debug, Clone)]
pub struct OpenBundle {
    /// Where the bundle's files are (the unpacked copy, or the directory given).
    pub root: PathBuf,
    /// The bundle's manifest.
    pub manifest: Manifest,
    /// The path the user gave.
    pub source: PathBuf,
    /// NDJSON lines over the line limit: not to be loaded, reported as gaps.
    pub oversized: Vec<OversizedObject>,
}

/// An NDJSON line over the line limit in a bundle's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OversizedObject {
    /// The entry (bundle-relative path).
    pub entry: String,
    /// The line and who it is.
    pub line: LongLine,
}

impl OversizedObject {
    /// The gap that reports the object as not loaded.
    pub fn gap(&self, max_line_bytes: usize) -> Gap {
        Gap::new(
            GapKind::Object,
            self.line.object.describe(),
            GapReason::TooLarge,
        )
        .with_detail(format!(
            "{} line {}: {} bytes, over the {max_line_bytes}-byte limit of one line; not loaded",
            self.entry, self.line.line, self.line.bytes
        ))
    }
}

impl OpenBundle {
    /// Absolute path of a bundle-relative path.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Opens `source`: a `.tar.zst` (or plain `.tar`) unpacked into `work` (which must not exist
/// yet or be empty, and whose parent must exist), or an unpacked bundle directory used in
/// place.
pub fn open(source: &Path, work: &Path, limits: &Limits) -> Result<OpenBundle, BundleError> {
    let meta = fs::metadata(source).map_err(|e| BundleError::io(source, e))?;
    let (root, mut checked) = if meta.is_dir() {
        check_directory(source)?;
        (source.to_path_buf(), Checked::new())
    } else {
        let checked = unpack(source, work, limits)?;
        (work.to_path_buf(), checked)
    };
    let manifest = read_manifest(source, &root)?;
    let oversized = verify_entries(source, &root, &manifest, limits, &mut checked)?;
    Ok(OpenBundle {
        root,
        manifest,
        source: source.to_path_buf(),
        oversized,
    })
}

/// What unpacking learnt of each file as it wrote it: its SHA-256 and, for NDJSON, whether
/// every line is a JSON object and which lines are over the limit. [`verify_entries`] checks
/// these against the manifest instead of reading every file a second time.
type Checked = HashMap<PathBuf, Result<(String, Vec<LongLine>), ValidateError>>;

/// Unpacks the archive at `source` into `dest`, entry by entry, under `limits`, hashing and
/// validating each file as it is written. A malformed line is not an error here: it is kept
/// for [`verify_entries`], which reports the bundle's problems in manifest order.
fn unpack(source: &Path, dest: &Path, limits: &Limits) -> Result<Checked, BundleError> {
    let (stream, packed) = open_stream(source)?;
    create_dest(dest).map_err(|e| BundleError::io(dest, e))?;
    let mut checked = Checked::new();
    walk_archive(
        source,
        stream,
        &packed,
        limits,
        Links::Refuse,
        &mut |item| -> Result<(), BundleError> {
            match item {
                ArchiveItem::Dir { rel } => {
                    create_dirs_below(dest, rel).map_err(|e| BundleError::io(&source.join(rel), e))
                }
                ArchiveItem::File { rel, raw, body, .. } => {
                    let target = dest.join(rel);
                    if let Some(parent) = rel.parent() {
                        create_dirs_below(dest, parent)
                            .map_err(|e| BundleError::io(&source.join(rel), e))?;
                    }
                    let mut out = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&target)
                        .map_err(|e| match e.kind() {
                            io::ErrorKind::AlreadyExists => {
                                BundleError::unsafe_entry(source, raw, "duplicate entry")
                            }
                            _ => BundleError::io(&source.join(rel), e),
                        })?;
                    let ndjson = rel.to_string_lossy().ends_with(layout::NDJSON_EXT);
                    let mut tee = Tee {
                        body,
                        out: &mut out,
                    };
                    let result = hash_and_validate_stream(
                        BufReader::with_capacity(1 << 20, &mut tee),
                        ndjson,
                        limits,
                    );
                    // Whatever validation left unread is still written: the file on disk is
                    // the whole entry, as the manifest's size check expects.
                    io::copy(&mut tee, &mut io::sink()).map_err(|e| archive_error(source, e))?;
                    match result {
                        Err(ValidateError::Io(e)) => Err(archive_error(source, e)),
                        checked_file => {
                            checked.insert(rel.to_path_buf(), checked_file);
                            Ok(())
                        }
                    }
                }
                ArchiveItem::Link { .. } => Ok(()),
            }
        },
    )?;
    Ok(checked)
}

/// Reads `body` and writes every byte read to `out` on the way.
struct Tee<'a> {
    body: &'a mut dyn Read,
    out: &'a mut File,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.body.read(buf)?;
        io::Write::write_all(self.out, &buf[..n])?;
        Ok(n)
    }
}

/// Creates `dest`, whose parent must exist. Unpacking never creates anything above `dest`:
/// when a signal removes the directory being unpacked into (the analyzer's work directory),
/// even before the first entry, unpacking fails instead of bringing it back as a leftover.
fn create_dest(dest: &Path) -> io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new(""));
    create_dirs_below(parent, dest.strip_prefix(parent).unwrap_or(dest))
}

/// Creates `rel` (a checked relative path) below `dest` one level at a time, never `dest`
/// itself: see [`create_dest`].
fn create_dirs_below(dest: &Path, rel: &Path) -> io::Result<()> {
    let mut dir = dest.to_path_buf();
    for component in rel.components() {
        dir.push(component);
        match fs::create_dir(&dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            result => result?,
        }
    }
    Ok(())
}

/// Opens `source` as a tar stream: zstd-compressed when it starts with zstd's magic, plain
/// otherwise. Also hands back the counter of packed bytes read, for the ratio check.
pub fn open_stream(source: &Path) -> Result<(Box<dyn Read>, PackedCount), BundleError> {
    let mut file = File::open(source).map_err(|e| BundleError::io(source, e))?;
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| BundleError::io(source, e))?;
    drop(file);
    let file = File::open(source).map_err(|e| BundleError::io(source, e))?;
    let packed = CountingReader::new(BufReader::new(file));
    let packed_count = packed.counter();
    let stream: Box<dyn Read> = if n == 4 && magic == ZSTD_MAGIC {
        Box::new(zstd::Decoder::with_buffer(packed).map_err(|e| BundleError::io(source, e))?)
    } else {
        Box::new(packed)
    };
    Ok((stream, packed_count))
}

/// Bytes read so far from a packed (compressed) archive file.
pub type PackedCount = std::rc::Rc<std::cell::Cell<u64>>;

/// Wraps `inner` so that the bytes read from it are counted in the returned counter.
pub fn count_packed<R: BufRead>(inner: R) -> (impl BufRead, PackedCount) {
    let reader = CountingReader::new(inner);
    let count = reader.counter();
    (reader, count)
}

/// What to do with a symbolic or hard link in an archive or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// A link is an error (our own bundles never hold one).
    Refuse,
    /// A link is reported as [`ArchiveItem::Link`] and never followed (other tools' bundles
    /// hold links to their own files, e.g. troubleshoot's `all-logs/`).
    Skip,
}

/// One checked entry of an archive, as [`walk_archive`] hands it over.
pub enum ArchiveItem<'a> {
    /// A directory.
    Dir { rel: &'a Path },
    /// A regular file: `body` yields its bytes (at most `size`), under the ratio limit.
    File {
        rel: &'a Path,
        raw: &'a str,
        size: u64,
        /// Modification time in seconds since the epoch, as the archive records it.
        mtime: u64,
        body: &'a mut dyn Read,
    },
    /// A link, not followed (only with [`Links::Skip`]).
    Link { raw: &'a str },
}

/// Walks the tar `stream` read from `source` (whose packed bytes `packed` counts), checking
/// every entry as our own bundles are checked, and hands each to `each`: traversal, absolute
/// paths, devices, links (per `links`), entry count, entry and total size, compression
/// ratio and truncation are refused with an error naming `source`.
pub fn walk_archive<E: From<BundleError>>(
    source: &Path,
    stream: impl Read,
    packed: &PackedCount,
    limits: &Limits,
    links: Links,
    each: &mut dyn FnMut(ArchiveItem<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut archive = tar::Archive::new(stream);
    let entries = archive.entries().map_err(|e| archive_error(source, e))?;
    let mut total: u64 = 0;
    let mut count: u64 = 0;
    for entry in entries {
        let mut entry = entry.map_err(|e| archive_error(source, e))?;
        count += 1;
        if count > limits.max_entries {
            return Err(BundleError::limit(
                source,
                format!("more than {} entries", limits.max_entries),
            )
            .into());
        }
        let raw_path = String::from_utf8(entry.path_bytes().into_owned()).map_err(|_| {
            BundleError::unsafe_entry(source, "<non-UTF-8 name>", "name is not UTF-8")
        })?;
        let rel = safe_relative_path(&raw_path).ok_or_else(|| {
            BundleError::unsafe_entry(source, &raw_path, "absolute path or '..' component")
        })?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            each(ArchiveItem::Dir { rel: &rel })?;
            continue;
        }
        if links == Links::Skip && (kind.is_symlink() || kind.is_hard_link()) {
            each(ArchiveItem::Link { raw: &raw_path })?;
            continue;
        }
        // PAX and GNU long-name headers are consumed by the tar crate; any other header
        // kind (a global PAX header, a vendor extension) carries no file.
        if kind.is_pax_global_extensions() {
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            return Err(BundleError::unsafe_entry(
                source,
                &raw_path,
                &format!("{} entries are not allowed", entry_kind_name(kind)),
            )
            .into());
        }
        let size = entry.size();
        if size > limits.max_entry_bytes {
            return Err(BundleError::limit(
                source,
                format!(
                    "entry {raw_path} is {size} bytes, over the {} byte limit",
                    limits.max_entry_bytes
                ),
            )
            .into());
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(BundleError::limit(
                source,
                format!("unpacks to more than {} bytes", limits.max_total_bytes),
            )
            .into());
        }
        let mtime = entry.header().mtime().unwrap_or(0);
        let mut guard = RatioGuard {
            inner: &mut entry,
            unpacked_before: total - size,
            copied: 0,
            packed,
            limits,
            failure: None,
        };
        let handed = each(ArchiveItem::File {
            rel: &rel,
            raw: &raw_path,
            size,
            mtime,
            body: &mut guard,
        });
        // Whatever the callback left unread is still checked: a truncated stream or a bomb
        // must not pass because the reader stopped early.
        let drained = match handed {
            Ok(()) => io::copy(&mut guard, &mut io::sink()).map(|_| ()),
            Err(_) => Ok(()),
        };
        if let Some(failure) = guard.failure.take() {
            return Err(match failure {
                CopyError::Bomb(ratio) => BundleError::limit(
                    source,
                    format!(
                        "compression ratio {ratio}:1 exceeds {}:1 (decompression bomb?)",
                        limits.max_ratio
                    ),
                ),
                CopyError::Io(e) => archive_error(source, e),
            }
            .into());
        }
        handed?;
        drained.map_err(|e| archive_error(source, e))?;
        if guard.copied != size {
            return Err(BundleError::Truncated {
                file: source.to_path_buf(),
            }
            .into());
        }
    }
    Ok(())
}

/// Reads an archive entry, failing once the unpacked/packed ratio says "bomb". The first
/// failure is kept so that the walker reports it, whatever the reader made of it.
struct RatioGuard<'a, R> {
    inner: &'a mut R,
    unpacked_before: u64,
    copied: u64,
    packed: &'a PackedCount,
    limits: &'a Limits,
    failure: Option<CopyError>,
}

impl<R: Read> Read for RatioGuard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failure.is_some() {
            return Err(io::Error::other("archive entry unreadable"));
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failure = Some(CopyError::Io(e));
                return Err(copy);
            }
        };
        self.copied += n as u64;
        let unpacked = self.unpacked_before + self.copied;
        if unpacked > self.limits.ratio_floor_bytes {
            let ratio = unpacked / self.packed.get().max(1);
            if ratio > self.limits.max_ratio {
                self.failure = Some(CopyError::Bomb(ratio));
                return Err(io::Error::other("decompression bomb"));
            }
        }
        Ok(n)
    }
}

/// Reads and checks `manifest.json` under `root`.
pub fn read_manifest(source: &Path, root: &Path) -> Result<Manifest, BundleError> {
    let path = root.join(layout::MANIFEST);
    let data = match fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(BundleError::NoManifest {
                file: source.to_path_buf(),
            });
        }
        Err(e) => return Err(BundleError::io(&source.join(layout::MANIFEST), e)),
    };
    let manifest: Manifest = serde_json::from_slice(&data).map_err(|e| BundleError::Json {
        file: source.join(layout::MANIFEST),
        line: e.line() as u64,
        message: e.to_string(),
    })?;
    match manifest.format_major() {
        Some(major) if major <= FORMAT_MAJOR => Ok(manifest),
        _ => Err(BundleError::NewerFormat {
            file: source.to_path_buf(),
            found: manifest.format_version.clone(),
            supported: FORMAT_MAJOR,
        }),
    }
}

/// Checks that the files under `root` are exactly those the manifest lists, with the listed
/// sizes and checksums, and that every NDJSON file holds one JSON object per line: the lines
/// over the line limit, which are not checked.
///
/// `checked` holds what unpacking already learnt of each file ([`unpack`]); files it does not
/// hold (a bundle directory used in place) are read here.
fn verify_entries(
    source: &Path,
    root: &Path,
    manifest: &Manifest,
    limits: &Limits,
    checked: &mut Checked,
) -> Result<Vec<OversizedObject>, BundleError> {
    let mut listed = std::collections::HashSet::new();
    let mut oversized = Vec::new();
    for entry in &manifest.entries {
        let rel = safe_relative_path(&entry.path).ok_or_else(|| {
            BundleError::unsafe_entry(source, &entry.path, "manifest lists an unsafe path")
        })?;
        if !listed.insert(rel.clone()) {
            return Err(BundleError::unsafe_entry(
                source,
                &entry.path,
                "listed twice in the manifest",
            ));
        }
        let path = root.join(&rel);
        let meta = fs::symlink_metadata(&path).map_err(|_| BundleError::Missing {
            file: source.to_path_buf(),
            entry: entry.path.clone(),
        })?;
        if !meta.file_type().is_file() {
            return Err(BundleError::unsafe_entry(
                source,
                &entry.path,
                "not a regular file",
            ));
        }
        if meta.len() != entry.size {
            return Err(BundleError::Checksum {
                file: source.to_path_buf(),
                entry: entry.path.clone(),
                detail: format!("size {} but the manifest says {}", meta.len(), entry.size),
            });
        }
        let ndjson = entry.path.ends_with(layout::NDJSON_EXT);
        let result = match checked.remove(&rel) {
            Some(result) => result,
            None => hash_and_validate(&path, ndjson, limits),
        };
        let (digest, long_lines) = result.map_err(|e| match e {
            ValidateError::Io(e) => BundleError::io(&source.join(&entry.path), e),
            ValidateError::Json { line, message } => BundleError::Json {
                file: source.join(&entry.path),
                line,
                message,
            },
        })?;
        if digest != entry.sha256 {
            return Err(BundleError::Checksum {
                file: source.to_path_buf(),
                entry: entry.path.clone(),
                detail: "sha256 does not match the manifest".into(),
            });
        }
        oversized.extend(long_lines.into_iter().map(|line| OversizedObject {
            entry: entry.path.clone(),
            line,
        }));
    }
    // Anything on disk the manifest does not list was smuggled in (or the manifest is stale).
    for file in walk_files(source, root)? {
        let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        if rel == Path::new(layout::MANIFEST) {
            continue;
        }
        if !listed.contains(&rel) {
            return Err(BundleError::unsafe_entry(
                source,
                &rel.to_string_lossy(),
                "not listed in the manifest",
            ));
        }
    }
    Ok(oversized)
}

/// SHA-256 of a file; for NDJSON, also checks that each non-empty line is a JSON object and
/// lists the lines over the limit.
fn hash_and_validate(
    path: &Path,
    ndjson: bool,
    limits: &Limits,
) -> Result<(String, Vec<LongLine>), ValidateError> {
    let file = File::open(path).map_err(ValidateError::Io)?;
    hash_and_validate_stream(BufReader::with_capacity(1 << 20, file), ndjson, limits)
}

/// [`hash_and_validate`] of a file's bytes as `reader` yields them.
fn hash_and_validate_stream(
    mut reader: impl BufRead,
    ndjson: bool,
    limits: &Limits,
) -> Result<(String, Vec<LongLine>), ValidateError> {
    if ndjson {
        return crate::ndjson::hash_and_validate(reader, limits.max_line_bytes);
    }
    let mut hasher = Sha256::new();
    io::copy(&mut reader, &mut hasher).map_err(ValidateError::Io)?;
    Ok((hex::encode(hasher.finalize()), Vec::new()))
}

/// Rejects links and special files anywhere in an unpacked bundle directory.
fn check_directory(root: &Path) -> Result<(), BundleError> {
    walk_files(root, root).map(|_| ())
}

/// Regular files under `dir`; a link or special file is an error.
fn walk_files(source: &Path, dir: &Path) -> Result<Vec<PathBuf>, BundleError> {
    walk_directory(source, dir, Links::Refuse).map(|walk| walk.files)
}

/// What [`walk_directory`] found.
#[derive(Debug, Default)]
pub struct DirectoryWalk {
    /// Regular files, sorted.
    pub files: Vec<PathBuf>,
    /// Links left alone (only with [`Links::Skip`]), relative to the directory.
    pub links: Vec<String>,
}

/// Regular files under `dir` (errors name `source` instead of `dir`); links are refused or
/// skipped per `links`, never followed; any other special file is an error.
pub fn walk_directory(
    source: &Path,
    dir: &Path,
    links: Links,
) -> Result<DirectoryWalk, BundleError> {
    let mut walk = DirectoryWalk::default();
    // Errors name the bundle the user gave, not the work directory it was unpacked into.
    let shown = |p: &Path| source.join(p.strip_prefix(dir).unwrap_or(p));
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(|e| BundleError::io(&shown(&d), e))? {
            let entry = entry.map_err(|e| BundleError::io(&shown(&d), e))?;
            let kind = entry
                .file_type()
                .map_err(|e| BundleError::io(&shown(&entry.path()), e))?;
            let path = entry.path();
            let rel = || {
                path.strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned()
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                walk.files.push(path);
            } else if kind.is_symlink() && links == Links::Skip {
                walk.links.push(rel());
            } else {
                return Err(BundleError::unsafe_entry(
                    source,
                    &rel(),
                    "links and special files are not allowed",
                ));
            }
        }
    }
    walk.files.sort();
    walk.links.sort();
    Ok(walk)
}

/// A relative path made only of normal components, or `None`.
pub fn safe_relative_path(raw: &str) -> Option<PathBuf> {
    if raw.is_empty() || raw.contains('\0') || raw.contains('\\') {
        return None;
    }
    let path = Path::new(raw);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    }
}

fn entry_kind_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Fifo => "FIFO",
        tar::EntryType::GNUSparse => "sparse file",
        _ => "special",
    }
}

fn archive_error(source: &Path, e: io::Error) -> BundleError {
    let text = e.to_string();
    let truncated = e.kind() == io::ErrorKind::UnexpectedEof
        || text.contains("incomplete frame")
        || text.contains("unexpected end")
        || text.contains("failed to fill whole buffer")
        || text.contains("Unexpected EOF");
    if truncated {
        BundleError::Truncated {
            file: source.to_path_buf(),
        }
    } else {
        BundleError::Corrupt {
            file: source.to_path_buf(),
            detail: one_line(&text, 160),
        }
    }
}

/// Decoder messages can quote the hostile bytes themselves: keep them to one short line.
fn one_line(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() > max {
        format!("{}…", clean.chars().take(max).collect::<String>())
    } else {
        clean
    }
}

enum CopyError {
    Io(io::Error),
    Bomb(u64),
}

/// Counts bytes read from the packed file, for the compression-ratio check.
struct CountingReader<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R> CountingReader<R> {
    fn new(inner: R) -> Self {
        CountingReader {
            inner,
            count: Default::default(),
        }
    }
    fn counter(&self) -> std::rc::Rc<std::cell::Cell<u64>> {
        self.count.clone()
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.count.set(self.count.get() + amt as u64);
        self.inner.consume(amt)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacking_never_brings_back_a_removed_destination() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dest = tmp.path().join("work").join("bundle-0");
        fs::create_dir(tmp.path().join("work")).expect("the work directory");
        create_dest(&dest).expect("the destination is created at the start");
        create_dirs_below(&dest, Path::new("cluster/v1")).expect("entries below it");
        assert!(dest.join("cluster/v1").is_dir());
        create_dirs_below(&dest, Path::new("cluster/v1")).expect("existing levels are fine");

        // What a signal does meanwhile: the work directory goes.
        fs::remove_dir_all(tmp.path().join("work")).expect("remove");
        let err =
            create_dirs_below(&dest, Path::new("logs/ns")).expect_err("nothing to unpack into");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            !tmp.path().join("work").exists(),
            "the work directory came back"
        );
        // Nor when the signal comes before unpacking started.
        let err = create_dest(&dest).expect_err("no work directory to unpack into");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            !tmp.path().join("work").exists(),
            "the work directory came back"
        );
    }
}
