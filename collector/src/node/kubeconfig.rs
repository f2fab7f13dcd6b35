//! Kubeconfigs on the host, summarised: which server, which CA (embedded or a file, and its
//! fingerprint), whether TLS verification is off, and how each user authenticates. Tokens,
//! passwords and keys are never copied; the file itself is not stored.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use base64::Engine;
use ktriage_schema::host::{KubeconfigCluster, KubeconfigSummary, KubeconfigUser};
use regex::Regex;
use serde_yaml_ng::Value;

use super::certs;
use super::hostfs::{self, HostFs, ReadError};
use crate::node::hostfs::parent;

/// Largest kubeconfig read.
const MAX_KUBECONFIG_BYTES: u64 = 1 << 20;
/// Largest certificate file read for a fingerprint or expiry.
const MAX_CERT_BYTES: u64 = 1 << 20;

/// Kubeconfigs looked for on every host, when present.
const WELL_KNOWN: &[&str] = &[
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/super-admin.conf",
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/bootstrap-kubelet.conf",
    "/etc/kubernetes/controller-manager.conf",
    "/etc/kubernetes/scheduler.conf",
    "/var/lib/kubelet/kubeconfig",
    "/etc/rancher/k3s/k3s.yaml",
    "/etc/rancher/rke2/rke2.yaml",
    "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
    "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
    "/etc/cni/net.d/calico-kubeconfig",
];

static KUBECONFIG_FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"--(bootstrap-)?kubeconfig[= ]["']?([^\s"']+)"#).expect("valid regex")
});

/// Kubeconfig paths to summarise: the well-known ones, every `/etc/kubernetes/*.conf`, the
/// ones the kubelet's flags name (`flag_texts`: unit files, env files), and `extra`.
/// Returns `(path, referenced)`: a referenced one that is missing is worth a gap.
pub fn candidates(
    fs: &HostFs,
    flag_texts: &[(String, String)],
    extra: &[String],
) -> Vec<(String, bool)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut push = |p: String, referenced: bool, out: &mut Vec<(String, bool)>| {
        if seen.insert(p.clone()) {
            out.push((p, referenced));
        }
    };
    for (_, text) in flag_texts {
        for cap in KUBECONFIG_FLAG.captures_iter(text) {
            // The bootstrap kubeconfig is gone once the kubelet has its certificate: its
            // absence is normal. The kubeconfig proper is not.
            let bootstrap = cap.get(1).is_some();
            let p = &cap[2];
            if p.starts_with('/') {
                push(p.to_string(), !bootstrap, &mut out);
            }
        }
    }
    for p in WELL_KNOWN {
        push(p.to_string(), false, &mut out);
    }
    if let Ok(entries) = fs.list_dir("/etc/kubernetes") {
        for e in entries
            .into_iter()
            .filter(|e| !e.is_dir && e.name.ends_with(".conf"))
        {
            push(e.path, false, &mut out);
        }
    }
    for p in extra {
        push(p.clone(), false, &mut out);
    }
    out
}

