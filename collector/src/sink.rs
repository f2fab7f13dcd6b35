//! The archive writer: one blocking thread owns the [`BundleWriter`] (tar inside zstd) and
//! takes finished entries from a bounded channel, so collection tasks never block on
//! compression and memory stays bounded by the channel's few slots.

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::sync::Arc;

use ktriage_schema::Manifest;
use ktriage_schema::writer::{BundleWriter, WriterOptions};
use tokio::sync::mpsc;

/// Entries waiting for the writer at most.
const QUEUE: usize = 8;

/// One entry for the archive.
enum Job {
    Bytes {
        path: String,
        data: Vec<u8>,
        truncated: Option<String>,
    },
    File {
        path: String,
        file: File,
        size: u64,
    },
}

/// The writer has stopped (after an error, reported by [`Writer::finish`]).
#[derive(Debug, thiserror::Error)]
#[error("the bundle writer has stopped")]
pub struct SinkClosed;

/// Sends entries to the writer thread. Cheap to clone; the archive is closed once every
/// clone is dropped and [`Writer::finish`] is called.
#[derive(Clone)]
pub struct Sink {
    tx: mpsc::Sender<Job>,
}

impl Sink {
    /// Queues an entry held in memory.
    pub async fn bytes(
        &self,
        path: String,
        data: Vec<u8>,
        truncated: Option<String>,
    ) -> Result<(), SinkClosed> {
        self.tx
            .send(Job::Bytes {
                path,
                data,
                truncated,
            })
            .await
            .map_err(|_| SinkClosed)
    }

    /// Queues a spooled entry: `size` bytes of `file` from its current position.
    pub async fn file(&self, path: String, file: File, size: u64) -> Result<(), SinkClosed> {
        self.tx
            .send(Job::File { path, file, size })
            .await
            .map_err(|_| SinkClosed)
    }
}

type Output = BundleWriter<BufWriter<File>>;

/// The writer thread.
pub struct Writer {
    thread: std::thread::JoinHandle<io::Result<Output>>,
}

/// Starts the writer thread on `out`; `on_written` hears the payload size of each entry.
pub fn spawn(out: File, on_written: Arc<dyn Fn(u64) + Send + Sync>) -> io::Result<(Sink, Writer)> {
    let options = WriterOptions {
        mtime: chrono::Utc::now().timestamp().max(0) as u64,
        ..Default::default()
    };
    let mut bundle = BundleWriter::new(BufWriter::with_capacity(1 << 20, out), &options)?;
    let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
    let thread = std::thread::Builder::new()
        .name("bundle-writer".into())
        .spawn(move || {
            while let Some(job) = rx.blocking_recv() {
                let (path, size, result) = match job {
                    Job::Bytes {
                        path,
                        data,
                        truncated,
                    } => {
                        let result =
                            bundle.add_reader(&path, data.len() as u64, data.as_slice(), truncated);
                        (path, data.len() as u64, result)
                    }
                    Job::File { path, file, size } => {
                        let result = bundle.add_reader(
                            &path,
                            size,
                            BufReader::with_capacity(256 * 1024, file),
                            None,
                        );
                        (path, size, result)
                    }
                };
                result.map_err(|e| io::Error::new(e.kind(), format!("writing {path}: {e}")))?;
                on_written(size);
            }
            Ok(bundle)
        })?;
    Ok((Sink { tx }, Writer { thread }))
}

impl Writer {
    /// Waits for every queued entry (all [`Sink`]s must be dropped), then writes the manifest
    /// and closes the archive. Returns the flushed output file and the manifest as written
    /// (with its entries).
    pub async fn finish(self, manifest: Manifest) -> io::Result<(File, Manifest)> {
        tokio::task::spawn_blocking(move || {
            let bundle = self
                .thread
                .join()
                .map_err(|_| io::Error::other("the bundle writer thread panicked"))??;
            let mut written = manifest.clone();
            written.entries = bundle.entries().to_vec();
            let out = bundle.finish(manifest)?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok((file, written))
        })
        .await
        .map_err(io::Error::other)?
    }
}
