//! The collector's only way to the API server: GET requests with a per-request timeout, a
//! short bounded retry of transient failures, and a race against the run's [`Stop`].
//!
//! kube's own retry layer (429/503/504, up to 15 times with long backoff) is turned off when
//! the client is built: it could stall a collection well past its deadline. Here a request is
//! tried at most three times, never sleeps past a stop, and each try is bounded by
//! `--request-timeout`.

use std::time::Duration;

use futures::AsyncReadExt;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::stop::Stop;

/// Extra tries after a transient failure (429, 5xx, connection error).
const RETRIES: u32 = 2;
/// Wait before the first retry; tripled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The server answered with an error status.
    Status {
        /// HTTP status code.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// No complete answer within the request timeout.
    Timeout(Duration),
    /// The run was stopped (deadline or signal) while waiting.
    Stopped,
    /// The connection failed.
    Transport(String),
    /// The answer could not be decoded.
    Decode(String),
}

/// How a transport error that was a timeout starts.
const TIMED_OUT: &str = "timed out: ";

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status { code, message } if message.is_empty() => write!(f, "HTTP {code}"),
            ApiError::Status { code, message } => write!(f, "HTTP {code}: {message}"),
            ApiError::Timeout(d) => write!(f, "no answer within the request timeout ({d:?})"),
            ApiError::Stopped => write!(f, "collection stopped before an answer"),
            ApiError::Transport(e) => write!(f, "connection error: {e}"),
            ApiError::Decode(e) => write!(f, "unreadable answer: {e}"),
        }
    }
}

impl ApiError {
    /// HTTP status code, when the server answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A `continue` token that expired (410 Gone).
    pub fn is_expired(&self) -> bool {
        self.code() == Some(410)
    }

    /// Worth another try.
    fn is_transient(&self) -> bool {
        match self {
            ApiError::Status { code, .. } => matches!(code, 429 | 500 | 502 | 503 | 504),
            ApiError::Transport(_) => true,
            _ => false,
        }
    }

    /// The client's own read timeout is as long as the request timeout and may fire first:
    /// that is the same timeout, not a failed connection (not retried, a `timeout` gap).
    fn timed_out_as(self, timeout: Duration) -> ApiError {
        match self {
            ApiError::Transport(text) if text.starts_with(TIMED_OUT) => ApiError::Timeout(timeout),
            other => other,
        }
    }

    /// Category for the manifest.
    pub fn gap_reason(&self, stop: &Stop) -> GapReason {
        match self {
            ApiError::Status {
                code: 401 | 403, ..
            } => GapReason::Forbidden,
            ApiError::Status { code: 404, .. } => GapReason::NotFound,
            ApiError::Status {
                code: 429 | 500..=599,
                ..
            } => GapReason::Unavailable,
            ApiError::Status { .. } | ApiError::Decode(_) => GapReason::Error,
            ApiError::Timeout(_) => GapReason::Timeout,
            ApiError::Stopped => stop.gap_reason(),
            ApiError::Transport(_) => GapReason::Unavailable,
        }
    }

    /// A manifest gap for this error.
    pub fn gap(&self, what: GapKind, location: impl Into<String>, stop: &Stop) -> Gap {
        Gap::new(what, location, self.gap_reason(stop)).with_detail(self.to_string())
    }

    fn from_kube(err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) if status.code != 0 => {
                let message = if status.message.is_empty() {
                    status.reason.clone()
                } else {
                    status.message.clone()
                };
                ApiError::Status {
                    code: status.code,
                    message,
                }
            }
            kube::Error::SerdeError(e) => ApiError::Decode(e.to_string()),
            kube::Error::FromUtf8(e) => ApiError::Decode(e.to_string()),
            other => {
                let text = error_chain(&other);
                if text.contains("timed out") || text.contains("deadline has elapsed") {
                    ApiError::Transport(format!("{TIMED_OUT}{text}"))
                } else {
                    ApiError::Transport(text)
                }
            }
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The most recent part of a streamed answer (a log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// The bytes kept, starting at a line start when older bytes were dropped.
    pub data: Vec<u8>,
    /// Whether older bytes were dropped to stay within the bound.
    pub dropped: bool,
}

/// A client bound to one cluster, one request timeout and the run's stop switch.
#[derive(Clone)]
pub struct Api {
    client: kube::Client,
    timeout: Duration,
    stop: Stop,
}

impl Api {
    /// Wraps a kube client.
    pub fn new(client: kube::Client, timeout: Duration, stop: Stop) -> Self {
        Api {
            client,
            timeout,
            stop,
        }
    }

