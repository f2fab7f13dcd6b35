//! Replicated troubleshoot support bundles (`support-bundle-*.tar.gz`, what `sbctl` serves).
//!
//! Layout, as troubleshoot's collectors write it (`pkg/collect/cluster_resources.go`,
//! `cluster_info.go`, `logs.go`), relative to the bundle's wrapping directory:
//! - `cluster-resources/<name>.json`: a cluster-scoped resource; `<name>/<namespace>.json`:
//!   a namespaced one. Current versions write `List` objects, older ones bare arrays; some
//!   names are not plurals (`pvs`, `ingress`, `network-policy`, ...): see [`plural_of`].
//! - `cluster-resources/custom-resources/<plural.group>[/<namespace>].{json,yaml}`: the same
//!   objects twice, as JSON and YAML; whichever comes first is kept.
//! - `cluster-resources/custom-resource-definitions.json`; `resources.json` and
//!   `groups.json`: discovery.
//! - `cluster-resources/pods/logs/<ns>/<pod>/<container>.log` and `-previous.log`;
//!   `<container>-logs-errors.log` when a log could not be fetched.
//! - `<name>-errors.json` beside a resource (a list of messages, or namespace → message):
//!   gaps.
//! - `cluster-info/cluster_version.json` (`{"info": <version>, "string": ...}`),
//!   `version.yaml` (the troubleshoot version), `analysis.json` (its analyzers' results).
//! - `host-collectors/…`: host collectors' output, one node bundle per host
//!   ([`crate::troubleshoot_host`]).
//! - `certificates/certificates.json`: certificates read from Secrets and ConfigMaps, kept
//!   as a source file (they belong to no host).
//! - `<collectorName>/<pod>/<container>.log`, `<collectorName>/<pod>.log`: logs collectors of
//!   older versions ([`crate::troubleshoot_logs`]).

use std::collections::{BTreeSet, HashSet};
use std::io::Read;

use ktriage_schema::discovery::{ApiResource, Discovery, split_api_version};
use ktriage_schema::layout::SourceFinding;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use serde::Deserialize;
use serde_json::Value;

use crate::troubleshoot_host::{HOST_COLLECTORS, HostCollectors};
use crate::troubleshoot_logs::{CustomLogs, custom_log_path};
use crate::{Converter, Format, ImportError, LogRef, Probe, Sink, json_stream};

/// Largest document read whole (YAML, discovery, analysis): larger ones are left out.
const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

const RESOURCES: &str = "cluster-resources/";
const CUSTOM_RESOURCES: &str = "cluster-resources/custom-resources/";
const POD_LOGS: &str = "cluster-resources/pods/logs/";
/// The in-cluster certificates collector's output.
const CLUSTER_CERTIFICATES: &str = "certificates/certificates.json";

/// The troubleshoot format.
pub struct Troubleshoot;

impl Format for Troubleshoot {
    fn name(&self) -> &'static str {
        "troubleshoot"
    }

    fn detect(&self, probe: &Probe) -> bool {
        probe.paths.iter().any(|p| {
            p == "cluster-info/cluster_version.json"
                || p == "cluster-resources/namespaces.json"
                || p == "cluster-resources/nodes.json"
                || (p.starts_with(RESOURCES) && p.ends_with(".json"))
                // A bundle of host collectors only (`support-bundle --host`).
                || p.starts_with("host-collectors/system/")
        })
    }

    fn converter(&self) -> Box<dyn Converter> {
        Box::new(TroubleshootConverter::default())
    }
}

#[derive(Default)]
struct TroubleshootConverter {
    /// Custom-resource files converted, without extension: the YAML twin is skipped.
    custom_resources: HashSet<String>,
    resources: Option<Vec<ResourceList>>,
    groups: Option<Vec<Group>>,
    hosts: HostCollectors,
    custom_logs: CustomLogs,
    /// Names of the Node objects, to tell which nodes have no host data.
    nodes: BTreeSet<String>,
    version_seen: bool,
    not_converted: Vec<String>,
    not_converted_count: u64,
}

