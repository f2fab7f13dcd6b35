//! `ktriage-collect redact`: a bundle collected without redaction, redacted afterwards by the
//! real binary, holds no canary, verifies, and says what was removed.

use std::process::Command;
use std::time::Duration;

use ktriage_serve::faults::FaultPlan;

use crate::common::{CANARIES, Fixture, decompressed, open_bundle, setup};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn redact(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ktriage-collect"))
        .arg("redact")
        .args(args)
        .output()
        .expect("ktriage-collect runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unredacted_bundle_is_redacted_afterwards() {
    let fixture = Fixture::standard(4);
    let s = setup(&fixture, FaultPlan::new()).await;
    s.collect(&["--insecure-skip-redaction"], Duration::from_secs(60))
        .await;
    let raw = decompressed(&s.output());
    // Every canary is there, but the plain text of a Secret's base64 value and the
    // last-applied annotation (the collector drops it).
    let absent = ["CANARY-secret-data-7f3a", "CANARY-last-applied-77aa"];
    for canary in CANARIES.iter().filter(|c| !absent.contains(c)) {
        assert!(contains(&raw, canary), "{canary} not in the raw bundle");
    }

    let rules = s.dir.path().join("rules.yaml");
    std::fs::write(&rules, "literals: [CANARY-custom-literal-3141]\n").expect("rules");
    let redacted = s.dir.path().join("redacted.tar.zst");
    let out = redact(&[
        s.output().as_os_str(),
        "-o".as_ref(),
        redacted.as_os_str(),
        "--redact".as_ref(),
        rules.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("redacted ") && stdout.contains("Secret "),
        "{stdout}"
    );

    let data = decompressed(&redacted);
    for canary in CANARIES {
        assert!(!contains(&data, canary), "canary {canary} survived");
    }
    // The reader checks every entry's size and checksum against the new manifest.
    let c = open_bundle(&redacted);
    let before = open_bundle(&s.output());
    let m = c.manifest();
    assert!(m.redaction.enabled);
    assert_eq!(m.options["redaction"], true);
    assert!(m.options["redacted_again"]["rules_file"].is_string());
    assert_eq!(m.entries.len(), before.manifest().entries.len());
    assert_eq!(m.bundle_id, before.manifest().bundle_id);
    for (redactor, kinds) in &m.redaction.by_kind {
        assert_eq!(kinds.values().sum::<u64>(), m.redaction.counts[redactor]);
    }
    assert_eq!(
        m.redaction.by_kind["secret-data"]["Secret"], 3,
        "{:?}",
        m.redaction
    );
    assert!(m.redaction.counts["custom-literal"] >= 1);
    let secrets = c.objects("", "v1", "secrets").expect("secrets");
    assert_eq!(secrets["app/db"]["data"]["password"], "<redacted len=23>");

    // Redacting again changes nothing and counts nothing new.
    let again = s.dir.path().join("again.tar.zst");
    let out = redact(&[redacted.as_os_str(), "-o".as_ref(), again.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let twice = open_bundle(&again);
    assert_eq!(twice.manifest().redaction.counts, m.redaction.counts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_one_line_and_leave_nothing_behind() {
    let fixture = Fixture::standard(1);
    let s = setup(&fixture, FaultPlan::new()).await;
    s.collect(&["--no-logs"], Duration::from_secs(60)).await;
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(s.dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let files_before = listing();

    // OUT is IN, spelled differently.
    let same = s.dir.path().join(".").join("out.tar.zst");
    let out = redact(&[s.output().as_os_str(), "-o".as_ref(), same.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is the input bundle") && err.lines().count() == 1,
        "{err}"
    );

    // A bundle that is not one.
    let junk = s.dir.path().join("junk.tar.zst");
    std::fs::write(&junk, b"not a bundle\n\x1b[31m").expect("junk");
    let target = s.dir.path().join("x.tar.zst");
    let out = redact(&[junk.as_os_str(), "-o".as_ref(), target.as_os_str()]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("junk.tar.zst") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!err.contains('\u{1b}'));

    // An output directory that does not exist.
    let out = redact(&[
        s.output().as_os_str(),
        "-o".as_ref(),
        s.dir.path().join("missing-dir/out.tar.zst").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));

    let mut expected = files_before.clone();
    expected.push("junk.tar.zst".into());
    expected.sort();
    assert_eq!(listing(), expected, "a temporary file was left behind");
}
