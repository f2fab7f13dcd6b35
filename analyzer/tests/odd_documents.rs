//! A stranger's bundle may hold documents of any shape: a number where a name belongs, a list
//! where an object does, duplicate keys, label keys with quotes and `*`, names full of regular
//! expression syntax, quantities beyond any integer. The sample cluster's documents, altered
//! that way at random (a fixed seed per run), must still be analyzed by every rule: exit 0,
//! no rule failed, every report written.

mod common;

use std::path::{Path, PathBuf};

use common::{ktriage, path_args, stderr};
use ktriage_schema::layout::BundlePath;
use ktriage_schema::reader::{Limits, open};
use ktriage_schema::writer::{BundleWriter, WriterOptions};
use serde_json::{Value, json};

/// xorshift64*: deterministic, so a failure names the seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 >= 1.0 - p
    }
}

/// A value of another type or form than `v`, of the kinds documents from elsewhere carry.
fn odd_value(rng: &mut Rng, v: &Value) -> Value {
    match rng.below(18) {
        0 => json!(7),
        1 => json!("yes"),
        2 => json!(true),
        3 => Value::Null,
        4 => json!([]),
        5 => json!({}),
        6 => json!(1.5),
        7 => json!([v]),
        8 => json!({ "a": v }),
        9 => json!(-1),
        10 => json!(""),
        11 => json!("9".repeat(30)),
        12 => json!("\u{0}\u{1b}[31m(*"),
        13 => json!("2026-13-45T99:99:99Z"),
        14 => json!(1e308),
        15 => json!("m-(x[\"]*.{2,}\\"),
        16 => json!(-9_223_372_036_854_775_807i64),
        _ => json!("１２８Mi"),
    }
}

