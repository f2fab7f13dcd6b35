//! Printers of `apps` kinds: deployments, replica sets, stateful sets, daemon sets.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Column, Printer, age, at, format_labels, int, list, text};

/// `CONTAINERS`, `IMAGES` of a pod template.
fn containers(o: &Value) -> (String, String) {
    let cs = list(o, "spec.template.spec.containers");
    let names: Vec<&str> = cs.iter().map(|c| text(c, "name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| text(c, "image")).collect();
    (names.join(","), images.join(","))
}

/// A `LabelSelector` as text (`metav1.LabelSelectorAsSelector(...).String()`).
fn selector(o: &Value) -> String {
    let Some(sel) = at(o, "spec.selector") else {
        return String::new();
    };
    let mut parts: Vec<(String, String)> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))))
                .collect()
        })
        .unwrap_or_default();
    for e in list(sel, "matchExpressions") {
        let key = text(e, "key");
        let mut values: Vec<&str> = list(e, "values").iter().filter_map(Value::as_str).collect();
        values.sort();
        let part = match text(e, "operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<invalid>".into(),
        };
        parts.push((key.to_string(), part));
    }
    parts.sort();
    parts
        .into_iter()
        .map(|(_, p)| p)
        .collect::<Vec<_>>()
        .join(",")
}

fn wide_columns() -> [Column; 3] {
    [
        Column::wide("Containers", "string"),
        Column::wide("Images", "string"),
        Column::wide("Selector", "string"),
    ]
}

/// Deployments: NAME READY UP-TO-DATE AVAILABLE AGE.
pub struct Deployments;

impl Printer for Deployments {
    fn columns(&self) -> Vec<Column> {
        let mut c = vec![
            Column::name(),
            Column::new("Ready", "string"),
            Column::new("Up-to-date", "integer"),
            Column::new("Available", "integer"),
            Column::age(),
        ];
        c.extend(wide_columns());
        c
    }
    fn cells(&self, d: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let (names, images) = containers(d);
        vec![
            json!(text(d, "metadata.name")),
            json!(format!(
                "{}/{}",
                int(d, "status.readyReplicas"),
                int(d, "spec.replicas")
            )),
            json!(int(d, "status.updatedReplicas")),
            json!(int(d, "status.availableReplicas")),
            json!(age(d, now)),
            json!(names),
            json!(images),
            json!(selector(d)),
        ]
    }
}

/// Replica sets: NAME DESIRED CURRENT READY AGE.
pub struct ReplicaSets;

impl Printer for ReplicaSets {
    fn columns(&self) -> Vec<Column> {
        let mut c = vec![
            Column::name(),
            Column::new("Desired", "integer"),
            Column::new("Current", "integer"),
            Column::new("Ready", "integer"),
            Column::age(),
        ];
        c.extend(wide_columns());
        c
    }
    fn cells(&self, r: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let (names, images) = containers(r);
        vec![
            json!(text(r, "metadata.name")),
            json!(int(r, "spec.replicas")),
            json!(int(r, "status.replicas")),
            json!(int(r, "status.readyReplicas")),
            json!(age(r, now)),
            json!(names),
            json!(images),
            json!(selector(r)),
        ]
    }
}

/// Stateful sets: NAME READY AGE.
pub struct StatefulSets;

impl Printer for StatefulSets {
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name(),
            Column::new("Ready", "string"),
            Column::age(),
            Column::wide("Containers", "string"),
            Column::wide("Images", "string"),
        ]
    }
    fn cells(&self, s: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let (names, images) = containers(s);
        vec![
            json!(text(s, "metadata.name")),
            json!(format!(
                "{}/{}",
                int(s, "status.readyReplicas"),
                int(s, "spec.replicas")
            )),
            json!(age(s, now)),
            json!(names),
            json!(images),
        ]
    }
}

/// Daemon sets: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE.
pub struct DaemonSets;

impl Printer for DaemonSets {
    fn columns(&self) -> Vec<Column> {
        let mut c = vec![
            Column::name(),
            Column::new("Desired", "integer"),
            Column::new("Current", "integer"),
            Column::new("Ready", "integer"),
            Column::new("Up-to-date", "integer"),
            Column::new("Available", "integer"),
            Column::new("Node Selector", "string"),
            Column::age(),
        ];
        c.extend(wide_columns());
        c
    }
    fn cells(&self, d: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let (names, images) = containers(d);
        vec![
            json!(text(d, "metadata.name")),
            json!(int(d, "status.desiredNumberScheduled")),
            json!(int(d, "status.currentNumberScheduled")),
            json!(int(d, "status.numberReady")),
            json!(int(d, "status.updatedNumberScheduled")),
            json!(int(d, "status.numberAvailable")),
            json!(format_labels(at(d, "spec.template.spec.nodeSelector"))),
            json!(age(d, now)),
            json!(names),
            json!(images),
            json!(selector(d)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_cells() {
        let d = json!({"metadata":{"name":"web"},"spec":{"replicas":3,
            "selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]}]},
            "template":{"spec":{"containers":[{"name":"c1","image":"nginx:1"},{"name":"c2","image":"busybox"}]}}},
            "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}});
        let cells = Deployments.cells(&d, Utc::now());
        assert_eq!(cells[1], "2/3");
        assert_eq!(cells[2], 3);
        assert_eq!(cells[5], "c1,c2");
        assert_eq!(cells[6], "nginx:1,busybox");
        assert_eq!(cells[7], "app=web,tier in (a,b)");
        assert_eq!(cells.len(), Deployments.columns().len());
    }
}
