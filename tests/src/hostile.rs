//! The hostile-bundle corpus: archives a malicious or broken source could send, each built
//! from code so the corpus is reproducible (`mkhostile DIR` writes it; `tests/fixtures/hostile`
//! holds the committed copy). Every case names the error the analyzer must give.

use std::io::Write;

use anyhow::Result;
use ktriage_schema::manifest::{ClusterSource, Entry, Manifest, Redaction, Source};
use ktriage_schema::writer::sha256_hex;

/// One hostile archive and the text its rejection must contain.
pub struct Case {
    /// File name in the corpus.
    pub name: &'static str,
    /// Bytes of the archive.
    pub bytes: Vec<u8>,
    /// Substring of the one-line error.
    pub expect: &'static str,
}

fn manifest(entries: Vec<Entry>) -> Manifest {
    let t = crate::source::default_collected_at();
    Manifest {
        format_version: Manifest::current_format_version(),
        producer: "ktriage-hostile".into(),
        producer_version: "0".into(),
        bundle_id: "hostile".into(),
        started_at: t,
        finished_at: t,
        source: Source::Cluster(ClusterSource::default()),
        options: serde_json::Value::Null,
        entries,
        gaps: vec![],
        redaction: Redaction {
            enabled: true,
            counts: Default::default(),
            by_kind: Default::default(),
        },
        partial: false,
    }
}

fn entry(path: &str, data: &[u8]) -> Entry {
    Entry {
        path: path.into(),
        size: data.len() as u64,
        sha256: sha256_hex(data),
        truncated: None,
    }
}

/// A raw tar header with any name and type, bypassing the tar crate's path checks.
fn raw_header(name: &str, kind: tar::EntryType, size: u64, link: Option<&str>) -> tar::Header {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            old.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    h
}

/// `(name, type, data, link)` entries plus `manifest.json` into a `.tar.zst`.
fn archive(
    entries: &[(&str, tar::EntryType, &[u8], Option<&str>)],
    manifest: Option<&Manifest>,
) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, kind, data, link) in entries {
        let h = raw_header(name, *kind, data.len() as u64, *link);
        tar.append(&h, *data)?;
    }
    if let Some(m) = manifest {
        let json = serde_json::to_vec(m)?;
        tar.append(
            &raw_header(
                "manifest.json",
                tar::EntryType::Regular,
                json.len() as u64,
                None,
            ),
            json.as_slice(),
        )?;
    }
    let tar = tar.into_inner()?;
    Ok(zstd::encode_all(tar.as_slice(), 3)?)
}

const POD: &[u8] = b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"}}\n";
const PODS: &str = "cluster/core/v1/pods.ndjson";
const REG: tar::EntryType = tar::EntryType::Regular;

fn valid_pods(data: &[u8]) -> Result<Vec<u8>> {
    archive(
        &[(PODS, REG, data, None)],
        Some(&manifest(vec![entry(PODS, data)])),
    )
}

