//! Server-side `Table` output (`Accept: ...;as=Table`), as `kubectl get` asks for it. The
//! per-kind printers follow the API server's own column sets and cell logic; every other kind
//! gets Name and Age, custom resources their CRD's printer columns.
//!
//! Ages are relative to the bundle's collection time, so a post-mortem shows them as they were.

mod apps;
mod core;
mod custom;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub use custom::CrdColumns;

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header, e.g. `Name`.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub kind: String,
    /// `name` for the name column, else empty.
    pub format: String,
    /// 0 shown always, 1 only with `-o wide`.
    pub priority: u8,
    /// Column description.
    pub description: String,
}

impl Column {
    /// A column shown always.
    pub fn new(name: &str, kind: &str) -> Column {
        Column {
            name: name.into(),
            kind: kind.into(),
            format: String::new(),
            priority: 0,
            description: String::new(),
        }
    }

    /// A column shown only with `-o wide`.
    pub fn wide(name: &str, kind: &str) -> Column {
        Column {
            priority: 1,
            ..Column::new(name, kind)
        }
    }

    /// The `Name` column.
    pub fn name() -> Column {
        Column {
            format: "name".into(),
            description: "Name must be unique within a namespace.".into(),
            ..Column::new("Name", "string")
        }
    }

    /// The `Age` column.
    pub fn age() -> Column {
        Column {
            description: "CreationTimestamp is a timestamp representing the server time when this object was created."
                .into(),
            ..Column::new("Age", "string")
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// Turns objects of one kind into table rows.
pub trait Printer: Send + Sync {
    /// The column definitions, wide ones included.
    fn columns(&self) -> Vec<Column>;
    /// The cells of one object, one per column.
    fn cells(&self, object: &Value, now: DateTime<Utc>) -> Vec<Value>;
    /// Row conditions (`Completed` for finished pods), when any.
    fn conditions(&self, _object: &Value) -> Option<Value> {
        None
    }
}

/// What a row carries as its `object` (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` parameter.
    pub fn parse(value: Option<&str>) -> Result<IncludeObject, String> {
        match value {
            None | Some("") | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(other) => Err(format!(
                "unsupported includeObject {other:?}: must be None, Metadata or Object"
            )),
        }
    }
}

/// The start of a Table document, up to the opening of `rows`.
pub fn head(
    table_version: &str,
    resource_version: &str,
    next: Option<&str>,
    columns: &[Column],
) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(next) = next {
        metadata["continue"] = json!(next);
    }
    json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{table_version}"),
        "metadata": metadata,
        "columnDefinitions": columns.iter().map(Column::to_json).collect::<Vec<_>>(),
    })
}

/// One row for `object`.
pub fn row(
    printer: &dyn Printer,
    object: Value,
    now: DateTime<Utc>,
    include: IncludeObject,
    table_version: &str,
) -> Value {
    let mut row = json!({ "cells": printer.cells(&object, now) });
    if let Some(conditions) = printer.conditions(&object) {
        row["conditions"] = conditions;
    }
    match include {
        IncludeObject::None => {}
        IncludeObject::Object => row["object"] = object,
        IncludeObject::Metadata => {
            row["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": format!("meta.k8s.io/{table_version}"),
                "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
            })
        }
    }
    row
}

/// The printer for objects of `kind` in `group`; `crd` gives custom resources their columns.
pub fn printer_for(group: &str, kind: &str, crd: Option<CrdColumns>) -> Box<dyn Printer> {
    match (group, kind) {
        ("", "Pod") => Box::new(core::Pods),
        ("", "Node") => Box::new(core::Nodes),
        ("", "Namespace") => Box::new(core::Namespaces),
        ("", "Service") => Box::new(core::Services),
        ("", "Event") | ("events.k8s.io", "Event") => Box::new(core::Events),
        ("apps", "Deployment") => Box::new(apps::Deployments),
        ("apps", "ReplicaSet") => Box::new(apps::ReplicaSets),
        ("apps", "StatefulSet") => Box::new(apps::StatefulSets),
        ("apps", "DaemonSet") => Box::new(apps::DaemonSets),
        _ => match crd {
            Some(crd) => Box::new(crd),
            None => Box::new(NameAge),
        },
    }
}

/// Name and Age: the default for kinds without their own printer.
pub struct NameAge;

impl Printer for NameAge {
    fn columns(&self) -> Vec<Column> {
        vec![Column::name(), Column::age()]
    }
    fn cells(&self, o: &Value, now: DateTime<Utc>) -> Vec<Value> {
        vec![json!(text(o, "metadata.name")), json!(age(o, now))]
    }
}

/// The string at dotted `path`, empty when absent.
pub fn text<'a>(o: &'a Value, path: &str) -> &'a str {
    at(o, path).and_then(Value::as_str).unwrap_or("")
}

/// The integer at dotted `path`, 0 when absent.
pub fn int(o: &Value, path: &str) -> i64 {
    at(o, path).and_then(Value::as_i64).unwrap_or(0)
}

/// The array at dotted `path`, empty when absent.
pub fn list<'a>(o: &'a Value, path: &str) -> &'a [Value] {
    at(o, path)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The value at dotted `path`.
pub fn at<'a>(o: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(o, |v, k| v.get(k))
}

/// `metadata.creationTimestamp` as an age at `now`.
pub fn age(o: &Value, now: DateTime<Utc>) -> String {
    since(text(o, "metadata.creationTimestamp"), now)
}

/// How long before `now` the RFC 3339 `timestamp` was, as kubectl prints it; `<unknown>`
/// when absent or unparsable.
pub fn since(timestamp: &str, now: DateTime<Utc>) -> String {
    match DateTime::parse_from_rfc3339(timestamp) {
        Ok(t) => human_duration(now.signed_duration_since(t.with_timezone(&Utc))),
        Err(_) => "<unknown>".into(),
    }
}

/// Kubernetes' `duration.HumanDuration`.
pub fn human_duration(d: chrono::TimeDelta) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `k=v,k2=v2` sorted by key, `<none>` when empty (`labels.FormatLabels`).
pub fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        return "<none>".into();
    }
    pairs.sort();
    pairs.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn human_durations_match_kubernetes() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (185, "3m5s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60 * 5, "3h5m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (50 * 3600, "2d2h"),
            (8 * 86400, "8d"),
            (800 * 86400, "2y70d"),
            (365 * 9 * 86400, "9y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(TimeDelta::seconds(secs)), want, "{secs}s");
        }
    }

    #[test]
    fn ages_are_relative_to_the_given_time() {
        let now = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let o = json!({"metadata":{"creationTimestamp":"2024-04-30T12:00:00Z"}});
        assert_eq!(age(&o, now), "24h");
        assert_eq!(age(&json!({}), now), "<unknown>");
    }
}
