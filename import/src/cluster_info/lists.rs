//! Reads one JSON document — a Kubernetes `List`, a bare array or a single object — from a
//! deserializer that may have more after it (the single-stream dump puts Lists and log blocks
//! one after another), handing out the items one at a time together with what the List said
//! of them before its `items` (typed Lists, as kubectl prints them, carry `kind` and
//! `apiVersion` only there, not on each item).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::ImportError;

/// What a List says of its items.
#[derive(Debug, Default, Clone)]
pub(crate) struct ListHeader {
    pub kind: Option<String>,
    pub api_version: Option<String>,
}

impl ListHeader {
    /// The kind of the items of a typed List (`PodList` → `Pod`); none for a generic `List`.
    fn item_kind(&self) -> Option<&str> {
        self.kind
            .as_deref()
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty())
    }
}

/// Gives `item` the `kind` and `apiVersion` it lacks, from the List it came from or else from
/// `fallback` (`(apiVersion, kind)` known from the file's name). Returns whether the item now
/// has a kind.
pub(crate) fn complete_item(
    item: &mut Value,
    header: &ListHeader,
    fallback: Option<(&str, &str)>,
) -> bool {
    let Some(object) = item.as_object_mut() else {
        return false;
    };
    if !object.get("kind").is_some_and(Value::is_string) {
        let kind = match header.item_kind() {
            Some(kind) => kind,
            None => match fallback {
                Some((_, kind)) => kind,
                None => return false,
            },
        };
        object.insert("kind".into(), Value::String(kind.to_owned()));
    }
    if !object.get("apiVersion").is_some_and(Value::is_string) {
        let from_header = header.item_kind().and(header.api_version.as_deref());
        if let Some(api_version) = from_header.or(fallback.map(|(v, _)| v)) {
            object.insert("apiVersion".into(), Value::String(api_version.to_owned()));
        }
    }
    true
}

type Each<'f> = dyn FnMut(&ListHeader, Value) -> Result<(), ImportError> + 'f;

/// Reads exactly one JSON document from `de` and calls `each` for every item. Whatever follows
/// the document is left unread. Returns how many items were seen.
pub(crate) fn for_each_json_item<'de, R: serde_json::de::Read<'de>>(
    path: &str,
    de: &mut serde_json::Deserializer<R>,
    each: &mut Each<'_>,
) -> Result<u64, ImportError> {
    let mut state = State {
        each,
        header: ListHeader::default(),
        count: 0,
        failure: None,
    };
    let result = Document(&mut state).deserialize(de);
    if let Some(failure) = state.failure {
        return Err(failure);
    }
    match result {
        Ok(()) => Ok(state.count),
        Err(e) if e.is_io() => Err(ImportError::io(path, std::io::Error::other(e))),
        Err(e) => Err(ImportError::bad_input(path, format!("not JSON: {e}"))),
    }
}

struct State<'s, 'f> {
    each: &'s mut Each<'f>,
    header: ListHeader,
    count: u64,
    /// The callback's own error, kept apart from serde's so it reaches the caller intact.
    failure: Option<ImportError>,
}

impl State<'_, '_> {
    fn emit<E: de::Error>(&mut self, value: Value) -> Result<(), E> {
        self.count += 1;
        (self.each)(&self.header, value).map_err(|e| {
            self.failure = Some(e);
            E::custom("stopped")
        })
    }
}

struct Document<'a, 's, 'f>(&'a mut State<'s, 'f>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes List, an array of objects or an object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Items(self.0).visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Keys before `items` are kept: they are the header, or the whole of a single object.
        let mut other = serde_json::Map::new();
        let mut is_list = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                is_list = true;
                self.0.header = ListHeader {
                    kind: other.get("kind").and_then(Value::as_str).map(str::to_owned),
                    api_version: other
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                };
                map.next_value_seed(Items(self.0))?;
            } else if is_list {
                map.next_value::<IgnoredAny>()?;
            } else {
                other.insert(key, map.next_value::<Value>()?);
            }
        }
        if !is_list {
            self.0.emit(Value::Object(other))?;
        }
        Ok(())
    }
}

struct Items<'a, 's, 'f>(&'a mut State<'s, 'f>);

impl<'de> DeserializeSeed<'de> for Items<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            if !item.is_null() {
                self.0.emit(item)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_list_header_reaches_items_and_rest_stays_unread() {
        let text = r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]}
==== START"#;
        let mut input = text.as_bytes();
        let mut de = serde_json::Deserializer::from_reader(&mut input);
        let mut got = Vec::new();
        for_each_json_item("t", &mut de, &mut |header, mut item| {
            assert!(complete_item(&mut item, header, None));
            got.push(item);
            Ok(())
        })
        .expect("list");
        assert_eq!(got[0]["kind"], "Pod");
        assert_eq!(got[0]["apiVersion"], "v1");
        assert_eq!(input, b"\n==== START");
    }

    #[test]
    fn generic_list_takes_the_fallback_kind_only_when_items_lack_one() {
        let header = ListHeader {
            kind: Some("List".into()),
            api_version: Some("v1".into()),
        };
        let mut bare = serde_json::json!({"metadata": {"name": "n"}});
        assert!(complete_item(
            &mut bare,
            &header,
            Some(("apps/v1", "Deployment"))
        ));
        assert_eq!(bare["kind"], "Deployment");
        assert_eq!(bare["apiVersion"], "apps/v1");
        let mut own = serde_json::json!({"kind": "Node", "apiVersion": "v1"});
        assert!(complete_item(
            &mut own,
            &header,
            Some(("apps/v1", "Deployment"))
        ));
        assert_eq!(own["kind"], "Node");
        assert!(!complete_item(&mut bare.clone()["metadata"], &header, None));
    }
}
