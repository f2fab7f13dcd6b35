//! API discovery, group by group. kube's one-shot discovery aborts on the first group that
//! fails (an aggregated APIService answering 503 is common on broken clusters); here each
//! group version is asked on its own, a failure becomes a gap, and the rest is recorded into
//! the bundle so `ktriage serve` can replay it.
//!
//! [`plan`] then picks what to list: every listable resource of each group's preferred
//! version, most useful first, so a collection cut short by its deadline has the essentials.

use futures::StreamExt;
use ktriage_schema::discovery::{ApiResource, Discovery, DiscoveryGroup, DiscoveryVersion};
use ktriage_schema::manifest::{Gap, GapKind};
use serde::Deserialize;

use crate::cluster::api::{Api, ApiError};
use crate::cluster::options::ResourceFilter;

/// What discovery found, and what it could not ask.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Groups with at least one version that answered.
    pub discovery: Discovery,
    /// Group versions (or lists of them) that failed.
    pub gaps: Vec<Gap>,
}

#[derive(Debug, Deserialize)]
struct CoreVersions {
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct GroupList {
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersion>,
    preferred_version: Option<GroupVersion>,
}

#[derive(Debug, Deserialize)]
struct GroupVersion {
    version: String,
}

#[derive(Debug, Deserialize)]
struct ResourceList {
    #[serde(default)]
    resources: Vec<ApiResource>,
}

/// Asks `/api`, `/apis` and every group version, `concurrency` at a time.
pub async fn discover(api: &Api, concurrency: usize) -> Discovered {
    let mut out = Discovered::default();
    let core_versions = match api.get_json("/api").await.and_then(decode::<CoreVersions>) {
        Ok(v) if !v.versions.is_empty() => v.versions,
        Ok(_) => vec!["v1".to_string()],
        Err(e) => {
            out.gaps.push(e.gap(GapKind::Discovery, "core", api.stop()));
            vec!["v1".to_string()]
        }
    };
    let mut groups: Vec<(String, String, Vec<String>)> = vec![(
        String::new(),
        core_versions[0].clone(),
        core_versions.clone(),
    )];
    match api.get_json("/apis").await.and_then(decode::<GroupList>) {
        Ok(list) => {
            for g in list.groups {
                let versions: Vec<String> = g.versions.into_iter().map(|v| v.version).collect();
                let preferred = g
                    .preferred_version
                    .map(|v| v.version)
                    .or_else(|| versions.first().cloned());
                if let Some(preferred) = preferred {
                    groups.push((g.name, preferred, versions));
                }
            }
        }
        Err(e) => out.gaps.push(e.gap(GapKind::Discovery, "apis", api.stop())),
    }

    let requests: Vec<(usize, String, String)> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, (group, _, versions))| {
            versions.iter().map(move |v| (i, group.clone(), v.clone()))
        })
        .collect();
    let answers: Vec<_> = futures::stream::iter(requests)
        .map(|(i, group, version)| async move {
            let path = if group.is_empty() {
                format!("/api/{version}")
            } else {
                format!("/apis/{group}/{version}")
            };
            let result = api.get_json(&path).await.and_then(decode::<ResourceList>);
            (i, group, version, result)
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;

    let mut versions_of: Vec<Vec<DiscoveryVersion>> = vec![Vec::new(); groups.len()];
    for (i, group, version, result) in answers {
        match result {
            Ok(list) => versions_of[i].push(DiscoveryVersion {
                version,
                resources: list.resources,
            }),
            Err(e) => out.gaps.push(e.gap(
                GapKind::Discovery,
                group_version(&group, &version),
                api.stop(),
            )),
        }
    }
    for ((name, preferred, _), versions) in groups.into_iter().zip(versions_of) {
        if !versions.is_empty() {
            out.discovery.groups.push(DiscoveryGroup {
                name,
                preferred_version: preferred,
                versions,
            });
        }
    }
    out
}

fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::Decode(e.to_string()))
}

/// `core/v1`, `apps/v1`: how group versions and resources are named in gaps.
pub fn group_version(group: &str, version: &str) -> String {
    let group = if group.is_empty() {
        ktriage_schema::layout::CORE_GROUP_DIR
    } else {
        group
    };
    format!("{group}/{version}")
}

/// One resource to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Group, empty for core.
    pub group: String,
    /// The version listed (the group's preferred one when it answered).
    pub version: String,
    /// The resource as discovered.
    pub resource: ApiResource,
}

