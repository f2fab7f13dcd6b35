//! Canary tests: unique strings planted where secrets hide must never survive redaction.

use serde_json::json;

use super::*;

fn redactor() -> Redactor {
    Redactor::new(&RedactConfig::default()).expect("built-in rules compile")
}

fn assert_gone(haystack: &str, canaries: &[&str]) {
    for c in canaries {
        assert!(!haystack.contains(c), "canary {c} survived in:\n{haystack}");
    }
}

const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEcanaryPEMbody0123456789abcdef\nQmFzZTY0Y2FuYXJ5\n-----END RSA PRIVATE KEY-----";

#[test]
fn secret_values_are_replaced_keeping_keys_type_and_length() {
    let r = redactor();
    let mut secret = json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "db", "namespace": "app"},
        "data": {"password": "Y2FuYXJ5LXNlY3JldC1kYXRh", "empty": ""},
        "stringData": {"token": "canary-string-data"}
    });
    r.redact_json(&mut secret);
    let text = secret.to_string();
    assert_gone(&text, &["Y2FuYXJ5LXNlY3JldC1kYXRh", "canary-string-data"]);
    assert_eq!(secret["data"]["password"], "<redacted len=18>");
    assert_eq!(secret["data"]["empty"], "");
    assert_eq!(secret["stringData"]["token"], "<redacted len=18>");
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(r.counts()["secret-data"], 2);
}

#[test]
fn secrets_inside_lists_and_last_applied_annotations() {
    let r = redactor();
    let inner = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "bGFzdC1hcHBsaWVkLWNhbmFyeQ=="}});
    let mut list = json!({
        "apiVersion": "v1", "kind": "List",
        "items": [{
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": inner.to_string()
            }},
            "data": {"k": "aXRlbS1jYW5hcnk="}
        }]
    });
    r.redact_json(&mut list);
    assert_gone(
        &list.to_string(),
        &["bGFzdC1hcHBsaWVkLWNhbmFyeQ==", "aXRlbS1jYW5hcnk="],
    );
}

#[test]
fn credential_env_vars_and_probe_headers() {
    let r = redactor();
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "spec": {"containers": [{
            "name": "app",
            "env": [
                {"name": "DB_PASSWORD", "value": "env-canary-1"},
                {"name": "API_KEY", "value": "env-canary-2"},
                {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "TOKEN_FROM", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
            ],
            "livenessProbe": {"httpGet": {"httpHeaders": [{"name": "Authorization", "value": "header-canary"}]}}
        }]}
    });
    r.redact_json(&mut pod);
    let text = pod.to_string();
    assert_gone(&text, &["env-canary-1", "env-canary-2", "header-canary"]);
    assert!(text.contains("debug"));
    assert_eq!(
        pod["spec"]["containers"][0]["env"][3]["valueFrom"]["secretKeyRef"]["name"],
        "s"
    );
    assert_eq!(r.counts()["env-credential"], 3);
}

#[test]
fn configmap_credentials_by_key_and_by_content() {
    let r = redactor();
    let kubeconfig = "apiVersion: v1\nusers:\n- name: admin\n  user:\n    token: kubeconfig-token-canary\n    client-key-data: Y2xpZW50LWtleS1jYW5hcnk=\n";
    let mut cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "data": {
            "db.password": "cm-password-canary",
            "kubeconfig": kubeconfig,
            "app.properties": "url=jdbc:postgresql://db/app\nspring.datasource.password=props-canary\n",
            "tls.key": PEM,
            "plain": "hello"
        }
    });
    r.redact_json(&mut cm);
    let text = cm.to_string();
    assert_gone(
        &text,
        &[
            "cm-password-canary",
            "kubeconfig-token-canary",
            "Y2xpZW50LWtleS1jYW5hcnk=",
            "props-canary",
            "MIIEcanaryPEMbody",
            "QmFzZTY0Y2FuYXJ5",
        ],
    );
    assert_eq!(cm["data"]["plain"], "hello");
    assert!(
        cm["data"]["kubeconfig"]
            .as_str()
            .expect("string")
            .contains("name: admin")
    );
    assert_eq!(r.counts()["configmap-credential"], 1);
    assert!(r.counts()["pem-private-key"] >= 1);
}

