//! The route table: every request goes through [`handle`], which refuses writes and watches,
//! then dispatches on the parsed API path.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};

use crate::apipath::{self, ApiPath, Target};
use crate::params::Params;
use crate::state::ServeState;
use crate::status::ApiError;
use crate::{body, discovery, logs, objects};

/// Path prefix of the n-th served cluster: `/clusters/<n>/api/v1/pods`.
pub const CLUSTER_PREFIX: &str = "/clusters/";

/// The read-only API over `state`.
pub fn router(state: Arc<ServeState>) -> Router {
    router_for(vec![state])
}

/// The read-only API over several clusters: `/clusters/<n>/…` is the n-th (from 0), and
/// paths without the prefix are the first, so a plain server URL keeps working.
pub fn router_for(states: Vec<Arc<ServeState>>) -> Router {
    Router::new().fallback(handle).with_state(Arc::new(states))
}

async fn handle(
    State(states): State<Arc<Vec<Arc<ServeState>>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (state, path) = match pick_cluster(&states, uri.path()) {
        Some(picked) => picked,
        None => return ApiError::no_such_resource().into_response(),
    };
    match route(state, &method, path, uri.query(), &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// The cluster a path is for, and the path within it.
fn pick_cluster<'a, T: Clone>(states: &[T], path: &'a str) -> Option<(T, &'a str)> {
    let Some(rest) = path.strip_prefix(CLUSTER_PREFIX) else {
        return states.first().map(|s| (s.clone(), path));
    };
    let (index, within) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let state = states.get(index.parse::<usize>().ok()?)?;
    Some((state.clone(), if within.is_empty() { "/" } else { within }))
}

async fn route(
    state: Arc<ServeState>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::method_not_allowed());
    }
    let params = Params::parse(query)?;
    if params.flag("watch") || params.flag("follow") && !path.ends_with("/log") {
        return Err(watch_refused());
    }
    match path.trim_end_matches('/') {
        "/version" => return Ok(discovery::version(&state)),
        "/healthz" | "/livez" | "/readyz" => return Ok(body::json("text/plain", b"ok".to_vec())),
        _ => {}
    }
    match apipath::parse(path).ok_or_else(ApiError::no_such_resource)? {
        ApiPath::CoreVersions => Ok(discovery::core_versions()),
        ApiPath::Groups => Ok(discovery::groups(&state)),
        ApiPath::Group(g) => discovery::group(&state, &g),
        ApiPath::Resources { group, version } => discovery::resources(&state, &group, &version),
        ApiPath::Objects(target) => objects_route(state, target, &params, headers).await,
    }
}

fn watch_refused() -> ApiError {
    ApiError {
        message: "watch is not supported: a bundle is a snapshot".into(),
        ..ApiError::method_not_allowed()
    }
}

async fn objects_route(
    state: Arc<ServeState>,
    t: Target,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if t.watch {
        return Err(watch_refused());
    }
    let resource = state
        .catalog
        .get(&t.group, &t.version, &t.resource)
        .ok_or_else(ApiError::no_such_resource)?;
    let namespaced = resource.api.namespaced;
    // A namespaced object is addressed inside its namespace; a cluster-scoped one never is.
    if (t.namespace.is_some() && !namespaced)
        || (namespaced && t.name.is_some() && t.namespace.is_none())
    {
        return Err(ApiError::no_such_resource());
    }
    let namespace = t.namespace.clone().unwrap_or_default();
    match (t.name.as_deref(), t.subresource.as_deref()) {
        (None, _) => objects::list(state, resource, &t, params, headers).await,
        (Some(name), None) if t.rest.is_empty() => {
            objects::get(state, resource, &namespace, name, params, headers).await
        }
        (Some(name), Some("status")) if t.rest.is_empty() => {
            objects::get(state, resource, &namespace, name, params, headers).await
        }
        (Some(pod), Some("log"))
            if t.group.is_empty() && t.resource == "pods" && t.rest.is_empty() =>
        {
            logs::pod_log(state, resource, &namespace, pod, params).await
        }
        (Some(node), Some("proxy")) if t.group.is_empty() && t.resource == "nodes" => {
            logs::node_proxy(state, node, &t.rest, params).await
        }
        _ => Err(ApiError::no_such_resource()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_prefixes_pick_the_state_and_strip_the_path() {
        let states = ["first", "second"];
        assert_eq!(
            pick_cluster(&states, "/api/v1/pods"),
            Some(("first", "/api/v1/pods"))
        );
        assert_eq!(
            pick_cluster(&states, "/clusters/1/api/v1/namespaces/a/pods"),
            Some(("second", "/api/v1/namespaces/a/pods"))
        );
        assert_eq!(pick_cluster(&states, "/clusters/0"), Some(("first", "/")));
        assert_eq!(pick_cluster(&states, "/clusters/2/api"), None);
        assert_eq!(pick_cluster(&states, "/clusters/x/api"), None);
        assert_eq!(pick_cluster::<&str>(&[], "/api"), None);
    }
}
