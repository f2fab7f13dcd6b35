//! Lists and gets of any resource, through one path driven by the catalog: JSON lists built
//! from the stored bytes, or `Table`s when the client asks for them.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use crate::apipath::Target;
use crate::body::{self, Sink};
use crate::catalog::{self, Resource, ResourceData};
use crate::list::{ListQuery, Page};
use crate::params::Params;
use crate::state::ServeState;
use crate::status::ApiError;
use crate::table::{self, IncludeObject};

const JSON: &str = "application/json";

/// `group/version/plural`, naming a resource in continue tokens.
fn resource_key(r: &Resource) -> String {
    format!("{}/{}/{}", r.group, r.version, r.api.name)
}

/// `plural` or `plural.group`, as the API server names a resource in messages.
fn qualified(r: &Resource) -> String {
    if r.group.is_empty() {
        r.api.name.clone()
    } else {
        format!("{}.{}", r.api.name, r.group)
    }
}

/// Fails when the bundle records that the resource could not be collected.
pub fn check_collected(r: &Resource) -> Result<(), ApiError> {
    match &r.data {
        ResourceData::Gap(gap) => Err(ApiError::new(
            catalog::gap_code(gap.reason),
            format!(
                "{} were not collected in this bundle ({}): {}",
                qualified(r),
                gap.reason.as_str(),
                gap.detail
            ),
        )),
        _ => Ok(()),
    }
}

/// The `meta.k8s.io` version of the Table the client asked for, if it asked for one.
pub fn table_version(headers: &HeaderMap) -> Option<&'static str> {
    let accept = headers.get(axum::http::header::ACCEPT)?.to_str().ok()?;
    for media in accept.split(',') {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        if params.contains(&"as=Table") {
            if params.contains(&"v=v1beta1") {
                return Some("v1beta1");
            }
            return Some("v1");
        }
        if matches!(params.first(), Some(&"application/json") | Some(&"*/*")) {
            return None;
        }
    }
    None
}

/// `GET` of a list.
pub async fn list(
    state: Arc<ServeState>,
    resource: Arc<Resource>,
    target: &Target,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    check_collected(&resource)?;
    let key = resource_key(&resource);
    let query = ListQuery::from_params(params, target.namespace.clone(), &key)?;
    let include =
        IncludeObject::parse(params.get("includeObject")).map_err(ApiError::bad_request)?;
    let selecting = resource.clone();
    let page = tokio::task::spawn_blocking(move || match selecting.index() {
        Some(index) => query.select(index, &key),
        None => Ok(Page {
            rows: Vec::new(),
            next: None,
        }),
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let rv = resource_version(&resource);
    Ok(match table_version(headers) {
        Some(tv) => {
            let printer = state.printer(&resource);
            let head = table::head(tv, &rv, page.next.as_deref(), &printer.columns());
            body::stream(JSON, move |sink| {
                write_open(sink, &head, "rows")?;
                for (n, &i) in page.rows.iter().enumerate() {
                    if n > 0 {
                        sink.write(b",")?;
                    }
                    let object = read_object(&resource, i)?;
                    let row =
                        table::row(printer.as_ref(), object, state.collected_at(), include, tv);
                    sink.write(row.to_string().as_bytes())?;
                }
                sink.write(b"]}")
            })
        }
        None => {
            let mut metadata = json!({"resourceVersion": rv});
            if let Some(next) = &page.next {
                metadata["continue"] = json!(next);
            }
            let head = json!({
                "kind": format!("{}List", resource.api.kind),
                "apiVersion": resource.api_version(),
                "metadata": metadata,
            });
            body::stream(JSON, move |sink| {
                write_open(sink, &head, "items")?;
                for (n, &i) in page.rows.iter().enumerate() {
                    if n > 0 {
                        sink.write(b",")?;
                    }
                    sink.write(&read_bytes(&resource, i)?)?;
                }
                sink.write(b"]}")
            })
        }
    })
}

/// `GET` of one object (also its `status` subresource).
pub async fn get(
    state: Arc<ServeState>,
    resource: Arc<Resource>,
    namespace: &str,
    name: &str,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    check_collected(&resource)?;
    let not_found = || ApiError::not_found(&resource.group, &resource.api.name, name);
    let i = resource
        .index()
        .and_then(|idx| idx.find(namespace, name))
        .ok_or_else(not_found)?;
    let reading = resource.clone();
    let bytes = tokio::task::spawn_blocking(move || read_bytes(&reading, i))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    match table_version(headers) {
        Some(tv) => {
            let include =
                IncludeObject::parse(params.get("includeObject")).map_err(ApiError::bad_request)?;
            let object: Value =
                serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(e.to_string()))?;
            let printer = state.printer(&resource);
            let mut table = table::head(tv, &resource_version(&resource), None, &printer.columns());
            table["rows"] = json!([table::row(
                printer.as_ref(),
                object,
                state.collected_at(),
                include,
                tv
            )]);
            Ok(body::json(JSON, table.to_string().into_bytes()))
        }
        None => Ok(body::json(JSON, bytes)),
    }
}

/// The stored object at `i` as a JSON value, with the resource's `apiVersion` and `kind`.
pub fn read_object(resource: &Resource, i: usize) -> std::io::Result<Value> {
    let bytes = resource
        .index()
        .map(|idx| idx.read(i))
        .transpose()?
        .unwrap_or_default();
    let mut object: Value = serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
    fill_type_meta(&mut object, resource);
    Ok(object)
}

/// The stored bytes of the object at `i`, re-encoded only when its `apiVersion` or `kind` is
/// missing or not the resource's (a stranger's bundle may hold anything there, and kubectl
/// cannot decode an object whose kind its resource does not serve).
fn read_bytes(resource: &Resource, i: usize) -> std::io::Result<Vec<u8>> {
    let Some(index) = resource.index() else {
        return Ok(Vec::new());
    };
    let needs = index.row(i).is_some_and(|r| {
        let (api_version, kind) = r.type_meta();
        !resource.is_type(api_version, kind)
    });
    if !needs {
        return index.read(i);
    }
    let object = read_object(resource, i)?;
    serde_json::to_vec(&object).map_err(std::io::Error::other)
}

/// Sets `apiVersion` and `kind` to the served resource's, as the API server does.
fn fill_type_meta(object: &mut Value, resource: &Resource) {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(resource.api_version()));
        map.insert("kind".into(), json!(resource.api.kind));
    }
}

/// Writes the object `head` without its closing brace, then opens the array `field`, so
/// items can follow (and `]}` closes both).
fn write_open(sink: &mut Sink, head: &Value, field: &str) -> std::io::Result<()> {
    let text = head.to_string();
    let open = text
        .strip_suffix('}')
        .ok_or_else(|| std::io::Error::other("list head is not an object"))?;
    sink.write(open.as_bytes())?;
    sink.write(format!(",\"{field}\":[").as_bytes())
}

fn resource_version(r: &Resource) -> String {
    r.index()
        .map_or(0, |i| i.max_resource_version())
        .max(1)
        .to_string()
}