#[test]
fn text_rules_in_any_string() {
    let r = redactor();
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlY2FuYXJ5";
    let cases = [
        (
            "Authorization: Bearer bearer-canary-0123456789".to_string(),
            "bearer-canary-0123456789",
        ),
        (
            "connecting to postgres://app:url-canary-pw@db:5432/app".to_string(),
            "url-canary-pw",
        ),
        (format!("token {jwt} accepted"), "c2lnbmF0dXJlY2FuYXJ5"),
        (
            "{\"level\":\"info\",\"password\":\"json-field-canary\"}".to_string(),
            "json-field-canary",
        ),
        (
            "--client-secret=flag-canary --v=2".to_string(),
            "flag-canary",
        ),
        (
            "Authorization: Basic YmFzaWMtY2FuYXJ5OnB3".to_string(),
            "YmFzaWMtY2FuYXJ5OnB3",
        ),
        (
            "redis://:redis-canary@cache:6379".to_string(),
            "redis-canary",
        ),
    ];
    for (input, canary) in &cases {
        let out = r.redact_text(input);
        assert!(!out.contains(canary), "{canary} survived: {out}");
        assert!(out.contains("<redacted len="), "{out}");
    }
    // Prefixes and context stay readable.
    assert_eq!(
        r.redact_text("postgres://app:secretpw@db/x"),
        "postgres://app:<redacted len=8>@db/x"
    );
    assert_eq!(r.redact_text("token: abc123"), "token: <redacted len=6>");
}

#[test]
fn harmless_text_is_untouched_and_borrowed() {
    let r = redactor();
    for s in [
        "plain log line",
        "automountServiceAccountToken: true",
        "tokens: 5",
        "password: null",
        "http://example.com:8080/path@v1",
        "the bearer of bad news",
        "<redacted len=5>",
    ] {
        assert!(
            matches!(r.redact_text(s), Cow::Borrowed(_)),
            "{s} was changed to {}",
            r.redact_text(s)
        );
    }
}

#[test]
fn redaction_is_idempotent() {
    let r = redactor();
    let once = r
        .redact_text("password=abc token: def Bearer 0123456789abcdef")
        .into_owned();
    let twice = r.redact_text(&once).into_owned();
    assert_eq!(once, twice);
}

#[test]
fn bytes_keep_invalid_utf8_outside_matches() {
    let r = redactor();
    let mut log = b"\xff\xfe binary \x80 prefix\n".to_vec();
    log.extend_from_slice(b"GET /x Authorization: Bearer byte-canary-0123456789 \xc3\x28 tail\n");
    log.extend_from_slice(PEM.as_bytes());
    log.extend_from_slice(b"\nafter \xff\n");
    let out = r.redact_bytes(&log);
    let hay = String::from_utf8_lossy(&out);
    assert_gone(
        &hay,
        &[
            "byte-canary-0123456789",
            "MIIEcanaryPEMbody",
            "QmFzZTY0Y2FuYXJ5",
        ],
    );
    assert!(out.starts_with(b"\xff\xfe binary \x80 prefix\n"));
    assert!(out.windows(3).any(|w| w == b"\xc3\x28 "));
    assert!(out.ends_with(b"\nafter \xff\n"));
}

#[test]
fn unterminated_private_key_is_redacted_to_the_end() {
    let r = redactor();
    let out = r.redact_text("key:\n-----BEGIN PRIVATE KEY-----\ncut-off-canary");
    assert!(!out.contains("cut-off-canary"), "{out}");
}

#[test]
fn line_redactor_follows_a_key_across_lines() {
    let r = redactor();
    let mut lines = r.lines();
    let mut out = Vec::new();
    let pem = format!("{PEM}\n");
    for line in pem
        .split_inclusive('\n')
        .chain(["next line password=line-canary\n", "ok\n"])
    {
        out.extend_from_slice(&lines.line(line.as_bytes()));
    }
    let text = String::from_utf8(out).expect("utf8");
    assert_gone(
        &text,
        &["MIIEcanaryPEMbody", "QmFzZTY0Y2FuYXJ5", "line-canary"],
    );
    assert!(text.ends_with("ok\n"), "{text}");
    assert_eq!(text.lines().count(), 6);
}

#[test]
fn custom_literals_and_regexes() {
    let config = RedactConfig {
        literals: vec!["acme-internal".into()],
        regexes: vec![r"cust-[0-9]{4}".into(), r"id=(?P<secret>[a-z]+)".into()],
        ..RedactConfig::default()
    };
    let r = Redactor::new(&config).expect("compiles");
    let out = r.redact_text("host acme-internal.example cust-1234 id=abc");
    assert_eq!(
        out,
        "host <redacted len=13>.example <redacted len=9> id=<redacted len=3>"
    );
    let counts = r.counts();
    assert_eq!(counts["custom-literal"], 1);
    assert_eq!(counts["custom-regex"], 2);
    assert!(
        Redactor::new(&RedactConfig {
            literals: vec![],
            regexes: vec!["(".into()],
            ..RedactConfig::default()
        })
        .is_err()
    );
    assert!(
        Redactor::new(&RedactConfig {
            literals: vec![],
            regexes: vec!["a*".into()],
            ..RedactConfig::default()
        })
        .is_err()
    );
    assert!(
        Redactor::new(&RedactConfig {
            literals: vec!["".into()],
            regexes: vec![],
            ..RedactConfig::default()
        })
        .is_err()
    );
}

