//! `ktriage rules`: the rule list with ids, severities, FAQ ids and titles in both languages.

use anyhow::Result;
use ktriage_schema::text::Safe;

use crate::cli::RulesArgs;
use crate::rules::{self, Lang};

/// Prints the rules.
pub fn run(args: &RulesArgs, builtin: rules::Builtin) -> Result<()> {
    let rules = rules::load_all(builtin, args.rules.no_builtin_rules, &args.rules.dirs)?;
    if args.json {
        let list: Vec<_> = rules
            .iter()
            .map(|r| serde_json::json!({
                "id": r.meta.id, "severity": r.meta.severity, "faq": r.meta.faq, "category": r.meta.category,
                "benign": r.meta.benign, "title": r.meta.title, "origin": r.origin,
            }))
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let (first, second) = match args.lang {
        Lang::Zh => (Lang::Zh, Lang::En),
        Lang::En => (Lang::En, Lang::Zh),
    };
    let id_width = rules
        .iter()
        .map(|r| r.meta.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let faq_width = rules
        .iter()
        .map(|r| r.meta.faq.join(",").len())
        .max()
        .unwrap_or(3)
        .max(3);
    println!(
        "{:<id_width$}  {:<8}  {:<faq_width$}  TITLE",
        "ID", "SEVERITY", "FAQ"
    );
    for r in &rules {
        println!(
            "{:<id_width$}  {:<8}  {:<faq_width$}  {} / {}",
            Safe(&r.meta.id),
            r.meta.severity.as_str(),
            Safe(&r.meta.faq.join(",")),
            // A third party's rule file chooses its title: shown, never obeyed.
            Safe(r.meta.title.get(first)),
            Safe(r.meta.title.get(second))
        );
    }
    println!("{} rules", rules.len());
    Ok(())
}
