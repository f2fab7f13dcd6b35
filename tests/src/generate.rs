//! A deterministic generator of realistic clusters at any size, for benchmarks and scale
//! tests: nodes with full status, namespaces, Deployments/ReplicaSets/StatefulSets/DaemonSets/
//! Jobs with owned pods of 1–3 containers in realistic states, services with endpoints,
//! configmaps, secrets (as the collector writes them, redacted), events, CRDs with custom
//! resources, logs for a sample of containers, and node bundles for a sample of nodes.
//!
//! Objects stream resource by resource into the archive; nothing holds a whole list.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use ktriage_schema::discovery::{self, ApiResource};
use ktriage_schema::host::{Cgroup, Filesystem, HostFacts, Kernel, Mount};
use ktriage_schema::layout;
use ktriage_schema::manifest::{ClusterSource, HostSource, Manifest, Redaction, Source};
use ktriage_schema::writer::{BundleWriter, WriterOptions};
use serde_json::{Value, json};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Nodes.
    pub nodes: usize,
    /// Pods in all (DaemonSet pods included).
    pub pods: usize,
    /// Seed: the same seed and sizes give the same bundle.
    pub seed: u64,
    /// Fraction of containers with a log.
    pub log_fraction: f64,
    /// Node bundles to write.
    pub host_bundles: usize,
}

impl Spec {
    /// S = 500 nodes / 15,000 pods; L = 5,000 nodes / 150,000 pods.
    pub fn named(size: &str) -> Option<Spec> {
        let (nodes, pods) = match size {
            "XS" | "xs" => (20, 600),
            "S" | "s" => (500, 15_000),
            "M" | "m" => (2000, 60_000),
            "L" | "l" => (5000, 150_000),
            _ => return None,
        };
        Some(Spec { nodes, pods, seed: 42, log_fraction: 0.01, host_bundles: 3 })
    }
}

/// SplitMix64: tiny, fast and stable across versions, which a benchmark corpus needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(len);
        s
    }
    fn uid(&mut self) -> String {
        let h = self.hex(32);
        format!("{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
    }
}

fn collected_at() -> DateTime<Utc> {
    crate::source::default_collected_at()
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

const APPS: &[(&str, &str)] = &[
    ("frontend", "registry.example.com/shop/frontend:2.4.1"),
    ("api", "registry.example.com/shop/api:1.19.0"),
    ("worker", "registry.example.com/shop/worker:1.19.0"),
    ("cache", "docker.io/library/redis:7.2.4"),
    ("search", "docker.io/library/elasticsearch:8.12.0"),
    ("gateway", "docker.io/library/nginx:1.25.3"),
    ("auth", "registry.example.com/platform/auth:3.0.2"),
    ("billing", "registry.example.com/platform/billing:0.9.7"),
];
const SIDECARS: &[(&str, &str)] = &[
    ("istio-proxy", "docker.io/istio/proxyv2:1.20.2"),
    ("log-shipper", "docker.io/fluent/fluent-bit:2.2.2"),
];

/// Writes the cluster bundle `cluster.tar.zst` and node bundles `node-*.tar.zst` into `dir`.
pub fn generate(spec: &Spec, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut out = vec![dir.join("cluster.tar.zst")];
    generate_cluster(spec, &out[0])?;
    for i in 0..spec.host_bundles.min(spec.nodes) {
        let node = node_name(i * spec.nodes / spec.host_bundles.max(1));
        let path = dir.join(format!("{node}.tar.zst"));
        generate_host(spec, &node, &path)?;
        out.push(path);
    }
    Ok(out)
}

fn node_name(i: usize) -> String {
    format!("node-{i:05}")
}

/// Spools one resource's NDJSON to a temp file, then appends it to the bundle.
struct Spool {
    file: BufWriter<std::fs::File>,
    count: u64,
}

impl Spool {
    fn new() -> Result<Spool> {
        Ok(Spool { file: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?), count: 0 })
    }
    fn push(&mut self, v: &Value) -> Result<()> {
        serde_json::to_writer(&mut self.file, v)?;
        self.file.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }
    fn finish<W: Write>(self, w: &mut BundleWriter<W>, path: &str) -> Result<()> {
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        let size = file.stream_position()?;
        file.seek(SeekFrom::Start(0))?;
        w.add_reader(path, size, std::io::BufReader::new(file), None)?;
        Ok(())
    }
}

