//! The API answered in-process: discovery, lists, selectors, paging, tables, logs, errors.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ktriage_schema::layout;
use ktriage_serve::ServeState;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{self, BundleBuilder};

const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

struct Api {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn api(builder: BundleBuilder) -> Api {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = builder.open(dir.path());
    let state = Arc::new(ServeState::new(&[bundle]).expect("state"));
    Api {
        router: ktriage_serve::router(state),
        _dir: dir,
    }
}

impl Api {
    async fn call(&self, method: &str, uri: &str, accept: Option<&str>) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(a) = accept {
            req = req.header(header::ACCEPT, a);
        }
        let response = self
            .router
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Reply {
            status,
            content_type,
            body,
        }
    }

    async fn get(&self, uri: &str) -> Reply {
        self.call("GET", uri, None).await
    }
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| match o["metadata"]["namespace"].as_str() {
            Some(ns) => format!("{ns}/{}", o["metadata"]["name"].as_str().unwrap_or("")),
            None => o["metadata"]["name"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

#[tokio::test]
async fn discovery_documents() {
    let api = api(common::standard());
    let v = api.get("/version").await.json();
    assert_eq!(v["gitVersion"], "v1.29.3");
    let core = api.get("/api").await.json();
    assert_eq!(core["kind"], "APIVersions");
    assert_eq!(core["versions"], json!(["v1"]));
    let groups = api.get("/apis").await.json();
    assert_eq!(groups["kind"], "APIGroupList");
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert!(
        names.contains(&"apps") && names.contains(&"example.com"),
        "{names:?}"
    );
    assert!(!names.contains(&""));
    let v1 = api.get("/api/v1").await.json();
    assert_eq!(v1["groupVersion"], "v1");
    let pods = v1["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "pods")
        .expect("pods");
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["shortNames"], json!(["po"]));
    let widgets = api.get("/apis/example.com/v1").await.json();
    assert_eq!(widgets["resources"][0]["name"], "widgets");
    let apps = api.get("/apis/apps").await.json();
    assert_eq!(apps["kind"], "APIGroup");
    assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
    let missing = api.get("/apis/nope.io/v1").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["kind"], "Status");
    assert_eq!(api.get("/openapi/v2").await.status, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/openapi/v3").await.status, StatusCode::NOT_FOUND);
    // Aggregated discovery asked for: plain lists are returned, marked as such.
    let r = api
        .call("GET", "/apis", Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"))
        .await;
    assert_eq!(r.content_type, "application/json");
    assert_eq!(r.json()["kind"], "APIGroupList");
}

#[tokio::test]
async fn lists_are_sorted_by_namespace_then_name_and_typed() {
    let api = api(common::standard());
    let all = api.get("/api/v1/pods").await.json();
    assert_eq!(all["kind"], "PodList");
    assert_eq!(all["apiVersion"], "v1");
    assert_eq!(
        names(&all),
        [
            "kube-system/coredns-abc",
            "shop/db-0",
            "shop/report-x",
            "shop/setup-1",
            "shop/web-1",
            "shop/web-2"
        ]
    );
    // coredns was stored without apiVersion/kind.
    assert_eq!(all["items"][0]["kind"], "Pod");
    assert_eq!(all["items"][0]["apiVersion"], "v1");
    assert!(all["metadata"]["resourceVersion"].is_string());
    assert!(all["metadata"].get("continue").is_none());
    let shop = api.get("/api/v1/namespaces/kube-system/pods").await.json();
    assert_eq!(names(&shop), ["kube-system/coredns-abc"]);
    let deploys = api
        .get("/apis/apps/v1/namespaces/shop/deployments")
        .await
        .json();
    assert_eq!(deploys["kind"], "DeploymentList");
    assert_eq!(deploys["apiVersion"], "apps/v1");
    assert_eq!(names(&deploys), ["shop/api", "shop/web"]);
    let nodes = api.get("/api/v1/nodes").await.json();
    assert_eq!(names(&nodes), ["node-1", "node-2"]);
    // A resource discovery knows but the bundle holds none of: an empty list.
    let cms = api.get("/api/v1/configmaps").await.json();
    assert_eq!(cms["items"], json!([]));
}

#[tokio::test]
async fn get_by_name_and_not_found() {
    let api = api(common::standard());
    let pod = api.get("/api/v1/namespaces/shop/pods/web-1").await;
    assert_eq!(pod.status, StatusCode::OK);
    let pod = pod.json();
    assert_eq!(pod["metadata"]["name"], "web-1");
    assert_eq!(pod["spec"]["nodeName"], "node-1");
    let coredns = api
        .get("/api/v1/namespaces/kube-system/pods/coredns-abc")
        .await
        .json();
    assert_eq!(coredns["kind"], "Pod");
    let status = api
        .get("/api/v1/namespaces/shop/pods/web-1/status")
        .await
        .json();
    assert_eq!(status["metadata"]["name"], "web-1");
    let ns = api.get("/api/v1/namespaces/shop").await.json();
    assert_eq!(ns["kind"], "Namespace");
    let missing = api.get("/api/v1/namespaces/shop/pods/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let s = missing.json();
    assert_eq!(s["kind"], "Status");
    assert_eq!(s["reason"], "NotFound");
    assert_eq!(s["message"], "pods \"nope\" not found");
    assert_eq!(
        s["details"],
        json!({"name":"nope","group":"","kind":"pods"})
    );
    let d = api
        .get("/apis/apps/v1/namespaces/shop/deployments/nope")
        .await
        .json();
    assert_eq!(d["message"], "deployments.apps \"nope\" not found");
    // Wrong namespace, wrong scope, unknown resource.
    assert_eq!(
        api.get("/api/v1/namespaces/default/pods/web-1")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/api/v1/namespaces/shop/nodes").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/api/v1/pods/web-1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/api/v1/gizmos").await.status,
        StatusCode::NOT_FOUND
    );
    let cr = api
        .get("/apis/example.com/v1/namespaces/shop/widgets/gizmo")
        .await
        .json();
    assert_eq!(cr["spec"]["size"], 7);
}

#[tokio::test]
async fn label_and_field_selectors() {
    let api = api(common::standard());
    let q = |s: &str| format!("/api/v1/pods?{s}");
    let web = api.get(&q("labelSelector=app%3Dweb")).await.json();
    assert_eq!(names(&web), ["shop/web-1", "shop/web-2"]);
    let set = api.get(&q("labelSelector=app+in+(db,report)")).await.json();
    assert_eq!(names(&set), ["shop/db-0", "shop/report-x"]);
    let notin = api
        .get(&q("labelSelector=app+notin+(web,db,report,setup)"))
        .await
        .json();
    assert_eq!(names(&notin), ["kube-system/coredns-abc"]);
    let exists = api.get(&q("labelSelector=k8s-app")).await.json();
    assert_eq!(names(&exists), ["kube-system/coredns-abc"]);
    let not_exists = api.get(&q("labelSelector=!app")).await.json();
    assert_eq!(names(&not_exists), ["kube-system/coredns-abc"]);
    let failed = api
        .get(&q("fieldSelector=status.phase%3DFailed"))
        .await
        .json();
    assert_eq!(names(&failed), ["shop/report-x"]);
    let on_node = api
        .get(&q(
            "fieldSelector=spec.nodeName%3Dnode-1,status.phase!%3DFailed,status.phase!%3DSucceeded",
        ))
        .await
        .json();
    assert_eq!(
        names(&on_node),
        ["kube-system/coredns-abc", "shop/db-0", "shop/web-1"]
    );
    let by_name = api
        .get(&q("fieldSelector=metadata.name%3D%3Dweb-2"))
        .await
        .json();
    assert_eq!(names(&by_name), ["shop/web-2"]);
    let by_ns = api
        .get(&q("fieldSelector=metadata.namespace!%3Dshop"))
        .await
        .json();
    assert_eq!(names(&by_ns), ["kube-system/coredns-abc"]);
    // A path the index does not hold is read from the objects.
    let generic = api
        .get(&q("fieldSelector=spec.restartPolicy%3DNever"))
        .await
        .json();
    assert_eq!(names(&generic), ["shop/report-x"]);
    let deep = api
        .get(&q("fieldSelector=status.podIPs%3D&labelSelector=app%3Dweb"))
        .await
        .json();
    assert_eq!(names(&deep), ["shop/web-1", "shop/web-2"]);
    let events = api
        .get("/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Ddb-0,involvedObject.namespace%3Dshop,involvedObject.kind%3DPod,involvedObject.uid%3Duid-db-0")
        .await
        .json();
    assert_eq!(names(&events), ["shop/db-0.17a"]);
    let node_events = api
        .get("/api/v1/events?fieldSelector=involvedObject.kind%3DNode,involvedObject.name%3Dnode-2,involvedObject.namespace%3D")
        .await
        .json();
    assert_eq!(names(&node_events), ["default/node-2.17c"]);
    let bad = api.get(&q("labelSelector=a+in+(x")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["reason"], "BadRequest");
    assert_eq!(
        api.get(&q("fieldSelector=nonsense")).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn limit_and_continue_walk_the_whole_list() {
    let api = api(common::standard());
    let mut seen = Vec::new();
    let mut uri = "/api/v1/pods?limit=2".to_string();
    let mut pages = 0;
    loop {
        let page = api.get(&uri).await.json();
        pages += 1;
        let items = names(&page);
        assert!(items.len() <= 2);
        seen.extend(items);
        match page["metadata"]["continue"].as_str() {
            Some(token) => uri = format!("/api/v1/pods?limit=2&continue={token}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let all = names(&api.get("/api/v1/pods").await.json());
    assert_eq!(seen, all);
    // Paging with a selector returns only matches, and never an empty page before the end.
    let first = api
        .get("/api/v1/pods?limit=1&labelSelector=app%3Dweb")
        .await
        .json();
    assert_eq!(names(&first), ["shop/web-1"]);
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    let second = api
        .get(&format!(
            "/api/v1/pods?limit=1&labelSelector=app%3Dweb&continue={token}"
        ))
        .await
        .json();
    assert_eq!(names(&second), ["shop/web-2"]);
    assert!(second["metadata"].get("continue").is_none());
    // Tokens are bound to their list.
    let wrong = api
        .get(&format!("/api/v1/nodes?limit=1&continue={token}"))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        api.get("/api/v1/pods?limit=1&continue=garbage")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // resourceVersion is accepted and ignored.
    assert_eq!(
        names(&api.get("/api/v1/nodes?resourceVersion=0").await.json()),
        ["node-1", "node-2"]
    );
}

#[tokio::test]
async fn tables_follow_kubectl_printers_and_bundle_time() {
    let api = api(common::standard());
    let t = api
        .call("GET", "/api/v1/namespaces/shop/pods", Some(TABLE))
        .await
        .json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    let cols: Vec<(&str, u64)> = t["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or(""),
                c["priority"].as_u64().unwrap_or(9),
            )
        })
        .collect();
    assert_eq!(
        cols,
        [
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
            ("Nominated Node", 1),
            ("Readiness Gates", 1)
        ]
    );
    let rows = t["rows"].as_array().expect("rows");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["cells"][0] == name)
            .unwrap_or_else(|| panic!("row {name}"))
    };
    assert_eq!(
        row("db-0")["cells"],
        json!([
            "db-0",
            "1/2",
            "CrashLoopBackOff",
            "5 (5m ago)",
            "120m",
            "<none>",
            "node-1",
            "<none>",
            "<none>"
        ])
    );
    assert_eq!(
        row("web-1")["cells"],
        json!([
            "web-1", "1/1", "Running", "0", "3d", "10.1.0.5", "node-1", "<none>", "<none>"
        ])
    );
    assert_eq!(row("report-x")["cells"][2], "Error");
    assert_eq!(row("report-x")["conditions"][0]["type"], "Completed");
    assert_eq!(row("setup-1")["cells"][2], "Init:0/1");
    assert_eq!(row("setup-1")["cells"][4], "60s");
    // Default object: PartialObjectMetadata with the namespace kubectl needs for -A.
    assert_eq!(row("web-1")["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row("web-1")["object"]["metadata"]["namespace"], "shop");
    let full = api
        .call(
            "GET",
            "/api/v1/namespaces/shop/pods?includeObject=Object",
            Some(TABLE),
        )
        .await
        .json();
    assert_eq!(full["rows"][0]["object"]["kind"], "Pod");
    let none = api
        .call(
            "GET",
            "/api/v1/namespaces/shop/pods?includeObject=None",
            Some(TABLE),
        )
        .await
        .json();
    assert!(none["rows"][0].get("object").is_none());

    let nodes = api.call("GET", "/api/v1/nodes", Some(TABLE)).await.json();
    assert_eq!(
        nodes["rows"][0]["cells"],
        json!([
            "node-1",
            "Ready",
            "control-plane",
            "30d",
            "v1.29.3",
            "10.0.0.1",
            "<none>",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-18-amd64",
            "containerd://1.7.13"
        ])
    );
    assert_eq!(nodes["rows"][1]["cells"][1], "NotReady");
    assert_eq!(nodes["rows"][1]["cells"][2], "<none>");
    let d = api
        .call(
            "GET",
            "/apis/apps/v1/namespaces/shop/deployments/web",
            Some(TABLE),
        )
        .await
        .json();
    assert_eq!(d["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        &d["rows"][0]["cells"].as_array().expect("cells")[..5],
        &[json!("web"), json!("2/3"), json!(3), json!(2), json!("5d")]
    );
    let svc = api
        .call("GET", "/api/v1/services", Some(TABLE))
        .await
        .json();
    assert_eq!(
        svc["rows"][0]["cells"],
        json!([
            "web",
            "NodePort",
            "10.96.0.10",
            "<none>",
            "80:30080/TCP",
            "5d",
            "app=web"
        ])
    );
    let ev = api
        .call("GET", "/api/v1/namespaces/shop/events", Some(TABLE))
        .await
        .json();
    assert_eq!(
        &ev["rows"][0]["cells"].as_array().expect("cells")[..4],
        &[
            json!("60s"),
            json!("Warning"),
            json!("BackOff"),
            json!("pod/db-0")
        ]
    );
    let ns = api
        .call("GET", "/api/v1/namespaces", Some(TABLE))
        .await
        .json();
    assert_eq!(ns["rows"][2]["cells"], json!(["shop", "Active", "30d"]));
    let crds = api
        .call(
            "GET",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            Some(TABLE),
        )
        .await
        .json();
    assert_eq!(
        crds["rows"][0]["cells"],
        json!(["widgets.example.com", "7d"])
    );
    let w = api
        .call("GET", "/apis/example.com/v1/widgets", Some(TABLE))
        .await
        .json();
    assert_eq!(w["rows"][0]["cells"], json!(["gizmo", 7, "Spinning"]));
    // A paged table carries its continue token.
    let paged = api
        .call("GET", "/api/v1/pods?limit=2", Some(TABLE))
        .await
        .json();
    assert!(paged["metadata"]["continue"].is_string());
    assert_eq!(paged["rows"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn pod_logs() {
    let api = api(common::standard());
    let log = api.get("/api/v1/namespaces/shop/pods/web-1/log").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.content_type.starts_with("text/plain"));
    assert_eq!(log.text(), "GET / 200\nGET /health 200\nGET /cart 500\n");
    let tail = api
        .get("/api/v1/namespaces/shop/pods/web-1/log?tailLines=1")
        .await;
    assert_eq!(tail.text(), "GET /cart 500\n");
    let limited = api
        .get("/api/v1/namespaces/shop/pods/web-1/log?limitBytes=5")
        .await;
    assert_eq!(limited.text(), "GET /");
    // The bundle keeps the API's stamps: served only when asked for, as the API does.
    let stamped = api
        .get("/api/v1/namespaces/shop/pods/web-1/log?timestamps=true&tailLines=2")
        .await;
    assert_eq!(
        stamped.text(),
        "2026-01-15T11:58:30Z GET /health 200\n2026-01-15T11:59:00.5Z GET /cart 500\n"
    );
    // Two containers: the default-container annotation picks db.
    let db = api.get("/api/v1/namespaces/shop/pods/db-0/log").await;
    assert_eq!(
        db.text(),
        "starting postgres\nFATAL: could not open data dir\n"
    );
    let prev = api
        .get("/api/v1/namespaces/shop/pods/db-0/log?container=db&previous=true")
        .await;
    assert_eq!(prev.text(), "previous run: out of disk\n");
    let no_prev = api
        .get("/api/v1/namespaces/shop/pods/web-1/log?previous=true")
        .await;
    assert_eq!(no_prev.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_prev.json()["message"],
        "previous terminated container \"web\" in pod \"web-1\" not found"
    );
    let not_collected = api
        .get("/api/v1/namespaces/shop/pods/db-0/log?container=metrics")
        .await;
    assert_eq!(not_collected.status, StatusCode::NOT_FOUND);
    let bad = api
        .get("/api/v1/namespaces/shop/pods/db-0/log?container=../../etc")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json()["message"],
        "container ../../etc is not valid for pod db-0"
    );
    let missing = api.get("/api/v1/namespaces/shop/pods/ghost/log").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["message"], "pods \"ghost\" not found");
    let follow = api
        .get("/api/v1/namespaces/shop/pods/web-1/log?follow=true")
        .await;
    assert_eq!(follow.status, StatusCode::OK);
}

#[tokio::test]
async fn pod_log_needs_a_container_when_ambiguous() {
    let mut pods = common::pods();
    if let Some(m) = pods[2]["metadata"].as_object_mut() {
        m.remove("annotations");
    }
    let api = api(BundleBuilder::new().objects("", "v1", "pods", &pods));
    let r = api.get("/api/v1/namespaces/shop/pods/db-0/log").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "a container name must be specified for pod db-0, choose one of: [db metrics]"
    );
}

#[tokio::test]
async fn node_configz() {
    let api = api(common::standard());
    let c = api.get("/api/v1/nodes/node-1/proxy/configz").await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.json()["kubeletconfig"]["maxPods"], 110);
    assert_eq!(
        api.get("/api/v1/nodes/node-2/proxy/configz").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/api/v1/nodes/node-1/proxy/metrics").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn writes_and_watches_are_refused() {
    let api = api(common::standard());
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for path in [
            "/api/v1/namespaces/shop/pods/web-1",
            "/api/v1/namespaces/shop/pods",
            "/nonsense",
        ] {
            let r = api.call(method, path, None).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            let s = r.json();
            assert_eq!(s["reason"], "MethodNotAllowed");
            assert_eq!(s["code"], 405);
        }
    }
    let w = api.get("/api/v1/pods?watch=true").await;
    assert_eq!(w.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        api.get("/api/v1/watch/namespaces/shop/pods").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn gaps_are_reported_not_hidden() {
    let api = api(common::standard());
    let r = api.get("/api/v1/secrets").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let s = r.json();
    assert_eq!(s["reason"], "Forbidden");
    assert!(
        s["message"]
            .as_str()
            .unwrap_or("")
            .contains("not collected"),
        "{s}"
    );
}

#[tokio::test]
async fn without_recorded_discovery_or_version() {
    // No discovery.json, no version.json: built-ins, the CRD's resources, and the manifest version.
    let api = api(BundleBuilder::new()
        .objects("", "v1", "pods", &common::pods())
        .objects(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            &common::crds(),
        )
        .objects("example.com", "v1", "widgets", &common::widgets())
        .objects(
            "other.io",
            "v1beta1",
            "things",
            &[json!({"metadata":{"name":"t1"}})],
        ));
    let v = api.get("/version").await.json();
    assert_eq!(
        (
            v["major"].as_str(),
            v["minor"].as_str(),
            v["gitVersion"].as_str()
        ),
        (Some("1"), Some("29"), Some("v1.29.3"))
    );
    let widgets = api.get("/apis/example.com/v1").await.json();
    let w = &widgets["resources"][0];
    assert_eq!(
        (
            w["name"].as_str(),
            w["kind"].as_str(),
            w["namespaced"].as_bool()
        ),
        (Some("widgets"), Some("Widget"), Some(true))
    );
    assert_eq!(w["shortNames"], json!(["wd"]));
    let things = api.get("/apis/other.io/v1beta1").await.json();
    assert_eq!(things["resources"][0]["kind"], "Thing");
    assert_eq!(things["resources"][0]["namespaced"], false);
    let t = api.get("/apis/other.io/v1beta1/things/t1").await.json();
    assert_eq!(t["kind"], "Thing");
    assert_eq!(t["apiVersion"], "other.io/v1beta1");
    assert_eq!(
        names(&api.get("/api/v1/pods?limit=1").await.json()).len(),
        1
    );
}

#[tokio::test]
async fn paging_a_larger_list_is_complete_and_ordered() {
    // Written in reverse order across namespaces; served sorted by namespace, then name.
    let pods: Vec<Value> = (0..2500)
        .rev()
        .map(|i| {
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":format!("p-{i:05}"),"namespace":format!("ns-{}", i % 7),
                "labels":{"shard":format!("{}", i % 3)}},"spec":{"nodeName":format!("n{}", i % 5)},"status":{"phase":"Running"}})
        })
        .collect();
    let mut expected: Vec<String> = pods
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap_or(""),
                p["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    expected.sort();
    let api = api(BundleBuilder::new().objects("", "v1", "pods", &pods));
    let walk = |base: String| {
        let api = &api;
        async move {
            let (mut seen, mut uri) = (Vec::new(), format!("{base}limit=333"));
            loop {
                let page = api.get(&uri).await.json();
                let items = names(&page);
                assert!(items.len() <= 333);
                seen.extend(items);
                match page["metadata"]["continue"].as_str() {
                    Some(t) => uri = format!("{base}limit=333&continue={t}"),
                    None => return seen,
                }
            }
        }
    };
    assert_eq!(walk("/api/v1/pods?".into()).await, expected);
    let shard: Vec<String> = pods
        .iter()
        .filter(|p| p["metadata"]["labels"]["shard"] == "1" && p["spec"]["nodeName"] == "n2")
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap_or(""),
                p["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        walk("/api/v1/pods?labelSelector=shard%3D1&fieldSelector=spec.nodeName%3Dn2&".into()).await,
        shard
    );
    let ns3: Vec<String> = expected
        .iter()
        .filter(|n| n.starts_with("ns-3/"))
        .cloned()
        .collect();
    assert_eq!(walk("/api/v1/namespaces/ns-3/pods?".into()).await, ns3);
}

#[test]
fn host_bundles_are_not_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = BundleBuilder::new()
        .host()
        .file("host/facts.json", "{}")
        .open(dir.path());
    let err = ServeState::new(&[bundle]).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "no cluster bundle to serve (host bundles have no Kubernetes API)"
    );
}

#[test]
fn nameless_objects_are_not_served_and_are_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = BundleBuilder::new()
        .file(
            &layout::resource_path("", "v1", "pods"),
            "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"}}\n{\"metadata\":{\"namespace\":\"a\"}}\n",
        )
        .open(dir.path());
    let state = ServeState::new(&[bundle]).expect("the rest is served");
    assert_eq!(state.object_count(), 1);
    assert_eq!(state.nameless(), ["cluster/core/v1/pods.ndjson:2"]);
}

/// A stranger's object may carry any `apiVersion` and `kind`: it is served as what its
/// resource serves, as the API server does, so kubectl can decode it; the rest is untouched.
#[tokio::test]
async fn objects_are_served_with_their_resources_type() {
    let api = api(BundleBuilder::new().file(
        &layout::resource_path("", "v1", "pods"),
        concat!(
            "{\"apiVersion\":\"yes\",\"kind\":7,\"metadata\":{\"namespace\":\"a\",\"name\":\"odd\"},\"spec\":{\"nodeName\":\"n\"}}\n",
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"}}\n",
        ),
    ));
    let odd = api.get("/api/v1/namespaces/a/pods/odd").await.json();
    assert_eq!(
        (&odd["apiVersion"], &odd["kind"]),
        (&json!("v1"), &json!("Pod"))
    );
    assert_eq!(odd["spec"]["nodeName"], "n");
    let list = api.get("/api/v1/pods").await.json();
    for item in list["items"].as_array().expect("items") {
        assert_eq!(
            (&item["apiVersion"], &item["kind"]),
            (&json!("v1"), &json!("Pod")),
            "{item}"
        );
    }
    assert_eq!(names(&list), ["a/odd", "a/p"]);
}
