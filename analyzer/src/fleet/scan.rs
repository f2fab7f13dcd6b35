//! Finding the committed data files of an export tree and checking its schema file.
//!
//! Only what a commit file names is read: generations being written, superseded ones and
//! those a killed export left behind are not. Every directory on the way to a data file must
//! be a real directory and the file a regular file (no symbolic links).

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::case::BadInput;
use crate::export::commit::Commit;
use crate::export::tables::{PART_FILE, SCHEMA_VERSION, TABLES, schema_json};
use crate::export::{SCHEMA_FILE, Table};

/// One data file, opened, and the partition it belongs to.
pub struct Part {
    pub path: PathBuf,
    pub file: File,
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

/// The files of one committed set, in schema order, all opened (so a re-export that removes
/// them afterwards cannot take them away). `Ok(Err(path))` when a file the commit names is
/// missing: the commit was superseded and its generation removed since it was read.
pub fn open_set(
    root: &Path,
    commit: &Commit,
) -> Result<Result<Vec<(&'static Table, Part)>, PathBuf>> {
    let mut out = Vec::new();
    for table in TABLES.iter().filter(|t| commit.has(t.name)) {
        let file = commit
            .files
            .iter()
            .find(|f| f.table == table.name)
            .expect("the commit has the table");
        // The path was checked against the layout when the commit was read.
        let mut components: Vec<&str> = file.path.split('/').collect();
        components.pop();
        let mut path = root.to_path_buf();
        for component in components {
            path.push(component);
            match kind(&path)? {
                Some(Kind::Dir) => {}
                Some(_) => bail!(BadInput(format!("{}: not a directory", shown(&path)))),
                None => return Ok(Err(path)),
            }
        }
        path.push(PART_FILE);
        match kind(&path)? {
            Some(Kind::File) => {}
            Some(_) => bail!(BadInput(format!("{}: not a regular file", shown(&path)))),
            None => return Ok(Err(path)),
        }
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Err(path)),
            Err(e) => return Err(e).with_context(|| format!("opening {}", shown(&path))),
        };
        out.push((
            table,
            Part {
                path,
                file,
                cluster_id: commit.cluster_id.clone(),
                bundle_id: commit.bundle_id.clone(),
            },
        ));
    }
    Ok(Ok(out))
}

enum Kind {
    Dir,
    File,
    Other,
}

/// What `path` is, without following a symbolic link; `None` when it does not exist.
fn kind(path: &Path) -> Result<Option<Kind>> {
    match path.symlink_metadata() {
        Ok(m) if m.is_dir() => Ok(Some(Kind::Dir)),
        Ok(m) if m.is_file() => Ok(Some(Kind::File)),
        Ok(_) => Ok(Some(Kind::Other)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", shown(path))),
    }
}

fn shown(path: &Path) -> String {
    crate::one_line(&path.display().to_string())
}
