//! How `ktriage serve` ends on SIGINT and SIGTERM. While the bundles are being opened there is
//! nothing to finish: a signal removes the work directory and exits at once. Once serving, the
//! first signal asks for a graceful shutdown (bounded by the caller) and a second one quits at
//! once, still removing the work directory. Exit statuses follow the shell: 130 for SIGINT,
//! 143 for SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::exit;

/// A signal that ends `ktriage serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Signal {
    /// 128 + the signal's number, as the shell reports a process ended by it.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => exit::INTERRUPTED,
            Signal::Terminate => exit::TERMINATED,
        }
    }

    /// Its usual name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// The signal watcher of one `ktriage serve` run.
pub struct Signals {
    serving: Arc<AtomicBool>,
    first: watch::Receiver<Option<Signal>>,
}

impl Signals {
    /// Starts watching on the current tokio runtime; `work` is removed before any exit at once.
    pub fn watch(work: PathBuf) -> std::io::Result<Signals> {
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let serving = Arc::new(AtomicBool::new(false));
        let (tx, first) = watch::channel(None);
        let graceful = serving.clone();
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    Some(()) = int.recv() => Signal::Interrupt,
                    Some(()) = term.recv() => Signal::Terminate,
                    else => return,
                };
                if !graceful.load(Ordering::SeqCst) {
                    eprintln!("ktriage: {}: stopping", received.name());
                    quit(&work, received);
                }
                if tx.borrow().is_some() {
                    eprintln!(
                        "ktriage: {} again: closing open connections at once",
                        received.name()
                    );
                    quit(&work, received);
                }
                let _ = tx.send(Some(received));
            }
        });
        Ok(Signals { serving, first })
    }

    /// From now on the first signal asks for a graceful shutdown instead of exiting.
    pub fn serving(&self) {
        self.serving.store(true, Ordering::SeqCst);
    }

    /// Resolves with the first signal received.
    pub async fn first(&self) -> Signal {
        let mut first = self.first.clone();
        match first.wait_for(Option::is_some).await {
            Ok(signal) => signal.unwrap_or(Signal::Interrupt),
            // The watcher could not go on: nothing will ever stop the server from here.
            Err(_) => std::future::pending().await,
        }
    }
}

/// Removes `work` and exits with the signal's status, now.
fn quit(work: &std::path::Path, signal: Signal) -> ! {
    // Another thread may still be unpacking into it: retry until it stays gone.
    for _ in 0..5 {
        let _ = std::fs::remove_dir_all(work);
        if !work.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::exit(i32::from(signal.exit_code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_shells() {
        assert_eq!(Signal::Interrupt.exit_code(), 128 + 2);
        assert_eq!(Signal::Terminate.exit_code(), 128 + 15);
    }
}
