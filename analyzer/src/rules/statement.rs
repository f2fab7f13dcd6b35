//! A rule is exactly one `SELECT` (or `WITH … SELECT`, `FROM …`, `VALUES …`), decided by
//! DuckDB's own parser rather than by looking at the text.
//!
//! This matters because preparing a string with several statements runs every statement but
//! the last: a rule closing the engine's parenthesis could delete rows, shadow a table or
//! redefine a macro that later rules read. `json_serialize_sql` parses the text with the
//! same parser the query will go through and serializes only `SELECT` statements: anything
//! else, or more than one statement, is refused before it runs.
//!
//! A rule that is one SELECT stays one statement when the engine wraps it (the wrapper puts it
//! on lines of its own; a trailing `;` left inside it makes the wrapped text fail to parse, and
//! nothing runs), so each rule text is checked once per process: rules checked when they were
//! loaded are not parsed again before they run. The same parse names the rule's columns for
//! its message templates.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{Result, bail};
use duckdb::Connection;
use serde::Deserialize;

use crate::one_line;

#[derive(Deserialize)]
struct Serialized {
    error: bool,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    statements: Vec<serde_json::Value>,
}

/// Rule texts already found to be one SELECT, with their column names.
static CHECKED: Mutex<BTreeMap<String, Option<Vec<String>>>> = Mutex::new(BTreeMap::new());

/// Succeeds if `sql` parses as exactly one `SELECT` statement; `origin` names the rule in the
/// error. Parsing only: nothing runs, so any connection will do.
pub fn check_single_select(conn: &Connection, origin: &str, sql: &str) -> Result<()> {
    output_columns(conn, origin, sql).map(drop)
}

/// The names of the columns `sql` returns, as its outermost SELECT names them (the first one
/// of a UNION): an alias, or the name of a column reference. `None` when the parser cannot
/// tell them (`SELECT *`, a bare `VALUES`). Checks the statement as [`check_single_select`].
pub fn output_columns(conn: &Connection, origin: &str, sql: &str) -> Result<Option<Vec<String>>> {
    let checked = || CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(columns) = checked().get(sql) {
        return Ok(columns.clone());
    }
    let statement = parse_single_select(conn, origin, sql)?;
    let columns = select_list_names(&statement["node"]);
    checked().insert(sql.to_string(), columns.clone());
    Ok(columns)
}

fn select_list_names(node: &serde_json::Value) -> Option<Vec<String>> {
    if let Some(list) = node["select_list"].as_array() {
        return list.iter().map(expression_name).collect();
    }
    // A set operation takes its names from its first branch.
    let first = match &node["left"] {
        serde_json::Value::Null => &node["children"][0],
        left => left,
    };
    if first.is_null() {
        return None;
    }
    select_list_names(first)
}

fn expression_name(expression: &serde_json::Value) -> Option<String> {
    match expression["alias"].as_str() {
        Some(alias) if !alias.is_empty() => Some(alias.to_string()),
        _ if expression["class"] == "COLUMN_REF" => expression["column_names"]
            .as_array()?
            .last()?
            .as_str()
            .map(String::from),
        // Unnamed: DuckDB names it after its text, which no template should rely on.
        _ if expression["class"] == "STAR" => None,
        _ => Some(String::new()),
    }
}

fn parse_single_select(conn: &Connection, origin: &str, sql: &str) -> Result<serde_json::Value> {
    let json: String = conn
        // Typed explicitly: DuckDB 1.5 checks the argument's type before the parameter is bound.
        .query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |row| {
            row.get(0)
        })
        .map_err(|e| anyhow::anyhow!("{origin}: checking the SQL: {}", one_line(&e.to_string())))?;
    let parsed: Serialized = serde_json::from_str(&json)
        .map_err(|e| anyhow::anyhow!("{origin}: checking the SQL: {e}"))?;
    if parsed.error {
        let why = parsed.error_message.unwrap_or_default();
        if why.contains("Only SELECT") {
            bail!(
                "{origin}: a rule must be one SELECT statement; found a statement of another kind"
            );
        }
        bail!("{origin}: SQL does not parse: {}", one_line(&why));
    }
    match parsed.statements.len() {
        1 => Ok(parsed.statements.into_iter().next().unwrap_or_default()),
        0 => bail!("{origin}: no SELECT statement"),
        n => bail!("{origin}: a rule must be one SELECT statement; found {n} statements"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sql: &str) -> Result<()> {
        let conn = Connection::open_in_memory().expect("in-memory database");
        check_single_select(&conn, "r.sql", sql)
    }

    #[test]
    fn one_select_of_any_shape_passes() {
        for sql in [
            "SELECT 1 AS resource",
            "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
            "FROM (SELECT 1 AS x)",
            "(SELECT 1) UNION ALL (SELECT 2)",
            "SELECT 'a;b' AS s -- a comment; DROP TABLE x",
            "SELECT 1;",
        ] {
            check(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    #[test]
    fn other_statements_and_several_statements_are_refused() {
        for (sql, why) in [
            ("DELETE FROM pods", "another kind"),
            ("SELECT 1; DELETE FROM pods", "another kind"),
            ("SELECT 1; SELECT 2", "found 2 statements"),
            ("CREATE OR REPLACE MACRO f(x) AS x", "another kind"),
            ("SET search_path = 'x'", "another kind"),
            ("ATTACH ':memory:' AS x", "another kind"),
            (
                "SELECT 1) AS f; DROP TABLE bundles; SELECT * FROM (SELECT 1",
                "does not parse",
            ),
            ("SELECT 1 /* unclosed", "does not parse"),
            ("", "no SELECT"),
        ] {
            let err = check(sql).expect_err(sql).to_string();
            assert!(err.starts_with("r.sql: "), "{err}");
            assert!(err.contains(why), "{sql}: {err}");
        }
    }
}
