//! Loads opened bundles into the raw tables. API objects stream through DuckDB's own NDJSON
//! reader; logs and host files are read here (logs are not always UTF-8, and YAML/TOML host
//! files are parsed to JSON once so rules can query them).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use duckdb::{Connection, params};
use ktriage_schema::discovery::Discovery;
use ktriage_schema::layout::{self, BundlePath};
use ktriage_schema::logtime;
use ktriage_schema::manifest::Source;
use ktriage_schema::ndjson;
use ktriage_schema::reader::OpenBundle;
use serde_json::Value;

use crate::db::quote;

/// Loads `bundle` into the raw tables of `conn`. `max_object_bytes` is the longest object
/// line the reader let through (DuckDB's JSON reader keeps buffers of twice that per thread).
/// `tick` is called once per file loaded.
pub fn load_bundle(
    conn: &Connection,
    bundle: &OpenBundle,
    max_object_bytes: usize,
    tick: &dyn Fn(&str),
) -> Result<()> {
    load_entries(conn, bundle, max_object_bytes, tick).map_err(|e| name_the_bundle(e, bundle))
}

/// Errors quote the files they read (DuckDB's too), and those live in the work directory the
/// archive was unpacked into, a path the user never gave: name the bundle instead.
fn name_the_bundle(e: anyhow::Error, bundle: &OpenBundle) -> anyhow::Error {
    let root = bundle.root.to_string_lossy();
    let text = format!("{e:#}");
    if bundle.root == bundle.source || !text.contains(root.as_ref()) {
        return e;
    }
    anyhow::anyhow!(text.replace(root.as_ref(), &bundle.source.to_string_lossy()))
}

fn load_entries(
    conn: &Connection,
    bundle: &OpenBundle,
    max_object_bytes: usize,
    tick: &dyn Fn(&str),
) -> Result<()> {
    let id = bundle.manifest.bundle_id.as_str();
    insert_bundle_row(conn, bundle)?;
    insert_manifest_tables(conn, bundle, max_object_bytes)?;
    if bundle.path(layout::DISCOVERY).exists() {
        insert_discovery(conn, id, &bundle.path(layout::DISCOVERY))?;
    }
    let mut logs = Vec::new();
    let mut resources = Vec::new();
    let has_long_lines = |path: &str| bundle.oversized.iter().any(|o| o.entry == path);
    for entry in &bundle.manifest.entries {
        let path = entry.path.as_str();
        let file = bundle.path(path);
        tick(path);
        match BundlePath::parse(path) {
            // Read before the entries (discovery) or by the bundle row (manifest, version).
            BundlePath::Manifest | BundlePath::Discovery | BundlePath::Version => {}
            BundlePath::Resource {
                group,
                version,
                resource,
            } => resources.push(ResourceFile {
                long_lines: has_long_lines(path),
                file,
                kind: [group, version, resource],
            }),
            BundlePath::ContainerLog(log) => logs.push((LogOrigin::container(log), file)),
            BundlePath::NodeLog { node, service } => {
                logs.push((LogOrigin::node(node, service), file))
            }
            BundlePath::HostLog { service } => logs.push((LogOrigin::host(service), file)),
            BundlePath::SourceFindings => {
                append_lines_within(conn, "source_findings", [id], &file, max_object_bytes)
                    .with_context(|| format!("{}: loading {path}", bundle.source.display()))?
            }
            // Kept for people to read; what the report needs is in the findings.
            BundlePath::SourceFile { .. } => {}
            BundlePath::HostFacts => {
                let text =
                    std::fs::read_to_string(&file).with_context(|| format!("reading {path}"))?;
                conn.execute(
                    "INSERT INTO raw_host_facts VALUES (?, ?)",
                    params![id, text],
                )?;
            }
            BundlePath::HostRecord(record) => {
                let record = record.name();
                if has_long_lines(path) {
                    append_lines_within(
                        conn,
                        "raw_host_records",
                        [id, record],
                        &file,
                        max_object_bytes,
                    )
                    .with_context(|| format!("{}: loading {path}", bundle.source.display()))?;
                    continue;
                }
                conn.execute_batch(&format!(
                    "INSERT INTO raw_host_records SELECT {}, {}, json FROM read_ndjson_objects({})",
                    quote(id),
                    quote(record),
                    quote(&file.to_string_lossy())
                ))
                .with_context(|| format!("{}: loading {path}", bundle.source.display()))?;
            }
            BundlePath::HostFile { absolute } => insert_host_file(conn, id, &absolute, &file)?,
            BundlePath::NodeConfigz { node } => {
                let text =
                    std::fs::read_to_string(&file).with_context(|| format!("reading {path}"))?;
                conn.execute(
                    "INSERT INTO raw_kubelet_configz VALUES (?, ?, ?)",
                    params![id, node, text],
                )?;
            }
            // A file a newer collector writes: listed in `bundle_entries` with kind
            // 'unknown' (see insert_manifest_tables), not loaded.
            BundlePath::Unknown => {}
        }
    }
    insert_objects(conn, id, &resources, max_object_bytes)
        .with_context(|| format!("{}: loading API objects", bundle.source.display()))?;
    let clock = LogClock {
        api_stamped: bundle.manifest.container_logs_stamped(),
        reference: bundle.manifest.finished_at,
    };
    let mut app = conn.appender("raw_log_lines")?;
    for (origin, file) in logs {
        append_log_lines(&mut app, id, &origin, &file, &clock)?;
    }
    // An error in the implicit flush on drop would be lost: flush explicitly.
    app.flush().context("loading log lines")?;
    Ok(())
}

