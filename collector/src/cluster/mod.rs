//! One cluster's collection, start to finish: connect, record `/version`, the cluster's
//! identity and its discovery, then run every task (resources first, logs and node data as
//! the pod and node lists arrive), and close the bundle with its manifest, even when stopped
//! early.

pub mod api;
pub mod client;
pub mod discovery;
pub mod jobspool;
pub mod list;
pub mod logs;
pub mod node_data;
pub mod options;
pub mod pods;
pub mod run;
pub mod sink;
pub mod summary;
pub mod tasks;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use ktriage_schema::Manifest;
use ktriage_schema::layout;
use ktriage_schema::manifest::{ClusterSource, Gap, GapKind, GapReason, Source};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cluster::api::{Api, ApiError};
use crate::cluster::client::Target;
use crate::cluster::jobspool::LogJobReader;
use crate::cluster::logs::LogJob;
use crate::cluster::options::Options;
use crate::cluster::tasks::{Ctx, Output};
use crate::progress::Ui;
use crate::redact::Redactor;
use crate::stop::{Stop, StopReason};
use crate::{cleanup, pseudonym};

/// How long running tasks get to wrap up once the run is stopped.
const GRACE: Duration = Duration::from_secs(3);

/// What the run shares between clusters.
pub struct Shared {
    /// Resolved options.
    pub options: Arc<Options>,
    /// Deadline and signals.
    pub stop: Stop,
    /// Run-wide concurrency limit.
    pub permits: Arc<Semaphore>,
    /// Progress display.
    pub ui: Arc<Ui>,
}

/// A bundle written.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The cluster's label (context).
    pub label: String,
    /// The bundle.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Objects collected.
    pub objects: u64,
    /// Resource files written.
    pub resources: usize,
    /// Logs written (container and kubelet).
    pub logs: u64,
    /// All gaps.
    pub gaps: usize,
    /// Gaps in API data: discovery or resource lists.
    pub api_gaps: usize,
    /// Why the collection stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// The manifest as written.
    pub manifest: Manifest,
    /// The key file of `--pseudonymize`, beside the bundle.
    pub pseudonyms_key: Option<PathBuf>,
}

