//! Redaction of host files and logs before they enter a bundle.
//!
//! The shared [`Redactor`] does the work; node mode adds two passes for configuration files:
//! values of secret-looking keys in configuration formats (`token: x`, `password = "x"`,
//! `"auth": "x"`, `identitytoken = "x"`, `--token=x`), since host files (k3s/rke2
//! `config.yaml`, `registries.yaml`, containerd registry auth) carry join tokens and registry
//! credentials in exactly these shapes; and PEM private-key blocks, which are removed even
//! when the user turned redaction off (a key must never leave the host).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::redact::Redactor;

/// Redaction counter names added by node mode.
pub const COUNT_PRIVATE_KEY: &str = "host-private-key";
/// See [`COUNT_PRIVATE_KEY`].
pub const COUNT_CONFIG_SECRET: &str = "host-config-secret";

static PEM_PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
    )
    .expect("valid regex")
});

static SECRET_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?im)(?P<key>["']?[a-z0-9_.-]*(?:token|password|passwd|secret|auth|credentials?|api[-_]?key|key-data)["']?[ \t]*[:=][ \t]*)(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,}\]#"']+)"#,
    )
    .expect("valid regex")
});

/// The text standing in for a secret of `len` bytes (the shared redactor's form).
fn mark(len: usize) -> String {
    format!("<redacted len={len}>")
}

/// Redacts host text, keeping node mode's counts next to the shared redactor's.
pub struct Scrubber {
    redactor: Redactor,
    counts: BTreeMap<String, u64>,
}

impl Scrubber {
    /// Wraps `redactor` (possibly [`Redactor::disabled`]).
    pub fn new(redactor: Redactor) -> Self {
        Scrubber {
            redactor,
            counts: BTreeMap::new(),
        }
    }

    /// Whether redaction is on.
    pub fn enabled(&self) -> bool {
        self.redactor.is_enabled()
    }

    /// Redacts a configuration file (text or not): secret-looking values, then the shared
    /// redactor; private keys always.
    pub fn config(&mut self, data: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(data);
        let text = self.strip_private_keys(&text);
        if !self.redactor.is_enabled() {
            return text.into_bytes();
        }
        let text = self.strip_config_secrets(&text);
        self.redactor.redact_text(&text).into_owned().into_bytes()
    }

    /// Redacts a log. Log lines are not treated as configuration (`secret=ns/name` in a log
    /// names an object and is kept), and bytes outside a match are kept as they are.
    pub fn log(&mut self, data: &[u8]) -> Vec<u8> {
        if self.redactor.is_enabled() {
            return self.redactor.redact_bytes(data).into_owned();
        }
        match PEM_PRIVATE_KEY.is_match(&String::from_utf8_lossy(data)) {
            true => self
                .strip_private_keys(&String::from_utf8_lossy(data))
                .into_bytes(),
            false => data.to_vec(),
        }
    }

    fn strip_private_keys(&mut self, text: &str) -> String {
        let mut n = 0u64;
        let out = PEM_PRIVATE_KEY.replace_all(text, |c: &Captures| {
            n += 1;
            mark(c[0].len())
        });
        self.bump(COUNT_PRIVATE_KEY, n);
        out.into_owned()
    }

    fn strip_config_secrets(&mut self, text: &str) -> String {
        let mut n = 0u64;
        let out = SECRET_VALUE.replace_all(text, |c: &Captures| {
            let key = &c["key"];
            let value = &c["value"];
            let (quote, bare) = match value.chars().next() {
                Some(q @ ('"' | '\'')) => (
                    q.to_string(),
                    &value[1..value.len().saturating_sub(1).max(1)],
                ),
                _ => (String::new(), value),
            };
            if is_harmless_value(bare) || key.to_ascii_lowercase().contains("file") {
                return Cow::Owned(format!("{key}{value}"));
            }
            n += 1;
            Cow::Owned(format!("{key}{quote}{}{quote}", mark(bare.len())))
        });
        self.bump(COUNT_CONFIG_SECRET, n);
        out.into_owned()
    }

