//! Test support: a fixture cluster written as a bundle with the real writer, served by
//! `ktriage serve` (optionally through its fault layer) on `127.0.0.1:0`, and helpers to run
//! the collector against it and read what it wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ktriage_collect::cli::Cli;
use ktriage_collect::cluster::run::RunOutcome;
use ktriage_collect::progress::Ui;
use ktriage_collect::stop::Stop;
use ktriage_schema::discovery::{self, ApiResource};
use ktriage_schema::layout;
use ktriage_schema::manifest::{ClusterSource, Manifest, Redaction, Source};
use ktriage_schema::reader::{self, Limits, OpenBundle};
use ktriage_schema::writer::{BundleWriter, WriterOptions};
use ktriage_serve::ServeState;
use ktriage_serve::faults::{FaultLayer, FaultPlan};
use serde_json::{Value, json};

/// Secrets planted in the fixture; none may appear in a collected bundle.
pub const CANARIES: &[&str] = &[
    "CANARY-secret-data-7f3a",
    "Q0FOQVJZLXNlY3JldC1kYXRhLTdmM2E=",
    "CANARY-string-data-91bc",
    "CANARY-env-password-22d1",
    "CANARY-env-token-5e0f",
    "CANARY-cm-password-a1b2",
    "CANARY-kubeconfig-token-c3d4",
    "CANARY-pem-body-e5f6",
    "CANARY-log-bearer-0a9b8c7d",
    "CANARY-log-url-pw-4e5f",
    "CANARY-jwt-sig-1d2e3f",
    "CANARY-last-applied-77aa",
    "CANARY-custom-literal-3141",
    // Where real workloads put credentials that no secret-shaped pattern sees.
    "Q0FOQVJZLWJpbmFyeS1kYXRhLWIxbjQ=",
    "CANARY-json-cm-pw-5a5a",
    "CANARY-yaml-cm-pass-6b6b",
    "CANARY-db-pass-7c7c",
    "CANARY-mysql-pwd-8d8d",
    "CANARY-java-opts-9e9e",
    "CANARY-args-password-0f0f",
    "CANARY-anno-token-1a1a",
    "CANARY-cr-password-2b2b",
    "CANARY-cr-basic-auth-3c3c",
    "CANARY-cr-credentials-4d4d",
    "CANARY-cr-status-token-5e5e",
    "CANARY-sh-password-6f6f",
    "CANARY-flag-eq-password-7a7a",
    "CANARY-mysqldump-8e8e",
    "CANARY-redis-conf-9f9f",
    "ghp_CANARYprovidertoken0123456789abcdefg",
];

/// A PEM private key whose body is a canary.
pub const PEM_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEACANARY-pem-body-e5f6\nQWxsIHlvdXIga2V5cyBhcmUgb3Vycw==\n-----END RSA PRIVATE KEY-----\n";

/// A JWT whose signature is a canary.
pub const JWT: &str =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.CANARY-jwt-sig-1d2e3f";

/// Everything a fixture cluster holds.
pub struct Fixture {
    /// Objects by (group, version, resource).
    pub objects: BTreeMap<(String, String, String), Vec<Value>>,
    /// Files by bundle path (logs, configz, kubelet logs).
    pub files: BTreeMap<String, Vec<u8>>,
    /// The recorded discovery.
    pub discovery: discovery::Discovery,
}

fn pod(namespace: &str, name: &str, restarts: u64) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": namespace, "uid": format!("uid-{namespace}-{name}"),
            "labels": {"app": "web"},
            "managedFields": [{"manager": "kubelet", "operation": "Update"}]
        },
        "spec": {
            "nodeName": "node-1",
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{
                "name": "web", "image": "nginx:1.27",
                "env": [
                    {"name": "DB_PASSWORD", "value": "CANARY-env-password-22d1"},
                    {"name": "API_TOKEN", "value": "CANARY-env-token-5e0f"},
                    {"name": "LOG_LEVEL", "value": "info"}
                ]
            }]
        },
        "status": {
            "phase": "Running",
            "initContainerStatuses": [{"name": "init", "restartCount": 0, "state": {"terminated": {"exitCode": 0}}}],
            "containerStatuses": [{"name": "web", "restartCount": restarts, "state": {"running": {}}}]
        }
    })
}

