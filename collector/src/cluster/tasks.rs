//! The units of work of a cluster collection, each run as its own task under the shared
//! concurrency limit: list one resource, fetch one log, fetch one node's configz or kubelet
//! log. Each returns what it collected and its gaps; none can fail the collection except a
//! dead archive writer.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cluster::api::Api;
use crate::cluster::discovery::Planned;
use crate::cluster::jobspool::{LogJobFile, LogJobWriter};
use crate::cluster::list::{ApiPages, ListError, ListReport, Observer, Spool, paginate};
use crate::cluster::logs::LogJob;
use crate::cluster::node_data;
use crate::cluster::options::Options;
use crate::cluster::pods::NodeObserver;
use crate::cluster::sink::Sink;
use crate::progress::Progress;
use crate::redact::Redactor;

/// What every task of one cluster shares.
pub struct Ctx {
    /// The cluster's API.
    pub api: Api,
    /// The run's options.
    pub options: Arc<Options>,
    /// The cluster's redactor (its counts go into this bundle's manifest).
    pub redactor: Arc<Redactor>,
    /// The archive writer.
    pub sink: Sink,
    /// Counters and bar.
    pub progress: Arc<Progress>,
    /// Where resource lists are spooled (beside the output, which is writable).
    pub spool_dir: PathBuf,
    /// The run-wide concurrency limit.
    pub permits: Arc<Semaphore>,
    /// Collection start, for `--since` on node logs.
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// What a task reports back.
#[derive(Debug, Default)]
pub struct Output {
    /// What it could not collect.
    pub gaps: Vec<Gap>,
    /// List restarts and other events worth recording in the manifest.
    pub notes: Vec<Value>,
    /// Logs written.
    pub logs: u64,
    /// The container logs noted while listing pods.
    pub log_jobs: Option<LogJobFile>,
    /// Node names noted while listing nodes.
    pub nodes: Option<Vec<String>>,
    /// Whether a resource file was written.
    pub resource_written: bool,
    /// Set when the archive writer is gone: the collection cannot go on.
    pub writer_failed: bool,
}

impl Output {
    fn gap(gap: Gap) -> Self {
        Output {
            gaps: vec![gap],
            ..Default::default()
        }
    }
}

/// A gap for work cut off by the stop before it started.
pub fn stopped_gap(ctx: &Ctx, what: GapKind, location: String) -> Gap {
    Gap::new(what, location, ctx.api.stop().gap_reason())
        .with_detail("not collected: the collection stopped first")
}

async fn permit(ctx: &Ctx) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        biased;
        _ = ctx.api.stop().stopped() => None,
        p = ctx.permits.clone().acquire_owned() => p.ok(),
    }
}

enum AnyObserver {
    None,
    Pods(LogJobWriter),
    Nodes(NodeObserver),
}

impl Observer for AnyObserver {
    fn observe(&mut self, object: &Value) {
        match self {
            AnyObserver::None => {}
            AnyObserver::Pods(o) => o.observe(object),
            AnyObserver::Nodes(o) => o.observe(object),
        }
    }
    fn len(&self) -> usize {
        match self {
            AnyObserver::None => 0,
            AnyObserver::Pods(o) => o.len(),
            AnyObserver::Nodes(o) => o.len(),
        }
    }
    fn truncate(&mut self, len: usize) {
        match self {
            AnyObserver::None => {}
            AnyObserver::Pods(o) => o.truncate(len),
            AnyObserver::Nodes(o) => o.truncate(len),
        }
    }
}

