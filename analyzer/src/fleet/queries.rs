//! The fleet questions shipped with ktriage (`analyzer/fleet/*.sql`).

/// A shipped query: its name (the file name without `.sql`) and text.
pub struct Query {
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every shipped query, by name.
pub const QUERIES: &[Query] = &[
    Query {
        name: "certificates-expiring",
        sql: include_str!("../../fleet/certificates-expiring.sql"),
    },
    Query {
        name: "findings-by-faq-version",
        sql: include_str!("../../fleet/findings-by-faq-version.sql"),
    },
    Query {
        name: "node-versions",
        sql: include_str!("../../fleet/node-versions.sql"),
    },
    Query {
        name: "nodes-not-ready",
        sql: include_str!("../../fleet/nodes-not-ready.sql"),
    },
    Query {
        name: "noisy-rules",
        sql: include_str!("../../fleet/noisy-rules.sql"),
    },
];

/// The query named `name`.
pub fn find(name: &str) -> Option<&'static Query> {
    QUERIES.iter().find(|q| q.name == name)
}

impl Query {
    /// What the query answers: the first line of its header comment.
    pub fn summary(&self) -> &'static str {
        self.sql
            .lines()
            .find_map(|l| l.strip_prefix("--"))
            .map_or("", str::trim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_file_is_shipped_and_says_what_it_answers() {
        let dir = ktriage_tests::manifest_dir!().join("fleet");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("fleet dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".sql").map(str::to_string))
            .collect();
        files.sort();
        let shipped: Vec<&str> = QUERIES.iter().map(|q| q.name).collect();
        assert_eq!(files, shipped);
        for q in QUERIES {
            assert!(q.summary().len() > 10, "{} has no header comment", q.name);
        }
    }
}
