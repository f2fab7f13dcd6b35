//! Finding the data files of an export tree and checking its schema file.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::case::BadInput;
use crate::export::partition;
use crate::export::tables::{PART_FILE, PARTITION_KEYS, SCHEMA_VERSION, schema_json};
use crate::export::{SCHEMA_FILE, Table};

/// One data file and the partition it belongs to.
pub struct Part {
    pub path: PathBuf,
    pub cluster_id: String,
    pub bundle_id: String,
}

/// Checks that `root` is an export tree of this schema version.
pub fn check_schema(root: &Path) -> Result<()> {
    let path = root.join(SCHEMA_FILE);
    let text = fs::read_to_string(&path).map_err(|e| {
        BadInput(format!(
            "{}: {e} (not a ktriage export directory?)",
            path.display()
        ))
    })?;
    if text != schema_json() {
        let version = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("version").and_then(|v| v.as_u64()));
        bail!(BadInput(format!(
            "{}: export schema version {} is not the version {SCHEMA_VERSION} this ktriage reads",
            path.display(),
            version.map_or_else(|| "unknown".to_string(), |v| v.to_string())
        )));
    }
    Ok(())
}

/// The data files of `table` under `root`, sorted by partition. Names starting with `.` or
/// `_` (temporary files of a running export) are skipped; anything else that is not a
/// `key=value` directory or a regular file is refused.
pub fn parts(root: &Path, table: &Table) -> Result<Vec<Part>> {
    let table_dir = root.join(table.name);
    let mut out = Vec::new();
    for (cluster_dir, cluster_id) in partitions(&table_dir, PARTITION_KEYS[0])? {
        for (bundle_dir, bundle_id) in partitions(&cluster_dir, PARTITION_KEYS[1])? {
            let path = bundle_dir.join(PART_FILE);
            match path.symlink_metadata() {
                Ok(m) if m.is_file() => out.push(Part {
                    path,
                    cluster_id: cluster_id.clone(),
                    bundle_id,
                }),
                Ok(_) => bail!(BadInput(format!("{}: not a regular file", path.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
            }
        }
    }
    Ok(out)
}

/// The `key=value` subdirectories of `dir` with their decoded values, sorted by name.
fn partitions(dir: &Path, key: &str) -> Result<Vec<(PathBuf, String)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        let value = partition::parse(key, &name).ok_or_else(|| {
            BadInput(format!(
                "{}: not a {key}=… partition directory",
                crate::one_line(&path.display().to_string())
            ))
        })?;
        if !entry.file_type()?.is_dir() {
            bail!(BadInput(format!(
                "{}: not a directory",
                crate::one_line(&path.display().to_string())
            )));
        }
        out.push((path, value));
    }
    out.sort();
    Ok(out)
}
