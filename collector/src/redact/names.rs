//! Whether a name (an environment variable, a ConfigMap key, a header) looks like it holds a
//! credential. Matching is on the normalised name (upper case, `-` and `.` as `_`), by
//! substring: `DB_PASSWORD`, `client-secret`, `apiKey` and `x-auth-token` all match.

/// Substrings of a normalised name that mark a credential.
const CREDENTIAL_MARKERS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "ACCESSKEY",
    "PRIVATE_KEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "AUTH",
    "CONNECTION_STRING",
    "CONNECTIONSTRING",
    "SESSION_KEY",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
];

/// Whether `name` looks like the name of a credential.
pub fn is_credential_name(name: &str) -> bool {
    let normalised: String = name
        .chars()
        .map(|c| match c {
            '-' | '.' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    CREDENTIAL_MARKERS.iter().any(|m| normalised.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }
}
