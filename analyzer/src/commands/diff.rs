//! `ktriage diff OLD NEW`: analyze two snapshots one after the other and report what changed.

use std::fs;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::case::BadInput;
use crate::cli::{DiffArgs, Format};
use crate::diff::snapshot::{self, SideOptions};
use crate::diff::{self, DiffReport, render};
use crate::progress::Progress;
use crate::rules::{self, Severity};

/// What the diff found, for the exit code.
pub struct Outcome {
    /// Highest severity among the findings that appeared.
    pub worst_new: Option<Severity>,
    /// Rules that failed to run on either side.
    pub rule_errors: usize,
}

/// Runs the diff and writes the reports.
pub fn run(args: &DiffArgs, builtin: rules::Builtin) -> Result<Outcome> {
    crate::stop::install()?;
    let progress = Progress::new(args.quiet);
    let rules = rules::load_all(builtin, args.rules.no_builtin_rules, &args.rules.dirs)
        .map_err(|e| BadInput(format!("{e:#}")))?;
    let options = SideOptions {
        case: args.case_options(),
        rules: &rules,
        rule_timeout: Duration::from_secs(args.rule_timeout),
    };
    // One side at a time: OLD's database is gone before NEW's is loaded.
    let old = snapshot::capture(&args.old.0, &options, &progress, "OLD")?;
    let new = snapshot::capture(&args.new.0, &options, &progress, "NEW")?;
    let report = diff::build(old, new, &rules, args.lang);
    crate::stop::check()?;
    for w in &report.warnings {
        eprintln!("ktriage: warning: {}", crate::one_line(&w.message_en));
    }
    write_reports(&report, args)?;
    print_summary(&report, args);
    Ok(Outcome {
        worst_new: report.findings.appeared.iter().map(|f| f.severity).max(),
        rule_errors: report.rule_errors.len(),
    })
}

fn file_name(format: Format) -> &'static str {
    match format {
        Format::Html => "diff.html",
        Format::Md => "diff.md",
        Format::Json => "diff.json",
    }
}

/// Renders every report, then writes them into a directory inside `-o DIR` that a signal
/// removes, and renames each into place: a report in `-o DIR` is whole or absent, and an
/// earlier diff's report is replaced only by a finished one.
fn write_reports(report: &DiffReport, args: &DiffArgs) -> Result<()> {
    let mut rendered = Vec::with_capacity(args.format.len());
    for format in &args.format {
        let text = match format {
            Format::Html => render::html(report)?,
            Format::Md => render::markdown(report)?,
            Format::Json => render::json(report)?,
        };
        rendered.push((file_name(*format), text));
        crate::stop::check()?;
    }
    fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let (staging, _on_signal) = crate::stop::WorkDir::create_in(&args.output, ".ktriage-diff-")
        .with_context(|| format!("creating a staging directory in {}", args.output.display()))?;
    for (name, text) in &rendered {
        let path = staging.path().join(name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        crate::stop::check()?;
    }
    for (name, _) in &rendered {
        let path = args.output.join(name);
        fs::rename(staging.path().join(name), &path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    // Removed while still registered, so a signal meanwhile cannot leave it behind.
    let staged = staging.path().display().to_string();
    staging
        .close()
        .with_context(|| format!("removing {staged}"))?;
    Ok(())
}

fn print_summary(report: &DiffReport, args: &DiffArgs) {
    let s = &report.summary;
    let files: Vec<&str> = args.format.iter().map(|f| file_name(*f)).collect();
    eprintln!(
        "ktriage: findings {} new, {} resolved, {} persisting; objects {} changed ({} restart counts grew), {} added, {} removed -> {}/{{{}}}",
        s.appeared,
        s.resolved,
        s.persisted,
        s.objects_changed,
        s.restarts_grew,
        s.objects_added,
        s.objects_removed,
        args.output.display(),
        files.join(",")
    );
}
