//! Printers of core kinds: pods, nodes, namespaces, services, events.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Column, Printer, age, at, format_labels, int, list, since, text};

/// Pods: NAME READY STATUS RESTARTS AGE; wide: IP NODE NOMINATED NODE READINESS GATES.
pub struct Pods;

impl Printer for Pods {
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name(),
            Column::new("Ready", "string"),
            Column::new("Status", "string"),
            Column::new("Restarts", "string"),
            Column::age(),
            Column::wide("IP", "string"),
            Column::wide("Node", "string"),
            Column::wide("Nominated Node", "string"),
            Column::wide("Readiness Gates", "string"),
        ]
    }

    fn cells(&self, pod: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let s = pod_summary(pod);
        let restarts = match (&s.last_restart, s.restarts) {
            (Some(when), n) if n != 0 => format!("{n} ({} ago)", since(when, now)),
            (_, n) => n.to_string(),
        };
        let or_none = |v: &str| {
            if v.is_empty() {
                "<none>".to_string()
            } else {
                v.to_string()
            }
        };
        let ip = list(pod, "status.podIPs")
            .first()
            .map_or("", |ip| text(ip, "ip"));
        let gates = list(pod, "spec.readinessGates");
        let readiness = if gates.is_empty() {
            "<none>".to_string()
        } else {
            let conditions = list(pod, "status.conditions");
            let ready = gates
                .iter()
                .filter(|g| {
                    conditions
                        .iter()
                        .find(|c| text(c, "type") == text(g, "conditionType"))
                        .is_some_and(|c| text(c, "status") == "True")
                })
                .count();
            format!("{ready}/{}", gates.len())
        };
        vec![
            json!(text(pod, "metadata.name")),
            json!(format!("{}/{}", s.ready, s.total)),
            json!(s.reason),
            json!(restarts),
            json!(age(pod, now)),
            json!(or_none(ip)),
            json!(or_none(text(pod, "spec.nodeName"))),
            json!(or_none(text(pod, "status.nominatedNodeName"))),
            json!(readiness),
        ]
    }

    fn conditions(&self, pod: &Value) -> Option<Value> {
        match text(pod, "status.phase") {
            "Succeeded" => Some(
                json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                "message": "The pod has completed successfully."}]),
            ),
            "Failed" => Some(
                json!([{"type": "Completed", "status": "True", "reason": "Failed",
                "message": "The pod failed."}]),
            ),
            _ => None,
        }
    }
}

/// What kubectl shows of a pod's state.
#[derive(Debug, PartialEq)]
pub struct PodSummary {
    /// The STATUS column.
    pub reason: String,
    /// Ready containers.
    pub ready: usize,
    /// Containers counted (restartable init containers included).
    pub total: usize,
    /// Restarts counted.
    pub restarts: i64,
    /// When the last counted restart happened.
    pub last_restart: Option<String>,
}

