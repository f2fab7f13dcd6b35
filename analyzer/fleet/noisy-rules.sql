-- Top noisy rules: how often each rule fired across the fleet, against how often what it
-- found was marked benign (a rule of the FAQ catalog class `benign`), downgraded to `info`
-- (old or rare evidence) or shown as a symptom of another finding.
-- Portable: the same text runs in DuckDB (ktriage fleet), Spark SQL and Trino.
SELECT rule_id,
    count(*) AS fired,
    count(DISTINCT cluster_id) AS clusters,
    sum(CASE WHEN benign THEN 1 ELSE 0 END) AS benign,
    sum(CASE WHEN severity = 'info' THEN 1 ELSE 0 END) AS info,
    sum(CASE WHEN symptom_of IS NOT NULL THEN 1 ELSE 0 END) AS symptoms
FROM findings
GROUP BY rule_id
ORDER BY fired DESC, rule_id
LIMIT 20
