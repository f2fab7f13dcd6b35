//! The case database: an in-process DuckDB configured for hostile input and air-gapped use.
//!
//! Extensions are never installed or loaded from the network. After loading, external access
//! is switched off and the configuration locked, so no rule (ours or a user's) can read or
//! write files.

use std::path::Path;

use anyhow::{Context, Result};
use duckdb::{Config, Connection};

/// The version of the DuckDB library this binary runs (`v1.5.6`), as DuckDB itself reports it:
/// the bundled build or a shared library may differ from the crate's version.
pub fn library_version() -> String {
    Connection::open_in_memory()
        .and_then(|conn| conn.version())
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

/// Opens an empty in-memory database with the raw tables and the macros created. With a
/// memory limit, tables and intermediate results beyond it spill to `spill_dir` (inside the
/// case's work directory, removed with it) instead of growing the process: a 150,000-pod
/// cluster then analyzes in a laptop's memory.
/// Spill beyond `max_temp_mib` (0: DuckDB's default) fails the query rather than filling the
/// disk.
pub fn open(
    spill_dir: &Path,
    memory_limit_mib: Option<u64>,
    max_temp_mib: u64,
) -> Result<Connection> {
    let conn = open_empty(spill_dir, memory_limit_mib, max_temp_mib)?;
    for (name, sql) in ktriage_schema::sql::BEFORE_LOAD {
        conn.execute_batch(sql)
            .with_context(|| format!("schema {name}"))?;
    }
    Ok(conn)
}

/// [`open`] without the raw tables: the same limits, for databases filled another way
/// (`ktriage fleet`).
pub fn open_empty(
    spill_dir: &Path,
    memory_limit_mib: Option<u64>,
    max_temp_mib: u64,
) -> Result<Connection> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get() as i64)
        .unwrap_or(2);
    let config = Config::default()
        .enable_autoload_extension(false)
        .context("configuring DuckDB")?
        .threads(threads)
        .context("configuring DuckDB")?
        .with("temp_directory", spill_dir.to_string_lossy())
        .context("configuring DuckDB")?
        // Never checkpoint on our own: the database lives for one command and is never
        // written out, so an automatic checkpoint only rewrites tables already in memory. At
        // L one came at the first write after loading and took 8 s over the 1.2 GB of
        // `objects`.
        .with("checkpoint_threshold", "1TiB")
        .context("configuring DuckDB")?;
    let config = match memory_limit_mib {
        Some(mib) => config
            .max_memory(&format!("{mib}MiB"))
            .with_context(|| format!("setting the memory limit to {mib} MiB"))?,
        None => config,
    };
    let conn = Connection::open_in_memory_with_flags(config).context("opening DuckDB")?;
    if max_temp_mib > 0 {
        // Set once the database is open: given in the start-up configuration, the limit is
        // dropped when the temp directory is set up, and spill grows unbounded.
        conn.execute_batch(&format!(
            "SET max_temp_directory_size = '{max_temp_mib}MiB'"
        ))
        .with_context(|| format!("setting the spill limit to {max_temp_mib} MiB"))?;
    }
    Ok(conn)
}

/// Builds the derived tables from the raw ones.
pub fn derive(conn: &Connection) -> Result<()> {
    for (name, sql) in ktriage_schema::sql::DERIVED {
        conn.execute_batch(sql)
            .with_context(|| format!("schema {name}"))?;
    }
    Ok(())
}

/// Builds the `timeline` table from the derived ones.
pub fn derive_timeline(conn: &Connection) -> Result<()> {
    let (name, sql) = ktriage_schema::sql::TIMELINE;
    conn.execute_batch(sql)
        .with_context(|| format!("schema {name}"))
}

/// Drops the raw tables rules do not need, switches off file access and locks the
/// configuration. Nothing can reach the file system after this. With `query_threads`, each
/// query from here on runs on that many threads.
pub fn seal(conn: &Connection, query_threads: Option<usize>) -> Result<()> {
    // Derived tables hold copies of what rules need; the raw ones would only double memory.
    for table in ktriage_schema::sql::RAW_TABLES {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}"))?;
    }
    if let Some(threads) = query_threads {
        conn.execute_batch(&format!("SET threads = {}", threads.max(1)))
            .context("setting DuckDB threads")?;
    }
    conn.execute_batch("SET enable_external_access = false; SET lock_configuration = true;")
        .context("locking DuckDB configuration")?;
    Ok(())
}

pub use ktriage_schema::sql::quote;

#[cfg(test)]
mod tests {
    use super::*;

    fn threads(conn: &Connection) -> i64 {
        conn.query_row("SELECT current_setting('threads')::BIGINT", [], |r| {
            r.get(0)
        })
        .expect("threads setting")
    }

    #[test]
    fn seal_sets_query_threads_then_locks_the_configuration() {
        let spill = tempfile::tempdir().expect("tempdir");
        let conn = open(spill.path(), Some(256), 0).expect("open");
        seal(&conn, Some(1)).expect("seal");
        assert_eq!(threads(&conn), 1);
        let err = conn
            .execute_batch("SET threads = 4")
            .expect_err("configuration is locked");
        assert!(err.to_string().contains("locked"), "{err}");
        // Outside the spill directory: DuckDB may always write into its own temp directory.
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let target = elsewhere.path().join("copied.csv");
        let err = conn
            .execute_batch(&format!(
                "COPY (SELECT 1) TO {}",
                quote(&target.to_string_lossy())
            ))
            .expect_err("file access is off");
        assert!(!target.exists(), "{err}");
    }

