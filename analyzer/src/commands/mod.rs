//! One module per subcommand.

pub mod analyze;
pub mod explain;
pub mod export;
pub mod fleet;
pub mod rules_list;
pub mod serve;
pub mod sql;
