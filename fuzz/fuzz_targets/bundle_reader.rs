//! The safe bundle reader over hostile input. The first byte picks what the rest is:
//!
//! - 0: a whole archive (`.tar.zst` or `.tar`), opened as `ktriage` opens one;
//! - 1: `manifest.json` of a directory bundle that also holds one small NDJSON entry;
//! - 2: the content of an NDJSON entry, listed by a correct manifest.
//!
//! The reader must answer with a bundle or a one-line error, never panic, hang or write
//! outside its work directory; for NDJSON, the lines a loader reads plus the lines reported
//! as too long must be all the non-blank lines.
#![no_main]

use std::fs;
use std::io::BufRead;
use std::path::Path;

use chrono::{DateTime, Utc};
use ktriage_schema::manifest::{ClusterSource, Entry, Manifest, Redaction, Source};
use ktriage_schema::reader::{self, Limits};
use ktriage_schema::writer::sha256_hex;
use ktriage_schema::{BundleError, layout, ndjson};
use libfuzzer_sys::fuzz_target;

const NDJSON_PATH: &str = "cluster/core/v1/pods.ndjson";

/// Small limits, so that the limits' own paths are reached with small inputs.
fn limits() -> Limits {
    Limits {
        max_entry_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        max_entries: 64,
        max_ratio: 50,
        ratio_floor_bytes: 64 << 10,
        max_line_bytes: 256,
    }
}

fn manifest(entries: Vec<Entry>) -> Manifest {
    Manifest {
        format_version: Manifest::current_format_version(),
        producer: "fuzz".into(),
        producer_version: "0".into(),
        bundle_id: "fuzz".into(),
        started_at: DateTime::<Utc>::UNIX_EPOCH,
        finished_at: DateTime::<Utc>::UNIX_EPOCH,
        source: Source::Cluster(ClusterSource::default()),
        options: serde_json::Value::Null,
        entries,
        gaps: vec![],
        redaction: Redaction::default(),
        partial: false,
    }
}

fn one_line(result: &Result<reader::OpenBundle, BundleError>) {
    if let Err(e) = result {
        let text = e.to_string();
        assert!(!text.contains('\n'), "not one line: {text:?}");
    }
}

fn archive(data: &[u8], dir: &Path) {
    let file = dir.join("bundle.tar.zst");
    fs::write(&file, data).expect("write input");
    let work = dir.join("work");
    one_line(&reader::open(&file, &work, &limits()));
    // Nothing may land beside the work directory.
    let mut names: Vec<_> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert!(
        names.iter().all(|n| n == "bundle.tar.zst" || n == "work"),
        "{names:?}"
    );
}

fn directory_with_manifest(data: &[u8], dir: &Path) {
    let pods = b"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}\n";
    fs::create_dir_all(dir.join("cluster/core/v1")).expect("mkdir");
    fs::write(dir.join(NDJSON_PATH), pods).expect("write");
    fs::write(dir.join(layout::MANIFEST), data).expect("write");
    one_line(&reader::open(dir, &dir.join("unused"), &limits()));
}

fn directory_with_ndjson(data: &[u8], dir: &Path) {
    fs::create_dir_all(dir.join("cluster/core/v1")).expect("mkdir");
    fs::write(dir.join(NDJSON_PATH), data).expect("write");
    let entry = Entry {
        path: NDJSON_PATH.into(),
        size: data.len() as u64,
        sha256: sha256_hex(data),
        truncated: None,
    };
    let json = serde_json::to_vec(&manifest(vec![entry])).expect("manifest");
    fs::write(dir.join(layout::MANIFEST), json).expect("write");
    let limits = limits();
    let opened = reader::open(dir, &dir.join("unused"), &limits);
    one_line(&opened);
    let Ok(bundle) = opened else { return };
    let mut loaded = 0usize;
    ndjson::for_each_line::<std::io::Error>(data, limits.max_line_bytes, |_| {
        loaded += 1;
        Ok(())
    })
    .expect("in memory");
    let non_blank = data
        .split_inclusive(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count();
    assert_eq!(loaded + bundle.oversized.len(), non_blank);
    for o in &bundle.oversized {
        assert!(o.line.bytes as usize + 1 > limits.max_line_bytes, "{o:?}");
        let line = data.lines_or_skip(o.line.line);
        assert_eq!(line, Some(o.line.bytes), "line {}", o.line.line);
    }
}

/// Length of the 1-based line `n` (without its newline).
trait LineLength {
    fn lines_or_skip(&self, n: u64) -> Option<u64>;
}

impl LineLength for [u8] {
    fn lines_or_skip(&self, n: u64) -> Option<u64> {
        let mut reader = self;
        let mut line = Vec::new();
        for _ in 0..n {
            line.clear();
            if reader.read_until(b'\n', &mut line).ok()? == 0 {
                return None;
            }
        }
        Some(line.strip_suffix(b"\n").unwrap_or(&line).len() as u64)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    match mode % 3 {
        0 => archive(rest, dir.path()),
        1 => directory_with_manifest(rest, dir.path()),
        _ => directory_with_ndjson(rest, dir.path()),
    }
});
