//! Logs of troubleshoot's `logs` collectors as versions before v0.48 (November 2022) wrote
//! them (`pkg/collect/logs.go`, `savePodLogs`): regular files with no namespace in the path,
//! `<collectorName>/<pod>/<container>.log` and `-previous.log`, or `<collectorName>/<pod>.log`
//! for a pod of one container (init containers counted) when the collector names no
//! container. A collector's name may hold `/` (`kots/admin_console`): logs up to three
//! directories deep are read. Later versions write
//! these paths as links to `cluster-resources/pods/logs/…`, which are converted there.
//!
//! A log is filed under the namespace of the one Pod of that name, in the bundle, that has
//! that container (or, for `<pod>.log`, that has one container); the Pods may come after the
//! logs in the archive, so logs wait in a temporary file until the end.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use serde_json::Value;

use crate::{ImportError, LogRef, Sink};

/// Top-level directories of a troubleshoot bundle that are not logs collectors.
const NOT_LOGS_COLLECTORS: &[&str] = &[
    "cluster-resources",
    "cluster-info",
    "host-collectors",
    "certificates",
    "execution-data",
];

/// The custom logs of a source, and the pods they may belong to.
#[derive(Default)]
pub(crate) struct CustomLogs {
    temp: Option<tempfile::TempDir>,
    pending: Vec<Pending>,
    /// Pod name → every Pod of that name.
    pods: HashMap<String, Vec<PodContainers>>,
}

struct PodContainers {
    namespace: String,
    /// Init, regular and ephemeral containers.
    all: Vec<String>,
    /// The only container, when the Pod has one (init containers counted, ephemeral ones
    /// not, as troubleshoot counted them).
    single: Option<String>,
}

struct Pending {
    /// The path in the source.
    path: String,
    /// The directories before the file (`<collectorName…>[/<pod>]`).
    dirs: String,
    /// The file name without `.log` and `-previous`: a container or a pod.
    name: String,
    previous: bool,
    spool: PathBuf,
}

/// `(directories, file)` when `path` may be where an older logs collector wrote a log
/// (`<collector…>/<pod>/<container>.log`, `<collector…>/<pod>.log`) or an error
/// (`<collector>/<pod>/<container>-errors.json`).
pub(crate) fn custom_log_path(path: &str) -> Option<(&str, &str)> {
    let (dirs, file) = path.rsplit_once('/')?;
    let top = dirs.split('/').next().unwrap_or(dirs);
    if NOT_LOGS_COLLECTORS.contains(&top) {
        return None;
    }
    let depth = dirs.split('/').count();
    let errors = file.ends_with("-errors.json") && depth == 2;
    // Deeper files are other collectors' (`copy` writes `<name>/<ns>/<pod>/<container>/…`).
    let log = file.ends_with(".log") && depth <= 3;
    (log || errors).then_some((dirs, file))
}

