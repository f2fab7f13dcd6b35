//! Removing what no reader reads any more: a bundle's generations its commit does not name
//! (superseded by a re-export, or left by a killed one), and temporary files of killed
//! exports.
//!
//! Nothing is removed before [`GRACE`]: a reader that read the previous commit may still be
//! reading the generation a re-export superseded, and another export of the same bundle may
//! still be writing its own. So a generation goes only when it is older than the grace
//! period *and* so is the commit (it was superseded at the latest when that commit was
//! written). Each export tidies the bundles it exports before writing them.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use super::tables::{COMMIT_DIR, TABLES};
use super::{commit, generation, partition};

/// How long an unreferenced generation or temporary file is kept.
pub const GRACE: Duration = Duration::from_secs(60 * 60);

/// Removes `bundle_id`'s generations its commit does not name, in every table and under
/// every cluster, when the grace period allows; returns how many directories went.
pub fn bundle(root: &Path, bundle_id: &str, now: SystemTime) -> Result<usize> {
    let committed = commit::read(&commit::path(root, bundle_id)?)?;
    if let Some((_, written)) = &committed
        && !older_than_grace(*written, now)
    {
        return Ok(0);
    }
    let committed = committed
        .map(|(c, _)| {
            partition::dir_name("cluster_id", &c.cluster_id).map(|cluster_dir| (c, cluster_dir))
        })
        .transpose()?;
    let bundle_dir = partition::dir_name("bundle_id", bundle_id)?;
    let mut removed = 0;
    for table in TABLES {
        for cluster in subdirs(&root.join(table.name))? {
            let cluster_name = cluster.file_name().to_string_lossy().into_owned();
            if partition::parse("cluster_id", &cluster_name).is_none() {
                continue;
            }
            for generation in subdirs(&cluster.path().join(&bundle_dir))? {
                let name = generation.file_name().to_string_lossy().into_owned();
                let named = committed.as_ref().is_some_and(|(c, cluster_dir)| {
                    *cluster_dir == cluster_name && c.generation == name && c.has(table.name)
                });
                if !generation::is_name(&name) || named {
                    continue;
                }
                let path = generation.path();
                let modified = generation
                    .metadata()
                    .and_then(|m| m.modified())
                    .with_context(|| format!("reading {}", path.display()))?;
                if older_than_grace(modified, now) {
                    match fs::remove_dir_all(&path) {
                        Ok(()) => removed += 1,
                        // Another export tidying the same bundle was first.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(e).with_context(|| format!("removing {}", path.display()));
                        }
                    }
                }
            }
        }
    }
    Ok(removed)
}

/// Removes temporary files (`.tmp-…`) of killed exports from the tree's root and its
/// commit directory, when older than the grace period.
pub fn temp_files(root: &Path, now: SystemTime) -> Result<()> {
    for dir in [root.to_path_buf(), root.join(COMMIT_DIR)] {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            if !entry.file_name().to_string_lossy().starts_with(".tmp-") {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_file() && meta.modified().is_ok_and(|m| older_than_grace(m, now)) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

fn older_than_grace(time: SystemTime, now: SystemTime) -> bool {
    now.duration_since(time).is_ok_and(|age| age >= GRACE)
}

/// The real subdirectories of `dir` (no symbolic links); none when it does not exist.
fn subdirs(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(entry);
        }
    }
    Ok(out)
}
