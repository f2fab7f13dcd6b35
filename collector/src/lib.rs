//! `ktriage-collect`: collects a Kubernetes support bundle (objects, API discovery, container
//! logs, kubelet configuration) through the API server, redacts it, and writes a ktriage
//! bundle (`.tar.zst`) that `ktriage` analyzes offline.

pub mod node;
pub mod redact;
