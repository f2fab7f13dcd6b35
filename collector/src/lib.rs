//! `ktriage-collect`: collects a Kubernetes support bundle (objects, API discovery, container
//! logs, kubelet configuration) through the API server, redacts it, and writes a ktriage
//! bundle (`.tar.zst`) that `ktriage` analyzes offline. Node mode ([`node`]) collects a host.
//!
//! Where to start: [`run::run`] drives a cluster-mode run; [`cluster::collect`] one cluster;
//! [`tasks`] the units of work; [`redact`] what keeps secrets out of every bundle.

pub mod api;
pub mod cleanup;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod discovery;
pub mod jobspool;
pub mod list;
pub mod logs;
pub mod node;
pub mod nodes;
pub mod options;
pub mod pods;
pub mod progress;
pub mod pseudonym;
pub use ktriage_redact as redact;
pub mod reredact;
pub mod run;
pub mod sink;
pub mod stop;
pub mod summary;
pub mod tasks;
