//! One stop signal for a whole run: the global deadline or SIGINT/SIGTERM. Every request
//! races it, so a stopped collection closes its bundle at once with what it has.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use ktriage_schema::manifest::GapReason;
use tokio_util::sync::CancellationToken;

/// A signal that stops a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`kill`, a pod being deleted).
    Terminate,
}

impl Signal {
    /// The shell's exit status for a process ended by this signal: 128 + its number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
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

/// Why a collection stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `--timeout` ran out.
    Deadline,
    /// SIGINT or SIGTERM.
    Signal(Signal),
}

impl StopReason {
    /// The gap reason of what was not collected because of this stop.
    pub fn gap_reason(self) -> GapReason {
        match self {
            StopReason::Deadline => GapReason::Timeout,
            StopReason::Signal(_) => GapReason::Interrupted,
        }
    }

    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::Deadline => "the --timeout deadline was reached",
            StopReason::Signal(Signal::Interrupt) => "interrupted by SIGINT",
            StopReason::Signal(Signal::Terminate) => "interrupted by SIGTERM",
        }
    }
}

const RUNNING: u8 = 0;
const DEADLINE: u8 = 1;
const SIGINT: u8 = 2;
const SIGTERM: u8 = 3;

/// A cloneable stop switch; the first reason given wins.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    token: CancellationToken,
    reason: Arc<AtomicU8>,
}

impl Stop {
    /// A switch that has not been thrown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Throws the switch.
    pub fn stop(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Deadline => DEADLINE,
            StopReason::Signal(Signal::Interrupt) => SIGINT,
            StopReason::Signal(Signal::Terminate) => SIGTERM,
        };
        let _ = self
            .reason
            .compare_exchange(RUNNING, code, Ordering::SeqCst, Ordering::SeqCst);
        self.token.cancel();
    }

    /// Why it was thrown, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        match self.reason.load(Ordering::SeqCst) {
            DEADLINE => Some(StopReason::Deadline),
            SIGINT => Some(StopReason::Signal(Signal::Interrupt)),
            SIGTERM => Some(StopReason::Signal(Signal::Terminate)),
            _ => None,
        }
    }

    /// Whether it was thrown.
    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves when the switch is thrown.
    pub async fn stopped(&self) {
        self.token.cancelled().await
    }

    /// The gap reason for work cut off by this stop (timeout when not stopped yet).
    pub fn gap_reason(&self) -> GapReason {
        self.reason()
            .map_or(GapReason::Timeout, StopReason::gap_reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_reason_wins() {
        let s = Stop::new();
        assert!(!s.is_stopped());
        assert_eq!(s.reason(), None);
        s.stop(StopReason::Deadline);
        s.stop(StopReason::Signal(Signal::Interrupt));
        assert!(s.clone().is_stopped());
        assert_eq!(s.reason(), Some(StopReason::Deadline));
        assert_eq!(s.gap_reason(), GapReason::Timeout);

        let s = Stop::new();
        s.stop(StopReason::Signal(Signal::Terminate));
        s.stop(StopReason::Signal(Signal::Interrupt));
        assert_eq!(s.reason(), Some(StopReason::Signal(Signal::Terminate)));
        assert_eq!(s.gap_reason(), GapReason::Interrupted);
    }

    #[test]
    fn signals_exit_as_the_shell_reports_them() {
        assert_eq!(Signal::Interrupt.exit_code(), 128 + 2);
        assert_eq!(Signal::Terminate.exit_code(), 128 + 15);
    }
}
