//! A deterministic generator of realistic clusters at any size, for benchmarks and scale
//! tests: nodes with full status (images, conditions, annotations) and their leases,
//! namespaces, Deployments/ReplicaSets/StatefulSets/DaemonSets/CronJobs/Jobs with owned pods
//! of 1–3 containers in realistic states (mostly running; some crash-looping, OOM-restarted,
//! unschedulable, failing to pull; completed and failed Job pods), services with endpoints and
//! endpoint slices, configmaps, service accounts, secrets (as the collector writes them,
//! redacted), the events those states produce, CRDs with custom resources, logs for a sample
//! of containers, and node bundles for a sample of nodes. Objects carry the fields a real API
//! server returns (defaults, resource versions, image digests shared by every pod of an
//! image), so sizes and compression ratios are those of a real cluster.
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
        Some(Spec {
            nodes,
            pods,
            seed: 42,
            log_fraction: 0.01,
            host_bundles: 3,
        })
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
        format!(
            "{}-{}-4{}-8{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
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
        Ok(Spool {
            file: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            count: 0,
        })
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
    let options = WriterOptions {
        level: 3,
        long_window_log: None,
        workers: 0,
        mtime: now.timestamp() as u64,
    };
    let mut w = BundleWriter::new(BufWriter::new(file), &options)?;
    let mut rng = Rng(spec.seed);
    let mut rv = ResourceVersions(1_000_000);

    let mut disc = discovery::builtin();
    for crd in CRDS {
        disc.add(
            crd.group,
            "v1",
            ApiResource {
                name: crd.plural.into(),
                singular_name: crd.kind.to_lowercase(),
                namespaced: true,
                kind: crd.kind.into(),
                verbs: vec!["get".into(), "list".into(), "watch".into()],
                ..Default::default()
            },
        );
    }
    w.add_bytes(layout::DISCOVERY, &serde_json::to_vec(&disc)?)?;
    w.add_bytes(
        layout::VERSION,
        br#"{"major":"1","minor":"29","gitVersion":"v1.29.3","platform":"linux/amd64"}"#,
    )?;

    // Nodes, and the lease each kubelet renews.
    let mut spool = Spool::new()?;
    let mut leases = Spool::new()?;
    for i in 0..spec.nodes {
        let n = node(&mut rng, &mut rv, i, now);
        leases.push(&json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": node_name(i), "namespace": "kube-node-lease", "uid": rng.uid(), "resourceVersion": rv.next(),
                "creationTimestamp": ts(now - Duration::days(180)),
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node_name(i), "uid": n["metadata"]["uid"]}]},
            "spec": {"holderIdentity": node_name(i), "leaseDurationSeconds": 40, "renewTime": format!("{}.{:06}Z", ts(now - Duration::seconds(rng.below(10) as i64)).trim_end_matches('Z'), rng.below(1_000_000))}}))?;
        spool.push(&n)?;
    }
    spool.finish(&mut w, &layout::resource_path("", "v1", "nodes"))?;
    leases.finish(
        &mut w,
        &layout::resource_path("coordination.k8s.io", "v1", "leases"),
    )?;

    // CRDs of the custom resources below.
    let mut spool = Spool::new()?;
    for crd in CRDS {
        spool.push(&crd_object(crd, &mut rng, &mut rv, now))?;
    }
    spool.finish(
        &mut w,
        &layout::resource_path("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
    )?;

    // Namespaces: system ones plus one per 600 pods.
    let app_namespaces = (spec.pods / 600).clamp(3, 400);
    let mut namespaces: Vec<String> = (0..app_namespaces)
        .map(|i| format!("team-{i:03}"))
        .collect();
    namespaces.extend(
        [
            "default",
            "kube-node-lease",
            "kube-public",
            "kube-system",
            "monitoring",
        ]
        .map(String::from),
    );
    namespaces.sort();
    let mut spool = Spool::new()?;
    for ns in &namespaces {
        spool.push(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": rng.uid(), "resourceVersion": rv.next(), "creationTimestamp": ts(now - Duration::days(200)),
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
    let mut log_budget: Vec<(String, String, String, Trouble)> = Vec::new();
    let mut pod_index = 0usize;
    let ca = fake_pem(spec.seed);
    for ns in &namespaces {
        // Every namespace has the cluster CA configmap and a default service account.
        s.configmaps.push(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt", "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(),
                "creationTimestamp": ts(now - Duration::days(200)),
                "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ca}}))?;
        s.serviceaccounts.push(&json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(),
                "creationTimestamp": ts(now - Duration::days(200))}}))?;
        if ns == "kube-system" {
            for (d, ds) in daemonsets.iter().enumerate() {
                let ds_uid = rng.uid();
                let image = format!("registry.k8s.io/{ds}:v1.29.3");
                let hash = rng.hex(10);
                s.daemonsets.push(&json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
                    "metadata": {"name": ds, "namespace": ns, "uid": ds_uid, "resourceVersion": rv.next(), "generation": 1,
                        "creationTimestamp": ts(now - Duration::days(200)), "labels": {"k8s-app": ds},
                        "annotations": {"deprecated.daemonset.template.generation": "1"}},
                    "spec": {"selector": {"matchLabels": {"k8s-app": ds}}, "template": {"metadata": {"labels": {"k8s-app": ds}},
                        "spec": {"containers": [container_spec(ds, &image)], "hostNetwork": true, "priorityClassName": "system-node-critical",
                            "tolerations": [{"operator": "Exists"}]}},
                        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                        "revisionHistoryLimit": 10},
                    "status": {"desiredNumberScheduled": spec.nodes, "numberReady": spec.nodes, "numberAvailable": spec.nodes,
                        "currentNumberScheduled": spec.nodes, "updatedNumberScheduled": spec.nodes, "numberMisscheduled": 0, "observedGeneration": 1}}))?;
                for n in 0..spec.nodes {
                    let name = format!("{ds}-{}", rng.hex(5));
                    let trouble = if d == 0 && n % 97 == 0 {
                        Trouble::CrashLoop
                    } else {
                        Trouble::None
                    };
                    let p = pod(
                        &mut rng,
                        &mut rv,
                        &PodArgs {
                            ns,
                            name: &name,
                            node: Some(&node_name(n)),
                            owner_kind: "DaemonSet",
                            owner: ds,
                            owner_uid: &ds_uid,
                            template_hash: ("controller-revision-hash", &hash),
                            app_label: ("k8s-app", *ds),
                            containers: &[(*ds, image.as_str())],
                            trouble,
                            daemon: true,
                            recent: false,
                            now,
                        },
                    );
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
        // A nightly CronJob with its last three Jobs: completed pods, now and then a failed one.
        let cj = format!("report-{}", &ns[5..]);
        let cj_uid = rng.uid();
        let job_image = "registry.example.com/platform/reporter:1.4.0";
        s.cronjobs.push(&json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": cj, "namespace": ns, "uid": cj_uid, "resourceVersion": rv.next(), "generation": 1,
                "creationTimestamp": ts(now - Duration::days(120))},
            "spec": {"schedule": "15 */8 * * *", "concurrencyPolicy": "Forbid", "suspend": false,
                "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never",
                    "containers": [container_spec("reporter", job_image)]}}}}},
            "status": {"lastScheduleTime": ts(now - Duration::hours(3)), "lastSuccessfulTime": ts(now - Duration::hours(3))}}))?;
        for j in 0..3usize {
            if made >= per_ns || pod_index >= spec.pods {
                break;
            }
            let job = format!("{cj}-{}", 29_000_000 + j * 480);
            let job_uid = rng.uid();
            let failed = rng.chance(0.05);
            let finished = now - Duration::hours(3 + 8 * (2 - j as i64));
            let condition = if failed {
                json!({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit",
                    "lastProbeTime": ts(finished), "lastTransitionTime": ts(finished)})
            } else {
                json!({"type": "Complete", "status": "True", "lastProbeTime": ts(finished), "lastTransitionTime": ts(finished)})
            };
            s.jobs.push(&json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": job, "namespace": ns, "uid": job_uid, "resourceVersion": rv.next(), "generation": 1,
                    "creationTimestamp": ts(finished - Duration::minutes(4)),
                    "labels": {"batch.kubernetes.io/controller-uid": job_uid, "batch.kubernetes.io/job-name": job},
                    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cj, "uid": cj_uid, "controller": true, "blockOwnerDeletion": true}]},
                "spec": {"backoffLimit": 2, "completions": 1, "parallelism": 1, "completionMode": "NonIndexed",
                    "template": {"metadata": {"labels": {"batch.kubernetes.io/job-name": job}},
                        "spec": {"restartPolicy": "Never", "containers": [container_spec("reporter", job_image)]}}},
                "status": {"startTime": ts(finished - Duration::minutes(4)), "completionTime": if failed { json!(null) } else { json!(ts(finished)) },
                    "succeeded": if failed { 0 } else { 1 }, "failed": if failed { 3 } else { 0 }, "conditions": [condition]}}))?;
            let pod_name = format!("{job}-{}", rng.hex(5));
            let node = node_name(rng.below(spec.nodes as u64) as usize);
            let p = pod(
                &mut rng,
                &mut rv,
                &PodArgs {
                    ns,
                    name: &pod_name,
                    node: Some(&node),
                    owner_kind: "Job",
                    owner: &job,
                    owner_uid: &job_uid,
                    template_hash: ("batch.kubernetes.io/controller-uid", &job_uid),
                    app_label: ("batch.kubernetes.io/job-name", &job),
                    containers: &[("reporter", job_image)],
                    trouble: if failed {
                        Trouble::JobFailed
                    } else {
                        Trouble::Completed
                    },
                    daemon: false,
                    recent: false,
                    now,
                },
            );
            s.pods.push(&p)?;
            made += 1;
            pod_index += 1;
        }
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
            // A rollout in progress: its pods are young and have their scheduling events.
            let recent = rng.chance(0.05);
            let uid = rng.uid();
            let template = json!({"metadata": {"labels": {"app": name}, "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
                "spec": {"containers": containers.iter().map(|(c, i)| container_spec(c, i)).collect::<Vec<_>>(),
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                    "securityContext": {}, "schedulerName": "default-scheduler"}});
            let hash = rng.hex(10);
            let (owner_kind, owner_name, owner_uid, hash_label) = if stateful {
                s.statefulsets.push(&json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": name, "namespace": ns, "uid": uid, "resourceVersion": rv.next(), "generation": 1,
                        "creationTimestamp": ts(now - Duration::days(90)), "labels": {"app": name}},
                    "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}}, "template": template,
                        "podManagementPolicy": "OrderedReady", "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                        "revisionHistoryLimit": 10, "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}},
                    "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas,
                        "currentReplicas": replicas, "currentRevision": format!("{name}-{hash}"), "updateRevision": format!("{name}-{hash}"),
                        "observedGeneration": 1, "collisionCount": 0}}))?;
                (
                    "StatefulSet",
                    name.clone(),
                    uid.clone(),
                    ("controller-revision-hash", format!("{name}-{hash}")),
                )
            } else {
                let rs_uid = rng.uid();
                s.deployments.push(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": ns, "uid": uid, "resourceVersion": rv.next(), "generation": 3,
                        "creationTimestamp": ts(now - Duration::days(90)), "labels": {"app": name},
                        "annotations": {"deployment.kubernetes.io/revision": "3"}},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template,
                        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                        "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
                    "status": {"observedGeneration": 3, "replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas,
                        "conditions": [
                            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.",
                             "lastUpdateTime": ts(now - Duration::days(30)), "lastTransitionTime": ts(now - Duration::days(30))},
                            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{name}-{hash}\" has successfully progressed."),
                             "lastUpdateTime": ts(now - Duration::days(30)), "lastTransitionTime": ts(now - Duration::days(90))}]}}))?;
                let rs_name = format!("{name}-{hash}");
                s.replicasets.push(&json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": rs_name, "namespace": ns, "uid": rs_uid, "resourceVersion": rv.next(), "generation": 1,
                        "creationTimestamp": ts(now - Duration::days(30)), "labels": {"app": name, "pod-template-hash": hash},
                        "annotations": {"deployment.kubernetes.io/desired-replicas": replicas.to_string(), "deployment.kubernetes.io/max-replicas": (replicas + replicas.div_ceil(4)).to_string(), "deployment.kubernetes.io/revision": "3"},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
                    "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name, "pod-template-hash": hash}}, "template": template},
                    "status": {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "observedGeneration": 1}}))?;
                (
                    "ReplicaSet",
                    rs_name,
                    rs_uid,
                    ("pod-template-hash", hash.clone()),
                )
            };
            let mut ips = Vec::new();
            for r in 0..replicas {
                let pod_name = if stateful {
                    format!("{name}-{r}")
                } else {
                    format!("{owner_name}-{}", rng.hex(5))
                };
                let trouble = Trouble::draw(&mut rng);
                let node = (trouble != Trouble::Pending)
                    .then(|| node_name(rng.below(spec.nodes as u64) as usize));
                let p = pod(
                    &mut rng,
                    &mut rv,
                    &PodArgs {
                        ns,
                        name: &pod_name,
                        node: node.as_deref(),
                        owner_kind,
                        owner: &owner_name,
                        owner_uid: &owner_uid,
                        template_hash: (hash_label.0, &hash_label.1),
                        app_label: ("app", &name),
                        containers: &containers,
                        trouble,
                        daemon: false,
                        recent,
                        now,
                    },
                );
                let pod_uid = p["metadata"]["uid"].as_str().unwrap_or("").to_string();
                if let Some(node) = &node {
                    ips.push((
                        p["status"]["podIP"].as_str().unwrap_or("").to_string(),
                        node.clone(),
                        pod_name.clone(),
                        pod_uid.clone(),
                        trouble == Trouble::None,
                    ));
                }
                if rng.chance(spec.log_fraction * containers.len() as f64) && node.is_some() {
                    log_budget.push((
                        ns.clone(),
                        pod_name.clone(),
                        containers[0].0.to_string(),
                        trouble,
                    ));
                }
                for e in pod_events(
                    &mut rng,
                    &mut rv,
                    ns,
                    &pod_name,
                    &pod_uid,
                    node.as_deref(),
                    &containers,
                    trouble,
                    recent,
                    spec.nodes,
                    now,
                ) {
                    s.events.push(&e)?;
                }
                s.pods.push(&p)?;
                made += 1;
                pod_index += 1;
            }
            let svc_uid = rng.uid();
            let cluster_ip = format!("10.96.{}.{}", rng.below(256), rng.below(254) + 1);
            s.services.push(&json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "namespace": ns, "uid": svc_uid, "resourceVersion": rv.next(),
                    "creationTimestamp": ts(now - Duration::days(90)), "labels": {"app": name}},
                "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "selector": {"app": name},
                    "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster", "sessionAffinity": "None",
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]},
                "status": {"loadBalancer": {}}}))?;
            let address = |(ip, node, pod, uid, _): &(String, String, String, String, bool)| {
                json!({"ip": ip, "nodeName": node,
                "targetRef": {"kind": "Pod", "name": pod, "namespace": ns, "uid": uid}})
            };
            let ready: Vec<Value> = ips.iter().filter(|a| a.4).map(address).collect();
            let not_ready: Vec<Value> = ips.iter().filter(|a| !a.4).map(address).collect();
            let mut subset = json!({"addresses": ready, "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]});
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = json!(not_ready);
            }
            s.endpoints.push(&json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(),
                    "creationTimestamp": ts(now - Duration::days(90)), "labels": {"app": name},
                    "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": ts(now - Duration::hours(2))}},
                "subsets": [subset]}))?;
            s.endpointslices.push(&json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                "metadata": {"name": format!("{name}-{}", rng.hex(5)), "generateName": format!("{name}-"), "namespace": ns, "uid": rng.uid(),
                    "resourceVersion": rv.next(), "generation": 7, "creationTimestamp": ts(now - Duration::days(90)),
                    "labels": {"app": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": name},
                    "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": ts(now - Duration::hours(2))},
                    "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name, "uid": svc_uid, "controller": true, "blockOwnerDeletion": true}]},
                "endpoints": ips.iter().map(|(ip, node, pod, uid, ok)| json!({"addresses": [ip],
                    "conditions": {"ready": ok, "serving": ok, "terminating": false}, "nodeName": node,
                    "targetRef": {"kind": "Pod", "name": pod, "namespace": ns, "uid": uid}})).collect::<Vec<_>>(),
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}))?;
            s.configmaps.push(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("{name}-config"), "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(),
                    "creationTimestamp": ts(now - Duration::days(90)), "labels": {"app": name}},
                "data": {"LOG_LEVEL": "info", "application.yaml": format!("server:\n  port: 8080\n  shutdown: graceful\nspring:\n  application:\n    name: {name}\n  datasource:\n    url: jdbc:postgresql://postgres.{ns}.svc:5432/{app}\n    hikari:\n      maximum-pool-size: 20\nmanagement:\n  endpoints:\n    web:\n      exposure:\n        include: health,info,prometheus\nmetrics:\n  enabled: true\n")}}))?;
            s.secrets.push(&json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": format!("{name}-credentials"), "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(),
                    "creationTimestamp": ts(now - Duration::days(90))},
                "data": {"password": "<redacted len=32>", "username": "<redacted len=8>"}}))?;
            s.servicemonitors.push(&json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                "metadata": {"name": name, "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(), "generation": 1,
                    "creationTimestamp": ts(now - Duration::days(90)), "labels": {"release": "kube-prometheus-stack"}},
                "spec": {"selector": {"matchLabels": {"app": name}}, "endpoints": [{"port": "http", "interval": "30s", "path": "/metrics"}]}}))?;
        }
        s.certificates.push(&json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": format!("{ns}-tls"), "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(), "generation": 1,
                "creationTimestamp": ts(now - Duration::days(100))},
            "spec": {"secretName": format!("{ns}-tls"), "dnsNames": [format!("{ns}.apps.example.com"), format!("*.{ns}.apps.example.com")],
                "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt"}},
            "status": {"notBefore": ts(now - Duration::days(40)), "notAfter": ts(now + Duration::days(50)), "renewalTime": ts(now + Duration::days(20)), "revision": 4,
                "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "Certificate is up to date and has not expired",
                    "observedGeneration": 1, "lastTransitionTime": ts(now - Duration::days(40))}]}}))?;
    }
    let secret_values = s.secrets.count * 2;
    s.finish(&mut w)?;

    // Logs for a sample of containers.
    for (ns, pod, container, trouble) in &log_budget {
        let mut text = String::new();
        for l in 0..40 {
            let t = now - Duration::seconds(40 - l);
            if *trouble == Trouble::CrashLoop && l == 39 {
                text.push_str(&format!("{} ERROR failed to connect to database: dial tcp 10.96.12.4:5432: connect: connection refused\n", ts(t)));
            } else {
                text.push_str(&format!(
                    "{} INFO request handled path=/api/v1/items/{} status=200 duration_ms={}\n",
                    ts(t),
                    rng.below(10_000),
                    rng.below(300)
                ));
            }
        }
        w.add_bytes(
            &layout::container_log_path(ns, pod, container, false),
            text.as_bytes(),
        )?;
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
        redaction: Redaction {
            enabled: true,
            counts: [("secret-data".to_string(), secret_values)].into(),
            by_kind: Default::default(),
        },
        partial: false,
    };
    let inner = w.finish(manifest)?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