fn named(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Value {
    let mut meta = json!({"name": name, "uid": format!("uid-{kind}-{name}")});
    if let Some(ns) = namespace {
        meta["namespace"] = json!(ns);
    }
    json!({"apiVersion": api_version, "kind": kind, "metadata": meta})
}

impl Fixture {
    /// A small cluster: namespaces `kube-system`, `default`, `app` (with `pods` pods) and
    /// `restricted`; two nodes; Secrets, ConfigMaps and logs full of canaries; a custom
    /// resource; kubelet configz and log for `node-1`.
    pub fn standard(pods: usize) -> Fixture {
        let mut f = Fixture {
            objects: BTreeMap::new(),
            files: BTreeMap::new(),
            discovery: discovery::builtin(),
        };
        f.discovery.add(
            "example.com",
            "v1",
            ApiResource {
                name: "widgets".into(),
                singular_name: "widget".into(),
                namespaced: true,
                kind: "Widget".into(),
                verbs: vec!["get".into(), "list".into()],
                ..Default::default()
            },
        );
        let mut namespaces = Vec::new();
        for ns in ["kube-system", "default", "app", "restricted"] {
            let mut n = named("v1", "Namespace", None, ns);
            n["metadata"]["uid"] = json!(format!("cluster-uid-{ns}"));
            namespaces.push(n);
        }
        f.add("", "v1", "namespaces", namespaces);
        let mut nodes = Vec::new();
        for n in ["node-1", "node-2"] {
            let mut node = named("v1", "Node", None, n);
            node["status"] = json!({"conditions": [{"type": "Ready", "status": "True"}]});
            nodes.push(node);
        }
        f.add("", "v1", "nodes", nodes);

        let mut all_pods = Vec::new();
        for i in 0..pods {
            let name = format!("web-{i:03}");
            let restarts = u64::from(i % 3 == 0);
            all_pods.push(pod("app", &name, restarts));
            f.files.insert(
                layout::container_log_path("app", &name, "web", false),
                format!(
                    "{name} started\nGET /api Authorization: Bearer CANARY-log-bearer-0a9b8c7d\nconnecting to postgres://app:CANARY-log-url-pw-4e5f@db:5432/app\n"
                )
                .into_bytes(),
            );
            f.files.insert(
                layout::container_log_path("app", &name, "init", false),
                b"init done\n".to_vec(),
            );
            if restarts > 0 {
                let mut previous = format!("{name} crashed\n").into_bytes();
                previous.extend_from_slice(PEM_KEY.as_bytes());
                previous.extend_from_slice(b"binary \xff\xfe tail\n");
                f.files.insert(
                    layout::container_log_path("app", &name, "web", true),
                    previous,
                );
            }
        }
        all_pods.push(pod("restricted", "locked", 0));
        f.files.insert(
            layout::container_log_path("restricted", "locked", "web", false),
            b"locked\n".to_vec(),
        );
        f.files.insert(
            layout::container_log_path("restricted", "locked", "init", false),
            b"init\n".to_vec(),
        );
        f.add("", "v1", "pods", all_pods);

        let last_applied = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "app"},
            "stringData": {"password": "CANARY-last-applied-77aa"}
        });
        let mut secret = named("v1", "Secret", Some("app"), "db");
        secret["type"] = json!("Opaque");
        secret["data"] = json!({"password": "Q0FOQVJZLXNlY3JldC1kYXRhLTdmM2E="});
        secret["stringData"] = json!({"token": "CANARY-string-data-91bc"});
        secret["metadata"]["annotations"] = json!({
            "kubectl.kubernetes.io/last-applied-configuration": last_applied.to_string(),
            "note": JWT
        });
        let mut sa_token = named("v1", "Secret", Some("kube-system"), "sa-token");
        sa_token["type"] = json!("kubernetes.io/service-account-token");
        sa_token["data"] = json!({"token": "Q0FOQVJZLXNlY3JldC1kYXRhLTdmM2E="});
        f.add("", "v1", "secrets", vec![secret, sa_token]);

        let mut app_config = named("v1", "ConfigMap", Some("app"), "app-config");
        app_config["data"] = json!({
            "db.password": "CANARY-cm-password-a1b2",
            "kubeconfig": "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: CANARY-kubeconfig-token-c3d4\n",
            "tls.key": PEM_KEY,
            "settings": "mode=fast\ncustomer=CANARY-custom-literal-3141\n",
            "plain": "hello",
            "config.json": "{\"db\": {\"host\": \"pg\", \"password\": \"CANARY-json-cm-pw-5a5a\"}}",
            "application.yaml": "db:\n  host: pg\n  pass: CANARY-yaml-cm-pass-6b6b\n  passwordFile: /etc/db/pw\n",
            "redis.conf": "port 6379\nrequirepass CANARY-redis-conf-9f9f\n",
            "README": "clone with https://ghp_CANARYprovidertoken0123456789abcdefg@github.com/x/y"
        });
        // base64 of CANARY-binary-data-b1n4
        app_config["binaryData"] = json!({"keystore.jks": "Q0FOQVJZLWJpbmFyeS1kYXRhLWIxbjQ="});
        let mut cm_list = vec![app_config];
        for i in 0..25 {
            let mut cm = named(
                "v1",
                "ConfigMap",
                Some(if i % 2 == 0 { "app" } else { "default" }),
                &format!("cm-{i:02}"),
            );
            cm["data"] = json!({"index": i.to_string()});
            cm_list.push(cm);
        }
        cm_list.push(named(
            "v1",
            "ConfigMap",
            Some("restricted"),
            "locked-config",
        ));
        f.add("", "v1", "configmaps", cm_list);

        let mut deploy = named("apps/v1", "Deployment", Some("app"), "web");
        deploy["metadata"]["annotations"] = json!({"example.com/client": "{\"url\": \"https://api\", \"token\": \"CANARY-anno-token-1a1a\"}"});
        deploy["spec"] = json!({"replicas": 2, "template": {"spec": {"containers": [{
            "name": "web",
            "command": ["sh", "-c", "PASSWORD=CANARY-sh-password-6f6f exec /app --db-password=CANARY-flag-eq-password-7a7a"],
            "args": ["--password", "CANARY-args-password-0f0f", "--token-file", "/var/run/token"],
            "env": [
                {"name": "SECRET_KEY", "value": "CANARY-env-password-22d1"},
                {"name": "DB_PASS", "value": "CANARY-db-pass-7c7c"},
                {"name": "MYSQL_PWD", "value": "CANARY-mysql-pwd-8d8d"},
                {"name": "JAVA_OPTS", "value": "-Xmx1g -Djavax.net.ssl.trustStorePassword=CANARY-java-opts-9e9e"},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
            ]
        }, {
            "name": "backup",
            "command": ["mysqldump", "-uroot", "-pCANARY-mysqldump-8e8e", "app"]
        }]}}});
        f.add("apps", "v1", "deployments", vec![deploy]);
        let mut event = named("v1", "Event", Some("app"), "web.1");
        event["reason"] = json!("BackOff");
        event["message"] = json!("Back-off restarting failed container");
        f.add("", "v1", "events", vec![event]);
        let mut widget = named("example.com/v1", "Widget", Some("app"), "w1");
        widget["spec"] = json!({
            "size": 3,
            "password": "CANARY-cr-password-2b2b",
            "endpoints": [{
                "basicAuth": {"username": "admin", "password": "CANARY-cr-basic-auth-3c3c"},
                "authorization": {"type": "Bearer", "credentials": "CANARY-cr-credentials-4d4d"},
                "bearerTokenFile": "/var/run/secrets/token",
                "tlsConfig": {"keySecret": {"name": "w1-tls", "key": "tls.key"}}
            }]
        });
        widget["status"] =
            json!({"token": "CANARY-cr-status-token-5e5e", "secretName": "w1-token"});
        f.add("example.com", "v1", "widgets", vec![widget]);

        for node in ["node-1", "node-2"] {
            f.files.insert(
                layout::node_configz_path(node),
                serde_json::to_vec(
                    &json!({"kubeletconfig": {"cgroupDriver": "systemd", "maxPods": 110}}),
                )
                .unwrap_or_default(),
            );
            f.files.insert(
                layout::node_log_path(node, "kubelet"),
                format!("I0101 {node} kubelet started\n").into_bytes(),
            );
        }
        f
    }

    /// Adds (replaces) a resource's objects.
    pub fn add(&mut self, group: &str, version: &str, resource: &str, objects: Vec<Value>) {
        self.objects
            .insert((group.into(), version.into(), resource.into()), objects);
    }

    /// Writes the fixture as a bundle at `path`.
    pub fn write(&self, path: &Path) {
        let file = std::fs::File::create(path).expect("create fixture bundle");
        let mut w = BundleWriter::new(file, &WriterOptions::default()).expect("writer");
        w.add_bytes(
            layout::VERSION,
            br#"{"major":"1","minor":"31","gitVersion":"v1.31.4","platform":"linux/amd64"}"#,
        )
        .expect("version");
        w.add_bytes(
            layout::DISCOVERY,
            &serde_json::to_vec(&self.discovery).expect("json"),
        )
        .expect("discovery");
        for ((g, v, r), objects) in &self.objects {
            let text: String = objects.iter().map(|o| format!("{o}\n")).collect();
            w.add_bytes(&layout::resource_path(g, v, r), text.as_bytes())
                .expect("objects");
        }
        for (p, data) in &self.files {
            w.add_bytes(p, data).expect("file");
        }
        let manifest = Manifest {
            format_version: Manifest::current_format_version(),
            producer: "fixture".into(),
            producer_version: "0".into(),
            bundle_id: "fixture".into(),
            started_at: Utc::now(),
            finished_at: Utc::now(),
            source: Source::Cluster(ClusterSource {
                server_version: "v1.31.4".into(),
                cluster_id: "cluster-uid-kube-system".into(),
                context: "fixture".into(),
                server: "https://fixture:6443".into(),
            }),
            options: json!({}),
            entries: Vec::new(),
            gaps: Vec::new(),
            redaction: Redaction {
                enabled: false,
                counts: BTreeMap::new(),
                by_kind: Default::default(),
            },
            partial: false,
        };
        w.finish(manifest).expect("finish");
    }
}