/// Summarises the kubeconfig at host path `path`.
pub fn summarise(fs: &HostFs, path: &str) -> Result<KubeconfigSummary, ReadError> {
    let read = fs.read_head(path, MAX_KUBECONFIG_BYTES)?;
    let doc: Value = serde_yaml_ng::from_slice(&read.data).map_err(|e| ReadError {
        reason: ktriage_schema::manifest::GapReason::Error,
        // The parser's message may quote the document; keep only where it failed.
        detail: format!(
            "not a readable kubeconfig (YAML error{})",
            e.location()
                .map(|l| format!(" at line {}", l.line()))
                .unwrap_or_default()
        ),
    })?;
    let base = parent(path);
    let mut summary = KubeconfigSummary {
        path: path.to_string(),
        current_context: str_at(&doc, "current-context"),
        ..Default::default()
    };
    for entry in seq_at(&doc, "clusters") {
        let c = entry.get("cluster").unwrap_or(&Value::Null);
        let mut cluster = KubeconfigCluster {
            name: str_at(entry, "name"),
            server: str_at(c, "server"),
            insecure_skip_tls_verify: bool_at(c, "insecure-skip-tls-verify"),
            ..Default::default()
        };
        let ca_data = str_at(c, "certificate-authority-data");
        let ca_path = str_at(c, "certificate-authority");
        if !ca_data.is_empty() {
            cluster.ca_embedded = true;
            cluster.ca_fingerprint_sha256 = decode_b64(&ca_data)
                .and_then(|pem| first_cert(&pem).map(|c| c.fingerprint_sha256))
                .unwrap_or_default();
        } else if !ca_path.is_empty() {
            let abs = hostfs::join_host(base, &ca_path);
            cluster.ca_fingerprint_sha256 = read_first_cert(fs, &abs)
                .map(|c| c.fingerprint_sha256)
                .unwrap_or_default();
            cluster.ca_path = abs;
        }
        summary.clusters.push(cluster);
    }
    for entry in seq_at(&doc, "users") {
        let u = entry.get("user").unwrap_or(&Value::Null);
        let mut user = KubeconfigUser {
            name: str_at(entry, "name"),
            auth: auth_kind(u).to_string(),
            ..Default::default()
        };
        let cert_data = str_at(u, "client-certificate-data");
        let cert_path = str_at(u, "client-certificate");
        if !cert_data.is_empty() {
            user.client_certificate_not_after = decode_b64(&cert_data)
                .and_then(|pem| first_cert(&pem).map(|c| c.not_after))
                .unwrap_or_default();
        } else if !cert_path.is_empty() {
            let abs = hostfs::join_host(base, &cert_path);
            user.client_certificate_not_after = read_first_cert(fs, &abs)
                .map(|c| c.not_after)
                .unwrap_or_default();
            user.client_certificate_path = abs;
        }
        summary.users.push(user);
    }
    Ok(summary)
}

/// How a kubeconfig user authenticates, by the first credential field present.
fn auth_kind(user: &Value) -> &'static str {
    const KINDS: &[(&str, &str)] = &[
        ("client-certificate-data", "client-certificate-data"),
        ("client-certificate", "client-certificate"),
        ("token", "token"),
        ("tokenFile", "token-file"),
        ("exec", "exec"),
        ("auth-provider", "auth-provider"),
        ("password", "basic"),
        ("username", "basic"),
    ];
    KINDS
        .iter()
        .find(|(key, _)| user.get(*key).is_some_and(|v| !v.is_null()))
        .map(|(_, kind)| *kind)
        .unwrap_or("none")
}

fn read_first_cert(fs: &HostFs, path: &str) -> Option<ktriage_schema::host::CertificateInfo> {
    let read = fs.read_head(path, MAX_CERT_BYTES).ok()?;
    first_cert(&read.data)
}

/// The first certificate of PEM (or DER) `data`, described. Key blocks are skipped unread.
fn first_cert(data: &[u8]) -> Option<ktriage_schema::host::CertificateInfo> {
    certs::parse_certificates("", data).into_iter().next()
}

fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn str_at(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn bool_at(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn seq_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    match v.get(key) {
        Some(Value::Sequence(s)) => s.as_slice(),
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_kinds() {
        let v: Value = serde_yaml_ng::from_str("token: abc").expect("yaml");
        assert_eq!(auth_kind(&v), "token");
        let v: Value = serde_yaml_ng::from_str("exec:\n  command: aws").expect("yaml");
        assert_eq!(auth_kind(&v), "exec");
        let v: Value = serde_yaml_ng::from_str("{}").expect("yaml");
        assert_eq!(auth_kind(&v), "none");
        let v: Value = serde_yaml_ng::from_str(
            "client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\nclient-key: x",
        )
        .expect("yaml");
        assert_eq!(auth_kind(&v), "client-certificate");
    }

    #[test]
    fn kubelet_flags_name_kubeconfigs() {
        let fs = HostFs::new(std::path::Path::new("/nonexistent-root"));
        let texts = vec![(
            "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf".to_string(),
            "Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"".to_string(),
        )];
        let c = candidates(&fs, &texts, &[]);
        assert_eq!(
            c[0],
            ("/etc/kubernetes/bootstrap-kubelet.conf".to_string(), false)
        );
        assert_eq!(c[1], ("/etc/kubernetes/kubelet.conf".to_string(), true));
        assert!(
            c.iter()
                .filter(|(p, _)| p == "/etc/kubernetes/kubelet.conf")
                .count()
                == 1
        );
    }
}