/// The pod printer's status logic (`printPod` in Kubernetes).
pub fn pod_summary(pod: &Value) -> PodSummary {
    let phase = text(pod, "status.phase");
    let mut reason = match text(pod, "status.reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    let conditions = list(pod, "status.conditions");
    let condition_true = |kind: &str| {
        conditions
            .iter()
            .any(|c| text(c, "type") == kind && text(c, "status") == "True")
    };
    if conditions
        .iter()
        .any(|c| text(c, "type") == "PodScheduled" && text(c, "reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let init_specs = list(pod, "spec.initContainers");
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| text(c, "name") == name && text(c, "restartPolicy") == "Always")
    };
    let total = list(pod, "spec.containers").len()
        + init_specs
            .iter()
            .filter(|c| text(c, "restartPolicy") == "Always")
            .count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut last_restart: Option<String> = None;
    let mut sidecar_restarts = 0i64;
    let mut sidecar_last: Option<String> = None;
    let later = |current: &mut Option<String>, status: &Value| {
        let finished = text(status, "lastState.terminated.finishedAt");
        if !finished.is_empty() && current.as_deref().is_none_or(|c| newer(finished, c)) {
            *current = Some(finished.to_string());
        }
    };
    let mut initializing = false;
    for (i, c) in list(pod, "status.initContainerStatuses").iter().enumerate() {
        restarts += int(c, "restartCount");
        later(&mut last_restart, c);
        let sidecar = restartable(text(c, "name"));
        if sidecar {
            sidecar_restarts += int(c, "restartCount");
            later(&mut sidecar_last, c);
        }
        let terminated = at(c, "state.terminated");
        let waiting_reason = text(c, "state.waiting.reason");
        if terminated.is_some() && int(c, "state.terminated.exitCode") == 0 {
            continue;
        }
        if sidecar && at(c, "started").and_then(Value::as_bool) == Some(true) {
            if at(c, "ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match (text(t, "reason"), int(t, "signal")) {
                ("", 0) => format!("Init:ExitCode:{}", int(t, "exitCode")),
                ("", signal) => format!("Init:Signal:{signal}"),
                (r, _) => format!("Init:{r}"),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    if !initializing || condition_true("Initialized") {
        restarts = sidecar_restarts;
        last_restart = sidecar_last;
        let mut has_running = false;
        for c in list(pod, "status.containerStatuses").iter().rev() {
            restarts += int(c, "restartCount");
            later(&mut last_restart, c);
            let waiting = text(c, "state.waiting.reason");
            let terminated = at(c, "state.terminated");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                reason = match (text(t, "reason"), int(t, "signal")) {
                    ("", 0) => format!("ExitCode:{}", int(t, "exitCode")),
                    ("", signal) => format!("Signal:{signal}"),
                    (r, _) => r.to_string(),
                };
            } else if at(c, "ready").and_then(Value::as_bool) == Some(true)
                && at(c, "state.running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true("Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    let deleting = at(pod, "metadata.deletionTimestamp").is_some_and(|d| !d.is_null());
    if deleting && text(pod, "status.reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && !matches!(phase, "Succeeded" | "Failed") {
        reason = "Terminating".into();
    }
    PodSummary {
        reason,
        ready,
        total,
        restarts,
        last_restart,
    }
}

/// Whether RFC 3339 time `a` is after `b` (unparsable times are never newer).
fn newer(a: &str, b: &str) -> bool {
    match (
        DateTime::parse_from_rfc3339(a),
        DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a > b,
        (Ok(_), Err(_)) => true,
        _ => false,
    }
}

/// Nodes: NAME STATUS ROLES AGE VERSION; wide: INTERNAL-IP EXTERNAL-IP OS-IMAGE
/// KERNEL-VERSION CONTAINER-RUNTIME.
pub struct Nodes;

impl Printer for Nodes {
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name(),
            Column::new("Status", "string"),
            Column::new("Roles", "string"),
            Column::age(),
            Column::new("Version", "string"),
            Column::wide("Internal-IP", "string"),
            Column::wide("External-IP", "string"),
            Column::wide("OS-Image", "string"),
            Column::wide("Kernel-Version", "string"),
            Column::wide("Container-Runtime", "string"),
        ]
    }

    fn cells(&self, node: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let mut status: Vec<String> = list(node, "status.conditions")
            .iter()
            .filter(|c| text(c, "type") == "Ready")
            .take(1)
            .map(|c| {
                if text(c, "status") == "True" {
                    "Ready".into()
                } else {
                    "NotReady".into()
                }
            })
            .collect();
        if status.is_empty() {
            status.push("Unknown".into());
        }
        if at(node, "spec.unschedulable").and_then(Value::as_bool) == Some(true) {
            status.push("SchedulingDisabled".into());
        }
        let mut roles: Vec<String> = at(node, "metadata.labels")
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
                        Some(role) if !role.is_empty() => Some(role.to_string()),
                        Some(_) => None,
                        None if k == "kubernetes.io/role" => {
                            v.as_str().filter(|v| !v.is_empty()).map(String::from)
                        }
                        None => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        roles.sort();
        roles.dedup();
        let roles = if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        };
        let address = |kind: &str| {
            list(node, "status.addresses")
                .iter()
                .find(|a| text(a, "type") == kind)
                .map_or("<none>".to_string(), |a| text(a, "address").to_string())
        };
        let info = |field: &str| match text(node, &format!("status.nodeInfo.{field}")) {
            "" => "<unknown>".to_string(),
            v => v.to_string(),
        };
        vec![
            json!(text(node, "metadata.name")),
            json!(status.join(",")),
            json!(roles),
            json!(age(node, now)),
            json!(text(node, "status.nodeInfo.kubeletVersion")),
            json!(address("InternalIP")),
            json!(address("ExternalIP")),
            json!(info("osImage")),
            json!(info("kernelVersion")),
            json!(info("containerRuntimeVersion")),
        ]
    }
}

/// Namespaces: NAME STATUS AGE.
pub struct Namespaces;

impl Printer for Namespaces {
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name(),
            Column::new("Status", "string"),
            Column::age(),
        ]
    }
    fn cells(&self, ns: &Value, now: DateTime<Utc>) -> Vec<Value> {
        vec![
            json!(text(ns, "metadata.name")),
            json!(text(ns, "status.phase")),
            json!(age(ns, now)),
        ]
    }
}

/// Services: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE; wide: SELECTOR.
pub struct Services;

impl Printer for Services {
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name(),
            Column::new("Type", "string"),
            Column::new("Cluster-IP", "string"),
            Column::new("External-IP", "string"),
            Column::new("Port(s)", "string"),
            Column::age(),
            Column::wide("Selector", "string"),
        ]
    }

    fn cells(&self, svc: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let kind = text(svc, "spec.type");
        let cluster_ip = list(svc, "spec.clusterIPs")
            .first()
            .and_then(Value::as_str)
            .or_else(|| Some(text(svc, "spec.clusterIP")).filter(|s| !s.is_empty()))
            .unwrap_or("<none>");
        let strings = |path: &str| -> Vec<String> {
            list(svc, path)
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        let external_ips = strings("spec.externalIPs");
        let external = match kind {
            "ClusterIP" | "NodePort" | "" if external_ips.is_empty() => "<none>".to_string(),
            "ClusterIP" | "NodePort" | "" => external_ips.join(","),
            "LoadBalancer" => {
                let mut ips: Vec<String> = list(svc, "status.loadBalancer.ingress")
                    .iter()
                    .filter_map(|i| {
                        let ip = text(i, "ip");
                        let host = text(i, "hostname");
                        if !ip.is_empty() {
                            Some(ip.to_string())
                        } else if !host.is_empty() {
                            Some(host.to_string())
                        } else {
                            None
                        }
                    })
                    .collect();
                ips.extend(external_ips);
                if ips.is_empty() {
                    "<pending>".to_string()
                } else {
                    ips.join(",")
                }
            }
            "ExternalName" => text(svc, "spec.externalName").to_string(),
            _ => "<unknown>".to_string(),
        };
        let ports: Vec<String> = list(svc, "spec.ports")
            .iter()
            .map(|p| {
                let protocol = match text(p, "protocol") {
                    "" => "TCP",
                    p => p,
                };
                match int(p, "nodePort") {
                    0 => format!("{}/{protocol}", int(p, "port")),
                    node_port => format!("{}:{node_port}/{protocol}", int(p, "port")),
                }
            })
            .collect();
        let ports = if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports.join(",")
        };
        vec![
            json!(text(svc, "metadata.name")),
            json!(kind),
            json!(cluster_ip),
            json!(external),
            json!(ports),
            json!(age(svc, now)),
            json!(format_labels(at(svc, "spec.selector"))),
        ]
    }
}

