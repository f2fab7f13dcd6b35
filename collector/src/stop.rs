//! One stop signal for a whole run: the global deadline or SIGINT/SIGTERM. Every request
//! races it, so a stopped collection closes its bundle at once with what it has.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use ktriage_schema::manifest::GapReason;
use tokio_util::sync::CancellationToken;

/// Why a collection stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `--timeout` ran out.
    Deadline,
    /// SIGINT or SIGTERM.
    Signal,
}

impl StopReason {
    /// The gap reason of what was not collected because of this stop.
    pub fn gap_reason(self) -> GapReason {
        match self {
            StopReason::Deadline => GapReason::Timeout,
            StopReason::Signal => GapReason::Interrupted,
        }
    }

    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::Deadline => "the --timeout deadline was reached",
            StopReason::Signal => "interrupted by a signal",
        }
    }
}

const RUNNING: u8 = 0;
const DEADLINE: u8 = 1;
const SIGNAL: u8 = 2;

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
            StopReason::Signal => SIGNAL,
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
            SIGNAL => Some(StopReason::Signal),
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
        s.stop(StopReason::Signal);
        assert!(s.clone().is_stopped());
        assert_eq!(s.reason(), Some(StopReason::Deadline));
        assert_eq!(s.gap_reason(), GapReason::Timeout);
    }
}
