//! What the log and node collectors need to know from the pod and node lists, noted while
//! those lists stream past (see [`crate::cluster::list::Observer`]): pod containers with their restart
//! counts (turned into log jobs on disk by [`crate::cluster::jobspool`]), and node names.

use serde_json::Value;

use crate::cluster::list::Observer;

/// A pod whose containers may have logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Containers that have run (init, regular and ephemeral).
    pub containers: Vec<ContainerInfo>,
}

/// A container that has run at least once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Container name.
    pub name: String,
    /// Whether a previous instance's log exists (it restarted).
    pub restarted: bool,
}

impl PodInfo {
    /// Reads a pod object; `None` when it lacks a name or namespace.
    pub fn from_object(pod: &Value) -> Option<PodInfo> {
        let namespace = pod.pointer("/metadata/namespace")?.as_str()?.to_string();
        let name = pod.pointer("/metadata/name")?.as_str()?.to_string();
        let mut containers = Vec::new();
        for (specs, statuses) in [
            ("initContainers", "initContainerStatuses"),
            ("containers", "containerStatuses"),
            ("ephemeralContainers", "ephemeralContainerStatuses"),
        ] {
            let statuses = pod
                .pointer(&format!("/status/{statuses}"))
                .and_then(Value::as_array);
            for spec in pod
                .pointer(&format!("/spec/{specs}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(cname) = spec.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let status = statuses.and_then(|s| {
                    s.iter()
                        .find(|s| s.get("name").and_then(Value::as_str) == Some(cname))
                });
                let Some(status) = status else { continue };
                let restarts = status
                    .get("restartCount")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let ran = restarts > 0
                    || status.pointer("/state/running").is_some()
                    || status.pointer("/state/terminated").is_some()
                    || status.pointer("/lastState/terminated").is_some();
                if ran {
                    containers.push(ContainerInfo {
                        name: cname.to_string(),
                        restarted: restarts > 0,
                    });
                }
            }
        }
        Some(PodInfo {
            namespace,
            name,
            containers,
        })
    }
}

/// Notes node names as their list streams past.
#[derive(Debug, Default)]
pub struct NodeObserver(pub Vec<String>);

impl Observer for NodeObserver {
    fn observe(&mut self, object: &Value) {
        if let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) {
            self.0.push(name.to_string());
        }
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn truncate(&mut self, len: usize) {
        self.0.truncate(len)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn containers_that_ran_with_restarts() {
        let pod = json!({
            "metadata": {"namespace": "ns", "name": "p"},
            "spec": {
                "initContainers": [{"name": "init"}],
                "containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "pending"}],
                "ephemeralContainers": [{"name": "debug"}]
            },
            "status": {
                "initContainerStatuses": [{"name": "init", "restartCount": 0, "state": {"terminated": {"exitCode": 0}}}],
                "containerStatuses": [
                    {"name": "app", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                    {"name": "sidecar", "restartCount": 0, "state": {"running": {}}},
                    {"name": "pending", "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
                ],
                "ephemeralContainerStatuses": [{"name": "debug", "restartCount": 0, "state": {"running": {}}}]
            }
        });
        let info = PodInfo::from_object(&pod).expect("pod");
        let names: Vec<(&str, bool)> = info
            .containers
            .iter()
            .map(|c| (c.name.as_str(), c.restarted))
            .collect();
        assert_eq!(
            names,
            vec![
                ("init", false),
                ("app", true),
                ("sidecar", false),
                ("debug", false)
            ]
        );
    }
}
