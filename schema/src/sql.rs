//! The SQL that turns loaded bundle data into the tables and views rules query. Files run in
//! the order listed; each may depend on the ones before.

/// `(name, SQL)` in execution order.
pub const VIEWS: &[(&str, &str)] = &[];
