//! The per-bundle key and the key file written beside the bundle.
//!
//! The key file holds the key and every pseudonym with its original, so the customer can map
//! a vendor's findings back, and so node bundles collected later can be pseudonymized with
//! the same key (`--pseudonymize-key FILE`) and join the cluster bundle. It never goes into a
//! bundle, and it is created readable by its owner only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Key length in bytes.
const KEY_BYTES: usize = 32;

/// Largest key file read back (a cluster's worth of pseudonyms is far below this).
const MAX_KEY_FILE: u64 = 256 << 20;

/// A secret key for the keyed hash every pseudonym derives from.
#[derive(Clone)]
pub struct Key(pub(crate) Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A new random key.
    pub fn random() -> anyhow::Result<Self> {
        let mut key = vec![0u8; KEY_BYTES];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
        Ok(Key(key))
    }

    /// The key of an earlier collection's key file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        read(path).map(|(key, _)| key)
    }
}

/// An earlier collection's key file: its key and contents.
pub fn read(path: &Path) -> anyhow::Result<(Key, KeyFile)> {
    {
        let file = std::fs::File::open(path)
            .with_context(|| format!("--pseudonymize-key {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        anyhow::ensure!(
            size <= MAX_KEY_FILE,
            "--pseudonymize-key {}: larger than {} MiB, not a key file",
            path.display(),
            MAX_KEY_FILE >> 20
        );
        let parsed: KeyFile = serde_json::from_reader(std::io::BufReader::new(file))
            .with_context(|| format!("--pseudonymize-key {}: not a key file", path.display()))?;
        let key = hex::decode(&parsed.key)
            .ok()
            .filter(|k| k.len() == KEY_BYTES);
        let key = key.map(Key).with_context(|| {
            format!(
                "--pseudonymize-key {}: the key is not {KEY_BYTES} bytes of hex",
                path.display()
            )
        })?;
        Ok((key, parsed))
    }
}

/// What the key file holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyFile {
    /// What this file is, for a reader who finds it on disk.
    #[serde(default)]
    pub about: String,
    /// The key, hex.
    pub key: String,
    /// The classes that were replaced.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Host-name pseudonym → original.
    #[serde(default)]
    pub hosts: BTreeMap<String, String>,
    /// Address pseudonym → original.
    #[serde(default)]
    pub ips: BTreeMap<String, String>,
    /// Chosen-name pseudonym → original.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

pub const ABOUT: &str = "ktriage-collect pseudonyms: the key and each pseudonym with its \
original. Keep it private; do not send it with the bundle.";

/// Where the key file of the bundle at `bundle` goes: `x.tar.zst` → `x.pseudonyms.json`.
pub fn key_file_path(bundle: &Path) -> PathBuf {
    let name = bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".tar.zst").unwrap_or(&name);
    bundle.with_file_name(format!("{stem}.pseudonyms.json"))
}

/// Writes `contents` to `path` atomically, readable by its owner only (a temporary file,
/// created 0600, renamed over the target).
pub fn write_private(path: &Path, contents: &KeyFile) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".ktriage-pseudonyms-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    serde_json::to_writer_pretty(&mut tmp, contents)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_names() {
        assert_eq!(
            key_file_path(Path::new("out/b.tar.zst")),
            PathBuf::from("out/b.pseudonyms.json")
        );
        assert_eq!(
            key_file_path(Path::new("bundle")),
            PathBuf::from("bundle.pseudonyms.json")
        );
    }

    #[test]
    fn key_files_round_trip_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.pseudonyms.json");
        let key = Key::random().expect("key");
        let file = KeyFile {
            about: ABOUT.into(),
            key: hex::encode(&key.0),
            classes: vec!["ips".into()],
            hosts: BTreeMap::new(),
            ips: BTreeMap::new(),
            names: BTreeMap::new(),
        };
        write_private(&path, &file).expect("written");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(Key::from_file(&path).expect("read").0, key.0);
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no temp file left"
        );

        std::fs::write(&path, r#"{"key":"abcd"}"#).expect("write");
        let err = Key::from_file(&path).expect_err("short key").to_string();
        assert!(err.contains("k.pseudonyms.json"), "{err}");
        std::fs::write(&path, "garbage").expect("write");
        assert!(Key::from_file(&path).is_err());
    }
}
