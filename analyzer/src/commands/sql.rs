//! `ktriage sql`: ad-hoc SQL over a case, for support engineers.

use std::io::{BufRead, IsTerminal, Write};

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use duckdb::types::Value;
use duckdb::{Connection, InterruptHandle};
use ktriage_schema::text::terminal_safe;

use crate::case::Case;
use crate::cli::{SqlArgs, SqlOutput};
use crate::progress::Progress;

/// Rows printed per query at most; the rest are counted.
const MAX_ROWS: usize = 10_000;

/// Runs one query, or a prompt reading queries until EOF / `.quit`.
pub fn run(args: &SqlArgs) -> Result<bool> {
    crate::stop::install()?;
    let case = Case::open(
        &args.input.bundles,
        &args.input.case_options(),
        &Progress::new(args.input.quiet),
    )?;
    let session = Session::new(&case.conn, args.query_timeout, args.output);
    let ok = match &args.query {
        Some(query) => session.print(query),
        None => repl(&case.describe(), &session)?,
    };
    crate::stop::check()?;
    Ok(ok)
}

/// Where queries run and how they are bounded and printed.
pub(crate) struct Session<'a> {
    conn: &'a Connection,
    interrupt: Arc<InterruptHandle>,
    timeout: Duration,
    output: SqlOutput,
}

impl<'a> Session<'a> {
    /// Queries on `conn`, each interrupted after `timeout_secs`, printed as `output`.
    pub(crate) fn new(conn: &'a Connection, timeout_secs: u64, output: SqlOutput) -> Self {
        let session = Session {
            conn,
            interrupt: conn.interrupt_handle(),
            timeout: Duration::from_secs(timeout_secs),
            output,
        };
        crate::stop::watch(&session.interrupt);
        session
    }

    /// Runs `query` under the time limit and prints it; returns whether it ran.
    pub(crate) fn print(&self, query: &str) -> bool {
        let deadline = crate::stop::Deadline::arm(&self.interrupt, self.timeout);
        let result = query_text(self.conn, query);
        if deadline.fired() {
            eprintln!(
                "error: query stopped after {} s (--query-timeout)",
                self.timeout.as_secs()
            );
            return false;
        }
        let stdout = std::io::stdout();
        // TSV piped to a program keeps the values exact; on a terminal it is shown escaped.
        let terminal = stdout.is_terminal();
        print_result(result, self.output, terminal, &mut stdout.lock())
    }
}

/// Reads queries until EOF or `.quit`; `what` names the data in the greeting.
pub(crate) fn repl(what: &str, session: &Session) -> Result<bool> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!(
            "ktriage sql over {what}. Tables: .tables   Columns: .schema TABLE   Quit: .quit"
        );
    }
    let stdin = std::io::stdin();
    let mut buffer = String::new();
    let mut ok = true;
    loop {
        if interactive {
            eprint!(
                "{}",
                if buffer.is_empty() {
                    "ktriage> "
                } else {
                    "     ...> "
                }
            );
            std::io::stderr().flush()?;
        }
        let mut line = String::new();
        if crate::stop::waiting_for_input(|| stdin.lock().read_line(&mut line))? == 0 {
            break;
        }
        let trimmed = line.trim();
        if buffer.is_empty() {
            match trimmed {
                "" => continue,
                ".quit" | ".exit" | "\\q" => break,
                ".tables" => {
                    ok &= session.print(
                        "SELECT table_name AS name, table_type AS type FROM information_schema.tables ORDER BY 1",
                    );
                    continue;
                }
                _ if trimmed.starts_with(".schema") => {
                    let table = trimmed
                        .trim_start_matches(".schema")
                        .trim()
                        .replace('\'', "''");
                    let q = format!(
                        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
                    );
                    ok &= session.print(&q);
                    continue;
                }
                _ => {}
            }
        }
        buffer.push_str(&line);
        if trimmed.ends_with(';') {
            let query = std::mem::take(&mut buffer);
            ok &= session.print(query.trim().trim_end_matches(';'));
        }
    }
    if !buffer.trim().is_empty() {
        ok &= session.print(buffer.trim());
    }
    Ok(ok)
}

/// Prints a query's rows, or its error to stderr as one line. Returns whether it ran.
fn print_result(
    result: Result<(Vec<String>, Rows, usize)>,
    output: SqlOutput,
    terminal: bool,
    out: &mut impl Write,
) -> bool {
    if crate::stop::requested().is_some() {
        return false;
    }
    match result {
        Ok((columns, rows, total)) => {
            let _ = render(&columns, &rows, total, output, terminal, out);
            true
        }
        Err(e) => {
            eprintln!("error: {}", crate::one_line(&e.to_string()));
            false
        }
    }
}

type Rows = Vec<Vec<Option<String>>>;

/// One value as text; `None` for NULL.
fn value_text(value: Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Text(text) => text,
        Value::Boolean(b) => b.to_string(),
        Value::TinyInt(n) => n.to_string(),
        Value::SmallInt(n) => n.to_string(),
        Value::Int(n) => n.to_string(),
        Value::BigInt(n) => n.to_string(),
        Value::HugeInt(n) => n.to_string(),
        Value::UTinyInt(n) => n.to_string(),
        Value::USmallInt(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        Value::UBigInt(n) => n.to_string(),
        Value::Float(n) => n.to_string(),
        Value::Double(n) => n.to_string(),
        other => format!("{other:?}"),
    })
}

