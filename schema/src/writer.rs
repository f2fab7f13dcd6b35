//! Writes a bundle: one `tar` stream inside one `zstd` frame, every entry checksummed, the
//! manifest written last so it can list them all.
//!
//! Headers are deterministic (fixed mtime, uid/gid 0, mode 0644), so the same content gives the
//! same archive byte for byte.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use crate::layout;
use crate::manifest::{Entry, Manifest};

/// How to write.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// zstd level (1..=19).
    pub level: i32,
    /// log2 of zstd's long-distance-matching window, or `None` for none. Objects of one
    /// kind repeat the same keys and values across a whole resource file, far beyond the
    /// window of a plain level: matching across 16 MiB makes bundles about 12% smaller at
    /// the same speed. Decoders accept windows up to 2^27 by default.
    pub long_window_log: Option<u32>,
    /// zstd worker threads; 0 compresses on the calling thread.
    pub workers: u32,
    /// Modification time stamped on every entry (seconds since the epoch).
    pub mtime: u64,
}

impl Default for WriterOptions {
    fn default() -> Self {
        // Measured on the objects of a 150,000-pod cluster (docs/benchmarks.md): level 8
        // with a 64 MiB long-distance window is 0.49x the size of the same objects as gzip'd
        // JSON (16 MiB: 0.51x) and needs about 90 MiB (16 MiB: 40). One worker thread:
        // zstd's multi-threaded mode compresses that data 4% smaller and 1.6x faster than
        // its single-threaded one, and the caller no longer waits for compression.
        WriterOptions {
            level: 8,
            long_window_log: Some(26),
            workers: 1,
            mtime: 0,
        }
    }
}

/// Counts bytes written and drops them.
struct CountingWriter(u64);

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Streams entries into a `.tar.zst`.
pub struct BundleWriter<W: Write> {
    tar: tar::Builder<zstd::Encoder<'static, W>>,
    entries: Vec<Entry>,
    paths: HashSet<String>,
    mtime: u64,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle on `out`.
    pub fn new(out: W, options: &WriterOptions) -> io::Result<Self> {
        let mut encoder = zstd::Encoder::new(out, options.level)?;
        if let Some(window_log) = options.long_window_log {
            encoder.long_distance_matching(true)?;
            encoder.window_log(window_log)?;
        }
        if options.workers > 0 {
            encoder.multithread(options.workers)?;
        }
        let mut tar = tar::Builder::new(encoder);
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(BundleWriter {
            tar,
            entries: Vec::new(),
            paths: HashSet::new(),
            mtime: options.mtime,
        })
    }

    /// Adds one file from memory.
    pub fn add_bytes(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        self.add_reader(path, data.len() as u64, data, None)
    }

    /// Adds one file of exactly `size` bytes read from `reader`; `truncated` records why the
    /// content was cut short, when it was.
    pub fn add_reader(
        &mut self,
        path: &str,
        size: u64,
        reader: impl Read,
        truncated: Option<String>,
    ) -> io::Result<()> {
        check_path(path)?;
        if path == layout::MANIFEST || !self.paths.insert(path.to_string()) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("bundle entry {path} written twice"),
            ));
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        let mut hashing = HashingReader {
            inner: reader.take(size),
            hasher: Sha256::new(),
            count: 0,
        };
        self.tar.append_data(&mut header, path, &mut hashing)?;
        if hashing.count != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "bundle entry {path}: expected {size} bytes, got {}",
                    hashing.count
                ),
            ));
        }
        self.entries.push(Entry {
            path: path.to_string(),
            size,
            sha256: hex::encode(hashing.hasher.finalize()),
            truncated,
        });
        Ok(())
    }

    /// Entries written so far.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Bytes handed to the output so far is not tracked by zstd; this counts entry payloads.
    pub fn payload_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }

    /// Writes `manifest` (its `entries` replaced by what was written) and closes the archive.
    /// Without this the archive is truncated.
    pub fn finish(self, manifest: Manifest) -> io::Result<W> {
        self.finish_with(manifest).map(|(out, _)| out)
    }

    /// [`finish`](Self::finish), also handing back the manifest as written (with its entries).
    pub fn finish_with(mut self, mut manifest: Manifest) -> io::Result<(W, Manifest)> {
        manifest.entries = std::mem::take(&mut self.entries);
        // A manifest lists every entry and gap (hundreds of thousands in a large cluster):
        // it is serialised twice, once to learn its size for the tar header and once into
        // the archive, rather than held as text.
        let mut counter = CountingWriter(0);
        serde_json::to_writer_pretty(&mut counter, &manifest).map_err(io::Error::other)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(counter.0);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_path(layout::MANIFEST)?;
        header.set_cksum();
        let out = self.tar.get_mut();
        out.write_all(header.as_bytes())?;
        serde_json::to_writer_pretty(&mut *out, &manifest).map_err(io::Error::other)?;
        // Entries are padded to whole 512-byte blocks.
        let padding = (512 - counter.0 % 512) % 512;
        out.write_all(&[0u8; 512][..padding as usize])?;
        let encoder = self.tar.into_inner()?;
        Ok((encoder.finish()?, manifest))
    }
}

fn check_path(path: &str) -> io::Result<()> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && path.split('/').all(layout::is_safe_component);
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unsafe bundle path {path:?}"),
        ))
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
