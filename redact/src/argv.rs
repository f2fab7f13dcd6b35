//! Argument lists (`command`, `args`, any list of strings): a credential flag and its value
//! are often two items, `["--password", "s3cret"]`, so the value is known only by the item
//! before it. `--password=s3cret` in one item is left to the text rules.

use serde_json::Value;

use super::names::is_credential_field;
use super::rules::{REDACTED_PREFIX, replacement};
use super::{Counts, Kind};

/// Flags that name a user, after which `-p` is a password (mysql, psql-style clients).
const USER_FLAGS: &[&str] = &["-u", "--user", "--username"];

/// Clients whose `-p<password>` takes the password in the same item (`-phunter2`); also
/// what the text rule of the same form (`rules.rs`) looks for.
pub(crate) const MYSQL_CLIENTS: &[&str] = &[
    "mysql",
    "mysqldump",
    "mysqladmin",
    "mysqlimport",
    "mysqlcheck",
    "mariadb",
    "mariadb-dump",
    "mariadb-admin",
];

/// LDAP clients, whose `-w` takes the bind password (`-W` prompts); also what the text rule
/// of the same form (`rules.rs`) looks for.
pub(crate) const LDAP_CLIENTS: &[&str] = &[
    "ldapsearch",
    "ldapmodify",
    "ldapadd",
    "ldapdelete",
    "ldapwhoami",
    "ldappasswd",
    "ldapcompare",
    "ldapmodrdn",
    "ldapexop",
];

/// curl's flags for `user:password` (`--user`, and `--proxy-user` for the proxy); the
/// password is what follows the first colon, and without one curl prompts.
pub(crate) const CURL_USER_FLAGS: &[&str] = &["-u", "--user", "-U", "--proxy-user"];

/// Redacts the item after each credential flag of `items`, the password of a mysql
/// client's `-p<password>` and of curl's `-u user:password`; true when anything changed.
pub(super) fn redact_flag_values(tally: &Counts, items: &mut [Value]) -> bool {
    let mut changed = false;
    let mut after_user_flag = false;
    let (mut mysql, mut redis, mut sshpass, mut curl) = (false, false, false, false);
    let mut ldap = false;
    for i in 0..items.len() {
        if let Some(item) = items[i].as_str() {
            let program = item.rsplit('/').next().unwrap_or(item);
            mysql |= MYSQL_CLIENTS.contains(&program);
            redis |= program == "redis-cli";
            sshpass |= program == "sshpass";
            curl |= program == "curl";
            ldap |= LDAP_CLIENTS.contains(&program);
        }
        let after_curl_user_flag = i
            .checked_sub(1)
            .and_then(|p| items[p].as_str())
            .is_some_and(|flag| CURL_USER_FLAGS.contains(&flag));
        if curl && redact_curl_password(&mut items[i], after_curl_user_flag) {
            tally.add(Kind::CommandLineFlag, 1);
            changed = true;
            continue;
        }
        if mysql
            && let Value::String(item) = &mut items[i]
            && let Some(password) = item.strip_prefix("-p")
            && is_flag_value(password)
        {
            *item = format!("-p{}", replacement(password.len()));
            tally.add(Kind::CommandLineFlag, 1);
            changed = true;
            continue;
        }
        let Some(flag) = i.checked_sub(1).and_then(|p| items[p].as_str()) else {
            continue;
        };
        after_user_flag |= USER_FLAGS.contains(&flag);
        let takes_secret = is_credential_flag(flag)
            || (flag == "-p" && (after_user_flag || sshpass))
            || (flag == "-a" && redis)
            || (flag == "-w" && ldap);
        if takes_secret
            && let Value::String(value) = &mut items[i]
            && is_flag_value(value)
        {
            *value = replacement(value.len());
            tally.add(Kind::CommandLineFlag, 1);
            changed = true;
        }
    }
    changed
}