/// One resource file of a bundle.
struct ResourceFile {
    file: PathBuf,
    /// Group, version, resource.
    kind: [String; 3],
    /// Whether the reader found lines over the limit in it, which must not be loaded.
    long_lines: bool,
}

/// Loads every resource file of a bundle, in file order (and with it row order). Files are
/// read by DuckDB in as few statements as possible: one INSERT per file is several times
/// slower at scale, since after a few hundred thousand rows DuckDB starts compressing the
/// table's earlier row groups on each new statement (13 s for the 47,000 events of a
/// 150,000-pod cluster, against 4 s for all 510,000 objects at once). A file holding a line
/// over the limit, which DuckDB's reader would refuse whole, is read here, that line skipped
/// (its gap comes from the manifest tables).
fn insert_objects(
    conn: &Connection,
    id: &str,
    files: &[ResourceFile],
    max_object_bytes: usize,
) -> Result<()> {
    for run in files.chunk_by(|a, b| !a.long_lines && !b.long_lines) {
        match run {
            [one] if one.long_lines => {
                let [group, version, resource] = &one.kind;
                append_lines_within(
                    conn,
                    "raw_objects",
                    [id, group, version, resource],
                    &one.file,
                    max_object_bytes,
                )?;
                // Moved on at once, so that objects keep their file order.
                conn.execute_batch(&format!(
                    "{}; DELETE FROM raw_objects;",
                    insert_into_objects(
                        "SELECT bundle_id, api_group AS g, version AS v, resource AS r, doc
                         FROM raw_objects"
                    )
                ))?;
            }
            _ => insert_object_files(conn, id, run, max_object_bytes)?,
        }
    }
    Ok(())
}

/// Appends each line of the NDJSON file at `path` within `max_line_bytes` to `table`, after
/// the leading `columns`.
fn append_lines_within<const N: usize>(
    conn: &Connection,
    table: &str,
    columns: [&str; N],
    path: &Path,
    max_line_bytes: usize,
) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut app = conn.appender(table)?;
    ndjson::for_each_line::<anyhow::Error>(
        std::io::BufReader::with_capacity(1 << 20, file),
        max_line_bytes,
        |line| {
            let text = std::str::from_utf8(line).context("an object line is not UTF-8")?;
            let mut row: Vec<&str> = columns.to_vec();
            row.push(text);
            app.append_row(duckdb::appender_params_from_iter(row))?;
            Ok(())
        },
    )?;
    app.flush()?;
    Ok(())
}

/// Loads resource files in one statement of DuckDB's NDJSON reader.
fn insert_object_files(
    conn: &Connection,
    id: &str,
    files: &[ResourceFile],
    max_object_bytes: usize,
) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut paths = Vec::with_capacity(files.len());
    let mut kinds = Vec::with_capacity(files.len());
    for ResourceFile {
        file,
        kind: [group, version, resource],
        ..
    } in files
    {
        let path = quote(&file.to_string_lossy());
        kinds.push(format!(
            "{path}: {{'g': {}, 'v': {}, 'r': {}}}",
            quote(group),
            quote(version),
            quote(resource)
        ));
        paths.push(path);
    }
    conn.execute_batch(&insert_into_objects(&format!(
        "SELECT {} AS bundle_id, f.g AS g, f.v AS v, f.r AS r, json AS doc FROM (
            SELECT json, MAP {{{}}}[filename] AS f
            FROM read_ndjson_objects([{}], maximum_object_size = {}, filename = true))",
        quote(id),
        kinds.join(", "),
        paths.join(", "),
        max_object_bytes + 1
    )))?;
    Ok(())
}

