//! Real kubectl against the server: every command runs with each binary of
//! `KTRIAGE_KUBECTL` (see `common::kubectls`), bounded in time.

use std::time::Duration;

use crate::common::{self, TestServer, kubectl, kubectls};

/// The whitespace-separated fields of the output line starting with `first`.
fn line<'a>(out: &'a str, first: &str) -> Vec<&'a str> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.first() == Some(&first))
        .unwrap_or_else(|| panic!("no line starting with {first:?} in:\n{out}"))
}

fn lines_with<'a>(out: &'a str, needle: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn kubectl_get_lists_and_tables() {
    let server = TestServer::start(common::standard());
    for k in kubectls() {
        let out = kubectl(&k, &server, &["get", "pods", "-A"])
            .ok()
            .to_string();
        let header = out.lines().next().unwrap_or("");
        assert_eq!(
            header.split_whitespace().collect::<Vec<_>>(),
            ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            "{out}"
        );
        assert_eq!(out.lines().count(), 7, "{out}");
        assert_eq!(
            line(&out, "kube-system"),
            ["kube-system", "coredns-abc", "1/1", "Running", "1", "10d"]
        );
        let db = lines_with(&out, "db-0").join("");
        assert!(
            db.contains("CrashLoopBackOff") && db.contains("5 (5m ago)") && db.contains("1/2"),
            "{db}"
        );
        assert!(
            lines_with(&out, "setup-1").join("").contains("Init:0/1"),
            "{out}"
        );

        let out = kubectl(&k, &server, &["get", "nodes", "-o", "wide"])
            .ok()
            .to_string();
        assert!(
            out.lines().next().unwrap_or("").contains("INTERNAL-IP"),
            "{out}"
        );
        let n1 = lines_with(&out, "node-1").join("");
        for want in [
            "Ready",
            "control-plane",
            "30d",
            "v1.29.3",
            "10.0.0.1",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-18-amd64",
            "containerd://1.7.13",
        ] {
            assert!(n1.contains(want), "{want} missing: {n1}");
        }
        assert_eq!(line(&out, "node-2")[1], "NotReady");

        let out = kubectl(&k, &server, &["get", "pods", "-n", "shop", "-l", "app=web"])
            .ok()
            .to_string();
        let names: Vec<&str> = out
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(names, ["web-1", "web-2"], "{out}");

        let out = kubectl(
            &k,
            &server,
            &[
                "get",
                "pods",
                "-A",
                "--field-selector",
                "status.phase=Failed",
            ],
        )
        .ok()
        .to_string();
        assert_eq!(out.lines().count(), 2, "{out}");
        assert_eq!(
            &line(&out, "shop")[..4],
            ["shop", "report-x", "0/1", "Error"]
        );

        let out = kubectl(
            &k,
            &server,
            &["get", "pods", "-A", "--chunk-size=2", "-o", "name"],
        )
        .ok()
        .to_string();
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "pod/coredns-abc",
                "pod/db-0",
                "pod/report-x",
                "pod/setup-1",
                "pod/web-1",
                "pod/web-2"
            ],
            "{}",
            k.display()
        );
        let out = kubectl(&k, &server, &["get", "pods", "-A", "--chunk-size=2"])
            .ok()
            .to_string();
        assert_eq!(out.lines().count(), 7, "{out}");

        let out = kubectl(&k, &server, &["get", "events", "-A"])
            .ok()
            .to_string();
        assert!(
            lines_with(&out, "BackOff").join("").contains("pod/db-0"),
            "{out}"
        );
        assert!(
            lines_with(&out, "NodeNotReady")
                .join("")
                .contains("node/node-2"),
            "{out}"
        );

        let out = kubectl(&k, &server, &["get", "svc", "-n", "shop"])
            .ok()
            .to_string();
        assert_eq!(
            line(&out, "web"),
            [
                "web",
                "NodePort",
                "10.96.0.10",
                "<none>",
                "80:30080/TCP",
                "5d"
            ]
        );
        let out = kubectl(&k, &server, &["get", "deploy", "-n", "shop"])
            .ok()
            .to_string();
        assert_eq!(line(&out, "web"), ["web", "2/3", "3", "2", "5d"]);
        let out = kubectl(&k, &server, &["get", "ns"]).ok().to_string();
        assert_eq!(line(&out, "shop"), ["shop", "Active", "30d"]);
        let out = kubectl(&k, &server, &["get", "all", "-n", "shop"])
            .ok()
            .to_string();
        for want in ["pod/web-1", "service/web", "deployment.apps/web"] {
            assert!(out.contains(want), "{want} missing:\n{out}");
        }
    }
}

