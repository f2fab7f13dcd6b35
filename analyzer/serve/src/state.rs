//! What the server holds: the served bundle's catalog, its collection time, its `/version`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, Source};
use ktriage_schema::reader::OpenBundle;
use serde_json::{Value, json};

use crate::ServeError;
use crate::catalog::{Catalog, Resource};
use crate::table::{self, CrdColumns, Printer};

/// Everything the server needs to answer requests. Immutable once built.
#[derive(Debug)]
pub struct ServeState {
    pub(crate) catalog: Catalog,
    root: PathBuf,
    source: PathBuf,
    collected_at: DateTime<Utc>,
    version: Value,
    gaps: Vec<Gap>,
    /// Container log lines begin with the API's time stamp (format 1.1 on).
    logs_stamped: bool,
    /// Printer columns of custom resources, by (group, version, plural).
    crd_columns: HashMap<(String, String, String), CrdColumns>,
}

impl ServeState {
    /// Builds the state for the first cluster bundle among `bundles` (host bundles have no
    /// API to serve), indexing every resource file. Fails with a one-line error when no
    /// bundle is a cluster bundle or a file is malformed.
    pub fn new(bundles: &[OpenBundle]) -> Result<ServeState, ServeError> {
        let bundle = bundles
            .iter()
            .find(|b| matches!(b.manifest.source, Source::Cluster(_)))
            .ok_or_else(|| {
                ServeError::new("no cluster bundle to serve (host bundles have no Kubernetes API)")
            })?;
        ServeState::for_bundle(bundle)
    }

    /// Builds the state for one cluster bundle.
    pub fn for_bundle(bundle: &OpenBundle) -> Result<ServeState, ServeError> {
        let context = |e: ServeError| ServeError::new(format!("{}: {e}", bundle.source.display()));
        let catalog = Catalog::build(&bundle.root, &bundle.manifest).map_err(context)?;
        let version = read_version(bundle).map_err(context)?;
        let crd_columns = crd_columns(&catalog).map_err(context)?;
        Ok(ServeState {
            catalog,
            root: bundle.root.clone(),
            source: bundle.source.clone(),
            collected_at: bundle.manifest.finished_at,
            version,
            gaps: bundle.manifest.gaps.clone(),
            logs_stamped: bundle.manifest.container_logs_stamped(),
            crd_columns,
        })
    }

    /// When the bundle was collected: ages are shown relative to it.
    pub fn collected_at(&self) -> DateTime<Utc> {
        self.collected_at
    }

    /// Whether container log lines begin with the API's time stamp.
    pub fn logs_stamped(&self) -> bool {
        self.logs_stamped
    }

    /// The path of the served bundle, as the user gave it.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// `file:line` of the objects not served for having no name, over all resources.
    pub fn nameless(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .catalog
            .resources()
            .filter_map(|r| r.index())
            .flat_map(|i| i.nameless().iter().cloned())
            .collect();
        all.sort();
        all
    }

    /// Number of objects served, over all resources.
    pub fn object_count(&self) -> usize {
        self.catalog
            .resources()
            .filter_map(|r| r.index())
            .map(|i| i.len())
            .sum()
    }

    pub(crate) fn version(&self) -> &Value {
        &self.version
    }

    /// Absolute path of a bundle-relative path.
    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The gap recorded for `what` whose location satisfies `matches`, if any.
    pub(crate) fn gap(&self, what: &GapKind, matches: impl Fn(&str) -> bool) -> Option<&Gap> {
        self.gaps
            .iter()
            .find(|g| &g.what == what && matches(&g.location))
    }

    /// The table printer of a resource.
    pub(crate) fn printer(&self, r: &Resource) -> Box<dyn Printer> {
        let key = (r.group.clone(), r.version.clone(), r.api.name.clone());
        table::printer_for(&r.group, &r.api.kind, self.crd_columns.get(&key).cloned())
    }
}

/// `cluster/version.json`, or one made from the manifest's server version.
fn read_version(bundle: &OpenBundle) -> Result<Value, ServeError> {
    if bundle
        .manifest
        .entries
        .iter()
        .any(|e| e.path == layout::VERSION)
    {
        let data = std::fs::read(bundle.path(layout::VERSION))
            .map_err(|e| ServeError::new(format!("{}: {e}", layout::VERSION)))?;
        return serde_json::from_slice(&data)
            .map_err(|e| ServeError::new(format!("{}: {e}", layout::VERSION)));
    }
    let git_version = match &bundle.manifest.source {
        Source::Cluster(c) if !c.server_version.is_empty() => c.server_version.clone(),
        _ => "v0.0.0-unknown".to_string(),
    };
    let mut numbers = git_version.trim_start_matches('v').split(['.', '-', '+']);
    let major = numbers.next().unwrap_or("0").to_string();
    let minor = numbers.next().unwrap_or("0").to_string();
    Ok(json!({
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": "",
        "compiler": "",
        "platform": "",
    }))
}

/// The printer columns of every custom resource version the bundle's CRDs declare.
fn crd_columns(
    catalog: &Catalog,
) -> Result<HashMap<(String, String, String), CrdColumns>, ServeError> {
    let mut out = HashMap::new();
    let Some(crds) = catalog.get("apiextensions.k8s.io", "v1", "customresourcedefinitions") else {
        return Ok(out);
    };
    let Some(index) = crds.index() else {
        return Ok(out);
    };
    for i in 0..index.len() {
        let bytes = index
            .read(i)
            .map_err(|e| ServeError::new(format!("reading CRDs: {e}")))?;
        let Ok(crd) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let group = table::text(&crd, "spec.group").to_string();
        let plural = table::text(&crd, "spec.names.plural").to_string();
        for v in table::list(&crd, "spec.versions") {
            let version = table::text(v, "name").to_string();
            out.insert(
                (group.clone(), version.clone(), plural.clone()),
                CrdColumns::from_crd(&crd, &version),
            );
        }
    }
    Ok(out)
}
