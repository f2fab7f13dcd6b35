//! OpenShift must-gather: what `oc adm must-gather` copies out of its gathering image, mostly
//! written by `oc adm inspect`:
//! - `cluster-scoped-resources/<group>/<resource>.yaml` (Lists) and
//!   `cluster-scoped-resources/<group>/<resource>/<name>.yaml` (objects), `core` standing for
//!   the core group;
//! - `namespaces/<ns>/<ns>.yaml`, `namespaces/<ns>/<group>/<resource>.yaml` and
//!   `namespaces/<ns>/<group>/<resource>/<name>.yaml`;
//! - `namespaces/<ns>/pods/<pod>/<pod>.yaml` and the logs
//!   `namespaces/<ns>/pods/<pod>/<container>/<container>/logs/{current,previous}.log`
//!   (`*.insecure.log` when oc had to skip the kubelet's TLS check);
//! - `timestamp`: the start and end of gathering.
//!
//! Everything may sit under the wrapping `must-gather.local.<n>/<image>/` directories.

mod paths;
pub(crate) mod yaml;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, Utc};
use ktriage_schema::manifest::{Gap, GapKind};
use serde_json::{Value, json};

use crate::cluster_info::complete_item;
use crate::{Converter, Format, ImportError, LogRef, Probe, Sink};
use paths::Entry;

pub struct MustGather;

pub static MUST_GATHER: MustGather = MustGather;

impl Format for MustGather {
    fn name(&self) -> &'static str {
        "must-gather"
    }

    fn detect(&self, probe: &Probe) -> bool {
        probe.head.is_none() && paths::looks_like_must_gather(&probe.paths)
    }

    fn converter(&self) -> Box<dyn Converter> {
        Box::new(MustGatherConverter::default())
    }
}

#[derive(Default)]
struct MustGatherConverter {
    /// Objects already sent: a pod is both in `core/pods.yaml` and in `pods/<pod>/<pod>.yaml`,
    /// and several gathering images may write the same object.
    seen: HashSet<String>,
    /// Logs sent, and logs seen empty (sent at the end if no other copy had content: oc writes
    /// `current.log`, and `current.insecure.log` when the first attempt failed).
    logs_sent: HashSet<(String, String, String, bool)>,
    logs_empty: Vec<LogRef>,
    started: Option<DateTime<Utc>>,
    finished: Option<DateTime<Utc>>,
    version_seen: bool,
}

impl Converter for MustGatherConverter {
    fn file(
        &mut self,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        match paths::classify(path) {
            Entry::Timestamp => self.timestamp(path, body),
            Entry::Objects {
                namespace: _,
                group,
                resource,
            } => self.objects(path, group, resource, body, sink),
            Entry::Log { log, insecure: _ } => self.log(path, log, body, sink),
            Entry::Other => Ok(()),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), ImportError> {
        for log in std::mem::take(&mut self.logs_empty) {
            if !self.logs_sent.contains(&log_key(&log)) {
                sink.log(&log, &mut std::io::empty())?;
            }
        }
        if let (Some(started), Some(finished)) = (self.started, self.finished) {
            sink.collected(started, finished);
        }
        let mut lacks = LACKS.to_vec();
        if !self.version_seen {
            lacks.push((
                GapKind::Version,
                "/version",
                "records the Kubernetes version only in the kube-apiserver ClusterOperator, \
                 absent here",
            ));
        }
        for (what, location, detail) in lacks {
            sink.gap(Gap::source_format(
                what,
                location,
                format!("must-gather {detail}"),
            ));
        }
        Ok(())
    }
}

impl MustGatherConverter {
    fn objects(
        &mut self,
        path: &str,
        group: &str,
        resource: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        // Items carry their own kind (oc writes what the dynamic client returns); the core
        // kinds oc writes one by one are the only ones known from the path alone.
        let fallback = match (group, resource) {
            ("core", "pods") => Some(("v1", "Pod")),
            ("core", "namespaces") => Some(("v1", "Namespace")),
            _ => None,
        };
        yaml::for_each_object(path, body, &mut |header, mut item| {
            if !complete_item(&mut item, header, fallback) {
                return Err(ImportError::bad_input(
                    path,
                    "an object without a kind (neither its own nor its List's)",
                ));
            }
            if !self.seen.insert(identity(&item)) {
                return Ok(());
            }
            if let Some(version) = kube_version(&item) {
                self.version_seen = true;
                sink.version(version)?;
            }
            sink.object(item, Some(resource))
        })
    }

