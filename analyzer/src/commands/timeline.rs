//! `ktriage timeline`: the case's dated facts on the terminal, newest last, with times
//! relative to the collection and absolute.

use std::io::Write;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use ktriage_schema::text::terminal_safe;
use serde::Serialize;

use crate::case::{BadInput, Case, CaseOptions};
use crate::cli::{TimelineArgs, TimelineFormat};
use crate::progress::Progress;
use crate::rules::{self, Lang};
use crate::timeline::time::{absolute, parse_point, relative};
use crate::timeline::{self, Entry, Filter};

/// Loads the case, runs the rules (findings and log bursts need them) and prints the rows
/// the filters keep.
pub fn run(args: &TimelineArgs, builtin: rules::Builtin) -> Result<()> {
    crate::stop::install()?;
    let progress = Progress::new(args.input.quiet);
    let rules = rules::load_all(builtin, args.rules.no_builtin_rules, &args.rules.dirs)?;
    let options = CaseOptions {
        query_threads: Some(1),
        ..args.input.case_options()
    };
    let case = Case::open(&args.input.bundles, &options, &progress)?;
    let runs = rules::run_with_progress(
        &case.conn,
        &rules,
        rules::engine::DEFAULT_RULE_TIMEOUT,
        &progress,
        "rules",
    )?;
    timeline::complete(&case.conn, &rules, &runs)?;
    let reference = timeline::reference_time(&case.conn)?
        .ok_or_else(|| BadInput("the bundles hold no collection time".into()))?;
    let point = |flag: &str, text: &Option<String>| -> Result<Option<DateTime<Utc>>> {
        match text {
            None => Ok(None),
            Some(t) => parse_point(t, reference).map(Some).ok_or_else(|| {
                BadInput(format!(
                    "{flag} {}: not a duration (2h, 1h30m, 3d) or a time (2026-01-15T09:00:00Z, 2026-01-15 09:00)",
                    terminal_safe(t)
                ))
                .into()
            }),
        }
    };
    let filter = Filter {
        since: point("--since", &args.since)?,
        until: point("--until", &args.until)?,
        node: args.node.clone(),
        namespace: args.namespace.clone(),
        kinds: args.kind.iter().map(|k| k.trim().to_string()).collect(),
    };
    let entries = timeline::read(&case.conn, &filter)?;
    crate::stop::check()?;
    if entries.is_empty() {
        eprintln!("ktriage: no timeline entries match");
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        TimelineFormat::Text => text(&mut out, &entries, reference, args.lang),
        TimelineFormat::Json => json(&mut out, &entries, reference),
        TimelineFormat::Csv => csv(&mut out, &entries, reference),
    };
    match written {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// One line per fact: absolute time, relative time, severity, kind, where, summary. Every
/// value from the bundle is shown terminal-safe.
fn text(
    out: &mut impl Write,
    entries: &[Entry],
    reference: DateTime<Utc>,
    lang: Lang,
) -> Result<()> {
    let clusters: std::collections::BTreeSet<&str> =
        entries.iter().map(|e| e.cluster.as_str()).collect();
    let cluster_wide = match lang {
        Lang::En => "cluster",
        Lang::Zh => "集群",
    };
    let place = |e: &Entry| {
        let node = e.node.as_deref().unwrap_or(cluster_wide);
        if clusters.len() > 1 {
            format!("{}/{node}", e.cluster)
        } else {
            node.to_string()
        }
    };
    let rel_width = entries
        .iter()
        .map(|e| relative(e.ts, reference).len())
        .max()
        .unwrap_or(0);
    let kind_width = entries.iter().map(|e| e.kind.len()).max().unwrap_or(0);
    let place_width = entries
        .iter()
        .map(|e| place(e).chars().count())
        .max()
        .unwrap_or(0)
        .min(32);
    for e in entries {
        let summary = match lang {
            Lang::En => &e.summary,
            Lang::Zh => &e.summary_zh,
        };
        let until = e.end_ts.map(|end| match lang {
            Lang::En => format!(" (until {}, {})", absolute(end), relative(end, reference)),
            Lang::Zh => format!("（持续到 {}，{}）", absolute(end), relative(end, reference)),
        });
        writeln!(
            out,
            "{}  {:>rel_width$}  {:<8}  {:<kind_width$}  {:<place_width$}  {}  {}{}",
            absolute(e.ts),
            relative(e.ts, reference),
            e.severity,
            e.kind,
            terminal_safe(&place(e)),
            terminal_safe(&e.resource),
            terminal_safe(summary),
            until.unwrap_or_default()
        )?;
    }
    Ok(())
}

/// A row as JSON and CSV print it. Text from the bundle is terminal-safe here too: CSV
/// passes control characters through, and either may end up on a terminal.
#[derive(Serialize)]
struct Printed {
    ts: String,
    relative: String,
    end_ts: Option<String>,
    kind: String,
    severity: String,
    cluster: String,
    bundle_id: String,
    namespace: Option<String>,
    resource: String,
    node: Option<String>,
    count: Option<i64>,
    summary: String,
    summary_zh: String,
    evidence_kind: String,
    evidence: String,
}

/// The CSV header, written even when no row follows.
const CSV_HEADER: [&str; 15] = [
    "ts",
    "relative",
    "end_ts",
    "kind",
    "severity",
    "cluster",
    "bundle_id",
    "namespace",
    "resource",
    "node",
    "count",
    "summary",
    "summary_zh",
    "evidence_kind",
    "evidence",
];

fn printed(e: &Entry, reference: DateTime<Utc>) -> Printed {
    let rfc = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string();
    let safe = |s: &str| terminal_safe(s);
    Printed {
        ts: rfc(e.ts),
        relative: relative(e.ts, reference),
        end_ts: e.end_ts.map(rfc),
        kind: safe(&e.kind),
        severity: safe(&e.severity),
        cluster: safe(&e.cluster),
        bundle_id: safe(&e.bundle_id),
        namespace: e.namespace.as_deref().map(safe),
        resource: safe(&e.resource),
        node: e.node.as_deref().map(safe),
        count: e.count,
        summary: safe(&e.summary),
        summary_zh: safe(&e.summary_zh),
        evidence_kind: safe(&e.evidence_kind),
        evidence: safe(&e.evidence),
    }
}

fn json(out: &mut impl Write, entries: &[Entry], reference: DateTime<Utc>) -> Result<()> {
    let rows: Vec<Printed> = entries.iter().map(|e| printed(e, reference)).collect();
    serde_json::to_writer_pretty(&mut *out, &rows).context("writing JSON")?;
    writeln!(out)?;
    Ok(())
}

fn csv(out: &mut impl Write, entries: &[Entry], reference: DateTime<Utc>) -> Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for e in entries {
        writer.serialize(printed(e, reference))?;
    }
    writer.flush()?;
    Ok(())
}