    fn bump(&mut self, name: &str, n: u64) {
        if n > 0 {
            *self.counts.entry(name.to_string()).or_default() += n;
        }
    }

    /// The manifest's `redaction` record: the shared redactor's counts and node mode's own.
    pub fn summary(&self) -> ktriage_schema::manifest::Redaction {
        let mut summary = self.redactor.summary();
        for (k, v) in &self.counts {
            *summary.counts.entry(k.clone()).or_default() += v;
        }
        summary
    }
}

/// Values that are not secrets even under a secret-looking key: booleans, empty values,
/// placeholders, and file paths (a path to a token file is evidence, not a credential).
fn is_harmless_value(v: &str) -> bool {
    v.is_empty()
        || v.starts_with('/')
        || v.starts_with("<redacted")
        || v.starts_with('[')
        || v.starts_with('{')
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "none" | "~" | "yes" | "no" | "webhook" | "alwaysallow"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::RedactConfig;

    fn enabled() -> Scrubber {
        Scrubber::new(Redactor::new(&RedactConfig::default()).expect("redactor"))
    }

    #[test]
    fn private_keys_go_even_without_redaction() {
        let mut s = Scrubber::new(Redactor::disabled());
        let text = "a\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\nb\n";
        let out = String::from_utf8(s.config(text.as_bytes())).expect("utf-8");
        assert!(
            out.starts_with("a\n<redacted len=") && out.ends_with(">\nb\n"),
            "{out}"
        );
        assert_eq!(s.summary().counts.get(COUNT_PRIVATE_KEY), Some(&1));
        let cut = String::from_utf8(s.log(b"x\n-----BEGIN PRIVATE KEY-----\nMIIE")).expect("utf-8");
        assert!(!cut.contains("MIIE"), "{cut}");
        assert_eq!(s.log(b"plain \xff bytes"), b"plain \xff bytes");
    }

    #[test]
    fn config_secrets() {
        let mut s = enabled();
        let mut config = |t: &str| String::from_utf8(s.config(t.as_bytes())).expect("utf-8");
        let yaml = "token: K10abc::server:def\nagent-token: 'xyz'\nwrite-kubeconfig-mode: \"0644\"\nauth:\n  username: u\n  password: p4ss\n";
        let out = config(yaml);
        assert!(!out.contains("K10abc"), "{out}");
        assert!(!out.contains("xyz"), "{out}");
        assert!(!out.contains("p4ss"), "{out}");
        assert!(out.contains("username: u"), "{out}");
        assert!(out.contains("auth:\n"), "{out}");
        assert!(out.contains("write-kubeconfig-mode: \"0644\""), "{out}");
        let toml = "[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r\".auth]\n  password = \"hunter2\"\n  auth = \"dXNlcjpwYXNz\"\n  identitytoken = \"idt0k\"\n";
        let out = config(toml);
        assert!(
            !out.contains("hunter2") && !out.contains("dXNlcjpwYXNz") && !out.contains("idt0k"),
            "{out}"
        );
        assert!(out.contains("password = \"<redacted len=7>\""), "{out}");
        let flags = "ExecStart=/usr/bin/k3s agent --token=abc123 --token-file=/etc/t --enable-bootstrap-token-auth=true";
        let out = config(flags);
        assert!(!out.contains("abc123"), "{out}");
        assert!(out.contains("--token-file=/etc/t"), "{out}");
        assert!(out.contains("--enable-bootstrap-token-auth=true"), "{out}");
        let kubelet =
            "authentication:\n  anonymous:\n    enabled: false\nauthorization:\n  mode: Webhook\n";
        assert_eq!(config(kubelet), kubelet);
        let json = "{\"auths\": {\"r.example\": {\"auth\": \"c2VjcmV0\"}}}";
        assert!(!config(json).contains("c2VjcmV0"));
        assert!(
            s.summary()
                .counts
                .get(COUNT_CONFIG_SECRET)
                .copied()
                .unwrap_or(0)
                >= 5
        );
    }
}
