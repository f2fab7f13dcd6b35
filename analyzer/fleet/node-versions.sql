-- Nodes by OS image, kernel, container runtime and kubelet version: how many nodes in how
-- many clusters run each combination.
-- Portable: the same text runs in DuckDB (ktriage fleet), Spark SQL and Trino.
SELECT os_image,
    kernel_version,
    container_runtime_version,
    kubelet_version,
    count(*) AS nodes,
    count(DISTINCT cluster_id) AS clusters
FROM nodes
GROUP BY os_image, kernel_version, container_runtime_version, kubelet_version
ORDER BY nodes DESC, os_image NULLS LAST, kernel_version NULLS LAST,
    container_runtime_version NULLS LAST, kubelet_version NULLS LAST
