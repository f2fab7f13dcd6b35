//! Builds a bundle from a readable source directory.
//!
//! ```text
//! SRC/bundle.yaml             optional: kind, bundle_id, collected_at, server_version, ...
//! SRC/objects/**/*.yaml|json  Kubernetes objects (multi-document YAML, JSON, or `kind: List`)
//! SRC/logs/<ns>/<pod>/<container>[.previous].log
//! SRC/nodes/<node>/configz.yaml|json, SRC/nodes/<node>/logs/<service>.log
//! SRC/host/facts.yaml, certificates.yaml, kubeconfigs.yaml, key-files.yaml
//! SRC/host/files/<absolute path>, SRC/host/logs/<service>.log
//! ```
//!
//! Objects are sorted by namespace and name and written one resource per NDJSON file, with
//! `managedFields` and the last-applied annotation removed, exactly as the collector writes
//! them. The archive is reproducible: the same source gives the same bytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Utc};
use ktriage_schema::discovery::{self, Discovery};
use ktriage_schema::layout;
use ktriage_schema::manifest::{ClusterSource, Gap, HostSource, Manifest, Redaction, Source};
use ktriage_schema::writer::{BundleWriter, WriterOptions};
use serde::Deserialize;
use serde_json::Value;

/// `bundle.yaml`: everything optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BundleSpec {
    /// `cluster` (default) or `host`.
    pub kind: Option<String>,
    /// Defaults to `fixture-<directory name>`.
    pub bundle_id: Option<String>,
    /// Collection finish time; defaults to 2026-01-15T12:00:00Z.
    pub collected_at: Option<DateTime<Utc>>,
    /// Cluster: `gitVersion`, default `v1.29.3`.
    pub server_version: Option<String>,
    /// Cluster id; defaults to the kube-system namespace uid when present.
    pub cluster_id: Option<String>,
    /// Context name.
    pub context: Option<String>,
    /// Host: node name.
    pub node_name: Option<String>,
    /// Host: hostname.
    pub hostname: Option<String>,
    /// Collection gaps to record.
    pub gaps: Vec<Gap>,
    /// Partial flag.
    pub partial: bool,
    /// Redaction counts to stamp in the manifest.
    pub redaction: Option<BTreeMap<String, u64>>,
    /// The same counts by resource kind (redactor → kind → count).
    pub redaction_by_kind: Option<BTreeMap<String, BTreeMap<String, u64>>>,
}

/// Default collection time of fixtures: fixed, so fixture ages are stable.
pub fn default_collected_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-15T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Whether `dir` is one bundle source (as opposed to a directory of several).
pub fn is_bundle_source(dir: &Path) -> bool {
    ["bundle.yaml", "objects", "logs", "nodes", "host"]
        .iter()
        .any(|n| dir.join(n).exists())
}

/// The bundle sources in `dir`: `dir` itself, or each subdirectory that is one, sorted.
pub fn bundle_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    if is_bundle_source(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() && is_bundle_source(&path) {
            out.push(path);
        }
    }
    out.sort();
    if out.is_empty() {
        bail!(
            "{}: no bundle source (bundle.yaml, objects/, logs/, nodes/ or host/) found",
            dir.display()
        );
    }
    Ok(out)
}

