//! `ktriage-collect --version`, `completions` and `man`, run as the real binary.

use std::path::Path;
use std::process::Command;

use ktriage_schema::cli::visible_subcommands;
use ktriage_schema::manifest::Manifest;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ktriage-collect"))
}

#[test]
fn completions_for_four_shells_name_every_subcommand() {
    let subcommands = visible_subcommands(&ktriage_collect::cli::command());
    assert!(
        subcommands.iter().any(|p| p == &["node"]),
        "{subcommands:?}"
    );
    ktriage_tests::cli_docs::assert_completions_cover(bin(), &subcommands);
}

#[test]
fn man_pages_cover_every_subcommand_and_render() {
    let subcommands = visible_subcommands(&ktriage_collect::cli::command());
    ktriage_tests::cli_docs::assert_man_pages_render(bin(), "ktriage-collect", &subcommands);
}

#[test]
fn version_names_crate_commit_and_bundle_format() {
    let out = Command::new(bin()).arg("--version").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        format!("ktriage-collect {}", env!("CARGO_PKG_VERSION"))
    );
    let commit = lines[1].strip_prefix("commit: ").expect("a commit line");
    assert_eq!(commit, ktriage_tests::cli_docs::expected_commit());
    assert_eq!(
        lines[2],
        format!("bundle format: {}", Manifest::current_format_version())
    );
}