    /// The run's stop switch.
    pub fn stop(&self) -> &Stop {
        &self.stop
    }

    /// GETs `path` (with its query) and parses the JSON answer.
    pub async fn get_json(&self, path: &str) -> Result<Value, ApiError> {
        self.get_as(path).await
    }

    /// GETs `path` (with its query) and decodes the JSON answer as `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.with_retries(|| async {
            let text = self
                .client
                .request_text(get(path)?)
                .await
                .map_err(ApiError::from_kube)?;
            serde_json::from_str(&text).map_err(|e| ApiError::Decode(e.to_string()))
        })
        .await
    }

    /// GETs `path` as a byte stream and keeps its last `max_bytes` (cut at a line start when
    /// older bytes are dropped, so no secret is kept half and unrecognisable).
    pub async fn get_tail(&self, path: &str, max_bytes: u64) -> Result<Tail, ApiError> {
        let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        self.with_retries(|| async {
            let stream = self
                .client
                .request_stream(get(path)?)
                .await
                .map_err(ApiError::from_kube)?;
            let mut stream = Box::pin(stream);
            let mut data = Vec::new();
            let mut dropped = false;
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let n = stream
                    .read(&mut chunk)
                    .await
                    .map_err(|e| ApiError::Transport(e.to_string()))?;
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&chunk[..n]);
                if data.len() > max.saturating_mul(2) {
                    data.drain(..data.len() - max);
                    dropped = true;
                }
            }
            if data.len() > max {
                data.drain(..data.len() - max);
                dropped = true;
            }
            if dropped {
                match data.iter().position(|&b| b == b'\n') {
                    Some(pos) => drop(data.drain(..=pos)),
                    None => data.clear(),
                }
            }
            Ok(Tail { data, dropped })
        })
        .await
    }

    async fn with_retries<F, Fut, T>(&self, mut attempt: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            let result = tokio::select! {
                biased;
                _ = self.stop.stopped() => Err(ApiError::Stopped),
                r = tokio::time::timeout(self.timeout, attempt()) => match r {
                    Ok(r) => r.map_err(|e| e.timed_out_as(self.timeout)),
                    Err(_) => Err(ApiError::Timeout(self.timeout)),
                },
            };
            match result {
                Err(e) if e.is_transient() && tries < RETRIES => {
                    tries += 1;
                    tokio::select! {
                        biased;
                        _ = self.stop.stopped() => return Err(ApiError::Stopped),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff *= 3;
                }
                other => return other,
            }
        }
    }
}

fn get(path: &str) -> Result<http::Request<Vec<u8>>, ApiError> {
    http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| ApiError::Decode(format!("bad request path {path:?}: {e}")))
}

/// Percent-encodes a query parameter value.
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_reasons_by_status() {
        let stop = Stop::new();
        let status = |code| ApiError::Status {
            code,
            message: String::new(),
        };
        assert_eq!(status(403).gap_reason(&stop), GapReason::Forbidden);
        assert_eq!(status(401).gap_reason(&stop), GapReason::Forbidden);
        assert_eq!(status(404).gap_reason(&stop), GapReason::NotFound);
        assert_eq!(status(503).gap_reason(&stop), GapReason::Unavailable);
        assert_eq!(status(400).gap_reason(&stop), GapReason::Error);
        assert_eq!(
            ApiError::Timeout(Duration::from_secs(1)).gap_reason(&stop),
            GapReason::Timeout
        );
        // The client's read timeout firing before ours is the same timeout.
        let read_timeout = ApiError::Transport(format!("{TIMED_OUT}operation timed out"))
            .timed_out_as(Duration::from_secs(1));
        assert_eq!(read_timeout.gap_reason(&stop), GapReason::Timeout);
        assert!(!read_timeout.is_transient());
        let refused =
            ApiError::Transport("connection refused".into()).timed_out_as(Duration::from_secs(1));
        assert_eq!(refused.gap_reason(&stop), GapReason::Unavailable);
        assert!(status(410).is_expired());
        assert!(status(503).is_transient() && !status(403).is_transient());
        stop.stop(crate::stop::StopReason::Signal(
            crate::stop::Signal::Interrupt,
        ));
        assert_eq!(ApiError::Stopped.gap_reason(&stop), GapReason::Interrupted);
    }

    #[test]
    fn query_encoding() {
        assert_eq!(encode_query("a b/c=d&e"), "a%20b%2Fc%3Dd%26e");
        assert_eq!(encode_query("eyJ-_.~"), "eyJ-_.~");
    }
}
