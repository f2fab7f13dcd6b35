//! Logs of troubleshoot's `logs` collectors as versions before v0.48 (November 2022) wrote
//! them: `<collectorName>/<pod>/<container>.log` and `-previous.log`, regular files with no
//! namespace in the path (later versions write these paths as links to
//! `cluster-resources/pods/logs/…`, which are converted there). A log is filed under the
//! namespace of the one Pod of that name, in the bundle, that has that container; the Pods
//! may come after the logs in the archive, so logs wait in a temporary file until the end.

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
];

/// The custom logs of a source, and the pods they may belong to.
#[derive(Default)]
pub(crate) struct CustomLogs {
    temp: Option<tempfile::TempDir>,
    pending: Vec<Pending>,
    /// Pod name → (namespace, container names) of every Pod of that name.
    pods: HashMap<String, Vec<(String, Vec<String>)>>,
}

struct Pending {
    collector: String,
    pod: String,
    container: String,
    previous: bool,
    spool: PathBuf,
}

/// `(collector, pod, file)` when `path` is where an older logs collector wrote a log or
/// its error.
pub(crate) fn custom_log_path(path: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        [collector, pod, file]
            if !NOT_LOGS_COLLECTORS.contains(collector)
                && (file.ends_with(".log") || file.ends_with("-errors.json")) =>
        {
            Some((collector, pod, file))
        }
        _ => None,
    }
}

impl CustomLogs {
    /// A Pod object of the source.
    pub(crate) fn pod(&mut self, pod: &Value) {
        let meta = &pod["metadata"];
        let (Some(name), Some(namespace)) = (meta["name"].as_str(), meta["namespace"].as_str())
        else {
            return;
        };
        let containers = ["initContainers", "containers", "ephemeralContainers"]
            .iter()
            .flat_map(|k| pod["spec"][*k].as_array().into_iter().flatten())
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect();
        self.pods
            .entry(name.to_string())
            .or_default()
            .push((namespace.to_string(), containers));
    }

    /// A file at a [`custom_log_path`]: a log is kept for [`CustomLogs::finish`], an error
    /// becomes a gap.
    pub(crate) fn file(
        &mut self,
        (collector, pod, file): (&str, &str, &str),
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
                location: ktriage_schema::text::terminal_safe(&format!(
                    "{collector}/{pod}/{container}"
                )),
                reason: GapReason::Error,
                detail: crate::troubleshoot::one_line(&messages.join("; ")),
            });
            return Ok(());
        }
        let name = file.strip_suffix(".log").unwrap_or(file);
        let (container, previous) = match name.strip_suffix("-previous") {
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
            collector: collector.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            previous,
            spool,
        });
        Ok(())
    }

    /// Files every kept log under its pod's namespace, or reports a gap.
    pub(crate) fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), ImportError> {
        for log in std::mem::take(&mut self.pending) {
            let namespaces: Vec<&str> = self
                .pods
                .get(&log.pod)
                .into_iter()
                .flatten()
                .filter(|(_, containers)| containers.contains(&log.container))
                .map(|(ns, _)| ns.as_str())
                .collect();
            let location = ktriage_schema::text::terminal_safe(&format!(
                "{}/{}/{}",
                log.collector, log.pod, log.container
            ));
            let gap = |detail: String| Gap {
                what: GapKind::Logs,
                location: location.clone(),
                reason: GapReason::SourceFormat,
                detail: crate::troubleshoot::one_line(&detail),
            };
            match namespaces.as_slice() {
                [namespace] => {
                    let file = File::open(&log.spool)
                        .map_err(|e| ImportError::write("log spool", e))?;
                    sink.log(
                        &LogRef {
                            namespace: namespace.to_string(),
                            pod: log.pod.clone(),
                            container: log.container.clone(),
                            previous: log.previous,
                        },
                        &mut BufReader::new(file),
                    )?;
                }
                [] => sink.gap(gap(format!(
                    "troubleshoot's logs collector {} wrote no namespace, and no pod of that name with that container is in the bundle; not converted",
                    log.collector
                ))),
                _ => sink.gap(gap(format!(
                    "troubleshoot's logs collector {} wrote no namespace, and pods of that name are in {} namespaces ({}); not converted",
                    log.collector,
                    namespaces.len(),
                    namespaces.join(", ")
                ))),
            }
            std::fs::remove_file(&log.spool).ok();
        }
        Ok(())
    }
}
