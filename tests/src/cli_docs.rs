//! Checks shared by both binaries' tests of `completions` and `man`: run the real binary and
//! prove its output covers every subcommand the command tree declares (the caller walks the
//! tree, so a new subcommand is covered without touching a list).

use std::path::Path;
use std::process::Command;

/// The shells whose completions the binaries must support.
pub const SHELLS: &[&str] = &["bash", "zsh", "fish", "powershell"];

/// Runs `BIN completions SHELL` for every shell of [`SHELLS`]; panics unless each succeeds with
/// a non-empty script naming every subcommand of `subcommands` (paths from the root).
pub fn assert_completions_cover(bin: &Path, subcommands: &[Vec<String>]) {
    assert!(!subcommands.is_empty(), "no subcommand to look for");
    for shell in SHELLS {
        let out = Command::new(bin)
            .args(["completions", shell])
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8(out.stdout).expect("completions are UTF-8");
        assert!(!script.trim().is_empty(), "{shell}: empty completions");
        for path in subcommands {
            let name = path.last().expect("a path names a subcommand");
            assert!(
                script.contains(name.as_str()),
                "{shell} completions do not name `{}`",
                path.join(" ")
            );
        }
    }
}

/// Runs `BIN man -o DIR`; panics unless it writes `NAME.1` and `NAME-SUB.1` for every
/// subcommand of `subcommands`, each rendering with groff without a warning and showing the
/// command's name.
pub fn assert_man_pages_render(bin: &Path, name: &str, subcommands: &[Vec<String>]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin)
        .args(["man", "-o"])
        .arg(dir.path())
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "man: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages = vec![name.to_owned()];
    pages.extend(
        subcommands
            .iter()
            .map(|path| format!("{name}-{}", path.join("-"))),
    );
    for page in pages {
        let file = dir.path().join(format!("{page}.1"));
        assert!(file.is_file(), "no man page {}", file.display());
        // As man(1) renders it: UTF-8 input (-k), plain text out (no overstriking).
        let rendered = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-P-cbou"])
            .arg(&file)
            .output()
            .expect("groff runs (apt-get install groff-base)");
        let warnings = String::from_utf8_lossy(&rendered.stderr);
        assert!(
            rendered.status.success() && warnings.trim().is_empty(),
            "{page}.1 does not render cleanly: {warnings}"
        );
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(text.contains("NAME"), "{page}.1 has no NAME section");
        assert!(text.contains(&page), "{page}.1 does not name {page}");
    }
}

/// The commit `--version` must name: what git says HEAD is, `unknown` without git (a source
/// archive), unless the build was given `KTRIAGE_GIT_COMMIT`.
pub fn expected_commit() -> String {
    if let Some(commit) = std::env::var("KTRIAGE_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
    {
        return commit.trim().to_owned();
    }
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(crate::manifest_dir!())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