/// The statement that turns documents into rows of `objects` (object_meta, object_owner and
/// object_row in `schema/sql/01_macros.sql`); `source` is a query of `bundle_id, g, v, r, doc`. Each
/// document is parsed once, as it is read, and stored once: loading raw documents and copying
/// them into `objects` afterwards held both copies at once, beyond the memory limit at
/// scale, and the copy spilled to disk.
fn insert_into_objects(source: &str) -> String {
    format!(
        "INSERT INTO objects BY NAME
         SELECT unnest(object_row(bundle_id, g, v, r, s, owner, doc))
         FROM (SELECT *, object_owner(s.metadata.ownerReferences) AS owner
               FROM (SELECT *, object_meta(doc) AS s FROM ({source})))"
    )
}

/// Where a log file's lines come from, as the raw_log_lines columns say it.
#[derive(Default)]
struct LogOrigin {
    source: &'static str,
    namespace: Option<String>,
    pod: Option<String>,
    container: Option<String>,
    previous: bool,
    node: Option<String>,
    service: Option<String>,
}

impl LogOrigin {
    fn container(log: layout::ContainerLogRef) -> LogOrigin {
        LogOrigin {
            source: "container",
            namespace: Some(log.namespace),
            pod: Some(log.pod),
            container: Some(log.container),
            previous: log.previous,
            ..LogOrigin::default()
        }
    }

    fn node(node: String, service: String) -> LogOrigin {
        LogOrigin {
            source: "node",
            node: Some(node),
            service: Some(service),
            ..LogOrigin::default()
        }
    }

    fn host(service: String) -> LogOrigin {
        LogOrigin {
            source: "host",
            service: Some(service),
            ..LogOrigin::default()
        }
    }
}

fn insert_bundle_row(conn: &Connection, b: &OpenBundle) -> Result<()> {
    let m = &b.manifest;
    let (kind, server_version, cluster_id, context, server, node_name, hostname) = match &m.source {
        Source::Cluster(c) => (
            "cluster",
            c.server_version.as_str(),
            c.cluster_id.as_str(),
            c.context.as_str(),
            c.server.as_str(),
            "",
            "",
        ),
        Source::Host(h) => (
            "host",
            "",
            "",
            "",
            "",
            h.node_name.as_str(),
            h.hostname.as_str(),
        ),
    };
    conn.execute(
        "INSERT INTO bundles VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            m.bundle_id,
            kind,
            m.label(),
            b.source.to_string_lossy(),
            m.producer,
            m.producer_version,
            m.format_version,
            m.started_at.naive_utc().to_string(),
            m.finished_at.naive_utc().to_string(),
            m.partial,
            server_version,
            cluster_id,
            context,
            server,
            node_name,
            hostname,
            m.redaction.enabled,
            serde_json::to_string(&m.redaction.counts)?,
            serde_json::to_string(&m.options)?,
            serde_json::to_string(&m.redaction.by_kind)?,
        ],
    )
    .with_context(|| format!("{}: duplicate bundle id {} (the same bundle given twice?)", b.source.display(), m.bundle_id))?;
    Ok(())
}

fn insert_manifest_tables(conn: &Connection, b: &OpenBundle, max_line_bytes: usize) -> Result<()> {
    let id = b.manifest.bundle_id.as_str();
    let mut gaps = conn.appender("gaps")?;
    let skipped = b.oversized.iter().map(|o| o.gap(max_line_bytes));
    for g in b.manifest.gaps.iter().cloned().chain(skipped) {
        gaps.append_row(params![
            id,
            g.what.as_str(),
            g.location,
            g.reason.as_str(),
            g.detail
        ])?;
    }
    gaps.flush()?;
    let mut entries = conn.appender("bundle_entries")?;
    for e in &b.manifest.entries {
        let kind = BundlePath::parse(&e.path).kind();
        entries.append_row(params![id, e.path, e.size as i64, e.truncated, kind])?;
    }
    entries.flush()?;
    Ok(())
}

fn insert_discovery(conn: &Connection, id: &str, path: &Path) -> Result<()> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let discovery: Discovery = serde_json::from_slice(&text)
        .with_context(|| format!("{}: malformed discovery", path.display()))?;
    let mut app = conn.appender("api_resources")?;
    for r in discovery.resources() {
        app.append_row(params![
            id,
            r.group,
            r.version,
            r.resource.name,
            r.resource.kind,
            r.resource.namespaced,
            r.resource.verbs.join(","),
            r.resource.short_names.join(","),
        ])?;
    }
    app.flush()?;
    Ok(())
}

