-- Nodes that went NotReady most often, from the timeline: the Node's NodeNotReady events
-- (counted with their repeats; not the copies on its pods) and Ready conditions found not
-- True at collection, per cluster and node, with when it was first and last seen.
-- Portable: the same text runs in DuckDB (ktriage fleet), Spark SQL and Trino.
SELECT cluster_id,
    node,
    sum(CASE WHEN kind = 'event' THEN coalesce(count, 1) ELSE 1 END) AS not_ready,
    sum(CASE WHEN kind = 'node-condition' THEN 1 ELSE 0 END) AS not_ready_at_collection,
    min(ts) AS first_seen,
    max(coalesce(end_ts, ts)) AS last_seen
FROM timeline
WHERE node IS NOT NULL
    AND resource LIKE 'node/%'
    AND ((kind = 'event' AND summary LIKE 'NodeNotReady:%')
        OR (kind = 'node-condition' AND summary LIKE 'Ready=%' AND summary NOT LIKE 'Ready=True%'))
GROUP BY cluster_id, node
ORDER BY not_ready DESC, cluster_id, node
LIMIT 20