/// A running `ktriage serve` on 127.0.0.1.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The fault layer, to ask how often each rule fired.
    pub faults: FaultLayer,
    task: tokio::task::JoinHandle<()>,
    _work: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the bundle at `bundle` through `plan`.
pub async fn serve(bundle: &Path, plan: FaultPlan) -> Server {
    let work = tempfile::tempdir().expect("tempdir");
    let open: OpenBundle = reader::open(bundle, &work.path().join("unpacked"), &Limits::default())
        .expect("fixture bundle opens");
    let state = Arc::new(ServeState::new(&[open]).expect("serve state"));
    let faults = FaultLayer::new(plan);
    let router = ktriage_serve::router(state).layer(faults.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = ktriage_serve::serve(listener, router).await;
    });
    Server {
        url,
        faults,
        task,
        _work: work,
    }
}

/// A fixture written to a temporary directory and served.
pub struct Setup {
    /// Holds the fixture, kubeconfig and outputs.
    pub dir: tempfile::TempDir,
    /// The server.
    pub server: Server,
    /// The kubeconfig pointing at it.
    pub kubeconfig: PathBuf,
}

/// Writes `fixture`, serves it through `plan`, and writes a kubeconfig for it.
pub async fn setup(fixture: &Fixture, plan: FaultPlan) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("fixture.tar.zst");
    fixture.write(&bundle);
    let server = serve(&bundle, plan).await;
    let kubeconfig = dir.path().join("kubeconfig");
    ktriage_serve::write_kubeconfig(&kubeconfig, &server.url).expect("kubeconfig");
    Setup {
        dir,
        server,
        kubeconfig,
    }
}

