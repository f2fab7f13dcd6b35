//! Commit files: `DIR/_ktriage_commits/bundle_id=<escaped>.json`, one per bundle, naming the
//! generation readers read and the tables it holds.
//!
//! An export writes every file of a bundle's new generation first, then replaces the commit
//! file in one step (a temporary file renamed over it; on object storage, one PUT). A reader
//! that reads the commit file and then the files it names sees one export's set of tables,
//! never the `findings` of one export with the `pods` of another, and a killed export leaves
//! the previous commit, whose files are all still there. The commit file is the only file
//! two exports may write, and only exports of the same bundle: the last one wins, and either
//! names a complete set.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::generation;
use super::partition;
use super::tables::{COMMIT_DIR, PART_FILE, TABLES, Table};
use super::write::sync_dir;
use crate::case::BadInput;

/// Largest commit file a reader reads.
const MAX_BYTES: u64 = 64 * 1024;

/// What a commit file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    pub bundle_id: String,
    /// The cluster the generation is filed under.
    pub cluster_id: String,
    /// The generation directory's name.
    pub generation: String,
    /// The bundle's whole set, in schema order: each table's file, relative to the tree's
    /// root with `/` separators, so a reader needs no path rules of its own.
    pub files: Vec<CommitFile>,
}

/// One table's file in a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitFile {
    pub table: String,
    pub path: String,
}

impl Commit {
    /// The commit of `generation` holding `tables`.
    pub fn new(
        bundle_id: &str,
        cluster_id: &str,
        generation: &str,
        tables: &[&Table],
    ) -> Result<Commit> {
        let files = tables
            .iter()
            .map(|t| {
                Ok(CommitFile {
                    table: t.name.to_string(),
                    path: file_path(t.name, cluster_id, bundle_id, generation)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Commit {
            bundle_id: bundle_id.to_string(),
            cluster_id: cluster_id.to_string(),
            generation: generation.to_string(),
            files,
        })
    }

    /// Whether the commit holds `table`.
    pub fn has(&self, table: &str) -> bool {
        self.files.iter().any(|f| f.table == table)
    }
}

/// `<table>/cluster_id=…/bundle_id=…/<generation>/part-0.parquet`.
fn file_path(table: &str, cluster_id: &str, bundle_id: &str, generation: &str) -> Result<String> {
    Ok(format!(
        "{table}/{}/{}/{generation}/{PART_FILE}",
        partition::dir_name("cluster_id", cluster_id)?,
        partition::dir_name("bundle_id", bundle_id)?
    ))
}

/// The commit file of `bundle_id`.
pub fn path(root: &Path, bundle_id: &str) -> Result<PathBuf> {
    Ok(root.join(COMMIT_DIR).join(format!(
        "{}.json",
        partition::dir_name("bundle_id", bundle_id)?
    )))
}

/// Replaces the bundle's commit file in one step (temporary file, sync, rename); the rename
/// is the last thing that can fail. The caller syncs the directory ([`sync`]) once it has
/// recorded that the commit happened.
pub fn write(root: &Path, commit: &Commit) -> Result<()> {
    let target = path(root, &commit.bundle_id)?;
    let dir = root.join(COMMIT_DIR);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(commit)?;
    text.push('\n');
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(&dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("writing {}", target.display()))?;
    temp.persist(&target)
        .with_context(|| format!("writing {}", target.display()))?;
    Ok(())
}

/// Makes the commits' renames durable.
pub fn sync(root: &Path) -> Result<()> {
    sync_dir(&root.join(COMMIT_DIR))
}

/// The commit file at `path` and when it was written; `None` when there is none. A file
/// that is not a valid commit of the bundle its name says is refused, naming the file.
pub fn read(path: &Path) -> Result<Option<(Commit, SystemTime)>> {
    let shown = || crate::one_line(&path.display().to_string());
    let bad = |what: String| anyhow::Error::new(BadInput(format!("{}: {what}", shown())));
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", shown())),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", shown()))?;
    if !meta.is_file() {
        return Err(bad("not a regular file".into()));
    }
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| bad(format!("not a commit file: {e}")))?;
    if text.len() as u64 > MAX_BYTES {
        return Err(bad(format!("larger than {MAX_BYTES} bytes")));
    }
    let commit: Commit =
        serde_json::from_str(&text).map_err(|e| bad(format!("not a commit file: {e}")))?;
    check(path, &commit).map_err(bad)?;
    let written = meta
        .modified()
        .with_context(|| format!("reading {}", shown()))?;
    Ok(Some((commit, written)))
}

