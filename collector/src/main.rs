//! The `ktriage-collect` binary.

fn main() {}
