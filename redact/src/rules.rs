//! Text redactors: patterns that find secrets inside any string or log line, whatever the
//! object around it. They work on bytes (`regex::bytes`) so that logs which are not UTF-8 are
//! redacted where a pattern matches and left byte for byte as they were everywhere else. The
//! patterns are Unicode-aware, so on UTF-8 input every match starts and ends on a character
//! boundary and the output of a `&str` stays valid UTF-8.
//!
//! A `RegexSet` pass first tells which rules match at all; most strings match none and cost
//! one scan.

use std::borrow::Cow;

use regex::bytes::{Captures, Regex, RegexSet};

use super::argv::{CURL_USER_FLAGS, LDAP_CLIENTS, MYSQL_CLIENTS};
use super::names::is_credential_field;
use super::{Counts, Kind, RedactConfigError};

/// A PEM private key block, up to its end marker or, when cut off, to the end of the text.
const PEM_PRIVATE_KEY: &str = r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?-u:.)*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)";
/// The opening marker alone, to follow a key across lines.
pub(crate) const PEM_BEGIN: &str = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
/// The closing marker alone.
pub(crate) const PEM_END: &str = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";
/// A JSON Web Token: base64url header `{"...` and payload, then the signature.
const JWT: &str = r"eyJ[A-Za-z0-9_-]{4,}\.ey[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*";
/// `Bearer <token>` anywhere, and the credentials of an `Authorization` (or
/// `Proxy-Authorization`) header of another scheme: `Basic`, `Token`, `Negotiate`, `NTLM`,
/// also as Go prints a header map (`map[Authorization:[Token x]]`).
const BEARER: &str = r#"(?i)(?:\bbearer\s+|authorization\\?["']?\s*[:=]\s*\\?["']?\[?(?:basic|token|negotiate|ntlm|apikey)\s+)(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)"#;
/// The `response` of an `Authorization: Digest` header: a hash of the password, open to an
/// offline guess.
const DIGEST_RESPONSE: &str = r#"(?i)\bdigest\s[^\r\n]*?\bresponse=\\?"?(?P<secret>[0-9a-f]{32,})"#;
/// A PEM private key encoded in base64 (`LS0tLS1CRUdJTi…`, "-----BEGIN" with "PRIVATE KEY"
/// after it at any of the three alignments), as a Helm value, an annotation or a ConfigMap
/// entry holds it, with the lines that continue it when it is wrapped. Certificates
/// (`LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t`) stay.
const BASE64_PEM_PRIVATE_KEY: &str = r"(?m)LS0tLS1CRUdJTi[A-Za-z0-9+/]{0,60}?(?:UFJJVkFURSBLRVk|BSSVZBVEUgS0VZ|QUklWQVRFIEtFW)[A-Za-z0-9+/=]*(?:\r?\n[ \t]*[A-Za-z0-9+/=]+$)*";
/// `scheme://user:password@host`: the password only.
/// A password holding an unescaped `@` (`user:p@ss@host`) goes whole, up to the last `@`.
const URL_PASSWORD: &str = r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s:/@?#]*:(?P<secret>[^\s/?#]+)@";
/// The kubeconfig user fields and their usual relatives, as keys.
const CREDENTIAL_FIELD_KEYS: &str = r"(?:token|id[-_]token|refresh[-_]token|access[-_]token|auth[-_]token|client[-_]key[-_]data|client[-_]secret|password|passwd|secret[-_]key|api[-_]?key)";

/// A key holding any credential word; whether it names a credential (and not `tokenPath`)
/// is decided on its word parts by [`is_credential_field`], not by the pattern.
const CREDENTIAL_KEY: &str = r"(?P<key>[A-Za-z0-9_.\-]*(?:pass|pw|secret|token|cookie|routing[-_.]?key|service[-_.]?key|integration[-_.]?key|subscription[-_.]?key|api[-_.]?key|credential|creds|auth|private[-_.]?key|access[-_.]?key|account[-_.]?key|session[-_.]?key|signing[-_.]?key|encryption[-_.]?key|master[-_.]?key|connection[-_.]?string|httpHeaderValue[0-9])[A-Za-z0-9_.\-]*)";

