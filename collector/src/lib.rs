//! `ktriage-collect`: collects a Kubernetes support bundle (objects, API discovery, container
//! logs, kubelet configuration) through the API server, redacts it, and writes a ktriage
//! bundle (`.tar.zst`) that `ktriage` analyzes offline. Node mode ([`node`]) collects a host.
//!
//! Where to start: [`cluster::run::run`] drives a cluster-mode run; [`cluster::collect`] one
//! cluster; [`cluster::tasks`] its units of work; [`manifest`] how both modes close a bundle; [`redact`] what keeps secrets out of every bundle.

pub mod cleanup;
pub mod cli;
pub mod cluster;
pub mod manifest;
pub mod node;
pub mod progress;
pub mod pseudonym;
pub use ktriage_redact as redact;
pub mod reredact;
pub mod stop;
