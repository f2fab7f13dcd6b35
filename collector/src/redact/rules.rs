//! Text redactors: patterns that find secrets inside any string or log line, whatever the
//! object around it. They work on bytes (`regex::bytes`) so that logs which are not UTF-8 are
//! redacted where a pattern matches and left byte for byte as they were everywhere else. The
//! patterns are Unicode-aware, so on UTF-8 input every match starts and ends on a character
//! boundary and the output of a `&str` stays valid UTF-8.
//!
//! A `RegexSet` pass first tells which rules match at all; most strings match none and cost
//! one scan.

use std::borrow::Cow;

use regex::bytes::{Captures, Regex, RegexSet};

use super::{Counts, Kind, RedactConfigError};

/// A PEM private key block, up to its end marker or, when cut off, to the end of the text.
const PEM_PRIVATE_KEY: &str = r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?-u:.)*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)";
/// The opening marker alone, to follow a key across lines.
pub(crate) const PEM_BEGIN: &str = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
/// The closing marker alone.
pub(crate) const PEM_END: &str = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
/// A JSON Web Token: base64url header `{"...` and payload, then the signature.
const JWT: &str = r"eyJ[A-Za-z0-9_-]{4,}\.ey[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*";
/// `Bearer <token>` anywhere, and `Authorization: Basic <credentials>`.
const BEARER: &str = r#"(?i)(?:\bbearer\s+|authorization\\?["']?\s*[:=]\s*\\?["']?basic\s+)(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)"#;
/// `scheme://user:password@host`: the password only.
const URL_PASSWORD: &str = r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s:/@?#]*:(?P<secret>[^\s@/?#]+)@";
/// Credential fields written as `key: value` or `key=value` (YAML, JSON, flags, log fields):
/// the kubeconfig user fields and their usual relatives.
const CREDENTIAL_FIELD: &str = r#"(?im)(?:^|[^A-Za-z0-9])(?:token|id[-_]token|refresh[-_]token|access[-_]token|auth[-_]token|client[-_]key[-_]data|client[-_]secret|password|passwd|secret[-_]key|api[-_]?key)\\?["']?\s*[:=]\s*\\?["']?(?P<secret>[^\s"'\\,;&}\]]+)"#;

/// Values a credential field may hold that are not secrets.
const NOT_SECRETS: &[&[u8]] = &[b"null", b"true", b"false", b"~"];

/// Prefix of every replacement, so a redacted value is never redacted again.
pub(crate) const REDACTED_PREFIX: &[u8] = b"<redacted";

struct Rule {
    kind: Kind,
    regex: Regex,
    /// Index of the capture group to replace; 0 is the whole match.
    group: usize,
    /// Whether [`NOT_SECRETS`] values are left alone.
    skip_plain_values: bool,
}

/// The compiled text rules: built-ins first, then the user's literals and regexes.
pub(crate) struct TextRules {
    set: RegexSet,
    rules: Vec<Rule>,
}

impl TextRules {
    pub(crate) fn new(literals: &[String], regexes: &[String]) -> Result<Self, RedactConfigError> {
        let builtin = [
            (Kind::PemPrivateKey, PEM_PRIVATE_KEY, false),
            (Kind::Jwt, JWT, false),
            (Kind::BearerToken, BEARER, false),
            (Kind::UrlPassword, URL_PASSWORD, false),
            (Kind::KubeconfigCredential, CREDENTIAL_FIELD, true),
        ];
        let mut rules = Vec::new();
        for (kind, pattern, skip) in builtin {
            let regex = Regex::new(pattern).map_err(|e| {
                RedactConfigError::Rule(format!("built-in pattern {}: {e}", kind.name()))
            })?;
            rules.push(Rule::new(kind, regex, skip));
        }
        for literal in literals {
            if literal.is_empty() {
                return Err(RedactConfigError::Rule(
                    "empty literal in redaction rules".into(),
                ));
            }
            let regex = Regex::new(&regex::escape(literal))
                .map_err(|e| RedactConfigError::Rule(format!("literal {literal:?}: {e}")))?;
            rules.push(Rule::new(Kind::CustomLiteral, regex, false));
        }
        for pattern in regexes {
            let regex = Regex::new(pattern)
                .map_err(|e| RedactConfigError::Rule(format!("regex {pattern:?}: {e}")))?;
            if regex.is_match(b"") {
                return Err(RedactConfigError::Rule(format!(
                    "regex {pattern:?} matches the empty string"
                )));
            }
            rules.push(Rule::new(Kind::CustomRegex, regex, false));
        }
        let set = RegexSet::new(rules.iter().map(|r| r.regex.as_str()))
            .map_err(|e| RedactConfigError::Rule(format!("redaction rules: {e}")))?;
        Ok(TextRules { set, rules })
    }

    /// Applies every matching rule in order; `None` when nothing matched.
    pub(crate) fn apply(&self, input: &[u8], counts: &Counts) -> Option<Vec<u8>> {
        let hits = self.set.matches(input);
        if !hits.matched_any() {
            return None;
        }
        let mut current: Cow<'_, [u8]> = Cow::Borrowed(input);
        for (i, rule) in self.rules.iter().enumerate() {
            if !hits.matched(i) {
                continue;
            }
            if let Some(out) = rule.apply(&current, counts) {
                current = Cow::Owned(out);
            }
        }
        match current {
            Cow::Owned(out) => Some(out),
            Cow::Borrowed(_) => None,
        }
    }
}

impl Rule {
    fn new(kind: Kind, regex: Regex, skip_plain_values: bool) -> Self {
        let group = regex
            .capture_names()
            .position(|n| n == Some("secret"))
            .unwrap_or(0);
        Rule {
            kind,
            regex,
            group,
            skip_plain_values,
        }
    }

    fn apply(&self, input: &[u8], counts: &Counts) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut last = 0;
        for caps in self.regex.captures_iter(input) {
            let Some(span) = self.secret_span(&caps) else {
                continue;
            };
            let (start, end) = (span.start(), span.end());
            if start < last || start == end {
                continue;
            }
            let buf = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
            buf.extend_from_slice(&input[last..start]);
            push_replacement(buf, end - start);
            last = end;
            counts.add(self.kind, 1);
        }
        let mut buf = out?;
        buf.extend_from_slice(&input[last..]);
        Some(buf)
    }

    fn secret_span<'h>(&self, caps: &Captures<'h>) -> Option<regex::bytes::Match<'h>> {
        let m = caps.get(self.group)?;
        let value = m.as_bytes();
        if value.starts_with(REDACTED_PREFIX) {
            return None;
        }
        if self.skip_plain_values && NOT_SECRETS.iter().any(|v| value.eq_ignore_ascii_case(v)) {
            return None;
        }
        Some(m)
    }
}

/// Appends `<redacted len=N>`.
pub(crate) fn push_replacement(buf: &mut Vec<u8>, len: usize) {
    buf.extend_from_slice(replacement(len).as_bytes());
}

/// The text that stands in for a secret of `len` bytes.
pub(crate) fn replacement(len: usize) -> String {
    format!("<redacted len={len}>")
}