/// Increasing `resourceVersion`s, as an API server hands them out.
struct ResourceVersions(u64);

impl ResourceVersions {
    fn next(&mut self) -> String {
        self.0 += 1 + (self.0 % 7);
        self.0.to_string()
    }
}

/// A custom resource type the generated cluster has.
struct Crd {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
}

const CRDS: &[Crd] = &[
    Crd {
        group: "monitoring.coreos.com",
        kind: "ServiceMonitor",
        plural: "servicemonitors",
    },
    Crd {
        group: "cert-manager.io",
        kind: "Certificate",
        plural: "certificates",
    },
];

fn crd_object(crd: &Crd, rng: &mut Rng, rv: &mut ResourceVersions, now: DateTime<Utc>) -> Value {
    let name = format!("{}.{}", crd.plural, crd.group);
    // A schema of the usual shape and a realistic size (real ones run to tens of kilobytes).
    let mut props = serde_json::Map::new();
    for f in [
        "selector",
        "endpoints",
        "namespaceSelector",
        "jobLabel",
        "targetLabels",
        "podTargetLabels",
        "sampleLimit",
        "targetLimit",
        "labelLimit",
        "labelNameLengthLimit",
        "labelValueLengthLimit",
        "attachMetadata",
        "secretName",
        "dnsNames",
        "issuerRef",
        "duration",
        "renewBefore",
        "privateKey",
        "usages",
        "subject",
    ] {
        props.insert(f.into(), json!({"type": "object", "description": format!("{f} of the {} (see the project's API reference for the meaning of each field; this text stands for the long descriptions real schemas carry).", crd.kind),
            "x-kubernetes-preserve-unknown-fields": true}));
    }
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "uid": rng.uid(), "resourceVersion": rv.next(), "generation": 1,
            "creationTimestamp": ts(now - Duration::days(150)), "annotations": {"controller-gen.kubebuilder.io/version": "v0.13.0"}},
        "spec": {"group": crd.group, "scope": "Namespaced", "conversion": {"strategy": "None"},
            "names": {"kind": crd.kind, "listKind": format!("{}List", crd.kind), "plural": crd.plural, "singular": crd.kind.to_lowercase()},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                    "spec": {"type": "object", "properties": props}, "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]},
        "status": {"acceptedNames": {"kind": crd.kind, "listKind": format!("{}List", crd.kind), "plural": crd.plural, "singular": crd.kind.to_lowercase()},
            "storedVersions": ["v1"],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": ts(now - Duration::days(150))},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": ts(now - Duration::days(150))}]}})
}

