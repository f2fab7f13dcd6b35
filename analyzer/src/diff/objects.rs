//! Objects added, removed and changed between two sides' facts.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::facts::{Fact, FactKind, Facts, ObjectKey};

/// The field that tells a re-created object (same name, new uid).
const UID: &str = "metadata.uid";

/// What happened to one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// The value differs.
    Changed,
    /// The field exists only in NEW.
    Added,
    /// The field exists only in OLD.
    Removed,
    /// A restart count that grew.
    Grew,
    /// The object was deleted and created again under the same name.
    Recreated,
}

/// One field that changed.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// Field path, e.g. `containers[app].image`.
    pub field: String,
    /// What happened.
    pub change: ChangeKind,
    /// Value in OLD; `null` when absent or hidden.
    pub old: Option<String>,
    /// Value in NEW; `null` when absent or hidden.
    pub new: Option<String>,
    /// The values are compared by hash and never shown (ConfigMap values, host files).
    pub hidden: bool,
}

/// An object whose fields changed.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectChange {
    /// Kind.
    pub kind: String,
    /// Namespace, empty when cluster-scoped.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its changed fields, by field path.
    pub changes: Vec<FieldChange>,
}

/// The object comparison.
#[derive(Debug, Default, Serialize)]
pub struct ObjectDiff {
    /// Objects only in NEW.
    pub added: Vec<ObjectKey>,
    /// Objects only in OLD.
    pub removed: Vec<ObjectKey>,
    /// Objects in both whose fields that matter changed.
    pub changed: Vec<ObjectChange>,
}

