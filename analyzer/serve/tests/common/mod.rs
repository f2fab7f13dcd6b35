//! Test support: a small cluster bundle written with the real writer and opened with the real
//! reader, a server on `127.0.0.1:0`, and a bounded kubectl runner.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ktriage_schema::discovery::{self, ApiResource, Discovery};
use ktriage_schema::layout;
use ktriage_schema::manifest::{
    ClusterSource, Gap, GapKind, GapReason, HostSource, Manifest, Redaction, Source,
};
use ktriage_schema::reader::{self, Limits, OpenBundle};
use ktriage_schema::writer::{BundleWriter, WriterOptions};
use ktriage_serve::ServeState;
use serde_json::{Value, json};

/// When the test bundle was collected.
pub const COLLECTED: &str = "2024-05-01T12:00:00Z";

pub fn collected() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(COLLECTED)
        .expect("time")
        .with_timezone(&Utc)
}

/// `COLLECTED` minus `secs`, as an RFC 3339 timestamp.
pub fn ago(secs: i64) -> String {
    (collected() - chrono::TimeDelta::seconds(secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A bundle being assembled: files by bundle-relative path.
pub struct BundleBuilder {
    files: Vec<(String, Vec<u8>)>,
    gaps: Vec<Gap>,
    server_version: String,
    host: bool,
}

impl BundleBuilder {
    pub fn new() -> BundleBuilder {
        BundleBuilder {
            files: Vec::new(),
            gaps: Vec::new(),
            server_version: "v1.29.3".into(),
            host: false,
        }
    }

    /// Makes it a node-mode (host) bundle.
    pub fn host(mut self) -> BundleBuilder {
        self.host = true;
        self
    }

    pub fn file(mut self, path: &str, data: impl Into<Vec<u8>>) -> BundleBuilder {
        self.files.push((path.to_string(), data.into()));
        self
    }

    /// One NDJSON resource file holding `objects`.
    pub fn objects(
        self,
        group: &str,
        version: &str,
        resource: &str,
        objects: &[Value],
    ) -> BundleBuilder {
        let text: String = objects.iter().map(|o| format!("{o}\n")).collect();
        self.file(&layout::resource_path(group, version, resource), text)
    }

    pub fn gap(
        mut self,
        what: GapKind,
        location: &str,
        reason: GapReason,
        detail: &str,
    ) -> BundleBuilder {
        self.gaps
            .push(Gap::new(what, location, reason).with_detail(detail));
        self
    }

    /// Writes the bundle into `dir` as `bundle.tar.zst`, then opens it like the analyzer does.
    pub fn open(self, dir: &Path) -> OpenBundle {
        let archive = dir.join("bundle.tar.zst");
        let out = std::fs::File::create(&archive).expect("create archive");
        let mut w = BundleWriter::new(out, &WriterOptions::default()).expect("writer");
        for (path, data) in &self.files {
            w.add_bytes(path, data).expect("add");
        }
        let manifest = Manifest {
            format_version: Manifest::current_format_version(),
            producer: "ktriage-collect".into(),
            producer_version: "0.1.0".into(),
            bundle_id: "test-bundle".into(),
            started_at: collected() - chrono::TimeDelta::seconds(30),
            finished_at: collected(),
            source: if self.host {
                Source::Host(HostSource {
                    node_name: "node-1".into(),
                    hostname: "node-1".into(),
                })
            } else {
                Source::Cluster(ClusterSource {
                    server_version: self.server_version.clone(),
                    cluster_id: "c1".into(),
                    context: "test".into(),
                    server: "https://example.invalid".into(),
                })
            },
            options: json!({}),
            entries: Vec::new(),
            gaps: self.gaps,
            redaction: Redaction::default(),
            partial: false,
        };
        w.finish(manifest).expect("finish");
        reader::open(&archive, &dir.join("open"), &Limits::default()).expect("bundle opens")
    }
}

/// The discovery of the test cluster: built-ins plus the `widgets.example.com` CRD.
pub fn test_discovery() -> Discovery {
    let mut d = discovery::builtin();
    d.add(
        "example.com",
        "v1",
        ApiResource {
            name: "widgets".into(),
            singular_name: "widget".into(),
            namespaced: true,
            kind: "Widget".into(),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            short_names: vec!["wd".into()],
            categories: vec![],
        },
    );
    d
}

fn meta(name: &str, namespace: Option<&str>, age_secs: i64, labels: Value) -> Value {
    let mut m = json!({"name": name, "uid": format!("uid-{name}"), "resourceVersion": "100",
        "creationTimestamp": ago(age_secs), "labels": labels});
    if let Some(ns) = namespace {
        m["namespace"] = json!(ns);
    }
    m
}

fn running(name: &str, restarts: i64) -> Value {
    json!({"name": name, "ready": true, "restartCount": restarts, "image": "img", "state": {"running": {"startedAt": ago(3600)}}})
}

pub fn pods() -> Vec<Value> {
    vec![
        json!({"apiVersion":"v1","kind":"Pod","metadata": meta("web-1", Some("shop"), 3 * 86400, json!({"app":"web"})),
            "spec":{"nodeName":"node-1","containers":[{"name":"web","image":"nginx:1.25"}]},
            "status":{"phase":"Running","podIP":"10.1.0.5","podIPs":[{"ip":"10.1.0.5"}],
                "conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[running("web", 0)]}}),
        json!({"apiVersion":"v1","kind":"Pod","metadata": meta("web-2", Some("shop"), 3 * 86400, json!({"app":"web"})),
            "spec":{"nodeName":"node-2","containers":[{"name":"web","image":"nginx:1.25"}]},
            "status":{"phase":"Running","podIPs":[{"ip":"10.1.0.6"}],"containerStatuses":[running("web", 0)]}}),
        {
            let mut m = meta("db-0", Some("shop"), 2 * 3600, json!({"app":"db"}));
            m["annotations"] = json!({"kubectl.kubernetes.io/default-container": "db"});
            json!({"apiVersion":"v1","kind":"Pod","metadata": m,
            "spec":{"nodeName":"node-1","containers":[{"name":"db","image":"postgres:16"},{"name":"metrics","image":"exporter"}]},
            "status":{"phase":"Running","containerStatuses":[
                {"name":"db","ready":false,"restartCount":5,"image":"postgres:16",
                 "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},
                 "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":ago(300)}}},
                running("metrics", 0)]}})
        },
        json!({"apiVersion":"v1","kind":"Pod","metadata": meta("report-x", Some("shop"), 86400, json!({"app":"report"})),
            "spec":{"nodeName":"node-2","restartPolicy":"Never","containers":[{"name":"report","image":"busybox"}]},
            "status":{"phase":"Failed","containerStatuses":[{"name":"report","ready":false,"restartCount":0,
                "state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}}),
        json!({"apiVersion":"v1","kind":"Pod","metadata": meta("setup-1", Some("shop"), 60, json!({"app":"setup"})),
            "spec":{"initContainers":[{"name":"migrate","image":"busybox"}],"containers":[{"name":"app","image":"busybox"}]},
            "status":{"phase":"Pending","initContainerStatuses":[{"name":"migrate","ready":false,"restartCount":0,"state":{"running":{}}}],
                "containerStatuses":[{"name":"app","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}}),
        // Stored without apiVersion and kind: the server must add them.
        json!({"metadata": meta("coredns-abc", Some("kube-system"), 10 * 86400, json!({"k8s-app":"kube-dns"})),
            "spec":{"nodeName":"node-1","containers":[{"name":"coredns","image":"coredns:1.11"}]},
            "status":{"phase":"Running","podIPs":[{"ip":"10.1.0.2"}],"containerStatuses":[running("coredns", 1)]}}),
    ]
}

pub fn nodes() -> Vec<Value> {
    let node = |name: &str, ready: &str, ip: &str, labels: Value| {
        json!({"apiVersion":"v1","kind":"Node","metadata": meta(name, None, 30 * 86400, labels),
            "spec":{},
            "status":{"conditions":[{"type":"Ready","status":ready,"reason":"KubeletReady","message":"kubelet is posting ready status",
                    "lastHeartbeatTime":ago(10),"lastTransitionTime":ago(86400)}],
                "addresses":[{"type":"InternalIP","address":ip},{"type":"Hostname","address":name}],
                "capacity":{"cpu":"4","memory":"16Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"16Gi","pods":"110"},
                "nodeInfo":{"kubeletVersion":"v1.29.3","osImage":"Debian GNU/Linux 12 (bookworm)","kernelVersion":"6.1.0-18-amd64",
                    "containerRuntimeVersion":"containerd://1.7.13","architecture":"amd64","operatingSystem":"linux",
                    "machineID":"m","systemUUID":"s","bootID":"b","kubeProxyVersion":"v1.29.3"}}})
    };
    vec![
        node(
            "node-1",
            "True",
            "10.0.0.1",
            json!({"node-role.kubernetes.io/control-plane":"","kubernetes.io/hostname":"node-1"}),
        ),
        node(
            "node-2",
            "False",
            "10.0.0.2",
            json!({"kubernetes.io/hostname":"node-2"}),
        ),
    ]
}

pub fn namespaces() -> Vec<Value> {
    ["default", "kube-system", "shop"]
        .iter()
        .map(|n| json!({"apiVersion":"v1","kind":"Namespace","metadata": meta(n, None, 30 * 86400, json!({})),
            "spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}))
        .collect()
}

pub fn deployments() -> Vec<Value> {
    let d = |name: &str, replicas: i64, ready: i64| {
        json!({"apiVersion":"apps/v1","kind":"Deployment","metadata": meta(name, Some("shop"), 5 * 86400, json!({"app":name})),
            "spec":{"replicas":replicas,"selector":{"matchLabels":{"app":name}},
                "template":{"metadata":{"labels":{"app":name}},"spec":{"containers":[{"name":name,"image":"nginx:1.25"}]}}},
            "status":{"replicas":replicas,"readyReplicas":ready,"updatedReplicas":replicas,"availableReplicas":ready}})
    };
    vec![d("web", 3, 2), d("api", 1, 1)]
}

pub fn events() -> Vec<Value> {
    vec![
        json!({"apiVersion":"v1","kind":"Event","metadata": meta("db-0.17a", Some("shop"), 300, json!({})),
            "involvedObject":{"kind":"Pod","namespace":"shop","name":"db-0","uid":"uid-db-0","apiVersion":"v1","fieldPath":"spec.containers{db}"},
            "reason":"BackOff","message":"Back-off restarting failed container db","type":"Warning","count":12,
            "firstTimestamp":ago(3600),"lastTimestamp":ago(60),"source":{"component":"kubelet","host":"node-1"}}),
        json!({"apiVersion":"v1","kind":"Event","metadata": meta("web-1.17b", Some("shop"), 600, json!({})),
            "involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1","uid":"uid-web-1","apiVersion":"v1"},
            "reason":"Pulled","message":"Container image already present","type":"Normal","count":1,
            "firstTimestamp":ago(600),"lastTimestamp":ago(600),"source":{"component":"kubelet","host":"node-1"}}),
        json!({"apiVersion":"v1","kind":"Event","metadata": meta("node-2.17c", Some("default"), 900, json!({})),
            "involvedObject":{"kind":"Node","name":"node-2","uid":"node-2"},
            "reason":"NodeNotReady","message":"Node node-2 status is now: NodeNotReady","type":"Normal","count":1,
            "firstTimestamp":ago(900),"lastTimestamp":ago(900),"source":{"component":"node-controller"}}),
    ]
}

pub fn services() -> Vec<Value> {
    vec![
        json!({"apiVersion":"v1","kind":"Service","metadata": meta("web", Some("shop"), 5 * 86400, json!({})),
        "spec":{"type":"NodePort","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"selector":{"app":"web"},
            "ports":[{"port":80,"targetPort":8080,"nodePort":30080,"protocol":"TCP"}]}}),
    ]
}

pub fn crds() -> Vec<Value> {
    vec![
        json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata": meta("widgets.example.com", None, 7 * 86400, json!({})),
        "spec":{"group":"example.com","scope":"Namespaced",
            "names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList","shortNames":["wd"]},
            "versions":[{"name":"v1","served":true,"storage":true,
                "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"},
                    {"name":"Phase","type":"string","jsonPath":".status.phase"}],
                "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}),
    ]
}

pub fn widgets() -> Vec<Value> {
    vec![
        json!({"apiVersion":"example.com/v1","kind":"Widget","metadata": meta("gizmo", Some("shop"), 3600, json!({})),
        "spec":{"size":7},"status":{"phase":"Spinning"}}),
    ]
}

/// The standard test bundle: recorded discovery and version, objects, logs, configz.
pub fn standard() -> BundleBuilder {
    BundleBuilder::new()
        .file(
            layout::DISCOVERY,
            serde_json::to_vec(&test_discovery()).expect("json"),
        )
        .file(
            layout::VERSION,
            json!({"major":"1","minor":"29","gitVersion":"v1.29.3","platform":"linux/amd64"})
                .to_string(),
        )
        .objects("", "v1", "namespaces", &namespaces())
        .objects("", "v1", "nodes", &nodes())
        .objects("", "v1", "pods", &pods())
        .objects("", "v1", "services", &services())
        .objects("", "v1", "events", &events())
        .objects("apps", "v1", "deployments", &deployments())
        .objects(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            &crds(),
        )
        .objects("example.com", "v1", "widgets", &widgets())
        .file(
            &layout::container_log_path("shop", "web-1", "web", false),
            "2026-01-15T11:58:00.000000001Z GET / 200\n2026-01-15T11:58:30Z GET /health 200\n2026-01-15T11:59:00.5Z GET /cart 500\n",
        )
        .file(
            &layout::container_log_path("shop", "db-0", "db", false),
            "2026-01-15T11:50:00Z starting postgres\n2026-01-15T11:50:01Z FATAL: could not open data dir\n",
        )
        .file(
            &layout::container_log_path("shop", "db-0", "db", true),
            "2026-01-15T10:00:00Z previous run: out of disk\n",
        )
        .file(
            &layout::node_configz_path("node-1"),
            json!({"kubeletconfig":{"maxPods":110,"cgroupDriver":"systemd"}}).to_string(),
        )
        .gap(
            GapKind::Resource,
            "v1/secrets",
            GapReason::Forbidden,
            "secrets is forbidden: User cannot list secrets",
        )
}

/// A server on `127.0.0.1:0` running on its own runtime thread.
pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    /// Cluster bundles served (one kubeconfig context each).
    clusters: usize,
}

impl TestServer {
    pub fn start(builder: BundleBuilder) -> TestServer {
        TestServer::start_with(builder, |r| r)
    }

    /// Starts with the router passed through `wrap` (e.g. to add a fault layer).
    pub fn start_with(
        builder: BundleBuilder,
        wrap: impl FnOnce(axum::Router) -> axum::Router + Send + 'static,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = builder.open(dir.path());
        let state = Arc::new(ServeState::new(&[bundle]).expect("state builds"));
        let url = spawn(wrap(ktriage_serve::router(state)));
        TestServer {
            url,
            dir,
            clusters: 1,
        }
    }

    /// Serves a bundle already opened from `dir` (which the server keeps).
    pub fn start_opened(dir: tempfile::TempDir, bundle: &OpenBundle) -> TestServer {
        let state = Arc::new(ServeState::for_bundle(bundle).expect("state builds"));
        let url = spawn(ktriage_serve::router_for(vec![state]));
        TestServer {
            url,
            dir,
            clusters: 1,
        }
    }

    /// One server for several cluster bundles, as `ktriage serve a b` runs it.
    pub fn start_many(builders: Vec<BundleBuilder>) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let states: Vec<Arc<ServeState>> = builders
            .into_iter()
            .enumerate()
            .map(|(n, builder)| {
                let sub = dir.path().join(format!("cluster-{n}"));
                std::fs::create_dir(&sub).expect("mkdir");
                Arc::new(ServeState::for_bundle(&builder.open(&sub)).expect("state builds"))
            })
            .collect();
        let clusters = states.len();
        let url = spawn(ktriage_serve::router_for(states));
        TestServer { url, dir, clusters }
    }

    /// A kubeconfig for this server (written once).
    pub fn kubeconfig(&self) -> PathBuf {
        let path = self.dir.path().join("kubeconfig");
        if !path.exists() {
            ktriage_serve::write_kubeconfig_for(&path, &self.url, self.clusters)
                .expect("kubeconfig");
        }
        path
    }
}

/// Serves `router` on `127.0.0.1:0` from its own runtime thread; returns its URL.
fn spawn(router: axum::Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("send addr");
            let _ = ktriage_serve::serve(listener, router).await;
        });
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server starts");
    format!("http://{addr}")
}

/// What one kubectl run gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "kubectl failed: {}\n{}",
            self.stderr,
            self.stdout
        );
        &self.stdout
    }
}

/// The kubectl binaries to test with: `KTRIAGE_KUBECTL` (colon-separated), else `kubectl` on
/// PATH. Panics when none works: these tests never skip silently.
pub fn kubectls() -> Vec<PathBuf> {
    let list: Vec<PathBuf> = match std::env::var("KTRIAGE_KUBECTL") {
        Ok(v) if !v.trim().is_empty() => v
            .split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
        _ => vec![PathBuf::from("kubectl")],
    };
    for k in &list {
        let works = Command::new(k)
            .args(["version", "--client"])
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| {
                let text = String::from_utf8_lossy(&o.stdout);
                // A gcloud dispatcher stub is not a kubectl.
                o.status.success()
                    && text.contains("Client Version")
                    && !text.contains("dispatcher")
            });
        assert!(
            works,
            "kubectl {k:?} does not run (`kubectl version --client` failed). Set KTRIAGE_KUBECTL to a \
             colon-separated list of real kubectl binaries (see analyzer/serve/README.md)."
        );
    }
    list
}

/// The client's minor version (`20` for kubectl 1.20).
pub fn minor_version(bin: &Path) -> u32 {
    let out = Command::new(bin)
        .args(["version", "--client", "-o", "json"])
        .output()
        .expect("kubectl runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("version JSON");
    let minor = v["clientVersion"]["minor"].as_str().unwrap_or("0");
    minor.trim_end_matches('+').parse().unwrap_or(0)
}

/// Runs `kubectl args...` against `server`, bounded to 40 seconds.
pub fn kubectl(bin: &Path, server: &TestServer, args: &[&str]) -> Run {
    let cache = server
        .dir
        .path()
        .join(format!("cache-{}", bin.to_string_lossy().len()));
    let mut cmd = Command::new(bin);
    cmd.arg("--kubeconfig")
        .arg(server.kubeconfig())
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--request-timeout=20s")
        .args(args)
        .env("HOME", server.dir.path())
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("kubectl starts");
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let deadline = start + Duration::from_secs(40);
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "kubectl {args:?} ({}) hung for 40s\nstdout: {}\nstderr: {}",
                    bin.display(),
                    stdout.join().unwrap_or_default(),
                    stderr.join().unwrap_or_default()
                );
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}
