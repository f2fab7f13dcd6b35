//! Certificates and private-key files in the host's PKI directories.
//!
//! Every PEM certificate (chains too) becomes a [`CertificateInfo`]. A file that holds a
//! private key becomes a [`KeyFile`]: path, mode and owner only. `*.key` files are never
//! opened; a `.pem`/`.crt` that turns out to hold a key next to its certificate (the kubelet's
//! `kubelet-client-current.pem`) gives its certificate, and its key block is dropped unread
//! past the PEM framing.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;

use chrono::{DateTime, SecondsFormat, Utc};
use ktriage_schema::host::{CertificateInfo, KeyFile};
use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use ktriage_schema::writer::sha256_hex;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use super::Sink;
use super::hostfs::HostFs;

/// Directories searched for certificates and keys, and whether to descend into their
/// subdirectories (the k3s/rke2 agent directories also hold the runtime's data: not those).
pub const PKI_DIRS: &[(&str, bool)] = &[
    ("/etc/kubernetes/pki", true),
    ("/etc/kubernetes/ssl", true),
    ("/var/lib/kubelet/pki", true),
    ("/etc/etcd/pki", true),
    ("/etc/etcd/ssl", true),
    ("/var/lib/rancher/k3s/server/tls", true),
    ("/var/lib/rancher/k3s/agent", false),
    ("/var/lib/rancher/rke2/server/tls", true),
    ("/var/lib/rancher/rke2/agent", false),
    // k0s: the controller's PKI (etcd's in pki/etcd) and its kubelet's rotated certificates.
    ("/var/lib/k0s/pki", true),
    ("/var/lib/k0s/kubelet/pki", true),
];

/// File name endings read as certificates.
const CERT_SUFFIXES: &[&str] = &[".crt", ".pem", ".cert", ".cer"];
/// File name endings that are keys: never opened.
const KEY_SUFFIXES: &[&str] = &[".key"];
/// Largest certificate file read.
const MAX_CERT_FILE_BYTES: u64 = 1 << 20;
/// Deepest recursion below a PKI directory.
const MAX_DEPTH: usize = 4;
/// Most files looked at below one PKI directory.
const MAX_FILES_PER_DIR: usize = 2000;

/// What the PKI walk found.
#[derive(Debug, Default)]
pub struct Pki {
    /// Certificates, in walk order.
    pub certificates: Vec<CertificateInfo>,
    /// Private-key files.
    pub key_files: Vec<KeyFile>,
}

/// Walks every PKI directory present.
pub fn collect<W: Write>(fs: &HostFs, sink: &mut Sink<W>) -> Pki {
    let mut pki = Pki::default();
    for &(dir, recursive) in PKI_DIRS {
        let mut files = Vec::new();
        let depth = if recursive { 0 } else { MAX_DEPTH };
        walk(fs, sink, dir, depth, &mut files);
        for path in files {
            visit(fs, sink, &path, &mut pki);
        }
    }
    pki
}

fn walk<W: Write>(fs: &HostFs, sink: &mut Sink<W>, dir: &str, depth: usize, out: &mut Vec<String>) {
    if out.len() >= MAX_FILES_PER_DIR {
        return;
    }
    let entries = match fs.list_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            sink.optional_gap(GapKind::Certificate, dir, &e);
            return;
        }
    };
    for entry in entries {
        if out.len() >= MAX_FILES_PER_DIR {
            break;
        }
        if entry.is_dir {
            if depth < MAX_DEPTH {
                walk(fs, sink, &entry.path, depth + 1, out);
            }
        } else if has_suffix(&entry.name, KEY_SUFFIXES) || has_suffix(&entry.name, CERT_SUFFIXES) {
            out.push(entry.path);
        }
    }
}

fn visit<W: Write>(fs: &HostFs, sink: &mut Sink<W>, path: &str, pki: &mut Pki) {
    let name = path.rsplit('/').next().unwrap_or(path);
    if has_suffix(name, KEY_SUFFIXES) {
        match key_file(fs, path) {
            Ok(k) => pki.key_files.push(k),
            Err(e) => sink.optional_gap(GapKind::KeyFile, path, &e),
        }
        return;
    }
    let read = match fs.read_head(path, MAX_CERT_FILE_BYTES) {
        Ok(r) => r,
        Err(e) => {
            sink.optional_gap(GapKind::Certificate, path, &e);
            return;
        }
    };
    if holds_private_key(&read.data) {
        match key_file(fs, path) {
            Ok(k) => pki.key_files.push(k),
            Err(e) => sink.optional_gap(GapKind::KeyFile, path, &e),
        }
    }
    let certs = parse_certificates(path, &read.data);
    if certs.is_empty() && !holds_private_key(&read.data) && looks_like_certificate(&read.data) {
        sink.gap(
            Gap::new(GapKind::Certificate, path, GapReason::Error)
                .with_detail("holds a certificate block that could not be parsed"),
        );
    }
    pki.certificates.extend(certs);
}

