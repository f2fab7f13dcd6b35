//! Untrusted text stays inert: a hostile bundle and a hostile rule pack, analyzed by the real
//! `ktriage` binary, leave no live markup in `report.md` or `report.html`, and error messages
//! never carry terminal control characters from a bundle.

mod common;

use common::{copy_dir, repo, stderr};

use std::path::{Path, PathBuf};
use std::process::Command;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Everything an attacker would try in one string: raw HTML, an event handler, a script
/// link, a remote image.
const HOSTILE: &str = "<script>alert(1)</script> <img src=x onerror=alert(1)> \
    [x](javascript:alert(1)) ![i](http://remote.example/x.png)";

/// Tag names that must never appear live in a report.
const LIVE_TAGS: &[&str] = &["script", "img", "iframe", "object", "embed", "a", "form"];

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A JSON string literal of `s`.
fn json(s: &str) -> String {
    serde_json::to_string(s).expect("json")
}

/// The sample cluster with hostile text in every place a report shows bundle data: bundle
/// context, a gap, a node's name, OS image and kernel, a pod's name and image, an event
/// message and container log lines (one holding code fences and a bare `\r`).
fn hostile_source(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    copy_dir(&repo().join("tests/fixtures/sample/cluster"), &src);
    write(
        &src.join("bundle.yaml"),
        &format!(
            "kind: cluster\nserver_version: v1.29.3\ncontext: {ctx}\nbundle_id: hostile-markup\n\
             gaps:\n- what: discovery\n  where: {gap}\n  reason: unavailable\n  detail: {detail}\n",
            ctx = json(&format!("ctx {HOSTILE}")),
            gap = json(&format!("where | {HOSTILE}")),
            detail = json(&format!("line one\n| {HOSTILE}\n```\n")),
        ),
    );
    let pod = "evil<img src=x onerror=alert(2)>";
    let node = "node<script>alert(3)<";
    write(
        &src.join("objects/hostile.json"),
        &format!(
            r#"{{"kind": "List", "items": [
  {{"apiVersion": "v1", "kind": "Node", "metadata": {{"name": {node}, "uid": "n-evil", "creationTimestamp": "2026-01-01T00:00:00Z"}},
   "status": {{"nodeInfo": {{"osImage": {hostile}, "kernelVersion": {hostile}, "kubeletVersion": "v1.29.3", "containerRuntimeVersion": {hostile}}},
     "conditions": [{{"type": "Ready", "status": "True"}}]}}}},
  {{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": {pod}, "namespace": "shop", "uid": "p-evil", "creationTimestamp": "2026-01-01T00:00:00Z"}},
   "spec": {{"nodeName": {node}, "containers": [{{"name": "app", "image": {image}}}]}},
   "status": {{"phase": "Running"}}}},
  {{"apiVersion": "v1", "kind": "Event", "metadata": {{"name": "evil.1", "namespace": "shop", "uid": "e-evil", "creationTimestamp": "2026-01-15T11:00:00Z"}},
   "type": "Warning", "reason": "Evil", "message": {hostile},
   "involvedObject": {{"kind": "Pod", "namespace": "shop", "name": {pod}}},
   "lastTimestamp": "2026-01-15T11:00:00Z"}}
]}}"#,
            node = json(node),
            pod = json(pod),
            hostile = json(HOSTILE),
            image = json(&format!("registry.example/app:1 {HOSTILE}")),
        ),
    );
    write(
        &src.join(format!("logs/shop/{pod}/app.log")),
        &format!(
            "2026-01-15T11:00:00Z first {HOSTILE}\n\
             2026-01-15T11:00:01Z ```\n\
             2026-01-15T11:00:02Z ~~~\n\
             2026-01-15T11:00:03Z cr\r```\r</details><script>alert(4)</script>\n\
             2026-01-15T11:00:04Z still-inside-the-fence\n"
        ),
    );
    src
}