/// After a key: the separator (`:` or `=`, quotes and JSON escapes around the key) and the
/// value: a triple-quoted (grafana.ini), double- or single-quoted string, or a bare word.
const ASSIGNED_VALUE: &str = r#"\\?["']?[ \t]*[:=][ \t]*(?:"""(?P<secret_tq>[^\r\n]*?)"""|\\?"(?P<secret_dq>(?:[^"\\\r\n]|\\[^"\r\n])*)\\?"|'(?P<secret_sq>[^'\r\n]*)'|(?P<secret>[^\s"'\\,;&}\]]+))"#;

/// A YAML (or properties) line `key: value`: an unquoted value runs to the end of the line.
fn yaml_line(key: &str) -> String {
    format!(
        r#"(?im)^[ \t]*(?:-[ \t]+)?["']?{key}["']?[ \t]*:[ \t]+(?P<secret>[^\s"'|>&*!%@`#\[{{<][^\r\n]*?)[ \t]*\r?$"#
    )
}

/// Credential fields written as `key: value` or `key=value` (YAML, JSON, flags, log fields).
fn credential_field() -> String {
    format!(r#"(?im)(?:^|[^A-Za-z0-9]){CREDENTIAL_FIELD_KEYS}{ASSIGNED_VALUE}"#)
}

/// Any `name=value` or `name: value` whose name is a credential: env files, `sh -c
/// "PASSWORD=x ..."`, `-Dx.trustStorePassword=x`, `--password=x`, config files in strings.
fn credential_assignment() -> String {
    format!(r#"(?i){CREDENTIAL_KEY}{ASSIGNED_VALUE}"#)
}

/// `--password value` in a command line, and `-p value` after `-u user` (mysql, psql).
fn command_line_flag() -> String {
    format!(
        r#"(?i)(?:(?:^|[\s"'])--?{CREDENTIAL_KEY}|(?:^|\s)-u[ \t]+[^\s-]\S*[ \t]+-p)[ \t]+(?:"(?P<secret_dq>[^"\r\n]*)"|'(?P<secret_sq>[^'\r\n]*)'|(?P<secret>[^\s"'\-][^\s"';&|]*))"#
    )
}

/// Tokens whose prefix names the provider that issued them (GitHub, GitLab, Slack, Google,
/// Stripe, npm, Docker Hub, AWS access key ids, OpenAI and Anthropic API keys, HashiCorp
/// Vault tokens): secrets wherever they appear, with no key before them. A bare `sk-` is
/// followed by exactly 48 letters and digits (OpenAI's original keys), so names such as
/// `sk-operator-controller-manager` stay.
const PROVIDER_TOKEN: &str = r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}|glpat-[A-Za-z0-9_\-]{20,}|xox[abposr]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{35}|[rs]k_(?:live|test)_[0-9A-Za-z]{16,}|npm_[A-Za-z0-9]{36,}|dckr_pat_[A-Za-z0-9_\-]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|sk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_\-]{20,}|sk-[A-Za-z0-9]{48}|hv[sbr]\.[A-Za-z0-9_\-]{24,})\b";

/// Incoming-webhook URLs, whose path is the credential: Slack's `hooks.slack.com/services/…`
/// and Discord's `discord.com/api/webhooks/<id>/<token>`.
const WEBHOOK_URL: &str = r"(?i)\b(?:hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*)|discord(?:app)?\.com/api/webhooks/(?P<secret_dq>[0-9]+/[A-Za-z0-9_\-]+))";

/// Incoming-webhook URLs of Microsoft Teams (`….webhook.office.com/webhookb2/…`,
/// `outlook.office.com/webhook/…`) and Telegram bot URLs (`api.telegram.org/bot<token>/`).
const CHAT_WEBHOOK_URL: &str = r"(?i)\b(?:webhook\.office\.com/webhookb2/|outlook\.office(?:365)?\.com/webhook/|api\.telegram\.org/(?:file/)?bot)(?P<secret>[A-Za-z0-9_\-@:]+(?:/[A-Za-z0-9_\-@:]+)*)";

