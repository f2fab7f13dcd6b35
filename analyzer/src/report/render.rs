//! Renders a [`Report`] as HTML, Markdown and JSON.
//!
//! Templates live in `reports/` and are embedded at build time. The HTML template is named
//! `*.html.j2` so minijinja escapes everything it prints; the only pre-rendered HTML is rule
//! remediation Markdown, converted here with raw HTML disabled.

use anyhow::{Context, Result};
use minijinja::{Environment, UndefinedBehavior, Value, context};
use pulldown_cmark::{Event, Options, Parser, html};

use super::model::Report;
use crate::rules::Lang;

const HTML_TEMPLATE: &str = include_str!("../../../reports/report.html.j2");
const MD_TEMPLATE: &str = include_str!("../../../reports/report.md.j2");
const CSS: &str = include_str!("../../../reports/report.css");
const STRINGS: &str = include_str!("../../../reports/strings.toml");

fn environment(lang: Lang) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("report.html.j2", HTML_TEMPLATE)?;
    env.add_template("report.md.j2", MD_TEMPLATE)?;
    env.add_filter("markdown", |s: String| {
        Value::from_safe_string(markdown_to_html(&s))
    });
    env.add_filter("md_cell", |s: String| {
        s.replace('|', "\\|").replace('\n', " ")
    });
    // A finding's message in the report language: the rule's Chinese one when it gave one.
    env.add_filter(
        "message",
        move |finding: Value| -> Result<Value, minijinja::Error> {
            let zh = finding.get_attr("message_zh")?;
            if lang == Lang::Zh && zh.is_true() {
                return Ok(zh);
            }
            finding.get_attr("message")
        },
    );
    Ok(env)
}

/// UI strings of the report in `lang`.
fn strings(lang: Lang) -> Result<toml::Table> {
    let all: toml::Table = toml::from_str(STRINGS).context("reports/strings.toml")?;
    let key = match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    };
    all.get(key)
        .and_then(|v| v.as_table())
        .cloned()
        .context("reports/strings.toml: missing language table")
}

/// The self-contained HTML report.
pub fn html(report: &Report) -> Result<String> {
    let env = environment(report.lang)?;
    let tmpl = env.get_template("report.html.j2")?;
    Ok(tmpl.render(context! { r => report, t => strings(report.lang)?, css => CSS })?)
}

/// The Markdown report.
pub fn markdown(report: &Report) -> Result<String> {
    let env = environment(report.lang)?;
    let tmpl = env.get_template("report.md.j2")?;
    Ok(tmpl.render(context! { r => report, t => strings(report.lang)? })?)
}

/// `findings.json`.
pub fn json(report: &Report) -> Result<String> {
    Ok(serde_json::to_string_pretty(report)?)
}

/// Markdown to HTML with raw HTML shown as text, never passed through.
pub fn markdown_to_html(md: &str) -> String {
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_never_passes_raw_html() {
        let out = markdown_to_html("Run `kubectl get pods`.\n\n<script>alert(1)</script>");
        assert!(out.contains("<code>kubectl get pods</code>"));
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }
}
