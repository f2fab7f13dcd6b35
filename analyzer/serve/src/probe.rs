//! Picks a few values out of one JSON object without building the whole document: the walk
//! follows only the wanted paths and skips everything else, so indexing a large bundle costs a
//! scan, not a tree per object.
//!
//! The walk is lenient: a wanted path holding an unexpected type (an object where a string was
//! expected, a number where an object was) is simply absent, never an error. Only malformed
//! JSON fails.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// What to pick out of an object: dotted paths to scalars, and dotted paths to string maps.
#[derive(Debug)]
pub struct Wanted {
    root: Node,
    scalars: usize,
}

#[derive(Debug)]
enum Node {
    Branch(Vec<(String, Node)>),
    /// A scalar (string, number, bool) stored as text in the given slot.
    Scalar(usize),
    /// An object of string values, kept as `(key, value)` pairs.
    StringMap,
}

/// The values picked from one object.
#[derive(Debug, Default)]
pub struct Picked {
    /// One entry per scalar path, in the order given to [`Wanted::new`].
    pub scalars: Vec<Option<String>>,
    /// The string map's entries (only one map path is supported: the labels).
    pub map: Vec<(String, String)>,
}

impl Wanted {
    /// `scalars` are dotted paths (`metadata.name`); `map` is the dotted path of a string map.
    pub fn new(scalars: &[&str], map: &str) -> Wanted {
        let mut root = Node::Branch(Vec::new());
        for (slot, path) in scalars.iter().enumerate() {
            insert(&mut root, path, Node::Scalar(slot));
        }
        insert(&mut root, map, Node::StringMap);
        Wanted {
            root,
            scalars: scalars.len(),
        }
    }

    /// Picks the wanted values out of `json`, which must be one JSON value.
    pub fn pick(&self, json: &[u8]) -> Result<Picked, serde_json::Error> {
        let mut out = Picked {
            scalars: vec![None; self.scalars],
            map: Vec::new(),
        };
        let mut de = serde_json::Deserializer::from_slice(json);
        NodeSeed {
            node: &self.root,
            out: &mut out,
        }
        .deserialize(&mut de)?;
        de.end()?;
        Ok(out)
    }
}

fn insert(root: &mut Node, path: &str, leaf: Node) {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Node::Branch(children) = node else { return };
        let last = i + 1 == parts.len();
        let pos = match children.iter().position(|(k, _)| k == part) {
            Some(pos) => pos,
            None => {
                children.push((part.to_string(), Node::Branch(Vec::new())));
                children.len() - 1
            }
        };
        if last {
            children[pos].1 = leaf;
            return;
        }
        node = &mut children[pos].1;
    }
}

struct NodeSeed<'a> {
    node: &'a Node,
    out: &'a mut Picked,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl NodeSeed<'_> {
    fn scalar(self, text: String) {
        if let Node::Scalar(slot) = self.node {
            self.out.scalars[*slot] = Some(text);
        }
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(v.to_string());
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(v.to_string());
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(v.to_string());
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.scalar(v.to_string());
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if matches!(self.node, Node::Scalar(_)) {
            self.scalar(v.to_string());
        }
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.scalar(v);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match self.node {
            Node::Branch(children) => {
                while let Some(found) = map.next_key_seed(KeyLookup(children))? {
                    match found {
                        Some(i) => map.next_value_seed(NodeSeed {
                            node: &children[i].1,
                            out: self.out,
                        })?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
            }
            Node::StringMap => {
                while let Some(key) = map.next_key::<String>()? {
                    if let Some(value) = map.next_value::<MaybeString>()?.0 {
                        self.out.map.push((key, value));
                    }
                }
            }
            Node::Scalar(_) => while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {},
        }
        Ok(())
    }
}

/// Finds a key among a branch's children without allocating it.
struct KeyLookup<'a>(&'a [(String, Node)]);

impl<'de> DeserializeSeed<'de> for KeyLookup<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyLookup<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|(k, _)| k == v))
    }
}

/// A string, or nothing for any other JSON value.
struct MaybeString(Option<String>);

impl<'de> serde::Deserialize<'de> for MaybeString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<MaybeString, E> {
                Ok(MaybeString(Some(v.to_string())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeString, E> {
                Ok(MaybeString(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybeString, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeString(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeString, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeString(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_paths_and_labels_and_tolerates_odd_types() {
        let w = Wanted::new(
            &[
                "metadata.name",
                "spec.nodeName",
                "status.phase",
                "spec.replicas",
            ],
            "metadata.labels",
        );
        let obj = br#"{"metadata":{"name":"a\"b","labels":{"app":"x","n":3},"annotations":{"k":"v"}},
            "spec":{"nodeName":{"odd":1},"replicas":3,"containers":[{"name":"c"}]},"status":"weird"}"#;
        let p = w.pick(obj).expect("parses");
        assert_eq!(p.scalars[0].as_deref(), Some("a\"b"));
        assert_eq!(p.scalars[1], None);
        assert_eq!(p.scalars[2], None);
        assert_eq!(p.scalars[3].as_deref(), Some("3"));
        assert_eq!(p.map, vec![("app".to_string(), "x".to_string())]);
    }

    #[test]
    fn malformed_json_fails() {
        let w = Wanted::new(&["metadata.name"], "metadata.labels");
        assert!(w.pick(br#"{"metadata":{"name":"a"}"#).is_err());
        assert!(w.pick(br#"{"a":1} x"#).is_err());
    }
}
