//! `ktriage export`: a case's tables and findings as Hive-partitioned Parquet.
//!
//! Layout: `DIR/<table>/cluster_id=<c>/bundle_id=<b>/<generation>/part-0.parquet`, one
//! commit file per bundle naming its generation (`DIR/_ktriage_commits/bundle_id=<b>.json`),
//! and `DIR/_ktriage_schema.json`. A bundle's tables are replaced as one set: its new
//! generation is written whole, then its commit file is replaced in one step. The Parquet
//! files are written by the `parquet` crate from the Arrow batches DuckDB returns, so
//! `ktriage` needs no DuckDB Parquet extension (docs/fleet.md says why).

pub mod commit;
pub mod findings;
pub mod generation;
pub mod partition;
pub mod tables;
pub mod vacuum;
pub mod write;

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use duckdb::Connection;

use crate::rules::{Rule, RuleRun};
pub use tables::{SCHEMA_VERSION, TABLES, Table};

/// The schema file at the root of an export tree.
pub const SCHEMA_FILE: &str = "_ktriage_schema.json";

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub bundles: usize,
    pub files: usize,
    pub rows: u64,
    pub bytes: u64,
}

/// Writes `tables` of every bundle of the case loaded in `conn` into `root`, bundle by
/// bundle: a new generation of its files, then its commit. A failure leaves the bundle's
/// previous set as readers saw it, and removes what the failed export wrote of its own.
pub fn export_case(
    conn: &Connection,
    rules: &[Rule],
    runs: &[RuleRun],
    root: &Path,
    tables: &[&Table],
) -> Result<Summary> {
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    write::ensure_schema(root, &tables::schema_json())?;
    findings::prepare(conn, rules, runs)?;
    vacuum::temp_files(root, SystemTime::now())?;
    let mut summary = Summary::default();
    for (cluster_id, bundle_id) in findings::partitions(conn)? {
        vacuum::bundle(root, &bundle_id, SystemTime::now())?;
        let mut pending = generation::Pending::new(root, &cluster_id, &bundle_id);
        for table in tables {
            let dir = pending.create_dir(table.name)?;
            let written = write::write_part(conn, table, &dir, &bundle_id)?;
            summary.files += 1;
            summary.rows += written.rows;
            summary.bytes += written.bytes;
            crate::stop::check()?;
        }
        pending.sync()?;
        let commit = commit::Commit::new(&bundle_id, &cluster_id, &pending.name, tables)?;
        commit::write(root, &commit)?;
        pending.keep();
        commit::sync(root)?;
        summary.bundles += 1;
    }
    Ok(summary)
}
