//! Helpers the analyzer's end-to-end tests share: the repository, fixture cases built into
//! bundles, the collector binary beside `ktriage`, running `ktriage`, signals sent to a child
//! process, and copying a fixture tree.
// Each test binary uses its own subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

pub fn repo() -> PathBuf {
    ktriage_tests::manifest_dir!().join("..")
}

/// Builds every bundle source of the fixture case `source` into `dir`; returns the archives.
pub fn build_case(source: &Path, dir: &Path) -> Vec<PathBuf> {
    ktriage_tests::source::bundle_sources(source)
        .expect("sources")
        .iter()
        .enumerate()
        .map(|(i, src)| {
            let out = dir.join(format!("b{i}.tar.zst"));
            ktriage_tests::source::build(src, &out)
                .unwrap_or_else(|e| panic!("{}: {e:#}", src.display()));
            out
        })
        .collect()
}

/// `paths` as command-line arguments.
pub fn path_args(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

/// The sample cluster's bundles, built into `dir`.
pub fn sample(dir: &Path) -> Vec<PathBuf> {
    build_case(&repo().join("tests/fixtures/sample"), dir)
}

/// The collector binary: the one beside `ktriage` in the target directory (`scripts/test.sh`
/// builds it before the analyzer's tests), or `KTRIAGE_COLLECT`.
pub fn collector() -> PathBuf {
    let path = std::env::var_os("KTRIAGE_COLLECT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_BIN_EXE_ktriage")).with_file_name("ktriage-collect")
        });
    assert!(
        path.exists(),
        "{} is missing: build it first (cargo build -p ktriage-collect, as scripts/test.sh does)",
        path.display()
    );
    path
}

/// Sends `signal` (a name `kill` knows: INT, TERM, …) to the process.
pub fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal}");
}

/// Runs `ktriage` with `args` and waits for it.
pub fn ktriage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .output()
        .expect("ktriage runs")
}

/// What a command printed on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
