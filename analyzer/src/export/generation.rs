//! Generations: the files one export wrote for one bundle, in a directory of their own per
//! table (`DIR/<table>/cluster_id=…/bundle_id=…/gen-…/part-0.parquet`).
//!
//! A generation is invisible to readers until the bundle's commit file names it
//! ([`super::commit`]), so it is written in place, with no temporary names: nothing else
//! writes into it, and a reader never opens it before it is complete. A generation the export
//! does not commit (an error, a signal) is removed when its [`Pending`] drops; one left by a
//! killed export is ignored by readers and removed later by [`super::vacuum`].

use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::write::{partition_dir, sync_dir};

/// Every generation directory's name starts with this.
pub const PREFIX: &str = "gen-";

/// Longest generation name a reader accepts.
const MAX_NAME: usize = 64;

/// A new generation name: `gen-<UTC time>-<random>`, unique to this export. The time makes a
/// listing readable; uniqueness comes from the random part.
pub fn new_name() -> String {
    let now = chrono::Utc::now();
    // A hasher with fresh random keys: 64 random bits without a random-number crate.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_i64(now.timestamp_nanos_opt().unwrap_or_default());
    format!(
        "{PREFIX}{}-{:016x}",
        now.format("%Y%m%dT%H%M%SZ"),
        hasher.finish()
    )
}

/// Whether `name` is a generation name: `gen-` and ASCII letters, digits and `-`, so it is
/// one plain path component.
pub fn is_name(name: &str) -> bool {
    name.len() <= MAX_NAME
        && name.strip_prefix(PREFIX).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The directory of `table`'s file in one generation of a bundle.
pub fn dir(
    root: &Path,
    table: &str,
    cluster_id: &str,
    bundle_id: &str,
    generation: &str,
) -> Result<PathBuf> {
    Ok(partition_dir(root, table, cluster_id, bundle_id)?.join(generation))
}

/// A generation being written: its directories are removed when it drops uncommitted.
pub struct Pending {
    pub name: String,
    root: PathBuf,
    cluster_id: String,
    bundle_id: String,
    dirs: Vec<PathBuf>,
    committed: bool,
}

impl Pending {
    pub fn new(root: &Path, cluster_id: &str, bundle_id: &str) -> Pending {
        Pending {
            name: new_name(),
            root: root.to_path_buf(),
            cluster_id: cluster_id.to_string(),
            bundle_id: bundle_id.to_string(),
            dirs: Vec::new(),
            committed: false,
        }
    }

    /// Creates the generation's directory for `table`. It must not exist: two exports never
    /// share a generation.
    pub fn create_dir(&mut self, table: &str) -> Result<PathBuf> {
        let dir = dir(
            &self.root,
            table,
            &self.cluster_id,
            &self.bundle_id,
            &self.name,
        )?;
        let parent = dir.parent().expect("generation has a partition");
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!("{} exists already (another export?)", dir.display())
            }
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
        self.dirs.push(dir.clone());
        Ok(dir)
    }

    /// Makes the generation's directory entries durable, before the commit names them.
    pub fn sync(&self) -> Result<()> {
        for dir in &self.dirs {
            sync_dir(dir)?;
            sync_dir(dir.parent().expect("generation has a partition"))?;
        }
        Ok(())
    }

    /// The commit names this generation now: keep its files.
    pub fn keep(mut self) {
        self.committed = true;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            for dir in &self.dirs {
                let _ = fs::remove_dir_all(dir);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_are_generation_names_and_unique() {
        let a = new_name();
        let b = new_name();
        assert!(is_name(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn only_plain_generation_names_are_accepted() {
        for bad in [
            "gen-",
            "gen-../x",
            "gen-a/b",
            "gen-.",
            "x-gen-1",
            "..",
            "gen-a b",
            "gen-\u{1b}",
        ] {
            assert!(!is_name(bad), "{bad:?}");
        }
        assert!(!is_name(&format!("gen-{}", "a".repeat(80))));
        assert!(is_name("gen-20260115T120000Z-0123456789abcdef"));
    }
}
