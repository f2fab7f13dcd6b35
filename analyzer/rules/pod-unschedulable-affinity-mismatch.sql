/* ---
id = "pod-unschedulable-affinity-mismatch"
severity = "medium"
faq = ["DCE-06"]
category = "scheduling"
patterns = [
  "node\\(s\\) didn't match Pod's node affinity/selector",
  "node\\(s\\) didn't match node selector",
  "node\\(s\\) didn't match Pod's node affinity",
  "node\\(s\\) didn't match pod (anti-)?affinity rules",
  "node\\(s\\) didn't match pod affinity/anti-affinity",
  "node\\(s\\) didn't satisfy existing pods anti-affinity rules",
]
[title]
en = "Pods Pending: no node matches their node selector / affinity rules"
zh = "Pod 处于 Pending：没有节点满足其节点选择器/亲和性规则"
[message]
en = """\
Pending for {{ minutes }} minutes: {{ said }}\
{% if missing %}; no node has nodeSelector label {{ missing | join(', ') }}{% endif %}\
{% if owner is not none %}; owner {{ owner }}{% endif %}\
{% if scale_up is not none %}; {{ scale_up }} is adding a node for it (a scale-up was triggered {{ scale_up_minutes_ago }} minutes ago): \
Pending while the node starts is normal\
{% elif missing %}\
{% elif down_nodes %}; every node its selector/affinity allows is out of service ({{ down_nodes | join(', ') }}): \
a node outage, not a leftover scheduling policy\
{% elif daemon %}; a DaemonSet pod matches only its own node by design: what keeps it Pending is that node\
{% elif full_nodes %}; the nodes its affinity allows are full: a capacity problem, not an affinity mismatch{% endif %}"""
zh = """\
已 Pending {{ minutes }} 分钟：{{ said }}\
{% if missing %}；没有任何节点带有 nodeSelector 标签 {{ missing | join(', ') }}{% endif %}\
{% if owner is not none %}；所属 {{ owner }}{% endif %}\
{% if scale_up is not none %}；{{ scale_up }} 正在为其添加节点（{{ scale_up_minutes_ago }} 分钟前已触发扩容）：\
节点启动期间 Pending 是正常的\
{% elif missing %}\
{% elif down_nodes %}；其选择器/亲和性允许的节点均已停止服务（{{ down_nodes | join(', ') }}）：\
这是节点故障，而非残留的调度策略\
{% elif daemon %}；DaemonSet 的 Pod 按设计只匹配其所在节点：使其 Pending 的是该节点本身\
{% elif full_nodes %}；满足其亲和性的节点资源已满：这是容量问题，而非亲和性不匹配{% endif %}"""
[thresholds]
min_pending_minutes = 5
# A pod for which a node autoscaler (cluster-autoscaler, Karpenter) triggered a scale-up waits
# for the new node: normal while it is younger than this (cluster-autoscaler gives up on a node
# after 15 minutes by default).
scale_up_grace_minutes = 20
[remediation]
en = """
The scheduler finds no node that satisfies the pod's `nodeSelector`, node affinity or pod
(anti-)affinity. A common cause is a scheduling policy that was removed in the UI but not
completely: a leftover term still pins the workload to labels no node has. Edit the workload
and delete all remaining policies (or fix the node labels), then let the pods be recreated.
When the same message also says `Insufficient ...` the nodes the affinity allows are full (a
capacity problem), and a DaemonSet pod matches only its own node by design: both are info.
So is a young pod for which cluster-autoscaler (`TriggeredScaleUp`) or Karpenter (`Nominated`)
is adding a node: it is Pending until that node is Ready.
```
kubectl -n <ns> describe pod <pod>       # Events: FailedScheduling ... didn't match Pod's node affinity/selector
kubectl -n <ns> get deploy <name> -o jsonpath='{.spec.template.spec.affinity}{"\\n"}{.spec.template.spec.nodeSelector}'
kubectl get nodes --show-labels
kubectl -n <ns> edit deploy <name>       # remove the leftover nodeSelector / affinity terms
```
"""
zh = """
调度器找不到满足该 Pod `nodeSelector`、节点亲和性或 Pod（反）亲和性的节点。常见原因是在界面上删除了节点亲和性等调度策略，
但策略没有删除干净：残留的条件仍把工作负载限定在没有任何节点具备的标签上。编辑工作负载，删除所有残留策略
（或修正节点标签），然后让 Pod 重新创建。
若同一消息中还有 `Insufficient ...`，说明满足亲和性的节点资源已满（容量问题）；DaemonSet 的 Pod 按设计只匹配其所在节点：两者均报告为 info。
cluster-autoscaler（`TriggeredScaleUp`）或 Karpenter（`Nominated`）正在为其添加节点的新建 Pod 同样报告为 info：新节点就绪前 Pending 是正常的。
```
kubectl -n <ns> describe pod <pod>       # Events: FailedScheduling ... didn't match Pod's node affinity/selector
kubectl -n <ns> get deploy <name> -o jsonpath='{.spec.template.spec.affinity}{"\\n"}{.spec.template.spec.nodeSelector}'
kubectl get nodes --show-labels
kubectl -n <ns> edit deploy <name>       # 删除残留的 nodeSelector / affinity 条件
```
"""
--- */
WITH pending AS (
    SELECT p.*, days_between(p.created_at, b.collected_at) * 1440 AS age_minutes
    FROM pods p JOIN bundles b USING (bundle_id)
    WHERE p.phase = 'Pending' AND p.node IS NULL AND p.deleted_at IS NULL
),
sched_events AS (
    SELECT bundle_id, object_namespace AS namespace, object_name AS pod,
        arg_max(message, last_seen) AS message, sum(count) AS n
    FROM events
    WHERE reason = 'FailedScheduling' AND regexp_matches(message, '(didn''t match Pod''s node affinity|didn''t match node selector|didn''t match pod affinity|didn''t match pod anti-affinity|didn''t satisfy existing pods anti-affinity|MatchNodeSelector|node\(s\) didn''t match pod affinity/anti-affinity)')
    GROUP BY ALL
),
-- A node autoscaler is adding a node for the pod: cluster-autoscaler's TriggeredScaleUp,
-- Karpenter's Nominated ("Pod should schedule on: nodeclaim/...").
scale_ups AS (
    SELECT e.bundle_id, e.object_namespace AS namespace, e.object_name AS pod,
        arg_max(node_scaler(e.reason, e.message), e.last_seen) AS scaler,
        (epoch(max(b.collected_at)) - epoch(max(e.last_seen))) / 60 AS minutes_ago
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE e.object_kind = 'Pod'
      AND node_scaler(e.reason, e.message) IS NOT NULL
    GROUP BY ALL
),
-- nodeSelector entries that no node carries.
selector_misses AS (
    SELECT p.bundle_id, p.namespace, p.name,
        list(e.key || '=' || e.value ORDER BY e.key) AS missing
    FROM (SELECT bundle_id, namespace, name,
              unnest(map_entries(from_json(node_selector, '"MAP(VARCHAR, VARCHAR)"'))) AS e
          FROM pending WHERE node_selector IS NOT NULL) p
    WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.bundle_id = p.bundle_id
                      AND json_member(n.labels, e.key) = e.value)
    GROUP BY ALL
),
-- Nodes the pod's nodeSelector and required node affinity allow, and whether each is out of
-- service (cordoned, NotReady, tainted unreachable/not-ready/unschedulable).
-- Only pods the scheduler says found nodes out of service (cordoned: "were unschedulable";
-- NotReady or unreachable: their node.kubernetes.io taints) are checked node by node.
constrained AS (
    SELECT p.bundle_id, p.namespace, p.name,
        from_json(p.node_selector, '"MAP(VARCHAR, VARCHAR)"') AS sel,
        from_json(json_extract(p.affinity, '$.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms'),
            '[{"matchExpressions":[{"key":"VARCHAR","operator":"VARCHAR","values":["VARCHAR"]}],"matchFields":[{"key":"VARCHAR","operator":"VARCHAR","values":["VARCHAR"]}]}]') AS terms
    FROM pending p
    LEFT JOIN sched_events e ON e.bundle_id = p.bundle_id AND e.namespace = p.namespace AND e.pod = p.name
    WHERE (p.node_selector IS NOT NULL OR json_extract(p.affinity, '$.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution') IS NOT NULL)
      AND regexp_matches(coalesce(p.scheduled_message, '') || ' ' || coalesce(e.message, ''),
                         'were unschedulable|node\.kubernetes\.io/(unreachable|not-ready|unschedulable)')
),
allowed AS (
    SELECT c.bundle_id, c.namespace, c.name, n.name AS node,
        CASE WHEN n.unschedulable THEN 'cordoned'
             WHEN NOT n.ready THEN 'NotReady'
             WHEN list_has_any(list_transform(n.taints, lambda t: t.key),
                  ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready', 'node.kubernetes.io/unschedulable']) THEN 'tainted'
        END AS out_of_service
    FROM constrained c JOIN nodes n ON n.bundle_id = c.bundle_id
    WHERE len(list_filter(coalesce(map_entries(c.sel), []),
              lambda e: coalesce(json_member(n.labels, e.key) <> e.value, true))) = 0
      AND (coalesce(len(c.terms), 0) = 0 OR len(list_filter(c.terms, lambda t:
              coalesce(len(t.matchExpressions), 0) + coalesce(len(t.matchFields), 0) > 0
              AND len(list_filter(coalesce(t.matchExpressions, []), lambda x: NOT coalesce(
                  CASE x.operator
                      WHEN 'In' THEN list_contains(x."values", json_member(n.labels, x.key))
                      WHEN 'NotIn' THEN NOT coalesce(list_contains(x."values", json_member(n.labels, x.key)), false)
                      WHEN 'Exists' THEN json_member(n.labels, x.key) IS NOT NULL
                      WHEN 'DoesNotExist' THEN json_member(n.labels, x.key) IS NULL
                      WHEN 'Gt' THEN TRY_CAST(json_member(n.labels, x.key) AS BIGINT) > TRY_CAST(x."values"[1] AS BIGINT)
                      WHEN 'Lt' THEN TRY_CAST(json_member(n.labels, x.key) AS BIGINT) < TRY_CAST(x."values"[1] AS BIGINT)
                  END, false))) = 0
              AND len(list_filter(coalesce(t.matchFields, []), lambda x: NOT coalesce(
                  x.key = 'metadata.name' AND CASE x.operator
                      WHEN 'In' THEN list_contains(x."values", n.name)
                      WHEN 'NotIn' THEN NOT coalesce(list_contains(x."values", n.name), false)
                  END, false))) = 0)) > 0)
),
-- Every node the pod may run on is out of service: a node outage, not a leftover policy.
nodes_down AS (
    SELECT bundle_id, namespace, name,
        list(node || ' (' || out_of_service || ')' ORDER BY node) AS down_nodes
    FROM allowed
    GROUP BY ALL
    HAVING count(*) FILTER (WHERE out_of_service IS NULL) = 0
),
judged AS (
    SELECT p.*, e.n, e.pod AS event_pod, m.missing, d.down_nodes,
        CASE WHEN p.age_minutes < ${scale_up_grace_minutes} THEN s.scaler END AS scale_up,
        CAST(round(greatest(s.minutes_ago, 0)) AS BIGINT) AS scale_up_minutes_ago,
        -- The scheduler's current word: the pod's own PodScheduled condition, else its latest event.
        coalesce(CASE WHEN regexp_matches(coalesce(p.scheduled_message, ''), '(didn''t match Pod''s node affinity|didn''t match node selector|didn''t match pod affinity|didn''t match pod anti-affinity|didn''t satisfy existing pods anti-affinity|MatchNodeSelector|node\(s\) didn''t match pod affinity/anti-affinity)')
                      THEN p.scheduled_message END, e.message, p.scheduled_message) AS said,
        -- Nodes that passed the affinity but are full: the affinity is not what blocks the pod.
        regexp_matches(coalesce(coalesce(p.scheduled_message, e.message), ''), '(Insufficient [a-z]|Too many pods|didn''t have free ports)') AS full_nodes,
        -- A DaemonSet pod is pinned to its one node on purpose; every other node "does not match".
        coalesce(p.owner_kind = 'DaemonSet', false) AS daemon
    FROM pending p
    LEFT JOIN sched_events e ON e.bundle_id = p.bundle_id AND e.namespace = p.namespace AND e.pod = p.name
    LEFT JOIN scale_ups s ON s.bundle_id = p.bundle_id AND s.namespace = p.namespace AND s.pod = p.name
    LEFT JOIN selector_misses m ON m.bundle_id = p.bundle_id AND m.namespace = p.namespace AND m.name = p.name
    LEFT JOIN nodes_down d ON d.bundle_id = p.bundle_id AND d.namespace = p.namespace AND d.name = p.name
    WHERE p.age_minutes >= ${min_pending_minutes}
      AND (e.pod IS NOT NULL OR regexp_matches(coalesce(p.scheduled_message, ''), '(didn''t match Pod''s node affinity|didn''t match node selector|didn''t match pod affinity|didn''t match pod anti-affinity|didn''t satisfy existing pods anti-affinity|MatchNodeSelector|node\(s\) didn''t match pod affinity/anti-affinity)'))
)
SELECT 'pod/' || p.namespace || '/' || p.name AS resource, p.namespace, p.name, p.bundle_id,
    CAST(round(p.age_minutes) AS BIGINT) AS minutes, p.said, coalesce(p.missing, []) AS missing,
    p.owner_kind || '/' || p.owner_name AS owner, p.daemon, p.full_nodes, p.scale_up, p.scale_up_minutes_ago,
    coalesce(p.down_nodes, []) AS down_nodes,
    list_concat(
        CASE WHEN p.node_selector IS NOT NULL THEN ['nodeSelector: ' || CAST(p.node_selector AS VARCHAR)] ELSE [] END,
        CASE WHEN p.affinity IS NOT NULL THEN ['affinity: ' || CAST(p.affinity AS VARCHAR)] ELSE [] END,
        ['scheduler: ' || p.said]) AS evidence,
    coalesce(p.n, 1) AS count,
    CASE WHEN p.scale_up IS NOT NULL THEN 'info'
         WHEN coalesce(len(p.missing), 0) = 0 AND (p.daemon OR p.full_nodes OR p.down_nodes IS NOT NULL) THEN 'info' END AS severity
FROM judged p
ORDER BY 1