/// Builds the bundle for source `src` into the file `out`.
pub fn build(src: &Path, out: &Path) -> Result<()> {
    let file = fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let writer = build_into(src, std::io::BufWriter::new(file))?;
    writer
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// Builds the bundle for `src` into `out`, returning the writer's output.
pub fn build_into<W: std::io::Write>(src: &Path, out: W) -> Result<W> {
    let spec = read_spec(src)?;
    let finished = spec.collected_at.unwrap_or_else(default_collected_at);
    let dir_name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let options = WriterOptions {
        level: 9,
        long_window_log: None,
        workers: 0,
        mtime: finished.timestamp().max(0) as u64,
    };
    let mut w = BundleWriter::new(out, &options)?;

    let objects = read_objects(&src.join("objects"))?;
    let mut disc = discovery::builtin();
    add_crds(&mut disc, &objects);
    let by_resource = group_by_resource(&disc, objects)?;

    let is_host = spec.kind.as_deref() == Some("host");
    if !is_host {
        w.add_bytes(layout::DISCOVERY, &serde_json::to_vec(&disc)?)?;
        let version = spec
            .server_version
            .clone()
            .unwrap_or_else(|| "v1.29.3".into());
        w.add_bytes(
            layout::VERSION,
            &serde_json::to_vec(&version_doc(&version))?,
        )?;
    }
    let mut cluster_id = spec.cluster_id.clone().unwrap_or_default();
    for ((group, version, resource), mut items) in by_resource {
        items.sort_by_key(sort_key);
        if cluster_id.is_empty()
            && resource == "namespaces"
            && let Some(uid) = items
                .iter()
                .find(|o| o["metadata"]["name"] == "kube-system")
                .and_then(|o| o["metadata"]["uid"].as_str())
        {
            cluster_id = uid.to_string();
        }
        let mut buf = Vec::new();
        for item in &items {
            serde_json::to_writer(&mut buf, item)?;
            buf.push(b'\n');
        }
        w.add_bytes(&layout::resource_path(&group, &version, &resource), &buf)?;
    }
    add_container_logs(&mut w, src, finished - Duration::seconds(60))?;
    add_nodes(&mut w, src)?;
    add_host(&mut w, src)?;

    let source = if is_host {
        let hostname = spec.hostname.clone().unwrap_or_default();
        Source::Host(HostSource {
            node_name: spec.node_name.clone().unwrap_or_else(|| hostname.clone()),
            hostname,
        })
    } else {
        Source::Cluster(ClusterSource {
            server_version: spec
                .server_version
                .clone()
                .unwrap_or_else(|| "v1.29.3".into()),
            cluster_id,
            context: spec.context.clone().unwrap_or_default(),
            server: String::new(),
        })
    };
    let manifest = Manifest {
        format_version: Manifest::current_format_version(),
        producer: "ktriage-fixture".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        bundle_id: spec
            .bundle_id
            .clone()
            .unwrap_or_else(|| format!("fixture-{dir_name}")),
        started_at: finished - Duration::seconds(60),
        finished_at: finished,
        source,
        options: serde_json::json!({ "built_from": "fixture source" }),
        entries: Vec::new(),
        gaps: spec.gaps.clone(),
        redaction: Redaction {
            enabled: true,
            counts: spec.redaction.clone().unwrap_or_default(),
            by_kind: spec.redaction_by_kind.clone().unwrap_or_default(),
        },
        partial: spec.partial,
    };
    Ok(w.finish(manifest)?)
}

fn read_spec(src: &Path) -> Result<BundleSpec> {
    let path = src.join("bundle.yaml");
    if !path.exists() {
        return Ok(BundleSpec::default());
    }
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{}: invalid bundle spec", path.display()))
}

fn version_doc(git_version: &str) -> Value {
    let trimmed = git_version.trim_start_matches('v');
    let mut parts = trimmed.split('.');
    let major = parts.next().unwrap_or("1");
    let minor = parts.next().unwrap_or("0");
    serde_json::json!({
        "major": major, "minor": minor, "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22.0", "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// Reads every YAML/JSON file under `dir` into objects, expanding `List`s.
pub fn read_objects(dir: &Path) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for path in files_under(dir)? {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "yaml" | "yml" | "json") {
            continue;
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let docs: Vec<Value> = if ext == "json" {
            vec![
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: invalid JSON", path.display()))?,
            ]
        } else {
            let mut docs = Vec::new();
            for doc in serde_yaml_ng::Deserializer::from_str(&text) {
                let v = Value::deserialize(doc)
                    .with_context(|| format!("{}: invalid YAML", path.display()))?;
                if !v.is_null() {
                    docs.push(v);
                }
            }
            docs
        };
        for doc in docs {
            expand(doc, &path, &mut out)?;
        }
    }
    Ok(out)
}

fn expand(doc: Value, path: &Path, out: &mut Vec<Value>) -> Result<()> {
    let kind = doc["kind"].as_str().unwrap_or("");
    if kind == "List" || (kind.ends_with("List") && doc["items"].is_array()) {
        if let Value::Array(items) = doc["items"].clone() {
            for item in items {
                expand(item, path, out)?;
            }
        }
        return Ok(());
    }
    if kind.is_empty()
        || doc["apiVersion"].as_str().is_none()
        || doc["metadata"]["name"].as_str().is_none()
    {
        bail!(
            "{}: object without apiVersion, kind or metadata.name",
            path.display()
        );
    }
    out.push(clean(doc));
    Ok(())
}

/// Removes what the collector removes (FAQ WNR-14): managedFields and last-applied.
fn clean(mut doc: Value) -> Value {
    if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    doc
}

/// The verbs fixture bundles record for custom resources, in the order they always had.
const CRD_VERBS: &[&str] = &[
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
];

/// Adds resources declared by CRDs among the objects to the discovery.
fn add_crds(disc: &mut Discovery, objects: &[Value]) {
    for crd in objects
        .iter()
        .filter(|o| o["kind"] == "CustomResourceDefinition")
    {
        disc.add_crd(crd, CRD_VERBS);
    }
}

type ResourceKey = (String, String, String);

fn group_by_resource(
    disc: &Discovery,
    objects: Vec<Value>,
) -> Result<BTreeMap<ResourceKey, Vec<Value>>> {
    let mut out: BTreeMap<ResourceKey, Vec<Value>> = BTreeMap::new();
    for obj in objects {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let Some(r) = disc.find_kind(&api_version, &kind) else {
            bail!(
                "no resource known for {api_version} {kind} (object {}): add its CRD to the fixture",
                obj["metadata"]["name"]
            );
        };
        let key = (
            r.group.to_string(),
            r.version.to_string(),
            r.resource.name.clone(),
        );
        out.entry(key).or_default().push(obj);
    }
    Ok(out)
}

fn sort_key(v: &Value) -> (String, String) {
    let m = &v["metadata"];
    (
        m["namespace"].as_str().unwrap_or("").to_string(),
        m["name"].as_str().unwrap_or("").to_string(),
    )
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copies `src/<sub>` into the bundle under `prefix` (default `sub`), byte for byte.
fn copy_tree<W: std::io::Write>(
    w: &mut BundleWriter<W>,
    src: &Path,
    sub: &str,
    prefix: Option<&str>,
) -> Result<()> {
    copy_tree_with(w, src, sub, prefix, |data| data)
}

/// Copies `src/<sub>` into the bundle under `prefix` (default `sub`), each file's bytes as
/// `transform` makes them.
fn copy_tree_with<W: std::io::Write>(
    w: &mut BundleWriter<W>,
    src: &Path,
    sub: &str,
    prefix: Option<&str>,
    transform: impl Fn(Vec<u8>) -> Vec<u8>,
) -> Result<()> {
    let dir = src.join(sub);
    if !dir.exists() {
        return Ok(());
    }
    for path in files_under(&dir)? {
        let rel = path
            .strip_prefix(&dir)?
            .to_string_lossy()
            .replace('\\', "/");
        let data = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        w.add_bytes(
            &format!("{}/{rel}", prefix.unwrap_or(sub)),
            &transform(data),
        )?;
    }
    Ok(())
}

/// Copies `src/logs` as the API returns logs with `timestamps=true`: a line that starts with
/// an RFC 3339 stamp keeps it, any other line is stamped `now`.
fn add_container_logs<W: std::io::Write>(
    w: &mut BundleWriter<W>,
    src: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    copy_tree_with(w, src, "logs", None, |data| {
        let mut stamped = Vec::with_capacity(data.len() + data.len() / 4);
        for line in data.split_inclusive(|&b| b == b'\n') {
            if ktriage_schema::logtime::split_api_stamp(line).is_none() {
                stamped.extend_from_slice(stamp.as_bytes());
                stamped.push(b' ');
            }
            stamped.extend_from_slice(line);
        }
        stamped
    })
}

fn add_nodes<W: std::io::Write>(w: &mut BundleWriter<W>, src: &Path) -> Result<()> {
    let dir = src.join("nodes");
    if !dir.exists() {
        return Ok(());
    }
    for path in files_under(&dir)? {
        let rel = path
            .strip_prefix(&dir)?
            .to_string_lossy()
            .replace('\\', "/");
        let (node, file) = rel
            .split_once('/')
            .with_context(|| format!("{}: expected nodes/<node>/...", path.display()))?;
        if file == "configz.yaml" || file == "configz.json" {
            let doc = read_yaml_or_json(&path)?;
            w.add_bytes(&layout::node_configz_path(node), &serde_json::to_vec(&doc)?)?;
        } else {
            w.add_bytes(&format!("{}/{rel}", layout::NODES_DIR), &fs::read(&path)?)?;
        }
    }
    Ok(())
}

fn add_host<W: std::io::Write>(w: &mut BundleWriter<W>, src: &Path) -> Result<()> {
    let dir = src.join("host");
    if !dir.exists() {
        return Ok(());
    }
    for (name, target, ndjson) in [
        ("facts", layout::HOST_FACTS, false),
        ("certificates", layout::HOST_CERTIFICATES, true),
        ("kubeconfigs", layout::HOST_KUBECONFIGS, true),
        ("key-files", layout::HOST_KEY_FILES, true),
    ] {
        for ext in ["yaml", "json"] {
            let path = dir.join(format!("{name}.{ext}"));
            if !path.exists() {
                continue;
            }
            let doc = read_yaml_or_json(&path)?;
            let bytes = if ndjson {
                let Value::Array(items) = doc else {
                    bail!("{}: expected a list", path.display())
                };
                let mut buf = Vec::new();
                for item in items {
                    serde_json::to_writer(&mut buf, &item)?;
                    buf.push(b'\n');
                }
                buf
            } else {
                // Check the shape now, so a fixture cannot drift from what node mode writes.
                let facts: ktriage_schema::host::HostFacts = serde_json::from_value(doc.clone())
                    .with_context(|| format!("{}: not host facts", path.display()))?;
                serde_json::to_vec(&facts)?
            };
            w.add_bytes(target, &bytes)?;
        }
    }
    copy_tree(w, &dir, "files", Some(layout::HOST_FILES_DIR))?;
    copy_tree(w, &dir, "logs", Some(layout::HOST_LOGS_DIR))?;
    Ok(())
}

fn read_yaml_or_json(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display()))
    } else {
        serde_yaml_ng::from_str(&text).with_context(|| format!("{}: invalid YAML", path.display()))
    }
}