/// A rule pack whose remediation is hostile Markdown, with one rule that echoes the hostile
/// bundle text into every finding field and one benign rule (reported in its own section).
fn hostile_rules(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    let remediation = "Fix: [x](javascript:alert(1)), [d](data:text/html,hi), [r](../../etc/passwd), \
         ![i](http://remote.example/x.png), <script>alert(5)</script>, \
         <img src=x onerror=alert(6)>, [ref link][r1], [keep](https://kubernetes.io/docs/).\n\n\
         [r1]: javascript:alert(7)\n\n<div onclick=alert(8)>\n\n```\nunclosed fence";
    let header = |id: &str, severity: &str, benign: bool| {
        format!(
            "/* ---\nid = \"{id}\"\nseverity = \"{severity}\"\nbenign = {benign}\nfaq = [\"DCE-01\"]\n\
             category = \"workloads\"\n[title]\nen = '''T {HOSTILE}'''\nzh = '''T'''\n\
             [remediation]\nen = '''{remediation}'''\nzh = '''{remediation}'''\n--- */\n"
        )
    };
    write(
        &rules.join("hostile-echo.sql"),
        &(header("hostile-echo", "high", false)
            + "SELECT p.namespace || '/' || p.name AS resource, p.node AS node,
                   'image ' || c.image AS message, 'image ' || c.image AS message_zh,
                   (SELECT list(l.line ORDER BY l.line_no) FROM log_lines l WHERE l.pod = p.name) AS evidence
               FROM pods p JOIN containers c ON c.namespace = p.namespace AND c.pod = p.name
               WHERE p.name LIKE 'evil%'
               UNION ALL
               SELECT 'event ' || name, NULL, message, message, NULL FROM events WHERE reason = 'Evil'
               UNION ALL
               SELECT name, name, os_image, os_image, [kernel_version] FROM nodes WHERE name LIKE 'node<%'"),
    );
    write(
        &rules.join("hostile-benign.sql"),
        &(header("hostile-benign", "info", true)
            + "SELECT 'event ' || name AS resource, message, message AS message_zh FROM events WHERE reason = 'Evil'"),
    );
    rules
}

/// Raw tags in HTML text (escaped text holds no `<`): none may be a live one or carry an
/// event handler or a script address.
fn assert_no_live_tags(what: &str, html: &str) {
    // Opening tags only: a closing tag does nothing on its own.
    let tag = regex::Regex::new(r"<\s*([A-Za-z][A-Za-z0-9]*)([^>]*)>").expect("regex");
    let handler = regex::Regex::new(r"\son[a-z]+\s*=").expect("regex");
    for m in tag.captures_iter(html) {
        let (name, attrs) = (m[1].to_ascii_lowercase(), m[2].to_ascii_lowercase());
        let link_ok =
            name == "a" && (attrs.contains("href=\"https://") || attrs.contains("href=\"#"));
        assert!(
            !LIVE_TAGS.contains(&name.as_str()) || link_ok,
            "{what}: live <{name}{attrs}>"
        );
        assert!(
            !attrs.contains("javascript:") && !handler.is_match(&attrs) && !attrs.contains("src="),
            "{what}: live attribute in <{name}{attrs}>"
        );
    }
}

#[test]
fn hostile_bundle_and_rule_pack_leave_no_live_markup_in_the_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundle = tmp.path().join("hostile.tar.zst");
    ktriage_tests::source::build(&hostile_source(tmp.path()), &bundle).expect("build");
    let rules = hostile_rules(tmp.path());
    let out = tmp.path().join("report");
    let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["analyze", "-q", "--lang", "en", "--rules"])
        .arg(&rules)
        .arg("-o")
        .arg(&out)
        .arg(&bundle)
        .output()
        .expect("ktriage runs");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");

    // The hostile text reached both reports, as text.
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "pod name missing from html"
    );
    assert!(
        html.contains("still-inside-the-fence"),
        "log evidence missing from html"
    );

    // HTML: no live tag, handler or address from the bundle or the rule pack.
    assert_no_live_tags("report.html", &html);
    // The report's own style sheet is not escaped: inside <style> an entity stays literal.
    assert!(
        html.contains("details.rule > summary") && html.contains("14px/1.5"),
        "report.css escaped in the HTML"
    );
    // Control characters from the bundle show as escapes, never raw.
    assert!(
        !html
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "raw control character in report.html"
    );
    assert!(
        html.contains("<a href=\"https://kubernetes.io/docs/\">keep</a>"),
        "web links stay live"
    );

    // Markdown, read as a viewer would.
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let parser = Parser::new_ext(&md, options);
    assert!(
        parser.reference_definitions().iter().next().is_none(),
        "report.md defines link references"
    );
    let mut text = String::new();
    let mut code = Vec::new();
    let mut in_code = None::<String>;
    for event in parser {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => {
                // Only the report's own <details> wrapper around evidence.
                let h = h.trim();
                let summary = h
                    .strip_prefix("<details><summary>")
                    .and_then(|rest| rest.strip_suffix("</summary>"));
                assert!(
                    h == "</details>" || summary.is_some_and(|s| !s.contains('<')),
                    "report.md carries raw HTML: {h:?}"
                );
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                panic!("report.md has an image: {dest_url}")
            }
            Event::Start(Tag::Link { dest_url, .. }) => assert!(
                dest_url.starts_with("https://") || dest_url.starts_with("http://"),
                "report.md links to {dest_url}"
            ),
            Event::Start(Tag::CodeBlock(_)) => {
                in_code = Some(String::new());
            }
            Event::End(TagEnd::CodeBlock) => code.extend(in_code.take()),
            Event::Text(t) | Event::Code(t) => match &mut in_code {
                Some(c) => c.push_str(&t),
                None => text.push_str(&t),
            },
            _ => {}
        }
    }
    assert!(in_code.is_none(), "report.md ends inside a code block");
    // The crafted log line did not close its fence: the line after it is still evidence, and
    // the `\r` became a line break inside the block.
    let evidence = code
        .iter()
        .find(|c| c.contains("still-inside-the-fence"))
        .unwrap_or_else(|| panic!("evidence block missing: {code:?}"));
    assert!(
        evidence.contains("cr\n```\n</details><script>alert(4)</script>\n"),
        "{evidence:?}"
    );
    assert!(
        !text.contains("still-inside-the-fence"),
        "evidence leaked out of its block"
    );
    // Bundle and rule text shows as text: pod name, node OS image, gap, context, remediation.
    for shown in [
        "evil<img src=x onerror=alert(2)>",
        "node<script>alert(3)<",
        "where | <script>alert(1)</script>",
        "ctx <script>",
        "[x](javascript:alert(1))",
        "![i](http://remote.example/x.png)",
        "<img src=x onerror=alert(6)>",
    ] {
        assert!(
            text.contains(shown),
            "report.md does not show {shown:?} as text"
        );
    }
    // A cell's pipe or line break did not add cells: every table row has its header's width.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let widths: Vec<usize> = table
            .lines()
            .map(|l| l.replace("\\|", "").matches('|').count())
            .collect();
        assert!(
            widths.windows(2).all(|w| w[0] == w[1]),
            "ragged table:\n{table}"
        );
    }
}

