//! A rule's `[message]` templates: checked when the rule is loaded, rendered per finding row
//! with the row's columns (and the rule's thresholds) as variables.
//!
//! Rule packs are untrusted, so a template is held to what a message needs: `{{ … }}` output
//! and `{% if %}` / `{% for %}` blocks, the filters and tests of [`super::filters`], no
//! operator that builds text (`~`, `+`, `*`), and no `set`, macro, include or import. A
//! render has fuel (instructions), a recursion limit and a cap on its output, so no template
//! can hang or grow without bound. Undefined variables are errors: at load, each variable a
//! template names must be a column of the rule's SELECT or a threshold.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use anyhow::{Result, bail};
use duckdb::Connection;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::filters::{self, FILTERS, MAX_TEXT, TESTS};
use super::rule::{Lang, Rule, Threshold};
use super::statement;
use crate::one_line;

/// Instructions one render may execute: far above what a message takes (a few hundred), far
/// below a noticeable time.
const FUEL: u64 = 50_000;
/// Nesting of blocks a render may reach.
const RECURSION_LIMIT: usize = 64;
/// Columns a templated rule may not return: the templates make them.
const MADE_COLUMNS: &[&str] = &["message", "message_zh"];

/// Block statements a template may use.
const STATEMENTS: &[&str] = &["if", "elif", "else", "endif", "for", "endfor"];

/// The compiled templates of one rule.
pub struct Messages {
    en: Environment<'static>,
    zh: Environment<'static>,
    /// Thresholds as template values.
    thresholds: BTreeMap<String, Value>,
}

impl Messages {
    /// Compiles `rule`'s templates; `None` when the rule returns its messages as columns. A
    /// template that breaks the rules above or does not compile is an error naming the file.
    pub fn compile(rule: &Rule) -> Result<Option<Messages>> {
        let Some(templates) = &rule.meta.message else {
            return Ok(None);
        };
        let env = |lang: Lang| -> Result<Environment<'static>> {
            let source = templates.get(lang);
            let which = match lang {
                Lang::En => "en",
                Lang::Zh => "zh",
            };
            if let Err(why) = vet(source) {
                bail!("{}: message.{which} template: {why}", rule.origin);
            }
            let mut env = Environment::empty();
            env.set_undefined_behavior(UndefinedBehavior::Strict);
            env.set_auto_escape_callback(|_| AutoEscape::None);
            env.set_fuel(Some(FUEL));
            env.set_recursion_limit(RECURSION_LIMIT);
            env.set_formatter(|out, state, value| {
                // NULL columns print as nothing, as they would inside SQL's concat_ws.
                if value.is_none() {
                    return Ok(());
                }
                minijinja::escape_formatter(out, state, value)
            });
            filters::register(&mut env, lang);
            env.add_template_owned(which, source.to_string())
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{}: message.{which} template: {}",
                        rule.origin,
                        one_line(&e.to_string())
                    )
                })?;
            Ok(env)
        };
        let thresholds = rule
            .meta
            .thresholds
            .iter()
            .map(|(name, t)| (name.clone(), threshold_value(t)))
            .collect();
        Ok(Some(Messages {
            en: env(Lang::En)?,
            zh: env(Lang::Zh)?,
            thresholds,
        }))
    }

    /// Names the templates use as variables.
    pub fn variables(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for (env, name) in [(&self.en, "en"), (&self.zh, "zh")] {
            if let Ok(t) = env.get_template(name) {
                names.extend(t.undeclared_variables(false));
            }
        }
        names
    }

    /// The English and Chinese messages of a row whose columns are `columns`.
    pub fn render(&self, columns: BTreeMap<String, Value>) -> Result<(String, String)> {
        let mut vars = self.thresholds.clone();
        vars.extend(columns);
        let vars = Value::from(vars);
        let render = |env: &Environment<'static>, name: &str| -> Result<String> {
            let template = env.get_template(name)?;
            let mut out = Bounded::default();
            template.render_captured_to(&vars, &mut out).map_err(|e| {
                let why = if out.full {
                    format!("more than {MAX_TEXT} bytes")
                } else {
                    e.to_string()
                };
                anyhow::anyhow!("message.{name} template: {}", one_line(&why))
            })?;
            Ok(String::from_utf8_lossy(&out.text).trim().to_string())
        };
        Ok((render(&self.en, "en")?, render(&self.zh, "zh")?))
    }
}