#[test]
fn disabled_redactor_passes_everything_and_says_so() {
    let r = Redactor::disabled();
    let mut secret = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "dmFsdWU="}});
    r.redact_json(&mut secret);
    assert_eq!(secret["data"]["k"], "dmFsdWU=");
    assert_eq!(r.redact_text("password=x"), "password=x");
    let summary = r.summary();
    assert!(!summary.enabled);
    assert!(summary.counts.is_empty());
}

#[test]
fn counts_list_every_builtin_and_no_values() {
    let r = redactor();
    r.redact_text("password=counted-canary");
    let counts = r.counts();
    assert_eq!(counts["kubeconfig-credential"], 1);
    assert!(counts.contains_key("jwt") && !counts.contains_key("custom-literal"));
    let json = serde_json::to_string(&r.summary()).expect("serialises");
    assert!(!json.contains("counted-canary"));
}

#[test]
fn redactor_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Redactor>();
}

#[test]
fn fields_named_like_credentials_in_any_object_at_any_depth() {
    let r = redactor();
    let mut cr = json!({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": "m", "namespace": "app"},
        "spec": {
            "endpoints": [{
                "basicAuth": {"username": "admin", "password": "cr-canary-pw"},
                "authorization": {"type": "Bearer", "credentials": "cr-canary-cred"},
                "bearerTokenFile": "/var/run/secrets/token",
                "bearerTokenSecret": {"name": "prom", "key": "token"},
                "oauth2": {"clientSecret": {"secret": {"name": "o", "key": "k"}}, "tokenUrl": "https://idp/token"}
            }],
            "db": {"DB_PASS": "cr-canary-dbpass", "pwd": 424242, "api_key": ["cr-canary-k1"]}
        },
        "status": {"token": "cr-canary-status"}
    });
    r.redact_json(&mut cr);
    assert_gone(
        &cr.to_string(),
        &[
            "cr-canary-pw",
            "cr-canary-cred",
            "cr-canary-dbpass",
            "424242",
            "cr-canary-k1",
            "cr-canary-status",
        ],
    );
    let endpoint = &cr["spec"]["endpoints"][0];
    assert_eq!(endpoint["basicAuth"]["username"], "admin");
    assert_eq!(endpoint["authorization"]["type"], "Bearer");
    assert_eq!(endpoint["bearerTokenFile"], "/var/run/secrets/token");
    assert_eq!(endpoint["bearerTokenSecret"]["key"], "token");
    assert_eq!(endpoint["oauth2"]["tokenUrl"], "https://idp/token");
    assert_eq!(r.counts()["credential-field"], 6);
    assert_eq!(r.counts_by_kind()["credential-field"]["ServiceMonitor"], 6);
}

#[test]
fn the_allow_list_keeps_references_that_rules_and_kubectl_read() {
    let r = redactor();
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "spec": {
            "automountServiceAccountToken": false,
            "serviceAccountName": "app",
            "imagePullSecrets": [{"name": "regcred"}],
            "volumes": [
                {"name": "tls", "secret": {"secretName": "pg-tls", "defaultMode": 420}},
                {"name": "sa", "projected": {"sources": [{"serviceAccountToken": {"audience": "vault", "expirationSeconds": 3600, "path": "token"}}]}}
            ],
            "containers": [{
                "name": "app",
                "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                "envFrom": [{"secretRef": {"name": "app-env"}}]
            }]
        }
    });
    let before = pod.clone();
    r.redact_json(&mut pod);
    assert_eq!(pod, before, "a reference was redacted");
    let mut config = json!({"tokenPath": "/var/run/token", "passwordSecretRef": "db", "secretName": "s", "authMode": "token"});
    let before = config.clone();
    r.redact_json(&mut config);
    assert_eq!(config, before);
}

