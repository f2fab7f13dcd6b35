//! Discovery endpoints: `/version`, `/api`, `/apis`, `/apis/{group}`, `/api/v1` and
//! `/apis/{group}/{version}`, answered from the bundle's recorded discovery.
//!
//! Aggregated discovery (`as=APIGroupDiscoveryList`) is not offered: the legacy documents are
//! returned as plain JSON, and clients fall back to them.

use axum::response::Response;
use ktriage_schema::discovery::DiscoveryGroup;
use serde_json::{Value, json};

use crate::body;
use crate::state::ServeState;
use crate::status::ApiError;

const JSON: &str = "application/json";

fn respond(v: &Value) -> Response {
    body::json(JSON, v.to_string().into_bytes())
}

/// `GET /version`.
pub fn version(state: &ServeState) -> Response {
    respond(state.version())
}

/// `GET /api`: the core group's versions.
pub fn core_versions() -> Response {
    respond(&json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }))
}

fn group_json(g: &DiscoveryGroup) -> Value {
    let gv = |v: &str| json!({"groupVersion": format!("{}/{v}", g.name), "version": v});
    let preferred = match g.preferred_version.as_str() {
        "" => g.versions.first().map(|v| v.version.as_str()).unwrap_or(""),
        p => p,
    };
    json!({
        "name": g.name,
        "versions": g.versions.iter().map(|v| gv(&v.version)).collect::<Vec<_>>(),
        "preferredVersion": gv(preferred),
    })
}

/// `GET /apis`: every named group.
pub fn groups(state: &ServeState) -> Response {
    let groups: Vec<Value> = state
        .catalog
        .discovery
        .groups
        .iter()
        .filter(|g| !g.name.is_empty())
        .map(group_json)
        .collect();
    respond(&json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

/// `GET /apis/{group}`.
pub fn group(state: &ServeState, name: &str) -> Result<Response, ApiError> {
    let g = state
        .catalog
        .discovery
        .groups
        .iter()
        .find(|g| g.name == name && !name.is_empty())
        .ok_or_else(ApiError::no_such_resource)?;
    let mut v = group_json(g);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Ok(respond(&v))
}

/// `GET /api/v1` or `/apis/{group}/{version}`: the resources of a group version.
pub fn resources(state: &ServeState, group: &str, version: &str) -> Result<Response, ApiError> {
    let v = state
        .catalog
        .discovery
        .groups
        .iter()
        .filter(|g| g.name == group)
        .flat_map(|g| g.versions.iter())
        .find(|v| v.version == version)
        .ok_or_else(ApiError::no_such_resource)?;
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Ok(respond(&json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": v.resources,
    })))
}
