//! Errors as the API server reports them: a `Status` object with code, reason, message and
//! details, so kubectl prints `Error from server (NotFound): pods "x" not found`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A failed request, rendered as a Kubernetes `Status`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code, also the Status `code`.
    pub code: u16,
    /// The Status `reason` (`NotFound`, `BadRequest`, ...).
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Status `details` (`name`, `group`, `kind`), when any.
    pub details: Option<Value>,
}

impl ApiError {
    /// A Status with the usual reason for `code`.
    pub fn new(code: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason_for(code),
            message: message.into(),
            details: None,
        }
    }

    /// `pods "x" not found` (resource is `plural` or `plural.group`).
    pub fn not_found(group: &str, plural: &str, name: &str) -> ApiError {
        let qualified = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        ApiError {
            details: Some(json!({"name": name, "group": group, "kind": plural})),
            ..ApiError::new(404, format!("{qualified} \"{name}\" not found"))
        }
    }

    /// A path that names no resource this server knows.
    pub fn no_such_resource() -> ApiError {
        ApiError::new(404, "the server could not find the requested resource")
    }

    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    /// 500 with `message`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, message)
    }

    /// Writes and watches are refused: a bundle is served read-only.
    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            405,
            "the server does not allow this method on the requested resource (a ktriage bundle is served read-only)",
        )
    }

    /// The Status object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        status["details"] = self.details.clone().unwrap_or_else(|| json!({}));
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.to_status().to_string();
        let mut response = (code, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> ApiError {
        ApiError::internal(format!("reading the bundle: {e}"))
    }
}

/// The Status `reason` the API server uses for `code`.
pub fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Expired",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_the_api_server() {
        let s = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(s["message"], "deployments.apps \"web\" not found");
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["code"], 404);
        assert_eq!(s["details"]["kind"], "deployments");
        let s = ApiError::not_found("", "pods", "x").to_status();
        assert_eq!(s["message"], "pods \"x\" not found");
    }
}
