//! Test support for ktriage: the builder that turns readable fixture sources (YAML objects,
//! log and host files) into real bundles, and the checks of both binaries' completions and man
//! pages. See `tests/README.md` for the source format.

pub mod cli_docs;
pub mod generate;
pub mod hostile;
pub mod source;
