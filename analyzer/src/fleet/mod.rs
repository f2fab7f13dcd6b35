//! `ktriage fleet`: SQL over an export tree, every table across all its bundles.

pub mod load;
pub mod queries;
pub mod scan;

use std::path::Path;

use anyhow::{Context, Result, bail};
use duckdb::Connection;

use crate::case::BadInput;
use crate::export::Table;
use crate::export::commit::{self, Commit};
use crate::progress::Progress;

/// How often a bundle's commit may change while it is being opened before loading gives up.
const OPEN_ATTEMPTS: usize = 5;

/// An export tree loaded into DuckDB and sealed like a case.
pub struct Fleet {
    pub conn: Connection,
    /// Data files and bundles loaded.
    pub files: usize,
    pub bundles: usize,
    /// Spill lives here until the fleet is dropped.
    _work: tempfile::TempDir,
    _work_on_signal: crate::stop::WorkDir,
}

/// Limits of the fleet database (`ktriage sql`'s).
pub struct Options {
    pub memory_limit_mib: Option<u64>,
    pub max_temp_mib: u64,
}

impl Fleet {
    /// Loads every table of the export tree at `root`, then switches off file access and
    /// locks the configuration: queries cannot reach the file system or load extensions.
    pub fn open(root: &Path, options: &Options, progress: &Progress) -> Result<Fleet> {
        scan::check_schema(root)?;
        let (work, work_on_signal) =
            crate::stop::WorkDir::create("ktriage-fleet-").context("creating a work directory")?;
        let conn = crate::db::open_empty(
            &work.path().join("spill"),
            options.memory_limit_mib,
            options.max_temp_mib,
        )?;
        crate::stop::watch(&conn.interrupt_handle());
        for table in crate::export::TABLES {
            conn.execute_batch(&table.create_sql())
                .with_context(|| format!("creating table {}", table.name))?;
        }
        let commits = commit::list(root)?;
        let bar = progress.bar(commits.len() as u64, "loading");
        let (mut files, mut bundles) = (0, 0);
        // One transaction for the whole load: committed file by file, DuckDB compressed the
        // tables' row groups again at every file (thousands of them in a large tree).
        conn.execute_batch("BEGIN TRANSACTION")?;
        for commit in commits {
            if let Some(parts) = open_committed(root, commit)? {
                for (table, part) in parts {
                    load::append(&conn, table, part)?;
                    files += 1;
                }
                bundles += 1;
            }
            bar.inc(1);
            crate::stop::check()?;
        }
        conn.execute_batch("COMMIT")?;
        bar.finish_and_clear();
        crate::db::seal(&conn, None)?;
        Ok(Fleet {
            conn,
            files,
            bundles,
            _work: work,
            _work_on_signal: work_on_signal,
        })
    }
}

/// The opened files of `commit`'s set. When a file is missing, its generation was
/// superseded and removed meanwhile: the bundle's current commit is read again and its set
/// opened instead, so a bundle is always loaded from one set. `None` when the bundle's
/// commit is gone.
fn open_committed(
    root: &Path,
    mut commit: Commit,
) -> Result<Option<Vec<(&'static Table, scan::Part)>>> {
    let commit_path = commit::path(root, &commit.bundle_id)?;
    for _ in 0..OPEN_ATTEMPTS {
        let missing = match scan::open_set(root, &commit)? {
            Ok(parts) => return Ok(Some(parts)),
            Err(missing) => missing,
        };
        match commit::read(&commit_path)? {
            None => return Ok(None),
            Some((current, _)) if current == commit => bail!(BadInput(format!(
                "{}: missing, though {} names it",
                crate::one_line(&missing.display().to_string()),
                crate::one_line(&commit_path.display().to_string())
            ))),
            Some((current, _)) => commit = current,
        }
    }
    bail!(BadInput(format!(
        "{}: changed {OPEN_ATTEMPTS} times while being read",
        crate::one_line(&commit_path.display().to_string())
    )))
}
