//! End-to-end tests of cluster collection against `ktriage serve`, and of node mode against
//! fake host trees: one test binary, one module per concern. Every server binds to
//! 127.0.0.1:0 and every test is bounded in time.

mod common;

mod canaries;
mod cli_docs;
mod contexts;
mod deploy_manifests;
mod exit_codes;
mod faults;
mod interrupt;
mod node_collect;
mod oversize;
mod pseudonyms;
mod redact_bundle;
mod roundtrip;
