//! One module per subcommand.

pub mod analyze;
pub mod diff;
pub mod explain;
pub mod export;
pub mod fleet;
pub mod import;
pub mod rules_list;
pub mod serve;
pub mod sql;
pub mod timeline;
