//! A case: one or more bundles opened safely and loaded into one database.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use duckdb::Connection;
use ktriage_schema::reader::{Limits, OpenBundle};

use crate::progress::Progress;

/// Bundles opened and loaded, ready for rules and queries.
pub struct Case {
    /// The database.
    pub conn: Connection,
    /// The bundles, in the order given.
    pub bundles: Vec<OpenBundle>,
    /// Wall time of each phase of opening: `open` (unpack and verify), `load`, `derive`,
    /// `timeline-table`.
    pub timings: Vec<(&'static str, Duration)>,
    /// Removes the unpacked bundles once loaded; declared before `_work`, so that it finishes
    /// before the work directory is removed.
    _sweeper: Sweeper,
    /// Unpacked archives and spill live here until the case is dropped; a signal that finds
    /// the case unable to unwind removes it ([`crate::stop`]).
    _work: tempfile::TempDir,
    _work_on_signal: crate::stop::WorkDir,
    /// Kept so a signal can interrupt the case's queries for as long as it is open.
    _interrupt: std::sync::Arc<duckdb::InterruptHandle>,
}

/// How to open a case.
#[derive(Debug, Clone, Default)]
pub struct CaseOptions {
    /// Limits on unpacking each bundle.
    pub limits: Limits,
    /// Memory the database may hold; `None` leaves DuckDB's default (80% of RAM).
    pub memory_limit_mib: Option<u64>,
    /// Disk the database may spill to, in MiB; 0 leaves DuckDB's default (90% of the free
    /// space).
    pub max_temp_mib: u64,
    /// Threads each query may use once the case is loaded; `None`: one per core. Rules run
    /// one per core, each on one thread: a query given more threads than it has work for
    /// keeps its own thread polling for tasks, taking a core from the rule beside it.
    pub query_threads: Option<usize>,
}

/// The database's spill directory inside the work directory, beside the unpacked bundles.
const SPILL_DIR: &str = "spill";

/// An input the user named that could not be used: exit code 2, one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl Case {
    /// Opens `paths` (archives or directories) and loads them.
    pub fn open(paths: &[PathBuf], options: &CaseOptions, progress: &Progress) -> Result<Case> {
        let (work, work_on_signal) =
            crate::stop::WorkDir::create("ktriage-").context("creating a work directory")?;
        let mut timings = Vec::new();
        let mut phase = Instant::now();
        let mut bundles = Vec::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            let spinner = progress.spinner(&format!("checking {}", path.display()));
            let dest = work.path().join(format!("bundle-{i}"));
            let opened = crate::foreign::open(path, &dest, &options.limits, progress)?;
            spinner.finish_and_clear();
            bundles.extend(opened);
            crate::stop::check()?;
        }
        timings.push(("open", phase.elapsed()));
        phase = Instant::now();
        let spill = work.path().join(SPILL_DIR);
        let conn = crate::db::open(&spill, options.memory_limit_mib, options.max_temp_mib)?;
        let interrupt = conn.interrupt_handle();
        crate::stop::watch(&interrupt);
        let files: u64 = bundles
            .iter()
            .map(|b| b.manifest.entries.len() as u64)
            .sum();
        let bar = progress.bar(files, "loading");
        for bundle in &bundles {
            crate::load::load_bundle(&conn, bundle, options.limits.max_line_bytes, &|path| {
                bar.set_message(short(path));
                bar.inc(1);
            })
            .map_err(|e| match crate::stop::requested() {
                Some(signal) => anyhow::Error::new(signal),
                None => anyhow::Error::new(BadInput(format!("{e:#}"))),
            })?;
        }
        bar.finish_and_clear();
        let sweeper = Sweeper::start(work.path());
        timings.push(("load", phase.elapsed()));
        phase = Instant::now();
        let spinner = progress.spinner("building tables");
        crate::db::derive(&conn).map_err(interrupted_or)?;
        timings.push(("derive", phase.elapsed()));
        phase = Instant::now();
        crate::db::derive_timeline(&conn).map_err(interrupted_or)?;
        crate::db::seal(&conn, options.query_threads)?;
        spinner.finish_and_clear();
        timings.push(("timeline-table", phase.elapsed()));
        Ok(Case {
            conn,
            bundles,
            timings,
            _sweeper: sweeper,
            _work: work,
            _work_on_signal: work_on_signal,
            _interrupt: interrupt,
        })
    }

    /// Where a bundle came from, for messages.
    pub fn describe(&self) -> String {
        self.bundles
            .iter()
            .map(|b| b.source.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Removes the unpacked bundles from the work directory on a thread of its own. They are
/// only read while loading, and removing them (1.2 GB at L) takes most of a second that
/// would otherwise come after the reports. Joined when dropped. A signal meanwhile removes
/// the whole work directory as always (that removal retries while files vanish under it).
struct Sweeper(Option<std::thread::JoinHandle<()>>);

impl Sweeper {
    fn start(work: &Path) -> Sweeper {
        let work = work.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("sweeper".into())
            .spawn(move || {
                let Ok(entries) = std::fs::read_dir(&work) else {
                    return;
                };
                for entry in entries.flatten() {
                    if entry.file_name() != SPILL_DIR {
                        // What is left is removed with the work directory.
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            })
            .ok();
        Sweeper(handle)
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

/// A query that failed because a signal interrupted it reports the signal.
fn interrupted_or(e: anyhow::Error) -> anyhow::Error {
    match crate::stop::requested() {
        Some(signal) => anyhow::Error::new(signal),
        None => e,
    }
}

fn short(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
