//! The report templates, their style sheet and their UI strings, embedded at build time so
//! the analyzer's binary carries them. The analyzer renders them (`ktriage analyze`,
//! `ktriage diff`) with its own escaping and filters; this crate only holds them and checks
//! that they parse and that every string exists in every language.

use std::fmt;

/// Every template as `(name, source)`. The name's ending picks the escaping: `*.html.j2` for
/// HTML, `*.md.j2` for Markdown.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("report.html.j2", include_str!("../report.html.j2")),
    ("report.md.j2", include_str!("../report.md.j2")),
    ("diff.html.j2", include_str!("../diff.html.j2")),
    ("diff.md.j2", include_str!("../diff.md.j2")),
];

/// The style sheet of the HTML reports, inlined into each so that it is self-contained.
pub const STYLE: &str = include_str!("../report.css");

/// The languages of the UI strings, as `--lang` names them.
pub const LANGUAGES: &[&str] = &["en", "zh"];

const STRINGS: &str = include_str!("../strings.toml");

/// The source of the template `name`, if there is one.
pub fn template(name: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, source)| *source)
}

/// The UI strings in `lang` (one of [`LANGUAGES`]): the report's at the top, `ktriage diff`'s
/// in the `diff` table.
pub fn strings(lang: &str) -> Result<toml::Table, StringsError> {
    all_strings()?
        .remove(lang)
        .and_then(|v| match v {
            toml::Value::Table(t) => Some(t),
            _ => None,
        })
        .ok_or_else(|| StringsError(format!("no [{lang}] table")))
}

fn all_strings() -> Result<toml::Table, StringsError> {
    toml::from_str(STRINGS).map_err(|e| StringsError(e.to_string()))
}

/// `strings.toml` does not parse or lacks a language (the tests below rule both out).
#[derive(Debug)]
pub struct StringsError(String);

impl fmt::Display for StringsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reports/strings.toml: {}", self.0)
    }
}

impl std::error::Error for StringsError {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = minijinja::Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                panic!("{name}: {e:#}");
            }
        }
        assert_eq!(template("diff.md.j2"), Some(TEMPLATES[3].1));
        assert_eq!(template("nothing.j2"), None);
    }

    #[test]
    fn every_template_file_is_embedded() {
        let dir = std::fs::read_dir(ktriage_tests::manifest_dir!()).expect("crate directory");
        let on_disk: BTreeSet<String> = dir
            .map(|entry| entry.expect("directory entry").file_name())
            .filter_map(|name| name.into_string().ok())
            .filter(|name| name.ends_with(".j2"))
            .collect();
        let embedded: BTreeSet<String> = TEMPLATES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(on_disk, embedded);
    }

    /// Every key path (`diff.title`) of `table` whose value is a string; panics on any other
    /// kind of value, which no template could print as a string.
    fn keys(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
        for (key, value) in table {
            let path = format!("{prefix}{key}");
            match value {
                toml::Value::Table(t) => keys(t, &format!("{path}."), out),
                toml::Value::String(s) => {
                    assert!(!s.trim().is_empty(), "{path} is empty");
                    out.insert(path);
                }
                other => panic!("{path} is not a string: {other}"),
            }
        }
    }

    #[test]
    fn every_string_has_every_language() {
        let all = all_strings().expect("strings.toml parses");
        let languages: BTreeSet<&str> = all.keys().map(String::as_str).collect();
        assert_eq!(languages, LANGUAGES.iter().copied().collect());
        let per_language: Vec<(&str, BTreeSet<String>)> = LANGUAGES
            .iter()
            .map(|lang| {
                let mut found = BTreeSet::new();
                keys(&strings(lang).expect(lang), "", &mut found);
                (*lang, found)
            })
            .collect();
        let (first, first_keys) = &per_language[0];
        assert!(first_keys.contains("title") && first_keys.contains("diff.title"));
        for (lang, found) in &per_language[1..] {
            let missing: Vec<_> = first_keys.difference(found).collect();
            let extra: Vec<_> = found.difference(first_keys).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "[{lang}] lacks {missing:?} and has {extra:?} that [{first}] lacks"
            );
        }
    }

    #[test]
    fn an_unknown_language_is_an_error_naming_the_file() {
        let err = strings("fr").expect_err("no French strings");
        assert_eq!(err.to_string(), "reports/strings.toml: no [fr] table");
    }
}