fn key_file(fs: &HostFs, path: &str) -> Result<KeyFile, super::hostfs::ReadError> {
    let meta = fs.metadata(path)?;
    Ok(KeyFile {
        path: path.to_string(),
        mode: format!("{:04o}", meta.mode() & 0o7777),
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

fn has_suffix(name: &str, suffixes: &[&str]) -> bool {
    suffixes.iter().any(|s| name.ends_with(s))
}

/// Whether `data` holds a PEM private key of any kind.
pub fn holds_private_key(data: &[u8]) -> bool {
    let needle = b"PRIVATE KEY-----";
    data.windows(needle.len()).any(|w| w == needle)
}

fn looks_like_certificate(data: &[u8]) -> bool {
    let needle = b"-----BEGIN CERTIFICATE-----";
    data.windows(needle.len()).any(|w| w == needle)
}

/// Every certificate in `data` (PEM blocks labelled `CERTIFICATE`, or one DER certificate),
/// described, with `path` and its position. Other blocks are skipped.
pub fn parse_certificates(path: &str, data: &[u8]) -> Vec<CertificateInfo> {
    let mut out = Vec::new();
    if data.first() == Some(&0x30) {
        if let Some(info) = describe(path, 0, data) {
            out.push(info);
        }
        return out;
    }
    let mut index = 0u32;
    for pem in Pem::iter_from_buffer(data) {
        let Ok(pem) = pem else { break };
        if pem.label != "CERTIFICATE" {
            continue;
        }
        if let Some(info) = describe(path, index, &pem.contents) {
            out.push(info);
        }
        index += 1;
    }
    out
}

/// Describes one DER certificate.
fn describe(path: &str, index: u32, der: &[u8]) -> Option<CertificateInfo> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let (key_algorithm, key_bits) = key_info(&cert);
    Some(CertificateInfo {
        path: path.to_string(),
        index,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans: sans(&cert),
        not_before: rfc3339(cert.validity().not_before.timestamp()),
        not_after: rfc3339(cert.validity().not_after.timestamp()),
        serial: format!("{:x}", cert.tbs_certificate.serial),
        is_ca: cert
            .basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.value.ca),
        key_algorithm,
        key_bits,
        fingerprint_sha256: sha256_hex(der),
    })
}

/// RFC 3339 in UTC with `Z`, to the second.
pub fn rfc3339(ts: i64) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(d) => Some(format!("DNS:{d}")),
            GeneralName::IPAddress(b) => ip_from_bytes(b).map(|ip| format!("IP:{ip}")),
            GeneralName::URI(u) => Some(format!("URI:{u}")),
            GeneralName::RFC822Name(e) => Some(format!("email:{e}")),
            _ => None,
        })
        .collect()
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

const OID_ED25519: &str = "1.3.101.112";
const OID_ED448: &str = "1.3.101.113";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";

fn key_info(cert: &X509Certificate<'_>) -> (String, u32) {
    let spki = cert.public_key();
    let algorithm_oid = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".into(), bit_length(rsa.modulus)),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let bits = match curve.as_deref() {
                Some(OID_P256) => 256,
                Some(OID_P384) => 384,
                Some(OID_P521) => 521,
                _ => u32::try_from(point.key_size()).unwrap_or(0),
            };
            ("EC".into(), bits)
        }
        Ok(PublicKey::DSA(y)) => ("DSA".into(), bit_length(y)),
        _ if algorithm_oid == OID_ED25519 => ("Ed25519".into(), 256),
        _ if algorithm_oid == OID_ED448 => ("Ed448".into(), 456),
        _ => (algorithm_oid, 0),
    }
}

/// Bit length of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> u32 {
    let trimmed: &[u8] = match bytes.iter().position(|&b| b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    let lead = u32::from(trimmed[0]);
    (trimmed.len() as u32 - 1) * 8 + (32 - lead.leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00]), 0);
        let mut modulus = vec![0x00, 0xc0];
        modulus.extend(std::iter::repeat_n(0xff, 255));
        assert_eq!(bit_length(&modulus), 2048);
    }

    #[test]
    fn rfc3339_is_utc_z() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn keys_are_seen() {
        assert!(holds_private_key(b"-----BEGIN RSA PRIVATE KEY-----\nx\n"));
        assert!(!holds_private_key(b"-----BEGIN CERTIFICATE-----\n"));
        assert!(
            parse_certificates(
                "/x",
                b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
            )
            .is_empty()
        );
    }
}
