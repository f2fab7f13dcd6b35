//! Custom resources: the printer columns their CRD declares (`additionalPrinterColumns`), with
//! the JSONPath subset those columns use in practice: `.a.b`, `.a[0]`, `.a[*].b` and
//! `.a[?(@.type=="Ready")].status`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Column, Printer, age, list, since, text};

/// Printer columns of one version of a CRD.
#[derive(Debug, Clone)]
pub struct CrdColumns {
    columns: Vec<(Column, String)>,
}

impl CrdColumns {
    /// The columns `crd` declares for `version`; Age alone when it declares none.
    pub fn from_crd(crd: &Value, version: &str) -> CrdColumns {
        let versioned = list(crd, "spec.versions")
            .iter()
            .find(|v| text(v, "name") == version);
        let declared = versioned
            .and_then(|v| v.get("additionalPrinterColumns"))
            .or_else(|| crd.pointer("/spec/additionalPrinterColumns"))
            .and_then(Value::as_array);
        let columns = match declared {
            Some(cols) if !cols.is_empty() => cols
                .iter()
                .map(|c| {
                    let path = match text(c, "jsonPath") {
                        "" => text(c, "JSONPath"),
                        p => p,
                    };
                    let column = Column {
                        name: text(c, "name").to_string(),
                        kind: text(c, "type").to_string(),
                        format: text(c, "format").to_string(),
                        priority: c
                            .get("priority")
                            .and_then(Value::as_u64)
                            .unwrap_or(0)
                            .min(255) as u8,
                        description: text(c, "description").to_string(),
                    };
                    (column, path.to_string())
                })
                .collect(),
            _ => vec![(Column::age(), ".metadata.creationTimestamp".to_string())],
        };
        CrdColumns { columns }
    }
}

impl Printer for CrdColumns {
    fn columns(&self) -> Vec<Column> {
        let mut c = vec![Column::name()];
        c.extend(self.columns.iter().map(|(c, _)| {
            // Dates are turned into ages here, so kubectl gets text.
            if c.kind == "date" {
                Column {
                    kind: "string".into(),
                    ..c.clone()
                }
            } else {
                c.clone()
            }
        }));
        c
    }

    fn cells(&self, o: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let mut cells = vec![json!(text(o, "metadata.name"))];
        for (column, path) in &self.columns {
            let found = json_path(o, path);
            let cell = match (column.kind.as_str(), found.as_slice()) {
                (_, []) => Value::Null,
                ("date", _) if path == ".metadata.creationTimestamp" => json!(age(o, now)),
                ("date", [Value::String(t), ..]) => json!(since(t, now)),
                (_, [one]) => one.clone(),
                (_, many) => json!(many.iter().map(scalar_text).collect::<Vec<_>>().join(",")),
            };
            cells.push(cell);
        }
        cells
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Evaluates the JSONPath subset on `o`; every match, in order.
pub fn json_path(o: &Value, path: &str) -> Vec<Value> {
    let path = path
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_start_matches('$');
    let mut current = vec![o.clone()];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let Some(close) = after.find(']') else {
                return Vec::new();
            };
            let inner = &after[..close];
            rest = &after[close + 1..];
            current = current.iter().flat_map(|v| subscript(v, inner)).collect();
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            rest = &after[end..];
            if key.is_empty() {
                continue;
            }
            current = current.iter().filter_map(|v| v.get(key).cloned()).collect();
        } else {
            return Vec::new();
        }
    }
    current
}

fn subscript(v: &Value, inner: &str) -> Vec<Value> {
    let items = match v.as_array() {
        Some(a) => a,
        None => return Vec::new(),
    };
    if inner == "*" {
        return items.clone();
    }
    if let Ok(i) = inner.parse::<i64>() {
        let i = if i < 0 { items.len() as i64 + i } else { i };
        return usize::try_from(i)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .into_iter()
            .collect();
    }
    // ?(@.field=="value")
    let Some(expr) = inner.strip_prefix("?(@.").and_then(|e| e.strip_suffix(')')) else {
        return Vec::new();
    };
    let Some((field, value)) = expr.split_once("==") else {
        return Vec::new();
    };
    let value = value.trim().trim_matches(['"', '\'']);
    items
        .iter()
        .filter(|item| {
            json_path(item, &format!(".{}", field.trim()))
                .first()
                .map(scalar_text)
                .as_deref()
                == Some(value)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_path_subset() {
        let o = json!({"status":{"conditions":[{"type":"A","status":"False"},{"type":"Ready","status":"True"}],"n":3}});
        assert_eq!(
            json_path(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            vec![json!("True")]
        );
        assert_eq!(json_path(&o, "{.status.n}"), vec![json!(3)]);
        assert_eq!(
            json_path(&o, ".status.conditions[*].type"),
            vec![json!("A"), json!("Ready")]
        );
        assert_eq!(
            json_path(&o, ".status.conditions[-1].type"),
            vec![json!("Ready")]
        );
        assert!(json_path(&o, ".spec.x").is_empty());
    }

    #[test]
    fn crd_columns() {
        let crd = json!({"spec":{"versions":[{"name":"v1","additionalPrinterColumns":[
            {"name":"Size","type":"integer","jsonPath":".spec.size"},
            {"name":"Phase","type":"string","jsonPath":".status.phase","priority":1}]}]}});
        let p = CrdColumns::from_crd(&crd, "v1");
        let names: Vec<String> = p.columns().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["Name", "Size", "Phase"]);
        let cells = p.cells(
            &json!({"metadata":{"name":"w"},"spec":{"size":4}}),
            Utc::now(),
        );
        assert_eq!(cells, vec![json!("w"), json!(4), Value::Null]);
        let plain = CrdColumns::from_crd(&crd, "v2");
        assert_eq!(plain.columns().len(), 2);
    }
}
