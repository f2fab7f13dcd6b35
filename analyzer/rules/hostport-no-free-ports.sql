/* ---
id = "hostport-no-free-ports"
severity = "medium"
faq = ["WNR-25"]
category = "scheduling"
patterns = [
  "didn't have free ports for the requested pod ports",
  "node\\(s\\) didn't have free ports",
]
[title]
en = "Pods cannot be scheduled: no node has the requested hostPort free"
zh = "Pod 无法调度：没有节点的 hostPort 空闲"
[remediation]
en = """
A `hostPort` (or a `containerPort` of a `hostNetwork: true` pod) can be held by one pod per
node. The scheduler reports `node(s) didn't have free ports for the requested pod ports` when
every candidate node already runs a pod with that port.

- A Deployment with a hostPort on as many nodes as replicas (typically a single-node cluster)
  cannot roll out with `RollingUpdate`: the surge pod never finds a free port and, with
  `maxUnavailable` 0, no old pod is removed. Use `Recreate`, or `maxSurge: 0` with
  `maxUnavailable: 1`:
  ```
  kubectl -n <ns> patch deploy <name> --type=merge -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'
  ```
- A DaemonSet with a hostPort cannot use `rollingUpdate.maxSurge` > 0.
- Otherwise check which pods hold the port (`hostPort`) on the nodes, and drop the hostPort in
  favour of a Service (NodePort/LoadBalancer) when it is not really needed:
  ```
  kubectl get pods -A -o wide | grep <node>
  kubectl get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.spec.containers[*].ports[*].hostPort}{"\\n"}{end}' | grep -w <port>
  ```
"""
zh = """
`hostPort`（以及 `hostNetwork: true` Pod 的 `containerPort`）在每个节点上只能被一个 Pod 占用。
所有候选节点上都已有 Pod 占用该端口时，调度器报 `node(s) didn't have free ports for the requested pod ports`。

- 使用 hostPort 的 Deployment，如果副本数不少于可调度节点数（典型情况是只有一个节点），`RollingUpdate`
  会失败：新增的 surge Pod 永远找不到空闲端口，而 `maxUnavailable` 为 0 时旧 Pod 也不会被删除。
  应使用 `Recreate`，或设置 `maxSurge: 0`、`maxUnavailable: 1`：
  ```
  kubectl -n <ns> patch deploy <name> --type=merge -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'
  ```
- 使用 hostPort 的 DaemonSet 不能设置 `rollingUpdate.maxSurge` > 0。
- 其他情况请检查节点上是哪个 Pod 占用了该端口（检查 hostPort）；若并非必需，改用 Service（NodePort/LoadBalancer）代替 hostPort：
  ```
  kubectl get pods -A -o wide | grep <node>
  kubectl get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.spec.containers[*].ports[*].hostPort}{"\\n"}{end}' | grep -w <port>
  ```
"""
[message]
en = """\
{% for p in parts %}\
  {% if p == 'pending' %}{{ pods }} pod(s) Pending: "{{ pending_message }}"\
  {% elif p == 'gone' %}{{ pods }} pod(s) no longer in the cluster waited for a free host port: "{{ pending_message }}" \
(events only: a rollout replaced or deleted them, nothing waits now)\
  {% elif p == 'ports' %}host ports {{ ports | join(', ') }}\
  {% elif p == 'design' %}\
    {% if kind == 'DaemonSet' %}DaemonSet rollingUpdate.maxSurge {{ max_surge }} with hostPort: \
the surge pod can never start beside the old one on its node\
    {% else %}strategy RollingUpdate (maxSurge {{ max_surge }}, maxUnavailable {{ max_unavailable }}) with \
{{ replicas }} replicas on {{ eligible }} eligible node(s): the surge pod finds no free port and no old pod is removed first{% endif %}\
  {% else %}every candidate node already runs a pod holding the port{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
{% for p in parts %}\
  {% if p == 'pending' %}{{ pods }} 个 Pod 处于 Pending："{{ pending_message }}"\
  {% elif p == 'gone' %}{{ pods }} 个已不在集群中的 Pod 曾等待空闲的 hostPort："{{ pending_message }}"\
（仅有事件：这些 Pod 已被滚动更新替换或删除，目前没有 Pod 在等待）\
  {% elif p == 'ports' %}hostPort {{ ports | join(', ') }}\
  {% elif p == 'design' %}\
    {% if kind == 'DaemonSet' %}DaemonSet 设置了 rollingUpdate.maxSurge {{ max_surge }} 且使用 hostPort：\
surge Pod 永远无法与旧 Pod 在同一节点上同时启动\
    {% else %}策略 RollingUpdate（maxSurge {{ max_surge }}，maxUnavailable {{ max_unavailable }}），\
{{ replicas }} 个副本、{{ eligible }} 个符合调度条件的节点：surge Pod 找不到空闲端口，而旧 Pod 也不会先被删除{% endif %}\
  {% else %}所有候选节点上都已有 Pod 占用该端口{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
[thresholds]
# Pods Pending for fewer minutes than this are still being scheduled.
min_pending_minutes = 5
--- */
-- Pods the scheduler could not place for want of a free host port: their PodScheduled
-- condition, or FailedScheduling events (the pod may be gone since).
WITH sched_events AS (
    SELECT bundle_id, namespace, object_name AS pod, max(last_seen) AS last_seen, sum(count) AS n,
        arg_max(message, last_seen) AS message
    FROM events
    WHERE object_kind = 'Pod' AND contains(message, 'free ports for the requested pod ports')
    GROUP BY ALL
),
-- Pending pods the scheduler could not place for want of a free host port.
pending_pods AS MATERIALIZED (
    SELECT p.bundle_id, p.namespace, p.name, p.owner_kind, p.owner_name,
        coalesce(CASE WHEN contains(p.scheduled_message, 'free ports for the requested pod ports') THEN p.scheduled_message END, e.message) AS message,
        coalesce(e.n, 1) AS n
    FROM pods p
    JOIN bundles b ON b.bundle_id = p.bundle_id
    LEFT JOIN sched_events e ON e.bundle_id = p.bundle_id AND e.namespace = p.namespace AND e.pod = p.name
    WHERE p.node IS NULL AND p.deleted_at IS NULL AND p.phase = 'Pending'
      AND (contains(p.scheduled_message, 'free ports for the requested pod ports') OR e.pod IS NOT NULL)
      AND days_between(p.created_at, b.collected_at) * 1440 >= ${min_pending_minutes}
),
pending AS (
    SELECT p.bundle_id, p.namespace, p.name AS pod,
        -- The workload it belongs to (Deployment through its ReplicaSet).
        CASE WHEN p.owner_kind = 'ReplicaSet' AND r.owner_kind = 'Deployment' THEN 'Deployment'
             ELSE coalesce(p.owner_kind, 'Pod') END AS wkind,
        CASE WHEN p.owner_kind = 'ReplicaSet' AND r.owner_kind = 'Deployment' THEN r.owner_name
             ELSE coalesce(p.owner_name, p.name) END AS wname,
        p.message, p.n, false AS gone
    FROM pending_pods p
    LEFT JOIN (SELECT r.bundle_id, r.namespace, r.name, r.owner_kind, r.owner_name FROM workloads r
               -- Only the ReplicaSets of clusters with such pods are read.
               JOIN (SELECT DISTINCT bundle_id FROM pending_pods) g ON g.bundle_id = r.bundle_id
               WHERE r.kind = 'ReplicaSet') r
        ON r.bundle_id = p.bundle_id AND r.namespace = p.namespace AND r.name = p.owner_name
    UNION ALL
    -- Events of pods no longer listed: grouped under their own name.
    SELECT e.bundle_id, e.namespace, e.pod, 'Pod', e.pod, e.message, e.n, true
    FROM sched_events e
    WHERE NOT EXISTS (SELECT 1 FROM pods p
                      -- Only the pods of clusters with such events are read.
                      JOIN (SELECT DISTINCT bundle_id FROM sched_events) g ON g.bundle_id = p.bundle_id
                      WHERE p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.pod)
),
-- Deployments and DaemonSets on the host network or with a container naming a hostPort: the
-- others have no host port, so their templates need not be parsed. (wl leaves out the
-- deleted ones.)
hp_keys AS (
    SELECT bundle_id, kind, namespace, name FROM workloads
    WHERE kind IN ('Deployment', 'DaemonSet') AND host_network
    UNION
    SELECT bundle_id, kind, namespace, workload FROM workload_containers
    WHERE kind IN ('Deployment', 'DaemonSet') AND contains(CAST(ports AS VARCHAR), 'hostPort')
),
-- Host ports of each workload; with hostNetwork every containerPort is a host port.
wl AS (
    SELECT w.bundle_id, w.kind, w.namespace, w.name, w.desired, w.available, w.strategy,
        coalesce(from_json(w.template->'$.spec.tolerations', '[{"key":"VARCHAR","operator":"VARCHAR","value":"VARCHAR","effect":"VARCHAR"}]'), []) AS tols,
        coalesce(from_json(w.template->'$.spec.nodeSelector', '"MAP(VARCHAR, VARCHAR)"'), MAP {}) AS selector,
        coalesce(TRY_CAST((w.template->>'$.spec.hostNetwork') AS BOOLEAN), false) AS host_network,
        list_filter(
            list_transform(
                list_concat(coalesce(from_json(w.template->'$.spec.containers', '["JSON"]'), []),
                            coalesce(from_json(w.template->'$.spec.initContainers', '["JSON"]'), [])),
                lambda c: coalesce(from_json(c->'$.ports', '[{"containerPort":"BIGINT","hostPort":"BIGINT","protocol":"VARCHAR"}]'), [])),
            lambda l: len(l) > 0) AS port_lists
    FROM workloads w
    -- Picked by row id, so that only these workloads' templates are read again.
    WHERE w.rowid IN (SELECT x.rowid FROM workloads x
                      JOIN hp_keys k ON k.bundle_id = x.bundle_id AND k.kind = x.kind AND k.namespace = x.namespace AND k.name = x.name
                      WHERE x.kind IN ('Deployment', 'DaemonSet') AND x.deleted_at IS NULL)
),
wl_ports AS (
    SELECT bundle_id, kind, namespace, name,
        list_sort(list_distinct(list_transform(
            list_filter(flatten(port_lists), lambda x: coalesce(nullif(x.hostPort, 0), CASE WHEN host_network THEN x.containerPort END, 0) > 0),
            lambda x: CAST(coalesce(nullif(x.hostPort, 0), x.containerPort) AS VARCHAR) || '/' || coalesce(x.protocol, 'TCP')))) AS ports
    FROM wl
),
-- maxSurge rounds up, maxUnavailable rounds down (defaults 25% / 25% for Deployments,
-- 0 / 1 for DaemonSets).
rolling AS (
    SELECT w.bundle_id, w.kind, w.namespace, w.name, w.desired, w.available,
        coalesce(w.strategy->>'$.type', 'RollingUpdate') AS stype,
        coalesce(w.strategy->>'$.rollingUpdate.maxSurge', CASE WHEN w.kind = 'Deployment' THEN '25%' ELSE '0' END) AS max_surge,
        coalesce(w.strategy->>'$.rollingUpdate.maxUnavailable', CASE WHEN w.kind = 'Deployment' THEN '25%' ELSE '1' END) AS max_unavailable
    FROM wl w
),
risk AS (
    SELECT r.*, p.ports,
        CASE WHEN ends_with(r.max_surge, '%') THEN ceil(coalesce(r.desired, 1) * TRY_CAST(rtrim(r.max_surge, '%') AS DOUBLE) / 100)
             ELSE TRY_CAST(r.max_surge AS DOUBLE) END AS surge,
        CASE WHEN ends_with(r.max_unavailable, '%') THEN floor(coalesce(r.desired, 1) * TRY_CAST(rtrim(r.max_unavailable, '%') AS DOUBLE) / 100)
             ELSE TRY_CAST(r.max_unavailable AS DOUBLE) END AS unavailable
    FROM rolling r
    JOIN wl_ports p USING (bundle_id, kind, namespace, name)
    WHERE len(p.ports) > 0 AND r.stype = 'RollingUpdate'
),
-- Nodes a Deployment's pods can go to: Ready, schedulable, taints tolerated, nodeSelector met.
-- Counted only where the judgement needs the count: a Deployment that surges and removes no
-- old pod first.
eligible AS (
    SELECT w.bundle_id, w.kind, w.namespace, w.name, count(n.name) AS nodes
    FROM risk r
    JOIN wl w USING (bundle_id, kind, namespace, name)
    LEFT JOIN nodes n ON n.bundle_id = w.bundle_id AND n.ready AND NOT n.unschedulable AND n.deleted_at IS NULL
        AND len(list_filter(n.taints, lambda t: t.effect IN ('NoSchedule', 'NoExecute')
                AND len(list_filter(w.tols, lambda o: (coalesce(o.effect, '') = '' OR o.effect = t.effect)
                    AND ((coalesce(o.key, '') = '' AND o.operator = 'Exists')
                         OR (o.key = t.key AND (o.operator = 'Exists' OR coalesce(o.value, '') = coalesce(t.value, '')))))) = 0)) = 0
        AND len(list_filter(map_entries(w.selector), lambda s: json_member(n.labels, s.key) IS DISTINCT FROM s.value)) = 0
    WHERE r.kind <> 'DaemonSet' AND r.surge > 0 AND coalesce(r.unavailable, 0) = 0
    GROUP BY ALL
),
stuck_design AS (
    SELECT r.*, e.nodes,
        -- What the message says of the strategy is known.
        CASE WHEN r.kind = 'DaemonSet' THEN r.max_surge IS NOT NULL
             ELSE r.max_surge IS NOT NULL AND r.max_unavailable IS NOT NULL AND e.nodes IS NOT NULL END AS design,
        coalesce(r.desired, 1) AS replicas
    FROM risk r
    LEFT JOIN eligible e USING (bundle_id, kind, namespace, name)
    WHERE r.surge > 0
      AND (r.kind = 'DaemonSet'
           -- Without Node objects the node count is unknown: no judgement.
           OR (coalesce(r.unavailable, 0) = 0 AND e.nodes > 0 AND coalesce(r.desired, 1) > 0 AND e.nodes <= coalesce(r.desired, 1)))
),
-- Host ports each pod asks for; with hostNetwork every containerPort is a host port. Only
-- containers naming a hostPort, and containers of hostNetwork pods, are parsed, and only in
-- clusters with something to report.
report_bundles AS (
    SELECT bundle_id FROM pending UNION SELECT bundle_id FROM stuck_design
),
pod_ports AS (
    SELECT bundle_id, namespace, pod, list(DISTINCT CAST(port AS VARCHAR) || '/' || proto ORDER BY CAST(port AS VARCHAR) || '/' || proto) AS ports
    FROM (
        SELECT bundle_id, namespace, pod,
            coalesce(nullif(x.hostPort, 0), CASE WHEN host_network THEN x.containerPort END) AS port,
            coalesce(x.protocol, 'TCP') AS proto
        FROM (SELECT c.bundle_id, c.namespace, c.pod, p.host_network,
                  unnest(from_json(c.ports, '[{"containerPort":"BIGINT","hostPort":"BIGINT","protocol":"VARCHAR"}]')) AS x
              FROM containers c
              JOIN report_bundles g ON g.bundle_id = c.bundle_id
              JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
              WHERE c.ports IS NOT NULL AND c.container_type <> 'ephemeral' AND contains(CAST(c.ports AS VARCHAR), 'hostPort')
              UNION ALL
              SELECT c.bundle_id, c.namespace, c.pod, p.host_network,
                  unnest(from_json(c.ports, '[{"containerPort":"BIGINT","hostPort":"BIGINT","protocol":"VARCHAR"}]')) AS x
              FROM pods p
              JOIN report_bundles g ON g.bundle_id = p.bundle_id
              JOIN containers c ON c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name
              WHERE p.host_network
                AND c.ports IS NOT NULL AND c.container_type <> 'ephemeral' AND NOT contains(CAST(c.ports AS VARCHAR), 'hostPort'))
    )
    WHERE port IS NOT NULL AND port > 0
    GROUP BY ALL
),
-- Who holds each port on the nodes.
holders AS (
    SELECT w.bundle_id, port, list(DISTINCT w.namespace || '/' || w.name || ' on ' || w.node ORDER BY w.namespace || '/' || w.name || ' on ' || w.node) AS pods
    FROM (SELECT bundle_id, namespace, pod, unnest(ports) AS port FROM pod_ports) pp
    JOIN pods w ON w.bundle_id = pp.bundle_id AND w.namespace = pp.namespace AND w.name = pp.pod
    WHERE w.node IS NOT NULL AND w.phase IN ('Running', 'Pending')
    GROUP BY ALL
),
pending_wl AS (
    SELECT p.bundle_id, p.namespace, p.wkind, p.wname, count(DISTINCT p.pod) AS pods, sum(p.n) AS n,
        list(DISTINCT p.pod ORDER BY p.pod) AS pod_names, arg_max(p.message, p.n) AS message,
        list_distinct(flatten(list(coalesce(pp.ports, [])))) AS ports,
        bool_and(p.gone) AS gone
    FROM pending p
    LEFT JOIN pod_ports pp ON pp.bundle_id = p.bundle_id AND pp.namespace = p.namespace AND pp.pod = p.pod
    GROUP BY ALL
),
findings AS (
    SELECT coalesce(p.bundle_id, s.bundle_id) AS bundle_id,
        coalesce(p.namespace, s.namespace) AS namespace,
        coalesce(p.wkind, s.kind) AS kind,
        coalesce(p.wname, s.name) AS name,
        p.pods, p.n, p.pod_names, p.message, coalesce(p.gone, false) AS gone,
        list_sort(list_distinct(list_concat(coalesce(p.ports, []), coalesce(s.ports, [])))) AS ports,
        s.design, s.max_surge, s.max_unavailable, s.replicas, s.nodes AS eligible
    FROM pending_wl p
    FULL OUTER JOIN stuck_design s ON s.bundle_id = p.bundle_id AND s.namespace = p.namespace AND s.kind = p.wkind AND s.name = p.wname

)
SELECT
    lower(f.kind) || '/' || f.namespace || '/' || f.name AS resource,
    f.namespace, f.name, f.bundle_id,
    list_filter([CASE WHEN f.pods > 0 AND f.message IS NOT NULL THEN CASE WHEN f.gone THEN 'gone' ELSE 'pending' END END,
                 CASE WHEN len(f.ports) > 0 THEN 'ports' END,
                 CASE WHEN f.design THEN 'design' END,
                 CASE WHEN f.pods > 0 AND NOT f.gone AND NOT coalesce(f.design, false) THEN 'taken' END], lambda p: p IS NOT NULL) AS parts,
    f.kind, f.pods, regexp_replace(f.message, '\s+preemption:.*$', '') AS pending_message, f.ports,
    f.max_surge, f.max_unavailable, f.replicas, f.eligible,
    list_concat(
        coalesce(list_transform(f.pod_names[1:3], lambda x: 'pending pod ' || x), []),
        coalesce(CASE WHEN f.message IS NOT NULL THEN [f.message] END, []),
        coalesce((SELECT list(DISTINCT h.port || ' held by ' || array_to_string(h.pods[1:3], ', '))
                  FROM holders h WHERE h.bundle_id = f.bundle_id AND list_contains(f.ports, h.port)), [])) AS evidence,
    coalesce(f.n, 1) AS count,
    -- Events of pods that are gone tell of a wait that ended (a rollout replaced or deleted the
    -- pod): nothing is Pending now.
    CASE WHEN f.pods > 0 AND f.gone THEN 'info'
         WHEN f.pods > 0 AND coalesce(wk.available, 0) = 0 AND wk.name IS NOT NULL THEN 'high'
         WHEN f.pods > 0 THEN 'medium'
         ELSE 'low' END AS severity
FROM findings f
LEFT JOIN (SELECT w.bundle_id, w.kind, w.namespace, w.name, w.available FROM workloads w
           -- Only the workloads of clusters with a finding are read.
           JOIN (SELECT DISTINCT bundle_id FROM findings) g ON g.bundle_id = w.bundle_id) wk
    ON wk.bundle_id = f.bundle_id AND wk.kind = f.kind AND wk.namespace = f.namespace AND wk.name = f.name
ORDER BY 1
