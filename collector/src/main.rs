//! The `ktriage-collect` binary: parses the command line, runs cluster mode (or node mode),
//! turns SIGINT/SIGTERM into a clean partial bundle, prints the summary and exits with the
//! status documented in `collector/README.md`.

use std::process::ExitCode;
use std::sync::Arc;

use ktriage_collect::cleanup;
use ktriage_collect::cli::{Cli, ClusterArgs, Command};
use ktriage_collect::cluster::summary::{self, Status};
use ktriage_collect::progress::Ui;
use ktriage_collect::stop::{Signal, Stop, StopReason};
// Error text quotes what a cluster or a kubeconfig said: no control sequence reaches the
// terminal.
use ktriage_schema::text::Safe;

fn main() -> ExitCode {
    let cli = Cli::from_env();
    match cli.command {
        Some(Command::Node(args)) => node(&args),
        Some(Command::Redact(args)) => redact(&args),
        Some(Command::Completions(args)) => {
            let mut stdout = std::io::stdout().lock();
            ktriage_schema::cli::write_completions(
                &mut ktriage_collect::cli::command(),
                args.shell,
                &mut stdout,
            );
            ExitCode::SUCCESS
        }
        Some(Command::Man(args)) => {
            match ktriage_schema::cli::write_man_pages(
                ktriage_collect::cli::command(),
                &args.output,
            ) {
                Ok(pages) => {
                    println!("{pages} man pages in {}", args.output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "ktriage-collect man: {}: {}",
                        Safe(&args.output.display().to_string()),
                        e
                    );
                    ExitCode::from(Status::Failed.code())
                }
            }
        }
        None => cluster(cli.cluster),
    }
}

fn redact(args: &ktriage_collect::reredact::RedactArgs) -> ExitCode {
    use ktriage_collect::reredact::{self, RedactError};
    match reredact::run(args) {
        Ok(manifest) => {
            println!("{}", summary::redacted_line(&args.output, &manifest));
            ExitCode::SUCCESS
        }
        Err(e) => {
            let status = match e {
                RedactError::Usage(_) => Status::Usage,
                RedactError::Failed(_) => Status::Failed,
            };
            eprintln!(
                "ktriage-collect redact: {}",
                summary::one_line(&e.to_string())
            );
            ExitCode::from(status.code())
        }
    }
}

fn node(args: &ktriage_collect::node::NodeArgs) -> ExitCode {
    // Node mode is synchronous; a small runtime on its own thread turns signals into the stop.
    let stop = Stop::new();
    let watcher = stop.clone();
    let watching = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| {
            // Registered before the collection starts, so no signal meets the default action.
            let streams = runtime.block_on(async { SignalStreams::register() })?;
            std::thread::spawn(move || {
                runtime.block_on(watch_signals(streams, watcher, Arc::new(Ui::new(false))))
            });
            Ok(())
        });
    if let Err(e) = watching {
        eprintln!("ktriage-collect node: cannot watch for signals: {e}");
    }
    match ktriage_collect::node::run(args, &stop) {
        Ok(outcome) => {
            println!(
                "{}: {} ({} entries, {} gaps){}",
                outcome.manifest.label(),
                outcome.output.display(),
                outcome.manifest.entries.len(),
                outcome.gap_count(),
                if outcome.manifest.partial {
                    ", PARTIAL"
                } else {
                    ""
                }
            );
            match stop.reason() {
                Some(StopReason::Signal(signal)) => ExitCode::from(signal.exit_code()),
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("ktriage-collect node: {}", Safe(&format!("{e:#}")));
            ExitCode::from(Status::Failed.code())
        }
    }
}

fn cluster(args: ClusterArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ktriage-collect: cannot start the async runtime: {e}");
            return ExitCode::from(Status::Failed.code());
        }
    };
    let quiet = args.quiet;
    let code = runtime.block_on(async move {
        let stop = Stop::new();
        let ui = Arc::new(Ui::new(quiet));
        match SignalStreams::register() {
            Ok(streams) => drop(tokio::spawn(watch_signals(
                streams,
                stop.clone(),
                ui.clone(),
            ))),
            Err(e) => ui.message(&format!("ktriage-collect: cannot watch for signals: {e}")),
        }
        match ktriage_collect::cluster::run::run(&args, stop, ui).await {
            Ok(outcome) => {
                for c in &outcome.clusters {
                    match &c.result {
                        Ok(collected) if !quiet => println!("{}", summary::line(collected)),
                        Ok(_) => {}
                        Err(e) => eprintln!(
                            "ktriage-collect: {}: {}",
                            Safe(&c.label),
                            Safe(&format!("{e:#}"))
                        ),
                    }
                }
                outcome.status().code()
            }
            Err(e) => {
                eprintln!("ktriage-collect: {}", Safe(&format!("{e:#}")));
                Status::Usage.code()
            }
        }
    });
    // Whatever still runs was abandoned (a request cut off at the stop): never wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    ExitCode::from(code)
}

/// First SIGINT/SIGTERM: stop and close the bundles. Second: quit at once, still removing the
/// unfinished bundles and killing host commands ([`cleanup::quit`]).
async fn watch_signals(streams: SignalStreams, stop: Stop, ui: Arc<Ui>) {
    let SignalStreams {
        interrupt: mut int,
        terminate: mut term,
    } = streams;
    let mut seen = false;
    loop {
        let received = tokio::select! {
            Some(()) = int.recv() => Signal::Interrupt,
            Some(()) = term.recv() => Signal::Terminate,
            else => return,
        };
        if seen {
            eprintln!(
                "ktriage-collect: {} again: quitting without closing the bundles",
                received.name()
            );
            cleanup::quit(received.exit_code());
        }
        seen = true;
        ui.message(&format!(
            "ktriage-collect: {}: interrupted: closing the bundles with what was collected (interrupt again to quit at once)",
            received.name()
        ));
        stop.stop(StopReason::Signal(received));
    }
}

/// SIGINT and SIGTERM, caught from the moment they are registered.
struct SignalStreams {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl SignalStreams {
    /// Replaces the default actions; needs a tokio runtime.
    fn register() -> std::io::Result<SignalStreams> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(SignalStreams {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }
}
