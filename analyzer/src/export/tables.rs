//! The export schema: which tables an export writes, their columns and declared types.
//!
//! Every column is cast to its declared type when written, so a file's schema never depends
//! on what one bundle happened to hold (JSON values become text, quantities DOUBLE, times
//! TIMESTAMP in UTC). The partition columns `cluster_id` and `bundle_id` live in the
//! directory names, not in the files. Changing a column's name or type, or removing one,
//! raises [`SCHEMA_VERSION`]; adding a column or a table does too, so every writer of one
//! tree writes the same `_ktriage_schema.json`.

use serde::Serialize;

/// Version of the export schema (`_ktriage_schema.json`).
pub const SCHEMA_VERSION: u32 = 2;

/// One exported column: its name, DuckDB type, and the SQL that computes it (its name when
/// `None`) over the source table.
pub struct Column {
    pub name: &'static str,
    pub ty: &'static str,
    pub expr: Option<&'static str>,
}

/// One exported table.
pub struct Table {
    pub name: &'static str,
    /// The case table (or view) rows come from; it has a `bundle_id` column.
    pub source: &'static str,
    /// `ORDER BY` of each bundle's rows, when the source's order is not already fixed.
    pub order_by: Option<&'static str>,
    pub columns: &'static [Column],
}

const fn c(name: &'static str, ty: &'static str) -> Column {
    Column {
        name,
        ty,
        expr: None,
    }
}

const fn e(name: &'static str, ty: &'static str, expr: &'static str) -> Column {
    Column {
        name,
        ty,
        expr: Some(expr),
    }
}

