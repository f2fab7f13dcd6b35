//! Fault injection for tests of API clients (the collector's end-to-end tests): a
//! [`FaultLayer`] wrapped around the router answers matching requests with an error Status,
//! expires `continue` tokens, delays answers or drops the connection.
//!
//! Never exposed to users: no flag of the `ktriage` binary reaches this module.
//!
//! ```no_run
//! # use std::time::Duration;
//! # use ktriage_serve::faults::{Fault, FaultLayer, FaultPlan, FaultRule};
//! # fn demo(router: axum::Router) -> axum::Router {
//! let plan = FaultPlan::new()
//!     .rule(FaultRule::new(Fault::Status(403)).resource("secrets"))
//!     .rule(FaultRule::new(Fault::ExpireContinue { after_pages: 1 }).resource("pods").times(1))
//!     .rule(FaultRule::new(Fault::Delay(Duration::from_secs(30))).path_contains("/proxy/configz"));
//! router.layer(FaultLayer::new(plan))
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tower::{Layer, Service};

use crate::apipath::{self, ApiPath};
use crate::params::Params;
use crate::status::ApiError;

/// What to do to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this HTTP code and a Status of the usual reason (403 Forbidden, 500
    /// InternalError, 503 ServiceUnavailable, 429 TooManyRequests, ...).
    Status(u16),
    /// Serve `after_pages` pages of a list, then answer the next request carrying a
    /// `continue` token with 410 Gone, reason `Expired`, as the API server does when a token
    /// outlives etcd's compaction.
    ExpireContinue {
        /// Pages served before the token expires.
        after_pages: u32,
    },
    /// Answer normally, but only after this long (to exceed client timeouts).
    Delay(Duration),
    /// Drop the connection without an answer.
    Reset,
}

/// Which requests a rule applies to: all given conditions must hold.
#[derive(Debug, Clone)]
pub struct FaultRule {
    fault: Fault,
    resource: Option<String>,
    namespace: Option<String>,
    path_contains: Option<String>,
    times: Option<u32>,
}

impl FaultRule {
    /// A rule applying `fault` to every request.
    pub fn new(fault: Fault) -> FaultRule {
        FaultRule {
            fault,
            resource: None,
            namespace: None,
            path_contains: None,
            times: None,
        }
    }

    /// Only requests on `resource`: `pods`, `deployments.apps`, or a subresource such as
    /// `pods/log` or `nodes/proxy` (a plain `pods` does not match `pods/log`).
    pub fn resource(mut self, resource: &str) -> FaultRule {
        self.resource = Some(resource.to_string());
        self
    }

    /// Only requests inside namespace `namespace`.
    pub fn namespace(mut self, namespace: &str) -> FaultRule {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// Only requests whose path contains `text`.
    pub fn path_contains(mut self, text: &str) -> FaultRule {
        self.path_contains = Some(text.to_string());
        self
    }

    /// Apply the fault at most `n` times; afterwards matching requests pass.
    pub fn times(mut self, n: u32) -> FaultRule {
        self.times = Some(n);
        self
    }

    fn matches(&self, path: &str) -> bool {
        if self
            .path_contains
            .as_deref()
            .is_some_and(|p| !path.contains(p))
        {
            return false;
        }
        if self.resource.is_none() && self.namespace.is_none() {
            return true;
        }
        let Some(ApiPath::Objects(t)) = apipath::parse(path) else {
            return false;
        };
        if self
            .namespace
            .as_ref()
            .is_some_and(|ns| t.namespace.as_ref() != Some(ns))
        {
            return false;
        }
        if let Some(wanted) = &self.resource {
            let (name, sub) = match wanted.split_once('/') {
                Some((n, s)) => (n, Some(s)),
                None => (wanted.as_str(), None),
            };
            let (plural, group) = match name.split_once('.') {
                Some((p, g)) => (p, Some(g)),
                None => (name, None),
            };
            if t.resource != plural
                || group.is_some_and(|g| g != t.group)
                || t.subresource.as_deref() != sub
            {
                return false;
            }
        }
        true
    }
}

/// The rules, tried in order; the first matching rule with budget left applies.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// An empty plan: every request passes.
    pub fn new() -> FaultPlan {
        FaultPlan::default()
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: FaultRule) -> FaultPlan {
        self.rules.push(rule);
        self
    }
}

