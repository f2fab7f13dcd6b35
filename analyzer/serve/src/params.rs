//! Query parameters of a request, decoded once.

use crate::status::ApiError;

/// Decoded query parameters; the first occurrence of a name wins.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes a raw query string (`a=1&b=x%20y`).
    pub fn parse(query: Option<&str>) -> Result<Params, ApiError> {
        match query {
            None | Some("") => Ok(Params::default()),
            Some(q) => serde_urlencoded::from_str(q)
                .map(Params)
                .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}"))),
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is set to `true` (or `1`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1" | "True"))
    }

    /// `name` as a non-negative integer, when set.
    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .and_then(|n| u64::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{name}: must be a non-negative integer, got {v:?}"
                    ))
                }),
        }
    }
}
