//! Streams the objects of a JSON document that is a Kubernetes `List` (`{"items": [...]}`), a
//! bare array, or a single object, one at a time: a namespace's pod list can be hundreds of
//! megabytes, and only one item is held in memory at once.
//!
//! Two modes: [`for_each_item`] reads a whole file that is one document;
//! [`for_each_item_of_document`] reads one document from a deserializer and leaves whatever
//! follows unread (the single-stream `cluster-info dump` puts Lists and log blocks one after
//! another), and hands each item the List's header with it.

use std::fmt;
use std::io::{BufRead, Read};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::ImportError;

/// What a List says of its items before its `items`: typed Lists, as kubectl prints them,
/// carry `kind` and `apiVersion` only there, not on each item. Empty for a bare array, a
/// single object, or a List whose `items` come first.
#[derive(Debug, Default, Clone)]
pub struct ListHeader {
    pub kind: Option<String>,
    pub api_version: Option<String>,
}

impl ListHeader {
    /// The kind of the items of a typed List (`PodList` → `Pod`); none for a generic `List`.
    pub fn item_kind(&self) -> Option<&str> {
        self.kind
            .as_deref()
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty())
    }
}

/// Calls `each` for every item of the list (or the array, or the single object) in `body`,
/// which must hold nothing else. `path` names the file in errors. An empty document, `null` or
/// a list without `items` yields nothing. Returns how many items were seen.
pub fn for_each_item(
    path: &str,
    body: &mut dyn Read,
    each: &mut dyn FnMut(Value) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let mut reader = std::io::BufReader::new(body);
    // An empty file (troubleshoot writes one when a list failed) holds no document at all.
    loop {
        let buf = reader.fill_buf().map_err(|e| ImportError::io(path, e))?;
        if buf.is_empty() {
            return Ok(0);
        }
        let blank = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let done = blank < buf.len();
        reader.consume(blank);
        if done {
            break;
        }
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    let count = for_each_item_of_document(path, &mut de, &mut |_, item| each(item))?;
    de.end().map_err(|e| json_error(path, e))?;
    Ok(count)
}

type Each<'f> = dyn FnMut(&ListHeader, Value) -> Result<(), ImportError> + 'f;

/// Reads exactly one JSON document from `de` and calls `each` for every item with the List's
/// header. Whatever follows the document is left unread. Returns how many items were seen.
pub fn for_each_item_of_document<'de, R: serde_json::de::Read<'de>>(
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
    result.map_err(|e| json_error(path, e))?;
    Ok(state.count)
}

fn json_error(path: &str, e: serde_json::Error) -> ImportError {
    if e.is_io() {
        ImportError::io(path, std::io::Error::other(e))
    } else {
        ImportError::bad_input(path, format!("not JSON: {e}"))
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

/// The top level: a list object, a bare array, a single object, or null.
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
        // A list is recognised by its `items` key wherever it comes (kubectl writes keys in
        // alphabetical order, `kind` after `items`); any other object is one item, rebuilt.
        // Keys before `items` are kept: they are the header, or the whole of a single object.
        let mut other = serde_json::Map::new();
        let mut is_list = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                is_list = true;
                let text = |key: &str| other.get(key).and_then(Value::as_str).map(str::to_owned);
                self.0.header = ListHeader {
                    kind: text("kind"),
                    api_version: text("apiVersion"),
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

/// The `items` array: each element is handed to the callback as soon as it is parsed.
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
        assert!(items("").expect("empty").is_empty());
        assert!(items(" \n\t").expect("blank").is_empty());
        assert_eq!(items("\n\n[{}]").expect("leading blank").len(), 1);
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

    #[test]
    fn one_document_mode_keeps_the_header_and_leaves_the_rest_unread() {
        let text = r#"{"kind":"PodList","apiVersion":"v1","items":[{"a":1}]}
==== START"#;
        let mut input = text.as_bytes();
        let mut de = serde_json::Deserializer::from_reader(&mut input);
        let mut got = Vec::new();
        let count = for_each_item_of_document("t", &mut de, &mut |header, item| {
            got.push((header.item_kind().map(str::to_owned), item));
            Ok(())
        })
        .expect("list");
        assert_eq!(count, 1);
        assert_eq!(got, vec![(Some("Pod".into()), serde_json::json!({"a":1}))]);
        assert_eq!(input, b"\n==== START");
    }

    #[test]
    fn whole_file_mode_refuses_what_follows_the_document() {
        let err = items("[{\"a\":1}]\n[{\"a\":2}]").expect_err("two documents");
        assert!(err.to_string().starts_with("t.json: not JSON"), "{err}");
    }

    #[test]
    fn a_generic_list_or_items_first_gives_no_item_kind() {
        let kinds = |text: &str| {
            let mut kinds = Vec::new();
            let mut de = serde_json::Deserializer::from_str(text);
            for_each_item_of_document("t", &mut de, &mut |header, _| {
                kinds.push(header.item_kind().map(str::to_owned));
                Ok(())
            })
            .expect("list");
            kinds
        };
        assert_eq!(kinds(r#"{"kind":"List","items":[{}]}"#), vec![None]);
        assert_eq!(kinds(r#"{"items":[{}],"kind":"PodList"}"#), vec![None]);
        assert_eq!(kinds(r#"{"kind":"Pod"}"#), vec![None]);
    }
}
