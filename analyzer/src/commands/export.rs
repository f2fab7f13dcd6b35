//! `ktriage export`: load a case, run the rules, complete the timeline, write its tables as
//! Parquet.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::analyze::{RuledCase, open_and_run_rules};
use crate::case::BadInput;
use crate::cli::ExportArgs;
use crate::export::{self, TABLES, Table};
use crate::progress::Progress;
use crate::rules;

/// Exports the case; returns whether every rule ran.
pub fn run(args: &ExportArgs, builtin: rules::Builtin) -> Result<bool> {
    crate::stop::install()?;
    let tables = selected_tables(&args.tables)?;
    let progress = Progress::new(args.input.quiet);
    let start = Instant::now();
    let timeout = Duration::from_secs(args.rule_timeout);
    let RuledCase {
        rules, case, runs, ..
    } = open_and_run_rules(&args.input, &args.rules, builtin, timeout, &progress)?;
    let failed = runs.iter().filter(|run| run.error.is_some()).count();
    // The timeline's log bursts and findings need the rules' results; without them the
    // rest of the timeline is still worth exporting, and the exit code says it is short.
    let mut timeline_complete = true;
    if tables.iter().any(|t| t.source == "timeline")
        && let Err(e) = crate::timeline::complete(&case.conn, &rules, &runs)
    {
        crate::stop::check()?;
        eprintln!(
            "ktriage: the exported timeline lacks log bursts or findings: {}",
            crate::one_line(&format!("{e:#}"))
        );
        timeline_complete = false;
    }
    let spinner = progress.spinner("writing Parquet");
    let summary = export::export_case(&case.conn, &rules, &runs, &args.output, &tables)?;
    spinner.finish_and_clear();
    eprintln!(
        "ktriage: exported {} bundle{} ({} files, {} rows, {} KiB) -> {} in {:.1} s",
        summary.bundles,
        if summary.bundles == 1 { "" } else { "s" },
        summary.files,
        summary.rows,
        summary.bytes.div_ceil(1024),
        args.output.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(failed == 0 && timeline_complete)
}

/// The tables named by `--tables`, in schema order; all of them when none is named.
fn selected_tables(names: &[String]) -> Result<Vec<&'static Table>> {
    for name in names {
        if export::tables::find(name).is_none() {
            let known: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
            return Err(BadInput(format!(
                "--tables: no table {:?} (tables: {})",
                crate::one_line(name),
                known.join(", ")
            ))
            .into());
        }
    }
    Ok(TABLES
        .iter()
        .filter(|t| names.is_empty() || names.iter().any(|n| n == t.name))
        .collect())
}
