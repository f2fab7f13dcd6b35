//! Redaction: nothing secret leaves the customer's site. Every object and every log passes
//! through a [`Redactor`] before a byte of it is written to the bundle.
//!
//! Two kinds of redactors run:
//! - by position, on objects ([`json`]): Secret `data`/`stringData` values, ConfigMap
//!   `binaryData`, environment variables named like credentials, ConfigMap entries whose key
//!   names a credential, any field named like a credential ([`names`]) in any object, and
//!   the value after a credential flag in an argument list ([`argv`]);
//! - by shape, on every string and log line ([`rules`]): PEM private keys, JWTs, bearer
//!   tokens, passwords in URLs, kubeconfig-style credential fields, `name=value` and
//!   `name: value` assignments and `--flag value` pairs whose name is a credential, plus the
//!   user's own literals and regexes (`--redact FILE`).
//!
//! A secret is replaced by `<redacted len=N>` (its length in bytes stays, so an empty or a
//! truncated value is still visible). The counters record what each redactor did, never a
//! value; they are atomics so one redactor can be shared by every task of a collection.

mod argv;
mod config;
mod data_url;
mod json;
mod lines;
mod names;
mod rules;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub use config::{RedactConfig, RedactConfigError};
pub use lines::LineRedactor;
pub use names::{is_credential_field, is_credential_name};

/// The resource kind under which values redacted in logs and host files are counted.
pub const TEXT_KIND: &str = "text";
/// The resource kind of JSON that names none (a kubelet configuration).
pub const OTHER_KIND: &str = "other";

/// The redactors, each with its own counter in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    SecretData,
    ConfigMapBinaryData,
    EnvCredential,
    ConfigMapCredential,
    CredentialField,
    CommandLineFlag,
    PemPrivateKey,
    Jwt,
    BearerToken,
    UrlPassword,
    KubeconfigCredential,
    CredentialAssignment,
    ProviderToken,
    CustomLiteral,
    CustomRegex,
}

impl Kind {
    const ALL: [Kind; 15] = [
        Kind::SecretData,
        Kind::ConfigMapBinaryData,
        Kind::EnvCredential,
        Kind::ConfigMapCredential,
        Kind::CredentialField,
        Kind::CommandLineFlag,
        Kind::PemPrivateKey,
        Kind::Jwt,
        Kind::BearerToken,
        Kind::UrlPassword,
        Kind::KubeconfigCredential,
        Kind::CredentialAssignment,
        Kind::ProviderToken,
        Kind::CustomLiteral,
        Kind::CustomRegex,
    ];

    /// Name used in the manifest's `redaction.counts`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::SecretData => "secret-data",
            Kind::ConfigMapBinaryData => "configmap-binary-data",
            Kind::EnvCredential => "env-credential",
            Kind::ConfigMapCredential => "configmap-credential",
            Kind::CredentialField => "credential-field",
            Kind::CommandLineFlag => "command-line-flag",
            Kind::PemPrivateKey => "pem-private-key",
            Kind::Jwt => "jwt",
            Kind::BearerToken => "bearer-token",
            Kind::UrlPassword => "url-password",
            Kind::KubeconfigCredential => "kubeconfig-credential",
            Kind::CredentialAssignment => "credential-assignment",
            Kind::ProviderToken => "provider-token",
            Kind::CustomLiteral => "custom-literal",
            Kind::CustomRegex => "custom-regex",
        }
    }
}

/// One counter per redactor.
pub(crate) struct Counts([AtomicU64; Kind::ALL.len()]);

impl Counts {
    fn new() -> Self {
        Counts(std::array::from_fn(|_| AtomicU64::new(0)))
    }

    pub(crate) fn add(&self, kind: Kind, n: u64) {
        self.0[kind as usize].fetch_add(n, Ordering::Relaxed);
    }

    fn get(&self, kind: Kind) -> u64 {
        self.0[kind as usize].load(Ordering::Relaxed)
    }

    /// The redactors that did something, with how much.
    fn nonzero(&self) -> impl Iterator<Item = (Kind, u64)> + '_ {
        Kind::ALL
            .iter()
            .map(|&k| (k, self.get(k)))
            .filter(|&(_, n)| n > 0)
    }
}

/// The counts split by resource kind: redactor name → resource kind → values replaced.
type ByKind = BTreeMap<String, BTreeMap<String, u64>>;

/// Redacts objects, strings and log bytes, counting what it did. Shareable across tasks
/// (`Arc<Redactor>`): all methods take `&self`.
pub struct Redactor {
    /// `None` when redaction is turned off.
    rules: Option<Rules>,
    custom_literals: bool,
    custom_regexes: bool,
    keep_configmap_binary_data: bool,
    counts: Counts,
    by_kind: Mutex<ByKind>,
}

struct Rules {
    text: rules::TextRules,
    pem_markers: lines::PemMarkers,
}