#[derive(Deserialize)]
struct ResourceList {
    #[serde(rename = "groupVersion", default)]
    group_version: String,
    #[serde(default)]
    resources: Vec<ApiResource>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    name: String,
    #[serde(rename = "preferredVersion", default)]
    preferred: Option<GroupVersion>,
}

#[derive(Deserialize)]
struct GroupVersion {
    #[serde(default)]
    version: String,
}

/// The resource a `cluster-resources/` name stands for; `None` for what holds no objects.
fn plural_of(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let plural = match lower.as_str() {
        "ingress" => "ingresses",
        "network-policy" => "networkpolicies",
        "resource-quota" | "resource-quotas" => "resourcequotas",
        "storage-classes" => "storageclasses",
        "pod-disruption-budgets" => "poddisruptionbudgets",
        // `storage-errors.json`: storage classes' errors before `storage-classes-errors.json`.
        "storage" => "storageclasses",
        "pvs" => "persistentvolumes",
        "pvcs" => "persistentvolumeclaims",
        "ingress-classes" => "ingressclasses",
        "custom-resource-definitions" => "customresourcedefinitions",
        "validating-webhook-configurations" => "validatingwebhookconfigurations",
        "mutating-webhook-configurations" => "mutatingwebhookconfigurations",
        // Access reviews, registry credentials summaries, a license, discovery.
        "auth-cani-list" | "image-pull-secrets" | "license" | "groups" | "resources"
        | "groups-resources" => return None,
        other => other,
    };
    Some(plural.to_string())
}

impl TroubleshootConverter {
    fn objects(
        &mut self,
        path: &str,
        body: &mut dyn Read,
        resource: Option<&str>,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let (custom_logs, nodes) = (&mut self.custom_logs, &mut self.nodes);
        let result = json_stream::for_each_item(path, body, &mut |item| {
            match resource {
                Some("pods") => custom_logs.pod(&item),
                Some("nodes") => {
                    if let Some(name) = item["metadata"]["name"].as_str() {
                        nodes.insert(name.to_string());
                    }
                }
                _ => {}
            }
            sink.object(item, resource)
        });
        tolerate(path, result.map(|_| ()), sink)
    }

    fn custom_resources(
        &mut self,
        rest: &str,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let (stem, yaml) = match (rest.strip_suffix(".json"), rest.strip_suffix(".yaml")) {
            (Some(stem), _) => (stem, false),
            (_, Some(stem)) => (stem, true),
            _ => return self.skip(path),
        };
        if stem.ends_with("-errors") {
            return errors(path, body, "custom-resources", sink);
        }
        if !self.custom_resources.insert(stem.to_string()) {
            return Ok(());
        }
        // `<plural.group>` or `<plural.group>/<namespace>`.
        let crd = stem.split('/').next().unwrap_or(stem);
        let plural = crd.split('.').next().unwrap_or(crd).to_string();
        if !yaml {
            return self.objects(path, body, Some(&plural), sink);
        }
        let result = read_document(path, body).and_then(|bytes| {
            for doc in serde_yaml_ng::Deserializer::from_slice(&bytes) {
                let value = Value::deserialize(doc)
                    .map_err(|e| ImportError::bad_input(path, format!("not YAML: {e}")))?;
                for item in items_of(value) {
                    sink.object(item, Some(&plural))?;
                }
            }
            Ok(())
        });
        tolerate(path, result, sink)
    }

    fn log(
        &mut self,
        rest: &str,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let parts: Vec<&str> = rest.split('/').collect();
        let [namespace, pod, file] = parts.as_slice() else {
            return self.skip(path);
        };
        if let Some(container) = file.strip_suffix("-logs-errors.log") {
            let mut message = String::new();
            body.take(4096)
                .read_to_string(&mut message)
                .map_err(|e| ImportError::io(path, e))?;
            sink.gap(
                Gap::new(
                    GapKind::Logs,
                    format!("{namespace}/{pod}/{container}"),
                    GapReason::Error,
                )
                .with_detail(one_line(&message)),
            );
            return Ok(());
        }
        let Some(name) = file.strip_suffix(".log") else {
            return self.skip(path);
        };
        let (container, previous) = match name.strip_suffix("-previous") {
            Some(c) => (c, true),
            None => (name, false),
        };
        sink.log(
            &LogRef {
                namespace: namespace.to_string(),
                pod: pod.to_string(),
                container: container.to_string(),
                previous,
            },
            body,
        )
    }