#[test]
fn kubectl_get_yaml_json_and_custom_resources() {
    let server = TestServer::start(common::standard());
    for k in kubectls() {
        let out = kubectl(&k, &server, &["get", "deploy", "-n", "shop", "-o", "yaml"])
            .ok()
            .to_string();
        assert!(
            out.contains("kind: List") || out.contains("kind: DeploymentList"),
            "{out}"
        );
        assert!(out.contains("kind: Deployment\n"), "{out}");
        assert!(
            out.contains("name: web\n") && out.contains("name: api\n"),
            "{out}"
        );
        assert!(out.contains("replicas: 3"), "{out}");

        let out = kubectl(
            &k,
            &server,
            &[
                "get",
                "pod",
                "coredns-abc",
                "-n",
                "kube-system",
                "-o",
                "json",
            ],
        )
        .ok()
        .to_string();
        let pod: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(
            (pod["kind"].as_str(), pod["spec"]["nodeName"].as_str()),
            (Some("Pod"), Some("node-1"))
        );

        let out = kubectl(&k, &server, &["get", "crd"]).ok().to_string();
        assert_eq!(line(&out, "widgets.example.com")[0], "widgets.example.com");
        for what in ["widgets", "wd", "widget.example.com"] {
            let out = kubectl(&k, &server, &["get", what, "-n", "shop"])
                .ok()
                .to_string();
            assert_eq!(
                out.lines()
                    .next()
                    .map(|h| h.split_whitespace().collect::<Vec<_>>()),
                Some(vec!["NAME", "SIZE", "PHASE"]),
                "{out}"
            );
            assert_eq!(line(&out, "gizmo"), ["gizmo", "7", "Spinning"]);
        }
        let out = kubectl(
            &k,
            &server,
            &[
                "get",
                "widget",
                "gizmo",
                "-n",
                "shop",
                "-o",
                "jsonpath={.spec.size}",
            ],
        )
        .ok()
        .to_string();
        assert_eq!(out, "7");

        let out = kubectl(&k, &server, &["api-resources"]).ok().to_string();
        let w = line(&out, "widgets");
        assert_eq!(w, ["widgets", "wd", "example.com/v1", "true", "Widget"]);
        assert_eq!(line(&out, "pods"), ["pods", "po", "v1", "true", "Pod"]);
        assert_eq!(
            line(&out, "deployments"),
            ["deployments", "deploy", "apps/v1", "true", "Deployment"]
        );

        let r = kubectl(&k, &server, &["get", "pod", "nope", "-n", "shop"]);
        assert_ne!(r.code, Some(0));
        assert!(r.stderr.contains("pods \"nope\" not found"), "{}", r.stderr);

        let out = kubectl(&k, &server, &["version", "-o", "json"])
            .ok()
            .to_string();
        assert!(out.contains("v1.29.3"), "{out}");
    }
}

#[test]
fn kubectl_describe() {
    let server = TestServer::start(common::standard());
    for k in kubectls() {
        let out = kubectl(&k, &server, &["describe", "pod", "db-0", "-n", "shop"])
            .ok()
            .to_string();
        assert!(line(&out, "Name:").contains(&"db-0"), "{out}");
        assert!(line(&out, "Namespace:").contains(&"shop"), "{out}");
        assert!(out.contains("CrashLoopBackOff"), "{out}");
        assert!(out.contains("postgres:16"), "{out}");
        let backoff = lines_with(&out, "BackOff").join("");
        assert!(
            backoff.contains("Back-off restarting failed container db"),
            "events missing:\n{out}"
        );

        let out = kubectl(&k, &server, &["describe", "node", "node-1"])
            .ok()
            .to_string();
        assert!(line(&out, "Name:").contains(&"node-1"), "{out}");
        assert!(
            out.contains("node-role.kubernetes.io/control-plane"),
            "{out}"
        );
        assert!(out.contains("10.0.0.1"), "{out}");
        // The node's pods come from a field-selected list of all namespaces.
        assert!(out.contains("Non-terminated Pods"), "{out}");
        for pod in ["coredns-abc", "db-0", "web-1"] {
            assert!(out.contains(pod), "{pod} missing:\n{out}");
        }
        assert!(!out.contains("web-2"), "{out}");

        let out = kubectl(&k, &server, &["describe", "node", "node-2"])
            .ok()
            .to_string();
        assert!(out.contains("NodeNotReady"), "node events missing:\n{out}");
    }
}