fn generate_cluster(spec: &Spec, out: &Path) -> Result<()> {
    let now = collected_at();
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let options = WriterOptions { level: 3, workers: 0, mtime: now.timestamp() as u64 };
    let mut w = BundleWriter::new(BufWriter::new(file), &options)?;
    let mut rng = Rng(spec.seed);

    let mut disc = discovery::builtin();
    disc.add("monitoring.coreos.com", "v1", ApiResource {
        name: "servicemonitors".into(), singular_name: "servicemonitor".into(), namespaced: true,
        kind: "ServiceMonitor".into(), verbs: vec!["get".into(), "list".into(), "watch".into()], ..Default::default()
    });
    w.add_bytes(layout::DISCOVERY, &serde_json::to_vec(&disc)?)?;
    w.add_bytes(layout::VERSION, br#"{"major":"1","minor":"29","gitVersion":"v1.29.3","platform":"linux/amd64"}"#)?;

    // Nodes.
    let mut spool = Spool::new()?;
    for i in 0..spec.nodes {
        spool.push(&node(&mut rng, i, now))?;
    }
    spool.finish(&mut w, &layout::resource_path("", "v1", "nodes"))?;

    // Namespaces: system ones plus one per 50 nodes' worth of pods.
    let app_namespaces = (spec.pods / 600).clamp(3, 400);
    let mut namespaces: Vec<String> = (0..app_namespaces).map(|i| format!("team-{i:03}")).collect();
    namespaces.extend(["default", "kube-system", "monitoring"].map(String::from));
    namespaces.sort();
    let mut spool = Spool::new()?;
    for ns in &namespaces {
        spool.push(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": rng.uid(), "creationTimestamp": ts(now - Duration::days(200)),
                "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}))?;
    }
    spool.finish(&mut w, &layout::resource_path("", "v1", "namespaces"))?;

    // Workloads and pods, namespace by namespace, in name order.
    let daemonsets = ["kube-proxy", "node-exporter", "flannel"];
    let ds_pods = daemonsets.len() * spec.nodes;
    let app_pods = spec.pods.saturating_sub(ds_pods);
    let per_ns = app_pods.div_ceil(app_namespaces);
    let mut s = Spools::new()?;
    let mut log_budget: Vec<(String, String, String, bool)> = Vec::new();
    let mut pod_index = 0usize;
    for ns in &namespaces {
        if ns == "kube-system" {
            for (d, ds) in daemonsets.iter().enumerate() {
                let ds_uid = rng.uid();
                s.daemonsets.push(&json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
                    "metadata": {"name": ds, "namespace": ns, "uid": ds_uid, "creationTimestamp": ts(now - Duration::days(200))},
                    "spec": {"selector": {"matchLabels": {"app": ds}}, "template": {"metadata": {"labels": {"app": ds}},
                        "spec": {"containers": [{"name": ds, "image": format!("registry.k8s.io/{ds}:v1.29.3")}]}}},
                    "status": {"desiredNumberScheduled": spec.nodes, "numberReady": spec.nodes, "numberAvailable": spec.nodes,
                        "currentNumberScheduled": spec.nodes, "numberMisscheduled": 0}}))?;
                for n in 0..spec.nodes {
                    let name = format!("{ds}-{}", rng.hex(5));
                    let p = pod(&mut rng, ns, &name, &node_name(n), "DaemonSet", ds, &ds_uid, &[(ds, &format!("registry.k8s.io/{ds}:v1.29.3"))], d == 0 && n % 97 == 0, now);
                    s.pods.push(&p)?;
                    pod_index += 1;
                }
            }
            continue;
        }
        if !ns.starts_with("team-") {
            continue;
        }
        let mut made = 0usize;
        let mut w_i = 0usize;
        while made < per_ns && pod_index < spec.pods {
            let (app, image) = APPS[(rng.below(APPS.len() as u64)) as usize];
            let name = format!("{app}-{w_i:03}");
            w_i += 1;
            let replicas = (1 + rng.below(6) as usize).min(per_ns - made);
            let mut containers = vec![(app, image)];
            for sc in SIDECARS {
                if rng.chance(0.3) {
                    containers.push(*sc);
                }
            }
            let stateful = rng.chance(0.1);
            let uid = rng.uid();
            let template = json!({"metadata": {"labels": {"app": name}},
                "spec": {"containers": containers.iter().map(|(c, i)| container_spec(c, i)).collect::<Vec<_>>()}});
            let (owner_kind, owner_name, owner_uid) = if stateful {
                s.statefulsets.push(&json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": name, "namespace": ns, "uid": uid, "creationTimestamp": ts(now - Duration::days(90))},
                    "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}}, "template": template},
                    "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas}}))?;
                ("StatefulSet", name.clone(), uid.clone())
            } else {
                let hash = rng.hex(10);
                let rs_uid = rng.uid();
                s.deployments.push(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": ns, "uid": uid, "creationTimestamp": ts(now - Duration::days(90)),
                        "labels": {"app": name}},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template,
                        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}},
                    "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas}}))?;
                let rs_name = format!("{name}-{hash}");
                s.replicasets.push(&json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": rs_name, "namespace": ns, "uid": rs_uid, "creationTimestamp": ts(now - Duration::days(30)),
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid, "controller": true}]},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template},
                    "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}}))?;
                ("ReplicaSet", rs_name, rs_uid)
            };
            let mut ips = Vec::new();
            for r in 0..replicas {
                let pod_name = if stateful { format!("{name}-{r}") } else { format!("{owner_name}-{}", rng.hex(5)) };
                let node = node_name(rng.below(spec.nodes as u64) as usize);
                let troubled = rng.chance(0.02);
                let p = pod(&mut rng, ns, &pod_name, &node, owner_kind, &owner_name, &owner_uid, &containers, troubled, now);
                ips.push((p["status"]["podIP"].as_str().unwrap_or("").to_string(), node.clone(), pod_name.clone()));
                if rng.chance(spec.log_fraction * containers.len() as f64) {
                    log_budget.push((ns.clone(), pod_name.clone(), containers[0].0.to_string(), troubled));
                }
                if troubled {
                    s.events.push(&json!({"apiVersion": "v1", "kind": "Event",
                        "metadata": {"name": format!("{pod_name}.{}", rng.hex(16)), "namespace": ns, "uid": rng.uid(), "creationTimestamp": ts(now - Duration::minutes(30))},
                        "type": "Warning", "reason": "BackOff", "message": format!("Back-off restarting failed container {} in pod {pod_name}_{ns}({})", containers[0].0, rng.uid()),
                        "count": 1 + rng.below(200), "firstTimestamp": ts(now - Duration::hours(5)), "lastTimestamp": ts(now - Duration::minutes(2)),
                        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod_name, "namespace": ns, "fieldPath": format!("spec.containers{{{}}}", containers[0].0)},
                        "source": {"component": "kubelet", "host": node}}))?;
                }
                s.pods.push(&p)?;
                made += 1;
                pod_index += 1;
            }
            s.services.push(&json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "uid": rng.uid(), "creationTimestamp": ts(now - Duration::days(90))},
                "spec": {"type": "ClusterIP", "clusterIP": format!("10.96.{}.{}", rng.below(256), rng.below(254) + 1), "selector": {"app": name},
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}))?;
            s.endpoints.push(&json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns, "uid": rng.uid()},
                "subsets": [{"addresses": ips.iter().map(|(ip, node, pod)| json!({"ip": ip, "nodeName": node,
                    "targetRef": {"kind": "Pod", "name": pod, "namespace": ns}})).collect::<Vec<_>>(),
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}))?;
            s.configmaps.push(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("{name}-config"), "namespace": ns, "uid": rng.uid()},
                "data": {"LOG_LEVEL": "info", "application.yaml": "server:\n  port: 8080\nmetrics:\n  enabled: true\n"}}))?;
            s.secrets.push(&json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": format!("{name}-credentials"), "namespace": ns, "uid": rng.uid()},
                "data": {"password": "<redacted len=32>", "username": "<redacted len=8>"}}))?;
            s.servicemonitors.push(&json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                "metadata": {"name": name, "namespace": ns, "uid": rng.uid()},
                "spec": {"selector": {"matchLabels": {"app": name}}, "endpoints": [{"port": "http", "interval": "30s"}]}}))?;
        }
    }
    let secret_values = s.secrets.count * 2;
    s.finish(&mut w)?;

    // Logs for a sample of containers.
    for (ns, pod, container, troubled) in &log_budget {
        let mut text = String::new();
        for l in 0..40 {
            let t = now - Duration::seconds(40 - l);
            if *troubled && l == 39 {
                text.push_str(&format!("{} ERROR failed to connect to database: dial tcp 10.96.12.4:5432: connect: connection refused\n", ts(t)));
            } else {
                text.push_str(&format!("{} INFO request handled path=/api/v1/items/{} status=200 duration_ms={}\n", ts(t), rng.below(10_000), rng.below(300)));
            }
        }
        w.add_bytes(&layout::container_log_path(ns, pod, container, false), text.as_bytes())?;
    }

    let manifest = Manifest {
        format_version: Manifest::current_format_version(),
        producer: "ktriage-generate".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        bundle_id: format!("synthetic-{}n-{}p-{}", spec.nodes, spec.pods, spec.seed),
        started_at: now - Duration::seconds(90),
        finished_at: now,
        source: Source::Cluster(ClusterSource {
            server_version: "v1.29.3".into(),
            cluster_id: format!("synthetic-{}", spec.seed),
            context: format!("synthetic-{}n", spec.nodes),
            server: "https://10.0.0.1:6443".into(),
        }),
        options: json!({"generated": {"nodes": spec.nodes, "pods": spec.pods, "seed": spec.seed}}),
        entries: Vec::new(),
        gaps: Vec::new(),
        redaction: Redaction { enabled: true, counts: [("secret-data".to_string(), secret_values)].into() },
        partial: false,
    };
    let inner = w.finish(manifest)?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

