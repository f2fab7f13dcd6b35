//! The [`Sink`] that writes a ktriage bundle (format v1) from what a converter reports.
//!
//! Objects are spooled per kind to temporary NDJSON files (memory stays bounded whatever the
//! size of the source) and written at the end under their resource's path, once every CRD
//! is known. Logs are redacted line by line and streamed in as they come. The temporary
//! files live in one [`tempfile::TempDir`], removed on every exit path.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ktriage_redact::{RedactConfig, Redactor};
use ktriage_schema::discovery::{self, ApiResource, Discovery, split_api_version};
use ktriage_schema::host::{CertificateInfo, HostFacts};
use ktriage_schema::layout::{self, SourceFinding};
use ktriage_schema::manifest::{ClusterSource, Gap, GapKind, GapReason, Manifest, Source};
use ktriage_schema::writer::{BundleWriter, WriterOptions, sha256_hex};
use serde_json::{Value, json};

use crate::log_spool::spool_redacted;
use crate::node_bundles::{ImportedNode, NodeBundles, NodeContext};
use crate::{ImportError, LogRef, Sink};

/// Format version of imported bundles. 1.0, not the current 1.1: the other tools fetch
/// container logs without the API's time stamps, and 1.1 promises them on every line.
pub(crate) const IMPORTED_FORMAT_VERSION: &str = "1.0";

/// How a bundle is written.
pub struct SinkOptions {
    /// The source format's name, recorded as `producer`.
    pub format: &'static str,
    /// Redaction rules; `None` keeps the source as it is. Every bundle written (the
    /// cluster's, each node's) gets its own redactor, so each manifest counts its own.
    pub redaction: Option<RedactConfig>,
    /// Compression.
    pub writer: WriterOptions,
    /// The name of the source (its file name), recorded in the manifest's options.
    pub source_name: String,
    /// Where node bundles go (host data of the source, one bundle per host); `None` leaves
    /// host data out, with a gap.
    pub node_dir: Option<PathBuf>,
}

/// What was converted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    /// API objects written.
    pub objects: u64,
    /// Resource files written.
    pub resources: u64,
    /// Container logs written.
    pub logs: u64,
    /// Findings of the source tool kept.
    pub source_findings: u64,
    /// Node bundles written beside this one.
    pub node_bundles: u64,
}

struct Spool {
    path: PathBuf,
    out: BufWriter<File>,
    count: u64,
    /// The plural the source filed the objects under, when it said.
    hint: Option<String>,
    namespaced: bool,
}

/// Writes a ktriage bundle to `W`.
pub struct BundleSink<W: Write> {
    writer: BundleWriter<W>,
    temp: tempfile::TempDir,
    spools: BTreeMap<(String, String), Spool>,
    builtin: Discovery,
    crds: Discovery,
    source_discovery: Option<Discovery>,
    version: Option<Value>,
    gaps: Vec<Gap>,
    options: SinkOptions,
    producer_version: String,
    collected_at: Option<DateTime<Utc>>,
    /// Start and end of the collection as the source itself records them (must-gather's
    /// `timestamp`): preferred to file times.
    recorded_times: Option<(DateTime<Utc>, DateTime<Utc>)>,
    findings: Vec<u8>,
    log_paths: HashSet<String>,
    source_files: HashSet<String>,
    counts: ImportCounts,
    redactor: Redactor,
    nodes: NodeBundles,
}

