//! Streams the objects of a JSON document that is a Kubernetes `List` (`{"items": [...]}`), a
//! bare array, or a single object, one at a time: a namespace's pod list can be hundreds of
//! megabytes, and only one item is held in memory at once.

use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::ImportError;

/// Calls `each` for every item of the list (or the array, or the single object) in `body`.
/// `path` names the file in errors. An empty document, `null` or a list without `items`
/// yields nothing. Returns how many items were seen.
pub fn for_each_item(
    path: &str,
    body: &mut dyn Read,
    each: &mut dyn FnMut(Value) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(body));
    let mut state = State {
        each,
        count: 0,
        failure: None,
    };
    let result = Document(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(failure) = state.failure {
        return Err(failure);
    }
    match result {
        Ok(()) => Ok(state.count),
        Err(e) if e.is_io() => Err(ImportError::io(path, std::io::Error::other(e))),
        Err(e) => Err(ImportError::bad_input(path, format!("not JSON: {e}"))),
    }
}

struct State<'f> {
    each: &'f mut dyn FnMut(Value) -> Result<(), ImportError>,
    count: u64,
    /// The callback's own error, kept apart from serde's so it reaches the caller intact.
    failure: Option<ImportError>,
}

impl State<'_> {
    fn emit<E: de::Error>(&mut self, value: Value) -> Result<(), E> {
        self.count += 1;
        (self.each)(value).map_err(|e| {
            self.failure = Some(e);
            E::custom("stopped")
        })
    }
}

/// The top level: a list object, a bare array, a single object, or null.
struct Document<'s, 'f>(&'s mut State<'f>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
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
        // A list is recognised by its `items` key wherever it comes (kubectl writes keys in
        // alphabetical order, `kind` after `items`); any other object is one item, rebuilt.
        let mut other = serde_json::Map::new();
        let mut is_list = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                is_list = true;
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

/// The `items` array: each element is handed to the callback as soon as it is parsed.
struct Items<'s, 'f>(&'s mut State<'f>);

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
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

    fn items(text: &str) -> Result<Vec<Value>, ImportError> {
        let mut out = Vec::new();
        for_each_item("t.json", &mut text.as_bytes(), &mut |v| {
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn list_with_kind_after_items() {
        let got = items(r#"{"apiVersion":"v1","items":[{"a":1},{"a":2}],"kind":"PodList"}"#)
            .expect("list");
        assert_eq!(
            got,
            vec![serde_json::json!({"a":1}), serde_json::json!({"a":2})]
        );
    }

    #[test]
    fn bare_array_single_object_and_null() {
        assert_eq!(items(r#"[{"a":1}]"#).expect("array").len(), 1);
        assert_eq!(
            items(r#"{"kind":"Pod","metadata":{"name":"p"}}"#).expect("object"),
            vec![serde_json::json!({"kind":"Pod","metadata":{"name":"p"}})]
        );
        assert!(items("null").expect("null").is_empty());
        assert!(
            items(r#"{"kind":"PodList","items":null}"#)
                .expect("null items")
                .is_empty()
        );
    }

    #[test]
    fn errors_name_the_file_and_callback_errors_pass_through() {
        let err = items(r#"{"items":[{"a":1},"#).expect_err("truncated");
        assert!(err.to_string().starts_with("t.json: not JSON"), "{err}");
        let mut calls = 0;
        let err = for_each_item("t.json", &mut &b"[{},{}]"[..], &mut |_| {
            calls += 1;
            Err(ImportError::bad_input("obj", "refused"))
        })
        .expect_err("callback error");
        assert_eq!(err.to_string(), "obj: refused");
        assert_eq!(calls, 1);
    }
}
