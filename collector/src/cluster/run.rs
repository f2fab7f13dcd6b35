//! A whole cluster-mode run: resolve options and targets, name the outputs, arm the
//! deadline, and collect every selected cluster concurrently (one bundle each) under one
//! concurrency limit and one deadline.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

use crate::cli::ClusterArgs;
use crate::cluster::options::Options;
use crate::cluster::{self, Collected, Shared};
use crate::cluster::{client, summary};
use crate::progress::Ui;
use crate::stop::{Stop, StopReason};

/// One cluster's result.
#[derive(Debug)]
pub struct ClusterResult {
    /// The cluster's label (context).
    pub label: String,
    /// The bundle, or why there is none.
    pub result: anyhow::Result<Collected>,
}

/// Everything a run did.
#[derive(Debug)]
pub struct RunOutcome {
    /// One per cluster, in the order selected.
    pub clusters: Vec<ClusterResult>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<StopReason>,
}

impl RunOutcome {
    /// The process exit status this outcome calls for.
    pub fn status(&self) -> summary::Status {
        summary::status(self)
    }
}

/// Runs cluster mode. An `Err` is a usage or configuration problem (bad flag value, unreadable
/// kubeconfig or rules file, unknown context): nothing was collected.
pub async fn run(args: &ClusterArgs, stop: Stop, ui: Arc<Ui>) -> anyhow::Result<RunOutcome> {
    let options = Arc::new(Options::from_args(args)?);
    let deadline = {
        let stop = stop.clone();
        let ui = ui.clone();
        let timeout = options.timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if !stop.is_stopped() {
                ui.message(&format!(
                    "ktriage-collect: --timeout {timeout:?} reached: closing the bundle with what was collected"
                ));
                stop.stop(StopReason::Deadline);
            }
        })
    };
    let targets = tokio::select! {
        t = client::targets(&options) => t,
        // Stopped before any cluster was reached: nothing to close, no bundle.
        _ = stop.stopped() => {
            deadline.abort();
            return Ok(RunOutcome { clusters: Vec::new(), stopped: stop.reason() });
        }
    };
    let targets = match targets {
        Ok(t) => t,
        Err(e) => {
            deadline.abort();
            return Err(e);
        }
    };
    let labels: Vec<String> = targets.iter().map(|t| t.label().to_string()).collect();
    let outputs = match output_paths(options.output.as_deref(), &labels, Utc::now()) {
        Ok(o) => o,
        Err(e) => {
            deadline.abort();
            return Err(e);
        }
    };
    let shared = Shared {
        options: options.clone(),
        stop: stop.clone(),
        permits: Arc::new(Semaphore::new(options.concurrency)),
        ui,
    };
    let runs = targets.iter().zip(&outputs).map(|(target, output)| {
        let shared = &shared;
        async move {
            ClusterResult {
                label: target.label().to_string(),
                result: cluster::collect(target, output, shared).await,
            }
        }
    });
    let clusters = futures::future::join_all(runs).await;
    deadline.abort();
    Ok(RunOutcome {
        clusters,
        stopped: stop.reason(),
    })
}

/// `ktriage-<cluster>-<UTC time>.tar.zst`.
pub fn default_name(label: &str, at: DateTime<Utc>) -> String {
    let mut clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        clean.insert_str(0, "cluster");
    }
    format!("ktriage-{clean}-{}.tar.zst", at.format("%Y%m%dT%H%M%SZ"))
}

/// Output paths, one per cluster: `-o FILE` for one cluster, `-o DIR` or the current
/// directory with default names otherwise.
pub fn output_paths(
    output: Option<&Path>,
    labels: &[String],
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<PathBuf>> {
    let dir = match output {
        Some(p) if p.is_dir() => p.to_path_buf(),
        Some(p) if labels.len() == 1 => return Ok(vec![p.to_path_buf()]),
        Some(p) => bail!(
            "-o {}: {} clusters are collected, one bundle each: give a directory",
            p.display(),
            labels.len()
        ),
        None => PathBuf::from("."),
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for label in labels {
        let name = default_name(label, at);
        let mut path = dir.join(&name);
        let mut n = 2;
        while paths.contains(&path) {
            path = dir.join(name.replace(".tar.zst", &format!("-{n}.tar.zst")));
            n += 1;
        }
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_safe_and_dated() {
        let at = DateTime::parse_from_rfc3339("2025-03-04T05:06:07Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            default_name("kind-dev", at),
            "ktriage-kind-dev-20250304T050607Z.tar.zst"
        );
        assert_eq!(
            default_name("arn:aws:eks:eu-west-1:1:cluster/prod", at),
            "ktriage-arn_aws_eks_eu-west-1_1_cluster_prod-20250304T050607Z.tar.zst"
        );
        assert_eq!(
            default_name("..", at),
            "ktriage-cluster..-20250304T050607Z.tar.zst"
        );
    }

    #[test]
    fn outputs_for_one_or_many_clusters() {
        let at = Utc::now();
        let one = output_paths(Some(Path::new("x.tar.zst")), &["a".into()], at).expect("one");
        assert_eq!(one, vec![PathBuf::from("x.tar.zst")]);
        let err = output_paths(Some(Path::new("x.tar.zst")), &["a".into(), "b".into()], at)
            .expect_err("many");
        assert!(err.to_string().contains("give a directory"));
        let dir = tempfile::tempdir().expect("tempdir");
        let many = output_paths(Some(dir.path()), &["a/b".into(), "a:b".into()], at).expect("dir");
        assert_eq!(many.len(), 2);
        assert_ne!(many[0], many[1]);
        assert!(many.iter().all(|p| p.starts_with(dir.path())));
    }
}