#[derive(Debug)]
struct Armed {
    rule: FaultRule,
    fired: AtomicU32,
    pages: AtomicU32,
}

/// A tower layer applying a [`FaultPlan`]. Clones share their counters.
#[derive(Debug, Clone)]
pub struct FaultLayer {
    rules: Arc<Vec<Armed>>,
}

impl FaultLayer {
    /// Arms `plan`.
    pub fn new(plan: FaultPlan) -> FaultLayer {
        let rules = plan
            .rules
            .into_iter()
            .map(|rule| Armed {
                rule,
                fired: AtomicU32::new(0),
                pages: AtomicU32::new(0),
            })
            .collect();
        FaultLayer {
            rules: Arc::new(rules),
        }
    }

    /// How many times each rule has applied its fault, in plan order.
    pub fn fired(&self) -> Vec<u32> {
        self.rules
            .iter()
            .map(|a| a.fired.load(Ordering::SeqCst))
            .collect()
    }

    fn decide(&self, req: &Request) -> Option<Fault> {
        let path = req.uri().path();
        let params = Params::parse(req.uri().query()).unwrap_or_default();
        let has_continue = params.get("continue").is_some_and(|c| !c.is_empty());
        for armed in self.rules.iter() {
            if !armed.rule.matches(path) {
                continue;
            }
            if armed
                .rule
                .times
                .is_some_and(|n| armed.fired.load(Ordering::SeqCst) >= n)
            {
                continue;
            }
            if let Fault::ExpireContinue { after_pages } = armed.rule.fault
                && !(has_continue && armed.pages.load(Ordering::SeqCst) >= after_pages)
            {
                armed.pages.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            armed.fired.fetch_add(1, Ordering::SeqCst);
            return Some(armed.rule.fault.clone());
        }
        None
    }
}

impl<S> Layer<S> for FaultLayer {
    type Service = FaultService<S>;

    fn layer(&self, inner: S) -> FaultService<S> {
        FaultService {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service [`FaultLayer`] wraps around the router.
#[derive(Debug, Clone)]
pub struct FaultService<S> {
    layer: FaultLayer,
    inner: S,
}

impl<S> Service<Request> for FaultService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let fault = self.layer.decide(&req);
        // The clone that was polled ready serves this request; a fresh clone stays behind.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            match fault {
                None => inner.call(req).await,
                Some(Fault::Status(code)) => {
                    Ok(ApiError::new(code, injected_message(code)).into_response())
                }
                Some(Fault::ExpireContinue { .. }) => {
                    Ok(ApiError::new(410, EXPIRED).into_response())
                }
                Some(Fault::Delay(d)) => {
                    tokio::time::sleep(d).await;
                    inner.call(req).await
                }
                Some(Fault::Reset) => Ok(reset()),
            }
        })
    }
}

const EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can \
    start a new list without the continue parameter, or use the continue token in this response to retrieve the \
    remainder of the results. Continuing with the provided token results in an inconsistent list - objects that \
    were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn injected_message(code: u16) -> String {
    match code {
        403 => "forbidden: injected fault".into(),
        503 => "the server is currently unable to handle the request (injected fault)".into(),
        _ => format!("injected fault {code}"),
    }
}

/// A response whose body fails before its first byte: hyper then closes the connection
/// without writing the response head, so the client sees the connection drop.
fn reset() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    Response::new(Body::from_stream(failing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_resources_namespaces_and_paths() {
        let r = FaultRule::new(Fault::Reset)
            .resource("deployments.apps")
            .namespace("prod");
        assert!(r.matches("/apis/apps/v1/namespaces/prod/deployments"));
        assert!(!r.matches("/apis/apps/v1/namespaces/dev/deployments"));
        assert!(!r.matches("/apis/apps/v1/deployments"));
        let r = FaultRule::new(Fault::Reset).resource("pods/log");
        assert!(r.matches("/api/v1/namespaces/a/pods/p/log"));
        assert!(!r.matches("/api/v1/namespaces/a/pods/p"));
        let r = FaultRule::new(Fault::Reset).resource("pods");
        assert!(r.matches("/api/v1/pods"));
        assert!(!r.matches("/api/v1/namespaces/a/pods/p/log"));
        let r = FaultRule::new(Fault::Reset).path_contains("configz");
        assert!(r.matches("/api/v1/nodes/n/proxy/configz"));
        assert!(!r.matches("/api/v1/nodes"));
    }
}