    fn log(
        &mut self,
        path: &str,
        log: LogRef,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let key = log_key(&log);
        if self.logs_sent.contains(&key) {
            return Ok(());
        }
        let mut body = BufReader::new(body);
        let empty = body
            .fill_buf()
            .map_err(|e| ImportError::io(path, e))?
            .is_empty();
        if empty {
            // oc creates the file before asking for the log: an empty `previous.log` is what
            // it leaves for a container that never restarted, not a log.
            if !log.previous {
                self.logs_empty.push(log);
            }
            return Ok(());
        }
        sink.log(&log, &mut body)?;
        self.logs_sent.insert(key);
        Ok(())
    }

    /// Go's `time.Now()` printed, one line at the start and one at the end of gathering:
    /// `2024-05-10 12:34:56.123456789 +0000 UTC m=+0.012345678`.
    fn timestamp(&mut self, path: &str, body: &mut dyn Read) -> Result<(), ImportError> {
        let mut text = String::new();
        body.take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|_| ImportError::bad_input(path, "not a text file of times"))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let stamp: Vec<&str> = line.split_whitespace().take(3).collect();
            let time = DateTime::parse_from_str(&stamp.join(" "), "%Y-%m-%d %H:%M:%S%.f %z")
                .map_err(|_| {
                    ImportError::bad_input(
                        path,
                        format!(
                            "not a time: {}",
                            crate::cluster_info::names::quoted(line.as_bytes())
                        ),
                    )
                })?
                .with_timezone(&Utc);
            self.started = Some(self.started.map_or(time, |t| t.min(time)));
            self.finished = Some(self.finished.map_or(time, |t| t.max(time)));
        }
        Ok(())
    }
}

fn log_key(log: &LogRef) -> (String, String, String, bool) {
    (
        log.namespace.clone(),
        log.pod.clone(),
        log.container.clone(),
        log.previous,
    )
}

/// What tells two copies of an object apart: group, kind, namespace and name.
fn identity(item: &Value) -> String {
    let group = item["apiVersion"]
        .as_str()
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(g, _)| g);
    let meta = &item["metadata"];
    format!(
        "{group}\n{}\n{}\n{}",
        item["kind"].as_str().unwrap_or_default(),
        meta["namespace"].as_str().unwrap_or_default(),
        meta["name"].as_str().unwrap_or_default(),
    )
}

/// The server's version from the `kube-apiserver` ClusterOperator, which lists the
/// Kubernetes version it runs (`status.versions[name=kube-apiserver].version`, `1.28.5`).
fn kube_version(item: &Value) -> Option<Value> {
    if item["kind"] != "ClusterOperator" || item["metadata"]["name"] != "kube-apiserver" {
        return None;
    }
    let version = item["status"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == "kube-apiserver")?["version"]
        .as_str()?;
    let bare = version.trim_start_matches('v');
    let mut parts = bare.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    Some(json!({
        "gitVersion": format!("v{bare}"),
        "major": major,
        "minor": minor,
    }))
}

/// What a must-gather never holds: `(what, where, why)`.
const LACKS: &[(GapKind, &str, &str)] = &[
    (GapKind::Discovery, "", "records no API discovery"),
    (
        GapKind::Resource,
        "workload namespaces",
        "inspects the platform's namespaces and resources, not every namespace of the cluster",
    ),
    (GapKind::Configz, "", "holds no kubelet configuration"),
    (
        GapKind::NodeLog,
        "",
        "node logs it may hold are not converted",
    ),
    (GapKind::Fact, "", "holds no host data"),
];