/// A commit must name its own bundle, a plain generation name, and known tables once each,
/// at the paths the layout gives them.
fn check(path: &Path, commit: &Commit) -> Result<(), String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let named = name
        .strip_suffix(".json")
        .and_then(|n| partition::parse("bundle_id", n));
    if named.as_deref() != Some(commit.bundle_id.as_str()) {
        return Err("names another bundle than its file name".into());
    }
    if !generation::is_name(&commit.generation) {
        return Err(format!(
            "generation {:?} is not a generation name",
            short(&commit.generation)
        ));
    }
    for (i, file) in commit.files.iter().enumerate() {
        if !TABLES.iter().any(|t| t.name == file.table) {
            return Err(format!(
                "table {:?} is not in the export schema",
                short(&file.table)
            ));
        }
        if commit.files[..i].iter().any(|f| f.table == file.table) {
            return Err(format!("table {} is named twice", file.table));
        }
        let expected = file_path(
            &file.table,
            &commit.cluster_id,
            &commit.bundle_id,
            &commit.generation,
        )
        .map_err(|e| e.to_string())?;
        if file.path != expected {
            return Err(format!(
                "table {}: path {:?} is not the layout's {expected:?}",
                file.table,
                short(&file.path)
            ));
        }
    }
    Ok(())
}

/// A value from a commit file, cut and made safe to print.
fn short(value: &str) -> String {
    crate::one_line(&value.chars().take(80).collect::<String>())
}

/// Every commit of the tree, sorted by cluster and bundle. Names starting with `.` (a
/// commit being written) are skipped; anything else that is not a commit file is refused.
pub fn list(root: &Path) -> Result<Vec<Commit>> {
    let dir = root.join(COMMIT_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if let Some((commit, _)) = read(&path)? {
            out.push(commit);
        }
    }
    out.sort_by(|a, b| (&a.cluster_id, &a.bundle_id).cmp(&(&b.cluster_id, &b.bundle_id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(bundle: &str) -> Commit {
        let tables: Vec<&Table> = ["bundles", "timeline"]
            .iter()
            .map(|n| crate::export::tables::find(n).expect("table"))
            .collect();
        Commit::new(bundle, "c/1", "gen-20260115T120000Z-00ff", &tables).expect("commit")
    }

    #[test]
    fn a_written_commit_reads_back_and_lists() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let c = commit("../b\u{1b}");
        write(tmp.path(), &c).expect("write");
        let (back, _) = read(&path(tmp.path(), &c.bundle_id).expect("path"))
            .expect("read")
            .expect("present");
        assert_eq!(back, c);
        assert_eq!(list(tmp.path()).expect("list"), vec![c]);
        let names: Vec<String> = fs::read_dir(tmp.path().join(COMMIT_DIR))
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["bundle_id=..%2Fb%1B.json"],
            "no temporary file left"
        );
    }

    #[test]
    fn hostile_commit_files_are_refused_naming_the_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join(COMMIT_DIR);
        fs::create_dir_all(&dir).expect("mkdir");
        let file = dir.join("bundle_id=b.json");
        let cases = [
            // Another bundle than the file name says.
            serde_json::to_string(&commit("other")).expect("json"),
            // A generation that would leave its partition.
            serde_json::json!({"bundle_id": "b", "cluster_id": "c", "generation": "gen-../../x", "files": []}).to_string(),
            serde_json::json!({"bundle_id": "b", "cluster_id": "c", "generation": "gen-1",
                "files": [{"table": "passwd", "path": "passwd/cluster_id=c/bundle_id=b/gen-1/part-0.parquet"}]}).to_string(),
            serde_json::json!({"bundle_id": "b", "cluster_id": "c", "generation": "gen-1",
                "files": [{"table": "pods", "path": "pods/cluster_id=c/bundle_id=b/gen-1/part-0.parquet"},
                          {"table": "pods", "path": "pods/cluster_id=c/bundle_id=b/gen-1/part-0.parquet"}]}).to_string(),
            // A path off the layout: a reader following it would leave the tree.
            serde_json::json!({"bundle_id": "b", "cluster_id": "c", "generation": "gen-1",
                "files": [{"table": "pods", "path": "../../etc/passwd"}]}).to_string(),
            "{not json".to_string(),
            "x".repeat(70 * 1024),
        ];
        for text in cases {
            fs::write(&file, &text).expect("write");
            let err = read(&file).expect_err("refused");
            let msg = format!("{err:#}");
            assert!(msg.contains("bundle_id=b.json"), "{msg}");
            assert_eq!(msg.lines().count(), 1, "{msg}");
            assert!(err.downcast_ref::<BadInput>().is_some(), "{msg}");
        }
    }
}
