//! Files served as they were collected: container logs (`pods/{pod}/log`, with the API's time
//! stamps only when `timestamps=true` asks for them) and what was fetched
//! through the node proxy (`nodes/{node}/proxy/configz`, node service logs).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use axum::response::Response;
use ktriage_schema::layout;
use ktriage_schema::manifest::GapKind;
use serde_json::Value;

use crate::body;
use crate::catalog::Resource;
use crate::objects;
use crate::params::Params;
use crate::state::ServeState;
use crate::status::ApiError;

const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// `GET /api/v1/namespaces/{ns}/pods/{pod}/log`.
pub async fn pod_log(
    state: Arc<ServeState>,
    pods: Arc<Resource>,
    namespace: &str,
    pod: &str,
    params: &Params,
) -> Result<Response, ApiError> {
    objects::check_collected(&pods)?;
    let not_found = || ApiError::not_found("", "pods", pod);
    let i = pods
        .index()
        .and_then(|idx| idx.find(namespace, pod))
        .ok_or_else(not_found)?;
    let reading = pods.clone();
    let object = tokio::task::spawn_blocking(move || objects::read_object(&reading, i))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let container = choose_container(&object, pod, params.get("container"))?;
    let previous = params.flag("previous");
    if ![namespace, pod, container.as_str()]
        .iter()
        .all(|c| layout::is_safe_component(c))
    {
        return Err(ApiError::bad_request(
            "invalid namespace, pod or container name",
        ));
    }
    let path = state.path(&layout::container_log_path(
        namespace, pod, &container, previous,
    ));
    if !path.is_file() {
        if previous {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod}\" not found"
            )));
        }
        let gap = state.gap(&GapKind::Logs, |l| {
            l.ends_with(&format!("{pod}/{container}"))
        });
        let why = gap
            .map(|g| format!(": {} ({})", g.detail, g.reason.as_str()))
            .unwrap_or_default();
        return Err(ApiError::new(
            404,
            format!(
                "the log of container \"{container}\" in pod \"{pod}\" was not collected in this bundle{why}"
            ),
        ));
    }
    let tail = params.number("tailLines")?;
    let limit = params.number("limitBytes")?;
    // Stamps kept in the bundle are shown only when asked for; a bundle without them (format
    // 1.0) has none to show.
    let unstamp = state.logs_stamped() && !params.flag("timestamps");
    let data = tokio::task::spawn_blocking(move || {
        if !unstamp {
            return read_log(path, tail, limit);
        }
        let mut data = strip_stamps(&read_log(path, tail, None)?);
        if let Some(limit) = limit {
            data.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok(data)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(body::json("text/plain", data))
}

/// The container a log request is for, as the API server picks it.
fn choose_container(pod: &Value, name: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let names = |path: &str| -> Vec<String> {
        crate::table::list(pod, path)
            .iter()
            .map(|c| crate::table::text(c, "name").to_string())
            .collect()
    };
    let containers = names("spec.containers");
    let init = names("spec.initContainers");
    let ephemeral = names("spec.ephemeralContainers");
    if let Some(asked) = asked.filter(|a| !a.is_empty()) {
        if containers
            .iter()
            .chain(&init)
            .chain(&ephemeral)
            .any(|c| c == asked)
        {
            return Ok(asked.to_string());
        }
        return Err(ApiError::bad_request(format!(
            "container {asked} is not valid for pod {name}"
        )));
    }
    if containers.len() == 1 {
        return Ok(containers[0].clone());
    }
    let default = crate::table::at(pod, "metadata.annotations")
        .and_then(|a| a.get(DEFAULT_CONTAINER))
        .and_then(Value::as_str)
        .filter(|d| containers.iter().any(|c| c == d));
    if let Some(d) = default {
        return Ok(d.to_string());
    }
    let mut message = format!(
        "a container name must be specified for pod {name}, choose one of: [{}]",
        containers.join(" ")
    );
    if !init.is_empty() {
        message.push_str(&format!(
            " or one of the init containers: [{}]",
            init.join(" ")
        ));
    }
    Err(ApiError::bad_request(message))
}

/// The log without the API's stamp at the start of each line.
fn strip_stamps(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&b| b == b'\n') {
        match ktriage_schema::logtime::split_api_stamp(line) {
            Some((_, rest)) => out.extend_from_slice(rest),
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// The log at `path`: its last `tail` lines when given, at most `limit` bytes when given.
fn read_log(path: PathBuf, tail: Option<u64>, limit: Option<u64>) -> io::Result<Vec<u8>> {
    let mut file = File::open(&path)?;
    let size = file.metadata()?.len();
    let start = match tail {
        Some(n) => tail_start(&mut file, size, n)?,
        None => 0,
    };
    let len = limit.map_or(size - start, |l| l.min(size - start));
    file.seek(SeekFrom::Start(start))?;
    let mut data = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut data)?;
    Ok(data)
}

/// Offset where the last `lines` lines of the file begin, reading backwards in blocks.
fn tail_start(file: &mut File, size: u64, lines: u64) -> io::Result<u64> {
    if lines == 0 {
        return Ok(size);
    }
    const BLOCK: u64 = 64 * 1024;
    let mut end = size;
    let mut newlines = 0u64;
    let mut buf = vec![0u8; BLOCK as usize];
    let mut first = true;
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        for (i, &b) in chunk.iter().enumerate().rev() {
            // The newline ending the last line does not start another line.
            if first && start + i as u64 == size - 1 {
                continue;
            }
            if b == b'\n' {
                newlines += 1;
                if newlines == lines {
                    return Ok(start + i as u64 + 1);
                }
            }
        }
        first = false;
        end = start;
    }
    Ok(0)
}

/// `GET /api/v1/nodes/{node}/proxy/...`: `configz`, and node service logs
/// (`logs/?query=kubelet`) when they were collected.
pub async fn node_proxy(
    state: Arc<ServeState>,
    node: &str,
    rest: &[String],
    params: &Params,
) -> Result<Response, ApiError> {
    if !layout::is_safe_component(node) {
        return Err(ApiError::bad_request("invalid node name"));
    }
    let (relative, what, content_type) = match rest {
        [configz] if configz == "configz" => (
            layout::node_configz_path(node),
            GapKind::Configz,
            "application/json",
        ),
        [logs] if logs == "logs" => {
            let service = params
                .get("query")
                .filter(|s| layout::is_safe_component(s))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "node log query: the query parameter must name one service",
                    )
                })?;
            (
                layout::node_log_path(node, service),
                GapKind::NodeLog,
                "text/plain",
            )
        }
        _ => {
            return Err(ApiError::new(
                404,
                format!(
                    "only configz and collected node logs can be proxied to node {node} from a bundle"
                ),
            ));
        }
    };
    let path = state.path(&relative);
    if !path.is_file() {
        let gap = state.gap(&what, |l| l == node || l.starts_with(&format!("{node}/")));
        let why = gap
            .map(|g| format!(": {} ({})", g.detail, g.reason.as_str()))
            .unwrap_or_default();
        return Err(ApiError::new(
            404,
            format!("{what} of node {node} was not collected in this bundle{why}"),
        ));
    }
    let data = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(body::json(content_type, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_and_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        std::fs::write(&path, "one\ntwo\nthree\n").expect("write");
        let read =
            |t, l| String::from_utf8(read_log(path.clone(), t, l).expect("reads")).expect("utf8");
        assert_eq!(read(Some(2), None), "two\nthree\n");
        assert_eq!(read(Some(0), None), "");
        assert_eq!(read(Some(9), None), "one\ntwo\nthree\n");
        assert_eq!(read(None, Some(5)), "one\nt");
        assert_eq!(read(Some(1), Some(3)), "thr");
        std::fs::write(&path, "a\nb").expect("write");
        assert_eq!(read(Some(1), None), "b");
        let big: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, &big).expect("write");
        assert_eq!(read(Some(2), None), "line 99998\nline 99999\n");
    }

    #[test]
    fn container_choice() {
        let pod = serde_json::json!({"metadata":{"annotations":{}},
            "spec":{"containers":[{"name":"a"},{"name":"b"}],"initContainers":[{"name":"i"}]}});
        let err = choose_container(&pod, "p", None).expect_err("ambiguous");
        assert_eq!(
            err.message,
            "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]"
        );
        assert_eq!(
            choose_container(&pod, "p", Some("i")).expect("init ok"),
            "i"
        );
        assert_eq!(
            choose_container(&pod, "p", Some("x"))
                .expect_err("bad")
                .code,
            400
        );
        let pod = serde_json::json!({"metadata":{"annotations":{DEFAULT_CONTAINER:"b"}},
            "spec":{"containers":[{"name":"a"},{"name":"b"}]}});
        assert_eq!(choose_container(&pod, "p", None).expect("default"), "b");
    }
}
