//! Writing Parquet files into the export tree without a reader or another writer ever
//! seeing half a file.
//!
//! Each file is written into a fresh hidden temporary directory beside its partition
//! (`.tmp-…`: Spark, Trino and `ktriage fleet` skip names starting with `.`), synced, and
//! renamed over `part-0.parquet`: a rename within one directory tree replaces the old file
//! in one step. Temporary directories are unique to the writer, so exports of different
//! bundles (or the same bundle twice) never write to the same file.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use duckdb::Connection;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tempfile::TempDir;

use super::partition;
use super::tables::{PART_FILE, Table};

/// One table's file for one bundle, written but not yet in place.
pub struct Staged {
    /// Removed (with the file, if it was not moved) when dropped.
    temp: TempDir,
    /// Where the file goes.
    pub target: PathBuf,
    /// Rows and bytes written.
    pub rows: u64,
    pub bytes: u64,
}

/// The partition directory of `table` for one bundle.
pub fn partition_dir(
    root: &Path,
    table: &str,
    cluster_id: &str,
    bundle_id: &str,
) -> Result<PathBuf> {
    Ok(root
        .join(table)
        .join(partition::dir_name("cluster_id", cluster_id)?)
        .join(partition::dir_name("bundle_id", bundle_id)?))
}

/// Writes `table`'s rows of `bundle_id` to a temporary file beside their partition.
pub fn stage(
    conn: &Connection,
    table: &Table,
    root: &Path,
    cluster_id: &str,
    bundle_id: &str,
) -> Result<Staged> {
    let target_dir = partition_dir(root, table.name, cluster_id, bundle_id)?;
    // Created now, so a partition that cannot be written fails before any file moves.
    fs::create_dir_all(&target_dir)
        .with_context(|| format!("creating {}", target_dir.display()))?;
    let parent = target_dir.parent().expect("partition has a parent");
    let temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(parent)
        .with_context(|| format!("creating a temporary directory in {}", parent.display()))?;
    let path = temp.path().join(PART_FILE);
    let mut stmt = conn
        .prepare(&table.select_sql())
        .with_context(|| format!("table {}", table.name))?;
    let batches = stmt
        .query_arrow([bundle_id])
        .with_context(|| format!("table {}", table.name))?;
    let schema = batches.get_schema();
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(format!("ktriage {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(props))
        .with_context(|| format!("writing {}", path.display()))?;
    let mut rows = 0u64;
    for batch in batches {
        rows += batch.num_rows() as u64;
        writer
            .write(&batch)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let file = writer
        .into_inner()
        .with_context(|| format!("writing {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    let bytes = file.metadata()?.len();
    Ok(Staged {
        temp,
        target: target_dir.join(PART_FILE),
        rows,
        bytes,
    })
}

impl Staged {
    /// Moves the file into place, replacing the previous export's in one step.
    pub fn commit(self) -> Result<()> {
        let dir = self.target.parent().expect("file has a directory");
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let staged = self.temp.path().join(PART_FILE);
        fs::rename(&staged, &self.target)
            .with_context(|| format!("moving {} into place", self.target.display()))?;
        Ok(())
    }
}

/// Removes `bundle_id`'s partitions of `table` filed under another cluster than
/// `cluster_id` (a re-export after the bundle's cluster changed).
pub fn remove_stale(root: &Path, table: &str, cluster_id: &str, bundle_id: &str) -> Result<()> {
    let table_dir = root.join(table);
    let Ok(entries) = fs::read_dir(&table_dir) else {
        return Ok(());
    };
    let keep = partition::dir_name("cluster_id", cluster_id)?;
    let bundle = partition::dir_name("bundle_id", bundle_id)?;
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_str() == Some(keep.as_str()) {
            continue;
        }
        let stale = entry.path().join(&bundle);
        if stale.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            fs::remove_dir_all(&stale).with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    Ok(())
}

/// Writes `_ktriage_schema.json` when missing (atomically: temp file and rename); refuses a
/// tree written with another schema version.
pub fn ensure_schema(root: &Path, text: &str) -> Result<()> {
    let path = root.join(super::SCHEMA_FILE);
    match fs::read_to_string(&path) {
        Ok(existing) if existing == text => return Ok(()),
        Ok(_) => bail!(
            "{} was written by another export schema version; export into an empty directory",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-schema-")
        .tempfile_in(root)
        .with_context(|| format!("writing in {}", root.display()))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
