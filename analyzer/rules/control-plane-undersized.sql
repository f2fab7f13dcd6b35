/* ---
id = "control-plane-undersized"
severity = "medium"
faq = ["WNR-11"]
category = "control-plane"
patterns = []
[title]
en = "Control-plane nodes smaller than recommended for the cluster's size"
zh = "控制面节点规格低于集群规模的推荐值"
[remediation]
en = """
The API server, etcd, scheduler and controller-manager need more CPU and memory as the cluster
grows. Recommended master sizes (upstream "Building large clusters", GCE machine types):

| Nodes   | GCE type       | Spec          |
| ------- | -------------- | ------------- |
| 1-5     | n1-standard-1  | 1 CPU, 4 GB   |
| 6-10    | n1-standard-2  | 2 CPU, 8 GB   |
| 11-100  | n1-standard-4  | 4 CPU, 16 GB  |
| 101-250 | n1-standard-8  | 8 CPU, 32 GB  |
| 251-500 | n1-standard-16 | 16 CPU, 64 GB |
| 500+    | n1-standard-32 | 32 CPU, 128 GB |

Resize the control-plane machines (one at a time in an HA control plane), or move workloads off
them (`node-role.kubernetes.io/control-plane:NoSchedule`) so the components get the resources.
```
kubectl get nodes -l node-role.kubernetes.io/control-plane -o custom-columns=NAME:.metadata.name,CPU:.status.capacity.cpu,MEM:.status.capacity.memory
kubectl top nodes
```
"""
zh = """
随着集群规模增长，API Server、etcd、调度器和控制器管理器需要更多 CPU 和内存。集群 Master 性能推荐
（上游 "Building large clusters"，GCE 机型）：

| 节点数  | GCE 机型       | 规格        |
| ------- | -------------- | ----------- |
| 1-5     | n1-standard-1  | 1 核 4G     |
| 6-10    | n1-standard-2  | 2 核 8G     |
| 11-100  | n1-standard-4  | 4 核 16G    |
| 101-250 | n1-standard-8  | 8 核 32G    |
| 251-500 | n1-standard-16 | 16 核 64G   |
| 500+    | n1-standard-32 | 32 核 128G  |

调整控制面机器规格（高可用控制面逐台进行），或将业务负载移出控制面节点
（`node-role.kubernetes.io/control-plane:NoSchedule`），保证组件资源充足。
```
kubectl get nodes -l node-role.kubernetes.io/control-plane -o custom-columns=NAME:.metadata.name,CPU:.status.capacity.cpu,MEM:.status.capacity.memory
kubectl top nodes
```
"""
[thresholds]
tier1_max_nodes = 5
tier1_cpu = 1
tier1_mem_gb = 4
tier2_max_nodes = 10
tier2_cpu = 2
tier2_mem_gb = 8
tier3_max_nodes = 100
tier3_cpu = 4
tier3_mem_gb = 16
tier4_max_nodes = 250
tier4_cpu = 8
tier4_mem_gb = 32
tier5_max_nodes = 500
tier5_cpu = 16
tier5_mem_gb = 64
tier6_cpu = 32
tier6_mem_gb = 128
# Share of the recommended memory a machine may report and still pass (MemTotal is below the RAM size).
mem_tolerance = 0.85
--- */
WITH sizes AS (
    SELECT bundle_id, count(*) AS nodes FROM nodes GROUP BY bundle_id
),
rec AS (
    SELECT bundle_id, nodes,
        CASE WHEN nodes <= ${tier1_max_nodes} THEN ${tier1_cpu} WHEN nodes <= ${tier2_max_nodes} THEN ${tier2_cpu}
             WHEN nodes <= ${tier3_max_nodes} THEN ${tier3_cpu} WHEN nodes <= ${tier4_max_nodes} THEN ${tier4_cpu}
             WHEN nodes <= ${tier5_max_nodes} THEN ${tier5_cpu} ELSE ${tier6_cpu} END AS cpu,
        CASE WHEN nodes <= ${tier1_max_nodes} THEN ${tier1_mem_gb} WHEN nodes <= ${tier2_max_nodes} THEN ${tier2_mem_gb}
             WHEN nodes <= ${tier3_max_nodes} THEN ${tier3_mem_gb} WHEN nodes <= ${tier4_max_nodes} THEN ${tier4_mem_gb}
             WHEN nodes <= ${tier5_max_nodes} THEN ${tier5_mem_gb} ELSE ${tier6_mem_gb} END AS mem_gb,
        CASE WHEN nodes <= ${tier1_max_nodes} THEN '1-' || ${tier1_max_nodes}
             WHEN nodes <= ${tier2_max_nodes} THEN (${tier1_max_nodes} + 1) || '-' || ${tier2_max_nodes}
             WHEN nodes <= ${tier3_max_nodes} THEN (${tier2_max_nodes} + 1) || '-' || ${tier3_max_nodes}
             WHEN nodes <= ${tier4_max_nodes} THEN (${tier3_max_nodes} + 1) || '-' || ${tier4_max_nodes}
             WHEN nodes <= ${tier5_max_nodes} THEN (${tier4_max_nodes} + 1) || '-' || ${tier5_max_nodes}
             ELSE ${tier5_max_nodes} || '+' END AS tier
    FROM sizes
),
cp AS (
    SELECT n.bundle_id, n.name,
        coalesce(h.cpus, n.capacity_cpu) AS cpu,
        coalesce(h.memory_bytes, n.capacity_memory_bytes) AS mem,
        CASE WHEN h.cpus IS NOT NULL THEN 'host facts' ELSE 'node capacity' END AS source
    FROM nodes n
    LEFT JOIN host_facts h ON h.node = n.name
    WHERE list_contains(n.roles, 'control-plane') OR list_contains(n.roles, 'master')
)
SELECT 'node/' || c.name AS resource, c.name AS node, c.name, c.bundle_id,
    'control-plane node ' || c.name || ' has ' || CAST(round(c.cpu) AS BIGINT) || ' CPU and '
        || CAST(round(c.mem / 1073741824.0, 1) AS VARCHAR) || ' GiB; a cluster of ' || r.nodes || ' nodes should have at least '
        || r.cpu || ' CPU and ' || r.mem_gb || ' GB (' || concat_ws(' and ',
            CASE WHEN c.cpu < r.cpu THEN 'CPU short' END,
            CASE WHEN c.mem < r.mem_gb * 1e9 * ${mem_tolerance} THEN 'memory short' END) || ')' AS message,
    '控制面节点 ' || c.name || ' 有 ' || CAST(round(c.cpu) AS BIGINT) || ' 核 CPU、'
        || CAST(round(c.mem / 1073741824.0, 1) AS VARCHAR) || ' GiB 内存；' || r.nodes || ' 个节点的集群至少需要 '
        || r.cpu || ' 核 CPU、' || r.mem_gb || ' GB 内存（' || concat_ws('，',
            CASE WHEN c.cpu < r.cpu THEN 'CPU 不足' END,
            CASE WHEN c.mem < r.mem_gb * 1e9 * ${mem_tolerance} THEN '内存不足' END) || '）' AS message_zh,
    ['cluster nodes: ' || r.nodes || ' (tier ' || r.tier || ')', 'recommended: ' || r.cpu || ' CPU, ' || r.mem_gb || ' GB',
     'node: ' || CAST(round(c.cpu) AS BIGINT) || ' CPU, ' || CAST(c.mem AS BIGINT) || ' bytes (' || c.source || ')'] AS evidence
FROM cp c JOIN rec r USING (bundle_id)
WHERE c.cpu < r.cpu OR c.mem < r.mem_gb * 1e9 * ${mem_tolerance}
ORDER BY c.name
