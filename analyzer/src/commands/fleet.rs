//! `ktriage fleet`: SQL over an export tree, with `ktriage sql`'s bounds and lockdown.

use anyhow::Result;

use crate::case::BadInput;
use crate::cli::FleetArgs;
use crate::commands::sql::{Session, repl};
use crate::fleet::queries::{self, QUERIES};
use crate::fleet::{Fleet, Options};
use crate::progress::Progress;

/// Lists the shipped queries, or runs a query or a prompt; returns whether every query ran.
pub fn run(args: &FleetArgs) -> Result<bool> {
    if args.list {
        for q in QUERIES {
            println!("{:<26} {}", q.name, q.summary());
        }
        return Ok(true);
    }
    let shipped = match &args.name {
        Some(name) => Some(queries::find(name).ok_or_else(|| {
            let names: Vec<&str> = QUERIES.iter().map(|q| q.name).collect();
            BadInput(format!(
                "--query: no fleet query {:?} (queries: {})",
                crate::one_line(name),
                names.join(", ")
            ))
        })?),
        None => None,
    };
    let Some(dir) = &args.dir else {
        return Err(BadInput("an export directory is required".into()).into());
    };
    crate::stop::install()?;
    let fleet = Fleet::open(
        dir,
        &Options {
            memory_limit_mib: (args.memory_mib > 0).then_some(args.memory_mib),
            max_temp_mib: args.max_temp_mib,
        },
        &Progress::new(args.quiet),
    )?;
    let session = Session::new(&fleet.conn, args.query_timeout, args.output);
    let ok = match (shipped, &args.query) {
        (Some(q), _) => session.print(q.sql.trim().trim_end_matches(';')),
        (None, Some(query)) => session.print(query),
        (None, None) => repl(
            &format!(
                "{} ({} bundles, {} files)",
                dir.display(),
                fleet.bundles,
                fleet.files
            ),
            &session,
        )?,
    };
    crate::stop::check()?;
    Ok(ok)
}
