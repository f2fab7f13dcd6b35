//! The JSON that troubleshoot's host collectors write (`pkg/collect/host_*.go`), as serde
//! types, and its certificate records turned into ours.

use ktriage_schema::host::CertificateInfo;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};
use serde::Deserialize;
use serde_json::Value;

use crate::troubleshoot_host::parse;
use crate::{ImportError, Sink};

/// `certificatesCollection/<name>.json`: a list of `{certificatePath, certificateChain,
/// message}`. Returns how many certificates were reported.
pub(crate) fn certificates(
    node: &str,
    path: &str,
    doc: &Value,
    sink: &mut dyn Sink,
) -> Result<u64, ImportError> {
    let collections: Vec<CertificateCollection> = parse(path, doc)?;
    let mut n = 0;
    for c in collections {
        if c.certificate_chain.is_empty() {
            sink.host_gap(
                node,
                Gap {
                    what: GapKind::Certificate,
                    location: ktriage_schema::text::terminal_safe(&c.certificate_path),
                    reason: if c.message == "cert-missing" {
                        GapReason::NotFound
                    } else {
                        GapReason::Error
                    },
                    detail: crate::troubleshoot::one_line(&format!(
                        "troubleshoot could not read it ({})",
                        c.message
                    )),
                },
            );
            continue;
        }
        for (index, cert) in c.certificate_chain.into_iter().enumerate() {
            sink.host_certificate(node, certificate_info(&c.certificate_path, index, cert))?;
            n += 1;
        }
    }
    Ok(n)
}

/// troubleshoot's parsed certificate as our record. It keeps DNS names only among the
/// SANs, and no serial, key or fingerprint.
fn certificate_info(path: &str, index: usize, cert: ParsedCertificate) -> CertificateInfo {
    CertificateInfo {
        path: path.to_string(),
        index: u32::try_from(index).unwrap_or(u32::MAX),
        subject: cert.subject,
        issuer: cert.issuer,
        sans: cert
            .subject_alternative_names
            .into_iter()
            .map(|n| format!("DNS:{n}"))
            .collect(),
        not_before: cert.not_before,
        not_after: cert.not_after,
        is_ca: cert.is_ca,
        ..CertificateInfo::default()
    }
}

#[derive(Deserialize)]
pub(crate) struct HostOsInfo {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(rename = "kernelVersion", default)]
    pub(crate) kernel_version: String,
    #[serde(rename = "platformVersion", default)]
    pub(crate) platform_version: String,
    #[serde(default)]
    pub(crate) platform: String,
    #[serde(rename = "platformFamily", default)]
    pub(crate) platform_family: String,
}

#[derive(Deserialize)]
pub(crate) struct CpuInfo {
    #[serde(rename = "logicalCount", default)]
    pub(crate) logical_count: u64,
    #[serde(rename = "machineArch", default)]
    pub(crate) machine_arch: String,
}

#[derive(Deserialize)]
pub(crate) struct MemoryInfo {
    #[serde(default)]
    pub(crate) total: u64,
}

#[derive(Deserialize)]
pub(crate) struct KernelModule {
    #[serde(default)]
    pub(crate) status: String,
}

#[derive(Deserialize)]
pub(crate) struct Cgroups {
    #[serde(rename = "cgroup-v1", default)]
    pub(crate) v1: CgroupHierarchy,
    #[serde(rename = "cgroup-v2", default)]
    pub(crate) v2: CgroupHierarchy,
}

#[derive(Deserialize, Default)]
pub(crate) struct CgroupHierarchy {
    #[serde(default)]
    pub(crate) enabled: bool,
    #[serde(default)]
    pub(crate) controllers: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct CertificateCollection {
    #[serde(rename = "certificatePath", default)]
    pub(crate) certificate_path: String,
    #[serde(rename = "certificateChain", default)]
    pub(crate) certificate_chain: Vec<ParsedCertificate>,
    #[serde(default)]
    pub(crate) message: String,
}

/// troubleshoot's `ParsedCertificate` (`pkg/collect/certificates.go`).
#[derive(Deserialize)]
pub(crate) struct ParsedCertificate {
    #[serde(default)]
    pub(crate) subject: String,
    #[serde(rename = "subjectAlternativeNames", default)]
    pub(crate) subject_alternative_names: Vec<String>,
    #[serde(default)]
    pub(crate) issuer: String,
    #[serde(rename = "notAfter", default)]
    pub(crate) not_after: String,
    #[serde(rename = "notBefore", default)]
    pub(crate) not_before: String,
    #[serde(rename = "isCA", default)]
    pub(crate) is_ca: bool,
}
