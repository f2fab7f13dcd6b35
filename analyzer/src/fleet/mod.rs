//! `ktriage fleet`: SQL over an export tree, every table across all its bundles.

pub mod load;
pub mod queries;
pub mod scan;

use std::path::Path;

use anyhow::{Context, Result};
use duckdb::Connection;

use crate::progress::Progress;

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
        let mut parts = Vec::new();
        for table in crate::export::TABLES {
            conn.execute_batch(&table.create_sql())
                .with_context(|| format!("creating table {}", table.name))?;
            for part in scan::parts(root, table)? {
                parts.push((table, part));
            }
        }
        let bar = progress.bar(parts.len() as u64, "loading");
        let mut bundles = std::collections::BTreeSet::new();
        for (table, part) in &parts {
            load::append(&conn, table, part)?;
            bundles.insert((part.cluster_id.clone(), part.bundle_id.clone()));
            bar.inc(1);
            crate::stop::check()?;
        }
        bar.finish_and_clear();
        crate::db::seal(&conn, None)?;
        Ok(Fleet {
            conn,
            files: parts.len(),
            bundles: bundles.len(),
            _work: work,
            _work_on_signal: work_on_signal,
        })
    }
}