/// Lists one resource (per namespace with `-n`) into the bundle.
pub async fn list_resource(ctx: Arc<Ctx>, planned: Planned) -> Output {
    let label = planned.label();
    let Some(permit) = permit(&ctx).await else {
        return Output::gap(stopped_gap(&ctx, GapKind::Resource, label));
    };
    let mut out = Output::default();
    let scopes: Vec<Option<&str>> =
        if planned.resource.namespaced && !ctx.options.namespaces.is_empty() {
            ctx.options
                .namespaces
                .iter()
                .map(|n| Some(n.as_str()))
                .collect()
        } else {
            vec![None]
        };
    let file = match tempfile::tempfile_in(&ctx.spool_dir) {
        Ok(f) => f,
        Err(e) => {
            return Output::gap(
                Gap::new(GapKind::Resource, label, GapReason::Error).with_detail(format!(
                    "cannot create a spool file in {}: {e}",
                    ctx.spool_dir.display()
                )),
            );
        }
    };
    // Pods are noted only to fetch their logs: without logs, nothing per pod is kept.
    let observer = if planned.is_core("pods") && ctx.options.logs.enabled {
        match tempfile::tempfile_in(&ctx.spool_dir) {
            Ok(jobs) => {
                let options = ctx.clone();
                AnyObserver::Pods(LogJobWriter::new(jobs, move |ns| {
                    options.options.wants_namespace(ns)
                }))
            }
            Err(e) => {
                out.gaps.push(
                    Gap::new(GapKind::Logs, label.clone(), GapReason::Error).with_detail(format!(
                        "cannot create a spool file in {}: {e}",
                        ctx.spool_dir.display()
                    )),
                );
                AnyObserver::None
            }
        }
    } else if planned.is_core("nodes") {
        AnyObserver::Nodes(NodeObserver::default())
    } else {
        AnyObserver::None
    };
    let progress = ctx.progress.clone();
    let on_objects = move |n: i64| progress.objects(n);
    let no_exclusions = BTreeSet::new();
    let excluded = if ctx.options.namespaces.is_empty() {
        &ctx.options.exclude_namespaces
    } else {
        &no_exclusions
    };
    let mut spool = Spool::new(
        file,
        planned.api_version(),
        planned.resource.kind.clone(),
        &ctx.redactor,
        excluded,
        observer,
        &on_objects,
    );
    let mut collected_any = false;
    for scope in scopes {
        let location = match scope {
            Some(ns) => format!("{label} (namespace {ns})"),
            None => label.clone(),
        };
        if ctx.api.stop().is_stopped() {
            out.gaps
                .push(stopped_gap(&ctx, GapKind::Resource, location));
            continue;
        }
        let mut source = ApiPages {
            api: &ctx.api,
            path: planned.list_path(scope),
        };
        let mut report = ListReport::default();
        match paginate(&mut source, &mut spool, ctx.options.chunk_size, &mut report).await {
            Ok(()) => collected_any = true,
            Err(ListError::Api(e)) => {
                let mut gap = e.gap(GapKind::Resource, location, ctx.api.stop());
                if report.pages > 0 {
                    gap.detail = format!(
                        "{} (after {} pages: the objects of those pages are kept)",
                        gap.detail, report.pages
                    );
                    collected_any = true;
                }
                out.gaps.push(gap);
            }
            Err(ListError::Io(e)) => out.gaps.push(
                Gap::new(GapKind::Resource, location, GapReason::Error)
                    .with_detail(format!("spool file: {e}")),
            ),
        }
        if report.restarts > 0 {
            out.notes.push(json!({
                "event": "list-restarted",
                "resource": label,
                "namespace": scope,
                "restarts": report.restarts,
                "full_relist": report.full_relist,
                "detail": "continue token expired (410); the list was read again from the start",
            }));
        }
    }
    drop(permit);
    out.gaps.extend_from_slice(spool.oversized());
    let finished = spool.finish();
    ctx.progress.resource_done();
    let (file, size, observer) = match finished {
        Ok(f) => f,
        Err(e) => {
            out.gaps.push(
                Gap::new(GapKind::Resource, label, GapReason::Error)
                    .with_detail(format!("spool file: {e}")),
            );
            return out;
        }
    };
    match observer {
        AnyObserver::Pods(jobs) => match jobs.finish() {
            Ok(jobs) => out.log_jobs = Some(jobs),
            Err(e) => out.gaps.push(
                Gap::new(GapKind::Logs, label.clone(), GapReason::Error)
                    .with_detail(format!("log list spool file: {e}")),
            ),
        },
        AnyObserver::Nodes(n) => out.nodes = Some(n.0),
        AnyObserver::None => {}
    }
    if collected_any {
        let path = layout::resource_path(&planned.group, &planned.version, &planned.resource.name);
        if ctx.sink.file(path, file, size).await.is_err() {
            out.writer_failed = true;
        } else {
            out.resource_written = true;
        }
    }
    out
}

