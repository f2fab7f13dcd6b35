//! `--pseudonymize hosts,ips`: one node's host name and IP address are replaced by the same
//! pseudonyms in an object, a container log, a kubelet log path and — in a node bundle
//! collected later with the cluster's key file — a host file, and the originals appear
//! nowhere in either decompressed bundle.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use ktriage_collect::node::{self, NodeArgs};
use ktriage_collect::stop::Stop;
use ktriage_schema::layout;
use ktriage_schema::manifest::Source;
use ktriage_schema::reader::{self, Limits};
use ktriage_serve::faults::{Fault, FaultPlan, FaultRule};
use serde_json::{Value, json};

use crate::common::{Fixture, decompressed, setup};

const NODE: &str = "node-1";
const NODE_FQDN: &str = "node-1.corp.example";
const NODE_IP: &str = "10.20.30.41";
const OTHER_NODE_IP: &str = "10.20.30.42";
const POD_IP: &str = "10.244.1.7";
const POD_CIDR: &str = "10.244.1.0/24";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The standard fixture, with node-1's addresses, pod CIDR and a pod on it that logs them.
fn fixture() -> Fixture {
    let mut f = Fixture::standard(2);
    let nodes = f
        .objects
        .get_mut(&(String::new(), "v1".into(), "nodes".into()))
        .expect("nodes");
    for node in nodes.iter_mut() {
        let name = node["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let ip = if name == NODE { NODE_IP } else { OTHER_NODE_IP };
        node["spec"] = json!({"podCIDR": POD_CIDR});
        node["status"]["addresses"] = json!([
            {"type": "InternalIP", "address": ip},
            {"type": "Hostname", "address": if name == NODE { NODE_FQDN } else { &name }},
        ]);
    }
    let pods = f
        .objects
        .get_mut(&(String::new(), "v1".into(), "pods".into()))
        .expect("pods");
    let pod = pods
        .iter_mut()
        .find(|p| p["metadata"]["name"] == "web-000")
        .expect("web-000");
    pod["status"]["hostIP"] = json!(NODE_IP);
    pod["status"]["podIP"] = json!(POD_IP);
    f.files.insert(
        layout::container_log_path("app", "web-000", "web", false),
        format!("2024-01-01T00:00:00Z serving on {POD_IP}:8080 on host {NODE} ({NODE_IP})\n")
            .into_bytes(),
    );
    f
}

/// The key file's pseudonym for `original` in `class`.
fn token(key_file: &Value, class: &str, original: &str) -> String {
    key_file[class]
        .as_object()
        .expect("class map")
        .iter()
        .find(|(_, o)| o.as_str() == Some(original))
        .map(|(t, _)| t.clone())
        .unwrap_or_else(|| panic!("no pseudonym for {original} in {class}"))
}

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_and_an_ip_get_one_pseudonym_across_objects_logs_and_host_files() {
    let s = setup(&fixture(), FaultPlan::new()).await;
    let outcome = s
        .collect(&["--pseudonymize", "hosts,ips"], Duration::from_secs(60))
        .await;
    let collected = outcome.clusters[0].result.as_ref().expect("collected");

    // The key file: beside the bundle, private, never inside.
    let key_path = s.dir.path().join("out.pseudonyms.json");
    assert_eq!(
        collected.pseudonyms_key.as_deref(),
        Some(key_path.as_path())
    );
    let mode = fs::metadata(&key_path)
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let keys: Value = serde_json::from_slice(&fs::read(&key_path).expect("read")).expect("json");
    let host = token(&keys, "hosts", NODE);
    let fqdn = token(&keys, "hosts", NODE_FQDN);
    let ip = token(&keys, "ips", NODE_IP);
    let pod_ip = token(&keys, "ips", POD_IP);
    assert!(
        host.starts_with("host-") && fqdn.starts_with(&format!("{host}.dom-")),
        "{fqdn}"
    );
    let key_hex = keys["key"].as_str().expect("key");

    let c = s.open_output();
    // The object: the node's name, addresses and pod CIDR.
    let nodes = c.objects("", "v1", "nodes").expect("nodes");
    let node = &nodes[&format!("/{host}")];
    assert_eq!(node["status"]["addresses"][0]["address"], ip.as_str());
    assert_eq!(node["status"]["addresses"][1]["address"], fqdn.as_str());
    let cidr = node["spec"]["podCIDR"].as_str().expect("podCIDR");
    let (net, len) = cidr.split_once('/').expect("a CIDR");
    assert_eq!(len, "24");
    let net: std::net::Ipv4Addr = net.parse().expect("network address");
    let mapped_pod: std::net::Ipv4Addr = pod_ip.parse().expect("an address");
    assert_eq!(
        u32::from(mapped_pod) >> 8,
        u32::from(net) >> 8,
        "{pod_ip} in {cidr}"
    );
    assert!(
        mapped_pod.is_private(),
        "a private address stays private: {pod_ip}"
    );
    let pods = c.objects("", "v1", "pods").expect("pods");
    let pod = &pods["app/web-000"];
    assert_eq!(pod["spec"]["nodeName"], host.as_str());
    assert_eq!(pod["status"]["hostIP"], ip.as_str());
    // The container log.
    let log = c
        .file(&layout::container_log_path("app", "web-000", "web", false))
        .expect("log");
    let log = String::from_utf8(log).expect("utf-8");
    assert!(
        log.contains(&format!("serving on {pod_ip}:8080 on host {host} ({ip})")),
        "{log}"
    );
    // The node's entries are under its pseudonym.
    assert!(c.file(&layout::node_configz_path(&host)).is_some());
    assert!(c.file(&layout::node_log_path(&host, "kubelet")).is_some());
    // The manifest says what was replaced, without the key.
    assert_eq!(
        c.manifest().options["pseudonymize"]["classes"],
        json!(["hosts", "ips"])
    );
    let cluster_bytes = decompressed(&s.output());
    for original in [
        NODE,
        "corp.example",
        NODE_IP,
        OTHER_NODE_IP,
        POD_IP,
        "10.244.1.0",
        key_hex,
    ] {
        assert!(
            !contains(&cluster_bytes, original),
            "{original} is in the cluster bundle"
        );
    }

    // Node mode on node-1, with the cluster's key file.
    let root = s.dir.path().join("host");
    write(&root, "/etc/hostname", &format!("{NODE_FQDN}\n"));
    write(
        &root,
        "/etc/hosts",
        &format!("127.0.0.1 localhost\n{NODE_IP} {NODE_FQDN} {NODE}\n{OTHER_NODE_IP} node-2\n"),
    );
    write(
        &root,
        "/etc/resolv.conf",
        "nameserver 10.96.0.10\nsearch corp.example\n",
    );
    let mut args = NodeArgs::new(&root);
    args.output = Some(s.dir.path().join("node-1.tar.zst"));
    args.pseudonymize = vec!["hosts".into(), "ips".into()];
    args.pseudonymize_key = Some(key_path.clone());
    let node_outcome = node::run(&args, &Stop::new()).expect("node mode runs");
    let node_key = s.dir.path().join("node-1.pseudonyms.json");
    let node_keys: Value =
        serde_json::from_slice(&fs::read(&node_key).expect("node key file")).expect("json");
    assert_eq!(node_keys["key"], keys["key"], "the same key");
    let work = tempfile::tempdir().expect("tempdir");
    let bundle = reader::open(&node_outcome.output, work.path(), &Limits::default())
        .expect("node bundle opens");
    let hosts_file =
        fs::read_to_string(bundle.path(&layout::host_file_path("/etc/hosts"))).expect("/etc/hosts");
    let other = token(&keys, "hosts", "node-2");
    let other_ip = token(&keys, "ips", OTHER_NODE_IP);
    assert_eq!(
        hosts_file,
        format!("127.0.0.1 localhost\n{ip} {fqdn} {host}\n{other_ip} {other}\n"),
        "the same pseudonyms as in the cluster bundle"
    );
    let Source::Host(source) = &bundle.manifest.source else {
        panic!("a host source");
    };
    assert_eq!(source.hostname, fqdn);
    assert_eq!(source.node_name, fqdn);
    let node_bytes = decompressed(&node_outcome.output);
    for original in [
        NODE,
        "node-2",
        "corp.example",
        NODE_IP,
        OTHER_NODE_IP,
        "10.96.0.10",
    ] {
        assert!(
            !contains(&node_bytes, original),
            "{original} is in the node bundle"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_node_list_host_names_cannot_be_learned_and_nothing_is_written() {
    let s = setup(
        &fixture(),
        FaultPlan::new().rule(FaultRule::new(Fault::Status(403)).resource("nodes")),
    )
    .await;
    let outcome = s
        .collect(&["--pseudonymize", "hosts"], Duration::from_secs(60))
        .await;
    let err = outcome.clusters[0]
        .result
        .as_ref()
        .expect_err("not collected");
    let err = format!("{err:#}");
    assert!(err.contains("--pseudonymize hosts"), "{err}");
    assert!(!s.output().exists());
    assert!(!s.dir.path().join("out.pseudonyms.json").exists());
}
