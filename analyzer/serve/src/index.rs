//! A compact index of one resource file (`cluster/<group>/<version>/<resource>.ndjson`): per
//! object its byte range in the file, namespace, name, labels and the few fields that field
//! selectors commonly name. Objects themselves stay on disk and are read on demand, so serving
//! a bundle of hundreds of megabytes costs tens of megabytes of memory.
//!
//! Rows are sorted by namespace, then name, as the API server lists them.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use crate::probe::Wanted;

/// Field paths kept in the index for field selectors; any other path is evaluated by reading
/// the object. `metadata.name` and `metadata.namespace` are always indexed.
pub const INDEXED_FIELDS: &[&str] = &[
    "spec.nodeName",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.unschedulable",
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.fieldPath",
    "involvedObject.resourceVersion",
    "reason",
    "type",
    "source.component",
    "reportingComponent",
];

/// Whether field selectors on `path` are answered from the index.
pub fn is_indexed(path: &str) -> bool {
    matches!(path, "metadata.name" | "metadata.namespace") || INDEXED_FIELDS.contains(&path)
}

/// Paths read for every object, before [`INDEXED_FIELDS`].
const META: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata.namespace",
    "metadata.name",
    "metadata.resourceVersion",
];
const LABELS: &str = "metadata.labels";

/// Why a resource file could not be indexed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading the file failed.
    #[error("{file}: {source}")]
    Io {
        /// Bundle-relative path.
        file: String,
        /// The error.
        source: io::Error,
    },
    /// A line is not a usable object.
    #[error("{file}:{line}: {message}")]
    Malformed {
        /// Bundle-relative path.
        file: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Interned strings: namespaces, label keys and values repeat across thousands of objects.
#[derive(Debug, Default)]
struct Strings {
    ids: HashMap<Arc<str>, u32>,
    list: Vec<Arc<str>>,
}

impl Strings {
    fn new() -> Strings {
        let mut s = Strings::default();
        s.intern("");
        s
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.list.len() as u32;
        let shared: Arc<str> = Arc::from(s);
        self.list.push(shared.clone());
        self.ids.insert(shared, id);
        id
    }

    fn get(&self, id: u32) -> &str {
        self.list.get(id as usize).map_or("", |s| s)
    }
}

/// One object of the file.
#[derive(Debug)]
struct Row {
    offset: u64,
    len: u32,
    namespace: u32,
    name: u32,
    /// `apiVersion` and `kind` as stored ("" when absent): where they are not the served
    /// resource's, the served object gets the resource's.
    type_meta: (u32, u32),
    labels: Box<[(u32, u32)]>,
    /// `(index into INDEXED_FIELDS, value)` for the fields present.
    fields: Box<[(u8, u32)]>,
}

/// The index of one resource file.
#[derive(Debug)]
pub struct ResourceIndex {
    file: File,
    rows: Vec<Row>,
    strings: Strings,
    max_resource_version: u64,
    first_type: Option<(String, String)>,
    /// `file:line` of each object without a name: kubectl cannot name it, so it is not served.
    nameless: Vec<String>,
}

/// One indexed object, as seen through the index.
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    index: &'a ResourceIndex,
    row: &'a Row,
}

impl<'a> RowRef<'a> {
    /// Namespace, empty for cluster-scoped objects.
    pub fn namespace(&self) -> &'a str {
        self.index.strings.get(self.row.namespace)
    }

    /// Name.
    pub fn name(&self) -> &'a str {
        self.index.strings.get(self.row.name)
    }

    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&'a str> {
        let strings = &self.index.strings;
        self.row
            .labels
            .iter()
            .find(|(k, _)| strings.get(*k) == key)
            .map(|(_, v)| strings.get(*v))
    }

    /// The value of an indexed field: `None` when `path` is not indexed, `Some("")` when the
    /// object lacks it (the API server compares absent fields as empty).
    pub fn field(&self, path: &str) -> Option<&'a str> {
        match path {
            "metadata.name" => return Some(self.name()),
            "metadata.namespace" => return Some(self.namespace()),
            _ => {}
        }
        let slot = INDEXED_FIELDS.iter().position(|f| *f == path)? as u8;
        let value = self
            .row
            .fields
            .iter()
            .find(|(s, _)| *s == slot)
            .map_or(0, |(_, v)| *v);
        Some(self.index.strings.get(value))
    }

    /// `apiVersion` and `kind` as stored, "" when absent.
    pub fn type_meta(&self) -> (&'a str, &'a str) {
        let strings = &self.index.strings;
        (
            strings.get(self.row.type_meta.0),
            strings.get(self.row.type_meta.1),
        )
    }
}

