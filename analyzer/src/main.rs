//! `ktriage`: parses the command line, runs one subcommand (each in `ktriage::commands`), and
//! maps its outcome to the documented exit codes: 0 done, 1 findings at `--fail-on` (or a
//! query that failed, an explanation that matched nothing), 2 bad input, 3 a failure of ours,
//! 130/143 interrupted. Errors are classified by type: input is wrapped in `BadInput` where it
//! is read, so any other error is ours. See ARCHITECTURE.md for the data flow behind it.

use std::process::ExitCode;

use anyhow::Context;

use ktriage::case::BadInput;
use ktriage::cli::{Cli, Command};
use ktriage::commands;
use ktriage::exit;

mod builtin_rules;

use builtin_rules::BUILTIN_RULES;

// mimalloc serves every allocation of the process, DuckDB's included (its `override` feature
// replaces malloc and free): planning a rule allocates and frees many small nodes, and the
// system allocator made the rules phase about 10% slower.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use ktriage::one_line;

fn main() -> ExitCode {
    let cli = Cli::from_env();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if let Some(stopped) = e.downcast_ref::<ktriage::stop::Interrupted>() {
                eprintln!("ktriage: {stopped}");
                return ExitCode::from(stopped.exit_code());
            }
            eprintln!("ktriage: {}", one_line(&format!("{e:#}")));
            // Classified by what failed, not by how: an unreadable bundle is wrapped in
            // BadInput where it is opened, while an I/O error writing a report is ours (3).
            let bad_input = e.chain().any(|c| c.is::<BadInput>());
            ExitCode::from(if bad_input {
                exit::BAD_INPUT
            } else {
                exit::ERROR
            })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    Ok(match cli.command {
        Command::Analyze(args) => {
            let outcome = commands::analyze::run(&args, BUILTIN_RULES)?;
            match args.fail_on {
                Some(threshold) if outcome.worst.is_some_and(|w| w >= threshold) => exit::FINDINGS,
                _ if outcome.rule_errors > 0 => exit::ERROR,
                _ => exit::OK,
            }
        }
        Command::Sql(args) => {
            if commands::sql::run(&args)? {
                exit::OK
            } else {
                exit::FINDINGS
            }
        }
        Command::Rules(args) => {
            commands::rules_list::run(&args, BUILTIN_RULES)
                .map_err(|e| anyhow::Error::new(BadInput(format!("{e:#}"))))?;
            exit::OK
        }
        Command::Explain(args) => {
            if commands::explain::run(&args, BUILTIN_RULES)? {
                exit::OK
            } else {
                exit::FINDINGS
            }
        }
        Command::Import(args) => {
            commands::import::run(&args)?;
            exit::OK
        }
        Command::Diff(args) => {
            let outcome = commands::diff::run(&args, BUILTIN_RULES)?;
            match args.fail_on {
                Some(threshold) if outcome.worst_new.is_some_and(|w| w >= threshold) => {
                    exit::FINDINGS
                }
                _ if outcome.rule_errors > 0 => exit::ERROR,
                _ => exit::OK,
            }
        }
        Command::Timeline(args) => {
            commands::timeline::run(&args, BUILTIN_RULES)?;
            exit::OK
        }
        Command::Serve(args) => {
            commands::serve::run(&args)?;
            exit::OK
        }
        Command::Export(args) => {
            if commands::export::run(&args, BUILTIN_RULES)? {
                exit::OK
            } else {
                exit::ERROR
            }
        }
        Command::Fleet(args) => {
            if commands::fleet::run(&args)? {
                exit::OK
            } else {
                exit::FINDINGS
            }
        }
        Command::Completions(args) => {
            let mut stdout = std::io::stdout().lock();
            ktriage_schema::cli::write_completions(
                &mut ktriage::cli::command(None),
                args.shell,
                &mut stdout,
            );
            exit::OK
        }
        Command::Man(args) => {
            let pages =
                ktriage_schema::cli::write_man_pages(ktriage::cli::command(None), &args.output)
                    .with_context(|| format!("writing man pages into {}", args.output.display()))?;
            println!("{pages} man pages in {}", args.output.display());
            exit::OK
        }
    })
}