#[test]
fn rbac_rules_labels_and_annotations_of_a_cluster_role_stay_readable() {
    let r = redactor();
    let mut role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {
            "name": "system:controller:token-cleaner",
            "labels": {
                "kubernetes.io/bootstrapping": "rbac-defaults",
                "rbac.authorization.k8s.io/aggregate-to-admin": "true"
            },
            "annotations": {
                "rbac.authorization.kubernetes.io/autoupdate": "true",
                "example.com/password": "cr-canary-annotation-pw"
            }
        },
        "rules": [
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["delete", "get", "list", "watch"]},
            {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["bootstrap-token-abcdef"], "verbs": ["get"]},
            {"nonResourceURLs": ["/api/*"], "verbs": ["get"]}
        ],
        "aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}
        ]}
    });
    let mut expected = role.clone();
    r.redact_json(&mut role);
    assert_gone(&role.to_string(), &["cr-canary-annotation-pw"]);
    // A credential under a label or annotation key still goes; nothing else changes.
    expected["metadata"]["annotations"]["example.com/password"] = json!("<redacted len=23>");
    assert_eq!(role, expected);
    assert_eq!(r.counts()["credential-field"], 1);
}

#[test]
fn json_in_strings_is_redacted_and_stays_json() {
    let r = redactor();
    let mut cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"spec\":{\"token\":\"anno-canary-token\"}}",
            "example.com/client": "{\"auth\": {\"apikey\": \"anno-canary-key\"}, \"url\": \"https://x\"}"
        }},
        "data": {
            "config.json": "{\"db\": {\"host\": \"pg\", \"password\": \"json-canary-pw\"}}",
            "app.yaml": "db:\n  host: pg\n  pass: yaml canary pass\n  passwordFile: /etc/pw\n",
            "run.sh": "export MYSQL_PWD=sh-canary-pwd\nexec app --password sh-canary-flag -Djavax.net.ssl.trustStorePassword=sh-canary-java\n"
        },
        "binaryData": {"keystore.jks": "YmluYXJ5LWNhbmFyeQ=="}
    });
    r.redact_json(&mut cm);
    let text = cm.to_string();
    assert_gone(
        &text,
        &[
            "anno-canary-token",
            "anno-canary-key",
            "json-canary-pw",
            "yaml canary pass",
            "canary pass",
            "sh-canary-pwd",
            "sh-canary-flag",
            "sh-canary-java",
            "YmluYXJ5LWNhbmFyeQ==",
        ],
    );
    for s in [
        &cm["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        &cm["metadata"]["annotations"]["example.com/client"],
        &cm["data"]["config.json"],
    ] {
        let inner: serde_json::Value =
            serde_json::from_str(s.as_str().expect("a string")).expect("still JSON");
        assert!(inner.is_object());
    }
    let yaml = cm["data"]["app.yaml"].as_str().expect("yaml");
    assert!(
        yaml.contains("  host: pg\n") && yaml.contains("passwordFile: /etc/pw"),
        "{yaml}"
    );
    assert_eq!(cm["binaryData"]["keystore.jks"], "<redacted len=13>");
    let counts = r.counts();
    assert_eq!(counts["configmap-binary-data"], 1);
    assert!(counts["credential-assignment"] >= 3, "{counts:?}");
    assert_eq!(counts["command-line-flag"], 1);
}

#[test]
fn binary_data_is_kept_on_request() {
    let r = Redactor::new(&RedactConfig {
        keep_configmap_binary_data: true,
        ..RedactConfig::default()
    })
    .expect("compiles");
    let mut cm =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "binaryData": {"logo.png": "aGVsbG8="}});
    r.redact_json(&mut cm);
    assert_eq!(cm["binaryData"]["logo.png"], "aGVsbG8=");
}

#[test]
fn command_lines_in_lists_env_values_and_shell_strings() {
    let r = redactor();
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "spec": {"containers": [{
            "name": "app",
            "command": ["sh", "-c", "PASSWORD=cmd-canary-sh ./start --db-password=cmd-canary-eq"],
            "args": ["--password", "cmd-canary-args", "--token-file", "/run/token", "-u", "root", "-p", "cmd-canary-mysql"],
            "env": [
                {"name": "JAVA_OPTS", "value": "-Xmx1g -Djavax.net.ssl.trustStorePassword=cmd-canary-java -Dfile.encoding=UTF-8"},
                {"name": "DB_PASS", "value": "cmd-canary-dbpass"},
                {"name": "MYSQL_PWD", "value": "cmd-canary-mysqlpwd"},
                {"name": "PWD", "value": "/app"}
            ]
        }]}
    });
    r.redact_json(&mut pod);
    let text = pod.to_string();
    assert_gone(
        &text,
        &[
            "cmd-canary-sh",
            "cmd-canary-eq",
            "cmd-canary-args",
            "cmd-canary-mysql",
            "cmd-canary-java",
            "cmd-canary-dbpass",
            "cmd-canary-mysqlpwd",
        ],
    );
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["args"][3], "/run/token");
    assert_eq!(c["env"][3]["value"], "/app");
    assert!(text.contains("-Dfile.encoding=UTF-8") && text.contains("-Xmx1g"));
}