/// Collects `target` into a bundle at `output`.
pub async fn collect(target: &Target, output: &Path, shared: &Shared) -> anyhow::Result<Collected> {
    let options = &shared.options;
    let label = target.label().to_string();
    let started_at = Utc::now();
    let redactor = Arc::new(match &options.redaction {
        Some(config) => Redactor::new(config).context("redaction rules")?,
        None => Redactor::disabled(),
    });
    let client = target.client(options.request_timeout)?;
    let api = Api::new(client, options.request_timeout, shared.stop.clone());
    let mut gaps: Vec<Gap> = Vec::new();

    let version = match api.get_json("/version").await {
        Ok(v) => Some(v),
        Err(
            e
            @ (ApiError::Transport(_) | ApiError::Timeout(_) | ApiError::Status { code: 401, .. }),
        ) => {
            bail!(
                "context {label}: cannot reach the API server at {}: {e}",
                target.server()
            );
        }
        Err(e) => {
            gaps.push(e.gap(GapKind::Version, "/version", &shared.stop));
            None
        }
    };
    let server_version = version
        .as_ref()
        .and_then(|v| v.get("gitVersion"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();

    let pseudonymizer = match &options.pseudonyms {
        Some(p) => Some(Arc::new(
            pseudonym::nodes::cluster_pseudonymizer(&api, p)
                .await
                .with_context(|| format!("context {label}"))?,
        )),
        None => None,
    };

    let dir = output_dir(output);
    let (file, temp_path) = tempfile::Builder::new()
        .prefix(".ktriage-collect-")
        .suffix(".part")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?
        .into_parts();
    // Removed even when a second signal quits at once.
    let registered = cleanup::temp_file(&temp_path);
    let progress = shared.ui.cluster(&label);
    let written = progress.clone();
    let (sink, writer) = sink::spawn(file, Arc::new(move |n| written.written(n)))
        .with_context(|| format!("cannot start writing {}", output.display()))?;
    let sink = match &pseudonymizer {
        Some(p) => sink.pseudonymized(p.clone(), dir.clone()),
        None => sink,
    };

    let ctx = Arc::new(Ctx {
        api: api.clone(),
        options: options.clone(),
        redactor: redactor.clone(),
        sink,
        progress: progress.clone(),
        spool_dir: dir,
        permits: shared.permits.clone(),
        started_at,
    });

    let Finished {
        gaps,
        notes,
        logs,
        writer_failed,
        resources,
        cluster_id,
    } = Run::new(ctx.clone(), gaps).collect(version).await;
    // Every sender must be gone before the writer can finish.
    drop(ctx);
    progress.finish();

    let stopped = shared.stop.reason();
    let mut options_json = options.to_manifest_json();
    if !notes.is_empty() {
        options_json["events"] = Value::Array(notes);
    }
    let manifest = crate::manifest::build(crate::manifest::Closing {
        started_at,
        source: Source::Cluster(ClusterSource {
            server_version,
            cluster_id,
            context: target.context.clone(),
            server: target.server(),
        }),
        options: options_json,
        gaps,
        redaction: redactor.summary(),
        partial: stopped.is_some() || writer_failed,
    });
    let manifest = match &pseudonymizer {
        Some(p) => p.apply_manifest(manifest)?,
        None => manifest,
    };
    let (file, manifest) = writer
        .finish(manifest)
        .await
        .with_context(|| format!("writing {}", output.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    drop(file);
    let pseudonyms_key = match &pseudonymizer {
        Some(p) => Some(p.write_key_file(output)?),
        None => None,
    };
    temp_path
        .persist(output)
        .with_context(|| format!("cannot move the bundle to {}", output.display()))?;
    drop(registered);
    let api_gaps = manifest
        .gaps
        .iter()
        .filter(|g| matches!(g.what, GapKind::Resource | GapKind::Discovery))
        .count();
    Ok(Collected {
        label,
        path: output.to_path_buf(),
        size,
        objects: progress.object_count(),
        resources,
        logs,
        gaps: manifest.gaps.len(),
        api_gaps,
        stopped,
        manifest,
        pseudonyms_key,
    })
}

fn output_dir(output: &Path) -> PathBuf {
    match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What a task was doing, to name it in a gap if it has to be abandoned.
#[derive(Clone)]
struct Doing {
    what: GapKind,
    location: String,
}

/// What the task loop leaves once every task is done (and every [`Sink`] clone dropped).
///
/// [`Sink`]: crate::cluster::sink::Sink
struct Finished {
    gaps: Vec<Gap>,
    notes: Vec<Value>,
    logs: u64,
    resources: usize,
    writer_failed: bool,
    cluster_id: String,
}

/// Work waiting to be spawned: logs and node data are many (thousands of containers), so
/// they wait here as plain data and are spawned a window at a time.
enum Pending {
    Log(LogJob),
    Configz(String),
    NodeLog(String),
}

/// Tasks in flight (running or waiting for a permit) per allowed concurrent request.
const WINDOW_PER_PERMIT: usize = 4;

/// The task loop of one cluster.
struct Run {
    ctx: Arc<Ctx>,
    set: JoinSet<Output>,
    pending: VecDeque<Pending>,
    /// Container logs still to fetch, read from their spool file as the window has room.
    log_jobs: Option<LogJobReader>,
    doing: HashMap<tokio::task::Id, Doing>,
    gaps: Vec<Gap>,
    notes: Vec<Value>,
    logs: u64,
    resources: usize,
    writer_failed: bool,
    cluster_id: String,
}

impl Run {
    fn new(ctx: Arc<Ctx>, gaps: Vec<Gap>) -> Self {
        Run {
            ctx,
            set: JoinSet::new(),
            pending: VecDeque::new(),
            log_jobs: None,
            doing: HashMap::new(),
            gaps,
            notes: Vec::new(),
            logs: 0,
            resources: 0,
            writer_failed: false,
            cluster_id: String::new(),
        }
    }

    async fn collect(mut self, version: Option<Value>) -> Finished {
        let ctx = self.ctx.clone();
        let stop = ctx.api.stop().clone();
        if let Some(version) = version {
            let data = serde_json::to_vec_pretty(&version).unwrap_or_default();
            self.writer_failed |= ctx
                .sink
                .bytes(layout::VERSION.into(), data, None)
                .await
                .is_err();
        }
        match ctx.api.get_json("/api/v1/namespaces/kube-system").await {
            Ok(ns) => {
                self.cluster_id = ns
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
            }
            Err(e) => {
                self.gaps
                    .push(e.gap(GapKind::ClusterId, "core/v1/namespaces/kube-system", &stop))
            }
        }
        let found = discovery::discover(&ctx.api, ctx.options.concurrency).await;
        self.gaps.extend(found.gaps);
        match serde_json::to_vec_pretty(&found.discovery) {
            Ok(data) => {
                self.writer_failed |= ctx
                    .sink
                    .bytes(layout::DISCOVERY.into(), data, None)
                    .await
                    .is_err()
            }
            Err(e) => self.gaps.push(
                Gap::new(GapKind::Discovery, layout::DISCOVERY, GapReason::Error)
                    .with_detail(e.to_string()),
            ),
        }
        let planned = discovery::plan(&found.discovery, &ctx.options.resources);
        ctx.progress.add_resources(planned.len() as u64);
        for p in planned {
            let doing = Doing {
                what: GapKind::Resource,
                location: p.label(),
            };
            self.spawn(doing, tasks::list_resource(ctx.clone(), p));
        }
        self.drive().await;
        Finished {
            gaps: self.gaps,
            notes: self.notes,
            logs: self.logs,
            resources: self.resources,
            writer_failed: self.writer_failed,
            cluster_id: self.cluster_id,
        }
    }

    fn spawn(&mut self, doing: Doing, task: impl Future<Output = Output> + Send + 'static) {
        let handle = self.set.spawn(task);
        self.doing.insert(handle.id(), doing);
    }

    /// Runs tasks to completion; once stopped, gives them [`GRACE`] and abandons the rest.
    async fn drive(&mut self) {
        let stop = self.ctx.api.stop().clone();
        let mut grace_until: Option<tokio::time::Instant> = None;
        let mut abandoned = false;
        loop {
            if stop.is_stopped() || self.writer_failed {
                self.drop_pending();
            } else {
                self.top_up();
            }
            let grace_sleep = async {
                match grace_until {
                    Some(t) if !abandoned => tokio::time::sleep_until(t).await,
                    _ => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                joined = self.set.join_next_with_id() => match joined {
                    None => break,
                    Some(Ok((id, output))) => {
                        self.doing.remove(&id);
                        self.absorb(output);
                    }
                    Some(Err(e)) => {
                        let doing = self.doing.remove(&e.id());
                        if let Some(d) = doing {
                            let (reason, detail) = if e.is_cancelled() {
                                (stop.gap_reason(), "abandoned: the collection stopped while it was running".to_string())
                            } else {
                                (GapReason::Error, format!("internal error: {e}"))
                            };
                            self.gaps.push(Gap::new(d.what, d.location, reason).with_detail(detail));
                        }
                    }
                },
                _ = stop.stopped(), if grace_until.is_none() => {
                    grace_until = Some(tokio::time::Instant::now() + GRACE);
                }
                _ = grace_sleep => {
                    abandoned = true;
                    self.set.abort_all();
                }
            }
        }
    }

    /// Spawns pending work while fewer than the window's tasks are in flight.
    fn top_up(&mut self) {
        let window = self.ctx.options.concurrency * WINDOW_PER_PERMIT;
        while self.set.len() < window {
            let Some(next) = self.next_pending() else {
                break;
            };
            let ctx = self.ctx.clone();
            match next {
                Pending::Log(job) => {
                    let doing = Doing {
                        what: GapKind::Logs,
                        location: job.label(),
                    };
                    self.spawn(doing, tasks::fetch_log(ctx, job));
                }
                Pending::Configz(node) => {
                    let doing = Doing {
                        what: GapKind::Configz,
                        location: node.clone(),
                    };
                    self.spawn(doing, tasks::fetch_configz(ctx, node));
                }
                Pending::NodeLog(node) => {
                    let doing = Doing {
                        what: GapKind::NodeLog,
                        location: node.clone(),
                    };
                    let progress = ctx.progress.clone();
                    let task = tasks::fetch_node_log(ctx, node);
                    self.spawn(doing, async move {
                        let out = task.await;
                        progress.log_done();
                        out
                    });
                }
            }
        }
    }

    /// The next work to spawn: node data first, then container logs.
    fn next_pending(&mut self) -> Option<Pending> {
        self.pending
            .pop_front()
            .or_else(|| self.log_jobs.as_mut()?.next().map(Pending::Log))
    }

    /// Once stopped, pending work will not run: each becomes a gap.
    fn drop_pending(&mut self) {
        let ctx = self.ctx.clone();
        while let Some(p) = self.next_pending() {
            let (what, location) = match p {
                Pending::Log(job) => {
                    ctx.progress.log_done();
                    (GapKind::Logs, job.label())
                }
                Pending::Configz(node) => (GapKind::Configz, node),
                Pending::NodeLog(node) => {
                    ctx.progress.log_done();
                    (GapKind::NodeLog, node)
                }
            };
            self.gaps.push(tasks::stopped_gap(&ctx, what, location));
        }
    }

    fn absorb(&mut self, output: Output) {
        self.gaps.extend(output.gaps);
        self.notes.extend(output.notes);
        self.logs += output.logs;
        if output.writer_failed && !self.writer_failed {
            self.writer_failed = true;
            // Nothing more can be written: stop this cluster's remaining work.
            self.set.abort_all();
        }
        let ctx = self.ctx.clone();
        if output.resource_written {
            self.resources += 1;
        }
        // Pods are only observed when logs are collected (tasks::list_resource).
        if let Some(jobs) = output.log_jobs {
            ctx.progress.add_logs(jobs.jobs);
            self.log_jobs = Some(LogJobReader::new(jobs));
        }
        if let Some(nodes) = output.nodes {
            for node in nodes {
                self.pending.push_back(Pending::Configz(node.clone()));
                if ctx.options.logs.enabled {
                    ctx.progress.add_logs(1);
                    self.pending.push_back(Pending::NodeLog(node));
                }
            }
        }
    }
}