impl<W: Write> BundleSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, options: SinkOptions) -> Result<Self, ImportError> {
        let redactor = match &options.redaction {
            Some(config) => Redactor::new(config)
                .map_err(|e| ImportError::bad_input("redaction rules", e.to_string()))?,
            None => Redactor::disabled(),
        };
        let nodes = NodeBundles::new(options.node_dir.clone(), options.redaction.clone());
        let temp = tempfile::Builder::new()
            .prefix("ktriage-import-")
            .tempdir()
            .map_err(|e| ImportError::write("temporary directory", e))?;
        let writer = BundleWriter::new(out, &options.writer)
            .map_err(|e| ImportError::write("output bundle", e))?;
        Ok(BundleSink {
            writer,
            temp,
            spools: BTreeMap::new(),
            builtin: discovery::builtin(),
            crds: Discovery::default(),
            source_discovery: None,
            version: None,
            gaps: Vec::new(),
            options,
            producer_version: String::new(),
            collected_at: None,
            recorded_times: None,
            findings: Vec::new(),
            log_paths: HashSet::new(),
            source_files: HashSet::new(),
            counts: ImportCounts::default(),
            redactor,
            nodes,
        })
    }

    /// When the source was collected (the reference time of rules): the newest file time
    /// of the source, as its archive records it.
    pub fn set_collected_at(&mut self, at: DateTime<Utc>) {
        self.collected_at = Some(at);
    }

    /// What was converted so far.
    pub fn counts(&self) -> &ImportCounts {
        &self.counts
    }

    /// The kind and API version of the resource a source names by its plural.
    fn resolve_plural(&self, plural: &str) -> Option<(String, String)> {
        let discoveries = self
            .source_discovery
            .iter()
            .chain([&self.builtin, &self.crds]);
        for d in discoveries {
            if let Some(r) = d
                .resources()
                .find(|r| r.resource.name == plural && !r.resource.is_subresource())
            {
                let api_version = if r.group.is_empty() {
                    r.version.to_string()
                } else {
                    format!("{}/{}", r.group, r.version)
                };
                return Some((api_version, r.resource.kind.clone()));
            }
        }
        None
    }

    /// Where a kind's objects go: (group, version, plural) and its discovery entry.
    fn resolve_kind(
        &self,
        api_version: &str,
        kind: &str,
        spool: &Spool,
    ) -> (String, String, ApiResource) {
        let (group, version) = split_api_version(api_version);
        let discoveries = self
            .source_discovery
            .iter()
            .chain([&self.builtin, &self.crds]);
        for d in discoveries {
            if let Some(r) = d.find_kind(api_version, kind) {
                return (group.into(), version.into(), r.resource.clone());
            }
        }
        let plural = spool
            .hint
            .clone()
            .filter(|h| layout::is_safe_component(h))
            .unwrap_or_else(|| format!("{}s", kind.to_lowercase()));
        let resource = ApiResource {
            name: plural,
            singular_name: kind.to_lowercase(),
            namespaced: spool.namespaced,
            kind: kind.to_string(),
            verbs: discovery::READ_VERBS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            short_names: Vec::new(),
            categories: Vec::new(),
        };
        (group.into(), version.into(), resource)
    }

    /// Writes the objects, discovery, version and manifest, and the node bundles; closes
    /// the bundle.
    pub fn finish(mut self) -> Result<(W, Manifest, ImportCounts, Vec<ImportedNode>), ImportError> {
        let synthesized = self.source_discovery.is_none();
        let mut disc = match self.source_discovery.take() {
            Some(d) => d,
            None => {
                let mut d = self.builtin.clone();
                for r in self.crds.resources() {
                    d.add(r.group, r.version, r.resource.clone());
                }
                d
            }
        };
        // Spools resolve to resource files; two kinds could name one file (a hint and a
        // kind disagreeing): their lines are concatenated.
        let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        let spools = std::mem::take(&mut self.spools);
        for ((api_version, kind), mut spool) in spools {
            spool
                .out
                .flush()
                .map_err(|e| ImportError::write(format!("spool of {kind}"), e))?;
            let (group, version, resource) = self.resolve_kind(&api_version, &kind, &spool);
            if !layout::is_safe_component(&resource.name)
                || !group
                    .split('/')
                    .all(|g| g.is_empty() || layout::is_safe_component(g))
                || !layout::is_safe_component(&version)
            {
                self.gaps.push(
                    Gap::new(
                        GapKind::Resource,
                        format!("{api_version} {kind}"),
                        GapReason::Error,
                    )
                    .with_detail(
                        "API version or resource name unusable as a bundle path; not converted",
                    ),
                );
                continue;
            }
            if disc.find_kind(&api_version, &kind).is_none() {
                disc.add(&group, &version, resource.clone());
            }
            let path = layout::resource_path(&group, &version, &resource.name);
            files.entry(path).or_default().push(spool.path.clone());
            self.counts.objects += spool.count;
        }
        for (path, parts) in &files {
            let mut readers = Vec::with_capacity(parts.len());
            let mut size = 0;
            for part in parts {
                let f = File::open(part).map_err(|e| ImportError::write(path.clone(), e))?;
                size += f
                    .metadata()
                    .map_err(|e| ImportError::write(path.clone(), e))?
                    .len();
                readers.push(BufReader::new(f));
            }
            let chained = readers
                .into_iter()
                .fold(Box::new(io::empty()) as Box<dyn Read>, |acc, r| {
                    Box::new(acc.chain(r))
                });
            self.writer
                .add_reader(path, size, chained, None)
                .map_err(|e| ImportError::write(path.clone(), e))?;
            self.counts.resources += 1;
        }
        let discovery_json = serde_json::to_vec_pretty(&disc)
            .map_err(|e| ImportError::write(layout::DISCOVERY, io::Error::other(e)))?;
        self.add_bytes(layout::DISCOVERY, &discovery_json)?;
        if synthesized {
            self.gaps.push(Gap::source_format(GapKind::Discovery, "cluster", format!(
                    "{} does not record API discovery: built-in kinds, CRDs and the kinds seen stand in for it",
                    self.options.format
                )));
        }
        let server_version = self
            .version
            .as_ref()
            .and_then(|v| v["gitVersion"].as_str())
            .unwrap_or_default()
            .to_string();
        if let Some(version) = self.version.take() {
            let bytes = serde_json::to_vec_pretty(&version)
                .map_err(|e| ImportError::write(layout::VERSION, io::Error::other(e)))?;
            self.add_bytes(layout::VERSION, &bytes)?;
        } else {
            self.gaps.push(Gap::source_format(
                GapKind::Version,
                "cluster",
                format!("{} source holds no server version", self.options.format),
            ));
        }
        if !self.findings.is_empty() {
            let findings = std::mem::take(&mut self.findings);
            self.add_bytes(layout::SOURCE_FINDINGS, &findings)?;
        }
        let at = self.collected_at.unwrap_or_else(Utc::now);
        let (started_at, finished_at) = self.recorded_times.unwrap_or((at, at));
        let nodes = std::mem::replace(&mut self.nodes, NodeBundles::new(None, None));
        let (written, node_gaps) = nodes.finish(&NodeContext {
            format: self.options.format,
            producer_version: &self.producer_version,
            source_name: &self.options.source_name,
            started_at,
            finished_at,
            writer: &self.options.writer,
        })?;
        self.gaps.extend(node_gaps);
        self.counts.node_bundles = written.len() as u64;
        let mut identity = format!("{}\n{}\n", self.options.format, self.options.source_name);
        for e in self.writer.entries() {
            identity.push_str(&e.sha256);
        }
        let manifest = Manifest {
            format_version: IMPORTED_FORMAT_VERSION.into(),
            producer: self.options.format.into(),
            producer_version: self.producer_version.clone(),
            bundle_id: uuid_like(&sha256_hex(identity.as_bytes())),
            started_at,
            finished_at,
            source: Source::Cluster(ClusterSource {
                server_version,
                ..ClusterSource::default()
            }),
            options: json!({
                "import": {
                    "format": self.options.format,
                    "format_version": self.producer_version,
                    "source": self.options.source_name,
                    "importer": concat!("ktriage ", env!("CARGO_PKG_VERSION")),
                    "counts": self.counts,
                    "redaction": self.redactor.is_enabled(),
                }
            }),
            entries: Vec::new(),
            gaps: std::mem::take(&mut self.gaps),
            redaction: self.redactor.summary(),
            partial: false,
        };
        let (out, manifest) = self
            .writer
            .finish_with(manifest)
            .map_err(|e| ImportError::write("output bundle", e))?;
        drop(self.temp);
        Ok((out, manifest, self.counts, written))
    }

    fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<(), ImportError> {
        self.writer
            .add_bytes(path, bytes)
            .map_err(|e| ImportError::write(path, e))
    }

    fn spool_for(&mut self, api_version: &str, kind: &str) -> Result<&mut Spool, ImportError> {
        let key = (api_version.to_string(), kind.to_string());
        if !self.spools.contains_key(&key) {
            let path = self
                .temp
                .path()
                .join(format!("objects-{}.ndjson", self.spools.len()));
            let file = File::create(&path).map_err(|e| ImportError::write("spool", e))?;
            self.spools.insert(
                key.clone(),
                Spool {
                    path,
                    out: BufWriter::new(file),
                    count: 0,
                    hint: None,
                    namespaced: false,
                },
            );
        }
        Ok(self.spools.get_mut(&key).expect("inserted above"))
    }
}

