//! Unique secret strings planted where secrets hide must not appear anywhere in the
//! decompressed bundle: not in objects, logs, node data, tar headers or the manifest.

use std::time::Duration;

use ktriage_serve::faults::FaultPlan;

use crate::common::{CANARIES, Fixture, decompressed, setup};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_canary_leaves_the_cluster() {
    let fixture = Fixture::standard(6);
    let s = setup(&fixture, FaultPlan::new()).await;
    let rules = s.dir.path().join("rules.yaml");
    std::fs::write(&rules, "literals: [CANARY-custom-literal-3141]\n").expect("rules");
    let rules = rules.to_string_lossy().into_owned();
    let outcome = s
        .collect(&["--redact", &rules], Duration::from_secs(60))
        .await;
    assert!(outcome.clusters[0].result.is_ok());
    let data = decompressed(&s.output());
    for canary in CANARIES {
        assert!(
            !contains(&data, canary),
            "canary {canary} leaked into the bundle"
        );
    }
    // The redacted places are still there, with their lengths.
    assert!(contains(&data, "<redacted len="));
    let c = s.open_output();
    let counts = &c.manifest().redaction.counts;
    for redactor in [
        "secret-data",
        "env-credential",
        "configmap-credential",
        "pem-private-key",
        "jwt",
        "bearer-token",
        "url-password",
        "kubeconfig-credential",
        "custom-literal",
    ] {
        assert!(
            counts.get(redactor).copied().unwrap_or(0) > 0,
            "{redactor} did nothing: {counts:?}"
        );
    }
    // A keyed Secret keeps its keys and type.
    let secrets = c.objects("", "v1", "secrets").expect("secrets");
    let db = &secrets["app/db"];
    assert_eq!(db["type"], "Opaque");
    assert_eq!(db["data"]["password"], "<redacted len=23>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_redaction_off_is_explicit_and_stamped() {
    let fixture = Fixture::standard(2);
    let s = setup(&fixture, FaultPlan::new()).await;
    s.collect(
        &[
            "--insecure-skip-redaction",
            "--resources",
            "secrets",
            "--no-logs",
        ],
        Duration::from_secs(60),
    )
    .await;
    let data = decompressed(&s.output());
    assert!(contains(&data, "Q0FOQVJZLXNlY3JldC1kYXRhLTdmM2E="));
    let c = s.open_output();
    assert!(!c.manifest().redaction.enabled);
    assert_eq!(c.manifest().options["redaction"], false);
}
