//! Shared by the build scripts of the two binaries (`ktriage`, `ktriage-collect`, each
//! including it with `#[path]`): stamps the git commit they are built from into
//! `KTRIAGE_GIT_COMMIT`, which `--version` prints.
//!
//! It reruns only when HEAD moves (a checkout, a commit, a rebase), never because a source file
//! changed, so a stamp never costs more than relinking the binary's own crate. Without git (a
//! source archive, a container build without `.git`) the commit is `unknown`, unless
//! `KTRIAGE_GIT_COMMIT` is set in the environment of the build.

use std::path::PathBuf;
use std::process::Command;

/// Emits the stamp and the lines that rerun the build script when HEAD moves.
pub fn stamp() {
    println!("cargo::rerun-if-env-changed=KTRIAGE_GIT_COMMIT");
    // Always named: without any rerun-if-changed line cargo would rerun on every source change.
    println!("cargo::rerun-if-changed=../build-support/git_commit.rs");
    for path in head_files() {
        println!("cargo::rerun-if-changed={}", path.display());
    }
    let commit = std::env::var("KTRIAGE_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=KTRIAGE_GIT_COMMIT={}", commit.trim());
}

/// The files whose change means HEAD moved: HEAD itself, the branch it points at and
/// `packed-refs` (where the branch lives after `git gc`). Only existing files: cargo reruns a
/// build script on every build while a watched file is missing.
fn head_files() -> Vec<PathBuf> {
    let mut names = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        names.push(branch);
    }
    names
        .iter()
        .filter_map(|name| git(&["rev-parse", "--path-format=absolute", "--git-path", name]))
        .map(PathBuf::from)
        .filter(|path| path.is_file())
        .collect()
}

/// The trimmed output of a successful git command run in the crate's directory.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}
