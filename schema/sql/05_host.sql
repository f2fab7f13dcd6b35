-- Host data from node bundles. A node bundle is tied to the Node object of the same name
-- (case-insensitive), falling back to the node's Hostname address.
CREATE TABLE host_nodes AS
SELECT b.bundle_id,
    coalesce(
        (SELECT any_value(n.name) FROM nodes n WHERE n.name = b.node_name),
        (SELECT any_value(n.name) FROM nodes n
            WHERE lower(n.name) = lower(coalesce(nullif(b.node_name, ''), b.hostname))),
        (SELECT any_value(n.name) FROM nodes n WHERE lower(n.hostname) = lower(b.hostname)),
        nullif(b.node_name, ''),
        b.hostname) AS node,
    b.hostname,
    (SELECT any_value(n.bundle_id) FROM nodes n
        WHERE lower(n.name) = lower(coalesce(nullif(b.node_name, ''), b.hostname))
           OR lower(n.hostname) = lower(b.hostname)) AS cluster_bundle_id
FROM bundles b WHERE b.kind = 'host';

CREATE TABLE host_facts AS
SELECT f.bundle_id, h.node,
    coalesce(nullif(f.doc->>'$.hostname', ''), h.hostname) AS hostname,
    (f.doc->>'$.kernel.release') AS kernel_release,
    (f.doc->>'$.os_release.ID') AS os_id,
    (f.doc->>'$.os_release.VERSION_ID') AS os_version_id,
    (f.doc->>'$.os_release.PRETTY_NAME') AS os_pretty_name,
    (f.doc->>'$.cmdline') AS cmdline,
    -- 0 is how format 1.0 collectors wrote a value they could not read: unknown, not zero.
    nullif(TRY_CAST((f.doc->>'$.memory_bytes') AS BIGINT), 0) AS memory_bytes,
    nullif(TRY_CAST((f.doc->>'$.cpus') AS INTEGER), 0) AS cpus,
    TRY_CAST((f.doc->>'$.cgroup.version') AS INTEGER) AS cgroup_version,
    from_json(f.doc->'$.cgroup.controllers', '["VARCHAR"]') AS cgroup_controllers,
    f.doc
FROM raw_host_facts f JOIN host_nodes h USING (bundle_id);

CREATE TABLE host_sysctls AS
SELECT bundle_id, node, e.key AS key, e.value AS value
FROM (SELECT bundle_id, node, unnest(map_entries(from_json(doc->'$.sysctls', '"MAP(VARCHAR, VARCHAR)"'))) AS e FROM host_facts);

CREATE TABLE host_modules AS
SELECT bundle_id, node, unnest(from_json(doc->'$.modules', '["VARCHAR"]')) AS module FROM host_facts;

CREATE TABLE host_mounts AS
SELECT bundle_id, node, m.device AS device, m.mountpoint AS mountpoint, m.fstype AS fstype, m.options AS options
FROM (SELECT bundle_id, node, unnest(from_json(doc->'$.mounts', '[{"device":"VARCHAR","mountpoint":"VARCHAR","fstype":"VARCHAR","options":"VARCHAR"}]')) AS m FROM host_facts);

CREATE TABLE host_swaps AS
SELECT bundle_id, node, s.filename AS filename, s."type" AS "type", s.size_kib AS size_kib, s.used_kib AS used_kib
FROM (SELECT bundle_id, node, unnest(from_json(doc->'$.swaps', '[{"filename":"VARCHAR","type":"VARCHAR","size_kib":"BIGINT","used_kib":"BIGINT"}]')) AS s FROM host_facts);

CREATE TABLE host_binaries AS
SELECT bundle_id, node, e.key AS name, e.value AS path, e.value IS NOT NULL AS present
FROM (SELECT bundle_id, node, unnest(map_entries(from_json(doc->'$.binaries', '"MAP(VARCHAR, VARCHAR)"'))) AS e FROM host_facts);

CREATE TABLE host_runtime_sockets AS
SELECT bundle_id, node, e.key AS path, e.value AS present
FROM (SELECT bundle_id, node, unnest(map_entries(from_json(doc->'$.runtime_sockets', '"MAP(VARCHAR, BOOLEAN)"'))) AS e FROM host_facts);

CREATE TABLE host_cni_bin AS
SELECT bundle_id, node, unnest(from_json(doc->'$.cni_bin', '["VARCHAR"]')) AS name FROM host_facts;

CREATE TABLE host_filesystems AS
SELECT bundle_id, node, f.path AS path, f.fstype AS fstype, f.size_bytes AS size_bytes, f.used_bytes AS used_bytes,
    CASE WHEN f.size_bytes > 0 THEN 100.0 * f.used_bytes / f.size_bytes END AS used_pct,
    f.xfs_ftype AS xfs_ftype
FROM (SELECT bundle_id, node, unnest(from_json(doc->'$.filesystems', '[{"path":"VARCHAR","fstype":"VARCHAR","size_bytes":"BIGINT","used_bytes":"BIGINT","xfs_ftype":"INTEGER"}]')) AS f FROM host_facts);