/// `v` as JSON text, each value replaced by an odd one with chance `p`, and now and then a
/// key written twice or an odd key added (serde_json's `Value` cannot hold either).
fn altered(rng: &mut Rng, v: &Value, p: f64, out: &mut String) {
    match v {
        Value::Object(members) => {
            out.push('{');
            let mut first = true;
            let mut member = |out: &mut String, key: &str, value: &Value, rng: &mut Rng| {
                if !std::mem::take(&mut first) {
                    out.push(',');
                }
                out.push_str(&Value::from(key).to_string());
                out.push(':');
                if rng.chance(p) {
                    out.push_str(&odd_value(rng, value).to_string());
                } else {
                    altered(rng, value, p, out);
                }
            };
            for (key, value) in members {
                member(out, key, value, rng);
                if rng.chance(p / 4.0) {
                    member(out, key, value, rng);
                }
            }
            if rng.chance(p / 4.0) {
                let key = ["a\"b", "*", "x/y~z", "", "$.k", "m-(x"][rng.below(6)];
                member(out, key, &json!("v"), rng);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if rng.chance(p) {
                    out.push_str(&odd_value(rng, item).to_string());
                } else {
                    altered(rng, item, p, out);
                }
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Each document of an NDJSON file altered; a line that is not an object stays as it was.
fn altered_lines(rng: &mut Rng, text: &str, p: f64) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        match serde_json::from_str::<Value>(line) {
            Ok(doc @ Value::Object(_)) => altered(rng, &doc, p, &mut out),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// `bundle` rewritten into `dir` with its objects, host records, host facts and kubelet
/// configurations altered; the manifest lists the new sizes and checksums.
fn alter_bundle(bundle: &Path, dir: &Path, rng: &mut Rng, p: f64) -> PathBuf {
    let work = dir.join("unpacked");
    let opened = open(bundle, &work, &Limits::default()).expect("sample bundle opens");
    let target = dir.join(bundle.file_name().expect("file name"));
    let file = std::fs::File::create(&target).expect("create");
    let mut writer = BundleWriter::new(file, &WriterOptions::default()).expect("writer");
    for entry in &opened.manifest.entries {
        let data = std::fs::read(opened.root.join(&entry.path)).expect("entry");
        let data = match BundlePath::parse(&entry.path) {
            BundlePath::Resource { .. } | BundlePath::HostRecord(_) => {
                altered_lines(rng, &String::from_utf8(data).expect("utf-8"), p).into_bytes()
            }
            BundlePath::HostFacts | BundlePath::NodeConfigz { .. } => {
                altered_lines(rng, &String::from_utf8(data).expect("utf-8"), p).into_bytes()
            }
            _ => data,
        };
        writer.add_bytes(&entry.path, &data).expect("add");
    }
    writer.finish(opened.manifest.clone()).expect("finish");
    std::fs::remove_dir_all(&work).expect("remove unpacked");
    target
}

/// Analyzes `bundles` altered with `seed` and `p` (in `dir`): exit 0, no rule failed, every
/// report written. `case` names what was altered in a failure.
fn assert_analyzed(case: &str, bundles: &[PathBuf], dir: &Path, seed: u64, p: f64) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
    let altered: Vec<PathBuf> = bundles
        .iter()
        .map(|b| alter_bundle(b, dir, &mut rng, p))
        .collect();
    let paths = path_args(&altered);
    let out = dir.join("report");
    let mut args = vec![
        "analyze",
        "-q",
        "--lang",
        "en",
        "-o",
        out.to_str().expect("utf-8"),
    ];
    args.extend(paths.iter().map(String::as_str));
    let o = ktriage(&args);
    let err = stderr(&o);
    let what = format!("{case}, seed {seed}, p {p}");
    assert_eq!(o.status.code(), Some(0), "{what}: {err}");
    // A failed rule is reported as "rule <id> failed: <why>".
    assert!(!err.contains(" failed: "), "{what}: {err}");
    for report in ["report.html", "report.md", "findings.json"] {
        assert!(out.join(report).is_file(), "{what}: {report}");
    }
    let findings: Value =
        serde_json::from_slice(&std::fs::read(out.join("findings.json")).expect("findings"))
            .expect("findings.json parses");
    assert!(findings.is_object(), "{what}: {findings}");
    altered
}

#[test]
fn documents_of_any_shape_are_analyzed_by_every_rule() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = common::sample(tmp.path());
    for (seed, p) in [
        (1u64, 0.02),
        (2, 0.05),
        (3, 0.1),
        (4, 0.1),
        (5, 0.2),
        (6, 0.3),
        (7, 0.5),
    ] {
        let dir = tmp.path().join(format!("seed-{seed}"));
        let altered = assert_analyzed("the sample", &sample, &dir, seed, p);
        // The same documents compared with the originals, and exported for fleet queries.
        let [before, after] = [&sample, &altered].map(|b| path_args(&b[..1]).remove(0));
        let out = dir.join("diff");
        let o = ktriage(&[
            "diff",
            "-q",
            "-o",
            out.to_str().expect("utf-8"),
            &before,
            &after,
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "diff, seed {seed}: {}",
            stderr(&o)
        );
        assert!(out.join("diff.json").is_file(), "diff, seed {seed}");
        let out = dir.join("export");
        let paths = path_args(&altered);
        let mut args = vec!["export", "-q", "-o", out.to_str().expect("utf-8")];
        args.extend(paths.iter().map(String::as_str));
        let o = ktriage(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "export, seed {seed}: {}",
            stderr(&o)
        );
    }
}

/// Each rule's firing fixture altered the same way: the documents each rule reads most.
#[test]
fn rule_fixtures_of_any_shape_are_analyzed_by_every_rule() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = common::repo().join("tests/fixtures/rules");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&rules)
        .expect("rule fixtures")
        .map(|e| e.expect("entry").path().join("fire"))
        .filter(|fire| fire.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 80, "{} firing fixtures", cases.len());
    for (i, case) in cases.iter().enumerate() {
        let name = case.parent().and_then(Path::file_name).expect("rule");
        let dir = tmp.path().join(name);
        let built = dir.join("built");
        std::fs::create_dir_all(&built).expect("mkdir");
        let bundles = common::build_case(case, &built);
        let p = [0.05, 0.1, 0.3][i % 3];
        assert_analyzed(&case.display().to_string(), &bundles, &dir, i as u64, p);
    }
}