#[test]
fn counts_are_split_by_resource_kind() {
    let r = redactor();
    let mut list = json!({
        "apiVersion": "v1", "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Secret", "data": {"a": "YQ==", "b": "Yg=="}},
            {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "c", "env": [{"name": "TOKEN", "value": "t"}]}]}}
        ]
    });
    r.redact_json(&mut list);
    let _ = r.redact_text("password=hunter2");
    let by_kind = r.counts_by_kind();
    assert_eq!(by_kind["secret-data"]["Secret"], 2);
    assert_eq!(by_kind["env-credential"]["Pod"], 1);
    assert_eq!(by_kind["kubeconfig-credential"][TEXT_KIND], 1);
    assert_eq!(r.summary().by_kind, by_kind);
}

/// Provider tokens need no key before them; clients' own password forms (mysql's attached
/// `-p`, `redis-cli -a`, `sshpass -p`), redis.conf lines and XML credential elements are
/// secrets too, in logs and in ConfigMaps alike.
#[test]
fn provider_tokens_client_passwords_and_config_forms() {
    let r = redactor();
    let tokens = [
        "ghp_canary0123456789abcdefghijklmnopqrstu",
        "github_pat_11canary0123456789abcdefghij",
        "glpat-canary0123456789abcd",
        "xoxb-123456789012-canary0123456",
        "AIzaSyCanary0123456789abcdefghijklmnopq",
        "sk_live_canary0123456789abcd",
        "npm_canary0123456789abcdefghijklmnopqrstuv",
        "dckr_pat_canary0123456789abcdef",
        "AKIACANARY0123456789",
        "sk-proj-canary0123456789abcdefghij_KLMNOP-qrstuv",
        "sk-ant-api03-canary0123456789abcdefghijklmnop",
        "sk-Canary0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
        "hvs.CAESICanary0123456789abcdefghij",
    ];
    for token in tokens {
        let line = format!("level=info msg=\"cloning with {token} now\"");
        let out = r.redact_text(&line);
        assert_gone(&out, &[token]);
        assert!(out.contains("cloning with <redacted len="), "{out}");
    }
    for (line, canary) in [
        (
            "sh -c mysql -uroot -pcanary-mysql -h db app",
            "canary-mysql",
        ),
        (
            "mysqldump --single-transaction -pcanary-dump app > x.sql",
            "canary-dump",
        ),
        ("redis-cli -h redis -a canary-redis ping", "canary-redis"),
        ("sshpass -p canary-ssh ssh root@node", "canary-ssh"),
        ("requirepass canary-requirepass", "canary-requirepass"),
        ("  masterauth canary-masterauth", "canary-masterauth"),
        (
            "<server><password>canary-xml</password></server>",
            "canary-xml",
        ),
        (
            "SLACK_WEBHOOK=https://hooks.slack.com/services/T0001/B0002/canaryslackwebhook",
            "canaryslackwebhook",
        ),
        (
            "posting to https://discord.com/api/webhooks/123456/canary-discord-token",
            "canary-discord-token",
        ),
        (
            "curl -sS -u admin:canary-curl https://registry:5000/v2/",
            "canary-curl",
        ),
        (
            "sh -c 'curl --user=ops:canary-curl-eq -k https://x'",
            "canary-curl-eq",
        ),
        (
            "curl -x proxy:3128 --proxy-user \"p:canary-proxy\" https://x",
            "canary-proxy",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=canaryAzureKey0123==;EndpointSuffix=core.windows.net",
            "canaryAzureKey0123",
        ),
    ] {
        assert_gone(&r.redact_text(line), &[canary]);
    }
    let mut cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "redis", "namespace": "a"},
        "data": {"redis.conf": "port 6379\nrequirepass canary-cm-redis\n",
                 "settings.xml": "<settings><servers><server><id>x</id><password>canary-cm-xml</password></server></servers></settings>"}
    });
    r.redact_json(&mut cm);
    assert_gone(&cm.to_string(), &["canary-cm-redis", "canary-cm-xml"]);
    assert!(
        cm["data"]["redis.conf"]
            .as_str()
            .expect("text")
            .starts_with("port 6379\n")
    );
    assert!(r.counts()["provider-token"] >= tokens.len() as u64);
    // What only looks like them stays.
    for kept in [
        "image: docker.io/library/mysql:8.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "mysql -uroot -p -h db",
        "mysqld --port=3306 -P3306",
        "tar -a -cf x.tar.gz dir",
        "<tokenPath>/var/run/secrets/token</tokenPath>",
        "AKIA is a prefix",
        "ghp_short",
        "pod/sk-operator-controller-manager-7d9f8c6b5-x2x4z",
        "curl -u admin --url https://registry:5000/v2/",
        "curl --user-agent probe/1.0 http://web:8080/healthz",
        "vault is at hvs.example.com",
    ] {
        assert_eq!(r.redact_text(kept), kept);
    }
}