/// A PEM-looking CA certificate, the same for every namespace (as in a real cluster).
fn fake_pem(seed: u64) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = Rng(seed ^ 0xCA);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for _ in 0..17 {
        for _ in 0..64 {
            s.push(B64[rng.below(64) as usize] as char);
        }
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

/// One spool per generated resource.
struct Spools {
    pods: Spool,
    deployments: Spool,
    replicasets: Spool,
    statefulsets: Spool,
    daemonsets: Spool,
    jobs: Spool,
    cronjobs: Spool,
    services: Spool,
    endpoints: Spool,
    endpointslices: Spool,
    configmaps: Spool,
    secrets: Spool,
    serviceaccounts: Spool,
    events: Spool,
    servicemonitors: Spool,
    certificates: Spool,
}

impl Spools {
    fn new() -> Result<Spools> {
        Ok(Spools {
            pods: Spool::new()?,
            deployments: Spool::new()?,
            replicasets: Spool::new()?,
            statefulsets: Spool::new()?,
            daemonsets: Spool::new()?,
            jobs: Spool::new()?,
            cronjobs: Spool::new()?,
            services: Spool::new()?,
            endpoints: Spool::new()?,
            endpointslices: Spool::new()?,
            configmaps: Spool::new()?,
            secrets: Spool::new()?,
            serviceaccounts: Spool::new()?,
            events: Spool::new()?,
            servicemonitors: Spool::new()?,
            certificates: Spool::new()?,
        })
    }
    fn finish<W: Write>(self, w: &mut BundleWriter<W>) -> Result<()> {
        self.pods
            .finish(w, &layout::resource_path("", "v1", "pods"))?;
        self.services
            .finish(w, &layout::resource_path("", "v1", "services"))?;
        self.endpoints
            .finish(w, &layout::resource_path("", "v1", "endpoints"))?;
        self.configmaps
            .finish(w, &layout::resource_path("", "v1", "configmaps"))?;
        self.secrets
            .finish(w, &layout::resource_path("", "v1", "secrets"))?;
        self.serviceaccounts
            .finish(w, &layout::resource_path("", "v1", "serviceaccounts"))?;
        self.events
            .finish(w, &layout::resource_path("", "v1", "events"))?;
        self.deployments
            .finish(w, &layout::resource_path("apps", "v1", "deployments"))?;
        self.replicasets
            .finish(w, &layout::resource_path("apps", "v1", "replicasets"))?;
        self.statefulsets
            .finish(w, &layout::resource_path("apps", "v1", "statefulsets"))?;
        self.daemonsets
            .finish(w, &layout::resource_path("apps", "v1", "daemonsets"))?;
        self.jobs
            .finish(w, &layout::resource_path("batch", "v1", "jobs"))?;
        self.cronjobs
            .finish(w, &layout::resource_path("batch", "v1", "cronjobs"))?;
        self.endpointslices.finish(
            w,
            &layout::resource_path("discovery.k8s.io", "v1", "endpointslices"),
        )?;
        self.servicemonitors.finish(
            w,
            &layout::resource_path("monitoring.coreos.com", "v1", "servicemonitors"),
        )?;
        self.certificates.finish(
            w,
            &layout::resource_path("cert-manager.io", "v1", "certificates"),
        )?;
        Ok(())
    }
}

fn container_spec(name: &str, image: &str) -> Value {
    let probe = |path: &str, period: u32| {
        json!({"httpGet": {"path": path, "port": 8080, "scheme": "HTTP"},
        "initialDelaySeconds": 10, "periodSeconds": period, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3})
    };
    json!({"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "LOG_LEVEL"}}},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                {"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75.0 -XX:+UseG1GC"},
                {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.monitoring.svc:4317"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "livenessProbe": probe("/healthz", 10),
        "readinessProbe": probe("/ready", 5),
        "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
}

/// What state a generated pod is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    /// Running and ready.
    None,
    /// Its first container crash-loops.
    CrashLoop,
    /// Unschedulable: no node.
    Pending,
    /// Its first container's image cannot be pulled.
    ImagePull,
    /// Running, restarted after being OOM-killed.
    OomRestarted,
    /// A Job pod that completed.
    Completed,
    /// A Job pod that failed.
    JobFailed,
}

impl Trouble {
    /// The mix of an application pod: 1.5% crash-looping, 0.5% pending, 0.3% image pulls
    /// failing, 1.7% restarted after an OOM kill.
    fn draw(rng: &mut Rng) -> Trouble {
        match rng.below(1000) {
            0..15 => Trouble::CrashLoop,
            15..20 => Trouble::Pending,
            20..23 => Trouble::ImagePull,
            23..40 => Trouble::OomRestarted,
            _ => Trouble::None,
        }
    }
}

/// The digest an image resolves to: the same for every pod running that image.
fn image_digest(image: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in image.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    Rng(h).hex(64)
}

struct PodArgs<'a> {
    ns: &'a str,
    name: &'a str,
    node: Option<&'a str>,
    owner_kind: &'a str,
    owner: &'a str,
    owner_uid: &'a str,
    template_hash: (&'a str, &'a str),
    app_label: (&'a str, &'a str),
    containers: &'a [(&'a str, &'a str)],
    trouble: Trouble,
    daemon: bool,
    recent: bool,
    now: DateTime<Utc>,
}

fn pod(rng: &mut Rng, rv: &mut ResourceVersions, a: &PodArgs) -> Value {
    let now = a.now;
    let started = match a.trouble {
        Trouble::Completed | Trouble::JobFailed => now - Duration::hours(3 + rng.below(16) as i64),
        Trouble::Pending => now - Duration::minutes(5 + rng.below(600) as i64),
        _ if a.recent => now - Duration::minutes(1 + rng.below(50) as i64),
        _ => now - Duration::hours(1 + rng.below(2000) as i64),
    };
    let running = !matches!(
        a.trouble,
        Trouble::Pending | Trouble::Completed | Trouble::JobFailed
    );
    let statuses: Vec<Value> = if a.trouble == Trouble::Pending {
        Vec::new()
    } else {
        a.containers.iter().enumerate().map(|(i, (c, image))| {
            let first = i == 0;
            let (state, last, ready, restarts) = match a.trouble {
                Trouble::CrashLoop if first => (
                    json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container={c} pod={}_{}({})", a.name, a.ns, rng.uid())}}),
                    json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(now - Duration::minutes(6)), "finishedAt": ts(now - Duration::minutes(5)), "containerID": format!("containerd://{}", rng.hex(64))}}),
                    false, 5 + rng.below(300)),
                Trouble::ImagePull if first => (
                    json!({"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}}),
                    json!({}), false, 0),
                Trouble::OomRestarted if first => (
                    json!({"running": {"startedAt": ts(now - Duration::minutes(20 + rng.below(600) as i64))}}),
                    json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": ts(started), "finishedAt": ts(now - Duration::minutes(21)), "containerID": format!("containerd://{}", rng.hex(64))}}),
                    true, 1 + rng.below(4)),
                Trouble::Completed => (
                    json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts(started), "finishedAt": ts(started + Duration::minutes(3)), "containerID": format!("containerd://{}", rng.hex(64))}}),
                    json!({}), false, 0),
                Trouble::JobFailed => (
                    json!({"terminated": {"exitCode": 2, "reason": "Error", "startedAt": ts(started), "finishedAt": ts(started + Duration::minutes(1)), "containerID": format!("containerd://{}", rng.hex(64))}}),
                    json!({}), false, 0),
                _ => (json!({"running": {"startedAt": ts(started)}}), json!({}), true, 0),
            };
            let pulled = !(a.trouble == Trouble::ImagePull && first);
            let mut s = json!({"name": c, "image": image, "imageID": if pulled { json!(format!("{}@sha256:{}", image.split(':').next().unwrap_or(image), image_digest(image))) } else { json!("") },
                "ready": ready, "started": state.get("running").is_some(), "restartCount": restarts, "state": state, "lastState": last});
            if pulled {
                s["containerID"] = json!(format!("containerd://{}", rng.hex(64)));
            }
            s
        }).collect()
    };
    let ready = if a.trouble == Trouble::None || a.trouble == Trouble::OomRestarted {
        "True"
    } else {
        "False"
    };
    let (phase, conditions) = match a.trouble {
        Trouble::Pending => (
            "Pending",
            json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastProbeTime": null,
            "lastTransitionTime": ts(started),
            "message": "0/5000 nodes are available: 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 4997 node(s) didn't match Pod's node affinity/selector. preemption: 0/5000 nodes are available: 5000 Preemption is not helpful for scheduling."}]),
        ),
        Trouble::Completed | Trouble::JobFailed => (
            if a.trouble == Trouble::Completed {
                "Succeeded"
            } else {
                "Failed"
            },
            json!([
            {"type": "PodReadyToStartContainers", "status": "False", "lastProbeTime": null, "lastTransitionTime": ts(started + Duration::minutes(3))},
            {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": ts(started), "reason": "PodCompleted"},
            {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": ts(started + Duration::minutes(3)), "reason": "PodCompleted"},
            {"type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": ts(started + Duration::minutes(3)), "reason": "PodCompleted"},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": ts(started)}]),
        ),
        _ => (
            "Running",
            json!([
            {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": ts(started)},
            {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": ts(started)},
            {"type": "Ready", "status": ready, "lastProbeTime": null, "lastTransitionTime": ts(started)},
            {"type": "ContainersReady", "status": ready, "lastProbeTime": null, "lastTransitionTime": ts(started)},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": ts(started)}]),
        ),
    };
    let mut annotations =
        json!({"kubectl.kubernetes.io/restartedAt": ts(now - Duration::days(30))});
    if a.containers.iter().any(|(c, _)| *c == "istio-proxy") {
        annotations["sidecar.istio.io/status"] = json!(
            "{\"initContainers\":[\"istio-init\"],\"containers\":[\"istio-proxy\"],\"volumes\":[\"workload-socket\",\"credential-socket\",\"workload-certs\",\"istio-envoy\",\"istio-data\",\"istio-podinfo\",\"istio-token\",\"istiod-ca-cert\"],\"imagePullSecrets\":null,\"revision\":\"default\"}"
        );
        annotations["prometheus.io/path"] = json!("/stats/prometheus");
    }
    let mut spec = json!({"serviceAccountName": "default", "serviceAccount": "default", "restartPolicy": if a.owner_kind == "Job" { "Never" } else { "Always" },
        "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30, "priority": 0,
        "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority", "securityContext": {},
        "containers": a.containers.iter().map(|(c, i)| container_spec(c, i)).collect::<Vec<_>>(),
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
        "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]});
    if let Some(node) = a.node {
        spec["nodeName"] = json!(node);
    }
    if a.daemon {
        spec["hostNetwork"] = json!(true);
        spec["priorityClassName"] = json!("system-node-critical");
        spec["priority"] = json!(2_000_001_000);
        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [a.node.unwrap_or_default()]}]}]}}});
    } else if a.trouble == Trouble::Pending {
        spec["nodeSelector"] = json!({"node.kubernetes.io/instance-type": "gpu-a100"});
    }
    let mut status = json!({"phase": phase, "qosClass": "Burstable", "conditions": conditions});
    if a.node.is_some() {
        let host_ip = format!(
            "10.{}.{}.{}",
            1 + rng.below(3),
            rng.below(256),
            rng.below(254) + 1
        );
        let pod_ip = if a.daemon {
            host_ip.clone()
        } else {
            format!("10.244.{}.{}", rng.below(256), rng.below(254) + 1)
        };
        status["hostIP"] = json!(host_ip);
        status["hostIPs"] = json!([{"ip": host_ip}]);
        if running {
            status["podIP"] = json!(pod_ip);
            status["podIPs"] = json!([{"ip": pod_ip}]);
        }
        status["startTime"] = json!(ts(started));
        status["containerStatuses"] = json!(statuses);
    }
    let generate_name = match a.owner_kind {
        "StatefulSet" => format!("{}-", a.owner),
        _ => format!(
            "{}-",
            a.name.rsplit_once('-').map(|(p, _)| p).unwrap_or(a.name)
        ),
    };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": a.name, "generateName": generate_name, "namespace": a.ns, "uid": rng.uid(), "resourceVersion": rv.next(),
            "creationTimestamp": ts(started - Duration::seconds(20)),
            "labels": {a.app_label.0: a.app_label.1, a.template_hash.0: a.template_hash.1},
            "annotations": annotations,
            "ownerReferences": [{"apiVersion": if a.owner_kind == "Job" { "batch/v1" } else { "apps/v1" }, "kind": a.owner_kind, "name": a.owner, "uid": a.owner_uid, "controller": true, "blockOwnerDeletion": true}]},
        "spec": spec,
        "status": status})
}