/// The password of curl's `user:password`, as the item after a user flag (`-u`,
/// `admin:pw`) or attached to it (`-uadmin:pw`, `--user=admin:pw`); true when redacted.
fn redact_curl_password(item: &mut Value, after_user_flag: bool) -> bool {
    let Value::String(text) = item else {
        return false;
    };
    let value_start = if after_user_flag {
        0
    } else if let Some(rest) = text
        .strip_prefix("--user=")
        .or(text.strip_prefix("--proxy-user="))
    {
        text.len() - rest.len()
    } else if text.starts_with("-u") || text.starts_with("-U") {
        2
    } else {
        return false;
    };
    let Some(colon) = text[value_start..].find(':') else {
        return false;
    };
    let password = &text[value_start + colon + 1..];
    if value_start == 0 && text.starts_with('-') || !is_flag_value(password) {
        return false;
    }
    *text = format!(
        "{}{}",
        &text[..value_start + colon + 1],
        replacement(password.len())
    );
    true
}

/// `--password`, `-token`, `--db-pass`: a flag alone (no `=value`) naming a credential.
fn is_credential_flag(item: &str) -> bool {
    item.starts_with('-')
        && !item.contains(['=', ' ', '\t'])
        && is_credential_field(item.trim_start_matches('-'))
}

/// Whether an item can be a flag's value: not another flag, not empty, not yet redacted, not
/// a boolean.
fn is_flag_value(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with('-')
        && !value.as_bytes().starts_with(REDACTED_PREFIX)
        && !value.eq_ignore_ascii_case("true")
        && !value.eq_ignore_ascii_case("false")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn redact(mut items: Value) -> Value {
        let tally = Counts::new();
        redact_flag_values(&tally, items.as_array_mut().expect("a list"));
        items
    }

    #[test]
    fn the_item_after_a_credential_flag_goes() {
        let out = redact(json!(["app", "--password", "pw-canary", "--port", "80"]));
        assert_eq!(
            out,
            json!(["app", "--password", "<redacted len=9>", "--port", "80"])
        );
        let out = redact(json!(["mysql", "-u", "root", "-p", "pw-canary", "db"]));
        assert_eq!(out[4], "<redacted len=9>");
        assert_eq!(out[5], "db");
    }

    #[test]
    fn client_passwords_in_their_own_forms_go() {
        let out = redact(json!([
            "/usr/bin/mysql",
            "-uroot",
            "-phunter2",
            "-P3306",
            "db"
        ]));
        assert_eq!(
            out,
            json!([
                "/usr/bin/mysql",
                "-uroot",
                "-p<redacted len=7>",
                "-P3306",
                "db"
            ])
        );
        let out = redact(json!(["mysqldump", "-p", "-h", "db"]));
        assert_eq!(
            out,
            json!(["mysqldump", "-p", "-h", "db"]),
            "a prompt, no password"
        );
        let out = redact(json!(["redis-cli", "-h", "r", "-a", "hunter2", "ping"]));
        assert_eq!(out[4], "<redacted len=7>");
        let out = redact(json!(["sshpass", "-p", "hunter2", "ssh", "host"]));
        assert_eq!(out[2], "<redacted len=7>");
        let out = redact(json!(["ldapsearch", "-x", "-w", "hunter2", "-b", "dc=x"]));
        assert_eq!(out[3], "<redacted len=7>");
        let out = redact(json!([
            "curl",
            "-u",
            "admin:hunter2",
            "-uops:hunter22",
            "--proxy-user=p:hunter222",
            "https://x:8443/"
        ]));
        assert_eq!(
            out,
            json!([
                "curl",
                "-u",
                "admin:<redacted len=7>",
                "-uops:<redacted len=8>",
                "--proxy-user=p:<redacted len=9>",
                "https://x:8443/"
            ])
        );
        let prompt = json!(["curl", "-u", "admin", "--url", "https://x:8443/"]);
        assert_eq!(redact(prompt.clone()), prompt, "no password: curl prompts");
        // Elsewhere -a and an attached -p mean other things.
        let kept = json!(["tar", "-a", "x.tar", "ls", "-pthing", "-w", "80"]);
        assert_eq!(redact(kept.clone()), kept);
    }

    #[test]
    fn references_flags_and_booleans_stay() {
        let kept = json!([
            "--token-file",
            "/var/run/token",
            "--secret-name",
            "db",
            "--enable-bootstrap-token-auth",
            "true",
            "--auth",
            "--verbose",
            "-p",
            "8080"
        ]);
        assert_eq!(redact(kept.clone()), kept);
    }
}
