//! Rule and table SQL compares the `gaps` table's `what` column only with names of
//! `GapKind`: a misspelt kind never matches, so the rule that tests it would silently fire
//! (or stay quiet) on every bundle.
//!
//! The scanner reads SQL the way DuckDB resolves names: a `what` qualified by an alias of
//! `gaps` (in its own SELECT's FROM clause or an enclosing one), or a bare `what` in a SELECT
//! reading `gaps` without an alias. It finds `= 'x'`, `<> 'x'`, `'x' = what`, `IN ('x', …)`,
//! `CASE what WHEN 'x'` and `LIKE 'pattern'` (which must match some kind).

use std::path::{Path, PathBuf};

use ktriage_schema::manifest::GapKind;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A keyword or identifier, lower-cased; a quoted identifier without its quotes.
    Word(String),
    /// A string literal's value.
    Str(String),
    /// An operator or punctuation.
    Punct(&'static str),
    /// Anything else (a number, a character of no interest here).
    Other,
}

const PUNCTS: &[&str] = &[
    "<>", "!=", "==", "<=", ">=", "::", "||", "(", ")", ",", ".", ";", "=", "<", ">",
];

/// Splits SQL into tokens, dropping whitespace and comments (`--`, `/* */`, the rule header).
fn lex(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize, quote: char| {
        let mut text = String::new();
        *i += 1;
        while *i < chars.len() {
            if chars[*i] == quote {
                if chars.get(*i + 1) == Some(&quote) {
                    text.push(quote);
                    *i += 2;
                    continue;
                }
                *i += 1;
                break;
            }
            text.push(chars[*i]);
            *i += 1;
        }
        text
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            tokens.push(Token::Str(quoted(&mut i, '\'')));
        } else if c == '"' {
            tokens.push(Token::Word(quoted(&mut i, '"').to_lowercase()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(Token::Word(word.to_lowercase()));
        } else if let Some(p) = PUNCTS.iter().find(|p| {
            let mut it = p.chars();
            it.next() == Some(c) && it.next().is_none_or(|second| next == Some(second))
        }) {
            tokens.push(Token::Punct(p));
            i += p.len();
        } else {
            tokens.push(Token::Other);
            i += 1;
        }
    }
    tokens
}

/// Words after a table name that are not an alias.
const NOT_ALIAS: &[&str] = &[
    "where",
    "on",
    "using",
    "join",
    "left",
    "right",
    "inner",
    "outer",
    "full",
    "cross",
    "natural",
    "positional",
    "asof",
    "anti",
    "semi",
    "lateral",
    "group",
    "order",
    "limit",
    "having",
    "qualify",
    "window",
    "union",
    "except",
    "intersect",
    "returning",
    "offset",
];

const SET_OPS: &[&str] = &["union", "except", "intersect"];

/// A literal compared with the gaps table's `what`.
#[derive(Debug, Clone, PartialEq)]
enum Compared {
    /// `=`, `<>`, `IN`, `CASE … WHEN`: must be a kind's name.
    Name(String),
    /// `LIKE`: must match some kind's name.
    Pattern(String),
}

struct Sql {
    tokens: Vec<Token>,
    /// Parenthesis depth of each token; a `(` or `)` has the depth outside it.
    depths: Vec<usize>,
}

impl Sql {
    fn new(sql: &str) -> Sql {
        let tokens = lex(sql);
        let mut depths = Vec::with_capacity(tokens.len());
        let mut depth = 0usize;
        for t in &tokens {
            if *t == Token::Punct(")") {
                depth = depth.saturating_sub(1);
            }
            depths.push(depth);
            if *t == Token::Punct("(") {
                depth += 1;
            }
        }
        Sql { tokens, depths }
    }

    fn word(&self, i: usize) -> Option<&str> {
        match self.tokens.get(i) {
            Some(Token::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn is_punct(&self, i: usize, p: &str) -> bool {
        matches!(self.tokens.get(i), Some(Token::Punct(q)) if *q == p)
    }

    fn string(&self, i: usize) -> Option<&str> {
        match self.tokens.get(i) {
            Some(Token::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The SELECT whose clauses hold token `at`: the nearest one before it at its depth,
    /// looking outward through parentheses that are not subqueries.
    fn owner_select(&self, at: usize) -> Option<usize> {
        let mut depth = self.depths[at];
        for k in (0..at).rev() {
            match self.depths[k].cmp(&depth) {
                std::cmp::Ordering::Greater => continue,
                std::cmp::Ordering::Less => depth = self.depths[k],
                std::cmp::Ordering::Equal => {}
            }
            match self.word(k) {
                Some("select") => return Some(k),
                _ if self.is_punct(k, ";") => return None,
                _ => {}
            }
        }
        None
    }

    /// The tables of a SELECT's FROM clause (and joins): `(table, alias)`.
    fn tables(&self, select: usize) -> Vec<(String, Option<String>)> {
        let depth = self.depths[select];
        let mut out = Vec::new();
        for k in select + 1..self.tokens.len() {
            if self.depths[k] < depth || self.is_punct(k, ";") {
                break;
            }
            if self.depths[k] > depth {
                continue;
            }
            match self.word(k) {
                Some(w) if SET_OPS.contains(&w) => break,
                Some("from" | "join") => {}
                _ => continue,
            }
            let Some(table) = self.word(k + 1) else {
                continue;
            };
            let alias = match self.word(k + 2) {
                Some("as") => self.word(k + 3),
                Some(w) if !NOT_ALIAS.contains(&w) => Some(w),
                _ => None,
            };
            out.push((table.to_string(), alias.map(str::to_string)));
        }
        out
    }

    /// Whether the column reference `what` at `at` (qualified by `qualifier`) is the gaps
    /// table's.
    fn is_gaps_what(&self, at: usize, qualifier: Option<&str>) -> bool {
        let mut select = self.owner_select(at);
        while let Some(s) = select {
            let tables = self.tables(s);
            match qualifier {
                None => return tables.iter().any(|(t, a)| t == "gaps" && a.is_none()),
                Some(q) => {
                    let named = |(t, a): &&(String, Option<String>)| match a {
                        Some(a) => a == q,
                        None => t == q,
                    };
                    if let Some((table, _)) = tables.iter().find(named) {
                        return table == "gaps";
                    }
                }
            }
            // A qualified name may be an enclosing query's (a correlated subquery).
            select = self.owner_select(s);
        }
        false
    }

    /// The literals compared with the reference spanning tokens `start..=end`.
    fn compared(&self, start: usize, end: usize) -> Vec<Compared> {
        let mut out = Vec::new();
        let comparison = |i: usize| ["=", "==", "<>", "!="].iter().any(|p| self.is_punct(i, p));
        // what = 'x'
        if comparison(end + 1)
            && let Some(s) = self.string(end + 2)
        {
            out.push(Compared::Name(s.to_string()));
        }
        // 'x' = what
        if start >= 2
            && comparison(start - 1)
            && let Some(s) = self.string(start - 2)
        {
            out.push(Compared::Name(s.to_string()));
        }
        // what [NOT] IN ('x', 'y'), what [NOT] [I]LIKE 'x%'
        let mut k = end + 1;
        if self.word(k) == Some("not") {
            k += 1;
        }
        match self.word(k) {
            Some("in") if self.is_punct(k + 1, "(") => {
                let mut i = k + 2;
                while let Some(s) = self.string(i) {
                    out.push(Compared::Name(s.to_string()));
                    if !self.is_punct(i + 1, ",") {
                        break;
                    }
                    i += 2;
                }
            }
            Some("like" | "ilike") => {
                if let Some(s) = self.string(k + 1) {
                    out.push(Compared::Pattern(s.to_string()));
                }
            }
            _ => {}
        }
        // CASE what WHEN 'x' THEN … WHEN 'y' …
        if start >= 1 && self.word(start - 1) == Some("case") {
            let depth = self.depths[start];
            let mut open = 1;
            for i in end + 1..self.tokens.len() {
                if self.depths[i] < depth {
                    break;
                }
                if self.depths[i] > depth {
                    continue;
                }
                match self.word(i) {
                    Some("case") => open += 1,
                    Some("end") => {
                        open -= 1;
                        if open == 0 {
                            break;
                        }
                    }
                    Some("when") if open == 1 => {
                        if let Some(s) = self.string(i + 1) {
                            out.push(Compared::Name(s.to_string()));
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// Every literal the SQL compares with `gaps.what`.
fn gap_kind_literals(sql: &str) -> Vec<Compared> {
    let sql = Sql::new(sql);
    let mut out = Vec::new();
    for at in 0..sql.tokens.len() {
        if sql.word(at) != Some("what") || sql.is_punct(at + 1, ".") {
            continue;
        }
        let qualified = at >= 2 && sql.is_punct(at - 1, ".");
        let (start, qualifier) = if qualified {
            match sql.word(at - 2) {
                Some(q) => (at - 2, Some(q)),
                None => continue,
            }
        } else {
            if at >= 1 && sql.word(at - 1) == Some("as") {
                continue; // `… AS what` names a column, it is not a reference.
            }
            (at, None)
        };
        if sql.is_gaps_what(at, qualifier) {
            out.extend(sql.compared(start, at));
        }
    }
    out
}

/// The literals that name no gap kind, as messages.
fn unknown_kinds(sql: &str) -> Vec<String> {
    let known: Vec<&str> = GapKind::KNOWN.iter().map(GapKind::as_str).collect();
    gap_kind_literals(sql)
        .into_iter()
        .filter_map(|c| match c {
            Compared::Name(name) if !known.contains(&name.as_str()) => {
                Some(format!("'{name}' is not a gap kind"))
            }
            Compared::Pattern(p) if !known.iter().any(|k| like(&p, k)) => {
                Some(format!("LIKE '{p}' matches no gap kind"))
            }
            _ => None,
        })
        .collect()
}

/// SQL `LIKE` (`%` any run, `_` one character).
fn like(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(&p, &t)
}

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
}

#[test]
fn rule_and_table_sql_compare_gaps_what_with_gap_kind_names_only() {
    let repo = ktriage_tests::manifest_dir!().join("..");
    let mut files = sql_files(&repo.join("analyzer/rules"));
    files.extend(sql_files(&repo.join("schema/sql")));
    assert!(files.len() > 10, "SQL files not found: {files:?}");
    let mut compared = 0;
    let mut wrong = Vec::new();
    for file in &files {
        let sql = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        compared += gap_kind_literals(&sql).len();
        let name = file
            .strip_prefix(&repo)
            .unwrap_or(file)
            .display()
            .to_string();
        wrong.extend(
            unknown_kinds(&sql)
                .into_iter()
                .map(|m| format!("{name}: {m}")),
        );
    }
    assert!(
        wrong.is_empty(),
        "gap kinds are listed in schema/README.md:\n{}",
        wrong.join("\n")
    );
    assert!(
        compared > 0,
        "no comparison with gaps.what found: the scanner is blind"
    );
}

#[test]
fn a_misspelt_kind_is_caught_in_each_form_of_comparison() {
    let cases = [
        "SELECT 1 FROM gaps WHERE what = 'facts'",
        "SELECT 1 FROM gaps AS g WHERE g.what <> 'facts'",
        "SELECT 1 FROM nodes n JOIN gaps g ON g.bundle_id = n.bundle_id WHERE 'facts' = g.what",
        "SELECT 1 FROM gaps g WHERE g.what IN ('file', 'facts')",
        "SELECT 1 FROM gaps g WHERE g.\"what\" NOT IN ('facts')",
        "SELECT CASE what WHEN 'logs' THEN 1 WHEN 'facts' THEN 2 END FROM gaps",
        "SELECT 1 FROM gaps WHERE (what = 'facts' OR reason = 'timeout')",
        "SELECT 1 FROM gaps WHERE what LIKE 'fax%'",
        // A correlated subquery reading the outer query's gaps.
        "SELECT 1 FROM gaps g WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE g.what = 'facts')",
        "WITH x AS (SELECT bundle_id FROM gaps WHERE what = 'facts') SELECT * FROM x",
        "SELECT 1 FROM pods UNION ALL SELECT 1 FROM gaps WHERE what = 'facts'",
    ];
    for sql in cases {
        assert_eq!(
            unknown_kinds(sql).len(),
            1,
            "{sql}: {:?}",
            gap_kind_literals(sql)
        );
    }
}

#[test]
fn gap_kind_names_pass() {
    for sql in [
        "SELECT 1 FROM gaps WHERE what = 'fact' AND location = '/opt/cni/bin'",
        "SELECT 1 FROM gaps g WHERE g.what IN ('resource', 'discovery', 'node-log')",
        "SELECT CASE g.what WHEN 'logs' THEN 1 ELSE 2 END FROM gaps g",
        "SELECT 1 FROM gaps WHERE what LIKE 'node-%'",
    ] {
        assert!(!gap_kind_literals(sql).is_empty(), "{sql}: not seen");
        assert_eq!(unknown_kinds(sql), Vec::<String>::new(), "{sql}");
    }
}

#[test]
fn other_tables_whats_comments_and_strings_are_not_gap_kinds() {
    for sql in [
        // Another table's column, and an alias `g` that is not the gaps table here.
        "SELECT 1 FROM gaps g, ranges r WHERE r.what = 'service'",
        "WITH a AS (SELECT 1 FROM gaps g) SELECT 1 FROM nodes g WHERE g.what = 'service'",
        // A bare `what` in a SELECT that does not read gaps, next to one that does.
        "WITH t AS (SELECT 'nodes' AS what) SELECT CASE what WHEN 'nodes' THEN 1 END FROM t \
         UNION ALL SELECT 1 FROM gaps WHERE what = 'resource'",
        "SELECT 1 FROM gaps WHERE detail = 'what = ''facts'''",
        "SELECT 1 FROM gaps -- what = 'facts'\n WHERE what = 'file'",
        "/* ---\nwhat = 'facts'\n--- */ SELECT 1 FROM gaps WHERE what = 'file'",
        "SELECT g.what || ' ' || g.location FROM gaps g",
    ] {
        assert_eq!(unknown_kinds(sql), Vec::<String>::new(), "{sql}");
    }
}

#[test]
fn like_matches_sql_patterns() {
    assert!(like("node-%", "node-log"));
    assert!(like("%log", "host-log"));
    assert!(like("fac_", "fact"));
    assert!(!like("fac_", "facts"));
    assert!(!like("node-%", "configz"));
}