#[allow(clippy::too_many_arguments)]
fn pod_events(
    rng: &mut Rng,
    rv: &mut ResourceVersions,
    ns: &str,
    pod: &str,
    pod_uid: &str,
    node: Option<&str>,
    containers: &[(&str, &str)],
    trouble: Trouble,
    recent: bool,
    nodes: usize,
    now: DateTime<Utc>,
) -> Vec<Value> {
    let (c0, image0) = containers[0];
    let mut out = Vec::new();
    let mut event = |rng: &mut Rng,
                     kind: &str,
                     reason: &str,
                     component: &str,
                     message: String,
                     count: u64,
                     field: Option<&str>,
                     first: DateTime<Utc>,
                     last: DateTime<Utc>| {
        let mut involved = json!({"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns, "uid": pod_uid, "resourceVersion": rv.next()});
        if let Some(f) = field {
            involved["fieldPath"] = json!(f);
        }
        out.push(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{pod}.{}", rng.hex(16)), "namespace": ns, "uid": rng.uid(), "resourceVersion": rv.next(), "creationTimestamp": ts(first)},
            "type": kind, "reason": reason, "message": message, "count": count,
            "firstTimestamp": ts(first), "lastTimestamp": ts(last), "eventTime": null,
            "involvedObject": involved,
            "source": if component == "kubelet" { json!({"component": "kubelet", "host": node.unwrap_or_default()}) } else { json!({"component": component}) },
            "reportingComponent": component, "reportingInstance": if component == "kubelet" { node.unwrap_or_default() } else { "" }}));
    };
    let field = format!("spec.containers{{{c0}}}");
    match trouble {
        Trouble::CrashLoop => {
            let n = 1 + rng.below(200);
            event(
                rng,
                "Warning",
                "BackOff",
                "kubelet",
                format!("Back-off restarting failed container {c0} in pod {pod}_{ns}({pod_uid})"),
                n,
                Some(&field),
                now - Duration::hours(5),
                now - Duration::minutes(2),
            );
            event(rng, "Warning", "Unhealthy", "kubelet", "Liveness probe failed: Get \"http://10.244.3.7:8080/healthz\": dial tcp 10.244.3.7:8080: connect: connection refused".into(), n / 3 + 1, Some(&field), now - Duration::hours(5), now - Duration::minutes(6));
        }
        Trouble::Pending => {
            let n = 1 + rng.below(50);
            event(
                rng,
                "Warning",
                "FailedScheduling",
                "default-scheduler",
                format!(
                    "0/{nodes} nodes are available: 3 node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}, {} node(s) didn't match Pod's node affinity/selector. preemption: 0/{nodes} nodes are available: {nodes} Preemption is not helpful for scheduling.",
                    nodes.saturating_sub(3)
                ),
                n,
                None,
                now - Duration::hours(2),
                now - Duration::minutes(1),
            );
        }
        Trouble::ImagePull => {
            let n = 1 + rng.below(100);
            let first = now - Duration::hours(1);
            let (pulling, backing_off) = (now - Duration::minutes(3), now - Duration::minutes(1));
            let sequence = [
                (
                    "Normal",
                    "Pulling",
                    format!("Pulling image \"{image0}\""),
                    n,
                    pulling,
                ),
                (
                    "Warning",
                    "Failed",
                    format!(
                        "Failed to pull image \"{image0}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image0}\": failed to resolve reference \"{image0}\": not found"
                    ),
                    n,
                    pulling,
                ),
                (
                    "Warning",
                    "Failed",
                    "Error: ErrImagePull".into(),
                    n,
                    pulling,
                ),
                (
                    "Normal",
                    "BackOff",
                    format!("Back-off pulling image \"{image0}\""),
                    n * 4,
                    backing_off,
                ),
                (
                    "Warning",
                    "Failed",
                    "Error: ImagePullBackOff".into(),
                    n * 4,
                    backing_off,
                ),
            ];
            for (kind, reason, message, count, last) in sequence {
                event(
                    rng,
                    kind,
                    reason,
                    "kubelet",
                    message,
                    count,
                    Some(&field),
                    first,
                    last,
                );
            }
        }
        Trouble::OomRestarted => {
            let n = 1 + rng.below(4);
            event(
                rng,
                "Warning",
                "BackOff",
                "kubelet",
                format!("Back-off restarting failed container {c0} in pod {pod}_{ns}({pod_uid})"),
                n,
                Some(&field),
                now - Duration::minutes(25),
                now - Duration::minutes(21),
            );
        }
        _ => {}
    }
    if recent && trouble != Trouble::Pending {
        let t = now - Duration::minutes(1 + rng.below(50) as i64);
        event(
            rng,
            "Normal",
            "Scheduled",
            "default-scheduler",
            format!(
                "Successfully assigned {ns}/{pod} to {}",
                node.unwrap_or_default()
            ),
            1,
            None,
            t,
            t,
        );
        for (c, image) in containers {
            let f = format!("spec.containers{{{c}}}");
            let started = [
                (
                    "Pulled",
                    format!("Container image \"{image}\" already present on machine"),
                ),
                ("Created", format!("Created container {c}")),
                ("Started", format!("Started container {c}")),
            ];
            for (reason, message) in started {
                event(rng, "Normal", reason, "kubelet", message, 1, Some(&f), t, t);
            }
        }
    }
    out
}

