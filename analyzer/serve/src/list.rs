//! Which objects a list request returns: namespace, selectors, `limit` and opaque `continue`
//! tokens. Tokens carry the position of the next object in the sorted index; a bundle never
//! changes, so a position stays valid for as long as the server runs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::index::ResourceIndex;
use crate::params::Params;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// A list request, validated.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only objects of this namespace.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit`, when positive.
    pub limit: Option<usize>,
    /// Where to resume (from `continue`).
    pub start: usize,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Positions of the selected objects in the index.
    pub rows: Vec<usize>,
    /// Token for the next page, when the list goes on.
    pub next: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Token {
    /// Format of the token.
    v: u32,
    /// The resource it belongs to (`apps/v1/deployments`).
    r: String,
    /// Position of the next object in the index.
    p: usize,
}

impl ListQuery {
    /// Validates the list parameters of a request on `resource_key` (`group/version/plural`).
    pub fn from_params(
        params: &Params,
        namespace: Option<String>,
        resource_key: &str,
    ) -> Result<ListQuery, ApiError> {
        let labels = LabelSelector::parse(params.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("unable to parse labelSelector: {e}")))?;
        let fields = FieldSelector::parse(params.get("fieldSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(format!("unable to parse fieldSelector: {e}")))?;
        let limit = match params.get("limit") {
            None | Some("") => None,
            Some(l) => {
                let n: i64 = l
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?;
                usize::try_from(n).ok().filter(|n| *n > 0)
            }
        };
        let start = match params.get("continue") {
            None | Some("") => 0,
            Some(token) => decode(token, resource_key)?,
        };
        Ok(ListQuery {
            namespace,
            labels,
            fields,
            limit,
            start,
        })
    }

    /// Selects one page from `index`. Reads objects only when a field selector names a path
    /// the index does not hold.
    pub fn select(&self, index: &ResourceIndex, resource_key: &str) -> Result<Page, ApiError> {
        let range = index.range(self.namespace.as_deref());
        let from = self.start.max(range.start);
        let needs_object = self.fields.needs_object();
        let mut rows = Vec::new();
        let mut next = None;
        for i in from..range.end {
            if !self.matches(index, i, needs_object)? {
                continue;
            }
            if self.limit.is_some_and(|l| rows.len() >= l) {
                next = Some(encode(resource_key, i));
                break;
            }
            rows.push(i);
        }
        Ok(Page { rows, next })
    }

    fn matches(
        &self,
        index: &ResourceIndex,
        i: usize,
        needs_object: bool,
    ) -> Result<bool, ApiError> {
        let Some(row) = index.row(i) else {
            return Ok(false);
        };
        if !self.labels.matches(|k| row.label(k)) {
            return Ok(false);
        }
        if !needs_object {
            return Ok(self.fields.matches_row(row).unwrap_or(false));
        }
        let bytes = index.read(i)?;
        let object: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?;
        Ok(self.fields.matches_object(&object))
    }
}

/// An opaque continue token for position `pos` of `resource_key`.
pub fn encode(resource_key: &str, pos: usize) -> String {
    let token = Token {
        v: 1,
        r: resource_key.to_string(),
        p: pos,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode(token: &str, resource_key: &str) -> Result<usize, ApiError> {
    let invalid = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid("not base64"))?;
    let token: Token = serde_json::from_slice(&bytes).map_err(|_| invalid("malformed"))?;
    if token.v != 1 || token.r != resource_key {
        return Err(invalid("issued for another list"));
    }
    Ok(token.p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_resource() {
        let t = encode("apps/v1/deployments", 7);
        assert_eq!(decode(&t, "apps/v1/deployments"), Ok(7));
        assert_eq!(decode(&t, "v1/pods").map_err(|e| e.code), Err(400));
        assert_eq!(decode("%%%", "v1/pods").map_err(|e| e.code), Err(400));
    }
}
