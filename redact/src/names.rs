//! Whether a name (a JSON field, an environment variable, a ConfigMap key, a command-line flag,
//! a header) says that its value is a credential.
//!
//! Two tests, both on *word parts*: the name is split at `_`, `-`, `.`, `/`, spaces and
//! camelCase boundaries (`trustStorePassword` → `trust store password`, `DB_PASS` →
//! `db pass`, `APIKey` → `api key`).
//! - [`is_credential_name`], for names that label a value (env vars, ConfigMap keys,
//!   headers): any credential word anywhere, so `AWS_ACCESS_KEY_ID` and `SECRET_KEY_BASE`
//!   count.
//! - [`is_credential_field`], for every other key, which also names references to secrets:
//!   the same words, unless the last word says the value *points at* a credential rather than
//!   being one (`tokenPath`, `secretName`, `passwordSecretRef`, `bearerTokenFile`,
//!   `secretKeyRef`, `authMode`). That allow-list keeps what rules and kubectl read.
//!
//! `PWD` and `OLDPWD` are the shell's working directories, not passwords.

/// Words that, as a whole word part, mark a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "pw",
    "pass",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "creds",
    "auth",
    "authorization",
    "privatekey",
    "accesskey",
    "accountkey",
    "secretkey",
    "clientsecret",
    "connectionstring",
    // keytool's and Java's store passwords (`-storepass`, `-keypass`, `-srcstorepass`).
    "storepass",
    "keypass",
    "srcstorepass",
    "deststorepass",
    "srckeypass",
    "destkeypass",
    "keystorepass",
    "truststorepass",
];

/// Words that mark a credential also at the end of a longer lower-case word part
/// (`dbpassword`, `adminsecret`, `authtoken`, slapd's `rootpw`, nslcd's `bindpw`; not
/// `tokens` or `secrets`, which list names).
const CREDENTIAL_SUFFIXES: &[&str] = &["password", "passwd", "passphrase", "secret", "token", "pw"];

/// Words that mark a credential only as the last word part: a header or variable holding
/// cookies (`Cookie`, `Set-Cookie`, `SESSION_COOKIE`), not a setting about them
/// (`session-cookie-max-age`, `cookieDomain`).
const CREDENTIAL_LAST_WORDS: &[&str] = &["cookie", "cookies"];

/// Two consecutive word parts that mark a credential (`api_key`, `private-key`).
const CREDENTIAL_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("account", "key"),
    ("secret", "key"),
    ("session", "key"),
    ("signing", "key"),
    ("encryption", "key"),
    ("master", "key"),
    // Alertmanager's PagerDuty receiver (`routing_key`, `service_key`), and the like.
    ("routing", "key"),
    ("service", "key"),
    ("integration", "key"),
    // Azure API Management's `Ocp-Apim-Subscription-Key` header.
    ("subscription", "key"),
    ("connection", "string"),
];

/// Last word parts of a field that refers to a credential, or describes one, without
/// holding it: a file, a path, a reference, a name, a mode, a lifetime.
const REFERENCE_SUFFIXES: &[&str] = &[
    "file",
    "files",
    "path",
    "paths",
    "dir",
    "directory",
    "ref",
    "refs",
    "reference",
    "name",
    "names",
    "namespace",
    "selector",
    "mode",
    "type",
    "kind",
    "enabled",
    "enable",
    "disabled",
    "required",
    "optional",
    "seconds",
    "ttl",
    "timeout",
    "duration",
    "period",
    "interval",
    "expiration",
    "audience",
    "audiences",
    "url",
    "uri",
    "endpoint",
    "version",
    "policy",
    "provider",
    "config",
    "configuration",
    "kubeconfig",
    "webhook",
    "length",
    "count",
    "format",
    "algorithm",
    "mount",
    "volume",
    "issuer",
    // Where a credential comes from, not the credential: `--password-stdin`, MongoDB's
    // `authSource=admin` (a database).
    "stdin",
    "source",
];

/// Whole names that look like credentials and are not: the shell's working directories, as
/// environment variables spell them (a field `pwd` is still a password).
const NOT_CREDENTIALS: &[&str] = &["PWD", "OLDPWD"];