fn node(rng: &mut Rng, rv: &mut ResourceVersions, i: usize, now: DateTime<Utc>) -> Value {
    let name = node_name(i);
    let cp = i < 3;
    let mut labels = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": "m6i.4xlarge", "topology.kubernetes.io/region": "region-1",
        "topology.kubernetes.io/zone": format!("zone-{}", i % 3)});
    if cp {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
    }
    let heartbeat = ts(now - Duration::seconds(rng.below(40) as i64));
    let cond = |t: &str, s: &str, r: &str, m: &str| {
        json!({"type": t, "status": s, "reason": r, "message": m,
        "lastHeartbeatTime": heartbeat, "lastTransitionTime": ts(now - Duration::days(30))})
    };
    let ip = format!("10.{}.{}.{}", 1 + i / 65536, (i / 256) % 256, i % 256);
    // The images a kubelet reports: the node's share of the cluster's images.
    let mut images = Vec::new();
    for (k, (_, image)) in APPS.iter().chain(SIDECARS).enumerate() {
        if !(i + k).is_multiple_of(3) {
            let repo = image.split(':').next().unwrap_or(image);
            images.push(json!({"names": [format!("{repo}@sha256:{}", image_digest(image)), image], "sizeBytes": 20_000_000 + 7_919_993 * k as u64}));
        }
    }
    for ds in ["kube-proxy", "node-exporter", "flannel"] {
        let image = format!("registry.k8s.io/{ds}:v1.29.3");
        images.push(json!({"names": [format!("registry.k8s.io/{ds}@sha256:{}", image_digest(&image)), image], "sizeBytes": 28_531_212}));
    }
    images.push(json!({"names": [format!("registry.k8s.io/pause@sha256:{}", image_digest("registry.k8s.io/pause:3.9")), "registry.k8s.io/pause:3.9"], "sizeBytes": 321_520}));
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": rng.uid(), "resourceVersion": rv.next(), "creationTimestamp": ts(now - Duration::days(180)), "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "flannel.alpha.coreos.com/backend-data": format!("{{\"VNI\":1,\"VtepMAC\":\"{}\"}}", (0..6).map(|_| format!("{:02x}", rng.below(256))).collect::<Vec<_>>().join(":")),
                "flannel.alpha.coreos.com/backend-type": "vxlan", "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                "flannel.alpha.coreos.com/public-ip": ip}},
        "spec": {"podCIDR": format!("10.244.{}.0/24", i % 256), "podCIDRs": [format!("10.244.{}.0/24", i % 256)], "providerID": format!("external://{name}"),
            "taints": if cp { json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]) } else { json!(null) }},
        "status": {
            "capacity": {"cpu": "16", "memory": "65842396Ki", "pods": "110", "ephemeral-storage": "203056560Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
            "allocatable": {"cpu": "15800m", "memory": "64715996Ki", "pods": "110", "ephemeral-storage": "187136242873", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
            "conditions": [
                cond("NetworkUnavailable", "False", "FlannelIsUp", "Flannel is running on this node"),
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "images": images,
            "nodeInfo": {"kubeletVersion": "v1.29.3", "kubeProxyVersion": "v1.29.3", "kernelVersion": "5.15.0-91-generic",
                "osImage": "Ubuntu 22.04.3 LTS", "containerRuntimeVersion": "containerd://1.7.12", "operatingSystem": "linux",
                "architecture": "amd64", "machineID": rng.hex(32), "systemUUID": rng.uid(), "bootID": rng.uid()},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}})
}