/// Events: LAST SEEN TYPE REASON OBJECT MESSAGE; wide: SUBOBJECT SOURCE FIRST SEEN COUNT NAME.
pub struct Events;

impl Printer for Events {
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::new("Last Seen", "string"),
            Column::new("Type", "string"),
            Column::new("Reason", "string"),
            Column::new("Object", "string"),
            Column::wide("Subobject", "string"),
            Column::wide("Source", "string"),
            Column::new("Message", "string"),
            Column::wide("First Seen", "string"),
            Column::wide("Count", "string"),
            Column {
                format: "name".into(),
                ..Column::wide("Name", "string")
            },
        ]
    }

    fn cells(&self, e: &Value, now: DateTime<Utc>) -> Vec<Value> {
        // core/v1 and events.k8s.io/v1 name the same things differently.
        let pick = |a: &str, b: &str| match text(e, a) {
            "" => text(e, b).to_string(),
            v => v.to_string(),
        };
        let first = match pick("firstTimestamp", "deprecatedFirstTimestamp") {
            t if !t.is_empty() => since(&t, now),
            _ => since(text(e, "eventTime"), now),
        };
        let mut last = match pick("lastTimestamp", "deprecatedLastTimestamp") {
            t if !t.is_empty() => since(&t, now),
            _ => first.clone(),
        };
        let mut count = match int(e, "count") {
            0 => int(e, "deprecatedCount"),
            n => n,
        };
        if let Some(series) = at(e, "series").filter(|s| s.is_object()) {
            last = since(text(series, "lastObservedTime"), now);
            count = int(series, "count");
        } else if count == 0 {
            count = 1;
        }
        let object = at(e, "involvedObject")
            .or_else(|| at(e, "regarding"))
            .cloned()
            .unwrap_or(Value::Null);
        let kind = text(&object, "kind").to_lowercase();
        let target = match text(&object, "name") {
            "" => kind,
            name => format!("{kind}/{name}"),
        };
        let component = pick("source.component", "reportingController");
        let component = if component.is_empty() {
            pick("deprecatedSource.component", "reportingController")
        } else {
            component
        };
        let host = pick("source.host", "reportingInstance");
        let source = if host.is_empty() {
            component
        } else {
            format!("{component}, {host}")
        };
        vec![
            json!(last),
            json!(text(e, "type")),
            json!(text(e, "reason")),
            json!(target),
            json!(text(&object, "fieldPath")),
            json!(source),
            json!(pick("message", "note").trim()),
            json!(first),
            json!(count),
            json!(text(e, "metadata.name")),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(pod: Value) -> String {
        pod_summary(&pod).reason
    }

    #[test]
    fn pod_status_follows_the_kubectl_printer() {
        let crash = json!({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running","containerStatuses":[
            {"name":"a","ready":false,"restartCount":7,"state":{"waiting":{"reason":"CrashLoopBackOff"}},
             "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-01-01T00:00:00Z"}}}]}});
        let s = pod_summary(&crash);
        assert_eq!(
            (s.reason.as_str(), s.ready, s.total, s.restarts),
            ("CrashLoopBackOff", 0, 1, 7)
        );
        assert_eq!(s.last_restart.as_deref(), Some("2024-01-01T00:00:00Z"));
        let init = json!({"spec":{"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"a"}]},
            "status":{"phase":"Pending","initContainerStatuses":[
                {"name":"i1","state":{"terminated":{"exitCode":0}}},
                {"name":"i2","state":{"running":{}}}]}});
        assert_eq!(status(init), "Init:1/2");
        let init_fail = json!({"spec":{"initContainers":[{"name":"i1"}],"containers":[{"name":"a"}]},
            "status":{"phase":"Pending","initContainerStatuses":[
                {"name":"i1","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}});
        assert_eq!(status(init_fail), "Init:CrashLoopBackOff");
        let done = json!({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Succeeded","containerStatuses":[
            {"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}});
        assert_eq!(status(done), "Completed");
        let oom = json!({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Failed","containerStatuses":[
            {"name":"a","state":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}});
        assert_eq!(status(oom), "OOMKilled");
        let terminating = json!({"metadata":{"deletionTimestamp":"2024-01-01T00:00:00Z"},
            "spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running","containerStatuses":[
            {"name":"a","ready":true,"state":{"running":{}}}]}});
        assert_eq!(status(terminating), "Terminating");
        let evicted = json!({"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Failed","reason":"Evicted"}});
        assert_eq!(status(evicted), "Evicted");
        let sidecar = json!({"spec":{"initContainers":[{"name":"s","restartPolicy":"Always"}],"containers":[{"name":"a"}]},
            "status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"}],
              "initContainerStatuses":[{"name":"s","started":true,"ready":true,"restartCount":2,"state":{"running":{}}}],
              "containerStatuses":[{"name":"a","ready":true,"restartCount":1,"state":{"running":{}}}]}});
        let s = pod_summary(&sidecar);
        assert_eq!(
            (s.reason.as_str(), s.ready, s.total, s.restarts),
            ("Running", 2, 2, 3)
        );
    }

    #[test]
    fn node_and_service_cells() {
        let now = Utc::now();
        let node = json!({"metadata":{"name":"n1","labels":{"node-role.kubernetes.io/control-plane":"","kubernetes.io/role":"x"}},
            "spec":{"unschedulable":true},
            "status":{"conditions":[{"type":"Ready","status":"False"}],"nodeInfo":{"kubeletVersion":"v1.29.1"},
                "addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}});
        let cells = Nodes.cells(&node, now);
        assert_eq!(cells[1], "NotReady,SchedulingDisabled");
        assert_eq!(cells[2], "control-plane,x");
        assert_eq!(cells[5], "10.0.0.1");
        assert_eq!(cells[6], "<none>");
        assert_eq!(cells[7], "<unknown>");
        let svc = json!({"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIPs":["10.96.0.5"],
            "ports":[{"port":80,"nodePort":30080,"protocol":"TCP"},{"port":53,"protocol":"UDP"}],"selector":{"b":"2","a":"1"}}});
        let cells = Services.cells(&svc, now);
        assert_eq!(cells[2], "10.96.0.5");
        assert_eq!(cells[3], "<none>");
        assert_eq!(cells[4], "80:30080/TCP,53/UDP");
        assert_eq!(cells[6], "a=1,b=2");
    }
}