#[test]
fn errors_quoting_a_hostile_entry_name_carry_no_control_characters() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("tmp");
    std::fs::create_dir(&work).expect("mkdir");
    for case in ktriage_tests::hostile::message_cases().expect("cases") {
        let path = tmp.path().join(case.name);
        std::fs::write(&path, &case.bytes).expect("write");
        let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
            .args(["analyze", "-q", "-o"])
            .arg(tmp.path().join("r"))
            .arg(&path)
            .env("TMPDIR", &work)
            .output()
            .expect("ktriage runs");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", case.name);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{}: one line: {err}",
            case.name
        );
        assert!(err.contains(case.expect), "{}: {err}", case.name);
        assert!(
            !err.chars().any(|c| c.is_control() && c != '\n'),
            "{}: control characters reach the terminal: {err:?}",
            case.name
        );
        // The message names the archive the user gave, never the work directory.
        assert!(
            err.contains(path.to_str().expect("utf-8")),
            "{}: {err}",
            case.name
        );
        assert!(
            !err.contains(work.to_str().expect("utf-8")),
            "{}: {err}",
            case.name
        );
        if case.name.starts_with("escape-name") {
            assert!(
                err.contains("pods\\u{1b}]0;owned\\u{7}\\u{1b}[2J.ndjson"),
                "{}: {err}",
                case.name
            );
        }
        assert_eq!(
            std::fs::read_dir(&work).expect("read_dir").count(),
            0,
            "{}: work directory left behind",
            case.name
        );
    }
}
