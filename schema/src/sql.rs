//! The SQL that turns loaded bundle data into the tables and views rules query.
//!
//! `00_raw.sql` declares the tables the analyzer's loader fills from bundle files (`objects`
//! through the macros of `01_macros.sql`, parsing each document as it is read); the rest
//! derive typed tables from them, parsing JSON once so rules never re-parse documents.
//! Files run in the order listed; each may use the ones before. `schema/README.md` documents
//! every table.

/// `(file name, SQL)` of the raw tables, and the macros the loader and everything after it
/// use; created before loading, in order.
pub const BEFORE_LOAD: &[(&str, &str)] =
    &[("00_raw.sql", include_str!("../sql/00_raw.sql")), MACROS];

/// `(file name, SQL)` of the macros alone.
pub const MACROS: (&str, &str) = ("01_macros.sql", include_str!("../sql/01_macros.sql"));

/// `(file name, SQL)` run after loading, in order.
pub const DERIVED: &[(&str, &str)] = &[
    ("02_objects.sql", include_str!("../sql/02_objects.sql")),
    ("03_workloads.sql", include_str!("../sql/03_workloads.sql")),
    ("04_cluster.sql", include_str!("../sql/04_cluster.sql")),
    ("05_host.sql", include_str!("../sql/05_host.sql")),
    ("06_logs.sql", include_str!("../sql/06_logs.sql")),
];

/// `(file name, SQL)` of the timeline, built after every derived table (it reads most of
/// them).
pub const TIMELINE: (&str, &str) = ("07_timeline.sql", include_str!("../sql/07_timeline.sql"));

/// Raw tables that the loader fills and that rules should not need.
pub const RAW_TABLES: &[&str] = &[
    "raw_objects",
    "raw_log_lines",
    "raw_host_facts",
    "raw_host_records",
    "raw_host_files",
    "raw_kubelet_configz",
];

/// Quotes `s` as a SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
