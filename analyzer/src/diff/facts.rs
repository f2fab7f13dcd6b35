//! The facts a diff compares: which objects exist, and per object the fields that matter when
//! something broke or was fixed — images, replicas, resources, node versions and conditions,
//! ConfigMap keys (values by hash only), the kubelet configuration, host files (by checksum)
//! and container restart counts. Nothing that changes on its own (resourceVersion,
//! managedFields, heartbeats, timestamps) is read, so it cannot show up as a change.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use duckdb::Connection;
use ktriage_schema::reader::OpenBundle;
use serde::Serialize;

/// An object by kind, namespace (empty when cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectKey {
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// How a field's values may be compared and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    /// Compared and shown.
    Plain,
    /// Compared by a hash; the value is never shown (ConfigMap values, host file contents).
    Hidden,
    /// A count where only growth is news (container restarts); absent means 0.
    Counter,
}

/// One field's value on one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// The value (a hash for [`FactKind::Hidden`]).
    pub value: String,
    /// How it compares.
    pub kind: FactKind,
}

/// Everything one side contributes to the object comparison.
#[derive(Debug, Default)]
pub struct Facts {
    /// Every object (events aside).
    pub present: BTreeSet<ObjectKey>,
    /// Per object, field → value.
    pub fields: BTreeMap<ObjectKey, BTreeMap<String, Fact>>,
}

impl Facts {
    fn insert(&mut self, key: ObjectKey, field: String, fact: Fact) {
        self.fields.entry(key).or_default().insert(field, fact);
    }
}

/// Objects that exist. Events come and go on their own; they are the timeline's business.
const PRESENT: &str = "
SELECT kind, namespace, name FROM objects
WHERE kind IS NOT NULL AND name IS NOT NULL AND kind <> 'Event'";

/// `(kind, namespace, name, field, value, how)` of the fields that matter. `how`: `plain`,
/// `hidden` (a hash, never shown) or `counter` (only growth counts; rows of 0 are left out).
/// ReplicaSets are left to their Deployment (a rollout makes a new one by design), and the
/// pods of a collected controller to it, except for their restart counts.
const FIELDS: &str = r#"
WITH wc AS (
    SELECT kind, namespace, workload AS name,
        CASE WHEN container_type = 'init' THEN 'initContainers' ELSE 'containers' END || '[' || name || ']' AS c,
        image, requests, limits
    FROM workload_containers WHERE kind <> 'ReplicaSet'
),
standalone AS (
    -- Pods no collected controller stands for: static, bare, or of an operator's resource.
    SELECT c.namespace, c.pod AS name,
        CASE WHEN c.container_type = 'init' THEN 'initContainers'
             WHEN c.container_type = 'ephemeral' THEN 'ephemeralContainers' ELSE 'containers' END || '[' || c.name || ']' AS c,
        c.image, c.requests, c.limits
    FROM containers c JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    WHERE p.owner_kind IS NULL OR p.owner_kind = 'Node'
       OR NOT EXISTS (SELECT 1 FROM workloads w WHERE w.bundle_id = p.bundle_id AND w.kind = p.owner_kind
                      AND w.namespace = p.namespace AND w.name = p.owner_name)
),
specs AS (
    SELECT kind, namespace, name, c, image, requests, limits FROM wc
    UNION ALL
    SELECT 'Pod', namespace, name, c, image, requests, limits FROM standalone
)
SELECT kind, namespace, name, c || '.image', image, 'plain' FROM specs WHERE image IS NOT NULL
UNION ALL
SELECT kind, namespace, name, c || '.resources.requests.' || e.key, e.value, 'plain'
FROM (SELECT kind, namespace, name, c, unnest(map_entries(requests)) AS e FROM specs WHERE requests IS NOT NULL)
UNION ALL
SELECT kind, namespace, name, c || '.resources.limits.' || e.key, e.value, 'plain'
FROM (SELECT kind, namespace, name, c, unnest(map_entries(limits)) AS e FROM specs WHERE limits IS NOT NULL)
UNION ALL
SELECT kind, namespace, name, 'spec.replicas', CAST(desired AS VARCHAR), 'plain'
FROM workloads WHERE kind IN ('Deployment', 'StatefulSet') AND desired IS NOT NULL
UNION ALL
-- A pod deleted and created again under the same name (a StatefulSet's) starts its restart
-- counts afresh: the uid tells the comparison not to read that as a change of count.
SELECT 'Pod', namespace, name, 'metadata.uid', uid, 'plain' FROM pods WHERE uid IS NOT NULL
UNION ALL
SELECT 'Pod', namespace, pod,
    CASE WHEN container_type = 'init' THEN 'initContainers' ELSE 'containers' END || '[' || name || '].restartCount',
    CAST(restart_count AS VARCHAR), 'counter'
FROM containers WHERE restart_count > 0
UNION ALL
SELECT 'Node', '', name, 'status.nodeInfo.kubeletVersion', kubelet_version, 'plain' FROM nodes WHERE kubelet_version IS NOT NULL
UNION ALL
SELECT 'Node', '', name, 'status.nodeInfo.kernelVersion', kernel_version, 'plain' FROM nodes WHERE kernel_version IS NOT NULL
UNION ALL
SELECT 'Node', '', name, 'status.nodeInfo.containerRuntimeVersion', container_runtime_version, 'plain' FROM nodes WHERE container_runtime_version IS NOT NULL
UNION ALL
SELECT 'Node', '', name, 'status.nodeInfo.osImage', os_image, 'plain' FROM nodes WHERE os_image IS NOT NULL
UNION ALL
SELECT 'Node', '', name, 'spec.unschedulable', CAST(unschedulable AS VARCHAR), 'plain' FROM nodes
UNION ALL
SELECT 'Node', '', node, 'status.conditions[' || type || ']', status, 'plain' FROM node_conditions
WHERE type IS NOT NULL AND status IS NOT NULL
UNION ALL
SELECT 'ConfigMap', namespace, name, 'data[' || e.key || ']', sha256(coalesce(e.value, '')), 'hidden'
FROM (SELECT namespace, name, unnest(map_entries(from_json(doc, '{"data":"MAP(VARCHAR, VARCHAR)"}').data)) AS e
      FROM objects WHERE api_group = '' AND resource = 'configmaps')
UNION ALL
SELECT 'ConfigMap', namespace, name, 'binaryData[' || e.key || ']', sha256(coalesce(e.value, '')), 'hidden'
FROM (SELECT namespace, name, unnest(map_entries(from_json(doc, '{"binaryData":"MAP(VARCHAR, VARCHAR)"}').binaryData)) AS e
      FROM objects WHERE api_group = '' AND resource = 'configmaps')
"#;

/// Kubelet configuration per node and source, flattened to fields in Rust: DuckDB has no
/// table function that walks arbitrary JSON.
const KUBELET: &str = "
SELECT node, source, CAST(config AS VARCHAR) FROM kubelet_configs
WHERE node IS NOT NULL AND config IS NOT NULL";

/// Reads one side's facts from its loaded case.
pub fn read(conn: &Connection, bundles: &[OpenBundle]) -> Result<Facts> {
    let mut facts = Facts::default();
    let mut stmt = conn.prepare(PRESENT)?;
    let rows = stmt.query_map([], |r| {
        Ok(ObjectKey {
            kind: r.get(0)?,
            namespace: r.get(1)?,
            name: r.get(2)?,
        })
    })?;
    for key in rows {
        facts.present.insert(key?);
    }
    // A stranger's documents may leave any part of a row NULL (a container without a name,
    // a limit of null): such a field names nothing that can be compared.
    let mut stmt = conn
        .prepare(&format!(
            "SELECT * FROM ({FIELDS}) f(kind, namespace, name, field, value, how)
             WHERE kind IS NOT NULL AND namespace IS NOT NULL AND name IS NOT NULL
               AND field IS NOT NULL AND value IS NOT NULL"
        ))
        .context("reading the fields to compare")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let key = ObjectKey {
            kind: r.get(0)?,
            namespace: r.get(1)?,
            name: r.get(2)?,
        };
        let how: String = r.get(5)?;
        let kind = match how.as_str() {
            "hidden" => FactKind::Hidden,
            "counter" => FactKind::Counter,
            _ => FactKind::Plain,
        };
        facts.insert(
            key,
            r.get(3)?,
            Fact {
                value: r.get(4)?,
                kind,
            },
        );
    }
    read_kubelet_configs(conn, &mut facts)?;
    read_host_files(conn, bundles, &mut facts)?;
    Ok(facts)
}

