//! The end of a run: one summary line per bundle, and the exit status (documented in
//! `collector/README.md`).

use indicatif::{HumanBytes, HumanCount};

use crate::cluster::Collected;
use crate::run::RunOutcome;
use crate::stop::{Signal, StopReason};

/// Exit statuses of `ktriage-collect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Every bundle written, nothing missing from the API data.
    Complete,
    /// Every bundle written, but some discovery groups or resource lists are missing
    /// (recorded as gaps). Missing logs or node data do not count: they are common.
    ApiGaps,
    /// Bad flags or configuration: nothing collected.
    Usage,
    /// The deadline was reached: bundles written and marked partial.
    Partial,
    /// A cluster could not be collected at all (unreachable, output not writable).
    Failed,
    /// Interrupted by SIGINT (130) or SIGTERM (143): bundles written and marked partial.
    Interrupted(Signal),
}

impl Status {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Status::Complete => 0,
            Status::ApiGaps => 1,
            Status::Usage => 2,
            Status::Partial => 3,
            Status::Failed => 4,
            Status::Interrupted(signal) => signal.exit_code(),
        }
    }
}

/// The status of a run: the most severe of its clusters'.
pub fn status(outcome: &RunOutcome) -> Status {
    let mut status = Status::Complete;
    for c in &outcome.clusters {
        let s = match &c.result {
            Err(_) => Status::Failed,
            Ok(b) if b.api_gaps > 0 => Status::ApiGaps,
            Ok(_) => Status::Complete,
        };
        status = status.max(s);
    }
    match outcome.stopped {
        Some(StopReason::Signal(signal)) => Status::Interrupted(signal),
        Some(StopReason::Deadline) => status.max(Status::Partial),
        None => status,
    }
}

/// `kind-dev: ktriage-kind-dev-….tar.zst (1.2 MiB): 3,400 objects in 80 resources, 120 logs, 2 gaps`
pub fn line(c: &Collected) -> String {
    let mut text = format!(
        "{}: {} ({}): {} objects in {} resources, {} logs, {} gaps",
        c.label,
        c.path.display(),
        HumanBytes(c.size),
        HumanCount(c.objects),
        c.resources,
        HumanCount(c.logs),
        c.gaps
    );
    if let Some(reason) = c.stopped {
        text.push_str(&format!("; PARTIAL: {}", reason.describe()));
    }
    if let Some(key) = &c.pseudonyms_key {
        text.push_str(&format!(
            "; pseudonym key: {} (keep it, do not send it)",
            key.display()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::ClusterResult;

    #[test]
    fn most_severe_status_wins() {
        let failed = || ClusterResult {
            label: "a".into(),
            result: Err(anyhow::anyhow!("unreachable")),
        };
        let outcome = RunOutcome {
            clusters: vec![failed()],
            stopped: None,
        };
        assert_eq!(status(&outcome), Status::Failed);
        let outcome = RunOutcome {
            clusters: vec![failed()],
            stopped: Some(StopReason::Signal(Signal::Interrupt)),
        };
        assert_eq!(status(&outcome).code(), 130);
        let outcome = RunOutcome {
            clusters: vec![failed()],
            stopped: Some(StopReason::Signal(Signal::Terminate)),
        };
        assert_eq!(status(&outcome).code(), 143);
        let outcome = RunOutcome {
            clusters: vec![],
            stopped: Some(StopReason::Deadline),
        };
        assert_eq!(status(&outcome).code(), 3);
        assert_eq!(
            status(&RunOutcome {
                clusters: vec![],
                stopped: None
            })
            .code(),
            0
        );
    }
}