impl Planned {
    /// `core/v1/pods`, as named in gaps.
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            group_version(&self.group, &self.version),
            self.resource.name
        )
    }

    /// `v1`, `apps/v1`: the `apiVersion` of the objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The list URL, optionally in one namespace.
    pub fn list_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.resource.name),
            None => format!("{base}/{}", self.resource.name),
        }
    }

    /// Whether this is the core resource `name`.
    pub fn is_core(&self, name: &str) -> bool {
        self.group.is_empty() && self.resource.name == name
    }
}

/// Core resources listed first, in this order: what a triage needs most.
const FIRST: &[&str] = &["nodes", "namespaces", "pods", "events"];

/// Every listable resource of each group's preferred version that the filter keeps, most
/// useful first: core (nodes, namespaces, pods, events first), then built-in groups, then
/// custom resources. `events.k8s.io` events are the core events again and are skipped when
/// those are listed.
pub fn plan(discovery: &Discovery, filter: &ResourceFilter) -> Vec<Planned> {
    let mut planned: Vec<Planned> = Vec::new();
    for group in &discovery.groups {
        let Some(version) = group
            .versions
            .iter()
            .find(|v| v.version == group.preferred_version)
            .or_else(|| group.versions.first())
        else {
            continue;
        };
        for resource in &version.resources {
            if resource.is_listable() && filter.wants(&group.name, resource) {
                planned.push(Planned {
                    group: group.name.clone(),
                    version: version.version.clone(),
                    resource: resource.clone(),
                });
            }
        }
    }
    if planned.iter().any(|p| p.is_core("events")) {
        planned.retain(|p| !(p.group == "events.k8s.io" && p.resource.name == "events"));
    }
    planned.sort_by_key(rank);
    planned
}

fn rank(p: &Planned) -> (u8, usize) {
    if p.group.is_empty() {
        return match FIRST.iter().position(|n| *n == p.resource.name) {
            Some(i) => (0, i),
            None => (1, 0),
        };
    }
    let builtin = !p.group.contains('.') || p.group.ends_with(".k8s.io");
    if builtin { (2, 0) } else { (3, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_preferred_versions_listable_only_core_first() {
        let mut d = ktriage_schema::discovery::builtin();
        let cr = |name: &str, kind: &str| ApiResource {
            name: name.into(),
            namespaced: true,
            kind: kind.into(),
            verbs: vec!["list".into(), "get".into()],
            ..Default::default()
        };
        d.add("example.com", "v1", cr("widgets", "Widget"));
        d.add("example.com", "v1beta1", cr("widgets", "Widget"));
        d.add("example.com", "v1beta1", cr("oldthings", "OldThing"));
        let plan = plan(&d, &ResourceFilter::default());
        let labels: Vec<String> = plan.iter().map(Planned::label).collect();
        assert_eq!(
            &labels[..4],
            [
                "core/v1/nodes",
                "core/v1/namespaces",
                "core/v1/pods",
                "core/v1/events"
            ]
        );
        assert!(labels.contains(&"example.com/v1/widgets".to_string()));
        assert!(
            !labels.iter().any(|l| l.contains("v1beta1")),
            "only the preferred version: {labels:?}"
        );
        assert!(!labels.iter().any(|l| l.contains("pods/log")));
        assert!(!labels.contains(&"events.k8s.io/v1/events".to_string()));
        assert_eq!(
            labels.last().map(String::as_str),
            Some("example.com/v1/widgets")
        );
        let deploy = plan
            .iter()
            .find(|p| p.resource.name == "deployments")
            .expect("deployments");
        assert_eq!(
            deploy.list_path(Some("ns")),
            "/apis/apps/v1/namespaces/ns/deployments"
        );
        assert_eq!(deploy.api_version(), "apps/v1");
        let pods = &plan[2];
        assert_eq!(pods.list_path(None), "/api/v1/pods");
    }

    #[test]
    fn filters_apply() {
        let d = ktriage_schema::discovery::builtin();
        let f = ResourceFilter::new(&["po".into(), "deploy".into()], &[]);
        let labels: Vec<String> = plan(&d, &f).iter().map(Planned::label).collect();
        assert_eq!(labels, vec!["core/v1/pods", "apps/v1/deployments"]);
    }
}
