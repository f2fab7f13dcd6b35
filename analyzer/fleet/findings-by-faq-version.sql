-- Findings per FAQ id per Kubernetes minor version: which known problems hit which versions
-- (known-benign noise left out). A node bundle's findings count under its cluster's version.
-- Portable: the same text runs in DuckDB (ktriage fleet), Spark SQL and Trino.
WITH versions AS (
    SELECT cluster_id, max(kubernetes_minor) AS kubernetes_minor
    FROM bundles
    WHERE kind = 'cluster'
    GROUP BY cluster_id
)
SELECT f.faq_id,
    coalesce(v.kubernetes_minor, 'unknown') AS kubernetes_minor,
    count(*) AS findings,
    count(DISTINCT f.cluster_id) AS clusters
FROM finding_faqs f
LEFT JOIN versions v ON v.cluster_id = f.cluster_id
WHERE NOT f.benign
GROUP BY f.faq_id, coalesce(v.kubernetes_minor, 'unknown')
ORDER BY f.faq_id, kubernetes_minor