impl ResourceIndex {
    /// Indexes the NDJSON file at `path`; `rel` names it in errors.
    pub fn build(path: &Path, rel: &str) -> Result<ResourceIndex, IndexError> {
        let io_err = |source| IndexError::Io {
            file: rel.to_string(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let mut reader = BufReader::with_capacity(1 << 20, file.try_clone().map_err(io_err)?);
        let mut scalars: Vec<&str> = META.to_vec();
        scalars.extend_from_slice(INDEXED_FIELDS);
        let wanted = Wanted::new(&scalars, LABELS);
        let mut strings = Strings::new();
        let mut rows = Vec::new();
        let mut line = Vec::new();
        let mut offset = 0u64;
        let mut number = 0u64;
        let mut max_resource_version = 0u64;
        let mut first_type = None;
        let mut nameless = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io_err)?;
            if n == 0 {
                break;
            }
            number += 1;
            let start = offset;
            offset += n as u64;
            let Some(trimmed) = trim(&line) else { continue };
            let malformed = |message: String| IndexError::Malformed {
                file: rel.to_string(),
                line: number,
                message,
            };
            let picked = wanted
                .pick(&line[trimmed.clone()])
                .map_err(|e| malformed(e.to_string()))?;
            let mut values = picked.scalars.into_iter();
            let mut next = || values.next().flatten();
            let (api_version, kind, namespace, name, rv) = (next(), next(), next(), next(), next());
            // A stranger's bundle may hold one odd object among thousands: the rest is served.
            let Some(name) = name.filter(|n| !n.is_empty()) else {
                nameless.push(format!("{rel}:{number}"));
                continue;
            };
            if let (None, Some(a), Some(k)) = (&first_type, &api_version, &kind) {
                first_type = Some((a.clone(), k.clone()));
            }
            if let Some(rv) = rv.and_then(|rv| rv.parse::<u64>().ok()) {
                max_resource_version = max_resource_version.max(rv);
            }
            let fields: Vec<(u8, u32)> = (0..INDEXED_FIELDS.len())
                .filter_map(|slot| next().map(|v| (slot as u8, strings.intern(&v))))
                .collect();
            let labels: Vec<(u32, u32)> = picked
                .map
                .iter()
                .map(|(k, v)| (strings.intern(k), strings.intern(v)))
                .collect();
            let len =
                u32::try_from(trimmed.len()).map_err(|_| malformed("object too large".into()))?;
            rows.push(Row {
                offset: start + trimmed.start as u64,
                len,
                namespace: strings.intern(namespace.as_deref().unwrap_or("")),
                name: strings.intern(&name),
                type_meta: (
                    strings.intern(api_version.as_deref().unwrap_or("")),
                    strings.intern(kind.as_deref().unwrap_or("")),
                ),
                labels: labels.into(),
                fields: fields.into(),
            });
        }
        rows.sort_by(|a, b| {
            (strings.get(a.namespace), strings.get(a.name))
                .cmp(&(strings.get(b.namespace), strings.get(b.name)))
        });
        Ok(ResourceIndex {
            file,
            rows,
            strings,
            max_resource_version,
            first_type,
            nameless,
        })
    }

    /// `file:line` of the objects left out for having no `metadata.name` (a string).
    pub fn nameless(&self) -> &[String] {
        &self.nameless
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file holds no object.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The object at sorted position `i`.
    pub fn row(&self, i: usize) -> Option<RowRef<'_>> {
        self.rows.get(i).map(|row| RowRef { index: self, row })
    }

    /// Positions of the objects in `namespace`, or of all objects when `None`.
    pub fn range(&self, namespace: Option<&str>) -> Range<usize> {
        match namespace {
            None => 0..self.rows.len(),
            Some(ns) => {
                let start = self
                    .rows
                    .partition_point(|r| self.strings.get(r.namespace) < ns);
                let end = self
                    .rows
                    .partition_point(|r| self.strings.get(r.namespace) <= ns);
                start..end
            }
        }
    }