/// How the lines of a bundle's logs are dated.
struct LogClock {
    /// Container log lines begin with the API's stamp (format 1.1 on).
    api_stamped: bool,
    /// The collection time, which settles the year of year-less stamps.
    reference: DateTime<Utc>,
}

impl LogClock {
    /// The time of `line` and the line without the API's stamp. A line without a stamp of its
    /// own (a continuation, a stack trace) takes the time of the line before it, `last`.
    fn date<'a>(
        &self,
        origin: &LogOrigin,
        line: &'a [u8],
        last: Option<DateTime<Utc>>,
    ) -> (Option<DateTime<Utc>>, &'a [u8]) {
        if self.api_stamped
            && origin.source == "container"
            && let Some((t, rest)) = logtime::split_api_stamp(line)
        {
            return (Some(t), rest);
        }
        let own = logtime::line_stamp(line, self.reference).map(logtime::Stamp::time);
        (own.or(last), line)
    }
}

fn append_log_lines(
    app: &mut duckdb::Appender<'_>,
    id: &str,
    origin: &LogOrigin,
    file: &Path,
    clock: &LogClock,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut last = None;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (ts, line) = clock.date(origin, line, last);
        last = ts;
        let line = String::from_utf8_lossy(line);
        app.append_row(params![
            id,
            origin.source,
            origin.namespace,
            origin.pod,
            origin.container,
            origin.previous,
            origin.node,
            origin.service,
            (i + 1) as i64,
            ts.map(|t| t.timestamp_micros()),
            line.as_ref()
        ])?;
    }
    Ok(())
}

fn insert_host_file(conn: &Connection, id: &str, host_path: &str, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let content = String::from_utf8_lossy(&bytes);
    let parsed = parse_config(host_path, &content).map(|v| v.to_string());
    conn.execute(
        "INSERT INTO raw_host_files VALUES (?, ?, ?, ?, ?)",
        params![id, host_path, bytes.len() as i64, content.as_ref(), parsed],
    )?;
    Ok(())
}