/// One spool per generated resource.
struct Spools {
    pods: Spool,
    deployments: Spool,
    replicasets: Spool,
    statefulsets: Spool,
    daemonsets: Spool,
    services: Spool,
    endpoints: Spool,
    configmaps: Spool,
    secrets: Spool,
    events: Spool,
    servicemonitors: Spool,
}

impl Spools {
    fn new() -> Result<Spools> {
        Ok(Spools {
            pods: Spool::new()?, deployments: Spool::new()?, replicasets: Spool::new()?, statefulsets: Spool::new()?,
            daemonsets: Spool::new()?, services: Spool::new()?, endpoints: Spool::new()?, configmaps: Spool::new()?,
            secrets: Spool::new()?, events: Spool::new()?, servicemonitors: Spool::new()?,
        })
    }
    fn finish<W: Write>(self, w: &mut BundleWriter<W>) -> Result<()> {
        self.pods.finish(w, &layout::resource_path("", "v1", "pods"))?;
        self.services.finish(w, &layout::resource_path("", "v1", "services"))?;
        self.endpoints.finish(w, &layout::resource_path("", "v1", "endpoints"))?;
        self.configmaps.finish(w, &layout::resource_path("", "v1", "configmaps"))?;
        self.secrets.finish(w, &layout::resource_path("", "v1", "secrets"))?;
        self.events.finish(w, &layout::resource_path("", "v1", "events"))?;
        self.deployments.finish(w, &layout::resource_path("apps", "v1", "deployments"))?;
        self.replicasets.finish(w, &layout::resource_path("apps", "v1", "replicasets"))?;
        self.statefulsets.finish(w, &layout::resource_path("apps", "v1", "statefulsets"))?;
        self.daemonsets.finish(w, &layout::resource_path("apps", "v1", "daemonsets"))?;
        self.servicemonitors.finish(w, &layout::resource_path("monitoring.coreos.com", "v1", "servicemonitors"))?;
        Ok(())
    }
}