    #[test]
    fn the_database_never_checkpoints_on_its_own() {
        let spill = tempfile::tempdir().expect("tempdir");
        let conn = open(spill.path(), Some(256), 0).expect("open");
        let threshold: String = conn
            .query_row("SELECT current_setting('checkpoint_threshold')", [], |r| {
                r.get(0)
            })
            .expect("setting");
        assert!(threshold.ends_with("TiB"), "{threshold}");
    }

    /// What the quantity and timestamp macros make of the forms found in real objects, and of
    /// the odd ones a foreign bundle may carry.
    #[test]
    fn quantity_and_timestamp_macros_read_every_form() {
        let conn = Connection::open_in_memory().expect("duckdb");
        conn.execute_batch(ktriage_schema::sql::MACROS.1)
            .expect("macros");
        let quantity = |q: Option<&str>| -> Option<f64> {
            conn.query_row("SELECT k8s_quantity(?)", [q], |r| r.get(0))
                .expect("k8s_quantity")
        };
        let cases: [(Option<&str>, Option<f64>); 16] = [
            (Some("128Mi"), Some(134_217_728.0)),
            (Some("250m"), Some(0.25)),
            (Some("0.5"), Some(0.5)),
            (Some("1e3"), Some(1000.0)),
            (Some("2G"), Some(2e9)),
            (Some("1.5Gi"), Some(1_610_612_736.0)),
            (Some("+1"), Some(1.0)),
            (Some("-2k"), Some(-2000.0)),
            (Some(".5"), Some(0.5)),
            (Some(" 100M "), Some(1e8)),
            // Not whole quantities: the number they start with, as Kubernetes never writes them.
            (Some("12 Mi"), Some(12.0)),
            (Some("5."), Some(5.0)),
            (Some("1Gix"), None),
            (Some("Mi"), None),
            (Some("  "), None),
            (None, None),
        ];
        for (q, want) in cases {
            assert_eq!(quantity(q), want, "k8s_quantity({q:?})");
        }
        let ts = |s: &str| -> Option<String> {
            conn.query_row("SELECT CAST(k8s_ts(?) AS VARCHAR)", [s], |r| r.get(0))
                .expect("k8s_ts")
        };
        let cases: [(&str, Option<&str>); 9] = [
            ("2026-01-15T12:00:00Z", Some("2026-01-15 12:00:00")),
            (
                "2026-01-15T12:00:00.123456Z",
                Some("2026-01-15 12:00:00.123456"),
            ),
            ("2026-01-15T12:00:00+00:00", Some("2026-01-15 12:00:00")),
            ("2026-01-15 12:00:00", Some("2026-01-15 12:00:00")),
            // Forms the plain cast refuses, read by the rewrite after it.
            ("2026-01-15T12:00Z", Some("2026-01-15 12:00:00")),
            ("2026-01-15Z", Some("2026-01-15 00:00:00")),
            ("garbage", None),
            ("", None),
            ("2026-13-01T00:00:00Z", None),
        ];
        for (s, want) in cases {
            assert_eq!(ts(s).as_deref(), want, "k8s_ts({s:?})");
        }
    }

    /// Keys and names from a bundle may hold any character: `json_member` reads exactly the
    /// member named, and `regex_escape` makes a pattern that matches exactly the text.
    #[test]
    fn member_and_escape_macros_take_any_text() {
        let conn = Connection::open_in_memory().expect("duckdb");
        conn.execute_batch(ktriage_schema::sql::MACROS.1)
            .expect("macros");
        let labels = r#"{"a\"b":"quote","*":"star","x/y~z":"slash","":"empty","$.k":"path","app":"web","n":7}"#;
        let member = |obj: &str, key: &str| -> Option<String> {
            conn.query_row("SELECT json_member(CAST(? AS JSON), ?)", [obj, key], |r| {
                r.get(0)
            })
            .expect("json_member")
        };
        for (key, want) in [
            ("a\"b", Some("quote")),
            ("*", Some("star")),
            ("x/y~z", Some("slash")),
            ("", Some("empty")),
            ("$.k", Some("path")),
            ("app", Some("web")),
            ("n", Some("7")),
            ("x", None),
            ("~1", None),
        ] {
            assert_eq!(member(labels, key).as_deref(), want, "json_member({key:?})");
        }
        assert_eq!(member(r#"["web"]"#, "0"), None, "not an object");
        let matches = |text: &str, name: &str| -> bool {
            conn.query_row(
                "SELECT regexp_matches(?, '^' || regex_escape(?) || '-[0-9]+$')",
                [text, name],
                |r| r.get(0),
            )
            .expect("regex_escape")
        };
        for name in [
            "web",
            "a.b",
            "m-(x",
            "\u{1b}[31m",
            "x{2,}",
            "a|b",
            "c\\d",
            "$^?*+",
        ] {
            assert!(matches(&format!("{name}-12"), name), "{name:?}");
            assert!(!matches(&format!("{name}x-12"), name), "{name:?}");
        }
        assert!(!matches("axb-1", "a.b"), "a dot is not any character");
    }

    #[test]
    fn seal_without_query_threads_keeps_one_per_core() {
        let spill = tempfile::tempdir().expect("tempdir");
        let conn = open(spill.path(), Some(256), 0).expect("open");
        let before = threads(&conn);
        seal(&conn, None).expect("seal");
        assert_eq!(threads(&conn), before);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as i64;
        assert_eq!(before, cores);
    }
}
