//! What a bundle serves: its recorded discovery (or the built-in one when none was recorded),
//! completed with every resource file found, each resource with its index.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ktriage_schema::discovery::{self, ApiResource, Discovery};
use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason, Manifest};
use serde_json::Value;

use crate::ServeError;
use crate::index::ResourceIndex;

/// One servable resource.
#[derive(Debug)]
pub struct Resource {
    /// API group, empty for core.
    pub group: String,
    /// Version.
    pub version: String,
    /// The discovery entry.
    pub api: ApiResource,
    /// Where its objects are.
    pub data: ResourceData,
}

/// Where a resource's objects come from.
#[derive(Debug)]
pub enum ResourceData {
    /// The bundle holds its file.
    Indexed(ResourceIndex),
    /// The bundle records why it was not collected.
    Gap(Gap),
    /// Discovery lists it but the bundle holds no object of it.
    Empty,
}

impl Resource {
    /// `apiVersion` of its objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether `api_version` and `kind` are this resource's: checked for every object served,
    /// so without building the `apiVersion` text.
    pub fn is_type(&self, api_version: &str, kind: &str) -> bool {
        let version = if self.group.is_empty() {
            Some(api_version)
        } else {
            api_version
                .strip_prefix(self.group.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
        };
        version == Some(self.version.as_str()) && kind == self.api.kind
    }

    /// The index, when the bundle holds the file.
    pub fn index(&self) -> Option<&ResourceIndex> {
        match &self.data {
            ResourceData::Indexed(i) => Some(i),
            _ => None,
        }
    }
}

type Key = (String, String, String);

/// All resources of the served bundle, by group, version and plural name.
#[derive(Debug)]
pub struct Catalog {
    /// Discovery as served: recorded or built-in, plus every resource file of the bundle.
    pub discovery: Discovery,
    resources: HashMap<Key, Arc<Resource>>,
}

impl Catalog {
    /// Builds the catalog of the bundle at `root`, indexing every resource file.
    pub fn build(root: &Path, manifest: &Manifest) -> Result<Catalog, ServeError> {
        let files: Vec<(Key, String, u64)> = manifest
            .entries
            .iter()
            .filter_map(|e| {
                let (g, v, r) = layout::parse_resource_path(&e.path)?;
                Some(((g, v, r), e.path.clone(), e.size))
            })
            .collect();
        let mut indexes = index_all(root, &files)?;
        let recorded = manifest.entries.iter().any(|e| e.path == layout::DISCOVERY);
        let mut discovery = if recorded {
            let path = root.join(layout::DISCOVERY);
            let data = std::fs::read(&path)
                .map_err(|e| ServeError::new(format!("{}: {e}", layout::DISCOVERY)))?;
            serde_json::from_slice::<Discovery>(&data).map_err(|e| {
                ServeError::new(format!("{}: malformed discovery: {e}", layout::DISCOVERY))
            })?
        } else {
            let mut d = discovery::builtin();
            add_crd_resources(
                &mut d,
                indexes.iter().find(|(k, _)| is_crd_file(k)).map(|(_, i)| i),
            )?;
            d
        };
        for ((group, version, plural), index) in &indexes {
            if find(&discovery, group, version, plural).is_none() {
                discovery.add(group, version, inferred(plural, index));
            }
        }
        let gaps: HashMap<Key, Gap> = manifest
            .gaps
            .iter()
            .filter(|g| g.what == GapKind::Resource)
            .filter_map(|g| Some((gap_key(&g.location)?, g.clone())))
            .collect();
        let mut resources = HashMap::new();
        for gvr in discovery.resources() {
            if gvr.resource.is_subresource() {
                continue;
            }
            let key: Key = (
                gvr.group.to_string(),
                gvr.version.to_string(),
                gvr.resource.name.clone(),
            );
            let data = match indexes.remove(&key) {
                Some(index) => ResourceData::Indexed(index),
                None => match gaps.get(&key) {
                    Some(gap) => ResourceData::Gap(gap.clone()),
                    None => ResourceData::Empty,
                },
            };
            let resource = Resource {
                group: key.0.clone(),
                version: key.1.clone(),
                api: gvr.resource.clone(),
                data,
            };
            resources.insert(key, Arc::new(resource));
        }
        Ok(Catalog {
            discovery,
            resources,
        })
    }

    /// The resource `plural` of `group`/`version`.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.resources
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .cloned()
    }

    /// Every resource with a file, for diagnostics.
    pub fn resources(&self) -> impl Iterator<Item = &Arc<Resource>> {
        self.resources.values()
    }
}

fn find<'a>(d: &'a Discovery, group: &str, version: &str, name: &str) -> Option<&'a ApiResource> {
    d.resources()
        .find(|r| r.group == group && r.version == version && r.resource.name == name)
        .map(|r| r.resource)
}

fn is_crd_file(key: &Key) -> bool {
    key.0 == "apiextensions.k8s.io" && key.2 == "customresourcedefinitions"
}

/// Indexes the resource files, largest first, on a few threads.
fn index_all(
    root: &Path,
    files: &[(Key, String, u64)],
) -> Result<HashMap<Key, ResourceIndex>, ServeError> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].2));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(Key, ResourceIndex)>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<ServeError>> = Mutex::new(None);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(n) else { break };
                    let (key, rel, _) = &files[i];
                    match ResourceIndex::build(&root.join(rel), rel) {
                        Ok(index) => results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((key.clone(), index)),
                        Err(e) => {
                            first_error
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(ServeError::new(e.to_string()));
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .collect())
}

/// Adds the resources that the bundle's CRDs define (used when no discovery was recorded).
fn add_crd_resources(d: &mut Discovery, crds: Option<&ResourceIndex>) -> Result<(), ServeError> {
    let Some(crds) = crds else { return Ok(()) };
    for i in 0..crds.len() {
        let bytes = crds
            .read(i)
            .map_err(|e| ServeError::new(format!("reading CRDs: {e}")))?;
        if let Ok(crd) = serde_json::from_slice::<Value>(&bytes) {
            d.add_crd(&crd, ktriage_schema::discovery::READ_VERBS);
        }
    }
    Ok(())
}

/// A discovery entry for a resource file discovery does not know, from its objects.
fn inferred(plural: &str, index: &ResourceIndex) -> ApiResource {
    let kind = match index.first_type() {
        Some((_, kind)) => kind.to_string(),
        None => {
            let singular = plural.strip_suffix('s').unwrap_or(plural);
            let mut chars = singular.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    };
    ApiResource {
        name: plural.to_string(),
        singular_name: kind.to_lowercase(),
        namespaced: index.any_namespaced(),
        kind,
        verbs: ["get", "list", "watch"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        short_names: Vec::new(),
        categories: Vec::new(),
    }
}

/// A gap location (`apps/v1/deployments`, `v1/pods`, `core/v1/pods`) as a resource key.
fn gap_key(location: &str) -> Option<Key> {
    let parts: Vec<&str> = location.split('/').collect();
    match parts.as_slice() {
        [version, plural] => Some((String::new(), version.to_string(), plural.to_string())),
        [group, version, plural] => {
            let group = if *group == layout::CORE_GROUP_DIR {
                ""
            } else {
                group
            };
            Some((group.to_string(), version.to_string(), plural.to_string()))
        }
        _ => None,
    }
}

/// The HTTP code and reason a gap is reported with.
pub fn gap_code(reason: GapReason) -> u16 {
    match reason {
        GapReason::Forbidden => 403,
        GapReason::NotFound => 404,
        GapReason::Timeout => 504,
        _ => 503,
    }
}
