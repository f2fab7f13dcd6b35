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
        "configmap-binary-data",
        "credential-field",
        "credential-assignment",
        "command-line-flag",
        "provider-token",
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

    // References to secrets stay readable: rules and kubectl follow them.
    let deploys = c.objects("apps", "v1", "deployments").expect("deployments");
    let web = &deploys["app/web"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(web["env"][4]["valueFrom"]["secretKeyRef"]["name"], "db");
    assert_eq!(web["args"][3], "/var/run/token");
    let client = deploys["app/web"]["metadata"]["annotations"]["example.com/client"]
        .as_str()
        .expect("annotation");
    let client: serde_json::Value = serde_json::from_str(client).expect("still JSON");
    assert_eq!(client["url"], "https://api");
    let widgets = c.objects("example.com", "v1", "widgets").expect("widgets");
    let w1 = &widgets["app/w1"];
    assert_eq!(
        w1["spec"]["endpoints"][0]["bearerTokenFile"],
        "/var/run/secrets/token"
    );
    assert_eq!(w1["spec"]["endpoints"][0]["basicAuth"]["username"], "admin");
    assert_eq!(
        w1["spec"]["endpoints"][0]["tlsConfig"]["keySecret"]["name"],
        "w1-tls"
    );
    assert_eq!(w1["status"]["secretName"], "w1-token");
    let configmaps = c.objects("", "v1", "configmaps").expect("configmaps");
    let app_config = &configmaps["app/app-config"];
    assert_eq!(
        app_config["binaryData"]["keystore.jks"],
        "<redacted len=23>"
    );
    let config: serde_json::Value =
        serde_json::from_str(app_config["data"]["config.json"].as_str().expect("string"))
            .expect("still JSON");
    assert_eq!(config["db"]["host"], "pg");
    assert!(
        app_config["data"]["application.yaml"]
            .as_str()
            .is_some_and(|y| y.contains("passwordFile: /etc/db/pw")),
        "{app_config}"
    );

    // The manifest says what was removed from which kind, never a value.
    let by_kind = &c.manifest().redaction.by_kind;
    assert_eq!(by_kind["credential-field"]["Widget"], 4, "{by_kind:?}");
    assert_eq!(by_kind["configmap-binary-data"]["ConfigMap"], 1);
    assert!(by_kind["command-line-flag"]["Deployment"] >= 1);
    assert!(by_kind["bearer-token"]["text"] >= 1);
    for (redactor, kinds) in by_kind {
        assert_eq!(
            kinds.values().sum::<u64>(),
            counts[redactor],
            "{redactor}: per-kind counts add up to the total"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_binary_data_is_kept_on_request() {
    let fixture = Fixture::standard(2);
    let s = setup(&fixture, FaultPlan::new()).await;
    s.collect(
        &[
            "--keep-configmap-binary-data",
            "--resources",
            "configmaps",
            "--no-logs",
        ],
        Duration::from_secs(60),
    )
    .await;
    let c = s.open_output();
    let configmaps = c.objects("", "v1", "configmaps").expect("configmaps");
    assert_eq!(
        configmaps["app/app-config"]["binaryData"]["keystore.jks"],
        "Q0FOQVJZLWJpbmFyeS1kYXRhLWIxbjQ="
    );
    // The rest of redaction still runs.
    assert_eq!(
        configmaps["app/app-config"]["data"]["db.password"],
        "<redacted len=23>"
    );
    assert_eq!(c.manifest().options["keep_configmap_binary_data"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_redaction_off_is_explicit_and_stamped() {
    let fixture = Fixture::standard(2);
    let s = setup(&fixture, FaultPlan::new()).await;
    s.collect(
        &[
            "--insecure-skip-redaction",
            "--resources",
            "secrets,configmaps,deployments,widgets",
            "--no-logs",
        ],
        Duration::from_secs(60),
    )
    .await;
    let data = decompressed(&s.output());
    assert!(contains(&data, "Q0FOQVJZLXNlY3JldC1kYXRhLTdmM2E="));
    // Every placement the redactors cover is really planted (this run keeps them all).
    let start = CANARIES
        .iter()
        .position(|c| *c == "Q0FOQVJZLWJpbmFyeS1kYXRhLWIxbjQ=")
        .expect("the placements list");
    for canary in &CANARIES[start..] {
        assert!(contains(&data, canary), "{canary} is not planted");
    }
    let c = s.open_output();
    assert!(!c.manifest().redaction.enabled);
    assert_eq!(c.manifest().options["redaction"], false);
}