    /// Position of the object `namespace`/`name` (namespace empty for cluster-scoped).
    pub fn find(&self, namespace: &str, name: &str) -> Option<usize> {
        let key = (namespace, name);
        self.rows
            .binary_search_by(|r| {
                (self.strings.get(r.namespace), self.strings.get(r.name)).cmp(&key)
            })
            .ok()
    }

    /// The stored JSON of the object at position `i`.
    pub fn read(&self, i: usize) -> io::Result<Vec<u8>> {
        let row = self
            .rows
            .get(i)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such row"))?;
        let mut buf = vec![0u8; row.len as usize];
        self.file.read_exact_at(&mut buf, row.offset)?;
        Ok(buf)
    }

    /// Highest numeric `metadata.resourceVersion` seen (0 when none).
    pub fn max_resource_version(&self) -> u64 {
        self.max_resource_version
    }

    /// `(apiVersion, kind)` of the first object that carries both.
    pub fn first_type(&self) -> Option<(&str, &str)> {
        self.first_type
            .as_ref()
            .map(|(a, k)| (a.as_str(), k.as_str()))
    }

    /// Whether any object has a namespace.
    pub fn any_namespaced(&self) -> bool {
        self.rows.iter().any(|r| r.namespace != 0)
    }
}

/// The byte range of `line` without surrounding whitespace, or `None` when blank.
fn trim(line: &[u8]) -> Option<Range<usize>> {
    let start = line.iter().position(|c| !c.is_ascii_whitespace())?;
    let end = line
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str) -> Result<ResourceIndex, IndexError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pods.ndjson");
        std::fs::write(&path, text).expect("write");
        ResourceIndex::build(&path, "cluster/core/v1/pods.ndjson")
    }

    #[test]
    fn sorts_finds_and_reads_back_exact_bytes() {
        let text = concat!(
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b","namespace":"ns2","labels":{"app":"x"}},"spec":{"nodeName":"n1"}}"#,
            "\n\n",
            r#"  {"metadata":{"name":"a","namespace":"ns2","resourceVersion":"42"},"status":{"phase":"Failed"}}  "#,
            "\r\n",
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"z","namespace":"ns1"}}"#,
        );
        let idx = build(text).expect("indexes");
        let names: Vec<_> = (0..idx.len())
            .filter_map(|i| idx.row(i))
            .map(|r| (r.namespace(), r.name()))
            .collect();
        assert_eq!(names, vec![("ns1", "z"), ("ns2", "a"), ("ns2", "b")]);
        assert_eq!(idx.range(Some("ns2")), 1..3);
        assert_eq!(idx.range(Some("nope")).len(), 0);
        let i = idx.find("ns2", "a").expect("found");
        let row = idx.row(i).expect("row");
        assert_eq!(row.type_meta(), ("", ""));
        assert_eq!(row.field("status.phase"), Some("Failed"));
        assert_eq!(row.field("spec.nodeName"), Some(""));
        assert_eq!(row.field("spec.other"), None);
        let bytes = idx.read(i).expect("reads");
        assert!(bytes.starts_with(b"{\"metadata\"") && bytes.ends_with(b"}}"));
        let b = idx.row(idx.find("ns2", "b").expect("b")).expect("row");
        assert_eq!(b.label("app"), Some("x"));
        assert_eq!(b.field("spec.nodeName"), Some("n1"));
        assert_eq!(idx.max_resource_version(), 42);
        assert_eq!(idx.first_type(), Some(("v1", "Pod")));
    }

    #[test]
    fn nameless_objects_are_left_out_and_named_by_line() {
        let idx = build(concat!(
            "{\"metadata\":{\"name\":\"a\"}}\n",
            "{\"metadata\":{}}\n",
            "{\"metadata\":{\"name\":null}}\n",
            "{\"metadata\":{\"name\":7}}\n",
            "{\"metadata\":{\"name\":\"\"}}\n",
            "{\"metadata\":{\"name\":\"b\"}}\n",
        ))
        .expect("indexed");
        // A number is a name, as its text.
        assert_eq!(idx.len(), 3);
        assert!(["a", "b", "7"].iter().all(|n| idx.find("", n).is_some()));
        assert_eq!(
            idx.nameless(),
            [
                "cluster/core/v1/pods.ndjson:2",
                "cluster/core/v1/pods.ndjson:3",
                "cluster/core/v1/pods.ndjson:5"
            ]
        );
    }
}
