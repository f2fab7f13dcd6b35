//! The ktriage bundle contract, shared by the collector and the analyzer: where things live in
//! a bundle ([`layout`]), what the manifest says ([`manifest`]) and what a bundle lacks ([`gap`]), recorded API discovery
//! ([`discovery`]), how bundles are written ([`writer`]) and safely read ([`reader`]), and the
//! DuckDB views that rules query ([`sql`]), the rule file format ([`rule`]), and bundle text
//! made safe for a terminal ([`text`]); with the `cli` feature, the version text, completions
//! and man pages of both binaries (`cli`).
//!
//! This crate is deliberately light: no async runtime, no Kubernetes client, no database.
//! See `schema/README.md` for the format specification.

#[cfg(feature = "cli")]
pub mod cli;
pub mod discovery;
pub mod duration;
pub mod error;
pub mod gap;
pub mod host;
pub mod layout;
pub mod logtime;
pub mod manifest;
pub mod ndjson;
pub mod reader;
pub mod rule;
pub mod sql;
pub mod text;
pub mod writer;

pub use error::BundleError;
pub use manifest::Manifest;
