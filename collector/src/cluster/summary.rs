//! The end of a run: one summary line per bundle, and the exit status (documented in
//! `collector/README.md`).

use std::collections::BTreeMap;
use std::path::Path;

use indicatif::{HumanBytes, HumanCount};
use ktriage_schema::manifest::{Manifest, Redaction};

use crate::cluster::Collected;
use crate::cluster::run::RunOutcome;
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
    if let Some(redacted) = redaction_phrase(&c.manifest.redaction) {
        text.push_str(&format!("; {redacted}"));
    }
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

/// `out.tar.zst (1.2 MiB): 412 entries; redacted 57 values (Secret 30, Pod 12, text 9, ...)`
pub fn redacted_line(path: &Path, manifest: &Manifest) -> String {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut text = format!(
        "{} ({}): {} entries",
        path.display(),
        HumanBytes(size),
        HumanCount(manifest.entries.len() as u64)
    );
    if let Some(redacted) = redaction_phrase(&manifest.redaction) {
        text.push_str(&format!("; {redacted}"));
    }
    text
}

/// How many values were redacted, by resource kind (most first, the first six named):
/// `redacted 57 values (Secret 30, Pod 12, text 9)`; `redaction OFF` when it was off.
pub fn redaction_phrase(redaction: &Redaction) -> Option<String> {
    if !redaction.enabled {
        return Some("redaction OFF".into());
    }
    let total: u64 = redaction.counts.values().sum();
    if total == 0 {
        return None;
    }
    let mut per_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for kinds in redaction.by_kind.values() {
        for (kind, n) in kinds {
            *per_kind.entry(kind).or_default() += n;
        }
    }
    let mut kinds: Vec<(&str, u64)> = per_kind.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    const NAMED: usize = 6;
    let mut parts: Vec<String> = kinds
        .iter()
        .take(NAMED)
        .map(|(k, n)| format!("{k} {}", HumanCount(*n)))
        .collect();
    if kinds.len() > NAMED {
        parts.push("...".into());
    }
    let values = if total == 1 { "value" } else { "values" };
    Some(if parts.is_empty() {
        format!("redacted {} {values}", HumanCount(total))
    } else {
        format!(
            "redacted {} {values} ({})",
            HumanCount(total),
            parts.join(", ")
        )
    })
}

/// A message on one line: control characters (a newline in a path, an escape sequence from
/// a hostile bundle's name) shown escaped, never sent to the terminal.
pub fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::run::ClusterResult;

    #[test]
    fn redaction_phrase_names_the_kinds() {
        let redaction = Redaction {
            enabled: true,
            counts: [("secret-data".into(), 3), ("jwt".into(), 2)].into(),
            by_kind: [
                ("secret-data".into(), [("Secret".into(), 3)].into()),
                ("jwt".into(), [("Pod".into(), 1), ("text".into(), 1)].into()),
            ]
            .into(),
        };
        assert_eq!(
            redaction_phrase(&redaction).as_deref(),
            Some("redacted 5 values (Secret 3, Pod 1, text 1)")
        );
        let off = Redaction::default();
        assert_eq!(redaction_phrase(&off).as_deref(), Some("redaction OFF"));
        assert_eq!(one_line("a\nb\x1b[31m \"x\""), "a\\nb\\u{1b}[31m \"x\"");
    }

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
