//! What the format tests share: a sink that records what a converter reports, and a driver
//! that feeds a converter the files of a fixture tree (or one in-memory source).

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ktriage_import::{Format, ImportError, LogRef, Probe, Sink};
use ktriage_schema::host::{CertificateInfo, HostFacts};
use ktriage_schema::manifest::{Gap, GapKind};
use serde_json::Value;

#[derive(Debug, Default)]
pub struct Recorded {
    pub objects: Vec<(Value, Option<String>)>,
    pub logs: Vec<(LogRef, Vec<u8>)>,
    pub versions: Vec<Value>,
    pub gaps: Vec<Gap>,
    pub collected: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Host data, by node (empty: the one host of a source collected on a host).
    pub host_facts: Vec<(String, HostFacts)>,
    pub host_certificates: Vec<(String, CertificateInfo)>,
    pub host_logs: Vec<(String, String, Vec<u8>)>,
    pub host_gaps: Vec<(String, Gap)>,
}

impl Sink for Recorded {
    fn object(&mut self, object: Value, resource: Option<&str>) -> Result<(), ImportError> {
        self.objects.push((object, resource.map(str::to_owned)));
        Ok(())
    }

    fn log(&mut self, log: &LogRef, body: &mut dyn Read) -> Result<(), ImportError> {
        let mut bytes = Vec::new();
        body.read_to_end(&mut bytes)
            .map_err(|e| ImportError::io("recorder", e))?;
        self.logs.push((log.clone(), bytes));
        Ok(())
    }

    fn version(&mut self, version: Value) -> Result<(), ImportError> {
        self.versions.push(version);
        Ok(())
    }

    fn gap(&mut self, gap: Gap) {
        self.gaps.push(gap);
    }

    fn collected(&mut self, started: DateTime<Utc>, finished: DateTime<Utc>) {
        self.collected = Some((started, finished));
    }

    fn host_facts(&mut self, node: &str, facts: HostFacts) -> Result<(), ImportError> {
        self.host_facts.push((node.to_owned(), facts));
        Ok(())
    }

    fn host_certificate(
        &mut self,
        node: &str,
        certificate: CertificateInfo,
    ) -> Result<(), ImportError> {
        self.host_certificates.push((node.to_owned(), certificate));
        Ok(())
    }

    fn host_log(
        &mut self,
        node: &str,
        service: &str,
        body: &mut dyn Read,
    ) -> Result<(), ImportError> {
        let mut bytes = Vec::new();
        body.read_to_end(&mut bytes)
            .map_err(|e| ImportError::io("recorder", e))?;
        self.host_logs
            .push((node.to_owned(), service.to_owned(), bytes));
        Ok(())
    }

    fn host_gap(&mut self, node: &str, gap: Gap) {
        self.host_gaps.push((node.to_owned(), gap));
    }
}

impl Recorded {
    /// `kind namespace/name` of every object, sorted.
    pub fn object_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .objects
            .iter()
            .map(|(o, _)| {
                let meta = &o["metadata"];
                match meta["namespace"].as_str() {
                    Some(ns) => format!(
                        "{} {ns}/{}",
                        o["kind"].as_str().unwrap_or("?"),
                        meta["name"].as_str().unwrap_or("?")
                    ),
                    None => format!(
                        "{} {}",
                        o["kind"].as_str().unwrap_or("?"),
                        meta["name"].as_str().unwrap_or("?")
                    ),
                }
            })
            .collect();
        names.sort();
        names
    }

    pub fn object(&self, kind: &str, name: &str) -> &(Value, Option<String>) {
        self.objects
            .iter()
            .find(|(o, _)| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in {:?}", self.object_names()))
    }

    /// `ns/pod/container[ previous]` of every log, sorted.
    pub fn log_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.logs.iter().map(|(l, _)| log_name(l)).collect();
        names.sort();
        names
    }

    pub fn log(&self, name: &str) -> String {
        let (_, body) = self
            .logs
            .iter()
            .find(|(l, _)| log_name(l) == name)
            .unwrap_or_else(|| panic!("no log {name} in {:?}", self.log_names()));
        String::from_utf8_lossy(body).into_owned()
    }

    /// The kinds of the gaps, in the order of their names.
    pub fn gap_whats(&self) -> Vec<GapKind> {
        let mut whats: Vec<GapKind> = self.gaps.iter().map(|g| g.what.clone()).collect();
        whats.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        whats
    }
}

fn log_name(log: &LogRef) -> String {
    let previous = if log.previous { " previous" } else { "" };
    format!("{}/{}/{}{previous}", log.namespace, log.pod, log.container)
}

pub fn foreign(rel: &str) -> PathBuf {
    ktriage_tests::manifest_dir!()
        .join("../tests/foreign")
        .join(rel)
}

/// Every regular file under `root`, as sorted `/`-separated relative paths.
pub fn files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read fixture dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.to_str().expect("UTF-8 path").replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Converts the fixture tree at `root` with `format`, as the importer would.
pub fn convert_tree(format: &dyn Format, root: &Path) -> Result<Recorded, ImportError> {
    let mut converter = format.converter();
    let mut sink = Recorded::default();
    for rel in files(root) {
        let mut file = std::fs::File::open(root.join(&rel)).expect("open fixture");
        converter.file(&rel, &mut file, &mut sink)?;
    }
    converter.finish(&mut sink)?;
    Ok(sink)
}

/// Converts one in-memory source: `(path, content)` files, in order.
pub fn convert_files(
    format: &dyn Format,
    files: &[(&str, &[u8])],
) -> Result<Recorded, ImportError> {
    let mut converter = format.converter();
    let mut sink = Recorded::default();
    for (path, body) in files {
        converter.file(path, &mut &body[..], &mut sink)?;
    }
    converter.finish(&mut sink)?;
    Ok(sink)
}

pub fn probe_tree(root: &Path) -> Probe {
    Probe {
        paths: files(root),
        head: None,
    }
}

pub fn probe_file(path: &Path) -> Probe {
    let mut head = vec![0; 4096];
    let mut file = std::fs::File::open(path).expect("open");
    let n = file.read(&mut head).expect("read");
    head.truncate(n);
    Probe {
        paths: vec![
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
        ],
        head: Some(head),
    }
}

/// The error's text, checked to be one line without control characters.
pub fn one_line(err: ImportError) -> String {
    let text = err.to_string();
    assert!(
        !text.chars().any(char::is_control),
        "control characters in {text:?}"
    );
    text
}