fn container_spec(name: &str, image: &str) -> Value {
    json!({"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "LOG_LEVEL"}}},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
        "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
}

#[allow(clippy::too_many_arguments)]
fn pod(rng: &mut Rng, ns: &str, name: &str, node: &str, owner_kind: &str, owner: &str, owner_uid: &str,
       containers: &[(&str, &str)], troubled: bool, now: DateTime<Utc>) -> Value {
    let started = now - Duration::hours(1 + rng.below(2000) as i64);
    let statuses: Vec<Value> = containers.iter().enumerate().map(|(i, (c, image))| {
        let crash = troubled && i == 0;
        let state = if crash {
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container={c} pod={name}_{ns}")}})
        } else {
            json!({"running": {"startedAt": ts(started)}})
        };
        let mut s = json!({"name": c, "image": image, "imageID": format!("{image}@sha256:{}", rng.hex(64)),
            "containerID": format!("containerd://{}", rng.hex(64)), "ready": !crash, "started": !crash,
            "restartCount": if crash { 5 + rng.below(300) } else { 0 }, "state": state});
        if crash {
            s["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(now - Duration::minutes(6)), "finishedAt": ts(now - Duration::minutes(5))}});
        }
        s
    }).collect();
    let ready = if troubled { "False" } else { "True" };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": rng.uid(), "creationTimestamp": ts(started - Duration::seconds(20)),
            "labels": {"app": owner, "pod-template-hash": rng.hex(10)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner_kind, "name": owner, "uid": owner_uid, "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"nodeName": node, "serviceAccountName": "default", "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30, "priority": 0,
            "containers": containers.iter().map(|(c, i)| container_spec(c, i)).collect::<Vec<_>>(),
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}]},
        "status": {"phase": "Running", "qosClass": "Burstable",
            "hostIP": format!("10.{}.{}.{}", 1 + rng.below(3), rng.below(256), rng.below(254) + 1),
            "podIP": format!("10.244.{}.{}", rng.below(256), rng.below(254) + 1),
            "startTime": ts(started),
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": ts(started)},
                {"type": "Ready", "status": ready, "lastTransitionTime": ts(started)},
                {"type": "ContainersReady", "status": ready, "lastTransitionTime": ts(started)},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(started)}],
            "containerStatuses": statuses}})
}