impl Setup {
    /// The output path used by [`Setup::collect`].
    pub fn output(&self) -> PathBuf {
        self.dir.path().join("out.tar.zst")
    }

    /// Runs the collector (in process) with `args` plus the kubeconfig and output, bounded
    /// by `limit`.
    pub async fn collect(&self, args: &[&str], limit: Duration) -> RunOutcome {
        let kubeconfig = self.kubeconfig.to_string_lossy().into_owned();
        let output = self.output().to_string_lossy().into_owned();
        let mut all = vec![
            "ktriage-collect",
            "--kubeconfig",
            &kubeconfig,
            "-o",
            &output,
            "-q",
        ];
        all.extend_from_slice(args);
        let cli = <Cli as clap::Parser>::try_parse_from(all).expect("arguments parse");
        let run =
            ktriage_collect::cluster::run::run(&cli.cluster, Stop::new(), Arc::new(Ui::hidden()));
        tokio::time::timeout(limit, run)
            .await
            .expect("collection finished in time")
            .expect("run starts")
    }

    /// Opens the collected bundle with the safe reader.
    pub fn open_output(&self) -> Collected {
        open_bundle(&self.output())
    }
}

/// A collected bundle, unpacked and checked.
pub struct Collected {
    /// The bundle.
    pub bundle: OpenBundle,
    _work: tempfile::TempDir,
}