/// Splits `name` into lower-case word parts: separators and camelCase boundaries
/// (`APIKey` → `api`, `key`; `client_secret` → `client`, `secret`).
pub(crate) fn word_parts(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `dbPassword` splits before `P`; `APIKey` splits before the `K` of `Key`.
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                parts.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

fn names_credential(name: &str, parts: &[String]) -> bool {
    if parts.is_empty() || NOT_CREDENTIALS.contains(&name) {
        return false;
    }
    let word = parts.iter().any(|p| {
        CREDENTIAL_WORDS.contains(&p.as_str()) || CREDENTIAL_SUFFIXES.iter().any(|w| p.ends_with(w))
    }) || parts
        .last()
        .is_some_and(|last| CREDENTIAL_LAST_WORDS.contains(&last.as_str()));
    word || parts
        .windows(2)
        .any(|w| CREDENTIAL_PAIRS.contains(&(w[0].as_str(), w[1].as_str())))
        || is_numbered_header_value(name)
}

/// Grafana's `httpHeaderValue1`, `httpHeaderValue2`, …: the value of a custom header a data
/// source sends (an `Authorization`, an `X-API-Key`), kept in `secureJsonData`; its
/// `httpHeaderName1` stays.
fn is_numbered_header_value(name: &str) -> bool {
    name.strip_prefix("httpHeaderValue")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `name`, labelling a value (an environment variable, a ConfigMap key, a header),
/// looks like the name of a credential.
pub fn is_credential_name(name: &str) -> bool {
    names_credential(name, &word_parts(name))
}

/// Whether the value of a field (a JSON key anywhere, a `key=value` in text, a
/// command-line flag) named `name` is a credential: a credential name whose last word does
/// not make it a reference (`tokenPath`, `secretName`, `passwordSecretRef`).
pub fn is_credential_field(name: &str) -> bool {
    let name = unqualified(name);
    let parts = word_parts(name);
    names_credential(name, &parts)
        && parts
            .last()
            .is_some_and(|last| !REFERENCE_SUFFIXES.contains(&last.as_str()))
}

/// The name part of a label or annotation key (`rbac.authorization.k8s.io/aggregate-to-admin`
/// → `aggregate-to-admin`): the prefix is its owner's DNS domain, whose words
/// (`authorization`, `secrets-store`, `auth`) say nothing about the value. Any other name is
/// judged whole.
fn unqualified(name: &str) -> &str {
    match name.split_once('/') {
        Some((prefix, rest)) if is_dns_subdomain(prefix) && !rest.contains('/') => rest,
        _ => name,
    }
}

/// `example.com`, `rbac.authorization.k8s.io`: dot-separated lower-case DNS labels, at least
/// two of them (a label key's prefix must be a DNS subdomain).
fn is_dns_subdomain(prefix: &str) -> bool {
    prefix.contains('.')
        && prefix.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_parts_split_every_spelling() {
        assert_eq!(
            word_parts("trustStorePassword"),
            ["trust", "store", "password"]
        );
        assert_eq!(word_parts("DB_PASS"), ["db", "pass"]);
        assert_eq!(word_parts("APIKey"), ["api", "key"]);
        assert_eq!(word_parts("x-auth-token"), ["x", "auth", "token"]);
        assert_eq!(
            word_parts("-Djavax.net.ssl.keyStorePassword"),
            ["djavax", "net", "ssl", "key", "store", "password"]
        );
        assert_eq!(word_parts("s3Url"), ["s3", "url"]);
    }

    #[test]
    fn credential_names() {
        for name in [
            "DB_PASSWORD",
            "password",
            "db.passwd",
            "client-secret",
            "GITHUB_TOKEN",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "private-key",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "Authorization",
            "BASIC_AUTH",
            "DB_PASS",
            "MYSQL_PWD",
            "SECRET_KEY_BASE",
            "dbpassword",
            "x-auth-token",
            "bindPW",
            "olcRootPW",
            "routing_key",
            "service_key",
            "Cookie",
            "Set-Cookie",
            "SESSION_COOKIE",
            "httpHeaderValue1",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in [
            "HOME",
            "LOG_LEVEL",
            "PORT",
            "KUBERNETES_SERVICE_HOST",
            "config.yaml",
            "key",
            "PWD",
            "OLDPWD",
            "AUTHOR",
            "PASSTHROUGH",
            "BYPASS_CACHE",
            "session-cookie-max-age",
            "cookieDomain",
            "httpHeaderName1",
            "httpHeaderValue",
            "SERVICE_PORT",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn credential_fields_and_the_references_that_stay() {
        for name in [
            "password",
            "pwd",
            "pass",
            "token",
            "secret",
            "apikey",
            "api_key",
            "credentials",
            "private_key",
            "client_secret",
            "auth",
            "trustStorePassword",
            "bearerToken",
            "secretAccessKey",
            "--password",
            "-Dkeystore.password",
        ] {
            assert!(is_credential_field(name), "{name}");
        }
        for name in [
            "tokenPath",
            "secretName",
            "passwordSecretRef",
            "bearerTokenFile",
            "secretKeyRef",
            "tokenSecretName",
            "passwordFile",
            "authMode",
            "authorization-mode",
            "tokenUrl",
            "expirationSeconds",
            "audience",
            "s3Url",
            "name",
            "kind",
            "cacheAuthorizedTTL",
            "PWD",
            // Label and annotation keys are judged by their name, not their owner's domain.
            "rbac.authorization.kubernetes.io/autoupdate",
            "rbac.authorization.k8s.io/aggregate-to-admin",
            "secrets-store.csi.k8s.io/used",
            "nginx.ingress.kubernetes.io/session-cookie-name",
            "nginx.ingress.kubernetes.io/session-cookie-samesite",
        ] {
            assert!(!is_credential_field(name), "{name}");
        }
        for name in [
            "example.com/password",
            "vault.example.io/agent-token",
            // Not a domain prefix: judged whole.
            "auth/key",
            "Auth.Example/x",
        ] {
            assert!(is_credential_field(name), "{name}");
        }
    }
}
