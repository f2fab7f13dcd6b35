/* ---
id = "workload-pods-packed-on-one-node"
severity = "low"
faq = ["WNR-30"]
category = "scheduling"
patterns = ["podAntiAffinity", "topologySpreadConstraints", "descheduler"]
[title]
en = "Replicas of a workload packed on one node while other nodes are free"
zh = "工作负载的副本集中在同一节点上，而其他节点空闲"
[remediation]
en = """
The scheduler places each pod once and never moves it: after a node restart, a scale-up or a
node joining later, the replicas can all end up on one node, and losing that node takes the
whole workload down. To keep them balanced:

1. Configure anti-affinity (or `topologySpreadConstraints`) on the pod template, e.g.
   ```yaml
   affinity:
     podAntiAffinity:
       preferredDuringSchedulingIgnoredDuringExecution:
       - weight: 100
         podAffinityTerm:
           topologyKey: kubernetes.io/hostname
           labelSelector:
             matchLabels: {app: <app>}
   ```
2. Kill a pod to have it rescheduled: `kubectl -n <ns> delete pod <pod>`
3. Try a rollout to reschedule them all: `kubectl -n <ns> rollout restart deploy/<name>`
4. Use a tool like [kubernetes-sigs/descheduler](https://github.com/kubernetes-sigs/descheduler)
   to keep the balance automatically.

When no other eligible node has room left for one more replica's requests, the packing is forced
by capacity and reported as info: add capacity before rebalancing.
"""
zh = """
调度器只在创建 Pod 时做一次调度，之后不会迁移：节点重启、扩容或节点后加入之后，副本可能全部落在同一节点上，
该节点故障时整个工作负载都会中断。保持负载均衡的方法：

1. 在 Pod 模板中配置反亲和（或 `topologySpreadConstraints`），例如
   ```yaml
   affinity:
     podAntiAffinity:
       preferredDuringSchedulingIgnoredDuringExecution:
       - weight: 100
         podAffinityTerm:
           topologyKey: kubernetes.io/hostname
           labelSelector:
             matchLabels: {app: <app>}
   ```
2. kill pod 触发重新调度：`kubectl -n <ns> delete pod <pod>`
3. 尝试 rollout 重新调度：`kubectl -n <ns> rollout restart deploy/<name>`
4. 使用类似 [kubernetes-sigs/descheduler](https://github.com/kubernetes-sigs/descheduler) 这样的工具自动维护均衡。

若其他符合条件的节点都没有足够的剩余资源容纳一个副本的 requests，说明副本集中是容量所致，报告为 info：应先扩容再均衡。
"""
[message]
en = """\
{% if busiest == total %}all {{ total }} running replicas are on node {{ busiest_node }}\
{% else %}{{ busiest }} of {{ total }} running replicas are on node {{ busiest_node }}{% endif %} \
while {{ others_n }} other eligible node(s) are available ({{ others | join(', ') }})\
{% if anti_affinity or spread %}; the pod template has \
{% if anti_affinity %}podAntiAffinity{% endif %}{% if anti_affinity and spread %} and {% endif %}{% if spread %}topologySpreadConstraints{% endif %} \
but they are not enforced (preferred / ScheduleAnyway): delete a pod or use the descheduler to rebalance\
{% else %}; the pod template has no podAntiAffinity or topologySpreadConstraints{% endif %}\
{% if no_room %}; none of the other nodes has room left for another replica's requests, so the scheduler could not spread them{% endif %}"""
zh = """\
{% if busiest == total %}全部 {{ total }} 个运行中的副本都在节点 {{ busiest_node }} 上\
{% else %}{{ total }} 个运行中的副本中有 {{ busiest }} 个在节点 {{ busiest_node }} 上{% endif %}\
，而另有 {{ others_n }} 个符合条件的节点可用（{{ others | join(', ') }}）\
{% if anti_affinity or spread %}；Pod 模板设置了 \
{% if anti_affinity %}podAntiAffinity{% endif %}{% if anti_affinity and spread %} 和 {% endif %}{% if spread %}topologySpreadConstraints{% endif %}\
，但不是强制约束（preferred / ScheduleAnyway）：删除一个 Pod 或使用 descheduler 重新均衡\
{% else %}；Pod 模板没有设置 podAntiAffinity 或 topologySpreadConstraints{% endif %}\
{% if no_room %}；其他节点都没有足够的剩余资源容纳一个副本的 requests，调度器无法将其分散{% endif %}"""
[thresholds]
# Workloads with fewer running replicas are not judged.
min_replicas = 2
# Share of the replicas on the busiest node at or above which they count as packed.
packed_share = 0.75
--- */
WITH rs_owner AS (
    SELECT bundle_id, namespace, name, owner_kind, owner_name FROM workloads WHERE kind = 'ReplicaSet'
),
running AS (
    SELECT p.bundle_id, p.namespace, p.name AS pod, p.node,
        CASE WHEN p.owner_kind = 'ReplicaSet' AND r.owner_kind = 'Deployment' THEN 'Deployment' ELSE p.owner_kind END AS wkind,
        CASE WHEN p.owner_kind = 'ReplicaSet' AND r.owner_kind = 'Deployment' THEN r.owner_name ELSE p.owner_name END AS wname
    FROM pods p
    LEFT JOIN rs_owner r ON r.bundle_id = p.bundle_id AND r.namespace = p.namespace AND r.name = p.owner_name
    WHERE p.node IS NOT NULL AND p.deleted_at IS NULL AND p.phase = 'Running'
      AND p.owner_kind IN ('ReplicaSet', 'StatefulSet')
),
-- Workloads whose running replicas are packed on one node: only these are judged further, so
-- the work below is done for a handful of workloads, not for every workload and node.
packed_keys AS (
    SELECT bundle_id, wkind, namespace, wname
    FROM (SELECT bundle_id, wkind, namespace, wname, node, count(*) AS n FROM running WHERE wname IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
    HAVING sum(n) >= ${min_replicas} AND max(n) >= ${packed_share} * sum(n)
),
per_node AS (
    SELECT bundle_id, wkind, namespace, wname, node, count(*) AS n, list(pod ORDER BY pod) AS pods
    FROM running r WHERE wname IS NOT NULL
      AND EXISTS (SELECT 1 FROM packed_keys k WHERE k.bundle_id = r.bundle_id AND k.wkind = r.wkind AND k.namespace = r.namespace AND k.wname = r.wname)
    GROUP BY ALL
),
per_wl AS (
    SELECT bundle_id, wkind, namespace, wname, sum(n) AS total, max(n) AS busiest,
        arg_max(node, n) AS busiest_node, count(*) AS used_nodes,
        list(node || ': ' || n ORDER BY n DESC, node) AS spread_text,
        arg_max(pods, n) AS busiest_pods
    FROM per_node GROUP BY ALL
),
packed AS (
    SELECT * FROM per_wl
    WHERE total >= ${min_replicas} AND busiest >= ${packed_share} * total
),
wl AS (
    SELECT w.bundle_id, w.kind, w.namespace, w.name, w.desired,
        coalesce(from_json(w.template->'$.spec.tolerations', '[{"key":"VARCHAR","operator":"VARCHAR","value":"VARCHAR","effect":"VARCHAR"}]'), []) AS tols,
        coalesce(from_json(w.template->'$.spec.nodeSelector', '"MAP(VARCHAR, VARCHAR)"'), MAP {}) AS selector,
        (w.template->'$.spec.affinity.podAntiAffinity') IS NOT NULL AS anti_affinity,
        coalesce(json_array_length(w.template->'$.spec.topologySpreadConstraints'), 0) > 0 AS spread,
        (w.template->'$.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution') IS NOT NULL AS node_affinity
    FROM workloads w
    -- Picked by row id, so that only these workloads' templates are read.
    WHERE w.rowid IN (SELECT x.rowid FROM workloads x
                      JOIN packed p ON p.bundle_id = x.bundle_id AND p.wkind = x.kind AND p.namespace = x.namespace AND p.wname = x.name
                      WHERE x.kind IN ('Deployment', 'StatefulSet') AND x.deleted_at IS NULL)
),
-- Nodes the workload's pods may use: Ready, schedulable, taints tolerated, nodeSelector met.
-- Judged once per distinct (tolerations, nodeSelector) of the workloads and distinct taints of
-- the nodes, then handed to every workload of that placement.
wl_sig AS (
    SELECT *, CAST(to_json(tols) AS VARCHAR) AS tols_sig, CAST(to_json(selector) AS VARCHAR) AS selector_sig FROM wl
),
placements AS (
    SELECT bundle_id, tols_sig, selector_sig, any_value(tols) AS tols, any_value(selector) AS selector
    FROM wl_sig GROUP BY bundle_id, tols_sig, selector_sig
),
ready_nodes AS (
    SELECT bundle_id, name, labels, taints, CAST(to_json(taints) AS VARCHAR) AS taints_sig
    FROM nodes WHERE ready AND NOT unschedulable AND deleted_at IS NULL
),
taint_sets AS (
    SELECT bundle_id, taints_sig, any_value(taints) AS taints FROM ready_nodes GROUP BY bundle_id, taints_sig
),
-- MATERIALIZED: keeps the planner from folding the taint and nodeSelector tests into a join
-- with every node, which would run them once per placement and node again.
tolerated AS MATERIALIZED (
    SELECT w.bundle_id, w.tols_sig, w.selector_sig, w.selector, n.taints_sig
    FROM placements w
    JOIN taint_sets n ON n.bundle_id = w.bundle_id
    WHERE len(list_filter(n.taints, lambda t: t.effect IN ('NoSchedule', 'NoExecute')
                AND len(list_filter(w.tols, lambda o: (coalesce(o.effect, '') = '' OR o.effect = t.effect)
                    AND ((coalesce(o.key, '') = '' AND o.operator = 'Exists')
                         OR (o.key = t.key AND (o.operator = 'Exists' OR coalesce(o.value, '') = coalesce(t.value, '')))))) = 0)) = 0
),
node_pairs AS MATERIALIZED (
    SELECT w.bundle_id, w.tols_sig, w.selector_sig, w.selector, n.name, n.labels
    FROM tolerated w
    JOIN ready_nodes n ON n.bundle_id = w.bundle_id AND n.taints_sig = w.taints_sig
),
placement_nodes AS (
    SELECT bundle_id, tols_sig, selector_sig, name FROM node_pairs
    WHERE len(list_filter(map_entries(selector), lambda s: json_member(labels, s.key) IS DISTINCT FROM s.value)) = 0
),
eligible AS (
    SELECT w.bundle_id, w.kind, w.namespace, w.name, list(n.name ORDER BY n.name) AS nodes
    FROM wl_sig w
    JOIN placement_nodes n ON n.bundle_id = w.bundle_id AND n.tols_sig = w.tols_sig AND n.selector_sig = w.selector_sig
    GROUP BY w.bundle_id, w.kind, w.namespace, w.name
),
-- What one more replica asks of a node (the template's requests), what each eligible node has
-- left of its allocatable: other nodes without room for a replica could not have taken one.
replica_req AS (
    SELECT c.bundle_id, c.kind, c.namespace, c.workload,
        sum(coalesce(k8s_quantity(c.requests['cpu']), 0)) AS cpu,
        sum(coalesce(k8s_quantity(c.requests['memory']), 0)) AS mem
    FROM workload_containers c
    WHERE c.container_type = 'regular'
      AND EXISTS (SELECT 1 FROM wl w WHERE w.bundle_id = c.bundle_id AND w.kind = c.kind AND w.namespace = c.namespace AND w.name = c.workload)
    GROUP BY ALL
),
eligible_nodes AS (
    SELECT DISTINCT bundle_id, unnest(nodes) AS node FROM eligible
),
-- CPU requests are parsed once per distinct request string on a node, not once per container:
-- a cluster has a handful of request values and hundreds of thousands of containers.
node_used AS (
    SELECT bundle_id, node, sum(coalesce(k8s_quantity(cpu_request), 0) * n) AS cpu, sum(mem) AS mem
    FROM (
        SELECT c.bundle_id, c.node, c.cpu_request, count(*) AS n, sum(coalesce(c.memory_request_bytes, 0)) AS mem
        FROM containers c
        JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
        JOIN eligible_nodes en ON en.bundle_id = c.bundle_id AND en.node = c.node
        WHERE c.container_type = 'regular' AND p.deleted_at IS NULL AND coalesce(p.phase, '') NOT IN ('Succeeded', 'Failed')
        GROUP BY ALL
    )
    GROUP BY ALL
),
-- Pods on each eligible node, against its allocatable pods (maxPods; on EKS the VPC CNI's
-- per-instance limit, 11 or 17 on small nodes): a node at it takes no replica either.
node_pods AS (
    SELECT p.bundle_id, p.node, count(*) AS n
    FROM pods p JOIN eligible_nodes en ON en.bundle_id = p.bundle_id AND en.node = p.node
    WHERE p.deleted_at IS NULL AND coalesce(p.phase, '') NOT IN ('Succeeded', 'Failed')
    GROUP BY ALL
),
roomy AS (
    SELECT e.bundle_id, e.kind, e.namespace, e.name, list(n.name ORDER BY n.name) AS nodes
    FROM (SELECT bundle_id, kind, namespace, name, unnest(nodes) AS node FROM eligible) e
    JOIN nodes n ON n.bundle_id = e.bundle_id AND n.name = e.node
    LEFT JOIN node_used u ON u.bundle_id = e.bundle_id AND u.node = e.node
    LEFT JOIN node_pods np ON np.bundle_id = e.bundle_id AND np.node = e.node
    LEFT JOIN replica_req r ON r.bundle_id = e.bundle_id AND r.kind = e.kind AND r.namespace = e.namespace AND r.workload = e.name
    -- Unknown allocatable is not "full".
    WHERE (n.allocatable_cpu IS NULL OR n.allocatable_cpu - coalesce(u.cpu, 0) >= coalesce(r.cpu, 0))
      AND (n.allocatable_memory_bytes IS NULL OR n.allocatable_memory_bytes - coalesce(u.mem, 0) >= coalesce(r.mem, 0))
      AND (nullif(n.allocatable_pods, 0) IS NULL OR coalesce(np.n, 0) < n.allocatable_pods)
    GROUP BY ALL
),
-- Pods tied to a node by a local volume (PV node affinity on the host name) cannot spread.
pinned AS (
    SELECT DISTINCT r.bundle_id, r.namespace, r.wkind, r.wname
    FROM running r
    JOIN pods p ON p.bundle_id = r.bundle_id AND p.namespace = r.namespace AND p.name = r.pod
    JOIN pvcs c ON c.bundle_id = p.bundle_id AND c.namespace = p.namespace
        AND contains(CAST(p.volumes AS VARCHAR), '"claimName":"' || c.name || '"')
    JOIN objects v ON v.bundle_id = c.bundle_id AND v.api_group = '' AND v.resource = 'persistentvolumes' AND v.name = c.volume_name
    WHERE EXISTS (SELECT 1 FROM packed k WHERE k.bundle_id = r.bundle_id AND k.wkind = r.wkind AND k.namespace = r.namespace AND k.wname = r.wname)
      AND (contains(CAST((v.doc->'$.spec.nodeAffinity') AS VARCHAR), 'kubernetes.io/hostname')
           OR (v.doc->'$.spec.local') IS NOT NULL OR (v.doc->'$.spec.hostPath') IS NOT NULL)
)
SELECT lower(p.wkind) || '/' || p.namespace || '/' || p.wname AS resource,
    p.namespace, p.wname AS name, p.busiest_node AS node, p.bundle_id,
    p.busiest, p.total, p.busiest_node, len(e.nodes) - 1 AS others_n,
    list_filter(e.nodes, lambda x: x <> p.busiest_node)[1:5] AS others, w.anti_affinity, w.spread,
    len(list_filter(coalesce(rm.nodes, []), lambda x: x <> p.busiest_node)) = 0 AS no_room,
    list_concat(['pods per node: ' || array_to_string(p.spread_text, ', ')],
                list_transform(p.busiest_pods[1:5], lambda x: 'on ' || p.busiest_node || ': ' || x)) AS evidence,
    -- Packed because nowhere else had room: forced by capacity, not a placement to fix.
    CASE WHEN len(list_filter(coalesce(rm.nodes, []), lambda x: x <> p.busiest_node)) = 0 THEN 'info' END AS severity
FROM packed p
JOIN wl w ON w.bundle_id = p.bundle_id AND w.kind = p.wkind AND w.namespace = p.namespace AND w.name = p.wname
JOIN eligible e ON e.bundle_id = p.bundle_id AND e.kind = p.wkind AND e.namespace = p.namespace AND e.name = p.wname
LEFT JOIN roomy rm ON rm.bundle_id = p.bundle_id AND rm.kind = p.wkind AND rm.namespace = p.namespace AND rm.name = p.wname
WHERE len(e.nodes) >= 2
  AND list_contains(e.nodes, p.busiest_node)
  -- More replicas than the busiest node holds could have gone elsewhere.
  AND p.busiest > ceil(p.total / len(e.nodes))
  AND NOT w.node_affinity
  AND NOT EXISTS (SELECT 1 FROM pinned x WHERE x.bundle_id = p.bundle_id AND x.namespace = p.namespace AND x.wkind = p.wkind AND x.wname = p.wname)
ORDER BY 1
