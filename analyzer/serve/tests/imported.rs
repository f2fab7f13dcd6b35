//! A troubleshoot support bundle imported (`ktriage import`) and served: real kubectl of
//! each version lists, describes and reads the previous log of its pods.

use ktriage_import::{ImportOptions, import};
use ktriage_redact::RedactConfig;
use ktriage_schema::reader::{self, Limits};
use ktriage_schema::writer::WriterOptions;

use crate::common::{TestServer, kubectl, kubectls};

fn imported_troubleshoot() -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = ktriage_tests::manifest_dir!().join("../../tests/foreign/troubleshoot/current");
    let out = dir.path().join("imported.tar.zst");
    let options = ImportOptions {
        limits: Limits::default(),
        redaction: Some(RedactConfig::default()),
        writer: WriterOptions {
            workers: 0,
            ..WriterOptions::default()
        },
        node_dir: None,
    };
    import(
        &src,
        std::fs::File::create(&out).expect("create"),
        options,
        &mut |_| true,
    )
    .expect("imports");
    let bundle = reader::open(&out, &dir.path().join("open"), &Limits::default()).expect("opens");
    TestServer::start_opened(dir, &bundle)
}

#[test]
fn kubectl_reads_an_imported_troubleshoot_bundle() {
    let server = imported_troubleshoot();
    for k in kubectls() {
        let out = kubectl(&k, &server, &["get", "pods", "-A"])
            .ok()
            .to_string();
        let calico = out
            .lines()
            .find(|l| l.contains("calico-node-7xk2p"))
            .unwrap_or_else(|| panic!("{}: no calico pod in:\n{out}", k.display()));
        assert!(calico.starts_with("kube-system"), "{calico}");
        assert!(
            calico.contains("CrashLoopBackOff") && calico.contains("17"),
            "{calico}"
        );
        assert!(out.contains("shop-5d9f7c6b8-abcde"), "{out}");

        let out = kubectl(
            &k,
            &server,
            &["describe", "pod", "-n", "kube-system", "calico-node-7xk2p"],
        )
        .ok()
        .to_string();
        assert!(out.contains("CrashLoopBackOff"), "{out}");
        assert!(out.contains("docker.io/calico/node:v3.27.2"), "{out}");
        assert!(out.contains("Restart Count:  17"), "{out}");

        let out = kubectl(
            &k,
            &server,
            &[
                "logs",
                "-n",
                "kube-system",
                "calico-node-7xk2p",
                "--previous",
            ],
        )
        .ok()
        .to_string();
        assert!(out.contains("Calico node failed to start"), "{out}");

        // The redacted environment is what kubectl sees.
        let out = kubectl(
            &k,
            &server,
            &[
                "get",
                "pod",
                "-n",
                "default",
                "shop-5d9f7c6b8-abcde",
                "-o",
                "yaml",
            ],
        )
        .ok()
        .to_string();
        assert!(!out.contains("hunter2-very-secret"), "{out}");
    }
}
