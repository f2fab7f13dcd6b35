//! A kubeconfig pointing kubectl at a running server: one cluster, one context, no credentials.

use std::io;
use std::path::Path;

/// Name of the cluster, context and user in the written kubeconfig.
pub const CONTEXT: &str = "ktriage";

/// The kubeconfig text for a server at `url` (e.g. `http://127.0.0.1:8001`).
pub fn kubeconfig(url: &str) -> String {
    // A JSON string is a valid YAML scalar, whatever the URL holds.
    let server = serde_json::Value::String(url.to_string());
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {CONTEXT}\n  cluster:\n    server: {server}\n\
         contexts:\n- name: {CONTEXT}\n  context:\n    cluster: {CONTEXT}\n    user: {CONTEXT}\n\
         current-context: {CONTEXT}\nusers:\n- name: {CONTEXT}\n  user: {{}}\npreferences: {{}}\n"
    )
}

/// Writes [`kubeconfig`] for `url` to `path`.
pub fn write_kubeconfig(path: &Path, url: &str) -> io::Result<()> {
    std::fs::write(path, kubeconfig(url))
}
