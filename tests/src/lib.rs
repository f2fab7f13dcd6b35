//! Test support for ktriage: the builder that turns readable fixture sources (YAML objects,
//! log and host files) into real bundles. See `tests/README.md` for the source format.

pub mod generate;
pub mod hostile;
pub mod source;