/// A writer that refuses to hold more than [`MAX_TEXT`] bytes.
#[derive(Default)]
struct Bounded {
    text: Vec<u8>,
    /// A write was refused.
    full: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > MAX_TEXT {
            self.full = true;
            return Err(std::io::Error::other("message too long"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A threshold as the templates see it: whole numbers without a fraction, as in the SQL.
fn threshold_value(t: &Threshold) -> Value {
    match t {
        Threshold::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Value::from(*n as i64),
        Threshold::Number(n) => Value::from(*n),
        Threshold::Text(s) | Threshold::Sql(s) => Value::from(s.clone()),
    }
}

/// Rule texts whose templates were already checked against their columns.
static CHECKED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Checks `rule`'s templates against its SELECT: they compile, every variable they use is a
/// column or a threshold, and the SELECT leaves `message` and `message_zh` to them. A rule
/// without templates passes. Parsing only (any connection will do); each rule text is
/// checked once per process.
pub fn check(conn: &Connection, rule: &Rule) -> Result<()> {
    let Some(templates) = &rule.meta.message else {
        return Ok(());
    };
    let key = format!(
        "{}\0{}\0{}\0{}",
        rule.origin, rule.sql, templates.en, templates.zh
    );
    let checked = || CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if checked().contains(&key) {
        return Ok(());
    }
    let Some(messages) = Messages::compile(rule)? else {
        return Ok(());
    };
    let Some(columns) = statement::output_columns(conn, &rule.origin, &rule.sql)? else {
        bail!(
            "{}: a rule with [message] templates must name its columns (no SELECT *, no bare VALUES)",
            rule.origin
        );
    };
    for made in MADE_COLUMNS {
        if columns.iter().any(|c| c == made) {
            bail!(
                "{}: returns a `{made}` column and has [message] templates: keep one",
                rule.origin
            );
        }
    }
    for name in &columns {
        if rule.meta.thresholds.contains_key(name) {
            bail!(
                "{}: column `{name}` has the name of a threshold: rename one",
                rule.origin
            );
        }
    }
    let undefined: Vec<String> = messages
        .variables()
        .into_iter()
        .filter(|v| !columns.contains(v) && !rule.meta.thresholds.contains_key(v))
        .collect();
    if !undefined.is_empty() {
        bail!(
            "{}: [message] templates use {} that no column or threshold defines",
            rule.origin,
            undefined
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    checked().insert(key);
    Ok(())
}

/// Refuses what a message template may not contain (see the module documentation). The
/// template syntax itself is left to minijinja.
fn vet(source: &str) -> Result<(), String> {
    let bytes = source.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'{', b'#') => {
                i = match source[i + 2..].find("#}") {
                    Some(end) => i + 2 + end + 2,
                    None => return Ok(()),
                };
            }
            (b'{', open @ (b'{' | b'%')) => {
                i = vet_tag(source, i + 2, open == b'%')?;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Checks one `{{ … }}` (or, with `statement`, `{% … %}`) tag whose content starts at
/// `start`; returns where the text after it starts.
fn vet_tag(source: &str, start: usize, statement: bool) -> Result<usize, String> {
    let bytes = source.as_bytes();
    let close = if statement { b'%' } else { b'}' };
    let mut i = start;
    if matches!(bytes.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut words = 0;
    // What the next identifier names: a filter after `|`, a test after `is` (and `not`).
    let mut expect: Option<&str> = None;
    while i < bytes.len() {
        let c = bytes[i];
        let at_close = |j: usize| bytes.get(j) == Some(&close) && bytes.get(j + 1) == Some(&b'}');
        if at_close(i) {
            return Ok(i + 2);
        }
        match c {
            b'\'' | b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != c {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                expect = None;
            }
            b'-' | b'+' if at_close(i + 1) => i += 1,
            b'~' | b'+' | b'*' => {
                return Err(format!(
                    "operator `{}` is not allowed (build text in SQL or by writing it out)",
                    c as char
                ));
            }
            b'{' | b'}' => return Err("braces are not allowed inside a tag".into()),
            b'|' => {
                expect = Some("filter");
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = source[i..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .map_or(source.len(), |n| i + n);
                let word = &source[i..end];
                let after_dot = i > 0 && bytes[i - 1] == b'.';
                if statement && words == 0 && !STATEMENTS.contains(&word) {
                    return Err(format!("`{{% {word} %}}` is not allowed (only if and for)"));
                }
                match expect {
                    Some("filter") if !FILTERS.contains(&word) => {
                        return Err(format!(
                            "unknown filter `{word}` (filters: {})",
                            FILTERS.join(", ")
                        ));
                    }
                    Some("test") if word == "not" => {
                        i = end;
                        words += 1;
                        continue;
                    }
                    Some("test") if !TESTS.contains(&word) => {
                        return Err(format!(
                            "unknown test `{word}` (tests: {})",
                            TESTS.join(", ")
                        ));
                    }
                    _ => {}
                }
                expect = (word == "is" && !after_dot).then_some("test");
                words += 1;
                i = end;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                expect = None;
                i += 1;
            }
        }
    }
    // Unclosed: minijinja reports it.
    Ok(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(message: &str, sql: &str) -> Rule {
        let text = format!(
            "/* ---\nid = \"t\"\nseverity = \"medium\"\nfaq = [\"DCE-01\"]\ncategory = \"workloads\"\n\
             [title]\nen = \"T\"\nzh = \"T\"\n[remediation]\nen = \"R\"\nzh = \"R\"\n{message}\n\
             [thresholds]\nlimit = 8\n--- */\n{sql}"
        );
        Rule::parse("t.sql", &text).expect("test rule parses")
    }

    fn templates(en: &str, zh: &str) -> String {
        format!("[message]\nen = {en:?}\nzh = {zh:?}")
    }

    fn check_rule(en: &str, sql: &str) -> Result<()> {
        let conn = Connection::open_in_memory().expect("in-memory database");
        check(&conn, &rule(&templates(en, "中文 {{ pod }}"), sql))
    }

    const SQL: &str = "SELECT 'pod/a' AS resource, 'a' AS pod, 3 AS restarts";

    #[test]
    fn variables_must_be_columns_or_thresholds() {
        check_rule(
            "{{ pod }} restarted {{ restarts }} times, over {{ limit }}",
            SQL,
        )
        .expect("all defined");
        let err = check_rule("{{ pod }} restarted {{ restart }} times", SQL)
            .expect_err("a typo is an error at load")
            .to_string();
        assert_eq!(
            err,
            "t.sql: [message] templates use `restart` that no column or threshold defines"
        );
        // Even in a branch no row may reach.
        let err = check_rule("{% if false %}{{ nodes }}{% endif %}{{ pod }}", SQL)
            .expect_err("undefined in a dead branch");
        assert!(err.to_string().contains("`nodes`"), "{err}");
    }

    #[test]
    fn the_columns_come_from_the_outermost_select() {
        check_rule(
            "{{ pod }} {{ n }}",
            "WITH x AS (SELECT 1 AS hidden) SELECT 'r' AS resource, p.pod, count(*) AS n \
             FROM (SELECT 'a' AS pod) p, x GROUP BY p.pod \
             UNION ALL SELECT 'r', 'b', 2",
        )
        .expect("named columns and a column reference");
        let err = check_rule(
            "{{ hidden }}",
            "WITH x AS (SELECT 1 AS hidden) SELECT 'r' AS resource FROM x",
        )
        .expect_err("a CTE's column is not the rule's");
        assert!(err.to_string().contains("`hidden`"), "{err}");
        let err = check_rule(
            "{{ pod }}",
            "SELECT * FROM (SELECT 'r' AS resource, 'a' AS pod)",
        )
        .expect_err("columns unknown");
        assert!(err.to_string().contains("must name its columns"), "{err}");
        let err = check_rule(
            "{{ pod }}",
            "SELECT 'r' AS resource, 'a' AS pod, 'm' AS message",
        )
        .expect_err("two sources of one message");
        assert!(err.to_string().contains("`message` column"), "{err}");
    }

    #[test]
    fn template_syntax_errors_and_refused_constructs_name_the_file() {
        for (en, why) in [
            ("{{ pod ", "syntax error"),
            ("{% if pod %}x", "unexpected end of input"),
            ("{{ pod ~ pod }}", "operator `~`"),
            ("{{ pod * 100000000 }}", "operator `*`"),
            ("{{ 'a' + pod }}", "operator `+`"),
            ("{% set x = pod %}{{ x }}", "`{% set %}` is not allowed"),
            (
                "{% macro m() %}{% endmacro %}",
                "`{% macro %}` is not allowed",
            ),
            ("{% include 'x' %}", "`{% include %}` is not allowed"),
            ("{{ pod | replace('a', 'aa') }}", "unknown filter `replace`"),
            ("{{ pod is safe }}", "unknown test `safe`"),
            ("{{ {'a': pod} }}", "braces"),
        ] {
            let err = check_rule(en, SQL).expect_err(en).to_string();
            assert!(
                err.starts_with("t.sql: message.en template: "),
                "{en}: {err}"
            );
            assert!(err.contains(why), "{en}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        // Whitespace control, strings holding operators, and `is not` are fine.
        check_rule(
            "{%- if pod is not none -%} {{ pod | join(', ') if false else '~ + *' }} {%+ endif +%}",
            SQL,
        )
        .expect("allowed");
    }

    fn render(en: &str, columns: &[(&str, Value)]) -> Result<String> {
        let r = rule(&templates(en, "中文"), "SELECT 'r' AS resource");
        let messages = Messages::compile(&r)?.expect("templates");
        let columns = columns
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        Ok(messages.render(columns)?.0)
    }

    #[test]
    fn renders_columns_thresholds_and_nulls() {
        let got = render(
            "{{ pod }}: {{ n }} of {{ limit }}{{ gone }}, {{ ratio }}{% if gone is none %}.{% endif %}",
            &[
                ("pod", Value::from("a")),
                ("n", Value::from(3)),
                ("gone", Value::from(())),
                ("ratio", Value::from(1.0)),
            ],
        )
        .expect("renders");
        assert_eq!(got, "a: 3 of 8, 1.0.");
        // A variable no row has is an error when it is reached, not a blank.
        let err = render("{{ missing }}", &[]).expect_err("strict");
        assert!(err.to_string().contains("undefined"), "{err}");
    }

    #[test]
    fn a_null_is_never_greater_and_equals_nothing_but_none() {
        let got = render(
            "{% if n > 0 %}a{% endif %}{% if n == 0 %}b{% endif %}{% if n == false %}c{% endif %}\
             {% if n %}d{% endif %}{% if n is none %}e{% endif %}",
            &[("n", Value::from(()))],
        )
        .expect("renders");
        assert_eq!(got, "e");
    }

    #[test]
    fn a_hostile_template_runs_out_of_fuel_or_room_instead_of_hanging() {
        let items = Value::from(vec![Value::from("x"); 400]);
        let start = std::time::Instant::now();
        let err = render(
            "{% for a in items %}{% for b in items %}{% for c in items %}.{% endfor %}{% endfor %}{% endfor %}",
            &[("items", items.clone())],
        )
        .expect_err("out of fuel");
        assert!(err.to_string().contains("fuel"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let long = Value::from("y".repeat(MAX_TEXT / 4));
        let err = render(
            "{% for a in items %}{{ long }}{% endfor %}",
            &[("items", items), ("long", long)],
        )
        .expect_err("too long");
        assert!(err.to_string().contains("more than"), "{err}");
        let err = render(
            "{% for a in [1] recursive %}{{ loop([a]) }}{% endfor %}",
            &[],
        )
        .expect_err("recursion limit");
        assert!(err.to_string().contains("recursion"), "{err}");
    }
}
