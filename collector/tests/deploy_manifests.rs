//! The manifests of `collector/deploy/` are valid Kubernetes objects: every document parses
//! as its kind's API type and serialises back to exactly what the file says, so a misspelt
//! or misplaced field (which the API server would reject, or silently drop) fails here. Then
//! what the deployment relies on: the image's non-root user, read-only root file systems and
//! one bundle per node.

use std::path::PathBuf;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Pod, PodSpec, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use serde::Deserialize;
use serde_json::Value;

fn deploy(name: &str) -> PathBuf {
    ktriage_tests::manifest_dir!().join("deploy").join(name)
}

/// Every document of a manifest file, checked to round-trip through its API type.
fn documents(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy(name)).expect("manifest");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let value = Value::deserialize(doc).expect("YAML");
            let kind = value["kind"].as_str().expect("kind").to_owned();
            let back = match kind.as_str() {
                "Pod" => round_trip::<Pod>(&value),
                "DaemonSet" => round_trip::<DaemonSet>(&value),
                "ServiceAccount" => round_trip::<ServiceAccount>(&value),
                "ClusterRole" => round_trip::<ClusterRole>(&value),
                "ClusterRoleBinding" => round_trip::<ClusterRoleBinding>(&value),
                other => panic!("{name}: no check for kind {other}"),
            };
            assert_eq!(back, value, "{name}: {kind} does not round-trip");
            value
        })
        .collect()
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> Value {
    let typed: T = serde_json::from_value(value.clone()).expect("the API type");
    serde_json::to_value(typed).expect("serialises")
}

fn pod_spec(value: &Value) -> PodSpec {
    serde_json::from_value(value.clone()).expect("pod spec")
}

const IMAGE: &str = "registry.example.com/ktriage/ktriage-collect:0.1.0";

#[test]
fn rbac_round_trips() {
    let kinds: Vec<String> = documents("rbac.yaml")
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(kinds.contains(&"ClusterRole".to_owned()), "{kinds:?}");
}

#[test]
fn cluster_pod_runs_the_image_non_root_on_a_read_only_root() {
    let docs = documents("pod.yaml");
    let spec = pod_spec(&docs[0]["spec"]);
    let pod_security = spec.security_context.expect("pod security context");
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert_eq!(pod_security.run_as_user, Some(65532));
    for c in &spec.containers {
        assert_eq!(c.image.as_deref(), Some(IMAGE), "{}", c.name);
        let security = c.security_context.as_ref().expect("security context");
        assert_eq!(security.read_only_root_filesystem, Some(true), "{}", c.name);
        assert!(
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path == "/bundles"),
            "{}",
            c.name
        );
    }
}

#[test]
fn node_pod_and_daemonset_collect_in_an_init_container_and_hold_the_bundle() {
    let pod = documents("node-pod.yaml");
    let ds = documents("node-daemonset.yaml");
    let specs = [
        ("node-pod.yaml", pod_spec(&pod[0]["spec"])),
        (
            "node-daemonset.yaml",
            pod_spec(&ds[0]["spec"]["template"]["spec"]),
        ),
    ];
    for (name, spec) in specs {
        let init = spec.init_containers.as_ref().expect("init containers");
        let collect = &init[0];
        assert_eq!(collect.image.as_deref(), Some(IMAGE), "{name}");
        let args = collect.args.clone().unwrap_or_default();
        assert_eq!(args[..3], ["node", "--root", "/host"], "{name}");
        let output = &args[args.iter().position(|a| a == "-o").expect("-o") + 1];
        assert!(output.starts_with("/bundles/"), "{name}: {output}");
        assert_eq!(
            collect
                .security_context
                .as_ref()
                .and_then(|s| s.read_only_root_filesystem),
            Some(true),
            "{name}"
        );
        let hold = &spec.containers[0];
        assert_eq!(hold.image.as_deref(), Some(IMAGE), "{name}");
        assert!(
            hold.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path == "/bundles"),
            "{name}"
        );
        assert_eq!(spec.host_pid, Some(true), "{name}");
    }
    // Every node writes a bundle named after itself.
    let ds_spec = pod_spec(&ds[0]["spec"]["template"]["spec"]);
    let args = ds_spec.init_containers.expect("init")[0]
        .args
        .clone()
        .unwrap_or_default();
    assert!(
        args.contains(&"/bundles/$(NODE_NAME).tar.zst".to_owned()),
        "{args:?}"
    );
}
