//! Writing one table's Parquet file of one bundle into its generation directory, and the
//! tree's schema file.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use duckdb::Connection;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::partition;
use super::tables::{PART_FILE, Table};

/// Rows and bytes of a written file.
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
}

/// The partition directory of `table` for one bundle; its generations live inside.
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

/// Writes `table`'s rows of `bundle_id` to `dir/part-0.parquet` and syncs it. `dir` is a
/// new generation's, which no reader opens before the commit.
pub fn write_part(
    conn: &Connection,
    table: &Table,
    dir: &Path,
    bundle_id: &str,
) -> Result<Written> {
    let path = dir.join(PART_FILE);
    let mut stmt = conn
        .prepare(&table.select_sql())
        .with_context(|| format!("table {}", table.name))?;
    let batches = stmt
        .query_arrow([bundle_id])
        .with_context(|| format!("table {}", table.name))?;
    let schema = batches.get_schema();
    let file = File::create_new(&path).with_context(|| format!("creating {}", path.display()))?;
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
    Ok(Written { rows, bytes })
}

/// Makes the entries of `dir` durable (a new file or directory in it, a rename).
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
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
