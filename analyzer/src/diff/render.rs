//! Renders a [`DiffReport`] as HTML and Markdown (the report's templates environment, CSS and
//! strings, so bundle text is escaped the same way) and as `diff.json`.

use anyhow::Result;
use minijinja::context;

use super::DiffReport;
use crate::report::render::{css, environment, strings};

/// Objects listed per section of the HTML and Markdown reports; `diff.json` lists them all.
pub const MAX_LISTED: usize = 300;

fn render(report: &DiffReport, name: &str) -> Result<String> {
    let env = environment(report.lang)?;
    let tmpl = env.get_template(name)?;
    Ok(tmpl.render(context! {
        r => report, t => strings(report.lang)?, css => css(), max_listed => MAX_LISTED,
    })?)
}

/// `diff.html`, self-contained.
pub fn html(report: &DiffReport) -> Result<String> {
    render(report, "diff.html.j2")
}

/// `diff.md`.
pub fn markdown(report: &DiffReport) -> Result<String> {
    render(report, "diff.md.j2")
}

/// `diff.json`.
pub fn json(report: &DiffReport) -> Result<String> {
    Ok(serde_json::to_string_pretty(report)?)
}