/// Runs a statement that cannot be wrapped, printing each value as DuckDB renders it.
fn query_as_is(conn: &Connection, query: &str) -> Result<(Vec<String>, Rows, usize)> {
    let mut stmt = conn.prepare(query)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    let mut total = 0usize;
    while let Some(row) = rows.next()? {
        total += 1;
        if out.len() >= MAX_ROWS {
            continue;
        }
        let width = row.as_ref().column_count();
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(value_text(row.get::<_, Value>(i)?));
        }
        out.push(values);
    }
    let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
    Ok((columns, out, total))
}

/// Runs `query` with every column cast to text. Statements that cannot be a subquery
/// (`EXPLAIN ANALYZE`, `PRAGMA`, `SUMMARIZE`, ...) run as they are.
pub fn query_text(conn: &Connection, query: &str) -> Result<(Vec<String>, Rows, usize)> {
    let Ok(mut describe) = conn.prepare(&format!("DESCRIBE {query}")) else {
        return query_as_is(conn, query);
    };
    let columns: Vec<String> = describe
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    let casts: Vec<String> = (0..columns.len())
        .map(|i| format!("CAST(#{} AS VARCHAR)", i + 1))
        .collect();
    let sql = format!(
        "SELECT {}, count(*) OVER () FROM ({query}) LIMIT {MAX_ROWS}",
        casts.join(", ")
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    let mut total = 0usize;
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(row.get::<_, Option<String>>(i)?);
        }
        total = row.get::<_, i64>(columns.len())? as usize;
        out.push(values);
    }
    Ok((columns, out, total))
}

/// Writes rows as `output`. The table, for people, shows control characters escaped; TSV does
/// so when written to a `terminal`, and is exact otherwise; JSON escapes them itself.
fn render(
    columns: &[String],
    rows: &Rows,
    total: usize,
    output: SqlOutput,
    terminal: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let tsv_text = |text: &str| {
        let text = text.replace(['\t', '\n'], " ");
        if terminal { terminal_safe(&text) } else { text }
    };
    match output {
        SqlOutput::Json => {
            for row in rows {
                let obj: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| {
                        (
                            c.clone(),
                            v.clone()
                                .map(serde_json::Value::String)
                                .unwrap_or(serde_json::Value::Null),
                        )
                    })
                    .collect();
                writeln!(out, "{}", serde_json::Value::Object(obj))?;
            }
        }
        SqlOutput::Tsv => {
            let names: Vec<String> = columns.iter().map(|c| tsv_text(c)).collect();
            writeln!(out, "{}", names.join("\t"))?;
            for row in rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|v| tsv_text(v.as_deref().unwrap_or_default()))
                    .collect();
                writeln!(out, "{}", cells.join("\t"))?;
            }
        }
        SqlOutput::Table => {
            const MAX_WIDTH: usize = 60;
            let cell = |v: &Option<String>| -> String {
                // Bundle text may hold ESC, NUL and the like: shown escaped, never sent raw.
                let s = terminal_safe(
                    &v.clone()
                        .unwrap_or_else(|| "NULL".into())
                        .replace('\n', "⏎"),
                );
                if s.chars().count() > MAX_WIDTH {
                    format!("{}…", s.chars().take(MAX_WIDTH - 1).collect::<String>())
                } else {
                    s
                }
            };
            let cells: Vec<Vec<String>> =
                rows.iter().map(|r| r.iter().map(cell).collect()).collect();
            let widths: Vec<usize> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    cells
                        .iter()
                        .map(|r| r[i].chars().count())
                        .max()
                        .unwrap_or(0)
                        .max(c.chars().count())
                })
                .collect();
            let line = |vals: &[String]| -> String {
                vals.iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count())))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            let names: Vec<String> = columns.iter().map(|c| terminal_safe(c)).collect();
            writeln!(out, "{}", line(&names))?;
            writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  ")
            )?;
            for r in &cells {
                writeln!(out, "{}", line(r))?;
            }
            let shown = rows.len();
            if total > shown {
                writeln!(out, "({total} rows, {shown} shown)")?;
            } else {
                writeln!(out, "({total} row{})", if total == 1 { "" } else { "s" })?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from a bundle reach a terminal escaped in every output but JSON (which escapes
    /// them itself): no ESC, NUL or other control character is written raw. Piped, TSV keeps
    /// them exact for the program reading it.
    #[test]
    fn control_characters_never_reach_the_terminal() {
        let columns = vec!["name\u{7}".to_string(), "ns".to_string()];
        let rows: Rows = vec![vec![
            Some("\u{0}\u{1b}[31mred\r".to_string()),
            Some("a\tb\nc".to_string()),
        ]];
        for output in [SqlOutput::Table, SqlOutput::Tsv, SqlOutput::Json] {
            let mut out = Vec::new();
            render(&columns, &rows, 1, output, true, &mut out).expect("render");
            let text = String::from_utf8(out).expect("utf-8");
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{output:?}: {text:?}"
            );
            assert!(text.contains("red"), "{output:?}: {text:?}");
        }
        let mut out = Vec::new();
        render(&columns, &rows, 1, SqlOutput::Tsv, false, &mut out).expect("render");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "name\u{7}\tns\n\u{0}\u{1b}[31mred\r\ta b c\n"
        );
    }
}