/// Opens `path` with the safe reader (which checks every entry against the manifest).
pub fn open_bundle(path: &Path) -> Collected {
    let work = tempfile::tempdir().expect("tempdir");
    let bundle = reader::open(path, &work.path().join("b"), &Limits::default())
        .expect("collected bundle is valid");
    Collected {
        bundle,
        _work: work,
    }
}

impl Collected {
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.bundle.manifest
    }

    /// Objects of a resource, keyed by namespace/name; `None` when the file is absent.
    pub fn objects(
        &self,
        group: &str,
        version: &str,
        resource: &str,
    ) -> Option<BTreeMap<String, Value>> {
        let text = std::fs::read_to_string(
            self.bundle
                .path(&layout::resource_path(group, version, resource)),
        )
        .ok()?;
        Some(
            text.lines()
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let v: Value = serde_json::from_str(l).expect("NDJSON line");
                    (key(&v), v)
                })
                .collect(),
        )
    }

    /// A file's bytes.
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.bundle.path(path)).ok()
    }

    /// Gaps with `what` whose location contains `location`.
    pub fn gaps(
        &self,
        what: ktriage_schema::manifest::GapKind,
        location: &str,
    ) -> Vec<&ktriage_schema::manifest::Gap> {
        self.manifest()
            .gaps
            .iter()
            .filter(|g| g.what == what && g.location.contains(location))
            .collect()
    }
}

/// `namespace/name` of an object.
pub fn key(v: &Value) -> String {
    let ns = v
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    format!("{ns}/{name}")
}

/// The whole bundle decompressed: tar headers and every byte of every entry.
pub fn decompressed(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).expect("open bundle");
    let mut out = Vec::new();
    let mut decoder = zstd::Decoder::new(file).expect("zstd");
    std::io::Read::read_to_end(&mut decoder, &mut out).expect("decompress");
    out
}