/// Every case of the corpus.
pub fn corpus() -> Result<Vec<Case>> {
    let mut cases = vec![
        Case { name: "absolute-path.tar.zst", expect: "absolute path or '..'",
            bytes: archive(&[("/tmp/ktriage-escape-abs", REG, b"x", None)], Some(&manifest(vec![])))? },
        Case { name: "dotdot-path.tar.zst", expect: "absolute path or '..'",
            bytes: archive(&[("logs/../../ktriage-escape-dotdot", REG, b"x", None)], Some(&manifest(vec![])))? },
        Case { name: "symlink.tar.zst", expect: "symbolic link entries are not allowed",
            bytes: archive(&[(PODS, tar::EntryType::Symlink, b"", Some("/etc/passwd"))], Some(&manifest(vec![])))? },
        Case { name: "hardlink.tar.zst", expect: "hard link entries are not allowed",
            bytes: archive(&[(PODS, tar::EntryType::Link, b"", Some("/etc/shadow"))], Some(&manifest(vec![])))? },
        Case { name: "char-device.tar.zst", expect: "character device entries are not allowed",
            bytes: archive(&[("dev/zero", tar::EntryType::Char, b"", None)], Some(&manifest(vec![])))? },
        Case { name: "fifo.tar.zst", expect: "FIFO entries are not allowed",
            bytes: archive(&[("pipe", tar::EntryType::Fifo, b"", None)], Some(&manifest(vec![])))? },
        Case { name: "duplicate-entry.tar.zst", expect: "duplicate entry",
            bytes: archive(&[(PODS, REG, POD, None), (PODS, REG, POD, None)], Some(&manifest(vec![entry(PODS, POD)])))? },
        Case { name: "checksum-mismatch.tar.zst", expect: "sha256 does not match",
            bytes: {
                let mut e = entry(PODS, POD);
                e.sha256 = sha256_hex(b"something else");
                archive(&[(PODS, REG, POD, None)], Some(&manifest(vec![e])))?
            } },
        Case { name: "size-mismatch.tar.zst", expect: "but the manifest says",
            bytes: {
                let mut e = entry(PODS, POD);
                e.size += 1;
                archive(&[(PODS, REG, POD, None)], Some(&manifest(vec![e])))?
            } },
        Case { name: "missing-entry.tar.zst", expect: "listed in the manifest but missing",
            bytes: archive(&[], Some(&manifest(vec![entry(PODS, POD)])))? },
        Case { name: "unlisted-entry.tar.zst", expect: "not listed in the manifest",
            bytes: archive(&[(PODS, REG, POD, None)], Some(&manifest(vec![])))? },
        Case { name: "malformed-json-line.tar.zst", expect: "pods.ndjson:2: malformed JSON",
            bytes: valid_pods(b"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}\n{\"kind\":\"Pod\",\"metadata\":{\"name\":\n")? },
        Case { name: "non-object-line.tar.zst", expect: "pods.ndjson:1: malformed JSON: expected a JSON object",
            bytes: valid_pods(b"[1,2,3]\n")? },
        Case { name: "no-manifest.tar.zst", expect: "no manifest.json",
            bytes: archive(&[(PODS, REG, POD, None)], None)? },
        Case { name: "malformed-manifest.tar.zst", expect: "manifest.json:1: malformed JSON",
            bytes: {
                let mut tar = tar::Builder::new(Vec::new());
                let data = b"{\"format_version\": \"1.0\", ";
                tar.append(&raw_header("manifest.json", REG, data.len() as u64, None), &data[..])?;
                zstd::encode_all(tar.into_inner()?.as_slice(), 3)?
            } },
        Case { name: "newer-format.tar.zst", expect: "bundle format 2.0 is newer",
            bytes: {
                let mut m = manifest(vec![]);
                m.format_version = "2.0".into();
                archive(&[], Some(&m))?
            } },
        Case { name: "not-an-archive.tar.zst", expect: "not a readable bundle archive",
            bytes: b"this is not a bundle, just text pretending to be one\n".repeat(20) },
        Case { name: "oversized-entry.tar.zst", expect: "over the",
            bytes: {
                // The header claims 5 GiB; the limit is checked before any byte is read.
                let mut tar = Vec::new();
                let h = raw_header(PODS, REG, 5 << 30, None);
                tar.extend_from_slice(h.as_bytes());
                tar.extend_from_slice(&[0u8; 1024]);
                zstd::encode_all(tar.as_slice(), 3)?
            } },
    ];
    let good = valid_pods(POD)?;
    cases.push(Case {
        name: "truncated.tar.zst",
        expect: "archive is truncated",
        bytes: good[..good.len() / 2].to_vec(),
    });
    cases.push(Case {
        name: "bomb.tar.zst",
        expect: "decompression bomb",
        bytes: bomb()?,
    });
    Ok(cases)
}

/// 400 MiB of zeros in one entry: a few hundred KiB packed.
fn bomb() -> Result<Vec<u8>> {
    let size: u64 = 400 << 20;
    let mut enc = zstd::Encoder::new(Vec::new(), 19)?;
    enc.write_all(raw_header("logs/a/b/c.log", REG, size, None).as_bytes())?;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(size >> 20) {
        enc.write_all(&zeros)?;
    }
    enc.write_all(&[0u8; 1024])?;
    Ok(enc.finish()?)
}

/// An entry name holding a terminal control sequence: ESC `]0;` retitles the window, BEL ends
/// it. Printed raw, an error quoting it would drive the terminal.
pub const ESCAPE_NAME: &str = "cluster/core/v1/pods\u{1b}]0;owned\u{7}\u{1b}[2J.ndjson";

/// Archives whose errors must quote a hostile name safely or name the archive itself, not
/// part of the committed corpus (the analyzer tests build them): an entry name with terminal
/// control characters, listed but missing and with a wrong checksum, and a malformed
/// discovery document, refused only while loading, after the archive was unpacked.
pub fn message_cases() -> Result<Vec<Case>> {
    let discovery = b"{\"groups\": [";
    Ok(vec![
        Case {
            name: "escape-name-missing.tar.zst",
            expect: "listed in the manifest but missing",
            bytes: archive(&[], Some(&manifest(vec![entry(ESCAPE_NAME, POD)])))?,
        },
        Case {
            name: "escape-name-checksum.tar.zst",
            expect: "sha256 does not match",
            bytes: {
                let mut e = entry(ESCAPE_NAME, POD);
                e.sha256 = sha256_hex(b"something else");
                archive(&[(ESCAPE_NAME, REG, POD, None)], Some(&manifest(vec![e])))?
            },
        },
        Case {
            name: "malformed-discovery.tar.zst",
            expect: "malformed discovery",
            bytes: archive(
                &[(ktriage_schema::layout::DISCOVERY, REG, discovery, None)],
                Some(&manifest(vec![entry(
                    ktriage_schema::layout::DISCOVERY,
                    discovery,
                )])),
            )?,
        },
    ])
}
