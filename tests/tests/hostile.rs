//! The hostile-bundle corpus in `tests/fixtures/hostile/` is rejected case by case by the
//! safe reader, with one line naming the file, and nothing lands outside the work directory.

use std::path::{Path, PathBuf};

use ktriage_schema::reader::{Limits, open};

fn corpus_dir() -> PathBuf {
    ktriage_tests::manifest_dir!().join("fixtures/hostile")
}

fn expectations() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus_dir().join("expect.tsv")).expect("expect.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .map(|(f, e)| (f.to_string(), e.to_string()))
        .collect()
}

#[test]
fn committed_corpus_is_what_the_generator_makes() {
    let cases = ktriage_tests::hostile::corpus().expect("corpus");
    let expect = expectations();
    assert_eq!(cases.len(), expect.len(), "expect.tsv lists every case");
    for case in cases {
        let committed = std::fs::read(corpus_dir().join(case.name))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert!(
            committed == case.bytes,
            "{} differs from the generator: run `cargo run -p ktriage-tests --bin mkhostile -- tests/fixtures/hostile`",
            case.name
        );
        assert!(
            expect
                .iter()
                .any(|(f, e)| f == case.name && e == case.expect),
            "{} expectation",
            case.name
        );
    }
}

#[test]
fn every_hostile_bundle_is_rejected_with_one_clear_line() {
    let outside = tempfile::tempdir().expect("tempdir");
    for (file, expected) in expectations() {
        let path = corpus_dir().join(&file);
        // The work dir is nested so that a '..' escape would land in `outside`.
        let work = outside.path().join("a/b/work");
        std::fs::create_dir_all(outside.path().join("a/b")).expect("the work dir's parent");
        let err = open(&path, &work, &Limits::default())
            .err()
            .unwrap_or_else(|| panic!("{file}: accepted"));
        let msg = err.to_string();
        assert!(
            msg.contains(&expected),
            "{file}: {msg:?} should contain {expected:?}"
        );
        assert!(
            msg.contains(&file),
            "{file}: error must name the file: {msg}"
        );
        assert!(!msg.contains('\n'), "{file}: one line: {msg:?}");
        let _ = std::fs::remove_dir_all(outside.path().join("a"));
    }
    let leftovers: Vec<_> = std::fs::read_dir(outside.path()).expect("read").collect();
    assert!(
        leftovers.is_empty(),
        "something was written outside the work dir: {leftovers:?}"
    );
    assert!(
        !Path::new("/tmp/ktriage-escape-abs").exists(),
        "absolute path escaped"
    );
}

#[test]
fn total_size_limit_is_enforced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = small_bundle(dir.path());
    let limits = Limits {
        max_total_bytes: 1024,
        ..Limits::default()
    };
    let err = open(&out, &dir.path().join("w"), &limits).expect_err("over the total limit");
    assert!(
        err.to_string().contains("unpacks to more than 1024 bytes"),
        "{err}"
    );
}

#[test]
fn a_valid_bundle_round_trips_through_writer_and_reader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = small_bundle(dir.path());
    let bundle = open(&out, &dir.path().join("w"), &Limits::default()).expect("opens");
    assert!(!bundle.manifest.entries.is_empty());
    for e in &bundle.manifest.entries {
        let data = std::fs::read(bundle.path(&e.path)).expect("entry on disk");
        assert_eq!(data.len() as u64, e.size, "{}", e.path);
    }
    // Building twice gives the same bytes: fixtures are reproducible.
    let again = dir.path().join("again.tar.zst");
    ktriage_tests::source::build(&dir.path().join("src"), &again).expect("build");
    assert_eq!(
        std::fs::read(&out).expect("read"),
        std::fs::read(&again).expect("read")
    );
}

/// Builds a small but complete cluster bundle from a source written here.
fn small_bundle(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("objects")).expect("mkdir");
    std::fs::create_dir_all(src.join("logs/default/web/app")).expect("mkdir");
    std::fs::write(
        src.join("objects/pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: default\nspec:\n  containers:\n  - name: app\n    image: nginx:1.25\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n  uid: 0b0e4a0c-0000-4000-8000-000000000001\n",
    )
    .expect("write");
    std::fs::write(
        src.join("logs/default/web/app.log"),
        b"started\n\xff not utf-8\n",
    )
    .expect("write");
    let out = dir.join("b.tar.zst");
    ktriage_tests::source::build(&src, &out).expect("build");
    out
}
