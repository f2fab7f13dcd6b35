//! YAML files as OpenShift's `oc adm inspect` writes them: one object, or a List
//! (`kind: PodList`, `items: [...]`), possibly several documents.
//!
//! A YAML file is parsed whole (the parser needs all of it for anchors), so its size is
//! capped; the items of a List are still handed out one at a time.

use std::io::Read;

use serde::Deserialize;
use serde_json::Value;

use crate::ImportError;
use crate::cluster_info::ListHeader;

/// A larger YAML file is refused rather than parsed into memory.
pub(crate) const MAX_YAML_BYTES: u64 = 256 * 1024 * 1024;

/// The YAML parser reads a whole document before its depth limit applies, and deeply nested
/// flow collections (`[[[[…`) are many times slower to read than ordinary YAML: a file of them
/// would take minutes. Kubernetes objects as Go writes them nest flow collections one or two
/// levels deep (`[]`, `{}`).
const MAX_FLOW_NESTING: usize = 10_000;

/// Whether the brackets opened and not yet closed ever exceed `max`. Brackets inside quoted
/// scalars count too: a cheap over-estimate, far from the limit for real objects.
fn flow_nesting_exceeds(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    for &b in bytes {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

pub(crate) fn for_each_object(
    path: &str,
    body: &mut dyn Read,
    each: &mut dyn FnMut(&ListHeader, Value) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut bytes = Vec::new();
    body.take(MAX_YAML_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::io(path, e))?;
    if bytes.len() as u64 > MAX_YAML_BYTES {
        return Err(ImportError::bad_input(
            path,
            format!(
                "YAML file larger than {} MiB (YAML files are read whole)",
                MAX_YAML_BYTES >> 20
            ),
        ));
    }
    if flow_nesting_exceeds(&bytes, MAX_FLOW_NESTING) {
        return Err(ImportError::bad_input(
            path,
            format!("YAML nested deeper than {MAX_FLOW_NESTING} levels of [ and {{"),
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        ImportError::bad_input(path, format!("not UTF-8 (byte {})", e.valid_up_to()))
    })?;
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let value = Value::deserialize(document)
            .map_err(|e| ImportError::bad_input(path, format!("not YAML: {e}")))?;
        match value {
            Value::Null => {}
            Value::Object(mut object) if object.contains_key("items") => {
                let header = ListHeader {
                    kind: object.get("kind").and_then(Value::as_str).map(Into::into),
                    api_version: object
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .map(Into::into),
                };
                match object.remove("items") {
                    Some(Value::Array(items)) => {
                        for item in items.into_iter().filter(|i| !i.is_null()) {
                            each(&header, item)?;
                        }
                    }
                    Some(Value::Null) | None => {}
                    Some(_) => {
                        return Err(ImportError::bad_input(path, "`items` is not a list"));
                    }
                }
            }
            object @ Value::Object(_) => each(&ListHeader::default(), object)?,
            _ => {
                return Err(ImportError::bad_input(
                    path,
                    "not a Kubernetes object or List",
                ));
            }
        }
    }
    Ok(())
}
