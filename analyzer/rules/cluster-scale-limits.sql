/* ---
id = "cluster-scale-limits"
severity = "medium"
faq = ["WNR-10"]
category = "capacity"
patterns = []
[title]
en = "Cluster beyond the tested Kubernetes scale limits (5000 nodes, 150000 pods, 300000 containers, 110 pods per node)"
zh = "集群规模超出 Kubernetes 测试上限（5000 节点、150000 Pod、300000 容器、每节点 110 Pod）"
[remediation]
en = """
Kubernetes is tested up to (upstream "Building large clusters"): no more than **5000 nodes**,
**150000 pods** in total, **300000 containers** in total and **110 pods per node**. Beyond these
the control plane (etcd, API server, scheduler) and the kubelet degrade: slow lists and
watches, scheduling delays, PLEG/relist timeouts on crowded nodes. Split the workload over more
nodes (lower `maxPods`, add nodes) or over several clusters; size the control plane for the
cluster (see the master sizing table). A node whose `maxPods` was raised on purpose (a node
capacity of 250 pods) and that copes with more than 110 pods is reported as info; it is a
finding when the node shows the strain (NotReady, `PLEG is not healthy`, PID or memory pressure).
```
kubectl get nodes --no-headers | wc -l
kubectl get pods -A --no-headers | wc -l
kubectl get pods -A -o wide --no-headers | awk '{print $8}' | sort | uniq -c | sort -rn | head
```
"""
zh = """
Kubernetes 的测试上限（上游 "Building large clusters"）：不超过 **5000 个节点**、总计 **150000 个 Pod**、
总计 **300000 个容器**、每个节点 **110 个 Pod**。超过后控制面（etcd、API Server、调度器）和 kubelet 性能下降：
list/watch 变慢、调度延迟、节点上 PLEG relist 超时。将负载分散到更多节点（降低 `maxPods`、扩容节点）或拆分为多个集群，
并按集群规模配置控制面（参见集群 Master 性能推荐）。有意调大 `maxPods`（如节点 Pod 容量为 250）且运行正常的节点，
即使超过 110 个 Pod 也只报告为 info；当节点出现压力表现（NotReady、`PLEG is not healthy`、PID 或内存压力）时才报告为问题。
```
kubectl get nodes --no-headers | wc -l
kubectl get pods -A --no-headers | wc -l
kubectl get pods -A -o wide --no-headers | awk '{print $8}' | sort | uniq -c | sort -rn | head
```
"""
[message]
en = """\
{% if kind == 'total' %}the cluster has {{ n }} {{ what }}{% if n > lim %}, above{% else %}, close to{% endif %} \
the tested limit of {{ lim }}\
{% else %}node {{ node }} runs {{ n }} pods, above the tested limit of {{ max_pods_per_node }} pods per node\
  {% if cap is not none %} (its capacity allows {{ cap }}){% endif %}\
  {% if strain_kind == 'notready' %}; the node is NotReady{% if strain is not none %}: {{ strain }}{% endif %}\
  {% elif strain_kind is not none %}; the node shows the strain of a crowded node: {{ strain }}\
  {% elif cap is not none and cap > max_pods_per_node and n <= cap %}; within the capacity the node was given \
(maxPods raised on purpose) and the node is healthy{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'total' %}集群共有 {{ n }} 个\
  {% if what == 'nodes' %}节点{% elif what == 'pods' %} Pod{% elif what == 'containers' %}容器{% else %} {{ what }}{% endif %}\
  {% if n > lim %}，超过{% else %}，接近{% endif %}测试上限 {{ lim }}\
{% else %}节点 {{ node }} 运行了 {{ n }} 个 Pod，超过每节点 {{ max_pods_per_node }} 个 Pod 的测试上限\
  {% if cap is not none %}（其容量允许 {{ cap }} 个）{% endif %}\
  {% if strain_kind == 'notready' %}；该节点处于 NotReady{% if strain is not none %}：{{ strain }}{% endif %}\
  {% elif strain_kind is not none %}；该节点已出现 Pod 过多的压力表现：{{ strain }}\
  {% elif cap is not none and cap > max_pods_per_node and n <= cap %}；仍在为该节点设置的容量\
（有意调大的 maxPods）之内，且节点状态正常{% endif %}\
{% endif %}"""
[thresholds]
max_nodes = 5000
max_pods = 150000
max_containers = 300000
max_pods_per_node = 110
# Report a total once it reaches this share of its limit.
warn_ratio = 0.8
--- */
WITH live_pods AS (
    SELECT bundle_id, namespace, name, node FROM pods
    WHERE coalesce(phase, '') NOT IN ('Succeeded', 'Failed') AND deleted_at IS NULL
),
-- Live pods per node (and without one), counted once for both the totals and the nodes.
node_counts AS MATERIALIZED (
    SELECT bundle_id, node, count(*) AS n FROM live_pods GROUP BY ALL
),
-- Every non-ephemeral container: at least as many as those of live pods.
ctr_all AS (
    SELECT c.bundle_id, count(*) AS n
    FROM containers c JOIN bundles b ON b.bundle_id = c.bundle_id AND b.kind = 'cluster'
    WHERE c.container_type <> 'ephemeral'
    GROUP BY c.bundle_id
),
-- Pods that no longer run, where all containers reach the warning (below it, those of live
-- pods cannot either)...
gone_pods AS MATERIALIZED (
    SELECT p.bundle_id, p.namespace, p.name FROM pods p
    JOIN ctr_all t ON t.bundle_id = p.bundle_id AND t.n >= ${max_containers} * ${warn_ratio}
    WHERE coalesce(p.phase, '') IN ('Succeeded', 'Failed') OR p.deleted_at IS NOT NULL
),
-- ... and their containers.
ctr_gone AS (
    SELECT c.bundle_id, count(*) AS n
    FROM containers c
    JOIN gone_pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    WHERE c.container_type <> 'ephemeral'
    GROUP BY c.bundle_id
),
totals AS (
    SELECT b.bundle_id,
        coalesce(n.n, 0) AS nodes,
        coalesce(p.n, 0) AS pods,
        coalesce(c.n, 0) - coalesce(g.n, 0) AS containers
    FROM bundles b
    LEFT JOIN (SELECT bundle_id, count(*) AS n FROM nodes GROUP BY bundle_id) n ON n.bundle_id = b.bundle_id
    LEFT JOIN (SELECT bundle_id, CAST(sum(n) AS BIGINT) AS n FROM node_counts GROUP BY bundle_id) p ON p.bundle_id = b.bundle_id
    LEFT JOIN ctr_all c ON c.bundle_id = b.bundle_id
    LEFT JOIN ctr_gone g ON g.bundle_id = b.bundle_id
    WHERE b.kind = 'cluster'
),
total_rows AS (
    SELECT * FROM (
        SELECT bundle_id, 1 AS ord, 'nodes' AS what, nodes AS n, ${max_nodes} AS lim FROM totals
        UNION ALL SELECT bundle_id, 2, 'pods', pods, ${max_pods} FROM totals
        UNION ALL SELECT bundle_id, 3, 'containers', containers, ${max_containers} FROM totals)
    WHERE n >= lim * ${warn_ratio}
),
per_node AS (
    SELECT bundle_id, node, n FROM node_counts WHERE node IS NOT NULL AND n > ${max_pods_per_node}
),
-- The node's own pod capacity (maxPods) and whether it shows the strain a crowded node shows.
per_node_judged AS (
    SELECT p.bundle_id, p.node, p.n,
        TRY_CAST(coalesce(n.allocatable_pods, n.capacity_pods) AS BIGINT) AS cap,
        CASE WHEN n.name IS NULL THEN NULL
             WHEN NOT n.ready THEN 'notready'
             WHEN contains(coalesce(n.ready_message, ''), 'PLEG') THEN 'pleg'
             WHEN pr.node IS NOT NULL THEN 'pressure' END AS strain_kind,
        CASE WHEN NOT n.ready OR contains(coalesce(n.ready_message, ''), 'PLEG') THEN coalesce(nullif(n.ready_message, ''), n.ready_reason)
             ELSE pr.strain END AS strain
    FROM per_node p
    LEFT JOIN nodes n ON n.bundle_id = p.bundle_id AND n.name = p.node
    -- PID or memory pressure of these nodes.
    LEFT JOIN (SELECT c.bundle_id, c.node,
                   string_agg(c.type || ': ' || coalesce(c.message, c.reason, 'True'), '; ' ORDER BY c.type) AS strain
               FROM node_conditions c
               JOIN per_node q ON q.bundle_id = c.bundle_id AND q.node = c.node
               WHERE c.status = 'True' AND c.type IN ('PIDPressure', 'MemoryPressure')
               GROUP BY c.bundle_id, c.node) pr
        ON pr.bundle_id = n.bundle_id AND pr.node = n.name
)
-- In the order of the limits (nodes, pods, containers) for one cluster.
SELECT resource, node, bundle_id, kind, what, n, lim, cap, strain_kind, strain, evidence, severity
FROM (
    SELECT 'cluster' AS resource, NULL AS node, bundle_id, ord,
        'total' AS kind, what, n, lim, NULL::BIGINT AS cap, NULL AS strain_kind, NULL AS strain,
        [what || ': ' || n || ' / ' || lim] AS evidence,
        CASE WHEN n > lim THEN 'high' ELSE 'medium' END AS severity
    FROM total_rows
    UNION ALL
    SELECT 'node/' || p.node, p.node, p.bundle_id, 0,
        'node', NULL, p.n, ${max_pods_per_node}, p.cap, p.strain_kind, p.strain,
        list_concat(['pods on node: ' || p.n, 'capacity.pods: ' || coalesce(CAST(p.cap AS VARCHAR), '?')],
            CASE WHEN p.strain IS NOT NULL THEN ['node: ' || p.strain] ELSE [] END),
        -- A node given more than 110 pods on purpose and coping with them is no finding of its own;
        -- one that shows strain, or whose capacity is unknown, is.
        CASE WHEN p.strain_kind IS NOT NULL THEN 'medium'
             WHEN p.cap > ${max_pods_per_node} AND p.n <= p.cap THEN 'info'
             ELSE 'medium' END
    FROM per_node_judged p
)
ORDER BY resource, bundle_id, ord