    /// `certificates/certificates.json`: certificates of Secrets and ConfigMaps, by source.
    /// They are on no host, so they are kept as they are (metadata only: troubleshoot
    /// writes no key) and a gap says they are not analyzed.
    fn cluster_certificates(
        &mut self,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        let result = read_document(path, body).and_then(|bytes| {
            let doc: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ImportError::bad_input(path, format!("not JSON: {e}")))?;
            let sources = doc.as_array().map_or(0, Vec::len);
            let certificates: usize = doc
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["certificateChain"].as_array().map_or(0, Vec::len))
                .sum();
            sink.source_file("certificates.json", &mut bytes.as_slice())?;
            sink.gap(Gap {
                what: GapKind::Certificate,
                location: CLUSTER_CERTIFICATES.into(),
                reason: GapReason::SourceFormat,
                detail: format!(
                    "{certificates} certificates troubleshoot read from {sources} Secrets and ConfigMaps belong to no host: kept as source/certificates.json, not analyzed"
                ),
            });
            Ok(())
        });
        tolerate(path, result, sink)
    }

    fn skip(&mut self, path: &str) -> Result<(), ImportError> {
        self.not_converted_count += 1;
        if self.not_converted.len() < 5 {
            self.not_converted.push(path.to_string());
        }
        Ok(())
    }
}

