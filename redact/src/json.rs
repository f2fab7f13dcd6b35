//! Redaction of Kubernetes objects as JSON. Some secrets are known by where they sit, not by
//! what they look like: every value of a Secret, every ConfigMap `binaryData` value, the value
//! of an environment variable named like a credential, a ConfigMap entry whose key names a
//! credential, the scalar value of any field named like a credential (in any object, custom
//! resources and `status` included), the item after a credential flag in an argument list.
//! Everything else is left to the text rules, applied to every string of the tree. Strings
//! that hold JSON themselves (the `last-applied-configuration` annotation, a config file in a
//! ConfigMap) are parsed and redacted as objects, then written back as JSON, so a Secret or a
//! `"password"` inside an annotation is treated as one and the string stays valid JSON. The
//! payload of a `data:` URL (a file in an Ignition config) is decoded and redacted the same
//! way, then encoded back ([`super::data_url`]).
//!
//! Booleans and nulls under a credential name stay (`automountServiceAccountToken: false` is
//! a setting, not a secret); numbers are redacted (a PIN is a password).

use serde_json::{Map, Value};

use super::data_url::DataUrl;
use super::names::{is_credential_field, is_credential_name};
use super::rules::{REDACTED_PREFIX, replacement};
use super::{Counts, Kind, Redactor, argv};

/// Grafana's encrypted data source settings (`secureJsonData`): each of its values is a
/// secret whatever its name (`httpHeaderValue1`, `tlsClientKey`, `sigV4SecretKey`).
const SECURE_JSON_DATA: &str = "secureJsonData";

/// How deep JSON nested in strings is followed.
const MAX_EMBEDDED_DEPTH: u32 = 4;

/// Redacts `value` in place; true when anything changed.
pub(super) fn walk(r: &Redactor, tally: &Counts, value: &mut Value, depth: u32) -> bool {
    match value {
        Value::String(s) => redact_string(r, tally, s, depth),
        Value::Array(items) => {
            let mut changed = argv::redact_flag_values(tally, items);
            for item in items {
                changed |= walk(r, tally, item, depth);
            }
            changed
        }
        Value::Object(map) => {
            let mut changed = redact_by_position(r, tally, map);
            for (key, v) in map.iter_mut() {
                if is_credential_field(key) {
                    changed |= redact_field(tally, v);
                } else if key == SECURE_JSON_DATA
                    && let Value::Object(secure) = v
                {
                    for (_, item) in secure.iter_mut() {
                        changed |= redact_field(tally, item);
                    }
                }
                changed |= walk(r, tally, v, depth);
            }
            changed
        }
        _ => false,
    }
}

/// The value of a field named like a credential: a string or a number, or each one of a
/// list of them. Objects are walked instead (`basicAuth.password` is a reference to a
/// Secret when it holds `{name, key}`); booleans and nulls stay.
fn redact_field(tally: &Counts, v: &mut Value) -> bool {
    match v {
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                if item.is_string() || item.is_number() {
                    changed |= redact_whole(tally, item, Kind::CredentialField, false, true);
                }
            }
            changed
        }
        Value::String(_) | Value::Number(_) => {
            redact_whole(tally, v, Kind::CredentialField, false, true)
        }
        _ => false,
    }
}

