//! Redaction: nothing secret leaves the customer's site. Every object and every log passes
//! through a [`Redactor`] before a byte of it is written to the bundle.
//!
//! Two kinds of redactors run:
//! - by position, on objects ([`json`]): Secret `data`/`stringData` values, environment
//!   variables named like credentials, ConfigMap entries whose key names a credential;
//! - by shape, on every string and log line ([`rules`]): PEM private keys, JWTs, bearer
//!   tokens, passwords in URLs, kubeconfig-style credential fields, plus the user's own
//!   literals and regexes (`--redact FILE`).
//!
//! A secret is replaced by `<redacted len=N>` (its length in bytes stays, so an empty or a
//! truncated value is still visible). The counters record what each redactor did, never a
//! value; they are atomics so one redactor can be shared by every task of a collection.

mod config;
mod json;
mod lines;
mod names;
mod rules;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub use config::{RedactConfig, RedactConfigError};
pub use lines::LineRedactor;
pub use names::is_credential_name;

/// The redactors, each with its own counter in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    SecretData,
    EnvCredential,
    ConfigMapCredential,
    PemPrivateKey,
    Jwt,
    BearerToken,
    UrlPassword,
    KubeconfigCredential,
    CustomLiteral,
    CustomRegex,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::SecretData,
        Kind::EnvCredential,
        Kind::ConfigMapCredential,
        Kind::PemPrivateKey,
        Kind::Jwt,
        Kind::BearerToken,
        Kind::UrlPassword,
        Kind::KubeconfigCredential,
        Kind::CustomLiteral,
        Kind::CustomRegex,
    ];

    /// Name used in the manifest's `redaction.counts`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::SecretData => "secret-data",
            Kind::EnvCredential => "env-credential",
            Kind::ConfigMapCredential => "configmap-credential",
            Kind::PemPrivateKey => "pem-private-key",
            Kind::Jwt => "jwt",
            Kind::BearerToken => "bearer-token",
            Kind::UrlPassword => "url-password",
            Kind::KubeconfigCredential => "kubeconfig-credential",
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
}

/// Redacts objects, strings and log bytes, counting what it did. Shareable across tasks
/// (`Arc<Redactor>`): all methods take `&self`.
pub struct Redactor {
    /// `None` when redaction is turned off.
    rules: Option<Rules>,
    custom_literals: bool,
    custom_regexes: bool,
    counts: Counts,
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
            counts: Counts::new(),
        })
    }

    /// A redactor that changes nothing, for a collection whose user turned redaction off.
    pub fn disabled() -> Self {
        Redactor {
            rules: None,
            custom_literals: false,
            custom_regexes: false,
            counts: Counts::new(),
        }
    }

    /// Whether this redactor redacts at all.
    pub fn is_enabled(&self) -> bool {
        self.rules.is_some()
    }

    /// Redacts a Kubernetes object (or list, or any JSON) in place.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        if self.is_enabled() {
            json::walk(self, value, 0);
        }
    }

    /// Redacts secrets found in a string by the text rules.
    pub fn redact_text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let Some(rules) = &self.rules else {
            return Cow::Borrowed(s);
        };
        match rules.text.apply(s.as_bytes(), &self.counts) {
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
        match rules.text.apply(b, &self.counts) {
            None => Cow::Borrowed(b),
            Some(bytes) => Cow::Owned(bytes),
        }
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

    /// The manifest's `redaction` record.
    pub fn summary(&self) -> ktriage_schema::manifest::Redaction {
        ktriage_schema::manifest::Redaction {
            enabled: self.is_enabled(),
            counts: if self.is_enabled() {
                self.counts()
            } else {
                BTreeMap::new()
            },
        }
    }
}

#[cfg(test)]
mod tests;