/// Compares the two sides' facts.
pub fn compare(old: &Facts, new: &Facts) -> ObjectDiff {
    let added = new.present.difference(&old.present).cloned().collect();
    let removed = old.present.difference(&new.present).cloned().collect();
    let empty = BTreeMap::new();
    let mut changed = Vec::new();
    // Objects on both sides, and keys with facts but no object (a node bundle's host files
    // for a node absent from the cluster bundle) on both sides.
    let keys: BTreeSet<&ObjectKey> = old.fields.keys().chain(new.fields.keys()).collect();
    for key in keys {
        let on_both = |f: &Facts| f.present.contains(key) || f.fields.contains_key(key);
        if !(on_both(old) && on_both(new)) {
            continue;
        }
        let changes = compare_fields(
            old.fields.get(key).unwrap_or(&empty),
            new.fields.get(key).unwrap_or(&empty),
        );
        if !changes.is_empty() {
            changed.push(ObjectChange {
                kind: key.kind.clone(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                changes,
            });
        }
    }
    ObjectDiff {
        added,
        removed,
        changed,
    }
}

fn compare_fields(old: &BTreeMap<String, Fact>, new: &BTreeMap<String, Fact>) -> Vec<FieldChange> {
    let recreated = match (old.get(UID), new.get(UID)) {
        (Some(a), Some(b)) => a.value != b.value,
        _ => false,
    };
    let mut out = Vec::new();
    if recreated {
        out.push(FieldChange {
            field: UID.into(),
            change: ChangeKind::Recreated,
            old: old.get(UID).map(|f| f.value.clone()),
            new: new.get(UID).map(|f| f.value.clone()),
            hidden: false,
        });
    }
    let fields: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for field in fields {
        if field == UID {
            continue;
        }
        let (a, b) = (old.get(field), new.get(field));
        let kind = a.or(b).map_or(FactKind::Plain, |f| f.kind);
        let change = match kind {
            FactKind::Counter => {
                // A new instance counts from zero: its count says nothing about growth.
                if recreated {
                    continue;
                }
                let count =
                    |f: Option<&Fact>| f.and_then(|f| f.value.parse::<i64>().ok()).unwrap_or(0);
                if count(b) <= count(a) {
                    continue;
                }
                FieldChange {
                    field: field.clone(),
                    change: ChangeKind::Grew,
                    old: Some(count(a).to_string()),
                    new: Some(count(b).to_string()),
                    hidden: false,
                }
            }
            FactKind::Plain | FactKind::Hidden => {
                let change = match (a, b) {
                    (Some(a), Some(b)) if a.value == b.value => continue,
                    (Some(_), Some(_)) => ChangeKind::Changed,
                    (None, Some(_)) => ChangeKind::Added,
                    (Some(_), None) => ChangeKind::Removed,
                    (None, None) => continue,
                };
                let hidden = kind == FactKind::Hidden;
                let shown = |f: Option<&Fact>| f.filter(|_| !hidden).map(|f| f.value.clone());
                FieldChange {
                    field: field.clone(),
                    change,
                    old: shown(a),
                    new: shown(b),
                    hidden,
                }
            }
        };
        out.push(change);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey {
            kind: kind.into(),
            namespace: "shop".into(),
            name: name.into(),
        }
    }

    fn fact(value: &str, kind: FactKind) -> Fact {
        Fact {
            value: value.to_string(),
            kind,
        }
    }

    /// `(field, value, kind)` of one object.
    type Fields<'a> = &'a [(&'a str, &'a str, FactKind)];

    fn facts(objects: &[(&str, &str, Fields)]) -> Facts {
        let mut f = Facts::default();
        for (kind, name, fields) in objects {
            f.present.insert(key(kind, name));
            for (field, value, how) in fields.iter() {
                let fields = f.fields.entry(key(kind, name)).or_default();
                fields.insert(field.to_string(), fact(value, *how));
            }
        }
        f
    }

    /// One side of a shop: the cart Deployment's image, the cart ConfigMap's hashed keys and
    /// one Service.
    fn shop(image: &str, config: Fields, service: &str) -> Facts {
        use FactKind::*;
        let deployment: Fields = &[
            ("containers[app].image", image, Plain),
            ("spec.replicas", "2", Plain),
        ];
        facts(&[
            ("Deployment", "cart", deployment),
            ("ConfigMap", "cart", config),
            ("Service", service, &[]),
        ])
    }

    #[test]
    fn reports_changed_fields_only_and_hides_hashed_values() {
        use FactKind::*;
        let old = shop(
            "cart:1",
            &[("data[url]", "h1", Hidden), ("data[gone]", "h2", Hidden)],
            "old",
        );
        let new = shop(
            "cart:2",
            &[("data[url]", "h3", Hidden), ("data[new]", "h4", Hidden)],
            "fresh",
        );
        let d = compare(&old, &new);
        assert_eq!(d.added, vec![key("Service", "fresh")]);
        assert_eq!(d.removed, vec![key("Service", "old")]);
        assert_eq!(d.changed.len(), 2);
        let cm = &d.changed[0];
        assert_eq!(cm.kind, "ConfigMap");
        let summary: Vec<(&str, ChangeKind, Option<&str>)> = cm
            .changes
            .iter()
            .map(|c| (c.field.as_str(), c.change, c.new.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("data[gone]", ChangeKind::Removed, None),
                ("data[new]", ChangeKind::Added, None),
                ("data[url]", ChangeKind::Changed, None),
            ]
        );
        assert!(cm.changes.iter().all(|c| c.hidden && c.old.is_none()));
        let deploy = &d.changed[1];
        assert_eq!(deploy.changes.len(), 1);
        assert_eq!(deploy.changes[0].old.as_deref(), Some("cart:1"));
        assert_eq!(deploy.changes[0].new.as_deref(), Some("cart:2"));
    }

    /// Pods as `(name, uid, restart count of container c)`.
    fn pods(pods: &[(&str, &str, Option<&str>)]) -> Facts {
        let mut f = Facts::default();
        for (name, uid, restarts) in pods {
            f.present.insert(key("Pod", name));
            let fields = f.fields.entry(key("Pod", name)).or_default();
            fields.insert(UID.into(), fact(uid, FactKind::Plain));
            if let Some(n) = restarts {
                let field = "containers[c].restartCount".to_string();
                fields.insert(field, fact(n, FactKind::Counter));
            }
        }
        f
    }

    #[test]
    fn restart_counts_count_only_when_they_grew_on_the_same_pod() {
        let old = pods(&[
            ("a", "u1", Some("2")),
            ("b", "u2", Some("5")),
            ("c", "u3", Some("5")),
            ("d", "u4", None),
        ]);
        // a grew; b did not; c is a new pod (new uid) counting from zero; d's count appeared (none counts as 0).
        let new = pods(&[
            ("a", "u1", Some("7")),
            ("b", "u2", Some("5")),
            ("c", "u9", Some("6")),
            ("d", "u4", Some("1")),
        ]);
        let d = compare(&old, &new);
        let got: Vec<(&str, ChangeKind, Option<&str>, Option<&str>)> = d
            .changed
            .iter()
            .flat_map(|o| {
                o.changes.iter().map(move |c| {
                    (
                        o.name.as_str(),
                        c.change,
                        c.old.as_deref(),
                        c.new.as_deref(),
                    )
                })
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", ChangeKind::Grew, Some("2"), Some("7")),
                ("c", ChangeKind::Recreated, Some("u3"), Some("u9")),
                ("d", ChangeKind::Grew, Some("0"), Some("1")),
            ]
        );
    }
}
