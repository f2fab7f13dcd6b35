//! Container logs: the current log of every container that has run (init, regular and
//! ephemeral), and the previous instance's log when it restarted. Bounded by
//! `--log-tail-lines` (asked of the server), `--since`, and `--log-max-bytes` (the most recent
//! bytes are kept). Read as bytes and kept as bytes: logs are not always UTF-8. Each line
//! begins with the API's RFC 3339 time stamp and a space (`timestamps=true`).

use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};

use crate::cluster::api::encode_query;
use crate::cluster::options::LogOptions;
use crate::cluster::pods::PodInfo;

/// One log to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogJob {
    /// Namespace.
    pub namespace: String,
    /// Pod.
    pub pod: String,
    /// Container.
    pub container: String,
    /// The previous instance's log.
    pub previous: bool,
}

impl LogJob {
    /// `ns/pod/container`, with ` (previous)`: how gaps name it.
    pub fn label(&self) -> String {
        let previous = if self.previous { " (previous)" } else { "" };
        format!(
            "{}/{}/{}{previous}",
            self.namespace, self.pod, self.container
        )
    }

    /// Where it goes in the bundle, or a gap when a name cannot be a path component.
    pub fn bundle_path(&self) -> Result<String, Gap> {
        for name in [&self.namespace, &self.pod, &self.container] {
            if !layout::is_safe_component(name) {
                return Err(Gap::new(GapKind::Logs, self.label(), GapReason::Error)
                    .with_detail(format!("name {name:?} cannot be a bundle path")));
            }
        }
        Ok(layout::container_log_path(
            &self.namespace,
            &self.pod,
            &self.container,
            self.previous,
        ))
    }

    /// The API path with the bounds as query. Lines come stamped by the API
    /// (`timestamps=true`, as `kubectl logs --timestamps`): bundle format 1.1.
    pub fn api_path(&self, bounds: &LogOptions) -> String {
        let mut query = vec![
            format!("container={}", encode_query(&self.container)),
            "timestamps=true".to_string(),
        ];
        if self.previous {
            query.push("previous=true".into());
        }
        if let Some(n) = bounds.tail_lines {
            query.push(format!("tailLines={n}"));
        }
        if let Some(since) = bounds.since {
            query.push(format!("sinceSeconds={}", since.as_secs().max(1)));
        }
        format!(
            "/api/v1/namespaces/{}/pods/{}/log?{}",
            encode_query(&self.namespace),
            encode_query(&self.pod),
            query.join("&")
        )
    }
}

/// Every log of `pod`: current, and previous for restarted containers.
pub fn jobs(pod: &PodInfo) -> impl Iterator<Item = LogJob> + '_ {
    pod.containers.iter().flat_map(move |c| {
        [false, true]
            .into_iter()
            .filter(|&previous| !previous || c.restarted)
            .map(move |previous| LogJob {
                namespace: pod.namespace.clone(),
                pod: pod.name.clone(),
                container: c.name.clone(),
                previous,
            })
    })
}

/// Why a log was cut, for the manifest entry's `truncated`, or `None` when it is whole.
pub fn truncation(data: &[u8], dropped_bytes: bool, bounds: &LogOptions) -> Option<String> {
    if dropped_bytes {
        return Some(format!(
            "kept the last {} bytes (--log-max-bytes)",
            bounds.max_bytes
        ));
    }
    let tail = bounds.tail_lines?;
    let mut lines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    if data.last().is_some_and(|&b| b != b'\n') {
        lines += 1;
    }
    (lines >= tail).then(|| format!("kept the last {tail} lines (--log-tail-lines)"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cluster::pods::ContainerInfo;

    fn bounds() -> LogOptions {
        LogOptions {
            enabled: true,
            tail_lines: Some(3),
            max_bytes: 100,
            since: Some(Duration::from_secs(3600)),
        }
    }

    #[test]
    fn previous_logs_only_for_restarted_containers() {
        let pod = PodInfo {
            namespace: "ns".into(),
            name: "p".into(),
            containers: vec![
                ContainerInfo {
                    name: "a".into(),
                    restarted: true,
                },
                ContainerInfo {
                    name: "b".into(),
                    restarted: false,
                },
            ],
        };
        let labels: Vec<String> = jobs(&pod).map(|j| j.label()).collect();
        assert_eq!(labels, vec!["ns/p/a", "ns/p/a (previous)", "ns/p/b"]);
        assert_eq!(
            jobs(&pod)
                .nth(1)
                .expect("a second log")
                .bundle_path()
                .expect("safe"),
            "logs/ns/p/a.previous.log"
        );
    }

    #[test]
    fn api_path_carries_bounds() {
        let job = LogJob {
            namespace: "ns".into(),
            pod: "p".into(),
            container: "c".into(),
            previous: true,
        };
        assert_eq!(
            job.api_path(&bounds()),
            "/api/v1/namespaces/ns/pods/p/log?container=c&timestamps=true&previous=true&tailLines=3&sinceSeconds=3600"
        );
        let unsafe_job = LogJob {
            container: "..".into(),
            ..job
        };
        assert!(unsafe_job.bundle_path().is_err());
    }

    #[test]
    fn truncation_reasons() {
        let b = bounds();
        assert_eq!(truncation(b"a\nb\n", false, &b), None);
        assert!(
            truncation(b"a\nb\nc", false, &b)
                .expect("tail")
                .contains("--log-tail-lines")
        );
        assert!(
            truncation(b"", true, &b)
                .expect("bytes")
                .contains("--log-max-bytes")
        );
        let all = LogOptions {
            tail_lines: None,
            ..b
        };
        assert_eq!(truncation(b"a\nb\nc\nd\n", false, &all), None);
    }
}