/// Every table an export can write, in the order they are written.
pub const TABLES: &[Table] = &[
    Table {
        name: "bundles",
        source: "export_bundles",
        order_by: None,
        columns: &[
            c("kind", "VARCHAR"),
            c("label", "VARCHAR"),
            c("producer", "VARCHAR"),
            c("producer_version", "VARCHAR"),
            c("format_version", "VARCHAR"),
            c("started_at", "TIMESTAMP"),
            c("collected_at", "TIMESTAMP"),
            c("partial", "BOOLEAN"),
            c("server_version", "VARCHAR"),
            e(
                "kubernetes_minor",
                "VARCHAR",
                "nullif(regexp_extract(server_version, 'v?([0-9]+\\.[0-9]+)', 1), '')",
            ),
            e("source_cluster_id", "VARCHAR", "cluster_id"),
            c("context", "VARCHAR"),
            c("node_name", "VARCHAR"),
            c("hostname", "VARCHAR"),
            c("redaction_enabled", "BOOLEAN"),
            c("exported_by", "VARCHAR"),
        ],
    },
    Table {
        name: "findings",
        source: "export_findings",
        order_by: None,
        columns: &[
            c("rule_id", "VARCHAR"),
            c("severity", "VARCHAR"),
            c("severity_rank", "INTEGER"),
            c("benign", "BOOLEAN"),
            c("category", "VARCHAR"),
            e(
                "faq_ids",
                "VARCHAR[]",
                "CASE WHEN faq_ids = '' THEN [] ELSE string_split(faq_ids, ' ') END",
            ),
            c("resource", "VARCHAR"),
            c("namespace", "VARCHAR"),
            c("name", "VARCHAR"),
            c("node", "VARCHAR"),
            c("container", "VARCHAR"),
            c("message_en", "VARCHAR"),
            c("message_zh", "VARCHAR"),
            c("evidence_count", "BIGINT"),
            c("first_seen", "TIMESTAMP"),
            c("last_seen", "TIMESTAMP"),
            c("recent_count", "BIGINT"),
            c("symptom_of", "VARCHAR"),
        ],
    },
    Table {
        name: "finding_faqs",
        source: "(SELECT *, unnest(CASE WHEN faq_ids = '' THEN [] ELSE string_split(faq_ids, ' ') END) AS faq_id FROM export_findings)",
        order_by: None,
        columns: &[
            c("faq_id", "VARCHAR"),
            c("rule_id", "VARCHAR"),
            c("severity", "VARCHAR"),
            c("benign", "BOOLEAN"),
            c("resource", "VARCHAR"),
        ],
    },
    Table {
        name: "nodes",
        source: "nodes",
        order_by: None,
        columns: &[
            c("name", "VARCHAR"),
            c("uid", "VARCHAR"),
            c("created_at", "TIMESTAMP"),
            c("roles", "VARCHAR[]"),
            c("internal_ip", "VARCHAR"),
            c("hostname", "VARCHAR"),
            c("kubelet_version", "VARCHAR"),
            c("kube_proxy_version", "VARCHAR"),
            c("kernel_version", "VARCHAR"),
            c("os_image", "VARCHAR"),
            c("container_runtime_version", "VARCHAR"),
            c("os", "VARCHAR"),
            c("arch", "VARCHAR"),
            c("pod_cidr", "VARCHAR"),
            c("unschedulable", "BOOLEAN"),
            c("capacity_cpu", "DOUBLE"),
            c("capacity_memory_bytes", "DOUBLE"),
            c("capacity_pods", "DOUBLE"),
            c("allocatable_cpu", "DOUBLE"),
            c("allocatable_memory_bytes", "DOUBLE"),
            c("ready", "BOOLEAN"),
            c("ready_reason", "VARCHAR"),
            c("labels", "VARCHAR"),
        ],
    },
    Table {
        name: "pods",
        source: "pods",
        order_by: None,
        columns: &[
            c("namespace", "VARCHAR"),
            c("name", "VARCHAR"),
            c("uid", "VARCHAR"),
            c("created_at", "TIMESTAMP"),
            c("deleted_at", "TIMESTAMP"),
            c("node", "VARCHAR"),
            c("service_account", "VARCHAR"),
            c("host_network", "BOOLEAN"),
            c("priority_class", "VARCHAR"),
            c("phase", "VARCHAR"),
            c("reason", "VARCHAR"),
            c("message", "VARCHAR"),
            c("qos_class", "VARCHAR"),
            c("pod_ip", "VARCHAR"),
            c("host_ip", "VARCHAR"),
            c("started_at", "TIMESTAMP"),
            c("ready", "BOOLEAN"),
            c("labels", "VARCHAR"),
        ],
    },
    Table {
        name: "containers",
        source: "containers",
        order_by: None,
        columns: &[
            c("namespace", "VARCHAR"),
            c("pod", "VARCHAR"),
            c("pod_uid", "VARCHAR"),
            c("node", "VARCHAR"),
            c("container_type", "VARCHAR"),
            c("position", "BIGINT"),
            c("name", "VARCHAR"),
            c("image", "VARCHAR"),
            c("registry", "VARCHAR"),
            c("memory_request", "VARCHAR"),
            c("memory_limit", "VARCHAR"),
            c("cpu_request", "VARCHAR"),
            c("cpu_limit", "VARCHAR"),
            c("memory_request_bytes", "DOUBLE"),
            c("memory_limit_bytes", "DOUBLE"),
            c("ready", "BOOLEAN"),
            c("started", "BOOLEAN"),
            c("restart_count", "BIGINT"),
            c("image_id", "VARCHAR"),
            c("state", "VARCHAR"),
            c("state_reason", "VARCHAR"),
            c("state_message", "VARCHAR"),
            c("exit_code", "BIGINT"),
            c("last_reason", "VARCHAR"),
            c("last_exit_code", "BIGINT"),
            c("last_finished_at", "TIMESTAMP"),
        ],
    },
    Table {
        name: "workloads",
        source: "workloads",
        order_by: None,
        columns: &[
            c("kind", "VARCHAR"),
            c("namespace", "VARCHAR"),
            c("name", "VARCHAR"),
            c("uid", "VARCHAR"),
            c("created_at", "TIMESTAMP"),
            c("desired", "BIGINT"),
            c("ready", "BIGINT"),
            c("available", "BIGINT"),
            c("updated", "BIGINT"),
            c("schedule", "VARCHAR"),
            c("active", "BIGINT"),
            c("succeeded", "BIGINT"),
            c("failed", "BIGINT"),
            c("host_network", "BOOLEAN"),
            c("labels", "VARCHAR"),
        ],
    },
    Table {
        name: "events",
        source: "events",
        order_by: None,
        columns: &[
            c("namespace", "VARCHAR"),
            c("name", "VARCHAR"),
            c("uid", "VARCHAR"),
            c("type", "VARCHAR"),
            c("reason", "VARCHAR"),
            c("message", "VARCHAR"),
            c("count", "BIGINT"),
            c("object_kind", "VARCHAR"),
            c("object_namespace", "VARCHAR"),
            c("object_name", "VARCHAR"),
            c("field_path", "VARCHAR"),
            c("source_component", "VARCHAR"),
            c("source_host", "VARCHAR"),
            c("first_seen", "TIMESTAMP"),
            c("last_seen", "TIMESTAMP"),
        ],
    },
    Table {
        name: "certificates",
        source: "certificates",
        order_by: None,
        columns: &[
            c("node", "VARCHAR"),
            c("path", "VARCHAR"),
            c("idx", "INTEGER"),
            c("subject", "VARCHAR"),
            c("issuer", "VARCHAR"),
            c("sans", "VARCHAR[]"),
            c("not_before", "TIMESTAMP"),
            c("not_after", "TIMESTAMP"),
            c("serial", "VARCHAR"),
            c("is_ca", "BOOLEAN"),
            c("key_algorithm", "VARCHAR"),
            c("key_bits", "INTEGER"),
            c("fingerprint_sha256", "VARCHAR"),
            c("days_left", "DOUBLE"),
        ],
    },
    Table {
        name: "host_facts",
        source: "host_facts",
        order_by: None,
        columns: &[
            c("node", "VARCHAR"),
            c("hostname", "VARCHAR"),
            c("kernel_release", "VARCHAR"),
            c("os_id", "VARCHAR"),
            c("os_version_id", "VARCHAR"),
            c("os_pretty_name", "VARCHAR"),
            c("memory_bytes", "BIGINT"),
            c("cpus", "INTEGER"),
            c("cgroup_version", "INTEGER"),
            c("cgroup_controllers", "VARCHAR[]"),
        ],
    },
    Table {
        name: "timeline",
        source: "timeline",
        // Rows come from many INSERTs and the analyzer's additions: sorted, so the same case
        // gives the same file.
        order_by: Some("ts, end_ts NULLS FIRST, kind, resource, evidence, summary"),
        columns: &[
            c("cluster", "VARCHAR"),
            c("ts", "TIMESTAMP"),
            c("end_ts", "TIMESTAMP"),
            c("kind", "VARCHAR"),
            c("severity", "VARCHAR"),
            c("namespace", "VARCHAR"),
            c("resource", "VARCHAR"),
            c("node", "VARCHAR"),
            c("count", "BIGINT"),
            c("summary", "VARCHAR"),
            c("summary_zh", "VARCHAR"),
            c("evidence_kind", "VARCHAR"),
            c("evidence", "VARCHAR"),
        ],
    },
];

