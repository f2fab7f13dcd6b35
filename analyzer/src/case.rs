//! A case: one or more bundles opened safely and loaded into one database.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use duckdb::Connection;
use ktriage_schema::reader::{self, Limits, OpenBundle};

use crate::progress::Progress;

/// Bundles opened and loaded, ready for rules and queries.
pub struct Case {
    /// The database.
    pub conn: Connection,
    /// The bundles, in the order given.
    pub bundles: Vec<OpenBundle>,
    /// Wall time of each phase of opening: `open` (unpack and verify), `load`, `derive`.
    pub timings: Vec<(&'static str, Duration)>,
    /// Unpacked archives live here until the case is dropped.
    _work: tempfile::TempDir,
}

/// How to open a case.
#[derive(Debug, Clone, Default)]
pub struct CaseOptions {
    /// Limits on unpacking each bundle.
    pub limits: Limits,
    /// Memory the database may hold; `None` leaves DuckDB's default (80% of RAM).
    pub memory_limit_mib: Option<u64>,
    /// Threads each query may use once the case is loaded; `None`: one per core. Rules run
    /// one per core, each on one thread: a query given more threads than it has work for
    /// keeps its own thread polling for tasks, taking a core from the rule beside it.
    pub query_threads: Option<usize>,
}

/// An input the user named that could not be used: exit code 2, one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl Case {
    /// Opens `paths` (archives or directories) and loads them.
    pub fn open(paths: &[PathBuf], options: &CaseOptions, progress: &Progress) -> Result<Case> {
        let work = tempfile::Builder::new()
            .prefix("ktriage-")
            .tempdir()
            .context("creating a work directory")?;
        let mut timings = Vec::new();
        let mut phase = Instant::now();
        let mut bundles = Vec::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            let spinner = progress.spinner(&format!("checking {}", path.display()));
            let dest = work.path().join(format!("bundle-{i}"));
            let bundle =
                reader::open(path, &dest, &options.limits).map_err(|e| BadInput(e.to_string()))?;
            spinner.finish_and_clear();
            bundles.push(bundle);
        }
        timings.push(("open", phase.elapsed()));
        phase = Instant::now();
        let spill = work.path().join("spill");
        let conn = crate::db::open(&spill, options.memory_limit_mib)?;
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
            .map_err(|e| BadInput(format!("{e:#}")))?;
        }
        bar.finish_and_clear();
        timings.push(("load", phase.elapsed()));
        phase = Instant::now();
        let spinner = progress.spinner("building tables");
        crate::db::derive(&conn)?;
        crate::db::seal(&conn, options.query_threads)?;
        spinner.finish_and_clear();
        timings.push(("derive", phase.elapsed()));
        Ok(Case {
            conn,
            bundles,
            timings,
            _work: work,
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

fn short(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
