//! `ktriage analyze`: load, run every rule, write the reports.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::case::{Case, CaseOptions};
use crate::cli::{AnalyzeArgs, Format, InputArgs, RuleArgs};
use crate::progress::Progress;
use crate::report::{self, Report};
use crate::rules::{self, RuleRun, Severity};

/// What the analysis found, for the exit code.
pub struct Outcome {
    /// Highest severity found, if any finding.
    pub worst: Option<Severity>,
    /// Rules that failed to run.
    pub rule_errors: usize,
}

/// Runs the analysis and writes the reports.
pub fn run(args: &AnalyzeArgs, builtin: rules::Builtin) -> Result<Outcome> {
    crate::stop::install()?;
    let progress = Progress::new(args.input.quiet);
    let timeout = Duration::from_secs(args.rule_timeout);
    let RuledCase {
        rules,
        case,
        runs,
        rules_elapsed,
    } = open_and_run_rules(&args.input, &args.rules, builtin, timeout, &progress)?;
    // The timeline is an aid: without its log bursts and findings the reports still stand.
    let timeline_parts = match crate::timeline::complete(&case.conn, &rules, &runs) {
        Ok(parts) => parts.to_vec(),
        Err(e) => {
            crate::stop::check()?;
            eprintln!(
                "ktriage: the timeline lacks log bursts or findings: {}",
                crate::one_line(&format!("{e:#}"))
            );
            Vec::new()
        }
    };
    let report_start = Instant::now();
    let mut report = report::model::build(&case.conn, &rules, &runs, args.lang)?;
    let chart_start = Instant::now();
    report.timeline = crate::timeline::chart::build(&case.conn, args.lang)?;
    let write_start = Instant::now();
    write_reports(&report, args)?;
    if let Some(path) = &args.timings {
        let mut phases = case.timings.clone();
        phases.push(("rules", rules_elapsed));
        phases.extend(timeline_parts);
        phases.push(("report-model", chart_start - report_start));
        phases.push(("report-timeline-chart", write_start - chart_start));
        phases.push(("report-write", write_start.elapsed()));
        phases.push(("report", report_start.elapsed()));
        write_timings(path, &phases, rules::workers(), &runs)?;
    }
    let worst = runs
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| !is_benign(&rules, &f.rule_id))
        .map(|f| f.severity)
        .max();
    print_summary(&report, args);
    Ok(Outcome {
        worst,
        rule_errors: report.rule_errors.len(),
    })
}

/// A case whose rules have run: where `analyze` and `export` begin.
pub(crate) struct RuledCase {
    pub rules: Vec<rules::Rule>,
    pub case: Case,
    pub runs: Vec<RuleRun>,
    /// Wall time of the rules alone, for `--timings`.
    pub rules_elapsed: Duration,
}

/// Loads the rules (one that cannot be used is bad input), opens the bundles as one case with
/// one DuckDB thread per query, and runs the rules on it, one per core.
pub(crate) fn open_and_run_rules(
    input: &InputArgs,
    rule_args: &RuleArgs,
    builtin: rules::Builtin,
    timeout: Duration,
    progress: &Progress,
) -> Result<RuledCase> {
    let rules = rules::load_all(builtin, rule_args.no_builtin_rules, &rule_args.dirs)?;
    let options = CaseOptions {
        query_threads: Some(1),
        ..input.case_options()
    };
    let case = Case::open(&input.bundles, &options, progress)?;
    let start = Instant::now();
    let runs = rules::run_with_progress(&case.conn, &rules, timeout, progress, "rules")?;
    Ok(RuledCase {
        rules,
        case,
        runs,
        rules_elapsed: start.elapsed(),
    })
}

/// `--timings`: each phase's and each rule's wall time in milliseconds, rule row counts, and
/// how many rules ran at once (a rule's time includes waiting for the cores it shares).
fn write_timings(
    path: &Path,
    phases: &[(&str, Duration)],
    workers: usize,
    runs: &[RuleRun],
) -> Result<()> {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let phases: serde_json::Map<String, serde_json::Value> = phases
        .iter()
        .map(|(name, d)| ((*name).to_string(), ms(*d).into()))
        .collect();
    let per_rule: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| serde_json::json!({"rule_id": r.rule_id, "ms": ms(r.elapsed), "planning_ms": ms(r.planning), "rows": r.total, "error": r.error}))
        .collect();
    let text = serde_json::to_string_pretty(
        &serde_json::json!({"phases_ms": phases, "rule_workers": workers, "rules": per_rule}),
    )?;
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn is_benign(rules: &[rules::Rule], id: &str) -> bool {
    rules.iter().any(|r| r.meta.id == id && r.meta.benign)
}

fn write_reports(report: &Report, args: &AnalyzeArgs) -> Result<()> {
    fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    for format in &args.format {
        let (name, text) = match format {
            Format::Html => ("report.html", report::render::html(report)?),
            Format::Md => ("report.md", report::render::markdown(report)?),
            Format::Json => ("findings.json", report::render::json(report)?),
        };
        let path = args.output.join(name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print_summary(report: &Report, args: &AnalyzeArgs) {
    let counts: Vec<String> = report
        .summary
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let findings = if counts.is_empty() {
        "no findings".to_string()
    } else {
        counts.join(", ")
    };
    let formats: Vec<&str> = args
        .format
        .iter()
        .map(|f| match f {
            Format::Html => "report.html",
            Format::Md => "report.md",
            Format::Json => "findings.json",
        })
        .collect();
    eprintln!(
        "ktriage: {} rules, {findings}, {} collection gaps -> {}/{{{}}}",
        report.rules_run,
        report.gaps.len(),
        args.output.display(),
        formats.join(",")
    );
}