/// A MachineConfig's Ignition files are `data:` URLs: the pull secret in
/// `/var/lib/kubelet/config.json` goes whether percent-encoded or gzip and base64, and each
/// source stays a data URL of the same encoding whose payload is still JSON.
#[test]
fn pull_secrets_inside_ignition_data_urls() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use std::io::{Read, Write};

    let pull_secret =
        r#"{"auths":{"quay.io":{"auth":"Y2FuYXJ5LXF1YXk6cHc=","email":"ops@example.com"}}}"#;
    let percent: String = pull_secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        pull_secret
            .replace("Y2FuYXJ5LXF1YXk6cHc=", "Z3ppcC1jYW5hcnk=")
            .as_bytes(),
    )
    .expect("gzip");
    let gzipped = STANDARD.encode(gz.finish().expect("gzip"));
    let mut mc = json!({
        "apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfig",
        "metadata": {"name": "rendered-worker-0123"},
        "spec": {"config": {"ignition": {"version": "3.2.0"}, "storage": {"files": [
            {"path": "/var/lib/kubelet/config.json", "contents": {"source": format!("data:,{percent}")}},
            {"path": "/etc/pull.json", "contents": {"compression": "gzip", "source": format!("data:;base64,{gzipped}")}},
            {"path": "/etc/motd", "contents": {"source": "data:,hello%20world"}}
        ]}}}
    });
    let r = redactor();
    r.redact_json(&mut mc);
    let files = &mc["spec"]["config"]["storage"]["files"];
    let plain = files[0]["contents"]["source"].as_str().expect("source");
    let plain =
        percent_encoding::percent_decode_str(plain.strip_prefix("data:,").expect("data URL"))
            .decode_utf8()
            .expect("utf-8");
    let plain: serde_json::Value = serde_json::from_str(&plain).expect("still JSON");
    assert_eq!(plain["auths"]["quay.io"]["auth"], "<redacted len=20>");
    assert_eq!(plain["auths"]["quay.io"]["email"], "ops@example.com");
    let packed = files[1]["contents"]["source"].as_str().expect("source");
    let packed = STANDARD
        .decode(
            packed
                .strip_prefix("data:;base64,")
                .expect("base64 data URL"),
        )
        .expect("base64");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut text)
        .expect("still gzip");
    assert!(text.contains("<redacted len=16>"), "{text}");
    assert_gone(
        &mc.to_string(),
        &["Y2FuYXJ5LXF1YXk6cHc=", "Z3ppcC1jYW5hcnk=", "canary"],
    );
    assert_eq!(
        files[2]["contents"]["source"], "data:,hello%20world",
        "nothing to redact"
    );
}

