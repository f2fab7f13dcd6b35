//! ktriage: offline analysis of Kubernetes support bundles.
//!
//! A case is one or more bundles opened safely ([`case`]) and loaded into DuckDB ([`load`],
//! [`db`]); SQL rules ([`rules`]) find problems the FAQ describes; reports ([`report`]) show
//! them in Chinese or English. `main.rs` only parses the command line and maps outcomes to
//! exit codes.

pub mod case;
pub mod cli;
pub mod commands;
pub mod db;
pub mod diff;
pub mod export;
pub mod faq;
pub mod fleet;
pub mod foreign;
pub mod load;
pub mod progress;
pub mod report;
pub mod rules;
pub mod stop;
pub mod timeline;

/// Collapses whitespace, newlines included, so an error prints as one line, and shows any
/// other control character (ESC, BEL, …: bundle and rule files choose their names) as a
/// visible escape rather than letting it reach the terminal.
pub fn one_line(s: &str) -> String {
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    ktriage_schema::text::terminal_safe(&words)
}

/// Exit codes, documented in the README.
pub mod exit {
    /// Ran, nothing at or above `--fail-on`.
    pub const OK: u8 = 0;
    /// A finding at or above `--fail-on` (or `explain` matched nothing, `sql` query failed).
    pub const FINDINGS: u8 = 1;
    /// Bad input: unreadable or hostile bundle, bad rule file, bad arguments.
    pub const BAD_INPUT: u8 = 2;
    /// A rule failed to run or an internal error.
    pub const ERROR: u8 = 3;
}