fn node(rng: &mut Rng, i: usize, now: DateTime<Utc>) -> Value {
    let name = node_name(i);
    let cp = i < 3;
    let mut labels = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "topology.kubernetes.io/zone": format!("zone-{}", i % 3)});
    if cp {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
    }
    let heartbeat = ts(now - Duration::seconds(rng.below(40) as i64));
    let cond = |t: &str, s: &str, r: &str, m: &str| json!({"type": t, "status": s, "reason": r, "message": m,
        "lastHeartbeatTime": heartbeat, "lastTransitionTime": ts(now - Duration::days(30))});
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": rng.uid(), "creationTimestamp": ts(now - Duration::days(180)), "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": {"podCIDR": format!("10.244.{}.0/24", i % 256), "providerID": format!("external://{name}"),
            "taints": if cp { json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]) } else { json!(null) }},
        "status": {
            "capacity": {"cpu": "16", "memory": "65842396Ki", "pods": "110", "ephemeral-storage": "203056560Ki"},
            "allocatable": {"cpu": "15800m", "memory": "64715996Ki", "pods": "110", "ephemeral-storage": "187136242873"},
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")],
            "addresses": [{"type": "InternalIP", "address": format!("10.{}.{}.{}", 1 + i / 65536, (i / 256) % 256, i % 256)},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.29.3", "kubeProxyVersion": "v1.29.3", "kernelVersion": "5.15.0-91-generic",
                "osImage": "Ubuntu 22.04.3 LTS", "containerRuntimeVersion": "containerd://1.7.12", "operatingSystem": "linux",
                "architecture": "amd64", "machineID": rng.hex(32), "systemUUID": rng.uid(), "bootID": rng.uid()},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}})
}