/// Secrets of application configs, host files and request logs that only their own syntax
/// names: netrc, LDAP and keepalived directives, haproxy and redis users, password hashes,
/// cookies, other `Authorization` schemes, signed URLs, chat webhooks, grafana.ini's
/// triple quotes, Alertmanager's PagerDuty keys and private keys in base64.
#[test]
fn config_directives_headers_signatures_and_encoded_keys() {
    let r = redactor();
    for (line, canary) in [
        (
            "machine github.com login octo password canary-netrc",
            "canary-netrc",
        ),
        (
            "machine h login u password \"canary netrc quoted\"",
            "canary netrc quoted",
        ),
        ("  password canary-netrc-line", "canary-netrc-line"),
        ("bindpw canary-bindpw", "canary-bindpw"),
        ("rootpw canary-rootpw", "canary-rootpw"),
        ("olcRootPW: {SSHA}canaryOlcHash0123", "canaryOlcHash0123"),
        ("    auth_pass canary-vrrp", "canary-vrrp"),
        ("  stats auth admin:canary-stats", "canary-stats"),
        (
            "  user admin insecure-password canary-haproxy",
            "canary-haproxy",
        ),
        (
            "  user ops password $6$saltsalt$canaryShaCryptHash0123456789",
            "canaryShaCryptHash",
        ),
        (
            "user default on >canary-redis-acl ~* +@all",
            "canary-redis-acl",
        ),
        (
            "admin:$apr1$abcdefgh$canaryApr1Hash01234567",
            "canaryApr1Hash",
        ),
        (
            "ops:$2y$10$canaryBcryptHash0123456789abcdefghijklmnopqrstuvwxy",
            "canaryBcryptHash",
        ),
        ("web:{SHA}canarySha1Hash0123456789=", "canarySha1Hash"),
        ("bindPW: canary-bind-pw", "canary-bind-pw"),
        (
            "Cookie: session=canary-cookie-1; theme=dark; csrf=canary-cookie-2",
            "canary-cookie",
        ),
        (
            "Set-Cookie: JSESSIONID=canary-set-cookie; Path=/; HttpOnly",
            "canary-set-cookie",
        ),
        (
            "curl -H 'Cookie: sid=canary-curl-cookie' http://web/",
            "canary-curl-cookie",
        ),
        (
            "level=debug headers=\"map[Authorization:[Token canary-go-map-token] Cookie:[sid=canary-go-cookie]]\"",
            "canary-go",
        ),
        (
            "authorization=\"Negotiate canaryNegotiateToken\"",
            "canaryNegotiate",
        ),
        (
            "Authorization: Digest username=\"u\", realm=\"r\", response=\"6629fae49393a05397450978cafe0000\"",
            "6629fae49393a05397450978cafe0000",
        ),
        (
            "GET https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=canaryaeeed9bbccd4d02ee5c0109b86d868",
            "canaryaeeed9bbccd4d02ee5c0109b86d868",
        ),
        (
            "msg=\"signed\" auth=\"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, SignedHeaders=host, Signature=canary5d672d79c15b13162d927\"",
            "canary5d672d79c15b13162d927",
        ),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sp=r&sig=canaryAzureSas0123%2B%3D",
            "canaryAzureSas0123",
        ),
        (
            "https://storage.googleapis.com/b/o?X-Goog-Signature=canarygooglesig0123456789",
            "canarygooglesig0123456789",
        ),
        (
            "url: https://acme.webhook.office.com/webhookb2/g@t/IncomingWebhook/canaryteams/o",
            "canaryteams",
        ),
        (
            "https://api.telegram.org/bot123456:canaryTelegramBotToken/sendMessage",
            "canaryTelegramBotToken",
        ),
        (
            "password = \"\"\"canary-grafana-ini\"\"\"",
            "canary-grafana-ini",
        ),
        ("    routing_key: canary-pagerduty", "canary-pagerduty"),
        ("    service_key: canary-pd-service", "canary-pd-service"),
        (
            "    httpHeaderValue1: canary-grafana-header",
            "canary-grafana-header",
        ),
        (
            "htpasswd -bc /etc/nginx/.htpasswd admin canary-htpasswd && nginx",
            "canary-htpasswd",
        ),
        ("echo 'root:canary-chpasswd' | chpasswd", "canary-chpasswd"),
        (
            "rabbitmqctl add_user admin canary-rabbitmqctl",
            "canary-rabbitmqctl",
        ),
        ("openssl passwd -apr1 canary-openssl", "canary-openssl"),
        (
            "ldapsearch -x -D cn=admin,dc=x -w canary-ldap -b dc=x",
            "canary-ldap",
        ),
        (
            "keytool -importkeystore -srcstorepass canary-src -storepass canary-store",
            "canary-s",
        ),
        (
            "curl -H \"Ocp-Apim-Subscription-Key: canary-apim\" https://x",
            "canary-apim",
        ),
        (
            "postgres://app:canary@unescaped@db:5432/app",
            "canary@unescaped",
        ),
        // "-----BEGIN RSA PRIVATE KEY-----\ncanary…" in base64, as a Helm value holds it.
        (
            "tlsKey: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpjYW5hcnlSc2FCYXNlNjQ=",
            "cGpjYW5hcnlSc2FCYXNlNjQ",
        ),
    ] {
        assert_gone(&r.redact_text(line), &[canary]);
    }
    // Every alignment of "PRIVATE KEY" after "-----BEGIN ", wrapped as openssl does.
    for kind in ["", "EC ", "OPENSSH ", "ENCRYPTED "] {
        use base64::Engine;
        let pem =
            format!("-----BEGIN {kind}PRIVATE KEY-----\ncanaryb64keybody0123456789abcdefghij\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let (first, rest) = b64.split_at(64);
        let text = format!("key: |\n  {first}\n  {rest}\nnext: 1\n");
        let out = r.redact_text(&text);
        assert!(!out.contains(&b64[30..]) && !out.contains(rest), "{out}");
        assert!(out.ends_with("\nnext: 1\n"), "{out}");
    }
    let mut cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tls", "namespace": "a",
            "annotations": {"x": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCmNhbmFyeUFubm90YXRpb25LZXk="}},
        "data": {"ds.yaml": "secureJsonData:\n  httpHeaderValue2: canary-ds-header\n"}
    });
    r.redact_json(&mut cm);
    assert_gone(
        &cm.to_string(),
        &["CmNhbmFyeUFubm90YXRpb25LZXk", "canary-ds-header"],
    );
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"},
        "spec": {"containers": [{"name": "c",
            "env": [{"name": "SESSION_COOKIE", "value": "canary-env-cookie"}],
            "livenessProbe": {"httpGet": {"path": "/", "port": 80,
                "httpHeaders": [{"name": "Cookie", "value": "sid=canary-probe-cookie"}]}}}]}
    });
    r.redact_json(&mut pod);
    assert_gone(
        &pod.to_string(),
        &["canary-env-cookie", "canary-probe-cookie"],
    );
    let mut ds = json!({
        "apiVersion": "grafana.integreatly.org/v1beta1", "kind": "GrafanaDatasource",
        "metadata": {"name": "d", "namespace": "a"},
        "spec": {"datasource": {
            "jsonData": {"httpHeaderName1": "X-Scope-OrgID", "tlsAuth": true},
            "secureJsonData": {"httpHeaderValue1": "canary-sjd-1", "tlsClientKey": "canary-sjd-2"}}}
    });
    r.redact_json(&mut ds);
    assert_gone(&ds.to_string(), &["canary-sjd-1", "canary-sjd-2"]);
    assert_eq!(
        ds["spec"]["datasource"]["jsonData"],
        json!({"httpHeaderName1": "X-Scope-OrgID", "tlsAuth": true})
    );
    // What only looks like them stays.
    for kept in [
        "auth_basic \"Restricted\";",
        "auth_basic_user_file /etc/nginx/htpasswd;",
        "PasswordAuthentication no",
        "password authentication failed for user \"app\"",
        "nginx.ingress.kubernetes.io/session-cookie-name: route",
        "nginx.ingress.kubernetes.io/session-cookie-max-age: \"172800\"",
        "nginx.ingress.kubernetes.io/affinity: cookie",
        "machine learning model loaded",
        "failed calling webhook \"validate.signature.sigstore.dev\": signature verification failed",
        "echo \"$1$2$3\"",
        "httpHeaderName1: X-Scope-OrgID",
        // The registry after --password-stdin is no value of it (the echoed password is:
        // piped_and_positional_client_secrets).
        "cat /run/secrets/pw | docker login --username robot --password-stdin reg.example.com",
        "mongodb://db:27017/app?authSource=admin",
        "htpasswd -c /etc/nginx/.htpasswd admin",
        // Public certificates and keys in base64.
        "ca.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMuLi4KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
        "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUlJQklqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FROEFNSUlCQ2dLQ0FRRUEKLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg==",
    ] {
        assert_eq!(r.redact_text(kept), kept);
    }
}

/// Secrets no flag names: echoed into `--password-stdin`, `vault login`'s token, ZooKeeper's
/// `addauth digest`; what only looks like them stays.
#[test]
fn piped_and_positional_client_secrets() {
    let r = redactor();
    for (line, canary) in [
        (
            "sh -c 'echo canary-stdin | docker login -u ci --password-stdin registry.example.com'",
            "canary-stdin",
        ),
        (
            "printf '%s' \"canary-printf\" | helm registry login reg.example.com -u ci --password-stdin",
            "canary-printf",
        ),
        (
            "vault login s.canaryLegacyToken0123456789",
            "canaryLegacyToken",
        ),
        ("vault login -no-print hvs_canary_token", "hvs_canary_token"),
        ("addauth digest admin:canary-zk", "canary-zk"),
    ] {
        let out = r.redact_text(line);
        assert_gone(&out, &[canary]);
        assert!(
            !out.contains("--password-stdin") || out.contains(".example.com"),
            "{out}"
        );
    }
    for kept in [
        "cat /run/secrets/reg | docker login -u ci --password-stdin registry.example.com",
        "vault login -method=ldap username=ops",
        "echo done | tee /tmp/log",
    ] {
        assert_eq!(r.redact_text(kept), kept);
    }
}
