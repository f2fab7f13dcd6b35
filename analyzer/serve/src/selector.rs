//! Label and field selectors, parsed as the API server parses them and matched against the
//! index (labels, indexed fields) or, for other field paths, against the object itself.

use serde_json::Value;

use crate::index::RowRef;

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    requirements: Vec<LabelRequirement>,
}

#[derive(Debug, Clone, PartialEq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

impl LabelSelector {
    /// Parses `app=x,tier in (a,b),!legacy`.
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(LabelSelector { requirements })
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object with labels looked up by `label` matches.
    pub fn matches<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => label(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelRequirement::NotIn(k, vs) => label(k).is_none_or(|l| vs.iter().all(|v| v != l)),
            LabelRequirement::Exists(k) => label(k).is_some(),
            LabelRequirement::NotExists(k) => label(k).is_none(),
            LabelRequirement::GreaterThan(k, n) => label(k)
                .and_then(|l| l.parse::<i64>().ok())
                .is_some_and(|l| l > *n),
            LabelRequirement::LessThan(k, n) => label(k)
                .and_then(|l| l.parse::<i64>().ok())
                .is_some_and(|l| l < *n),
        })
    }
}

/// Splits at commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<LabelRequirement, String> {
    let bad = |why: &str| format!("unable to parse requirement {part:?}: {why}");
    let key = |k: &str| -> Result<String, String> {
        let k = k.trim();
        if k.is_empty()
            || k.contains(char::is_whitespace)
            || k.contains(['=', '!', '(', ')', '<', '>'])
        {
            Err(bad("invalid label key"))
        } else {
            Ok(k.to_string())
        }
    };
    if let Some(rest) = part.strip_prefix('!') {
        return Ok(LabelRequirement::NotExists(key(rest)?));
    }
    if let Some(open) = part.find('(') {
        let close = part
            .rfind(')')
            .filter(|c| *c > open && part[c + 1..].trim().is_empty());
        let close = close.ok_or_else(|| bad("expected ')'"))?;
        let head = part[..open].trim_end();
        let values: Vec<String> = part[open + 1..close]
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let op_at = head
            .rfind(char::is_whitespace)
            .ok_or_else(|| bad("expected 'in' or 'notin'"))?;
        let k = key(&head[..op_at])?;
        return match head[op_at..].trim() {
            "in" => Ok(LabelRequirement::In(k, values)),
            "notin" => Ok(LabelRequirement::NotIn(k, values)),
            _ => Err(bad("expected 'in' or 'notin'")),
        };
    }
    let value = |v: &str| v.trim().to_string();
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(LabelRequirement::NotEquals(key(k)?, value(v)));
    }
    if let Some((k, v)) = part.split_once("==") {
        return Ok(LabelRequirement::Equals(key(k)?, value(v)));
    }
    if let Some((k, v)) = part.split_once('=') {
        return Ok(LabelRequirement::Equals(key(k)?, value(v)));
    }
    for (op, gt) in [('>', true), ('<', false)] {
        if let Some((k, v)) = part.split_once(op) {
            let n = v
                .trim()
                .parse::<i64>()
                .map_err(|_| bad("value must be an integer"))?;
            let k = key(k)?;
            return Ok(if gt {
                LabelRequirement::GreaterThan(k, n)
            } else {
                LabelRequirement::LessThan(k, n)
            });
        }
    }
    Ok(LabelRequirement::Exists(key(part)?))
}

/// A parsed `fieldSelector`: every term must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

#[derive(Debug, Clone, PartialEq)]
struct FieldTerm {
    path: String,
    equal: bool,
    value: String,
}

impl FieldSelector {
    /// Parses `spec.nodeName=n1,status.phase!=Failed` (values may escape `\,` `\=` `\\`).
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for part in split_unescaped_commas(text) {
            if part.is_empty() {
                continue;
            }
            let (path, equal, raw) = split_term(&part)
                .ok_or_else(|| format!("invalid selector: '{text}'; can't understand '{part}'"))?;
            terms.push(FieldTerm {
                path: path.trim().to_string(),
                equal,
                value: unescape(raw),
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether matching needs the object itself (a path the index does not hold).
    pub fn needs_object(&self) -> bool {
        self.terms
            .iter()
            .any(|t| !crate::index::is_indexed(&t.path))
    }

    /// Matches against the index: `None` when some term's path is not indexed.
    pub fn matches_row(&self, row: RowRef<'_>) -> Option<bool> {
        let mut all = true;
        for t in &self.terms {
            all &= (row.field(&t.path)? == t.value) == t.equal;
        }
        Some(all)
    }

    /// Matches against a whole object.
    pub fn matches_object(&self, object: &Value) -> bool {
        self.terms
            .iter()
            .all(|t| (field_text(object, &t.path) == t.value) == t.equal)
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// The text of the scalar at dotted `path`, empty when absent or not a scalar.
pub fn field_text(object: &Value, path: &str) -> String {
    let mut v = object;
    for part in path.split('.') {
        match v.get(part) {
            Some(next) => v = next,
            None => return String::new(),
        }
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Splits at commas not preceded by a backslash, keeping escapes for [`unescape`].
fn split_unescaped_commas(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ',' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// `(path, equal, value)` split at the first `!=`, `==` or `=`.
fn split_term(term: &str) -> Option<(&str, bool, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, equal) in [("!=", false), ("==", true), ("=", true)] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], equal, value));
            }
        }
    }
    None
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn sel(text: &str, labels: &[(&str, &str)]) -> bool {
        let map: HashMap<&str, &str> = labels.iter().copied().collect();
        LabelSelector::parse(text)
            .expect("parses")
            .matches(|k| map.get(k).copied())
    }

    #[test]
    fn label_operators() {
        let l = [("app", "web"), ("tier", "front"), ("n", "5")];
        assert!(sel("app=web", &l));
        assert!(sel("app==web,tier=front", &l));
        assert!(!sel("app=web,tier=back", &l));
        assert!(sel("app!=db", &l));
        assert!(sel("missing!=x", &l));
        assert!(sel("tier in (back, front)", &l));
        assert!(!sel("tier in (back)", &l));
        assert!(sel("tier notin (back),missing notin (x)", &l));
        assert!(sel("app", &l));
        assert!(sel("!missing", &l));
        assert!(!sel("!app", &l));
        assert!(sel("n>4,n<6", &l));
        assert!(sel("", &l));
        assert!(LabelSelector::parse("a in (x").is_err());
        assert!(LabelSelector::parse("a b").is_err());
    }

    #[test]
    fn field_terms_and_escapes() {
        let f = FieldSelector::parse(r"spec.nodeName=n1,status.phase!=Failed,metadata.name==a\,b")
            .expect("parses");
        let obj = serde_json::json!({"metadata":{"name":"a,b"},"spec":{"nodeName":"n1"},"status":{"phase":"Running"}});
        assert!(f.matches_object(&obj));
        let obj = serde_json::json!({"metadata":{"name":"a,b"},"spec":{"nodeName":"n1"},"status":{"phase":"Failed"}});
        assert!(!f.matches_object(&obj));
        let missing = FieldSelector::parse("spec.other=").expect("parses");
        assert!(missing.matches_object(&obj));
        assert!(FieldSelector::parse("nonsense").is_err());
        assert_eq!(
            field_text(&serde_json::json!({"spec":{"x":true}}), "spec.x"),
            "true"
        );
    }
}