impl Converter for TroubleshootConverter {
    fn file(
        &mut self,
        path: &str,
        body: &mut dyn Read,
        sink: &mut dyn Sink,
    ) -> Result<(), ImportError> {
        if let Some(rest) = path.strip_prefix(HOST_COLLECTORS) {
            return self.hosts.file(rest, path, body, sink);
        }
        match path {
            "version.yaml" => {
                let bytes = read_document(path, body);
                let version = bytes.ok().and_then(|b| {
                    serde_yaml_ng::from_slice::<Value>(&b)
                        .ok()
                        .and_then(|v| v["spec"]["versionNumber"].as_str().map(String::from))
                });
                if let Some(v) = version {
                    sink.producer_version(&v);
                }
                return Ok(());
            }
            "cluster-info/cluster_version.json" => {
                let result = read_document(path, body).and_then(|bytes| {
                    let doc: Value = serde_json::from_slice(&bytes)
                        .map_err(|e| ImportError::bad_input(path, format!("not JSON: {e}")))?;
                    let info = doc.get("info").cloned().unwrap_or(doc);
                    self.version_seen = info["gitVersion"].is_string();
                    sink.version(info)
                });
                return tolerate(path, result, sink);
            }
            "cluster-info/errors.json" => return errors(path, body, "version", sink),
            CLUSTER_CERTIFICATES => return self.cluster_certificates(path, body, sink),
            "analysis.json" => {
                let result = read_document(path, body).and_then(|bytes| {
                    sink.source_file(path, &mut bytes.as_slice())?;
                    let doc: Value = serde_json::from_slice(&bytes)
                        .map_err(|e| ImportError::bad_input(path, format!("not JSON: {e}")))?;
                    for result in doc.as_array().into_iter().flatten() {
                        let insight = &result["insight"];
                        let field = |v: &Value| v.as_str().unwrap_or_default().to_string();
                        sink.source_finding(SourceFinding {
                            name: field(&result["name"]),
                            severity: field(if result["severity"].is_string() {
                                &result["severity"]
                            } else {
                                &insight["severity"]
                            }),
                            title: field(&insight["primary"]),
                            message: field(&insight["detail"]),
                        })?;
                    }
                    Ok(())
                });
                return tolerate(path, result, sink);
            }
            "cluster-resources/resources.json" => {
                let result = read_document(path, body).and_then(|bytes| {
                    // Empty, or `null`, when troubleshoot's discovery failed: no discovery.
                    if !bytes.iter().all(u8::is_ascii_whitespace) {
                        self.resources = serde_json::from_slice(&bytes).map_err(|e| {
                            ImportError::bad_input(
                                path,
                                format!("not a list of APIResourceList: {e}"),
                            )
                        })?;
                    }
                    Ok(())
                });
                return tolerate(path, result, sink);
            }
            "cluster-resources/groups.json" => {
                let result = read_document(path, body).and_then(|bytes| {
                    // Empty, or `null`, when troubleshoot's discovery failed: no discovery.
                    if !bytes.iter().all(u8::is_ascii_whitespace) {
                        self.groups = serde_json::from_slice(&bytes).map_err(|e| {
                            ImportError::bad_input(path, format!("not a list of APIGroup: {e}"))
                        })?;
                    }
                    Ok(())
                });
                return tolerate(path, result, sink);
            }
            _ => {}
        }
        if let Some(rest) = path.strip_prefix(POD_LOGS) {
            return self.log(rest, path, body, sink);
        }
        if let Some(rest) = path.strip_prefix(CUSTOM_RESOURCES) {
            return self.custom_resources(rest, path, body, sink);
        }
        if let Some(parts) = custom_log_path(path) {
            return self.custom_logs.file(parts, path, body, sink);
        }
        let Some(rest) = path.strip_prefix(RESOURCES) else {
            return self.skip(path);
        };
        let Some(stem) = rest.strip_suffix(".json") else {
            return self.skip(path);
        };
        if let Some(name) = stem.strip_suffix("-errors")
            && !name.contains('/')
        {
            let location = plural_of(name).unwrap_or_else(|| name.to_string());
            return errors(path, body, &location, sink);
        }
        match stem.split_once('/') {
            // `<resource>.json`: cluster-scoped.
            None => match plural_of(stem) {
                Some(plural) => self.objects(path, body, Some(&plural), sink),
                None => self.skip(path),
            },
            // `<resource>/<namespace>.json`.
            Some((name, namespace)) if !namespace.contains('/') => match plural_of(name) {
                Some(plural) => self.objects(path, body, Some(&plural), sink),
                None => self.skip(path),
            },
            Some(_) => self.skip(path),
        }
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), ImportError> {
        if let Some(lists) = self.resources.take() {
            let mut discovery = Discovery::default();
            for group in self.groups.iter().flatten() {
                if let Some(preferred) = &group.preferred
                    && !preferred.version.is_empty()
                {
                    // Adding nothing but the group fixes its preferred version.
                    discovery
                        .groups
                        .push(ktriage_schema::discovery::DiscoveryGroup {
                            name: group.name.clone(),
                            preferred_version: preferred.version.clone(),
                            versions: Vec::new(),
                        });
                }
            }
            for list in lists {
                let (group, version) = split_api_version(&list.group_version);
                for resource in list.resources {
                    discovery.add(group, version, resource);
                }
            }
            discovery.groups.retain(|g| !g.versions.is_empty());
            sink.discovery(discovery)?;
        }
        sink.gap(Gap::source_format(
            GapKind::Configz,
            "nodes",
            "troubleshoot does not collect the kubelets' configuration (configz)",
        ));
        sink.gap(Gap::source_format(
            GapKind::NodeLog,
            "nodes",
            "troubleshoot does not collect kubelet or container runtime logs through the API",
        ));
        sink.gap(Gap::source_format(
            GapKind::Logs,
            "cluster",
            "troubleshoot collects container logs of unhealthy pods only (500 lines, 5 MB each) and of the pods its logs collectors name: most containers have no log",
        ));
        for path in self.custom_logs.finish(sink)? {
            self.skip(&path)?;
        }
        self.hosts.finish(&self.nodes, sink)?;
        if self.not_converted_count > 0 {
            sink.gap(Gap::source_format(
                GapKind::File,
                "source",
                format!(
                    "{} files of the bundle hold nothing ktriage reads (e.g. {})",
                    self.not_converted_count,
                    self.not_converted.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// The objects of a YAML or JSON document: a list's items, an array's elements, one object.
fn items_of(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Object(mut map) if map.get("items").is_some_and(Value::is_array) => {
            match map.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        Value::Object(_) => vec![value],
        _ => Vec::new(),
    }
}

/// A file read whole, refused beyond [`MAX_DOCUMENT_BYTES`].
fn read_document(path: &str, body: &mut dyn Read) -> Result<Vec<u8>, ImportError> {
    let mut bytes = Vec::new();
    body.take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::io(path, e))?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ImportError::bad_input(
            path,
            format!("over {MAX_DOCUMENT_BYTES} bytes; not read"),
        ));
    }
    Ok(bytes)
}

/// A file of the source that does not parse becomes a gap; the rest of the source is still
/// converted. Failures to read the source or to write the bundle still stop the import.
pub(crate) fn tolerate(
    path: &str,
    result: Result<(), ImportError>,
    sink: &mut dyn Sink,
) -> Result<(), ImportError> {
    match result {
        Err(ImportError::BadInput { message, .. }) => {
            sink.gap(
                Gap::new(GapKind::File, path, GapReason::Error)
                    .with_detail(format!("not converted: {}", one_line(&message))),
            );
            Ok(())
        }
        other => other,
    }
}

/// `<name>-errors.json`: what troubleshoot could not collect, as gaps.
fn errors(
    path: &str,
    body: &mut dyn Read,
    location: &str,
    sink: &mut dyn Sink,
) -> Result<(), ImportError> {
    let result = read_document(path, body).and_then(|bytes| {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ImportError::bad_input(path, format!("not JSON: {e}")))?;
        let mut gap = |location: String, message: &str| {
            sink.gap(
                Gap::new(GapKind::Resource, location, reason_of(message))
                    .with_detail(one_line(message)),
            )
        };
        match &doc {
            Value::Array(messages) => {
                for m in messages {
                    gap(location.to_string(), m.as_str().unwrap_or_default());
                }
            }
            Value::Object(by_key) => {
                for (key, m) in by_key {
                    gap(format!("{location} {key}"), m.as_str().unwrap_or_default());
                }
            }
            Value::String(m) => gap(location.to_string(), m),
            _ => {}
        }
        Ok(())
    });
    tolerate(path, result, sink)
}

/// The gap reason a Kubernetes client error message stands for.
fn reason_of(message: &str) -> GapReason {
    let m = message.to_ascii_lowercase();
    if m.contains("forbidden") || m.contains("unauthorized") {
        GapReason::Forbidden
    } else if m.contains("not found") || m.contains("could not find the requested resource") {
        GapReason::NotFound
    } else if m.contains("timeout") || m.contains("deadline exceeded") {
        GapReason::Timeout
    } else if m.contains("unavailable") {
        GapReason::Unavailable
    } else {
        GapReason::Error
    }
}

/// A message on one line, control characters removed, at most 500 characters.
pub(crate) fn one_line(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() > 500 {
        format!("{}…", clean.chars().take(500).collect::<String>())
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names_map_to_resources() {
        assert_eq!(plural_of("pvcs").as_deref(), Some("persistentvolumeclaims"));
        assert_eq!(
            plural_of("clusterRoleBindings").as_deref(),
            Some("clusterrolebindings")
        );
        assert_eq!(
            plural_of("resource-quotas").as_deref(),
            Some("resourcequotas")
        );
        assert_eq!(plural_of("auth-cani-list"), None);
    }

    #[test]
    fn client_errors_map_to_gap_reasons() {
        assert_eq!(
            reason_of("pods is forbidden: User \"x\" cannot list resource"),
            GapReason::Forbidden
        );
        assert_eq!(
            reason_of("the server could not find the requested resource"),
            GapReason::NotFound
        );
        assert_eq!(reason_of("boom"), GapReason::Error);
    }
}
