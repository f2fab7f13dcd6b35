//! Consistent pseudonyms (`--pseudonymize hosts,ips,names`): host names, IP addresses and
//! chosen names are replaced by stable tokens in every entry of a bundle — objects, container
//! and service logs, host files, entry paths and the manifest — so a bundle can be shared
//! without them and still be analyzed: the same input always gives the same token.
//!
//! Tokens derive from a per-bundle random [`Key`] by HMAC-SHA256 ([`words`] for names,
//! [`ipmap`] for addresses, prefix-preserving so CIDR membership survives). The key and every
//! token's original go to a key file beside the bundle ([`key`]), never into it.

pub mod ipmap;
pub mod key;
pub mod nodes;
pub mod scan;
pub mod spool;
pub mod words;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

pub use key::{Key, KeyFile, key_file_path};

/// Hex digits of a host, domain or name token (40 bits: no collision in practice among a
/// cluster's names).
const TOKEN_HEX: usize = 10;

/// Largest `--pseudonymize-names` file.
const MAX_NAMES_FILE: u64 = 1 << 20;

/// Domains too generic to be a customer's and used by Kubernetes itself; a host under one
/// keeps it, so cluster DNS names stay recognizable.
const KEPT_DOMAINS: &[&str] = &["local", "cluster.local", "svc.cluster.local", "localdomain"];

/// What to replace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes {
    pub hosts: bool,
    pub ips: bool,
    pub names: bool,
}

impl Classes {
    /// Parses `hosts,ips,names` (any subset, in any order).
    pub fn parse(list: &[String]) -> anyhow::Result<Self> {
        let mut c = Classes::default();
        for item in list.iter().flat_map(|s| s.split(',')).map(str::trim) {
            match item {
                "hosts" => c.hosts = true,
                "ips" => c.ips = true,
                "names" => c.names = true,
                "" => {}
                other => bail!("--pseudonymize: unknown class {other:?} (hosts, ips, names)"),
            }
        }
        Ok(c)
    }

    /// The classes by name, for the manifest and the key file.
    pub fn names(&self) -> Vec<String> {
        [
            ("hosts", self.hosts),
            ("ips", self.ips),
            ("names", self.names),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n.to_string())
        .collect()
    }

    pub fn any(&self) -> bool {
        self.hosts || self.ips || self.names
    }
}

/// The pseudonym options of a collection, checked.
#[derive(Debug, Clone)]
pub struct PseudonymOptions {
    pub classes: Classes,
    /// The chosen names (`--pseudonymize-names`).
    pub names: Vec<String>,
    /// The key: reused from `--pseudonymize-key`, else `None` for a new one per bundle.
    pub key: Option<Key>,
    /// The `--pseudonymize-key` file, for the manifest.
    pub key_file: Option<PathBuf>,
    /// Host names of the collection that wrote the reused key file: a node bundle then
    /// replaces the other nodes' names too (in `/etc/hosts`, in logs).
    pub known_hosts: Vec<String>,
}

impl PseudonymOptions {
    /// Checks the flags: `None` when no class is asked for.
    pub fn from_flags(
        classes: &[String],
        names_file: Option<&Path>,
        key_file: Option<&Path>,
    ) -> anyhow::Result<Option<Self>> {
        let classes = Classes::parse(classes)?;
        if !classes.any() {
            if names_file.is_some() || key_file.is_some() {
                bail!("--pseudonymize-names and --pseudonymize-key need --pseudonymize");
            }
            return Ok(None);
        }
        let names = match (classes.names, names_file) {
            (true, Some(path)) => read_names(path)?,
            (true, None) => bail!("--pseudonymize names needs --pseudonymize-names FILE"),
            (false, Some(_)) => bail!("--pseudonymize-names needs --pseudonymize names"),
            (false, None) => Vec::new(),
        };
        let (key, known_hosts) = match key_file {
            Some(path) => {
                let (key, file) = key::read(path)?;
                let hosts = file
                    .hosts
                    .into_iter()
                    .filter(|(token, _)| token.starts_with("host-"))
                    .map(|(_, original)| original)
                    .collect();
                (Some(key), hosts)
            }
            None => (None, Vec::new()),
        };
        Ok(Some(PseudonymOptions {
            classes,
            names,
            key,
            key_file: key_file.map(Path::to_path_buf),
            known_hosts,
        }))
    }

    /// The options as the manifest records them (no key, no names).
    pub fn to_manifest_json(&self) -> Value {
        serde_json::json!({
            "classes": self.classes.names(),
            "names": self.names.len(),
            "key_reused": self.key_file.is_some(),
        })
    }
}

/// One name a line; blank lines and `#` comments are skipped.
fn read_names(path: &Path) -> anyhow::Result<Vec<String>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("--pseudonymize-names {}", path.display()))?;
    let mut text = String::new();
    use std::io::Read;
    file.take(MAX_NAMES_FILE + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("--pseudonymize-names {}: not UTF-8 text", path.display()))?;
    if text.len() as u64 > MAX_NAMES_FILE {
        bail!(
            "--pseudonymize-names {}: larger than {} KiB",
            path.display(),
            MAX_NAMES_FILE >> 10
        );
    }
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if let Some(bad) = names.iter().find(|n| n.chars().any(char::is_control)) {
        bail!(
            "--pseudonymize-names {}: a name holds a control character: {}",
            path.display(),
            bad.escape_debug()
        );
    }
    if names.is_empty() {
        bail!("--pseudonymize-names {}: no names in it", path.display());
    }
    Ok(names)
}

