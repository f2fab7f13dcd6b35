//! Node bundles of an import: the host data a source holds (troubleshoot's host
//! collectors), one bundle per host, in the layout of node mode (`host/facts.json`,
//! `host/certificates.ndjson`, `host/logs/<service>.log`) and with a `host` source in its
//! manifest, so the analyzer ties each to its Node as it does `ktriage-collect node` bundles.
//!
//! Each host gets its own redactor, so each manifest counts what was redacted in it. Logs
//! are redacted line by line into temporary files as they come; facts and certificate
//! records are small and stay in memory. The bundles are written when the import ends, to
//! `node-<name>.tar.zst` in the directory the caller gave.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ktriage_redact::{RedactConfig, Redactor};
use ktriage_schema::host::{CertificateInfo, HostFacts};
use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason, HostSource, Manifest, Source};
use ktriage_schema::writer::{BundleWriter, WriterOptions, sha256_hex};
use serde_json::json;

use crate::ImportError;
use crate::log_spool::spool_redacted;

/// One node bundle written by an import.
#[derive(Debug, Clone)]
pub struct ImportedNode {
    /// The Kubernetes node name, when the source says it (remote host collectors).
    pub node_name: String,
    /// The host name the host reported.
    pub hostname: String,
    /// Where the bundle was written.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// What the bundles share with the cluster bundle of the import.
pub(crate) struct NodeContext<'a> {
    pub format: &'static str,
    pub producer_version: &'a str,
    pub source_name: &'a str,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub writer: &'a WriterOptions,
}

/// The host data of an import, host by host, until the bundles are written.
pub(crate) struct NodeBundles {
    /// Where the bundles go; `None`: not requested, host data is left out.
    dir: Option<PathBuf>,
    redaction: Option<RedactConfig>,
    hosts: BTreeMap<String, HostSpool>,
    /// Host logs spooled so far: names their temporary files.
    spooled: u64,
}

struct HostSpool {
    redactor: Redactor,
    facts: Option<HostFacts>,
    /// `host/certificates.ndjson`, redacted.
    certificates: Vec<u8>,
    /// Service → redacted log in a temporary file, and its size.
    logs: BTreeMap<String, (PathBuf, u64)>,
    gaps: Vec<Gap>,
}

impl HostSpool {
    fn has_data(&self) -> bool {
        self.facts.is_some() || !self.certificates.is_empty() || !self.logs.is_empty()
    }
}

impl NodeBundles {
    pub(crate) fn new(dir: Option<PathBuf>, redaction: Option<RedactConfig>) -> Self {
        NodeBundles {
            dir,
            redaction,
            hosts: BTreeMap::new(),
            spooled: 0,
        }
    }

    fn host(&mut self, node: &str) -> Result<&mut HostSpool, ImportError> {
        if !self.hosts.contains_key(node) {
            let redactor = match &self.redaction {
                Some(config) => Redactor::new(config)
                    .map_err(|e| ImportError::bad_input("redaction rules", e.to_string()))?,
                None => Redactor::disabled(),
            };
            self.hosts.insert(
                node.to_string(),
                HostSpool {
                    redactor,
                    facts: None,
                    certificates: Vec::new(),
                    logs: BTreeMap::new(),
                    gaps: Vec::new(),
                },
            );
        }
        Ok(self.hosts.get_mut(node).expect("inserted above"))
    }

    pub(crate) fn facts(&mut self, node: &str, facts: HostFacts) -> Result<(), ImportError> {
        self.host(node)?.facts = Some(facts);
        Ok(())
    }

    pub(crate) fn certificate(
        &mut self,
        node: &str,
        certificate: CertificateInfo,
    ) -> Result<(), ImportError> {
        let host = self.host(node)?;
        let mut record = serde_json::to_value(&certificate)
            .map_err(|e| ImportError::write("certificate record", std::io::Error::other(e)))?;
        host.redactor.redact_json(&mut record);
        serde_json::to_writer(&mut host.certificates, &record)
            .map_err(|e| ImportError::write("certificate record", std::io::Error::other(e)))?;
        host.certificates.push(b'\n');
        Ok(())
    }

    /// A host log, redacted into a file of `temp`. A second log of the same service is
    /// left out with a gap.
    pub(crate) fn log(
        &mut self,
        temp: &Path,
        node: &str,
        service: &str,
        body: &mut dyn Read,
    ) -> Result<(), ImportError> {
        let spool_path = temp.join(format!("host-log-{}", self.spooled));
        self.spooled += 1;
        let host = self.host(node)?;
        if !layout::is_safe_component(service) || host.logs.contains_key(service) {
            host.gaps.push(Gap {
                what: GapKind::HostLog,
                location: ktriage_schema::text::terminal_safe(service),
                reason: GapReason::Error,
                detail:
                    "a second log of this name, or a name unusable as a bundle path; not converted"
                        .into(),
            });
            return Ok(());
        }
        let (_, size) = spool_redacted(body, &host.redactor, &spool_path, service)?;
        host.logs.insert(service.to_string(), (spool_path, size));
        Ok(())
    }

    pub(crate) fn gap(&mut self, node: &str, gap: Gap) -> Result<(), ImportError> {
        self.host(node)?.gaps.push(gap);
        Ok(())
    }

