//! Text from bundles and rule packs made inert for the reports.
//!
//! Bundles and third-party rule packs (`--rules DIR`) are untrusted: a pod name, a log line or
//! a rule's remediation must show as text in `report.md` and `report.html`, never become a
//! `javascript:` link, a remote image or raw HTML, and never break out of the table cell or
//! code block it sits in. Bundle text is escaped for the place it lands (inline text, an
//! inline code span, a fenced block). Remediation Markdown keeps its formatting and its
//! `http(s)` links; anything else that could reach out or run (raw HTML, images, other link
//! targets, reference definitions, which would apply to the whole report) is shown as its
//! own source text.

use std::cmp::Reverse;
use std::ops::Range;

use ktriage_schema::text::is_unsafe;
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag};

/// The extensions Markdown viewers commonly enable (GitHub's flavour): checks must see what
/// a viewer would.
pub fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Pushes `c` as a visible escape when it is a control character, else as itself.
fn push_visible(out: &mut String, c: char) {
    if is_unsafe(c) {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// Text for HTML, before minijinja's HTML escaping: control characters and bidirectional
/// overrides show as visible escapes, line breaks and tabs (which `<pre>` evidence needs) stay.
pub fn html_visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// Whether [`html_visible`] would change `text`.
pub fn needs_html_visible(text: &str) -> bool {
    text.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c))
}

/// Text for one line of Markdown (a table cell, a list item, a heading): every character
/// that could start markup is backslash-escaped, line breaks become spaces, controls show as
/// escapes.
pub fn inline_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '!' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// An inline code span holding `text` literally: its backtick fence is longer than any run of
/// backticks inside (backslashes do not escape in code spans).
pub fn code_span(text: &str) -> String {
    let mut content = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\t' => content.push(' '),
            c => push_visible(&mut content, c),
        }
    }
    if content.is_empty() {
        return String::new();
    }
    let fence = "`".repeat(longest_run(&content, '`') + 1);
    // A span starting or ending with a backtick needs a space between it and the fence (the
    // parser strips one space on each side).
    let pad = if content.starts_with('`') || content.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{content}{pad}{fence}")
}

/// A fenced code block holding `text` literally, however it is made: the fence is longer than
/// any run of backticks in it, so no line can close it, and a lone `\r` (which Markdown
/// counts as a line end) becomes `\n`.
pub fn code_block(text: &str) -> String {
    let mut content = String::with_capacity(text.len() + 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    content.push('\n');
                }
            }
            '\n' | '\t' => content.push(c),
            c => push_visible(&mut content, c),
        }
    }
    if !content.ends_with('\n') {
        content.push('\n');
    }
    let fence = "`".repeat((longest_run(&content, '`') + 1).max(3));
    format!("{fence}\n{content}{fence}\n")
}