fn generate_host(spec: &Spec, node: &str, out: &Path) -> Result<()> {
    let now = collected_at();
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = BundleWriter::new(BufWriter::new(file), &WriterOptions { level: 3, workers: 0, mtime: now.timestamp() as u64 })?;
    let facts = HostFacts {
        hostname: node.into(),
        kernel: Kernel { sysname: "Linux".into(), release: "5.15.0-91-generic".into(), version: "#101-Ubuntu SMP".into(), machine: "x86_64".into() },
        os_release: [("ID", "ubuntu"), ("VERSION_ID", "22.04"), ("PRETTY_NAME", "Ubuntu 22.04.3 LTS")].map(|(k, v)| (k.into(), v.into())).into(),
        cmdline: "BOOT_IMAGE=/vmlinuz-5.15.0-91-generic root=/dev/sda1 ro".into(),
        memory_bytes: 67_422_613_504,
        cpus: 16,
        sysctls: [("fs.inotify.max_user_watches", "524288"), ("fs.inotify.max_user_instances", "8192"), ("net.ipv4.ip_forward", "1"),
            ("net.bridge.bridge-nf-call-iptables", "1")].map(|(k, v)| (k.into(), v.into())).into(),
        modules: ["overlay", "br_netfilter", "nf_conntrack", "ip_tables", "xt_conntrack"].map(String::from).to_vec(),
        mounts: vec![
            Mount { device: "/dev/sda1".into(), mountpoint: "/".into(), fstype: "ext4".into(), options: "rw,relatime".into() },
            Mount { device: "cgroup2".into(), mountpoint: "/sys/fs/cgroup".into(), fstype: "cgroup2".into(), options: "rw,nosuid,nodev,noexec,relatime".into() },
        ],
        cgroup: Cgroup { version: 2, controllers: ["cpuset", "cpu", "io", "memory", "pids"].map(String::from).to_vec() },
        binaries: ["ebtables", "ethtool", "conntrack", "socat", "iptables", "ip", "crictl", "ctr"].map(|b| (b.to_string(), Some(format!("/usr/sbin/{b}")))).into(),
        runtime_sockets: [("/run/containerd/containerd.sock".to_string(), true)].into(),
        cni_bin: ["bridge", "flannel", "host-local", "loopback", "portmap"].map(String::from).to_vec(),
        filesystems: vec![Filesystem { path: "/".into(), fstype: "ext4".into(), size_bytes: 207_929_917_440, used_bytes: 62_378_975_232, xfs_ftype: None }],
        ..Default::default()
    };
    w.add_bytes(layout::HOST_FACTS, &serde_json::to_vec(&facts)?)?;
    w.add_bytes(&layout::host_file_path("/etc/resolv.conf"), b"nameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch cluster.example.com\n")?;
    let manifest = Manifest {
        format_version: Manifest::current_format_version(),
        producer: "ktriage-generate".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        bundle_id: format!("synthetic-{}-{}", node, spec.seed),
        started_at: now - Duration::seconds(5),
        finished_at: now,
        source: Source::Host(HostSource { node_name: node.into(), hostname: node.into() }),
        options: json!({}),
        entries: Vec::new(),
        gaps: Vec::new(),
        redaction: Redaction { enabled: true, counts: Default::default() },
        partial: false,
    };
    w.finish(manifest)?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}