/// Object-shaped secrets: Secret values, ConfigMap credential entries, credential env vars.
fn redact_by_position(r: &Redactor, tally: &Counts, map: &mut Map<String, Value>) -> bool {
    let kind = map.get("kind").and_then(Value::as_str);
    let is_object = map.get("apiVersion").is_some_and(Value::is_string);
    match kind {
        Some("Secret") if is_object => {
            let mut changed = false;
            for (field, base64) in [("data", true), ("stringData", false)] {
                if let Some(Value::Object(entries)) = map.get_mut(field) {
                    for (_, v) in entries.iter_mut() {
                        changed |= redact_whole(tally, v, Kind::SecretData, base64, true);
                    }
                }
            }
            changed
        }
        Some("ConfigMap") if is_object => {
            let mut changed = false;
            // Binary data is opaque: a keystore, a licence, a packed credential. Its keys and
            // sizes stay; its values go unless the user asked to keep them.
            if !r.keep_configmap_binary_data
                && let Some(Value::Object(entries)) = map.get_mut("binaryData")
            {
                for (_, v) in entries.iter_mut() {
                    changed |= redact_whole(tally, v, Kind::ConfigMapBinaryData, true, true);
                }
            }
            for (field, base64) in [("data", false), ("binaryData", true)] {
                if let Some(Value::Object(entries)) = map.get_mut(field) {
                    for (key, v) in entries.iter_mut() {
                        if is_credential_name(key) {
                            changed |=
                                redact_whole(tally, v, Kind::ConfigMapCredential, base64, false);
                        }
                    }
                }
            }
            changed
        }
        _ => redact_env_var(tally, map),
    }
}

/// `{"name": "DB_PASSWORD", "value": "..."}`: an environment variable (or an HTTP header of a
/// probe) whose name says it holds a credential.
fn redact_env_var(tally: &Counts, map: &mut Map<String, Value>) -> bool {
    let credential = map
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(is_credential_name);
    if !credential {
        return false;
    }
    match map.get_mut("value") {
        Some(v @ Value::String(_)) => redact_whole(tally, v, Kind::EnvCredential, false, false),
        _ => false,
    }
}

/// Replaces a whole value by `<redacted len=N>`. For base64 data N is the decoded length.
/// Empty values stay: an empty password is a finding, not a secret. `any_type` also replaces
/// values that are not strings (a malformed Secret).
fn redact_whole(tally: &Counts, v: &mut Value, kind: Kind, base64: bool, any_type: bool) -> bool {
    let len = match v {
        Value::String(s) if s.is_empty() || s.as_bytes().starts_with(REDACTED_PREFIX) => {
            return false;
        }
        Value::String(s) if base64 => decoded_len(s),
        Value::String(s) => s.len(),
        Value::Null => return false,
        ref other if any_type => other.to_string().len(),
        _ => return false,
    };
    *v = Value::String(replacement(len));
    tally.add(kind, 1);
    true
}

/// Length of the bytes a base64 string decodes to (ignoring whitespace), without decoding.
fn decoded_len(s: &str) -> usize {
    let significant: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let padding = significant.iter().rev().take_while(|&&b| b == b'=').count();
    let chars = significant.len() - padding;
    chars * 3 / 4
}

fn redact_string(r: &Redactor, tally: &Counts, s: &mut String, depth: u32) -> bool {
    if depth < MAX_EMBEDDED_DEPTH
        && let Some(url) = DataUrl::parse(s)
        && let Some(mut decoded) = url.decode()
    {
        if !redact_string(r, tally, &mut decoded.text, depth + 1) {
            return false;
        }
        *s = url.encode(&decoded);
        return true;
    }
    let trimmed = s.trim_start();
    if depth < MAX_EMBEDDED_DEPTH
        && (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(mut inner) = serde_json::from_str::<Value>(s)
        && (inner.is_object() || inner.is_array())
    {
        if walk(r, tally, &mut inner, depth + 1) {
            // Serialising a parsed value cannot fail; if it did, the text rules still run.
            if let Ok(text) = serde_json::to_string(&inner) {
                *s = text;
                return true;
            }
        } else {
            return false;
        }
    }
    let redacted = r.redact_text_counted(s, tally);
    if let std::borrow::Cow::Owned(new) = redacted {
        *s = new;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decoded_length() {
        assert_eq!(decoded_len("aGVsbG8="), 5);
        assert_eq!(decoded_len("aGVsbG8h"), 6);
        assert_eq!(decoded_len("aGVsbA=="), 4);
        assert_eq!(decoded_len(""), 0);
    }
}