/// Signatures of presigned URLs and signed requests: AWS SigV4 (`X-Amz-Signature=`, an
/// `Authorization` header's `Signature=`), Google Cloud Storage (`X-Goog-Signature=`), Azure
/// SAS tokens (`?sig=`, `&sig=`). Each grants access by itself until it expires.
const REQUEST_SIGNATURE: &str = r"(?i)(?:\b(?:x-amz-signature|x-goog-signature|signature)|[?&;]sig)=(?P<secret>[A-Za-z0-9%+/_\-]{16,}={0,2})";

/// `Cookie:` and `Set-Cookie:` headers: their whole value (every `name=value` of it), up to
/// a quote or the end of the `;`-separated list; also as Go prints a header map.
const COOKIE_HEADER: &str = r#"(?i)\b(?:set-)?cookie\\?["']?[ \t]*[:=][ \t]*\\?["']?\[?(?P<secret>[^\s"'\]\\;]+(?:;[ \t]*[^\s"'\]\\;]+)*;?)"#;

/// Password hashes, open to an offline guess, wherever they appear: crypt(3) forms
/// (`$apr1$…`, `$2y$10$…`, `$6$salt$…`, `$y$…`, `$argon2id$…`: htpasswd files, haproxy
/// userlists, shadow lines) and LDAP's `{SSHA}…` (slapd `rootpw`, `olcRootPW`, htpasswd's
/// `{SHA}`).
const PASSWORD_HASH: &str = r"(?i)(?:\$(?:1|2[abxy]?|5|6|apr1|y|gy|7|argon2(?:id|i|d)|pbkdf2(?:-sha[0-9]+)?|scrypt)\$[A-Za-z0-9./+=,]*\$[A-Za-z0-9./+=,$]{16,}|\{(?:s?sha(?:256|384|512)?|s?md5|crypt|pbkdf2(?:-sha[0-9]+)?|argon2|bcrypt)\}[A-Za-z0-9+/=.$]{8,})";

/// `.netrc` passwords: `machine host login user password x` on one line (or `default …`),
/// and `password x` alone on a line of a multi-line entry.
const NETRC_PASSWORD: &str = r#"(?m)(?:(?:\bmachine[ \t]+\S+|\bdefault|^[ \t]*login[ \t]+\S+)(?:[ \t]+(?:login|account|port)[ \t]+\S+)*[ \t]+password[ \t]+(?:"(?P<secret_dq>[^"\r\n]*)"|(?P<secret>[^\s"]+))|^[ \t]*password[ \t]+(?P<secret_sq>[^\s"]+)[ \t]*\r?$)"#;

/// Passwords clients take in their own forms, in a command line: a mysql client's
/// `-p<password>` (attached: `-p` alone prompts), `redis-cli -a <password>`, `sshpass -p
/// <password>`, and the password of curl's `-u user:password` (`--user`, `--proxy-user`,
/// `-U`; without a colon curl prompts).
fn client_password() -> String {
    let mysql = MYSQL_CLIENTS.join("|");
    let curl = CURL_USER_FLAGS.join("|");
    format!(
        r#"(?:\b(?:{mysql})\b[^\r\n;|&]*?[ \t"']-p(?P<secret>[^\s"';&|]+)|\bredis-cli\b[^\r\n;|&]*?[ \t]-a[ \t]+(?P<secret_dq>[^\s"';&|]+)|\bsshpass\b[^\r\n;|&]*?[ \t]-p[ \t]*(?P<secret_sq>[^\s"';&|]+)|\bcurl\b[^\r\n;|&]*?[ \t](?:{curl})(?:[ \t]+|=)?["']?[^\s:"']*:(?P<secret_curl>[^\s"';&|]+))"#
    )
}