/// Replaces the chosen classes in everything it is given. Shareable across tasks.
pub struct Pseudonymizer {
    classes: Classes,
    key: Key,
    words: words::Words,
    ips: ipmap::IpMapper,
    hosts: BTreeMap<String, String>,
    names: BTreeMap<String, String>,
}

impl Pseudonymizer {
    /// A pseudonymizer for `options`, knowing the host names `hosts` (node names, host names
    /// from node addresses, the host's own name).
    pub fn new(options: &PseudonymOptions, hosts: &[String]) -> anyhow::Result<Self> {
        let key = match &options.key {
            Some(k) => k.clone(),
            None => Key::random()?,
        };
        let mac = Hmac::<Sha256>::new_from_slice(&key.0).context("HMAC key")?;
        let token = |kind: &str, text: &str| -> String {
            let mut m = mac.clone();
            m.update(kind.as_bytes());
            m.update(b"\0");
            m.update(text.to_ascii_lowercase().as_bytes());
            let digest = hex::encode(m.finalize().into_bytes());
            format!("{kind}-{}", &digest[..TOKEN_HEX])
        };
        let mut pairs: BTreeMap<String, String> = BTreeMap::new();
        let mut host_map = BTreeMap::new();
        if options.classes.hosts {
            for host in hosts.iter().chain(&options.known_hosts) {
                let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
                if host.is_empty() || host == "localhost" || host.parse::<IpAddr>().is_ok() {
                    continue;
                }
                let (first, domain) = match host.split_once('.') {
                    Some((f, d)) => (f, Some(d)),
                    None => (host.as_str(), None),
                };
                let label = token("host", first);
                host_map.insert(label.clone(), first.to_string());
                pairs.entry(first.to_string()).or_insert(label.clone());
                if let Some(domain) = domain {
                    let full = if KEPT_DOMAINS.contains(&domain) {
                        format!("{label}.{domain}")
                    } else {
                        let dom = token("dom", domain);
                        host_map.insert(dom.clone(), domain.to_string());
                        pairs.entry(domain.to_string()).or_insert(dom.clone());
                        format!("{label}.{dom}")
                    };
                    host_map.insert(full.clone(), host.clone());
                    pairs.entry(host.clone()).or_insert(full);
                }
            }
        }
        let mut name_map = BTreeMap::new();
        if options.classes.names {
            for name in &options.names {
                let lower = name.to_ascii_lowercase();
                let t = token("name", &lower);
                name_map.insert(t.clone(), name.clone());
                pairs.entry(lower).or_insert(t);
            }
        }
        Ok(Pseudonymizer {
            classes: options.classes,
            words: words::Words::new(pairs.into_iter().collect())?,
            ips: ipmap::IpMapper::new(&key.0),
            key,
            hosts: host_map,
            names: name_map,
        })
    }

    /// `data` with every chosen class replaced.
    pub fn apply<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        let mut data = Cow::Borrowed(data);
        if let Some(replaced) = self.words.replace(&data) {
            data = Cow::Owned(replaced);
        }
        if self.classes.ips {
            let map = |addr: IpAddr, prefix: Option<u8>| match prefix {
                Some(len) => ipmap::map_network(&self.ips, addr, len),
                None => self.ips.map(addr),
            };
            if let Some(replaced) = scan::replace_ips(&data, &map) {
                data = Cow::Owned(replaced);
            }
        }
        data
    }

    /// A string with every chosen class replaced.
    pub fn apply_str(&self, s: &str) -> String {
        match self.apply(s.as_bytes()) {
            Cow::Borrowed(_) => s.to_string(),
            // Tokens are ASCII and replace whole UTF-8 sequences: still UTF-8.
            Cow::Owned(b) => String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }

    /// Every string of a JSON value (not its keys) with the chosen classes replaced.
    pub fn apply_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.apply_str(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.apply_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.apply_json(v)),
            _ => {}
        }
    }

    /// The manifest with the chosen classes replaced in every string value (its source,
    /// options and gaps; the entries' paths were replaced as they were written).
    pub fn apply_manifest(
        &self,
        manifest: ktriage_schema::Manifest,
    ) -> anyhow::Result<ktriage_schema::Manifest> {
        let mut value = serde_json::to_value(&manifest)?;
        self.apply_json(&mut value);
        let mut out: ktriage_schema::Manifest =
            serde_json::from_value(value).context("pseudonymizing the manifest")?;
        out.entries = manifest.entries;
        Ok(out)
    }

    /// The key file's contents: the key and every pseudonym with its original.
    pub fn key_file(&self) -> KeyFile {
        KeyFile {
            about: key::ABOUT.into(),
            key: hex::encode(&self.key.0),
            classes: self.classes.names(),
            hosts: self.hosts.clone(),
            ips: self
                .ips
                .originals()
                .into_iter()
                .map(|(m, a)| (m.to_string(), a.to_string()))
                .collect(),
            names: self.names.clone(),
        }
    }

    /// Writes the key file beside `bundle`; returns its path.
    pub fn write_key_file(&self, bundle: &Path) -> anyhow::Result<PathBuf> {
        let path = key_file_path(bundle);
        key::write_private(&path, &self.key_file())?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests;