CREATE TABLE host_leftover_dirs AS
SELECT bundle_id, node, d.path AS path, d.entries AS entries
FROM (SELECT bundle_id, node, unnest(from_json(doc->'$.leftover_dirs', '[{"path":"VARCHAR","entries":"BIGINT"}]')) AS d FROM host_facts);

-- Collected host files (redacted at collection). parsed: YAML/JSON/TOML content as JSON.
CREATE TABLE host_files AS
SELECT f.bundle_id, h.node, f.path, f.size, f.content, f.parsed
FROM raw_host_files f JOIN host_nodes h USING (bundle_id);

-- One row per line of every host file.
CREATE VIEW host_file_lines AS
SELECT bundle_id, node, path, generate_subscripts(lines, 1) AS line_no, unnest(lines) AS line
FROM (SELECT bundle_id, node, path, string_split(content, chr(10)) AS lines FROM host_files);

CREATE TABLE certificates AS
WITH c AS (
    SELECT r.bundle_id, h.node, from_json(r.doc, '{"path":"VARCHAR","index":"INTEGER","subject":"VARCHAR","issuer":"VARCHAR","sans":["VARCHAR"],"not_before":"VARCHAR","not_after":"VARCHAR","serial":"VARCHAR","is_ca":"BOOLEAN","key_algorithm":"VARCHAR","key_bits":"INTEGER","fingerprint_sha256":"VARCHAR"}') AS c
    FROM raw_host_records r JOIN host_nodes h USING (bundle_id)
    WHERE r.record = 'certificate'
)
SELECT c.bundle_id, c.node, c.c.path AS path, c.c.index AS idx, c.c.subject AS subject, c.c.issuer AS issuer,
    coalesce(c.c.sans, []) AS sans, k8s_ts(c.c.not_before) AS not_before, k8s_ts(c.c.not_after) AS not_after,
    c.c.serial AS serial, coalesce(c.c.is_ca, false) AS is_ca, c.c.key_algorithm AS key_algorithm,
    c.c.key_bits AS key_bits, lower(c.c.fingerprint_sha256) AS fingerprint_sha256,
    days_between(b.collected_at, k8s_ts(c.c.not_after)) AS days_left
FROM c JOIN bundles b ON b.bundle_id = c.bundle_id;

CREATE TABLE kubeconfigs AS
SELECT r.bundle_id, h.node, (r.doc->>'$.path') AS path, (r.doc->>'$.current_context') AS current_context, r.doc
FROM raw_host_records r JOIN host_nodes h USING (bundle_id)
WHERE r.record = 'kubeconfig';

CREATE TABLE kubeconfig_clusters AS
SELECT bundle_id, node, path, c.name AS name, c.server AS server, coalesce(c.ca_embedded, false) AS ca_embedded,
    c.ca_path AS ca_path, lower(c.ca_fingerprint_sha256) AS ca_fingerprint_sha256,
    coalesce(c.insecure_skip_tls_verify, false) AS insecure_skip_tls_verify
FROM (SELECT bundle_id, node, path, unnest(from_json(doc->'$.clusters', '[{"name":"VARCHAR","server":"VARCHAR","ca_embedded":"BOOLEAN","ca_path":"VARCHAR","ca_fingerprint_sha256":"VARCHAR","insecure_skip_tls_verify":"BOOLEAN"}]')) AS c FROM kubeconfigs);

CREATE TABLE kubeconfig_users AS
SELECT bundle_id, node, path, u.name AS name, u.auth AS auth, u.client_certificate_path AS client_certificate_path,
    k8s_ts(nullif(u.client_certificate_not_after, '')) AS client_certificate_not_after
FROM (SELECT bundle_id, node, path, unnest(from_json(doc->'$.users', '[{"name":"VARCHAR","auth":"VARCHAR","client_certificate_path":"VARCHAR","client_certificate_not_after":"VARCHAR"}]')) AS u FROM kubeconfigs);

CREATE TABLE key_files AS
SELECT r.bundle_id, h.node, (r.doc->>'$.path') AS path, (r.doc->>'$.mode') AS mode,
    TRY_CAST((r.doc->>'$.uid') AS BIGINT) AS uid, TRY_CAST((r.doc->>'$.gid') AS BIGINT) AS gid
FROM raw_host_records r JOIN host_nodes h USING (bundle_id)
WHERE r.record = 'key-file';

-- Kubelet configuration per node, from every place it can be read: the API (configz, source
-- 'configz') and the node's /var/lib/kubelet/config.yaml (source 'file').
CREATE TABLE kubelet_configs AS
SELECT bundle_id, node, 'configz' AS source, coalesce(doc->'$.kubeletconfig', doc) AS config
FROM raw_kubelet_configz
UNION ALL
SELECT bundle_id, node, 'file', parsed
FROM host_files WHERE path = '/var/lib/kubelet/config.yaml' AND parsed IS NOT NULL;
