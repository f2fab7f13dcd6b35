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
[message]
en = """\
control-plane node {{ name }} has \
{% if cpus is not none %}{{ cpus }} CPU{% else %}an unknown number of CPUs{% endif %} and \
{% if mem_gib is not none %}{{ mem_gib }} GiB{% else %}unknown memory{% endif %}; \
a cluster of {{ nodes }} nodes should have at least {{ rec_cpu }} CPU and {{ mem_gb }} GB (\
{% if cpu_short %}CPU short{% endif %}{% if cpu_short and mem_short %} and {% endif %}{% if mem_short %}memory short{% endif %})"""
zh = """\
控制面节点 {{ name }} 有 \
{% if cpus is not none %}{{ cpus }} 核 CPU{% else %}未知数量的 CPU{% endif %}、\
{% if mem_gib is not none %}{{ mem_gib }} GiB 内存{% else %}未知大小的内存{% endif %}；\
{{ nodes }} 个节点的集群至少需要 {{ rec_cpu }} 核 CPU、{{ mem_gb }} GB 内存（\
{% if cpu_short %}CPU 不足{% endif %}{% if cpu_short and mem_short %}，{% endif %}{% if mem_short %}内存不足{% endif %}）"""
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
    -- A size that could not be read (0 or missing in the node facts or the Node's capacity)
    -- is unknown, never a measured zero: each dimension is judged only where it is known.
    SELECT n.bundle_id, n.name,
        coalesce(nullif(h.cpus, 0), nullif(n.capacity_cpu, 0)) AS cpu,
        coalesce(nullif(h.memory_bytes, 0), nullif(n.capacity_memory_bytes, 0)) AS mem,
        CASE WHEN nullif(h.cpus, 0) IS NOT NULL THEN 'host facts' WHEN nullif(n.capacity_cpu, 0) IS NOT NULL THEN 'node capacity' END AS cpu_source,
        CASE WHEN nullif(h.memory_bytes, 0) IS NOT NULL THEN 'host facts' WHEN nullif(n.capacity_memory_bytes, 0) IS NOT NULL THEN 'node capacity' END AS mem_source
    FROM nodes n
    LEFT JOIN host_nodes hn ON hn.cluster_bundle_id = n.bundle_id AND hn.node = n.name
    LEFT JOIN host_facts h ON h.bundle_id = hn.bundle_id
    WHERE list_contains(n.roles, 'control-plane') OR list_contains(n.roles, 'master')
),
judged AS (
    SELECT c.*, r.nodes, r.cpu AS rec_cpu, r.mem_gb, r.tier,
        coalesce(c.cpu < r.cpu, false) AS cpu_short,
        coalesce(c.mem < r.mem_gb * 1e9 * ${mem_tolerance}, false) AS mem_short,
        TRY_CAST(round(c.cpu) AS BIGINT) AS cpus,
        -- As text: DuckDB's rendering of the rounded number (8.0, 7.8).
        CAST(round(c.mem / 1073741824.0, 1) AS VARCHAR) AS mem_gib
    FROM cp c JOIN rec r USING (bundle_id)
)
SELECT 'node/' || name AS resource, name AS node, name, bundle_id,
    cpus, mem_gib, nodes, rec_cpu, mem_gb, cpu_short, mem_short,
    ['cluster nodes: ' || nodes || ' (tier ' || tier || ')', 'recommended: ' || rec_cpu || ' CPU, ' || mem_gb || ' GB',
     'node: ' || coalesce(CAST(TRY_CAST(round(cpu) AS BIGINT) AS VARCHAR) || ' CPU (' || cpu_source || ')', 'CPUs unknown') || ', '
        || coalesce(CAST(TRY_CAST(mem AS BIGINT) AS VARCHAR) || ' bytes (' || mem_source || ')', 'memory unknown')] AS evidence
FROM judged
WHERE cpu_short OR mem_short
ORDER BY name
