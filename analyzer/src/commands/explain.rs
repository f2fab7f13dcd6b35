//! `ktriage explain`: what a support engineer does when a customer pastes one line into a
//! ticket. Matches the text against every rule's log patterns and the catalog's knowledge
//! entries, offline, and prints the FAQ entries with their remediation.

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::{Context, Result, bail};
use ktriage_schema::text::Safe;
use serde::Deserialize;

use crate::cli::ExplainArgs;
use crate::faq;
use crate::rules::{self, Lang, Localized};

/// A knowledge entry of `analyzer/faq/knowledge.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knowledge {
    /// Regexes of the text it explains.
    pub patterns: Vec<String>,
    /// What to do.
    pub remediation: Localized,
}

/// The knowledge entries by catalog id.
pub fn knowledge() -> Result<BTreeMap<String, Knowledge>> {
    toml::from_str(include_str!("../../faq/knowledge.toml")).context("analyzer/faq/knowledge.toml")
}

/// One match.
#[derive(Debug)]
pub struct Match {
    /// Catalog ids.
    pub faq: Vec<String>,
    /// Rule id, when a rule matched.
    pub rule: Option<String>,
    /// Title or section.
    pub title: String,
    /// Remediation.
    pub remediation: String,
    /// Patterns that matched.
    pub matched: Vec<String>,
}

/// Finds the entries whose patterns match `text`, best first.
pub fn explain(text: &str, lang: Lang, rules: &[rules::Rule]) -> Result<Vec<Match>> {
    let mut matches = Vec::new();
    for rule in rules {
        let matched: Vec<String> = rule
            .pattern_regexes()?
            .iter()
            .filter(|re| re.is_match(text))
            .map(|re| re.as_str().to_string())
            .collect();
        if !matched.is_empty() {
            matches.push(Match {
                faq: rule.meta.faq.clone(),
                rule: Some(rule.meta.id.clone()),
                title: rule.meta.title.get(lang).to_string(),
                remediation: rule.meta.remediation.get(lang).to_string(),
                matched,
            });
        }
    }
    for (id, k) in knowledge()? {
        let matched: Vec<String> = k
            .patterns
            .iter()
            .filter(|p| {
                regex::RegexBuilder::new(p)
                    .case_insensitive(true)
                    .build()
                    .is_ok_and(|re| re.is_match(text))
            })
            .cloned()
            .collect();
        if !matched.is_empty() {
            let title = faq::find(&id)
                .map(|e| e.section.clone())
                .unwrap_or_else(|| id.clone());
            matches.push(Match {
                faq: vec![id],
                rule: None,
                title,
                remediation: k.remediation.get(lang).to_string(),
                matched,
            });
        }
    }
    // The longest matched pattern is the most specific explanation.
    matches
        .sort_by_key(|m| std::cmp::Reverse(m.matched.iter().map(String::len).max().unwrap_or(0)));
    Ok(matches)
}

/// Prints the matches; `Ok(false)` when nothing matched.
pub fn run(args: &ExplainArgs, builtin: rules::Builtin) -> Result<bool> {
    let text = match (&args.text, &args.file) {
        (_, Some(path)) if path.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading standard input")?;
            s
        }
        (_, Some(path)) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        (Some(text), None) => text.clone(),
        (None, None) => bail!("give the text to explain, or --file"),
    };
    let rules = rules::load_all(builtin, args.rules.no_builtin_rules, &args.rules.dirs)?;
    let matches = explain(&text, args.lang, &rules)?;
    if matches.is_empty() {
        println!(
            "{}",
            match args.lang {
                Lang::Zh => "没有匹配的 FAQ 条目。",
                Lang::En => "No FAQ entry matches this text.",
            }
        );
        return Ok(false);
    }
    for m in &matches {
        let sources: Vec<String> = m
            .faq
            .iter()
            .map(|id| match faq::find(id) {
                Some(e) => format!("{id} ({} › {})", e.document, e.section),
                None => id.clone(),
            })
            .collect();
        // Titles and advice of a third party's rules, and the pasted text matched, may hold
        // control characters: shown escaped, never sent to the terminal raw.
        println!(
            "== {} {}",
            Safe(&m.title),
            Safe(
                &m.rule
                    .as_ref()
                    .map(|r| format!("[{r}]"))
                    .unwrap_or_default()
            )
        );
        println!("   FAQ: {}", Safe(&sources.join("; ")));
        println!("   matched: {}", Safe(&m.matched.join(" | ")));
        for line in m.remediation.trim().lines() {
            println!("   {}", Safe(line));
        }
        println!();
    }
    Ok(true)
}