/// Secrets handed to a client in ways no flag names: echoed into a registry login's
/// `--password-stdin` (`echo pw | docker login -u u --password-stdin reg`; docker, podman,
/// nerdctl, helm, crane, skopeo, oras), a token as `vault login`'s positional argument, and
/// ZooKeeper's `addauth digest user:password`.
const PIPED_OR_POSITIONAL_SECRET: &str = r#"(?:\b(?:echo|printf)[ \t]+(?:-n[ \t]+|-e[ \t]+|'%s'[ \t]+|"%s"[ \t]+)*["']?(?P<secret>[^\s"'|]+)["']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?(?:docker|podman|nerdctl|helm|crane|skopeo|oras)\b[^\r\n|;&]*--password-stdin|\bvault[ \t]+login\b(?:[ \t]+-\S+)*[ \t]+(?P<secret_dq>[^\s"';&|=\-][^\s"';&|=]*)(?:[ \t]|$)|\baddauth[ \t]+digest[ \t]+[^\s:]+:(?P<secret_sq>[^\s"';&|]+))"#;

/// Passwords of admin tools, in a command line: an LDAP client's `-w <password>`
/// (`ldapsearch`, `ldapmodify`, …), the last argument of `htpasswd -b` (`-bc FILE user pw`,
/// `-nb user pw`), `user:password` piped to `chpasswd`, `rabbitmqctl add_user|change_password
/// user <password>`, and `openssl passwd [-6|-apr1|-salt s] <password>`.
fn admin_tool_password() -> String {
    let ldap = LDAP_CLIENTS.join("|");
    format!(
        r#"(?m)(?:\b(?:{ldap})\b[^\r\n;|&]*?[ \t]-w[ \t]*["']?(?P<secret>[^\s"';&|]+)|\bhtpasswd\b[^\r\n;|&]*?[ \t]-[A-Za-z]*b[^\r\n;|&]*?[ \t]["']?(?P<secret_dq>[^\s"';&|\-][^\s"';&|]*)["']?[ \t]*(?:$|[;&|)])|["']?[^\s:"'|]+:(?P<secret_sq>[^\s"'|]+)["']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?chpasswd\b|\brabbitmqctl\b[^\r\n;|&]*?[ \t](?:add_user|change_password)[ \t]+["']?[^\s"']+["']?[ \t]+["']?(?P<secret_curl>[^\s"';&|]+)|\bopenssl[ \t]+passwd\b(?:[ \t]+-(?:salt[ \t]+\S+|[A-Za-z0-9]+))*[ \t]+["']?(?P<secret_tq>[^\s"';&|\-][^\s"';&|]*))"#
    )
}

/// Password directives written `name value` (redis.conf's `requirepass`, `masterauth` and
/// `tls-key-file-pass`, keepalived's `auth_pass`, nslcd's and pam_ldap's `bindpw`,
/// slapd.conf's `rootpw`), and an XML element named as a credential (`<password>…</password>`:
/// Maven, Tomcat, .NET configs).
fn config_line_or_element() -> String {
    format!(
        r#"(?im)(?:^[ \t]*(?:requirepass|masterauth|tls-key-file-pass|auth_pass|bindpw|rootpw)[ \t]+(?P<secret>[^\s"']+)|<{CREDENTIAL_KEY}>(?P<secret_dq>[^<\r\n]+)</)"#
    )
}

/// haproxy's `stats auth user:password` and userlist `user name password <hash>` /
/// `insecure-password <password>`, and redis ACL users' `>password`
/// (`user default on >x ~* +@all`).
const SERVER_USER_LINE: &str = r"(?m)(?:^[ \t]*stats[ \t]+auth[ \t]+[^:\s]+:(?P<secret>\S+)|^[ \t]*user[ \t]+\S+[ \t]+(?:insecure-)?password[ \t]+(?P<secret_dq>\S+)|^[ \t]*user[ \t]+\S+[^\r\n]*?[ \t]>(?P<secret_sq>\S+))";

