//! A kubeconfig pointing kubectl at a running server: one context per served cluster, no
//! credentials.

use std::io;
use std::path::Path;

/// Name of the cluster, context and user in the written kubeconfig.
pub const CONTEXT: &str = "ktriage";

/// The kubeconfig text for a server at `url` (e.g. `http://127.0.0.1:8001`).
pub fn kubeconfig(url: &str) -> String {
    kubeconfig_for(url, 1)
}

/// The context of the n-th served cluster: `ktriage` for the first, `ktriage-<n>` after.
pub fn context_name(n: usize) -> String {
    if n == 0 {
        CONTEXT.to_string()
    } else {
        format!("{CONTEXT}-{n}")
    }
}

/// The URL of the n-th served cluster: `url` itself for the first, `url/clusters/<n>` after.
pub fn cluster_url(url: &str, n: usize) -> String {
    if n == 0 {
        url.to_string()
    } else {
        format!(
            "{}{}{n}",
            url.trim_end_matches('/'),
            crate::server::CLUSTER_PREFIX
        )
    }
}

/// The kubeconfig text for `clusters` clusters served at `url`: one context each (see
/// [`context_name`]), the n-th at `url/clusters/<n>`, the first current.
pub fn kubeconfig_for(url: &str, clusters: usize) -> String {
    let mut text = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for n in 0..clusters.max(1) {
        // A JSON string is a valid YAML scalar, whatever the URL holds.
        let server = serde_json::Value::String(cluster_url(url, n));
        text.push_str(&format!(
            "- name: {}\n  cluster:\n    server: {server}\n",
            context_name(n)
        ));
    }
    text.push_str("contexts:\n");
    for n in 0..clusters.max(1) {
        let name = context_name(n);
        text.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {CONTEXT}\n"
        ));
    }
    text.push_str(&format!(
        "current-context: {CONTEXT}\nusers:\n- name: {CONTEXT}\n  user: {{}}\npreferences: {{}}\n"
    ));
    text
}

/// Writes [`kubeconfig`] for `url` to `path`.
pub fn write_kubeconfig(path: &Path, url: &str) -> io::Result<()> {
    std::fs::write(path, kubeconfig(url))
}

/// Writes [`kubeconfig_for`] to `path`.
pub fn write_kubeconfig_for(path: &Path, url: &str, clusters: usize) -> io::Result<()> {
    std::fs::write(path, kubeconfig_for(url, clusters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_context_per_cluster_the_first_current() {
        let text = kubeconfig_for("http://127.0.0.1:8001", 3);
        let servers: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("server: "))
            .collect();
        assert_eq!(
            servers,
            [
                "\"http://127.0.0.1:8001\"",
                "\"http://127.0.0.1:8001/clusters/1\"",
                "\"http://127.0.0.1:8001/clusters/2\""
            ]
        );
        for n in ["ktriage", "ktriage-1", "ktriage-2"] {
            assert!(
                text.contains(&format!("- name: {n}\n  context:\n    cluster: {n}\n")),
                "{text}"
            );
        }
        assert!(text.contains("current-context: ktriage\n"), "{text}");
        assert_eq!(kubeconfig("http://x"), kubeconfig_for("http://x", 1));
    }
}