/// The table named `name`.
pub fn find(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

impl Table {
    /// The query giving one bundle's rows (`$1`: the bundle id) with every column cast to
    /// its declared type.
    pub fn select_sql(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|col| {
                let expr = col
                    .expr
                    .map_or_else(|| format!("\"{}\"", col.name), str::to_string);
                format!("CAST({expr} AS {}) AS \"{}\"", col.ty, col.name)
            })
            .collect();
        let order = self
            .order_by
            .map_or_else(String::new, |o| format!(" ORDER BY {o}"));
        format!(
            "SELECT {} FROM {} WHERE bundle_id = $1{order}",
            columns.join(", "),
            self.source
        )
    }

    /// `CREATE TABLE` for the fleet database: the columns, then the partition columns.
    pub fn create_sql(&self) -> String {
        let mut columns: Vec<String> = self
            .columns
            .iter()
            .map(|col| format!("\"{}\" {}", col.name, col.ty))
            .collect();
        columns.extend(PARTITION_KEYS.iter().map(|k| format!("{k} VARCHAR")));
        format!("CREATE TABLE \"{}\" ({})", self.name, columns.join(", "))
    }
}

/// The partition columns, outermost first.
pub const PARTITION_KEYS: [&str; 2] = ["cluster_id", "bundle_id"];

/// `_ktriage_schema.json`.
#[derive(Serialize)]
struct SchemaFile {
    format: &'static str,
    version: u32,
    partitioning: [&'static str; 2],
    /// Where each bundle's commit file names its committed generation.
    commits: &'static str,
    file_name: &'static str,
    tables: Vec<TableSchema>,
}

#[derive(Serialize)]
struct TableSchema {
    name: &'static str,
    columns: Vec<ColumnSchema>,
}

#[derive(Serialize)]
struct ColumnSchema {
    name: &'static str,
    #[serde(rename = "type")]
    ty: &'static str,
}

/// File name of the one data file in each generation directory.
pub const PART_FILE: &str = "part-0.parquet";

/// The directory of the commit files, one per bundle: `bundle_id=<escaped>.json`.
pub const COMMIT_DIR: &str = "_ktriage_commits";

/// The text of `_ktriage_schema.json`: the same bytes from every writer of this version.
pub fn schema_json() -> String {
    let file = SchemaFile {
        format: "ktriage-export",
        version: SCHEMA_VERSION,
        partitioning: PARTITION_KEYS,
        commits: COMMIT_DIR,
        file_name: PART_FILE,
        tables: TABLES
            .iter()
            .map(|t| TableSchema {
                name: t.name,
                columns: t
                    .columns
                    .iter()
                    .map(|c| ColumnSchema {
                        name: c.name,
                        ty: c.ty,
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("static schema serializes");
    text.push('\n');
    text
}