/// Values a credential field may hold that are not secrets.
const NOT_SECRETS: &[&[u8]] = &[b"null", b"true", b"false", b"~"];

/// Prefix of every replacement, so a redacted value is never redacted again.
pub(crate) const REDACTED_PREFIX: &[u8] = b"<redacted";

struct Rule {
    kind: Kind,
    regex: Regex,
    /// Capture groups that may hold the secret (`secret`, `secret_dq`, `secret_sq`,
    /// `secret_curl`, `secret_tq`): the first that took part in a match is replaced; none
    /// means the whole match.
    groups: Vec<usize>,
    /// A group `key` whose text must name a credential ([`is_credential_field`]).
    key: Option<usize>,
    /// Whether [`NOT_SECRETS`] values are left alone.
    skip_plain_values: bool,
}

/// The compiled text rules: built-ins first, then the user's literals and regexes.
pub(crate) struct TextRules {
    set: RegexSet,
    rules: Vec<Rule>,
}

impl TextRules {
    pub(crate) fn new(literals: &[String], regexes: &[String]) -> Result<Self, RedactConfigError> {
        let builtin = [
            (Kind::PemPrivateKey, PEM_PRIVATE_KEY.to_string(), false),
            (Kind::Jwt, JWT.to_string(), false),
            (
                Kind::PemPrivateKey,
                BASE64_PEM_PRIVATE_KEY.to_string(),
                false,
            ),
            (Kind::BearerToken, BEARER.to_string(), false),
            (Kind::BearerToken, DIGEST_RESPONSE.to_string(), false),
            (Kind::CredentialAssignment, COOKIE_HEADER.to_string(), true),
            (Kind::UrlPassword, URL_PASSWORD.to_string(), false),
            // Before the assignments: a bare value stops at the `}` of `{SSHA}`.
            (Kind::CredentialAssignment, PASSWORD_HASH.to_string(), false),
            // Whole YAML lines first: an unquoted value may hold spaces.
            (
                Kind::KubeconfigCredential,
                yaml_line(CREDENTIAL_FIELD_KEYS),
                true,
            ),
            (Kind::KubeconfigCredential, credential_field(), true),
            (Kind::CredentialAssignment, yaml_line(CREDENTIAL_KEY), true),
            (Kind::CredentialAssignment, credential_assignment(), true),
            (Kind::CommandLineFlag, command_line_flag(), true),
            (Kind::CommandLineFlag, client_password(), true),
            (Kind::CommandLineFlag, admin_tool_password(), true),
            (
                Kind::CommandLineFlag,
                PIPED_OR_POSITIONAL_SECRET.to_string(),
                true,
            ),
            (Kind::CredentialAssignment, config_line_or_element(), true),
            (
                Kind::CredentialAssignment,
                SERVER_USER_LINE.to_string(),
                true,
            ),
            (Kind::CredentialAssignment, NETRC_PASSWORD.to_string(), true),
            (
                Kind::CredentialAssignment,
                REQUEST_SIGNATURE.to_string(),
                false,
            ),
            (Kind::ProviderToken, PROVIDER_TOKEN.to_string(), false),
            (Kind::ProviderToken, WEBHOOK_URL.to_string(), false),
            (Kind::ProviderToken, CHAT_WEBHOOK_URL.to_string(), false),
        ];
        let mut rules = Vec::new();
        for (kind, pattern, skip) in builtin {
            let regex = Regex::new(&pattern).map_err(|e| {
                RedactConfigError::Rule(format!("built-in pattern {}: {e}", kind.name()))
            })?;
            let mut rule = Rule::new(kind, regex, skip);
            // Only built-in patterns judge their key; a user's group named `key` is theirs.
            rule.key = rule.regex.capture_names().position(|n| n == Some("key"));
            rules.push(rule);
        }
        for literal in literals {
            if literal.is_empty() {
                return Err(RedactConfigError::Rule(
                    "empty literal in redaction rules".into(),
                ));
            }
            let regex = Regex::new(&regex::escape(literal))
                .map_err(|e| RedactConfigError::Rule(format!("literal {literal:?}: {e}")))?;
            rules.push(Rule::new(Kind::CustomLiteral, regex, false));
        }
        for pattern in regexes {
            let regex = Regex::new(pattern)
                .map_err(|e| RedactConfigError::Rule(format!("regex {pattern:?}: {e}")))?;
            if regex.is_match(b"") {
                return Err(RedactConfigError::Rule(format!(
                    "regex {pattern:?} matches the empty string"
                )));
            }
            rules.push(Rule::new(Kind::CustomRegex, regex, false));
        }
        let set = RegexSet::new(rules.iter().map(|r| r.regex.as_str()))
            .map_err(|e| RedactConfigError::Rule(format!("redaction rules: {e}")))?;
        Ok(TextRules { set, rules })
    }