fn longest_run(text: &str, of: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == of { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// A rule's remediation Markdown with nothing live left but formatting and inline `http(s)`
/// links; see the module comment. Used as is in `report.md` and rendered for `report.html`.
pub fn remediation(md: &str) -> String {
    let md = normalise(md);
    let kept = neutralise(&md);
    // A code fence left open would swallow the rest of the report: close it, with a fence as
    // long as any run in the text (a closing fence may be longer than the opening one).
    let line_end = if kept.ends_with('\n') { "" } else { "\n" };
    let closings = ['`', '~'].map(|c| {
        let fence = c.to_string().repeat(longest_run(&kept, c).max(3));
        format!("{kept}{line_end}{fence}\n")
    });
    std::iter::once(kept)
        .chain(closings)
        .find(|candidate| is_inert(candidate) && is_closed(candidate))
        // Constructs nested in ways the rewrite did not foresee: show it all as text.
        .unwrap_or_else(|| escape_all(&md))
}

/// Line ends as `\n`, other controls as visible escapes.
fn normalise(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut chars = md.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// Every ASCII punctuation character backslash-escaped, line breaks kept: Markdown reads the
/// result as plain paragraphs.
fn escape_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A link kept live: written inline (a reference would resolve against the whole report) to
/// an absolute `http(s)` address.
fn kept_link(link_type: LinkType, dest: &str) -> bool {
    matches!(link_type, LinkType::Inline | LinkType::Autolink) && web_address(dest)
}

fn web_address(dest: &str) -> bool {
    let lower = dest.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !dest.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether an event is markup a remediation may not carry.
fn is_live(event: &Event<'_>) -> bool {
    match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            ..
        }) => !kept_link(*link_type, dest_url),
        Event::Start(Tag::Image { .. } | Tag::HtmlBlock)
        | Event::Html(_)
        | Event::InlineHtml(_) => true,
        _ => false,
    }
}

/// `md` with every live construct (and every reference definition) replaced by its own
/// source, escaped.
fn neutralise(md: &str) -> String {
    let parser = Parser::new_ext(md, options());
    let mut spans: Vec<Range<usize>> = parser
        .reference_definitions()
        .iter()
        .map(|(_, def)| def.span.clone())
        .collect();
    spans.extend(
        parser
            .into_offset_iter()
            .filter(|(event, _)| is_live(event))
            .map(|(_, range)| range),
    );
    // Outermost first: what lies inside a span already shown as text goes with it.
    spans.sort_by_key(|r| (r.start, Reverse(r.end)));
    let mut out = String::with_capacity(md.len() + 16);
    let mut at = 0;
    for span in spans {
        if span.start < at || span.end > md.len() {
            continue;
        }
        out.push_str(&md[at..span.start]);
        out.push_str(&escape_all(&md[span.clone()]));
        at = span.end;
    }
    out.push_str(&md[at..]);
    out
}

/// No raw HTML, image, reference definition or link other than inline `http(s)`.
pub fn is_inert(md: &str) -> bool {
    let parser = Parser::new_ext(md, options());
    if parser.reference_definitions().iter().next().is_some() {
        return false;
    }
    !parser.into_iter().any(|event| is_live(&event))
}

/// Whether `md` ends every block it opens, so what the report prints after it (the next
/// paragraph) is not swallowed by an open code fence.
fn is_closed(md: &str) -> bool {
    const MARKER: &str = "ktriage-end-of-remediation";
    let text = format!("{md}\n\n{MARKER}\n");
    let events: Vec<Event<'_>> = Parser::new_ext(&text, options()).collect();
    let Some(before) = events.len().checked_sub(3) else {
        return false;
    };
    let depth: i64 = events[..before]
        .iter()
        .map(|e| match e {
            Event::Start(_) => 1,
            Event::End(_) => -1,
            _ => 0,
        })
        .sum();
    depth == 0
        && matches!(&events[before..], [Event::Start(Tag::Paragraph), Event::Text(t), Event::End(_)] if t.as_ref() == MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "Fix it: [x](javascript:alert(1)), ![i](http://evil/x.png), \
        <script>alert(1)</script>, <img src=x onerror=alert(1)>, [y][ref], <mailto:a@b.c>, \
        [ok](https://kubernetes.io/docs/).\n\n[ref]: javascript:alert(2)\n\n<div onclick=x>\nblock\n</div>\n";

    #[test]
    fn remediation_keeps_formatting_and_web_links_only() {
        let out = remediation(HOSTILE);
        assert!(is_inert(&out), "{out}");
        assert!(out.contains("[ok](https://kubernetes.io/docs/)"), "{out}");
        let html = crate::report::render::markdown_to_html(&out);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(!html.contains("href=\"mailto"), "{html}");
        assert!(
            html.contains("<a href=\"https://kubernetes.io/docs/\">ok</a>"),
            "{html}"
        );
        // The hostile parts still show, as text.
        assert!(html.contains("javascript:alert(1)"), "{html}");
        assert!(html.contains("http://evil/x.png"), "{html}");
    }

    #[test]
    fn built_in_style_remediation_is_unchanged() {
        let md = "1. Raise `memory` limits.\n2. See [Reserve](https://kubernetes.io/x/).\n\n```sh\nkubectl get pods\n```\n";
        assert_eq!(remediation(md), md);
    }

    #[test]
    fn an_unclosed_fence_cannot_swallow_the_rest_of_the_report() {
        let out = remediation("Run:\n\n```\nkubectl get pods\n");
        assert!(is_closed(&out), "{out}");
        assert!(is_inert(&out), "{out}");
        assert!(
            out.starts_with("Run:\n\n```\nkubectl get pods\n```"),
            "{out}"
        );
        // Nested where a closing fence cannot reach: shown as text instead.
        let out = remediation("- item\n\n  ```\n  code\n");
        assert!(is_closed(&out) && is_inert(&out), "{out}");
    }

    #[test]
    fn escaping_everything_is_inert_and_closed() {
        let out = escape_all(HOSTILE);
        assert!(is_inert(&out) && is_closed(&out), "{out}");
    }

    #[test]
    fn inline_text_cannot_make_markup() {
        let text = "<script>x</script> | [a](javascript:b) ![i](http://e/x.png) `c` *d* _e_ \\\r\nf\u{1b}]0;t\u{7}";
        let out = inline_text(text);
        let md = format!("| h |\n|---|\n| {out} |\n");
        let events: Vec<Event<'_>> = Parser::new_ext(&md, options()).collect();
        assert!(
            events.iter().all(|e| matches!(
                e,
                Event::Start(Tag::Table(_) | Tag::TableHead | Tag::TableRow | Tag::TableCell)
                    | Event::End(_)
                    | Event::Text(_)
            )),
            "{events:?}"
        );
        assert!(!out.contains('\u{1b}') && !out.contains('\n'), "{out}");
        // One row, one cell.
        let cells = events
            .iter()
            .filter(|e| matches!(e, Event::Start(Tag::TableCell)))
            .count();
        assert_eq!(cells, 2, "{events:?}");
    }

    #[test]
    fn code_blocks_and_spans_cannot_be_closed_from_inside() {
        let text = "line\n```\n~~~\r<script>\r\n````` end";
        let md = format!("{}\nafter\n", code_block(text));
        let events: Vec<Event<'_>> = Parser::new_ext(&md, options()).collect();
        let code: String = events
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) => Some(t.to_string()),
                _ => None,
            })
            .collect();
        assert!(
            code.starts_with("line\n```\n~~~\n<script>\n````` end\n"),
            "{code}"
        );
        assert!(matches!(
            events.first(),
            Some(Event::Start(Tag::CodeBlock(_)))
        ));
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`a"), "`` `a ``");
    }
}
