//! `kubectl cluster-info dump`, in both its forms:
//! - `--output-directory DIR`: `nodes.json`, `<ns>/{events,replication-controllers,services,
//!   daemonsets,deployments,replicasets,pods}.json` (one List each; `.yaml` with `-o yaml`)
//!   and `<ns>/<pod>/logs.txt` with the logs of every container of the pod, init containers
//!   first, each between START and END lines;
//! - standard output: the same Lists and log blocks one after another in one stream.
//!
//! The dump holds nothing else, so everything else is reported as a `source-format` gap.

mod lists;
mod log_block;
pub(crate) mod names;
mod resources;
mod stream;

use std::io::Read;

use ktriage_schema::manifest::{Gap, GapKind};

use crate::{Converter, Format, ImportError, Probe, Sink};
use names::is_object_name;
use stream::Expect;

pub(crate) use crate::json_stream::ListHeader;
pub(crate) use lists::complete_item;

pub struct ClusterInfoDump;

pub static CLUSTER_INFO_DUMP: ClusterInfoDump = ClusterInfoDump;

impl Format for ClusterInfoDump {
    fn name(&self) -> &'static str {
        "cluster-info-dump"
    }

    fn detect(&self, probe: &Probe) -> bool {
        if let Some(head) = &probe.head {
            return is_stream_head(head);
        }
        let has = |name: &str| probe.paths.iter().any(|p| p == name);
        let namespaced_pods = |ext: &str| {
            probe.paths.iter().any(|p| {
                p.strip_suffix(ext)
                    .and_then(|p| p.split_once('/'))
                    .is_some_and(|(ns, file)| file == "pods" && is_object_name(ns))
            })
        };
        (has("nodes.json") && namespaced_pods(".json"))
            || (has("nodes.yaml") && namespaced_pods(".yaml"))
    }

    fn converter(&self) -> Box<dyn Converter> {
        Box::new(ClusterInfoConverter)
    }
}

/// The single stream begins with the List of Nodes, as kubectl prints it: a JSON object whose
/// first keys are `"kind": "NodeList"`.
fn is_stream_head(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    text.starts_with('{')
        && text
            .split_once("\"kind\"")
            .map(|(_, rest)| rest.trim_start())
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| rest.trim_start().starts_with("\"NodeList\""))
}

struct ClusterInfoConverter;

impl Converter for ClusterInfoConverter {
    fn file(
        &mut self,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let parts: Vec<&str> = path.split('/').collect();
        let expect = match parts.as_slice() {
            // kubectl writes one file per pod; a per-container file is read the same way.
            [namespace, pod, "logs.txt"] | [namespace, pod, _, "logs.txt"]
                if is_object_name(namespace) && is_object_name(pod) =>
            {
                Expect {
                    items: None,
                    pod: Some((namespace, pod)),
                }
            }
            [.., file] if file.ends_with(".yaml") => {
                return yaml_list(path, file, body, sink);
            }
            // One plain file: the single stream, whatever its name.
            [file] => Expect {
                items: resources::by_file_stem(file.strip_suffix(".json").unwrap_or(file)),
                pod: None,
            },
            [_, file] => match file.strip_suffix(".json").and_then(resources::by_file_stem) {
                Some(items) => Expect {
                    items: Some(items),
                    pod: None,
                },
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        stream::convert(path, body, expect, sink)
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), ImportError> {
        for (what, location, detail) in LACKS {
            sink.gap(Gap::source_format(
                what.clone(),
                *location,
                format!("kubectl cluster-info dump {detail}"),
            ));
        }
        Ok(())
    }
}

/// The directory form written with `-o yaml`: each file is one List.
fn yaml_list(
    path: &str,
    file: &str,
    body: &mut dyn Read,
    sink: &mut dyn Sink,
) -> Result<(), ImportError> {
    let Some((version, kind, resource)) =
        file.strip_suffix(".yaml").and_then(resources::by_file_stem)
    else {
        return Ok(());
    };
    crate::must_gather::yaml::for_each_object(path, body, &mut |header, mut item| {
        if !complete_item(&mut item, header, Some((version, kind))) {
            return Err(ImportError::bad_input(path, "an item is not an object"));
        }
        sink.object(item, Some(resource))
    })
}

/// What a dump never holds: `(what, where, why)`.
const LACKS: &[(GapKind, &str, &str)] = &[
    (GapKind::Discovery, "", "records no API discovery"),
    (
        GapKind::Resource,
        "other resource types",
        "holds only nodes, events, services, deployments, daemonsets, replica sets, \
         replication controllers and pods of the dumped namespaces",
    ),
    (
        GapKind::Version,
        "/version",
        "does not record the server version",
    ),
    (
        GapKind::Logs,
        "previous",
        "holds no logs of previous container instances",
    ),
    (GapKind::Configz, "", "holds no kubelet configuration"),
    (GapKind::NodeLog, "", "holds no node logs"),
    (GapKind::Fact, "", "holds no host data"),
];