#[test]
fn kubectl_logs() {
    let server = TestServer::start(common::standard());
    for k in kubectls() {
        let out = kubectl(&k, &server, &["logs", "web-1", "-n", "shop"])
            .ok()
            .to_string();
        assert_eq!(out, "GET / 200\nGET /health 200\nGET /cart 500\n");
        let out = kubectl(&k, &server, &["logs", "web-1", "-n", "shop", "--tail=1"])
            .ok()
            .to_string();
        assert_eq!(out, "GET /cart 500\n");
        // The bundle keeps the API's stamps: shown with --timestamps only.
        let out = kubectl(
            &k,
            &server,
            &["logs", "web-1", "-n", "shop", "--tail=1", "--timestamps"],
        )
        .ok()
        .to_string();
        assert_eq!(out, "2026-01-15T11:59:00.5Z GET /cart 500\n");
        let out = kubectl(
            &k,
            &server,
            &["logs", "db-0", "-n", "shop", "-c", "db", "--previous"],
        )
        .ok()
        .to_string();
        assert_eq!(out, "previous run: out of disk\n");
        // The default-container annotation is honoured by kubectl from 1.21 on.
        let r = kubectl(&k, &server, &["logs", "db-0", "-n", "shop"]);
        if common::minor_version(&k) >= 21 {
            assert_eq!(
                r.ok(),
                "starting postgres\nFATAL: could not open data dir\n"
            );
        } else {
            assert!(
                r.stderr.contains(
                    "a container name must be specified for pod db-0, choose one of: [db metrics]"
                ),
                "{r:?}"
            );
        }
        let r = kubectl(&k, &server, &["logs", "web-1", "-n", "shop", "--previous"]);
        assert_ne!(r.code, Some(0));
        assert!(
            r.stderr
                .contains("previous terminated container \"web\" in pod \"web-1\" not found"),
            "{}",
            r.stderr
        );
        let out = kubectl(&k, &server, &["logs", "-f", "web-1", "-n", "shop"])
            .ok()
            .to_string();
        assert_eq!(out.lines().count(), 3);
    }
}

#[test]
fn kubectl_writes_and_watches_fail_fast() {
    let server = TestServer::start(common::standard());
    for k in kubectls() {
        let r = kubectl(&k, &server, &["delete", "pod", "web-1", "-n", "shop"]);
        assert_ne!(r.code, Some(0), "{r:?}");
        assert!(
            r.stderr.contains("MethodNotAllowed") || r.stderr.contains("does not allow"),
            "{}",
            r.stderr
        );
        assert!(r.elapsed < Duration::from_secs(10), "took {:?}", r.elapsed);
        let r = kubectl(&k, &server, &["label", "pod", "web-1", "-n", "shop", "x=y"]);
        assert_ne!(r.code, Some(0), "{r:?}");
        assert!(r.elapsed < Duration::from_secs(10), "took {:?}", r.elapsed);
        let r = kubectl(&k, &server, &["get", "pods", "-n", "shop", "--watch"]);
        assert_ne!(r.code, Some(0), "{r:?}");
        assert!(r.elapsed < Duration::from_secs(10), "took {:?}", r.elapsed);
        // No OpenAPI document: explain fails, but quickly.
        let r = kubectl(&k, &server, &["explain", "pods"]);
        assert!(r.elapsed < Duration::from_secs(10), "took {:?}", r.elapsed);
        let r = kubectl(&k, &server, &["get", "secrets", "-A"]);
        assert_ne!(r.code, Some(0), "{r:?}");
        assert!(
            r.stderr.contains("Forbidden") && r.stderr.contains("not collected"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn kubectl_contexts_reach_each_served_cluster() {
    let second = common::BundleBuilder::new().objects(
        "",
        "v1",
        "namespaces",
        &[serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "only-in-second", "uid": "u-2", "creationTimestamp": common::ago(60)},
            "status": {"phase": "Active"}})],
    );
    let server = TestServer::start_many(vec![common::standard(), second]);
    for k in kubectls() {
        let first = kubectl(&k, &server, &["get", "namespaces", "-o", "name"])
            .ok()
            .to_string();
        assert!(
            first.contains("namespace/shop") && !first.contains("only-in-second"),
            "{first}"
        );
        let second = kubectl(
            &k,
            &server,
            &["--context", "ktriage-1", "get", "namespaces", "-o", "name"],
        )
        .ok()
        .to_string();
        assert_eq!(second.trim(), "namespace/only-in-second");
        let pods = kubectl(
            &k,
            &server,
            &["--context", "ktriage-1", "get", "pods", "-A"],
        );
        assert!(
            !pods.stdout.contains("coredns"),
            "the second cluster has no pods: {pods:?}"
        );
    }
}
