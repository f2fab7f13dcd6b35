//! `ktriage export`: a case's tables and findings as Hive-partitioned Parquet.
//!
//! Layout: `DIR/<table>/cluster_id=<c>/bundle_id=<b>/part-0.parquet` plus
//! `DIR/_ktriage_schema.json`. The Parquet files are written by the `parquet` crate from the
//! Arrow batches DuckDB returns, so `ktriage` needs no DuckDB Parquet extension
//! (docs/fleet.md says why).

pub mod findings;
pub mod partition;
pub mod tables;
pub mod write;

use std::path::Path;

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

/// Writes `tables` of every bundle of the case loaded in `conn` into `root`. A bundle's
/// files are all written first, then moved into place one after another, so a failure
/// leaves its previous export as it was.
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
    let mut summary = Summary::default();
    for (cluster_id, bundle_id) in findings::partitions(conn)? {
        let mut staged = Vec::with_capacity(tables.len());
        for table in tables {
            staged.push(write::stage(conn, table, root, &cluster_id, &bundle_id)?);
            crate::stop::check()?;
        }
        for file in staged {
            summary.files += 1;
            summary.rows += file.rows;
            summary.bytes += file.bytes;
            file.commit()?;
        }
        for table in tables {
            write::remove_stale(root, table.name, &cluster_id, &bundle_id)?;
        }
        summary.bundles += 1;
    }
    Ok(summary)
}