    /// Applies every matching rule in order; `None` when nothing matched.
    pub(crate) fn apply(&self, input: &[u8], counts: &Counts) -> Option<Vec<u8>> {
        let hits = self.set.matches(input);
        if !hits.matched_any() {
            return None;
        }
        let mut current: Cow<'_, [u8]> = Cow::Borrowed(input);
        for (i, rule) in self.rules.iter().enumerate() {
            if !hits.matched(i) {
                continue;
            }
            if let Some(out) = rule.apply(&current, counts) {
                current = Cow::Owned(out);
            }
        }
        match current {
            Cow::Owned(out) => Some(out),
            Cow::Borrowed(_) => None,
        }
    }
}

impl Rule {
    fn new(kind: Kind, regex: Regex, skip_plain_values: bool) -> Self {
        let names: Vec<Option<&str>> = regex.capture_names().collect();
        let groups = [
            "secret",
            "secret_dq",
            "secret_sq",
            "secret_curl",
            "secret_tq",
        ]
        .iter()
        .filter_map(|g| names.iter().position(|n| *n == Some(*g)))
        .collect();
        Rule {
            kind,
            regex,
            groups,
            key: None,
            skip_plain_values,
        }
    }

    fn apply(&self, input: &[u8], counts: &Counts) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut last = 0;
        for caps in self.regex.captures_iter(input) {
            let Some(span) = self.secret_span(&caps) else {
                continue;
            };
            let (start, end) = (span.start(), span.end());
            if start < last || start == end {
                continue;
            }
            let buf = out.get_or_insert_with(|| Vec::with_capacity(input.len()));
            buf.extend_from_slice(&input[last..start]);
            push_replacement(buf, end - start);
            last = end;
            counts.add(self.kind, 1);
        }
        let mut buf = out?;
        buf.extend_from_slice(&input[last..]);
        Some(buf)
    }

    fn secret_span<'h>(&self, caps: &Captures<'h>) -> Option<regex::bytes::Match<'h>> {
        if let Some(name) = self.key.and_then(|k| caps.get(k))
            && !std::str::from_utf8(name.as_bytes()).is_ok_and(is_credential_field)
        {
            return None;
        }
        let m = if self.groups.is_empty() {
            caps.get(0)?
        } else {
            self.groups.iter().find_map(|&g| caps.get(g))?
        };
        let value = m.as_bytes();
        // `[<redacted…`: a value Go printed in a list (`Cookie:[…]`) already replaced.
        if value
            .strip_prefix(b"[")
            .unwrap_or(value)
            .starts_with(REDACTED_PREFIX)
        {
            return None;
        }
        if self.skip_plain_values && NOT_SECRETS.iter().any(|v| value.eq_ignore_ascii_case(v)) {
            return None;
        }
        Some(m)
    }
}

/// Appends `<redacted len=N>`.
pub(crate) fn push_replacement(buf: &mut Vec<u8>, len: usize) {
    buf.extend_from_slice(replacement(len).as_bytes());
}

/// The text that stands in for a secret of `len` bytes.
pub(crate) fn replacement(len: usize) -> String {
    format!("<redacted len={len}>")
}
