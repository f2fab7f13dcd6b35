//! Recorded API discovery (`cluster/discovery.json`): which groups, versions and resources a
//! cluster served, CRDs included. The collector writes it; `ktriage serve` replays it; the
//! analyzer loads it into the `api_resources` table.
//!
//! Resource entries use the field names of Kubernetes' `APIResource`, so they can be served
//! back as they are.

use serde::{Deserialize, Serialize};

/// Everything the cluster's discovery endpoints said.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Discovery {
    /// API groups in server order; the core group has the empty name.
    pub groups: Vec<DiscoveryGroup>,
}

/// One API group.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DiscoveryGroup {
    /// Group name, empty for core.
    pub name: String,
    /// The version the server prefers.
    pub preferred_version: String,
    /// Served versions, each with its resources.
    pub versions: Vec<DiscoveryVersion>,
}

/// One group version and its resources.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DiscoveryVersion {
    /// Version name, e.g. `v1`.
    pub version: String,
    /// Resources and subresources (`pods/log`) as served.
    pub resources: Vec<ApiResource>,
}

/// One resource, as in Kubernetes' `APIResource`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ApiResource {
    /// Plural name, or `plural/subresource`.
    pub name: String,
    /// Singular name.
    #[serde(default)]
    pub singular_name: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Kind of the objects.
    pub kind: String,
    /// Verbs the server supports.
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Short names (`po`, `deploy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
    /// Categories (`all`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

impl ApiResource {
    /// Whether this entry is a subresource such as `pods/log`.
    pub fn is_subresource(&self) -> bool {
        self.name.contains('/')
    }

    /// Whether objects of this resource can be listed.
    pub fn is_listable(&self) -> bool {
        !self.is_subresource() && self.verbs.iter().any(|v| v == "list")
    }
}

/// A resource with its group and version, as used to address it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupVersionResource<'a> {
    /// Group name, empty for core.
    pub group: &'a str,
    /// Version.
    pub version: &'a str,
    /// The resource.
    pub resource: &'a ApiResource,
}

impl Discovery {
    /// Every resource of every version, subresources included.
    pub fn resources(&self) -> impl Iterator<Item = GroupVersionResource<'_>> {
        self.groups.iter().flat_map(|g| {
            g.versions.iter().flat_map(move |v| {
                v.resources.iter().map(move |r| GroupVersionResource {
                    group: &g.name,
                    version: &v.version,
                    resource: r,
                })
            })
        })
    }

    /// Finds the resource serving `kind` in `group`/`version`.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<GroupVersionResource<'_>> {
        let (group, version) = split_api_version(api_version);
        self.resources().find(|r| {
            r.group == group
                && r.version == version
                && r.resource.kind == kind
                && !r.resource.is_subresource()
        })
    }

    /// Adds a resource, creating its group and version when missing. Keeps existing entries.
    pub fn add(&mut self, group: &str, version: &str, resource: ApiResource) {
        let g = match self.groups.iter().position(|g| g.name == group) {
            Some(i) => &mut self.groups[i],
            None => {
                self.groups.push(DiscoveryGroup {
                    name: group.to_string(),
                    preferred_version: version.to_string(),
                    versions: Vec::new(),
                });
                self.groups.last_mut().expect("just pushed")
            }
        };
        let v = match g.versions.iter().position(|v| v.version == version) {
            Some(i) => &mut g.versions[i],
            None => {
                g.versions.push(DiscoveryVersion {
                    version: version.to_string(),
                    resources: Vec::new(),
                });
                g.versions.last_mut().expect("just pushed")
            }
        };
        if !v.resources.iter().any(|r| r.name == resource.name) {
            v.resources.push(resource);
        }
    }
}

impl Discovery {
    /// Adds the resources a `CustomResourceDefinition` object defines, one per served
    /// version, with `verbs`. Returns false (and adds nothing) when the object lacks a group,
    /// plural or kind.
    pub fn add_crd(&mut self, crd: &serde_json::Value, verbs: &[&str]) -> bool {
        let spec = &crd["spec"];
        let names = &spec["names"];
        let (Some(group), Some(plural), Some(kind)) = (
            spec["group"].as_str(),
            names["plural"].as_str(),
            names["kind"].as_str(),
        ) else {
            return false;
        };
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let resource = ApiResource {
            name: plural.to_string(),
            singular_name: names["singular"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| kind.to_lowercase()),
            namespaced: spec["scope"].as_str() != Some("Cluster"),
            kind: kind.to_string(),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
        };
        // apiextensions v1 lists versions; v1beta1 CRDs may only name one.
        let mut versions: Vec<&str> = spec["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["served"].as_bool() != Some(false))
            .filter_map(|v| v["name"].as_str())
            .collect();
        if versions.is_empty() {
            versions.extend(spec["version"].as_str());
        }
        for version in versions {
            self.add(group, version, resource.clone());
        }
        true
    }
}

/// Splits `apps/v1` into `("apps", "v1")` and `v1` into `("", "v1")`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

pub const READ_VERBS: &[&str] = &["get", "list", "watch"];
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// (group, version, plural, singular, kind, namespaced, short names, in category `all`)
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    bool,
);

/// The built-in resources of a current Kubernetes release that a bundle commonly holds.
/// Used when a source (a hand-written fixture, the generator) has no recorded discovery.
const BUILTINS: &[Builtin] = &[
    ("", "v1", "pods", "pod", "Pod", true, &["po"], true),
    ("", "v1", "nodes", "node", "Node", false, &["no"], false),
    (
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
        false,
    ),
    (
        "",
        "v1",
        "services",
        "service",
        "Service",
        true,
        &["svc"],
        true,
    ),
    (
        "",
        "v1",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
        false,
    ),
    ("", "v1", "events", "event", "Event", true, &["ev"], false),
    (
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
        false,
    ),
    ("", "v1", "secrets", "secret", "Secret", true, &[], false),
    (
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        &["sa"],
        false,
    ),
    (
        "",
        "v1",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        &["pv"],
        false,
    ),
    (
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
        false,
    ),
    (
        "",
        "v1",
        "replicationcontrollers",
        "replicationcontroller",
        "ReplicationController",
        true,
        &["rc"],
        true,
    ),
    (
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
        &["quota"],
        false,
    ),
    (
        "",
        "v1",
        "limitranges",
        "limitrange",
        "LimitRange",
        true,
        &["limits"],
        false,
    ),
    (
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
        true,
    ),
    (
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
        true,
    ),
    (
        "apps",
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
        true,
    ),
    (
        "apps",
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
        true,
    ),
    (
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
        &[],
        false,
    ),
    ("batch", "v1", "jobs", "job", "Job", true, &[], true),
    (
        "batch",
        "v1",
        "cronjobs",
        "cronjob",
        "CronJob",
        true,
        &["cj"],
        true,
    ),
    (
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
        &["hpa"],
        true,
    ),
    (
        "policy",
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        true,
        &["pdb"],
        false,
    ),
    (
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        &["ing"],
        false,
    ),
    (
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
        &["netpol"],
        false,
    ),
    (
        "networking.k8s.io",
        "v1",
        "ingressclasses",
        "ingressclass",
        "IngressClass",
        false,
        &[],
        false,
    ),
    (
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
        &[],
        false,
    ),
    (
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        false,
        &["sc"],
        false,
    ),
    (
        "storage.k8s.io",
        "v1",
        "csidrivers",
        "csidriver",
        "CSIDriver",
        false,
        &[],
        false,
    ),
    (
        "storage.k8s.io",
        "v1",
        "csinodes",
        "csinode",
        "CSINode",
        false,
        &[],
        false,
    ),
    (
        "storage.k8s.io",
        "v1",
        "volumeattachments",
        "volumeattachment",
        "VolumeAttachment",
        false,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        true,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
        &[],
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        false,
    ),
    (
        "apiregistration.k8s.io",
        "v1",
        "apiservices",
        "apiservice",
        "APIService",
        false,
        &[],
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        "ValidatingWebhookConfiguration",
        false,
        &[],
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration",
        false,
        &[],
        false,
    ),
    (
        "certificates.k8s.io",
        "v1",
        "certificatesigningrequests",
        "certificatesigningrequest",
        "CertificateSigningRequest",
        false,
        &["csr"],
        false,
    ),
    (
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
        &[],
        false,
    ),
    (
        "scheduling.k8s.io",
        "v1",
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        false,
        &["pc"],
        false,
    ),
    (
        "node.k8s.io",
        "v1",
        "runtimeclasses",
        "runtimeclass",
        "RuntimeClass",
        false,
        &[],
        false,
    ),
    (
        "events.k8s.io",
        "v1",
        "events",
        "event",
        "Event",
        true,
        &["ev"],
        false,
    ),
];

/// Discovery of the built-in resources in [`BUILTINS`], with full verbs and the usual
/// subresources (`pods/log`, `nodes/proxy`).
pub fn builtin() -> Discovery {
    let mut d = Discovery::default();
    for &(group, version, plural, singular, kind, namespaced, short, all) in BUILTINS {
        d.add(
            group,
            version,
            ApiResource {
                name: plural.into(),
                singular_name: singular.into(),
                namespaced,
                kind: kind.into(),
                verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
                short_names: short.iter().map(|s| s.to_string()).collect(),
                categories: if all { vec!["all".into()] } else { vec![] },
            },
        );
    }
    d.add("", "v1", subresource("pods/log", "Pod", true, &["get"]));
    d.add(
        "",
        "v1",
        subresource("pods/status", "Pod", true, READ_VERBS),
    );
    d.add(
        "",
        "v1",
        subresource("nodes/proxy", "NodeProxyOptions", false, &["get"]),
    );
    d.add(
        "",
        "v1",
        subresource("nodes/status", "Node", false, READ_VERBS),
    );
    d
}

fn subresource(name: &str, kind: &str, namespaced: bool, verbs: &[&str]) -> ApiResource {
    ApiResource {
        name: name.into(),
        namespaced,
        kind: kind.into(),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_finds_kinds_and_marks_subresources() {
        let d = builtin();
        let r = d.find_kind("apps/v1", "Deployment").expect("deployments");
        assert_eq!(r.resource.name, "deployments");
        assert!(r.resource.namespaced);
        let r = d.find_kind("v1", "Node").expect("nodes");
        assert!(!r.resource.namespaced);
        assert!(r.resource.is_listable());
        let log = d
            .resources()
            .find(|r| r.resource.name == "pods/log")
            .expect("pods/log");
        assert!(!log.resource.is_listable());
        assert!(d.find_kind("apps/v1", "Pod").is_none());
    }

    #[test]
    fn add_keeps_first_entry() {
        let mut d = Discovery::default();
        d.add(
            "x.io",
            "v1",
            subresource("things", "Thing", true, &["list"]),
        );
        d.add(
            "x.io",
            "v1",
            subresource("things", "Other", true, &["list"]),
        );
        assert_eq!(d.resources().count(), 1);
        assert_eq!(d.groups[0].preferred_version, "v1");
    }
}
