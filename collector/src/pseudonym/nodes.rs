//! The host names a cluster's pseudonyms must cover: every node's name and the host names
//! among its addresses. They are learned before anything is written, so the first entry
//! written already has them replaced.

use serde::Deserialize;

use super::{PseudonymOptions, Pseudonymizer};
use crate::cluster::api::{Api, ApiError};

/// Nodes per list request.
const PAGE: u32 = 500;

#[derive(Deserialize)]
struct NodeList {
    #[serde(default)]
    items: Vec<NodeNames>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Default, Deserialize)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct NodeNames {
    metadata: Meta,
    #[serde(default)]
    status: Status,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    name: String,
}

#[derive(Default, Deserialize)]
struct Status {
    #[serde(default)]
    addresses: Vec<Address>,
}

#[derive(Deserialize)]
struct Address {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    address: String,
}

impl NodeNames {
    /// The node's name and its `Hostname`, `InternalDNS` and `ExternalDNS` addresses.
    fn host_names(self) -> impl Iterator<Item = String> {
        std::iter::once(self.metadata.name).chain(
            self.status
                .addresses
                .into_iter()
                .filter(|a| matches!(a.kind.as_str(), "Hostname" | "InternalDNS" | "ExternalDNS"))
                .map(|a| a.address),
        )
    }
}

/// The pseudonymizer of one cluster's bundle: with `hosts`, it knows every node's host names
/// (a cluster whose nodes cannot be listed is not collected: its node names would leak).
pub async fn cluster_pseudonymizer(
    api: &Api,
    options: &PseudonymOptions,
) -> anyhow::Result<Pseudonymizer> {
    let hosts = if options.classes.hosts {
        cluster_host_names(api).await.map_err(|e| {
            anyhow::anyhow!(
                "--pseudonymize hosts: cannot list the nodes to learn their host names: {e}"
            )
        })?
    } else {
        Vec::new()
    };
    Pseudonymizer::new(options, &hosts)
}

/// Lists the cluster's nodes (names and addresses only) and returns their host names.
pub async fn cluster_host_names(api: &Api) -> Result<Vec<String>, ApiError> {
    let mut names = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/nodes?limit={PAGE}");
        if let Some(token) = &next {
            path.push_str("&continue=");
            path.push_str(&percent_encode(token));
        }
        let page: NodeList = api.get_as(&path).await?;
        names.extend(page.items.into_iter().flat_map(NodeNames::host_names));
        match page.metadata.next.filter(|t| !t.is_empty()) {
            Some(t) if next.as_ref() != Some(&t) => next = Some(t),
            _ => break,
        }
    }
    names.retain(|n| !n.is_empty());
    names.sort();
    names.dedup();
    Ok(names)
}

/// A `continue` token made safe for a query string.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_dns_addresses_are_host_names() {
        let list: NodeList = serde_json::from_str(
            r#"{"items":[{"metadata":{"name":"node-a"},"status":{"addresses":[
                {"type":"InternalIP","address":"10.0.0.5"},
                {"type":"Hostname","address":"node-a.corp.example"},
                {"type":"ExternalDNS","address":"a.example.com"}]}},
              {"metadata":{"name":"node-b"}}],"metadata":{}}"#,
        )
        .expect("list");
        let names: Vec<String> = list
            .items
            .into_iter()
            .flat_map(NodeNames::host_names)
            .collect();
        assert_eq!(
            names,
            ["node-a", "node-a.corp.example", "a.example.com", "node-b"]
        );
        assert_eq!(percent_encode("a b/c=="), "a%20b%2Fc%3D%3D");
    }
}
