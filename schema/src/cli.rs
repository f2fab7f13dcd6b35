//! What both binaries' command lines share beyond their own flags: the `--version` text, shell
//! completions and man pages. Built only with the `cli` feature (the fuzz build goes without).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Command};
pub use clap_complete::Shell;

use crate::manifest::Manifest;

/// `completions <SHELL>`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `man -o DIR`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Directory to write the man pages into (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

/// Sets `command`'s versions: `-V` prints `VERSION (COMMIT)` on one line (also the man pages'
/// title), `--version` the whole [`version_text`].
pub fn stamp_version(
    command: Command,
    crate_version: &str,
    commit: &str,
    extra: &[(&str, &str)],
) -> Command {
    command
        .version(format!("{crate_version} ({commit})"))
        .long_version(version_text(crate_version, commit, extra))
}

/// The `--version` text: the crate version on the first line, then one `name: value` line each for the git commit, the bundle format this build writes
/// and reads, and whatever the binary adds (`duckdb: v2.0.0`).
pub fn version_text(crate_version: &str, commit: &str, extra: &[(&str, &str)]) -> String {
    let mut text = format!(
        "{crate_version}\ncommit: {commit}\nbundle format: {}",
        Manifest::current_format_version()
    );
    for (name, value) in extra {
        text.push_str(&format!("\n{name}: {value}"));
    }
    text
}

/// Writes the completion script of `shell` for `command` (the whole tree of subcommands).
pub fn write_completions(command: &mut Command, shell: Shell, out: &mut dyn Write) {
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, command, name, out);
}

/// Writes one man page per command into `dir`: `NAME.1` for the binary and `NAME-SUB.1` for
/// every visible subcommand, at every depth. Returns the number of pages written.
pub fn write_man_pages(command: Command, dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let before = count_pages(dir)?;
    clap_mangen::generate_to(command, dir)?;
    Ok(count_pages(dir)?.saturating_sub(before))
}

fn count_pages(dir: &Path) -> std::io::Result<usize> {
    let mut pages = 0;
    for entry in std::fs::read_dir(dir)? {
        if entry?.path().extension().is_some_and(|e| e == "1") {
            pages += 1;
        }
    }
    Ok(pages)
}

/// The names of `command`'s visible subcommands at every depth, as `parent sub` paths
/// (`node`, `rules list`): what completions and man pages must cover.
pub fn visible_subcommands(command: &Command) -> Vec<Vec<String>> {
    fn walk(command: &Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            walk(sub, &path, out);
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk(command, &[], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Command {
        Command::new("tool")
            .about("A tool")
            .subcommand(Command::new("alpha").about("First"))
            .subcommand(
                Command::new("beta")
                    .about("Second")
                    .subcommand(Command::new("inner").about("Nested")),
            )
            .subcommand(Command::new("secret").hide(true))
    }

    #[test]
    fn version_text_names_commit_format_and_extras() {
        let text = version_text("1.2.3", "abc1234", &[("duckdb", "v9.9.9")]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "1.2.3");
        assert_eq!(lines[1], "commit: abc1234");
        assert_eq!(
            lines[2],
            format!("bundle format: {}", Manifest::current_format_version())
        );
        assert_eq!(lines[3], "duckdb: v9.9.9");
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn stamped_versions_are_one_line_for_short_and_full_for_long() {
        let command = stamp_version(sample(), "1.2.3", "abc1234", &[]);
        let short = command.render_version();
        assert_eq!(short.trim_end(), "tool 1.2.3 (abc1234)");
        let long = command.render_long_version();
        assert!(long.starts_with("tool 1.2.3\ncommit: abc1234\n"), "{long}");
    }

    #[test]
    fn visible_subcommands_walk_every_depth_and_skip_hidden_ones() {
        let mut names = visible_subcommands(&sample());
        names.sort();
        assert_eq!(
            names,
            vec![
                vec!["alpha".to_owned()],
                vec!["beta".to_owned()],
                vec!["beta".to_owned(), "inner".to_owned()],
            ]
        );
    }

    #[test]
    fn man_pages_cover_every_visible_subcommand() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = write_man_pages(sample(), dir.path()).expect("man pages");
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            files,
            ["tool-alpha.1", "tool-beta-inner.1", "tool-beta.1", "tool.1"]
        );
        assert_eq!(written, 4);
    }

    #[test]
    fn completions_name_every_subcommand() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let mut out = Vec::new();
            write_completions(&mut sample(), shell, &mut out);
            let text = String::from_utf8(out).expect("utf-8");
            for name in ["alpha", "beta", "inner"] {
                assert!(text.contains(name), "{shell}: no {name}");
            }
        }
    }
}