impl CustomLogs {
    /// A Pod object of the source.
    pub(crate) fn pod(&mut self, pod: &Value) {
        let meta = &pod["metadata"];
        let (Some(name), Some(namespace)) = (meta["name"].as_str(), meta["namespace"].as_str())
        else {
            return;
        };
        let names = |keys: &[&str]| -> Vec<String> {
            keys.iter()
                .flat_map(|k| pod["spec"][*k].as_array().into_iter().flatten())
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        };
        let single = match names(&["initContainers", "containers"]).as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        };
        self.pods
            .entry(name.to_string())
            .or_default()
            .push(PodContainers {
                namespace: namespace.to_string(),
                all: names(&["initContainers", "containers", "ephemeralContainers"]),
                single,
            });
    }

    /// A file at a [`custom_log_path`]: a log is kept for [`CustomLogs::finish`], an error
    /// becomes a gap.
    pub(crate) fn file(
        &mut self,
        (dirs, file): (&str, &str),
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        if let Some(container) = file.strip_suffix("-errors.json") {
            let mut message = String::new();
            body.take(4096)
                .read_to_string(&mut message)
                .map_err(|e| ImportError::io(path, e))?;
            let messages: Vec<String> = serde_json::from_str(&message).unwrap_or(vec![message]);
            sink.gap(Gap {
                what: GapKind::Logs,
                location: ktriage_schema::text::terminal_safe(&format!("{dirs}/{container}")),
                reason: GapReason::Error,
                detail: crate::troubleshoot::one_line(&messages.join("; ")),
            });
            return Ok(());
        }
        let name = file.strip_suffix(".log").unwrap_or(file);
        let (name, previous) = match name.strip_suffix("-previous") {
            Some(c) => (c, true),
            None => (name, false),
        };
        let temp = match &mut self.temp {
            Some(t) => t,
            None => self.temp.insert(
                tempfile::Builder::new()
                    .prefix("ktriage-import-logs-")
                    .tempdir()
                    .map_err(|e| ImportError::write("temporary directory", e))?,
            ),
        };
        let spool = temp.path().join(format!("log-{}", self.pending.len()));
        let mut out =
            BufWriter::new(File::create(&spool).map_err(|e| ImportError::write("log spool", e))?);
        let mut buf = vec![0; 64 << 10];
        loop {
            let n = body.read(&mut buf).map_err(|e| ImportError::io(path, e))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])
                .map_err(|e| ImportError::write("log spool", e))?;
        }
        out.flush()
            .map_err(|e| ImportError::write("log spool", e))?;
        self.pending.push(Pending {
            path: path.to_string(),
            dirs: dirs.to_string(),
            name: name.to_string(),
            previous,
            spool,
        });
        Ok(())
    }

    /// The namespaces of the Pods named `pod` that have `container`, or (`None`) one
    /// container, with that container.
    fn namespaces(&self, pod: &str, container: Option<&str>) -> Vec<(String, String)> {
        self.pods
            .get(pod)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let found = match container {
                    Some(c) => p.all.iter().find(|n| *n == c),
                    None => p.single.as_ref(),
                };
                found.map(|c| (p.namespace.clone(), c.clone()))
            })
            .collect()
    }

    /// Files every kept log under its pod's namespace, or reports a gap. Returns the paths
    /// that are not where a logs collector writes (no pod of theirs is in the bundle and
    /// they are not at `<collector>/<pod>/<container>.log`): the caller counts them among
    /// the files not converted.
    pub(crate) fn finish(&mut self, sink: &mut dyn Sink) -> Result<Vec<String>, ImportError> {
        let mut unresolved = Vec::new();
        for log in std::mem::take(&mut self.pending) {
            // `<collector…>/<pod>/<container>.log`, then `<collector…>/<pod>.log`.
            let by_container = log.dirs.rsplit_once('/').map(|(collector, pod)| {
                let found = self.namespaces(pod, Some(&log.name));
                (collector, pod, found)
            });
            let by_pod = (
                log.dirs.as_str(),
                log.name.as_str(),
                self.namespaces(&log.name, None),
            );
            let candidates: Vec<_> = by_container.into_iter().chain([by_pod]).collect();
            let chosen = candidates
                .iter()
                .find(|(.., found)| found.len() == 1)
                .or_else(|| candidates.iter().find(|(.., found)| found.len() > 1));
            let classic = log.dirs.split('/').count() == 2;
            let chosen = chosen.or_else(|| candidates.first().filter(|_| classic));
            let (collector, pod, found) = match chosen {
                Some(c) => c,
                None => {
                    unresolved.push(log.path.clone());
                    std::fs::remove_file(&log.spool).ok();
                    continue;
                }
            };
            let location = ktriage_schema::text::terminal_safe(&match found.first() {
                Some((_, container)) => format!("{collector}/{pod}/{container}"),
                None => format!("{}/{}", log.dirs, log.name),
            });
            let gap = |detail: String| Gap {
                what: GapKind::Logs,
                location: location.clone(),
                reason: GapReason::SourceFormat,
                detail: crate::troubleshoot::one_line(&detail),
            };
            match found.as_slice() {
                [(namespace, container)] => {
                    let file = File::open(&log.spool)
                        .map_err(|e| ImportError::write("log spool", e))?;
                    sink.log(
                        &LogRef {
                            namespace: namespace.clone(),
                            pod: pod.to_string(),
                            container: container.clone(),
                            previous: log.previous,
                        },
                        &mut BufReader::new(file),
                    )?;
                }
                [] => sink.gap(gap(format!(
                    "troubleshoot's logs collector {collector} wrote no namespace, and no pod of that name with that container is in the bundle; not converted"
                ))),
                _ => sink.gap(gap(format!(
                    "troubleshoot's logs collector {collector} wrote no namespace, and pods of that name are in {} namespaces ({}); not converted",
                    found.len(),
                    found.iter().map(|(ns, _)| ns.as_str()).collect::<Vec<_>>().join(", ")
                ))),
            }
            std::fs::remove_file(&log.spool).ok();
        }
        Ok(unresolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_older_logs_collectors_wrote_logs() {
        assert_eq!(
            custom_log_path("app-logs/web-0/nginx.log"),
            Some(("app-logs/web-0", "nginx.log"))
        );
        assert_eq!(
            custom_log_path("app-logs/web-0.log"),
            Some(("app-logs", "web-0.log"))
        );
        assert_eq!(
            custom_log_path("kots/admin_console/kotsadm-6d4b-previous.log"),
            Some(("kots/admin_console", "kotsadm-6d4b-previous.log"))
        );
        assert_eq!(
            custom_log_path("app-logs/web-0/nginx-errors.json"),
            Some(("app-logs/web-0", "nginx-errors.json"))
        );
        // Other collectors' files, and what is not a log.
        assert_eq!(custom_log_path("copy/ns/pod/c/app.log"), None);
        assert_eq!(custom_log_path("ceph/status-errors.json"), None);
        assert_eq!(custom_log_path("web-0.log"), None);
        assert_eq!(custom_log_path("execution-data/run.log"), None);
        assert_eq!(custom_log_path("cluster-info/x/y.log"), None);
        assert_eq!(custom_log_path("app-logs/web-0/nginx.txt"), None);
    }
}
