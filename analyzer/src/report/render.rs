//! Renders a [`Report`] as HTML, Markdown and JSON.
//!
//! Templates come from the `ktriage-reports` crate (`reports/`). The HTML template is named
//! `*.html.j2` so minijinja escapes everything it prints for HTML; the Markdown template
//! `*.md.j2` gets the same treatment for Markdown (see [`markup`]): every value is printed as
//! inert inline text unless a filter made it a code span or block. The only pre-rendered
//! markup is rule remediation, stripped of anything live by [`markup::remediation`].

use anyhow::Result;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};
use pulldown_cmark::{Event, Parser, html};

use super::markup;
use super::model::Report;
use crate::rules::Lang;

/// Auto-escape mode of the Markdown template.
const MARKDOWN: AutoEscape = AutoEscape::Custom("markdown");

/// The template environment every report shares: escaping for HTML and Markdown, the filters.
pub(crate) fn environment(lang: Lang) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".md.j2") {
            MARKDOWN
        } else {
            minijinja::default_auto_escape_callback(name)
        }
    });
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == MARKDOWN && !value.is_safe() {
            out.write_str(&markup::inline_text(&value.to_string()))?;
            Ok(())
        } else if let Some(text) = value
            .as_str()
            .filter(|t| !value.is_safe() && markup::needs_html_visible(t))
        {
            // Bundle text never puts a raw control character into the HTML either.
            minijinja::escape_formatter(out, state, &Value::from(markup::html_visible(text)))
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    // Each template is parsed when first asked for: a report needs one of the four.
    env.set_loader(|name| Ok(ktriage_reports::template(name).map(str::to_owned)));
    // Rule remediation: Markdown with nothing live, as HTML or as Markdown.
    env.add_filter("markdown", |s: String| {
        Value::from_safe_string(markdown_to_html(&markup::remediation(&s)))
    });
    env.add_filter("remediation_md", |s: String| {
        Value::from_safe_string(markup::remediation(&s))
    });
    // Markdown code: a span or a fenced block nothing inside can close.
    env.add_filter("code", |s: String| {
        Value::from_safe_string(markup::code_span(&s))
    });
    env.add_filter("code_block", |s: String| {
        Value::from_safe_string(markup::code_block(&s))
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
    // When a finding's log evidence was first and last seen, and how often.
    env.add_filter(
        "seen",
        move |finding: Value| -> Result<String, minijinja::Error> {
            let attr = |name: &str| -> Result<Option<String>, minijinja::Error> {
                let v = finding.get_attr(name)?;
                Ok((!v.is_none() && !v.is_undefined()).then(|| v.to_string()))
            };
            Ok(seen_line(
                lang,
                attr("first_seen")?.as_deref(),
                attr("last_seen")?.as_deref(),
                attr("count")?.and_then(|c| c.parse().ok()),
            ))
        },
    );
    Ok(env)
}

/// "first seen 2026-01-14 03:00:00 UTC, last seen …, 42 times", or empty without times.
fn seen_line(lang: Lang, first: Option<&str>, last: Option<&str>, count: Option<i64>) -> String {
    let short = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.to_utc().format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|_| t.to_string())
    };
    let (first, last) = (first.map(short), last.map(short));
    // (seen once, first seen, last seen, count before, count after, separator)
    let (once, first_word, last_word, count_pre, count_post, sep) = match lang {
        Lang::En => ("seen", "first seen", "last seen", "", " times", ", "),
        Lang::Zh => ("出现于", "首次出现", "最近出现", "共 ", " 次", "，"),
    };
    let mut parts = Vec::new();
    match (&first, &last) {
        (Some(f), Some(l)) if f == l => parts.push(format!("{once} {f}")),
        _ => {
            parts.extend(first.map(|f| format!("{first_word} {f}")));
            parts.extend(last.map(|l| format!("{last_word} {l}")));
        }
    }
    if !parts.is_empty() {
        parts.extend(count.map(|n| format!("{count_pre}{n}{count_post}")));
    }
    parts.join(sep)
}

/// UI strings of the report in `lang`.
pub(crate) fn strings(lang: Lang) -> Result<toml::Table> {
    let code = match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    };
    Ok(ktriage_reports::strings(code)?)
}

/// The report's own style sheet, as it is: inside `<style>` entities are not decoded, so an
/// HTML-escaped `>` or `/` would break its selectors and shorthands.
pub(crate) fn css() -> Value {
    Value::from_safe_string(ktriage_reports::STYLE.to_string())
}

/// The self-contained HTML report.
pub fn html(report: &Report) -> Result<String> {
    let env = environment(report.lang)?;
    let tmpl = env.get_template("report.html.j2")?;
    Ok(tmpl.render(context! { r => report, t => strings(report.lang)?, css => css() })?)
}

/// The Markdown report.
pub fn markdown(report: &Report) -> Result<String> {
    let env = environment(report.lang)?;
    let tmpl = env.get_template("report.md.j2")?;
    Ok(tmpl.render(context! { r => report, t => strings(report.lang)? })?)
}

/// `findings.json`: the report without the timeline chart (`ktriage timeline --format json`
/// gives the timeline itself).
pub fn json(report: &Report) -> Result<String> {
    let mut value = serde_json::to_value(report)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("timeline");
    }
    Ok(serde_json::to_string_pretty(&value)?)
}

/// Markdown to HTML with raw HTML shown as text, never passed through (links and images are
/// for [`markup::remediation`] to vet first).
pub fn markdown_to_html(md: &str) -> String {
    let parser = Parser::new_ext(md, markup::options()).map(|e| match e {
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
    fn says_when_log_evidence_was_seen() {
        let (first, last) = (Some("2026-01-14T03:00:00Z"), Some("2026-01-15T11:59:00Z"));
        assert_eq!(
            seen_line(Lang::En, first, last, Some(42)),
            "first seen 2026-01-14 03:00:00 UTC, last seen 2026-01-15 11:59:00 UTC, 42 times"
        );
        assert_eq!(
            seen_line(Lang::Zh, first, last, Some(42)),
            "首次出现 2026-01-14 03:00:00 UTC，最近出现 2026-01-15 11:59:00 UTC，共 42 次"
        );
        assert_eq!(
            seen_line(Lang::En, last, last, None),
            "seen 2026-01-15 11:59:00 UTC"
        );
        assert_eq!(seen_line(Lang::En, None, None, Some(3)), "");
    }

    #[test]
    fn markdown_never_passes_raw_html() {
        let out = markdown_to_html("Run `kubectl get pods`.\n\n<script>alert(1)</script>");
        assert!(out.contains("<code>kubectl get pods</code>"));
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }
}
