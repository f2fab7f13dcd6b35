//! SQL troubleshooting rules: the built-in catalog (`analyzer/rules/*.sql`, embedded into the
//! binary at build time and handed to the library as [`Builtin`]), users' own rule
//! directories, and the engine that runs them.
//!
//! The library itself embeds no rules, so its tests read `analyzer/rules/` from disk and a rule
//! can be changed without rebuilding them.

pub mod engine;
mod filters;
mod message;
mod pool;
mod render;
pub mod rule;
mod statement;

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};

pub use engine::{Finding, RuleRun};
pub use rule::{Lang, Localized, Rule, Severity};

/// `(file name, text)` of the built-in rules.
pub type Builtin = &'static [(&'static str, &'static str)];

/// The built-in rules, sorted by id.
pub fn builtin(files: Builtin) -> Result<Vec<Rule>> {
    let mut rules = files
        .iter()
        .map(|(name, text)| Rule::parse(&format!("analyzer/rules/{name}"), text))
        .collect::<Result<Vec<_>>>()?;
    rules.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
    Ok(rules)
}

/// Reads every `*.sql` rule in `dir`.
pub fn from_dir(dir: &Path) -> Result<Vec<Rule>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading rule directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("{}: no .sql rules found", dir.display());
    }
    paths
        .iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Rule::parse(&p.display().to_string(), &text)
        })
        .collect()
}

/// Built-in rules (unless `no_builtin`) plus those of `dirs`; ids must be unique and match
/// the file stem. A rule that cannot be used is bad input (exit code 2), named by its file.
pub fn load_all(
    files: Builtin,
    no_builtin: bool,
    dirs: &[std::path::PathBuf],
) -> Result<Vec<Rule>> {
    load_checked(files, no_builtin, dirs)
        .map_err(|e| anyhow::Error::new(crate::case::BadInput(format!("{e:#}"))))
}

fn load_checked(
    files: Builtin,
    no_builtin: bool,
    dirs: &[std::path::PathBuf],
) -> Result<Vec<Rule>> {
    let mut rules = if no_builtin {
        Vec::new()
    } else {
        builtin(files)?
    };
    for dir in dirs {
        rules.extend(from_dir(dir)?);
    }
    let mut seen = BTreeSet::new();
    for r in &rules {
        let stem = Path::new(&r.origin)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stem != r.meta.id {
            bail!(
                "{}: rule id {:?} must match the file name",
                r.origin,
                r.meta.id
            );
        }
        if !seen.insert(r.meta.id.clone()) {
            bail!("{}: rule id {:?} is defined twice", r.origin, r.meta.id);
        }
    }
    // Refused here, before any bundle is opened, and again before each run.
    let parser = duckdb::Connection::open_in_memory().context("opening DuckDB")?;
    for r in &rules {
        statement::check_single_select(&parser, &r.origin, &r.sql)?;
        message::check(&parser, r)?;
    }
    Ok(rules)
}

/// How many rules run at once: one per core.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `rules` over a loaded case on every core with a progress bar labelled `label`, and
/// reports each rule that failed on stderr (the runs keep the error for the reports). The one
/// way every command that needs findings runs the rules.
pub fn run_with_progress(
    conn: &duckdb::Connection,
    rules: &[Rule],
    rule_timeout: std::time::Duration,
    progress: &crate::progress::Progress,
    label: &str,
) -> anyhow::Result<Vec<engine::RuleRun>> {
    let bar = progress.bar(rules.len() as u64, label);
    let limits = engine::Limits { rule_timeout };
    let runs = engine::run_case(conn, rules, workers(), limits, &|rule| {
        bar.set_message(rule.meta.id.clone());
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    for run in &runs {
        if let Some(e) = &run.error {
            eprintln!("ktriage: rule {} failed: {e}", run.rule_id);
        }
    }
    Ok(runs)
}
