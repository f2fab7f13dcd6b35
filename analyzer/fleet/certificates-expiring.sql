-- Clusters with certificates expiring within 30 days (or already expired): how many, on how
-- many nodes, and the soonest. Days count from each bundle's collection time, not from today.
-- Portable: the same text runs in DuckDB (ktriage fleet), Spark SQL and Trino.
SELECT cluster_id,
    count(*) AS certificates,
    count(DISTINCT node) AS nodes,
    CAST(floor(min(days_left)) AS BIGINT) AS soonest_days_left
FROM certificates
WHERE days_left <= 30
GROUP BY cluster_id
ORDER BY soonest_days_left, cluster_id