fn node_key(node: &str) -> ObjectKey {
    ObjectKey {
        kind: "Node".into(),
        namespace: String::new(),
        name: node.to_string(),
    }
}

fn read_kubelet_configs(conn: &Connection, facts: &mut Facts) -> Result<()> {
    let mut stmt = conn.prepare(KUBELET)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (node, source, config) = row?;
        let Ok(config) = serde_json::from_str::<serde_json::Value>(&config) else {
            continue;
        };
        let prefix = match source.as_str() {
            "configz" => "kubelet configz",
            _ => "kubelet config.yaml",
        };
        let mut leaves = Vec::new();
        flatten("", &config, &mut leaves);
        for (path, value) in leaves {
            facts.insert(
                node_key(&node),
                format!("{prefix}: {path}"),
                Fact {
                    value,
                    kind: FactKind::Plain,
                },
            );
        }
    }
    Ok(())
}

/// JSON leaves as `a.b[0].c` → value (strings unquoted, everything else as JSON).
pub fn flatten(path: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((path.to_string(), s.clone())),
        other => out.push((path.to_string(), other.to_string())),
    }
}

/// Host files by the checksum the manifest records: a changed file shows without its
/// content being read again.
fn read_host_files(conn: &Connection, bundles: &[OpenBundle], facts: &mut Facts) -> Result<()> {
    let mut stmt = conn.prepare("SELECT bundle_id, node FROM host_nodes WHERE node IS NOT NULL")?;
    let nodes: HashMap<String, String> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for bundle in bundles {
        let Some(node) = nodes.get(&bundle.manifest.bundle_id) else {
            continue;
        };
        for entry in &bundle.manifest.entries {
            if let Some(path) = entry.path.strip_prefix("host/files") {
                facts.insert(
                    node_key(node),
                    format!("host file {path}"),
                    Fact {
                        value: entry.sha256.clone(),
                        kind: FactKind::Hidden,
                    },
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_json_to_leaf_paths() {
        let v = serde_json::json!({"clusterDNS": ["10.96.0.10"], "evictionHard": {"memory.available": "100Mi"}, "maxPods": 110, "empty": {}});
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        out.sort();
        assert_eq!(
            out,
            vec![
                ("clusterDNS[0]".to_string(), "10.96.0.10".to_string()),
                ("empty".to_string(), "{}".to_string()),
                (
                    "evictionHard.memory.available".to_string(),
                    "100Mi".to_string()
                ),
                ("maxPods".to_string(), "110".to_string()),
            ]
        );
    }
}