    /// Writes the node bundles. Returns them, and the gaps for the cluster bundle: those of
    /// hosts with nothing to write, and the host data left out when no bundles were asked for.
    pub(crate) fn finish(
        self,
        ctx: &NodeContext<'_>,
    ) -> Result<(Vec<ImportedNode>, Vec<Gap>), ImportError> {
        let mut cluster_gaps = Vec::new();
        let Some(dir) = self.dir else {
            let with_data = self.hosts.values().filter(|h| h.has_data()).count();
            if with_data > 0 {
                cluster_gaps.push(Gap {
                    what: GapKind::Host,
                    location: "nodes".into(),
                    reason: GapReason::SourceFormat,
                    detail: format!(
                        "the host data of {with_data} hosts is not converted: no node bundles were asked for"
                    ),
                });
            }
            return Ok((Vec::new(), cluster_gaps));
        };
        let mut written = Vec::new();
        let mut names = BTreeSet::new();
        for (node, host) in self.hosts {
            if !host.has_data() {
                for mut gap in host.gaps {
                    gap.location = format!("{} {}", describe(&node), gap.location);
                    cluster_gaps.push(gap);
                }
                continue;
            }
            let hostname = host
                .facts
                .as_ref()
                .map(|f| f.hostname.clone())
                .unwrap_or_default();
            let base = match (node.as_str(), hostname.as_str()) {
                ("", "") => "host".to_string(),
                ("", h) => h.to_string(),
                (n, _) => n.to_string(),
            };
            let mut name = safe_file_stem(&base);
            let mut n = 1;
            while !names.insert(name.clone()) {
                n += 1;
                name = format!("{}-{n}", safe_file_stem(&base));
            }
            let path = dir.join(format!("node-{name}.tar.zst"));
            let manifest = write_bundle(&path, &node, &hostname, host, ctx)?;
            written.push(ImportedNode {
                node_name: node,
                hostname,
                path,
                manifest,
            });
        }
        Ok((written, cluster_gaps))
    }
}

/// How a host is named in a cluster gap.
fn describe(node: &str) -> String {
    if node.is_empty() {
        "host".into()
    } else {
        format!("node/{node}")
    }
}

/// A host name as part of a file name: letters, digits, `.`, `-` and `_` kept, anything
/// else `_`.
fn safe_file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .take(200)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match stem.trim_start_matches('.') {
        "" => "host".into(),
        s => s.to_string(),
    }
}

fn write_bundle(
    path: &Path,
    node: &str,
    hostname: &str,
    host: HostSpool,
    ctx: &NodeContext<'_>,
) -> Result<Manifest, ImportError> {
    let what = path.display().to_string();
    let file = File::create(path).map_err(|e| ImportError::write(what.clone(), e))?;
    let mut writer = BundleWriter::new(BufWriter::new(file), ctx.writer)
        .map_err(|e| ImportError::write(what.clone(), e))?;
    let add = |writer: &mut BundleWriter<BufWriter<File>>, entry: &str, bytes: &[u8]| {
        writer
            .add_bytes(entry, bytes)
            .map_err(|e| ImportError::write(format!("{what}: {entry}"), e))
    };
    if let Some(facts) = &host.facts {
        let mut doc = serde_json::to_value(facts)
            .map_err(|e| ImportError::write(layout::HOST_FACTS, std::io::Error::other(e)))?;
        host.redactor.redact_json(&mut doc);
        let bytes = serde_json::to_vec_pretty(&doc)
            .map_err(|e| ImportError::write(layout::HOST_FACTS, std::io::Error::other(e)))?;
        add(&mut writer, layout::HOST_FACTS, &bytes)?;
    }
    if !host.certificates.is_empty() {
        add(&mut writer, layout::HOST_CERTIFICATES, &host.certificates)?;
    }
    for (service, (spool, size)) in &host.logs {
        let entry = layout::host_log_path(service);
        let file = File::open(spool).map_err(|e| ImportError::write("spool", e))?;
        writer
            .add_reader(&entry, *size, BufReader::new(file), None)
            .map_err(|e| ImportError::write(format!("{what}: {entry}"), e))?;
    }
    let mut identity = format!(
        "{}\n{}\nnode {node} {hostname}\n",
        ctx.format, ctx.source_name
    );
    for e in writer.entries() {
        identity.push_str(&e.sha256);
    }
    let certificates = host.certificates.iter().filter(|&&b| b == b'\n').count();
    let manifest = Manifest {
        format_version: crate::bundle_sink::IMPORTED_FORMAT_VERSION.into(),
        producer: ctx.format.into(),
        producer_version: ctx.producer_version.into(),
        bundle_id: crate::bundle_sink::uuid_like(&sha256_hex(identity.as_bytes())),
        started_at: ctx.started_at,
        finished_at: ctx.finished_at,
        source: Source::Host(HostSource {
            node_name: node.to_string(),
            hostname: hostname.to_string(),
        }),
        options: json!({
            "import": {
                "format": ctx.format,
                "format_version": ctx.producer_version,
                "source": ctx.source_name,
                "importer": concat!("ktriage ", env!("CARGO_PKG_VERSION")),
                "counts": {
                    "facts": host.facts.is_some(),
                    "certificates": certificates,
                    "host_logs": host.logs.len(),
                },
                "redaction": host.redactor.is_enabled(),
            }
        }),
        entries: Vec::new(),
        gaps: host.gaps,
        redaction: host.redactor.summary(),
        partial: false,
    };
    let (out, manifest) = writer
        .finish_with(manifest)
        .map_err(|e| ImportError::write(what.clone(), e))?;
    let file = out
        .into_inner()
        .map_err(|e| ImportError::write(what.clone(), e.into_error()))?;
    file.sync_all()
        .map_err(|e| ImportError::write(what.clone(), e))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_keep_host_names_and_nothing_else() {
        assert_eq!(
            safe_file_stem("worker-1.example.com"),
            "worker-1.example.com"
        );
        assert_eq!(safe_file_stem("../etc/x"), "_etc_x");
        assert_eq!(safe_file_stem("..."), "host");
        assert_eq!(safe_file_stem("a\u{1b}[31m"), "a__31m");
    }
}
