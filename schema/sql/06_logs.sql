-- Every log line of the case: container logs (with the pod's node and owner), node service
-- logs fetched through the API, and host service logs from node bundles.
CREATE TABLE log_lines AS
SELECT l.bundle_id, l.source, l.namespace, l.pod, l.container, l.previous,
    coalesce(l.node, p.node, h.node) AS node,
    l.service, l.line_no, l.line,
    p.owner_kind, p.owner_name
FROM raw_log_lines l
LEFT JOIN pods p ON l.source = 'container' AND p.bundle_id = l.bundle_id AND p.namespace = l.namespace AND p.name = l.pod
LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id;

-- The case's reference time per cluster: rules compare ages against this, never now().
CREATE VIEW collection AS
SELECT bundle_id, collected_at FROM bundles;
