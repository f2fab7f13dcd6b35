-- Every log line of the case: container logs (with the pod's node and owner), node service
-- logs fetched through the API, and host service logs from node bundles.
-- `ts` is the line's time (the API's stamp for container logs of format 1.1, the line's own
-- stamp otherwise, or the time of the line before it); `age` is how long before the
-- collection it was written. Both are NULL when nothing tells the time.
CREATE TABLE log_lines AS
-- The joins are on equalities only, the source tested in the SELECT: a constant condition in
-- a LEFT JOIN's ON makes DuckDB 1.5 fall back to a nested-loop join (minutes at 150,000 pods).
SELECT l.bundle_id, l.source, l.namespace, l.pod, l.container, l.previous,
    coalesce(l.node,
             CASE WHEN l.source = 'container' THEN p.node END,
             CASE WHEN l.source = 'host' THEN h.node END) AS node,
    l.service, l.line_no, l.line,
    CASE WHEN l.source = 'container' THEN p.owner_kind END AS owner_kind,
    CASE WHEN l.source = 'container' THEN p.owner_name END AS owner_name,
    make_timestamp(l.ts_us)::TIMESTAMPTZ AS ts,
    b.collected_at - make_timestamp(l.ts_us) AS age
FROM raw_log_lines l
JOIN bundles b ON b.bundle_id = l.bundle_id
LEFT JOIN pods p ON p.bundle_id = l.bundle_id AND p.namespace = l.namespace AND p.name = l.pod
LEFT JOIN host_nodes h ON h.bundle_id = l.bundle_id;

-- The case's reference time per cluster: rules compare ages against this, never now().
CREATE VIEW collection AS
SELECT bundle_id, collected_at FROM bundles;