/// Parses YAML, JSON and TOML configuration files to JSON; `None` for anything else or when
/// the content does not parse (the text stays queryable).
pub fn parse_config(path: &str, content: &str) -> Option<Value> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "json" | "conflist" => serde_json::from_str(content).ok(),
        "conf" if content.trim_start().starts_with('{') => serde_json::from_str(content).ok(),
        "toml" => toml::from_str::<toml::Value>(content)
            .ok()
            .and_then(|v| serde_json::to_value(v).ok()),
        "yaml" | "yml" => {
            let docs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(content)
                .filter_map(|d| serde::Deserialize::deserialize(d).ok())
                .filter(|v: &Value| !v.is_null())
                .collect();
            match docs.len() {
                0 => None,
                1 => docs.into_iter().next(),
                _ => Some(Value::Array(docs)),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database holding `docs` (group, resource, document) as loaded objects, and the
    /// tables derived from them. The directory is the database's spill directory.
    fn derived_from(docs: &[(&str, &str, &str)]) -> (tempfile::TempDir, Connection) {
        let spill = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open(spill.path(), Some(256), 0).expect("open");
        let rows: Vec<String> = docs
            .iter()
            .map(|(group, resource, doc)| {
                format!("({}, {}, {})", quote(group), quote(resource), quote(doc))
            })
            .collect();
        conn.execute_batch(&insert_into_objects(&format!(
            "SELECT 'b' AS bundle_id, g, 'v1' AS v, r, CAST(doc AS JSON) AS doc
             FROM (VALUES {}) t(g, r, doc)",
            rows.join(", ")
        )))
        .expect("load");
        crate::db::derive(&conn).expect("derive");
        (spill, conn)
    }

    /// Each row of `sql` (one column) as text: the tests select `CAST(row(...) AS VARCHAR)`,
    /// which DuckDB renders as `(a, b, NULL)`.
    fn rows(conn: &Connection, sql: &str) -> Vec<String> {
        let mut statement = conn.prepare(sql).expect(sql);
        statement
            .query_map([], |r| r.get(0))
            .expect(sql)
            .collect::<Result<_, _>>()
            .expect(sql)
    }

    /// Pods whose fields have types the API never serves (a stranger's bundle) still give one
    /// row each, and their containers one row each, read as `from_json` reads them: a number
    /// where a string belongs is its text, `"yes"` a true boolean, the first of duplicate keys
    /// wins, a string where a list belongs is no list, and a status is found by its name, not
    /// its position. Whatever builds `pods` and `containers` must keep this.
    #[test]
    fn pods_of_unexpected_shapes_become_the_same_rows() {
        let (_spill, conn) = derived_from(&[
            (
                "",
                "pods",
                r#"{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns","name":"odd","uid":"u1"},"spec":{"nodeName":5,"hostNetwork":"yes","containers":[{"name":"app","image":"nginx","resources":{"limits":{"memory":"128Mi"}}},{"name":"side","image":{"x":1}}],"initContainers":"none"},"status":{"phase":"Running","phase":"Failed","containerStatuses":[{"name":"side","restartCount":"3","ready":true},{"name":"app","restartCount":2,"state":{"running":{"startedAt":"2026-01-15T12:00:00Z"}}}]}}"#,
            ),
            (
                "",
                "pods",
                r#"{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns","name":"flat"},"spec":"none","status":[1,2]}"#,
            ),
        ]);
        assert_eq!(
            rows(
                &conn,
                "SELECT CAST(row(name, node, host_network, phase) AS VARCHAR) FROM pods
                 ORDER BY name"
            ),
            ["(flat, NULL, false, NULL)", "(odd, 5, true, Running)"]
        );
        assert_eq!(
            rows(
                &conn,
                "SELECT CAST(row(pod, container_type, position, name, image, memory_limit_bytes,
                                 restart_count, state, ready) AS VARCHAR)
                 FROM containers ORDER BY pod, container_type, position"
            ),
            [
                "(odd, regular, 1, app, nginx, 134217728.0, 2, running, false)",
                r#"(odd, regular, 2, side, '{"x":1}', NULL, 3, NULL, true)"#,
            ]
        );
    }

    /// The same for workloads: a CronJob's pod template is its job template's, however
    /// another `template` key reads; numbers served as strings or floats are read as numbers;
    /// a template that is not an object gives no containers.
    #[test]
    fn workloads_of_unexpected_shapes_become_the_same_rows() {
        let (_spill, conn) = derived_from(&[
            (
                "apps",
                "deployments",
                r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"ns","name":"web"},"spec":{"replicas":"3","template":{"spec":{"hostNetwork":1,"containers":[{"name":"c","image":"registry.example.com:5000/app:1","resources":{"limits":{"memory":"1Gi"}}}]}}},"status":{"readyReplicas":2.0}}"#,
            ),
            (
                "batch",
                "cronjobs",
                r#"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"namespace":"ns","name":"nightly"},"spec":{"schedule":"0 1 * * *","jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"job","image":"busybox"}]}}}},"template":{"spec":{"containers":[{"name":"wrong","image":"x"}]}}}}"#,
            ),
            (
                "apps",
                "daemonsets",
                r#"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"namespace":"ns","name":"agent"},"spec":{"template":"none"},"status":{"desiredNumberScheduled":5,"numberReady":"4"}}"#,
            ),
        ]);
        assert_eq!(
            rows(
                &conn,
                "SELECT CAST(row(kind, name, desired, ready, host_network, schedule) AS VARCHAR)
                 FROM workloads ORDER BY name"
            ),
            [
                "(DaemonSet, agent, 5, 4, false, NULL)",
                "(CronJob, nightly, NULL, NULL, false, 0 1 * * *)",
                "(Deployment, web, 3, 2, true, NULL)",
            ]
        );
        assert_eq!(
            rows(
                &conn,
                "SELECT CAST(row(workload, name, image, registry, memory_limit) AS VARCHAR)
                 FROM workload_containers ORDER BY workload, name"
            ),
            [
                "(nightly, job, busybox, docker.io, NULL)",
                "(web, c, 'registry.example.com:5000/app:1', 'registry.example.com:5000', 1Gi)",
            ]
        );
    }

    #[test]
    fn parses_config_formats() {
        let v = parse_config(
            "/etc/containerd/config.toml",
            "version = 2\n[plugins.x]\nSystemdCgroup = true\n",
        )
        .expect("toml");
        assert_eq!(v["version"], 2);
        let v = parse_config(
            "/var/lib/kubelet/config.yaml",
            "kind: KubeletConfiguration\ncgroupDriver: systemd\n",
        )
        .expect("yaml");
        assert_eq!(v["cgroupDriver"], "systemd");
        assert!(parse_config("/etc/resolv.conf", "nameserver 1.1.1.1").is_none());
        let v = parse_config(
            "/etc/cni/net.d/10-flannel.conflist",
            r#"{"plugins":[{"type":"flannel"}]}"#,
        )
        .expect("json");
        assert_eq!(v["plugins"][0]["type"], "flannel");
    }
}