fn generate_host(spec: &Spec, node: &str, out: &Path) -> Result<()> {
    let now = collected_at();
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = BundleWriter::new(
        BufWriter::new(file),
        &WriterOptions {
            level: 3,
            long_window_log: None,
            workers: 0,
            mtime: now.timestamp() as u64,
        },
    )?;
    let facts = HostFacts {
        hostname: node.into(),
        kernel: Kernel {
            sysname: "Linux".into(),
            release: "5.15.0-91-generic".into(),
            version: "#101-Ubuntu SMP".into(),
            machine: "x86_64".into(),
        },
        os_release: [
            ("ID", "ubuntu"),
            ("VERSION_ID", "22.04"),
            ("PRETTY_NAME", "Ubuntu 22.04.3 LTS"),
        ]
        .map(|(k, v)| (k.into(), v.into()))
        .into(),
        cmdline: "BOOT_IMAGE=/vmlinuz-5.15.0-91-generic root=/dev/sda1 ro".into(),
        memory_bytes: Some(67_422_613_504),
        cpus: Some(16),
        sysctls: [
            ("fs.inotify.max_user_watches", "524288"),
            ("fs.inotify.max_user_instances", "8192"),
            ("net.ipv4.ip_forward", "1"),
            ("net.bridge.bridge-nf-call-iptables", "1"),
        ]
        .map(|(k, v)| (k.into(), v.into()))
        .into(),
        modules: [
            "overlay",
            "br_netfilter",
            "nf_conntrack",
            "ip_tables",
            "xt_conntrack",
        ]
        .map(String::from)
        .to_vec(),
        mounts: vec![
            Mount {
                device: "/dev/sda1".into(),
                mountpoint: "/".into(),
                fstype: "ext4".into(),
                options: "rw,relatime".into(),
            },
            Mount {
                device: "cgroup2".into(),
                mountpoint: "/sys/fs/cgroup".into(),
                fstype: "cgroup2".into(),
                options: "rw,nosuid,nodev,noexec,relatime".into(),
            },
        ],
        cgroup: Cgroup {
            version: 2,
            controllers: ["cpuset", "cpu", "io", "memory", "pids"]
                .map(String::from)
                .to_vec(),
        },
        binaries: [
            "ebtables",
            "ethtool",
            "conntrack",
            "socat",
            "iptables",
            "ip",
            "crictl",
            "ctr",
        ]
        .map(|b| (b.to_string(), Some(format!("/usr/sbin/{b}"))))
        .into(),
        runtime_sockets: [("/run/containerd/containerd.sock".to_string(), true)].into(),
        cni_bin: ["bridge", "flannel", "host-local", "loopback", "portmap"]
            .map(String::from)
            .to_vec(),
        filesystems: vec![Filesystem {
            path: "/".into(),
            fstype: "ext4".into(),
            size_bytes: 207_929_917_440,
            used_bytes: 62_378_975_232,
            xfs_ftype: None,
        }],
        ..Default::default()
    };
    w.add_bytes(layout::HOST_FACTS, &serde_json::to_vec(&facts)?)?;
    w.add_bytes(
        &layout::host_file_path("/etc/resolv.conf"),
        b"nameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch cluster.example.com\n",
    )?;
    let manifest = Manifest {
        format_version: Manifest::current_format_version(),
        producer: "ktriage-generate".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        bundle_id: format!("synthetic-{}-{}", node, spec.seed),
        started_at: now - Duration::seconds(5),
        finished_at: now,
        source: Source::Host(HostSource {
            node_name: node.into(),
            hostname: node.into(),
        }),
        options: json!({}),
        entries: Vec::new(),
        gaps: Vec::new(),
        redaction: Redaction {
            enabled: true,
            counts: Default::default(),
            by_kind: Default::default(),
        },
        partial: false,
    };
    w.finish(manifest)?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    Ok(())
}