impl Redactor {
    /// The built-in redactors plus the rules of `config`.
    pub fn new(config: &RedactConfig) -> Result<Self, RedactConfigError> {
        let pem_markers = lines::PemMarkers::new()
            .map_err(|e| RedactConfigError::Rule(format!("built-in PEM markers: {e}")))?;
        Ok(Redactor {
            rules: Some(Rules {
                text: rules::TextRules::new(&config.literals, &config.regexes)?,
                pem_markers,
            }),
            custom_literals: !config.literals.is_empty(),
            custom_regexes: !config.regexes.is_empty(),
            keep_configmap_binary_data: config.keep_configmap_binary_data,
            counts: Counts::new(),
            by_kind: Mutex::new(BTreeMap::new()),
        })
    }

    /// A redactor that changes nothing, for a collection whose user turned redaction off.
    pub fn disabled() -> Self {
        Redactor {
            rules: None,
            custom_literals: false,
            custom_regexes: false,
            keep_configmap_binary_data: true,
            counts: Counts::new(),
            by_kind: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether this redactor redacts at all.
    pub fn is_enabled(&self) -> bool {
        self.rules.is_some()
    }

    /// Redacts a Kubernetes object (or list, or any JSON) in place. What it replaces is
    /// counted under the object's `kind` (the items of a list under their own).
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        if !self.is_enabled() {
            return;
        }
        // A list's items are counted under their own kinds, the rest under the list's.
        let mut items = list_items(value).map(std::mem::take);
        for item in items.iter_mut().flatten() {
            self.redact_json(item);
        }
        let tally = Counts::new();
        json::walk(self, &tally, value, 0);
        if let (Some(items), Some(slot)) = (items, list_items(value)) {
            *slot = items;
        }
        let kind = value
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(OTHER_KIND);
        self.record(&tally, kind);
    }

    /// Redacts secrets found in a string by the text rules (counted as [`TEXT_KIND`]).
    pub fn redact_text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let tally = Counts::new();
        let out = self.redact_text_counted(s, &tally);
        self.record(&tally, TEXT_KIND);
        out
    }

    /// Adds one object's (or text's) tally to the totals and to its resource kind.
    fn record(&self, tally: &Counts, resource_kind: &str) {
        let mut by_kind = None;
        for (kind, n) in tally.nonzero() {
            self.counts.add(kind, n);
            let map = by_kind.get_or_insert_with(|| {
                self.by_kind
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            *map.entry(kind.name().to_string())
                .or_default()
                .entry(resource_kind.to_string())
                .or_default() += n;
        }
    }

    /// [`Self::redact_text`] counting into `tally`.
    fn redact_text_counted<'a>(&self, s: &'a str, tally: &Counts) -> Cow<'a, str> {
        let Some(rules) = &self.rules else {
            return Cow::Borrowed(s);
        };
        match rules.text.apply(s.as_bytes(), tally) {
            None => Cow::Borrowed(s),
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Cow::Owned(text),
                // Only a user regex written for raw bytes can split a character; keep the
                // result redacted rather than the input.
                Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            },
        }
    }

    /// Redacts secrets found in raw bytes (a log, possibly not UTF-8). Bytes outside a match
    /// are kept exactly; a PEM key block spanning lines is redacted whole.
    pub fn redact_bytes<'a>(&self, b: &'a [u8]) -> Cow<'a, [u8]> {
        let Some(rules) = &self.rules else {
            return Cow::Borrowed(b);
        };
        let tally = Counts::new();
        let out = match rules.text.apply(b, &tally) {
            None => Cow::Borrowed(b),
            Some(bytes) => Cow::Owned(bytes),
        };
        self.record(&tally, TEXT_KIND);
        out
    }

    /// A line-by-line redactor for a stream read piecewise (it follows PEM blocks across
    /// lines).
    pub fn lines(&self) -> LineRedactor<'_> {
        LineRedactor::new(self)
    }

    /// What each redactor did so far: name → number of values replaced. Built-in redactors
    /// are always listed; custom ones when configured.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        Kind::ALL
            .iter()
            .filter(|k| match k {
                Kind::CustomLiteral => self.custom_literals,
                Kind::CustomRegex => self.custom_regexes,
                _ => true,
            })
            .map(|&k| (k.name().to_string(), self.counts.get(k)))
            .collect()
    }

    /// What each redactor did per resource kind: redactor name → kind → values replaced.
    pub fn counts_by_kind(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.by_kind
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The manifest's `redaction` record.
    pub fn summary(&self) -> ktriage_schema::manifest::Redaction {
        ktriage_schema::manifest::Redaction {
            enabled: self.is_enabled(),
            counts: if self.is_enabled() {
                self.counts()
            } else {
                BTreeMap::new()
            },
            by_kind: self.counts_by_kind(),
        }
    }
}

/// The items of a `kind: ...List` object, so each is counted under its own kind.
fn list_items(value: &mut serde_json::Value) -> Option<&mut Vec<serde_json::Value>> {
    let is_list = value
        .get("kind")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|k| k.ends_with("List"));
    if !is_list {
        return None;
    }
    value.get_mut("items")?.as_array_mut()
}

#[cfg(test)]
mod tests;
