//! The fault layer, over real sockets: what a client of the API actually sees.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ktriage_serve::faults::{Fault, FaultLayer, FaultPlan, FaultRule};
use serde_json::Value;

use crate::common::{self, TestServer};

/// One HTTP/1.0 GET (so the body is never chunked); returns the raw response text (empty when the connection was dropped).
fn raw_get(server: &TestServer, path: &str, timeout: Duration) -> std::io::Result<String> {
    let addr = server.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn status_of(raw: &str) -> (u16, Value) {
    let code = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("");
    (code, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn start(plan: FaultPlan) -> (TestServer, FaultLayer) {
    let layer = FaultLayer::new(plan);
    let applied = layer.clone();
    (
        TestServer::start_with(common::standard(), move |r| r.layer(applied)),
        layer,
    )
}

#[test]
fn status_faults_by_resource_and_namespace() {
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::Status(403)).resource("deployments.apps"))
        .rule(
            FaultRule::new(Fault::Status(503))
                .resource("pods")
                .namespace("kube-system"),
        )
        .rule(
            FaultRule::new(Fault::Status(500))
                .path_contains("/proxy/configz")
                .times(1),
        );
    let (server, layer) = start(plan);
    let t = Duration::from_secs(10);
    let (code, s) =
        status_of(&raw_get(&server, "/apis/apps/v1/namespaces/shop/deployments", t).expect("get"));
    assert_eq!(
        (code, s["reason"].as_str(), s["code"].as_u64()),
        (403, Some("Forbidden"), Some(403))
    );
    let (code, s) =
        status_of(&raw_get(&server, "/api/v1/namespaces/kube-system/pods", t).expect("get"));
    assert_eq!(
        (code, s["reason"].as_str()),
        (503, Some("ServiceUnavailable"))
    );
    let (code, _) = status_of(&raw_get(&server, "/api/v1/namespaces/shop/pods", t).expect("get"));
    assert_eq!(code, 200);
    let (code, s) =
        status_of(&raw_get(&server, "/api/v1/nodes/node-1/proxy/configz", t).expect("get"));
    assert_eq!((code, s["reason"].as_str()), (500, Some("InternalError")));
    // `times(1)`: the second try passes.
    let (code, s) =
        status_of(&raw_get(&server, "/api/v1/nodes/node-1/proxy/configz", t).expect("get"));
    assert_eq!(
        (code, s["kubeletconfig"]["maxPods"].as_u64()),
        (200, Some(110))
    );
    assert_eq!(layer.fired(), vec![1, 1, 1]);
}

#[test]
fn continue_tokens_expire_after_n_pages() {
    let plan = FaultPlan::new().rule(
        FaultRule::new(Fault::ExpireContinue { after_pages: 2 })
            .resource("pods")
            .times(1),
    );
    let (server, layer) = start(plan);
    let t = Duration::from_secs(10);
    let (code, first) = status_of(&raw_get(&server, "/api/v1/pods?limit=2", t).expect("page 1"));
    assert_eq!(code, 200);
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    let (code, second) = status_of(
        &raw_get(
            &server,
            &format!("/api/v1/pods?limit=2&continue={token}"),
            t,
        )
        .expect("page 2"),
    );
    assert_eq!(code, 200);
    let token = second["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    let (code, s) = status_of(
        &raw_get(
            &server,
            &format!("/api/v1/pods?limit=2&continue={token}"),
            t,
        )
        .expect("page 3"),
    );
    assert_eq!(
        (code, s["reason"].as_str(), s["code"].as_u64()),
        (410, Some("Expired"), Some(410))
    );
    assert!(s["message"].as_str().unwrap_or("").contains("too old"));
    // Fired once: a restarted list goes through to the end.
    let (code, _) = status_of(
        &raw_get(
            &server,
            &format!("/api/v1/pods?limit=2&continue={token}"),
            t,
        )
        .expect("retry"),
    );
    assert_eq!(code, 200);
    assert_eq!(layer.fired(), vec![1]);
}

#[test]
fn delay_exceeds_a_client_timeout_then_answers() {
    let plan = FaultPlan::new()
        .rule(FaultRule::new(Fault::Delay(Duration::from_millis(1500))).resource("nodes"));
    let (server, _) = start(plan);
    let started = Instant::now();
    let err = raw_get(&server, "/api/v1/nodes", Duration::from_millis(300))
        .expect_err("client times out");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_millis(1400));
    let started = Instant::now();
    let (code, _) = status_of(
        &raw_get(&server, "/api/v1/nodes", Duration::from_secs(10)).expect("patient client"),
    );
    assert_eq!(code, 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

#[test]
fn reset_drops_the_connection_without_a_response() {
    let plan = FaultPlan::new().rule(FaultRule::new(Fault::Reset).resource("pods/log"));
    let (server, layer) = start(plan);
    let raw = raw_get(
        &server,
        "/api/v1/namespaces/shop/pods/web-1/log",
        Duration::from_secs(10),
    );
    // Either an empty read (orderly close) or a reset error: never an HTTP status line.
    if let Ok(text) = &raw {
        assert!(text.is_empty(), "got a response: {text:?}");
    }
    assert_eq!(layer.fired(), vec![1]);
    // The server itself is fine.
    let (code, _) = status_of(
        &raw_get(
            &server,
            "/api/v1/namespaces/shop/pods/web-1",
            Duration::from_secs(10),
        )
        .expect("get"),
    );
    assert_eq!(code, 200);
}