/// Fetches one container log into the bundle.
pub async fn fetch_log(ctx: Arc<Ctx>, job: LogJob) -> Output {
    let path = match job.bundle_path() {
        Ok(p) => p,
        Err(gap) => {
            ctx.progress.log_done();
            return Output::gap(gap);
        }
    };
    let Some(permit) = permit(&ctx).await else {
        ctx.progress.log_done();
        return Output::gap(stopped_gap(&ctx, GapKind::Logs, job.label()));
    };
    let bounds = &ctx.options.logs;
    let result = ctx
        .api
        .get_tail(&job.api_path(bounds), bounds.max_bytes)
        .await;
    drop(permit);
    ctx.progress.log_done();
    let tail = match result {
        Ok(t) => t,
        Err(e) => return Output::gap(e.gap(GapKind::Logs, job.label(), ctx.api.stop())),
    };
    let truncated = crate::cluster::logs::truncation(&tail.data, tail.dropped, bounds);
    let data = ctx.redactor.redact_bytes(&tail.data).into_owned();
    let mut out = Output::default();
    if ctx.sink.bytes(path, data, truncated).await.is_err() {
        out.writer_failed = true;
    } else {
        out.logs = 1;
    }
    out
}

/// Fetches one node's kubelet configuration.
pub async fn fetch_configz(ctx: Arc<Ctx>, node: String) -> Output {
    if let Err(gap) = node_data::check_name(&node, GapKind::Configz) {
        return Output::gap(gap);
    }
    let Some(permit) = permit(&ctx).await else {
        return Output::gap(stopped_gap(&ctx, GapKind::Configz, node));
    };
    let result = ctx.api.get_json(&node_data::configz_path(&node)).await;
    drop(permit);
    let mut value = match result {
        Ok(v) => v,
        Err(e) => return Output::gap(e.gap(GapKind::Configz, node, ctx.api.stop())),
    };
    ctx.redactor.redact_json(&mut value);
    let mut out = Output::default();
    let data = match serde_json::to_vec_pretty(&value) {
        Ok(d) => d,
        Err(e) => {
            return Output::gap(
                Gap::new(GapKind::Configz, node, GapReason::Error).with_detail(e.to_string()),
            );
        }
    };
    if ctx
        .sink
        .bytes(layout::node_configz_path(&node), data, None)
        .await
        .is_err()
    {
        out.writer_failed = true;
    }
    out
}

/// Fetches one node's kubelet log through the node log query.
pub async fn fetch_node_log(ctx: Arc<Ctx>, node: String) -> Output {
    if let Err(gap) = node_data::check_name(&node, GapKind::NodeLog) {
        return Output::gap(gap);
    }
    let Some(permit) = permit(&ctx).await else {
        return Output::gap(stopped_gap(&ctx, GapKind::NodeLog, node));
    };
    let bounds = &ctx.options.logs;
    let path = node_data::kubelet_log_path(&node, bounds, ctx.started_at);
    let result = ctx.api.get_tail(&path, bounds.max_bytes).await;
    drop(permit);
    let tail = match result {
        Ok(t) => t,
        Err(e) => return Output::gap(e.gap(GapKind::NodeLog, node, ctx.api.stop())),
    };
    if node_data::is_directory_listing(&tail.data) {
        return Output::gap(Gap::new(GapKind::NodeLog, node, GapReason::NotFound).with_detail("the kubelet answered with a directory listing: its log query (enableSystemLogQuery) is off"));
    }
    let truncated = crate::cluster::logs::truncation(&tail.data, tail.dropped, bounds);
    let data = ctx.redactor.redact_bytes(&tail.data).into_owned();
    let mut out = Output::default();
    if ctx
        .sink
        .bytes(layout::node_log_path(&node, "kubelet"), data, truncated)
        .await
        .is_err()
    {
        out.writer_failed = true;
    } else {
        out.logs = 1;
    }
    out
}
