//! Per-node data reachable through the API server's node proxy, best effort: the kubelet's
//! configuration (`/configz`) and its log through the node log query
//! (`/logs/?query=kubelet`, which needs the kubelet's `enableSystemLogQuery`). A refusal
//! (403, 404, 501) is a gap, never a failure.

use ktriage_schema::layout;
use ktriage_schema::manifest::{Gap, GapKind, GapReason};

use crate::cluster::api::encode_query;
use crate::cluster::options::LogOptions;

/// `/api/v1/nodes/<node>/proxy/configz`.
pub fn configz_path(node: &str) -> String {
    format!("/api/v1/nodes/{}/proxy/configz", encode_query(node))
}

/// `/api/v1/nodes/<node>/proxy/logs/?query=kubelet` with the log bounds.
pub fn kubelet_log_path(
    node: &str,
    bounds: &LogOptions,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut path = format!(
        "/api/v1/nodes/{}/proxy/logs/?query=kubelet",
        encode_query(node)
    );
    if let Some(n) = bounds.tail_lines {
        path.push_str(&format!("&tailLines={n}"));
    }
    if let Some(since) = bounds.since {
        let since = chrono::Duration::from_std(since)
            .ok()
            .and_then(|d| now.checked_sub_signed(d));
        if let Some(t) = since {
            path.push_str(&format!(
                "&sinceTime={}",
                encode_query(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            ));
        }
    }
    path
}

/// A gap when `node` cannot be a bundle path component.
pub fn check_name(node: &str, what: GapKind) -> Result<(), Gap> {
    if layout::is_safe_component(node) {
        Ok(())
    } else {
        Err(Gap::new(what, node, GapReason::Error)
            .with_detail(format!("node name {node:?} cannot be a bundle path")))
    }
}

/// Whether a node log answer is the kubelet's `/var/log` directory listing, which it serves
/// instead when the log query is not enabled.
pub fn is_directory_listing(data: &[u8]) -> bool {
    let head = &data[..data.len().min(512)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.trim_start().starts_with("<pre>") || head.contains("<a href=")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_listing() {
        assert_eq!(configz_path("n1"), "/api/v1/nodes/n1/proxy/configz");
        let bounds = LogOptions {
            enabled: true,
            tail_lines: Some(10),
            max_bytes: 1,
            since: None,
        };
        assert_eq!(
            kubelet_log_path("n1", &bounds, chrono::Utc::now()),
            "/api/v1/nodes/n1/proxy/logs/?query=kubelet&tailLines=10"
        );
        assert!(is_directory_listing(
            b"<pre>\n<a href=\"pods/\">pods/</a>\n</pre>"
        ));
        assert!(!is_directory_listing(b"I0101 kubelet started\n"));
        assert!(check_name("a/b", GapKind::Configz).is_err());
    }
}
