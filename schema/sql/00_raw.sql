-- Raw tables, filled by the analyzer's loader straight from the bundle files.
-- Every table carries bundle_id: several bundles (a cluster and its nodes, or several
-- clusters) load into one database as one case.

CREATE TABLE bundles (
    bundle_id VARCHAR PRIMARY KEY,
    kind VARCHAR,              -- 'cluster' or 'host'
    label VARCHAR,             -- context, cluster id or node name
    source_path VARCHAR,
    producer VARCHAR,
    producer_version VARCHAR,
    format_version VARCHAR,
    started_at TIMESTAMP,
    collected_at TIMESTAMP,    -- the reference time: rules compare against this, never now()
    partial BOOLEAN,
    server_version VARCHAR,
    cluster_id VARCHAR,
    context VARCHAR,
    server VARCHAR,
    node_name VARCHAR,
    hostname VARCHAR,
    redaction_enabled BOOLEAN,
    redaction JSON,
    options JSON,
    -- redactor name -> resource kind -> values replaced ({} before the manifest had it)
    redaction_by_kind JSON
);

-- Every API object: one row per object line of cluster/<group>/<version>/<resource>.ndjson,
-- in file order, its metadata parsed once as it is loaded (object_row in 01_macros.sql). Rules
-- that need a kind without a dedicated table filter this by (api_group, resource) or kind.
CREATE TABLE objects (
    bundle_id VARCHAR,
    api_group VARCHAR,
    version VARCHAR,
    resource VARCHAR,
    api_version VARCHAR,
    kind VARCHAR,
    namespace VARCHAR,
    name VARCHAR,
    uid VARCHAR,
    labels JSON,
    annotations JSON,
    created_at TIMESTAMP,
    deleted_at TIMESTAMP,
    finalizers VARCHAR[],
    owner_kind VARCHAR,          -- of the controller owner reference, else the first
    owner_name VARCHAR,
    owner_uid VARCHAR,
    doc_bytes BIGINT,
    doc JSON
);

-- Object lines the loader reads itself (a file with a line over the limit), on their way to
-- `objects`: empty once loading is done.
CREATE TABLE raw_objects (
    bundle_id VARCHAR,
    api_group VARCHAR,
    version VARCHAR,
    resource VARCHAR,
    doc JSON
);

-- Recorded discovery.
CREATE TABLE api_resources (
    bundle_id VARCHAR,
    api_group VARCHAR,
    version VARCHAR,
    resource VARCHAR,
    kind VARCHAR,
    namespaced BOOLEAN,
    verbs VARCHAR,            -- comma-separated
    short_names VARCHAR       -- comma-separated
);

-- What could not be collected (manifest gaps).
CREATE TABLE gaps (
    bundle_id VARCHAR,
    what VARCHAR,
    location VARCHAR,
    reason VARCHAR,
    detail VARCHAR
);

-- Every file in the bundle as the manifest lists it.
CREATE TABLE bundle_entries (
    bundle_id VARCHAR,
    path VARCHAR,
    size BIGINT,
    truncated VARCHAR,
    kind VARCHAR              -- layout::BundlePath::kind: resource, log, previous-log, configz, ..., unknown
);

-- Log lines, read in Rust (lossy UTF-8). source: 'container' (logs/), 'node' (nodes/<n>/logs,
-- fetched through the API) or 'host' (host/logs in a node bundle).
CREATE TABLE raw_log_lines (
    bundle_id VARCHAR,
    source VARCHAR,
    namespace VARCHAR,
    pod VARCHAR,
    container VARCHAR,
    previous BOOLEAN,
    node VARCHAR,
    service VARCHAR,
    line_no BIGINT,
    ts_us BIGINT,              -- the line's time, microseconds since the epoch (UTC); NULL when unknown
    line VARCHAR               -- without the API's time stamp
);

-- host/facts.json of node bundles.
CREATE TABLE raw_host_facts (bundle_id VARCHAR, doc JSON);

-- host/certificates.ndjson, host/kubeconfigs.ndjson, host/key-files.ndjson.
CREATE TABLE raw_host_records (bundle_id VARCHAR, record VARCHAR, doc JSON);

-- host/files/**: content as text (lossy) and, for YAML/JSON/TOML files, parsed as JSON.
CREATE TABLE raw_host_files (
    bundle_id VARCHAR,
    path VARCHAR,          -- the absolute path on the host
    size BIGINT,
    content VARCHAR,
    parsed JSON
);

-- source/findings.ndjson of imported bundles: the source tool's own findings (troubleshoot's
-- analyzers), as that tool stated them: name, severity, title, message.
CREATE TABLE source_findings (bundle_id VARCHAR, doc JSON);

-- nodes/<node>/configz.json of cluster bundles.
CREATE TABLE raw_kubelet_configz (bundle_id VARCHAR, node VARCHAR, doc JSON);