/// A UUID-shaped id from a hex digest: the same source imports to the same id.
pub(crate) fn uuid_like(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

impl<W: Write> Sink for BundleSink<W> {
    fn object(&mut self, mut object: Value, resource: Option<&str>) -> Result<(), ImportError> {
        if !object.is_object() {
            return Ok(());
        }
        let (api_version, kind) = match (text(&object, "apiVersion"), text(&object, "kind")) {
            (Some(a), Some(k)) => (a, k),
            _ => match resource.and_then(|r| self.resolve_plural(r)) {
                Some((a, k)) => {
                    object["apiVersion"] = Value::String(a.clone());
                    object["kind"] = Value::String(k.clone());
                    (a, k)
                }
                None => {
                    self.gaps.push(
                        Gap::new(
                            GapKind::Object,
                            resource.unwrap_or("unknown"),
                            GapReason::Error,
                        )
                        .with_detail(format!(
                            "{} has no kind and its resource is unknown; not converted",
                            object["metadata"]["name"].as_str().unwrap_or("an object")
                        )),
                    );
                    return Ok(());
                }
            },
        };
        if kind == "CustomResourceDefinition" {
            self.crds.add_crd(&object, discovery::ALL_VERBS);
        }
        self.redactor.redact_json(&mut object);
        let mut line = serde_json::to_vec(&object)
            .map_err(|e| ImportError::write("object", io::Error::other(e)))?;
        line.push(b'\n');
        if line.len() > layout::MAX_LINE_BYTES {
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let namespace = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            self.gaps.push(
                Gap::new(
                    GapKind::Object,
                    format!("{kind} {namespace}/{name}"),
                    GapReason::TooLarge,
                )
                .with_detail(format!(
                    "{} bytes, over the {}-byte limit of one line; left out",
                    line.len(),
                    layout::MAX_LINE_BYTES
                )),
            );
            return Ok(());
        }
        let namespaced = object["metadata"]["namespace"]
            .as_str()
            .is_some_and(|n| !n.is_empty());
        let spool = self.spool_for(&api_version, &kind)?;
        if spool.hint.is_none() {
            spool.hint = resource.map(String::from);
        }
        spool.namespaced |= namespaced;
        spool.count += 1;
        spool
            .out
            .write_all(&line)
            .map_err(|e| ImportError::write("spool", e))
    }

    fn log(&mut self, log: &LogRef, body: &mut dyn Read) -> Result<(), ImportError> {
        let location = format!("{}/{}/{}", log.namespace, log.pod, log.container);
        let safe = [&log.namespace, &log.pod, &log.container]
            .iter()
            .all(|c| layout::is_safe_component(c));
        if !safe {
            self.gaps.push(
                Gap::new(
                    GapKind::Logs,
                    ktriage_schema::text::terminal_safe(&location),
                    GapReason::Error,
                )
                .with_detail("names unusable as a bundle path; not converted"),
            );
            return Ok(());
        }
        let path =
            layout::container_log_path(&log.namespace, &log.pod, &log.container, log.previous);
        if !self.log_paths.insert(path.clone()) {
            return Ok(());
        }
        let spool_path = self.temp.path().join("log");
        let (mut spool, size) = spool_redacted(body, &self.redactor, &spool_path, &location)?;
        spool.rewind().map_err(|e| ImportError::write("spool", e))?;
        self.writer
            .add_reader(&path, size, BufReader::new(spool), None)
            .map_err(|e| ImportError::write(path, e))?;
        self.counts.logs += 1;
        Ok(())
    }

    fn version(&mut self, version: Value) -> Result<(), ImportError> {
        if version.is_object() {
            self.version = Some(version);
        }
        Ok(())
    }

    fn gap(&mut self, gap: Gap) {
        self.gaps.push(gap);
    }

    fn discovery(&mut self, discovery: Discovery) -> Result<(), ImportError> {
        self.source_discovery = Some(discovery);
        Ok(())
    }

    fn collected(&mut self, started: DateTime<Utc>, finished: DateTime<Utc>) {
        self.recorded_times = Some((started.min(finished), finished.max(started)));
    }

    fn producer_version(&mut self, version: &str) {
        self.producer_version = ktriage_schema::text::terminal_safe(version);
    }

    fn source_finding(&mut self, finding: SourceFinding) -> Result<(), ImportError> {
        let mut finding = finding;
        for field in [
            &mut finding.name,
            &mut finding.title,
            &mut finding.message,
            &mut finding.severity,
        ] {
            *field = self.redactor.redact_text(field).into_owned();
        }
        serde_json::to_writer(&mut self.findings, &finding)
            .map_err(|e| ImportError::write(layout::SOURCE_FINDINGS, io::Error::other(e)))?;
        self.findings.push(b'\n');
        self.counts.source_findings += 1;
        Ok(())
    }

    fn source_file(&mut self, path: &str, body: &mut dyn Read) -> Result<(), ImportError> {
        let target = format!("{}/{path}", layout::SOURCE_DIR);
        if !self.source_files.insert(target.clone()) {
            return Ok(());
        }
        // Kept files are small (an analysis summary); redacted as text.
        let mut bytes = Vec::new();
        body.take(layout::MAX_LINE_BYTES as u64)
            .read_to_end(&mut bytes)
            .map_err(|e| ImportError::io(path, e))?;
        let redacted = self.redactor.redact_bytes(&bytes).into_owned();
        self.writer
            .add_bytes(&target, &redacted)
            .map_err(|e| ImportError::write(target.clone(), e))
    }

    fn host_facts(&mut self, node: &str, facts: HostFacts) -> Result<(), ImportError> {
        self.nodes.facts(node, facts)
    }

    fn host_certificate(
        &mut self,
        node: &str,
        certificate: CertificateInfo,
    ) -> Result<(), ImportError> {
        self.nodes.certificate(node, certificate)
    }

    fn host_log(
        &mut self,
        node: &str,
        service: &str,
        body: &mut dyn Read,
    ) -> Result<(), ImportError> {
        self.nodes.log(self.temp.path(), node, service, body)
    }

    fn host_gap(&mut self, node: &str, gap: Gap) {
        // Only a new host's redactor can fail to build, and only with rules the cluster
        // bundle's redactor was already built from.
        if let Err(e) = self.nodes.gap(node, gap) {
            self.gaps.push(Gap {
                what: GapKind::Host,
                location: ktriage_schema::text::terminal_safe(node),
                reason: GapReason::Error,
                detail: e.to_string(),
            });
        }
    }
}
