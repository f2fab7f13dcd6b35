/* ---
id = "resource-quantity-unit-mistake"
severity = "medium"
faq = ["WNR-34"]
category = "workloads"
patterns = [
  "container init was OOM-killed \\(memory limit too low\\?\\)",
  "minimum memory limit allowed is",
  "memory:\\s*\"?[0-9.]+m\"?\\s*$",
]
[title]
en = "Resource quantities with a wrong unit (memory in millibytes, CPU in thousands of cores)"
zh = "资源数量单位写错（内存写成毫字节、CPU 写成上千核）"
[remediation]
en = """
Kubernetes quantities are plain numbers with a suffix:

- cpu: `1.0` = 1 vCPU = `1000m`; `500` is 500 cores, not 500 millicores.
- memory, ephemeral-storage, storage: decimal `k, M, G, T, P, E` (base 1000) or binary
  `Ki, Mi, Gi, Ti, Pi, Ei` (base 1024). A lower-case `m` means **milli**: `memory: 512m` is
  0.512 bytes, not 512 MiB, and a number without suffix is bytes.
- `hugepages-<size>` is requested like memory.

A memory limit of a few bytes stops the container from starting (`container init was
OOM-killed (memory limit too low?)`); a CPU request larger than any node keeps the pod Pending
(`Insufficient cpu`). A CPU *limit* above the node (`limits.cpu: "32"` on 16 cores) only means
no limit and is often meant: it is reported when it reads as millicores without their `m`
(`1000`, `500`). Fix the unit in the workload (and in LimitRange defaults), e.g.:
```
kubectl -n <ns> set resources deploy/<name> -c <container> --requests=memory=512Mi --limits=memory=512Mi
kubectl -n <ns> set resources deploy/<name> -c <container> --requests=cpu=500m
```
"""
zh = """
Kubernetes 的资源数量是带后缀的数字：

- cpu：`1.0` = 1 vcpu = `1000m`；`500` 表示 500 核，而不是 500 毫核。
- memory、ephemeral-storage、storage：十进制 `k, M, G, T, P, E`（base 1000）或二进制 `Ki, Mi, Gi, Ti, Pi, Ei`（2^n）。
  小写 `m` 表示**毫**：`memory: 512m` 是 0.512 字节而不是 512 MiB；不带后缀的数字单位是字节。
- `hugepages-<size>` 的写法与内存相同。

只有几个字节的内存 limit 会导致容器无法启动（`container init was OOM-killed (memory limit too low?)`）；
CPU request 大于任何节点的容量会让 Pod 一直 Pending（`Insufficient cpu`）。CPU *limit* 大于节点容量（16 核节点上
`limits.cpu: "32"`）只是等于不设限制，通常是有意为之：只有当它看起来是漏写了 `m` 的毫核（`1000`、`500`）时才报告。请修正工作负载（以及 LimitRange 默认值）中的单位，例如：
```
kubectl -n <ns> set resources deploy/<name> -c <container> --requests=memory=512Mi --limits=memory=512Mi
kubectl -n <ns> set resources deploy/<name> -c <container> --requests=cpu=500m
```
"""
[message]
en = """\
{% if kind == 'LimitRange' %}LimitRange {{ name }} ({{ container_name }}){% else %}container {{ container_name }}{% endif %}: \
{% for m in mistakes %}{{ m.section }} \
  {% if m.what.kind == 'milli' %}{{ m.what.res }} {{ m.what.q }} is {{ m.what.amount }} bytes (m = milli): did you mean {{ m.what.mebi }}?\
  {% elif m.what.kind == 'small' %}{{ m.what.res }} {{ m.what.q }} is only {{ m.what.amount }} bytes\
{% if m.what.unitless %} (no unit means bytes): did you mean {{ m.what.q }}Mi?{% endif %}\
  {% else %}cpu {{ m.what.q }} is {{ m.what.amount }} cores\
{% if m.what.node_cpu is not none %}, more than the largest node has ({{ m.what.node_cpu }}){% endif %}\
{% if m.what.unitless %}: did you mean {{ m.what.q }}m?{% endif %}{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
{% if kind == 'LimitRange' %}LimitRange {{ name }}（{{ container_name }}）{% else %}容器 {{ container_name }}{% endif %}：\
{% for m in mistakes %}{{ m.section }} \
  {% if m.what.kind == 'milli' %}{{ m.what.res }} {{ m.what.q }} 为 {{ m.what.amount }} 字节（m 表示毫）：是否应为 {{ m.what.mebi }}？\
  {% elif m.what.kind == 'small' %}{{ m.what.res }} {{ m.what.q }} 仅为 {{ m.what.amount }} 字节\
{% if m.what.unitless %}（不带单位即为字节）：是否应为 {{ m.what.q }}Mi？{% endif %}\
  {% else %}cpu {{ m.what.q }} 为 {{ m.what.amount }} 核\
{% if m.what.node_cpu is not none %}，超过最大节点的 CPU 容量（{{ m.what.node_cpu }}）{% endif %}\
{% if m.what.unitless %}：是否应为 {{ m.what.q }}m？{% endif %}{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
[thresholds]
# Memory / ephemeral-storage below this many bytes is no real amount (runc refuses limits
# under 6 MB).
min_memory_bytes = 4194304
# Without Node objects, or where a node autoscaler launches larger nodes on demand, a CPU
# amount above this many cores is taken as a unit mistake.
max_cpu_cores = 256
# A CPU limit above the largest node is no limit at all, often on purpose; written without a
# unit and at least this large it reads as millicores that lost their "m".
min_unitless_cpu_limit = 100
--- */
WITH biggest AS (
    SELECT max(capacity_cpu) AS cpu FROM nodes
),
-- A node autoscaler (Karpenter's NodePools, the cluster-autoscaler and its status ConfigMap,
-- as GKE/AKS/EKS write it) launches a larger node for a pod that needs one: the nodes present
-- at collection are not the largest the workloads may get.
autoscaled AS (
    SELECT EXISTS (SELECT 1 FROM objects
                   WHERE api_group = 'karpenter.sh'
                      OR (api_group = '' AND resource = 'configmaps' AND namespace = 'kube-system' AND name = 'cluster-autoscaler-status'))
        OR EXISTS (SELECT 1 FROM workloads WHERE kind = 'Deployment' AND contains(name, 'cluster-autoscaler')) AS yes
),
-- Containers of pods without a collected controller (bare pods, static pods, operator-made
-- pods), found before their containers are joined.
pod_containers AS MATERIALIZED (
    SELECT c.bundle_id, 'Pod' AS kind, c.namespace, c.pod AS name, c.name AS container, c.requests, c.limits
    FROM containers c
    -- (a pod without an owner, or owned by its Node, matches no workload: one anti-join)
    JOIN (SELECT p.bundle_id, p.namespace, p.name FROM pods p
          WHERE NOT EXISTS (SELECT 1 FROM workloads o WHERE o.kind <> 'Node' AND o.bundle_id = p.bundle_id AND o.kind = p.owner_kind
                            AND o.namespace = p.namespace AND o.name = p.owner_name)) p
        ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    WHERE c.container_type <> 'ephemeral'
),
-- LimitRange defaults are copied into every new container of the namespace.
limit_amounts AS (
    SELECT o.bundle_id, 'LimitRange' AS kind, o.namespace, o.name, coalesce(l.type, 'Container') AS container, s.section, e.key AS res, e.value AS q
    FROM (SELECT bundle_id, namespace, name, doc FROM objects WHERE api_group = '' AND resource = 'limitranges') o,
        unnest(coalesce(from_json(o.doc->'$.spec.limits', '[{"type":"VARCHAR","default":"MAP(VARCHAR, VARCHAR)","defaultRequest":"MAP(VARCHAR, VARCHAR)","max":"MAP(VARCHAR, VARCHAR)","min":"MAP(VARCHAR, VARCHAR)"}]'), [])) AS t(l),
        unnest([{'section': 'default', 'm': l."default"}, {'section': 'defaultRequest', 'm': l.defaultRequest}]) AS u(s),
        unnest(map_entries(coalesce(s.m, MAP {}))) AS v(e)
),
-- The judgement depends on the resource, section and amount only: made once per distinct
-- amount (of every workload template: a superset of the top-level ones judged below), and
-- kept only where it finds a mistake.
verdicts AS MATERIALIZED (
    SELECT * FROM (
        SELECT a.res, a.section, a.q,
            -- The mistake, NULL when there is none: a memory amount in millibytes, one too small to
            -- start a container, or CPU beyond every node.
            CASE
                WHEN a.res IN ('memory', 'ephemeral-storage') OR a.res LIKE 'hugepages-%' THEN
                    CASE WHEN a.suffix = 'm' THEN {'kind': 'milli', 'res': a.res, 'q': a.q, 'amount': CAST(a.v AS VARCHAR), 'node_cpu': NULL,
                                                   'unitless': false, 'mebi': regexp_replace(a.q, 'm$', 'Mi')}
                         -- Plain bytes, or a limit too small to start a container; a small request
                         -- with a unit (1Mi for a sidecar) is deliberate.
                         WHEN a.v > 0 AND a.v < ${min_memory_bytes}
                              AND (a.suffix = '' OR a.section IN ('limits', 'default'))
                         THEN {'kind': 'small', 'res': a.res, 'q': a.q, 'amount': CAST(CAST(a.v AS BIGINT) AS VARCHAR), 'node_cpu': NULL,
                               'unitless': coalesce(a.suffix = '', false), 'mebi': NULL}
                    END
                WHEN a.res = 'cpu' THEN
                    -- A request above every node can never be placed. A limit above the node is only
                    -- no limit at all, often on purpose: it is a mistake when it reads as millicores
                    -- written without their unit.
                    -- With an autoscaler, only an amount no node has (or millicores without their
                    -- unit) is a mistake.
                    CASE WHEN a.v > coalesce(b.cpu, ${max_cpu_cores})
                              AND (NOT x.yes OR a.v > ${max_cpu_cores} OR (a.suffix = '' AND a.v >= ${min_unitless_cpu_limit}))
                              AND (a.section IN ('requests', 'defaultRequest') OR (a.suffix = '' AND a.v >= ${min_unitless_cpu_limit}))
                         THEN {'kind': 'cpu', 'res': a.res, 'q': a.q, 'amount': regexp_replace(CAST(a.v AS VARCHAR), '\.0$', ''),
                               'node_cpu': regexp_replace(CAST(b.cpu AS VARCHAR), '\.0$', ''),
                               'unitless': coalesce(a.suffix = '', false), 'mebi': NULL}
                    END
            END AS what,
            CASE
                WHEN a.res = 'cpu' AND a.section IN ('requests', 'defaultRequest') THEN 'high'
                WHEN a.res = 'cpu' THEN 'medium'
                WHEN a.section IN ('limits', 'default') THEN 'high'
                ELSE 'medium' END AS sev
        FROM (SELECT res, section, q, k8s_quantity(q) AS v, k8s_quantity_suffix(q) AS suffix
              FROM (SELECT DISTINCT e.key AS res, 'requests' AS section, e.value AS q FROM (SELECT unnest(map_entries(requests)) AS e FROM workload_containers)
                    UNION SELECT DISTINCT e.key, 'limits', e.value FROM (SELECT unnest(map_entries(limits)) AS e FROM workload_containers)
                    UNION SELECT DISTINCT e.key, 'requests', e.value FROM (SELECT unnest(map_entries(requests)) AS e FROM pod_containers)
                    UNION SELECT DISTINCT e.key, 'limits', e.value FROM (SELECT unnest(map_entries(limits)) AS e FROM pod_containers)
                    UNION SELECT res, section, q FROM limit_amounts)) a
        CROSS JOIN biggest b CROSS JOIN autoscaled x)
    WHERE what IS NOT NULL
),
-- Usually no amount is a mistake: then the templates are not read again (the gate is empty).
gate AS (
    SELECT 1 AS one FROM verdicts LIMIT 1
),
owners AS MATERIALIZED (
    SELECT w.bundle_id, w.kind, w.namespace, w.name, w.owner_kind FROM workloads w, gate
),
-- Pod templates of top-level workloads (a Deployment's ReplicaSets and a CronJob's Jobs are
-- judged through their owner).
tmpl_hits AS MATERIALIZED (
    SELECT c.bundle_id, c.kind, c.namespace, c.workload AS name, c.name AS container, c.section, c.e.key AS res, c.e.value AS q
    FROM (SELECT bundle_id, kind, namespace, workload, name, 'requests' AS section, unnest(map_entries(requests)) AS e FROM workload_containers, gate
          UNION ALL
          SELECT bundle_id, kind, namespace, workload, name, 'limits', unnest(map_entries(limits)) FROM workload_containers, gate) c
    WHERE (c.e.key, c.section, c.e.value) IN (SELECT (res, section, q) FROM verdicts)
),
-- Every container (and LimitRange) with its judged amounts.
judged AS (
    SELECT h.*, j.what, j.sev
    FROM tmpl_hits h
    JOIN owners o ON o.bundle_id = h.bundle_id AND o.kind = h.kind AND o.namespace = h.namespace AND o.name = h.name
    JOIN verdicts j ON j.res = h.res AND j.section = h.section AND j.q = h.q
    WHERE NOT (h.kind = 'ReplicaSet' AND o.owner_kind = 'Deployment')
      AND NOT (h.kind = 'Job' AND o.owner_kind = 'CronJob')
    UNION ALL
    SELECT c.bundle_id, c.kind, c.namespace, c.name, c.container, s.section, e.key, e.value, j.what, j.sev
    FROM pod_containers c,
        unnest([{'section': 'requests', 'm': c.requests}, {'section': 'limits', 'm': c.limits}]) AS u(s),
        unnest(map_entries(coalesce(s.m, MAP {}))) AS v(e)
    JOIN verdicts j ON j.res = e.key AND j.section = s.section AND j.q = e.value
    UNION ALL
    SELECT a.*, j.what, j.sev
    FROM limit_amounts a
    JOIN verdicts j ON j.res = a.res AND j.section = a.section AND j.q = a.q
),
-- What the affected pods show (containers that cannot start, pods that cannot be placed).
symptoms AS (
    -- (split on state_message so that each scan skips the containers without a message)
    SELECT c.bundle_id, c.namespace, c.pod, c.name AS container,
        CASE WHEN regexp_matches(coalesce(c.last_message, ''), '(memory limit too low|minimum memory limit|OOM-killed|memory\.limit_in_bytes|memory\.max)')
             THEN c.last_reason || ': ' || c.last_message ELSE c.state_reason || ': ' || c.state_message END AS what
    FROM containers c
    WHERE c.state_message IS NOT NULL
      AND regexp_matches(coalesce(c.state_message, '') || coalesce(c.last_message, ''), '(memory limit too low|minimum memory limit|OOM-killed|memory\.limit_in_bytes|memory\.max)')
    UNION ALL
    SELECT c.bundle_id, c.namespace, c.pod, c.name AS container,
        CASE WHEN regexp_matches(coalesce(c.last_message, ''), '(memory limit too low|minimum memory limit|OOM-killed|memory\.limit_in_bytes|memory\.max)')
             THEN c.last_reason || ': ' || c.last_message ELSE c.state_reason || ': ' || c.state_message END AS what
    FROM containers c
    WHERE c.state_message IS NULL AND c.last_message IS NOT NULL
      AND regexp_matches(coalesce(c.state_message, '') || coalesce(c.last_message, ''), '(memory limit too low|minimum memory limit|OOM-killed|memory\.limit_in_bytes|memory\.max)')
    UNION ALL
    SELECT bundle_id, namespace, name, NULL, 'Pending: ' || scheduled_message
    FROM pods WHERE node IS NULL AND contains(coalesce(scheduled_message, ''), 'Insufficient cpu')
),
-- Each symptom under the names it is judged with: its pod's own name, and (for workloads, whose
-- pods are named <workload>-<suffix>) every prefix of it that a '-' follows.
symptom_names AS (
    SELECT *, pod AS owner, true AS own FROM symptoms
    UNION ALL
    SELECT *, unnest(list_transform(range(1, len(string_split(pod, '-'))), lambda k: array_to_string(string_split(pod, '-')[1:k], '-'))), false
    FROM symptoms
)
SELECT lower(j.kind) || '/' || j.namespace || '/' || j.name AS resource, j.namespace, j.name, j.bundle_id,
    j.kind, j.container AS container_name, list({'section': j.section, 'what': j.what} ORDER BY j.section, j.res) AS mistakes,
    list_concat(list(j.section || '.' || j.res || ': ' || j.q ORDER BY j.section, j.res),
        coalesce((SELECT list(DISTINCT s.pod || coalesce('/' || s.container, '') || ' ' || s.what)[1:3] FROM symptom_names s
                  WHERE s.bundle_id = j.bundle_id AND s.namespace = j.namespace AND s.owner = j.name
                    AND (s.own OR j.kind <> 'LimitRange')
                    AND (s.container IS NULL OR s.container = j.container)), [])) AS evidence,
    CASE WHEN bool_or(j.sev = 'high') THEN 'high' ELSE 'medium' END AS severity
FROM judged j
WHERE j.what IS NOT NULL
GROUP BY j.bundle_id, j.kind, j.namespace, j.name, j.container
-- As the messages sort: by the container's name, ended as the message goes on.
ORDER BY 1, CASE WHEN j.kind = 'LimitRange' THEN j.container || ')' ELSE j.container || ':' END
