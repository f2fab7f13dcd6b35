//! The FAQ catalog (`analyzer/faq/catalog.tsv`): one row per FAQ entry, with the source
//! document and section a rule's remediation comes from.

use std::sync::OnceLock;

use serde::Serialize;

/// Source documents, by file name, with a readable title.
const DOCUMENTS: &[(&str, &str)] = &[
    (
        "000_8825c64ab75de424.txt",
        "Karmada 故障定位 (Karmada troubleshooting)",
    ),
    (
        "001_6c758e38845562cc.txt",
        "DCE 常见问题 (DaoCloud Enterprise FAQ)",
    ),
    (
        "002_cc9bd452c2813cb5.txt",
        "对 kubeadm 进行故障排查 (kubeadm troubleshooting)",
    ),
    (
        "003_3ae197d3b21d8357.txt",
        "Kubernetes 部署注意事项 (deployment notes)",
    ),
    ("004_15c3481e3b7d2bd4.txt", "K8S 常见问题 (Kubernetes FAQ)"),
];

/// One catalog row.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// `KADM-13`.
    pub id: String,
    /// Source document file name.
    pub source: String,
    /// Readable title of the source document.
    pub document: String,
    /// Section heading in the source.
    pub section: String,
    /// `detect`, `benign` or `knowledge`.
    pub class: String,
    /// What reveals it in a bundle.
    pub evidence: String,
}

/// Every catalog entry, in catalog order.
pub fn catalog() -> &'static [Entry] {
    static CATALOG: OnceLock<Vec<Entry>> = OnceLock::new();
    CATALOG.get_or_init(|| parse(include_str!("../faq/catalog.tsv")))
}

/// The entry with `id`.
pub fn find(id: &str) -> Option<&'static Entry> {
    catalog().iter().find(|e| e.id == id)
}

fn parse(tsv: &str) -> Vec<Entry> {
    tsv.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split('\t');
            let (id, source, section, class, evidence) = (
                f.next()?,
                f.next()?,
                f.next()?,
                f.next()?,
                f.next().unwrap_or(""),
            );
            let document = DOCUMENTS
                .iter()
                .find(|(s, _)| *s == source)
                .map(|(_, t)| *t)
                .unwrap_or(source);
            Some(Entry {
                id: id.to_string(),
                source: source.to_string(),
                document: document.to_string(),
                section: section.to_string(),
                class: class.to_string(),
                evidence: evidence.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_parses_every_row_with_a_known_class() {
        let c = catalog();
        assert!(c.len() >= 100, "{}", c.len());
        for e in c {
            assert!(
                matches!(e.class.as_str(), "detect" | "benign" | "knowledge"),
                "{}: {}",
                e.id,
                e.class
            );
            assert!(!e.section.is_empty(), "{}", e.id);
        }
        assert_eq!(find("KADM-13").map(|e| e.class.as_str()), Some("detect"));
        assert_eq!(find("CRN-09").map(|e| e.class.as_str()), Some("benign"));
    }

    #[test]
    fn embedded_catalog_matches_the_shared_one_when_present() {
        let shared = ktriage_tests::manifest_dir!().join("../../shared/faq/catalog.tsv");
        if let Ok(text) = std::fs::read_to_string(&shared) {
            assert_eq!(
                text,
                include_str!("../faq/catalog.tsv"),
                "analyzer/faq/catalog.tsv is stale: copy it from {}",
                shared.display()
            );
        }
    }
}
