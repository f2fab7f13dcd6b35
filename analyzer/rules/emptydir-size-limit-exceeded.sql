/* ---
id = "emptydir-size-limit-exceeded"
severity = "medium"
faq = ["WNR-42"]
category = "workloads"
patterns = [
  "Usage of EmptyDir volume \"?[^\"]*\"? exceeds the limit",
  "exceeds the limit \"?[0-9.]+m\"?",
]
# An eviction (pod status, event, kubelet line) within a day is current; Evicted pods stay
# listed for weeks after.
recent = "24h"
[title]
en = "Pods evicted: \"Usage of EmptyDir volume exceeds the limit\""
zh = "Pod 被驱逐：\"Usage of EmptyDir volume exceeds the limit\""
[remediation]
en = """
The kubelet evicts a pod as soon as an `emptyDir` holds more than its `sizeLimit`. Check the
limit and its unit: `sizeLimit: 1m` is one **milli**byte (any write evicts the pod); write
`1Mi`/`1Gi`. An emptyDir with `medium: Memory` is a tmpfs mount: what it holds is RAM and also
counts against the container's memory limit, so size both together.
```yaml
volumes:
- name: cache
  emptyDir:
    medium: Memory      # tmpfs
    sizeLimit: 64Mi
```
```
kubectl get pods -A --field-selector status.phase=Failed -o wide | grep Evicted
kubectl -n <ns> get pod <pod> -o jsonpath='{.status.message}'
kubectl -n <ns> delete pods --field-selector status.phase=Failed
```
"""
zh = """
emptyDir 中的数据超过 `sizeLimit` 时 kubelet 会立即驱逐该 Pod。请检查 limit 及其单位：`sizeLimit: 1m` 表示 1 **毫**字节
（任何写入都会导致驱逐），应写成 `1Mi`/`1Gi`。`medium: Memory` 的 emptyDir 使用 tmpfs 挂载：其中的数据占用内存，
并计入容器的内存 limit，两者需一起规划。
```yaml
volumes:
- name: cache
  emptyDir:
    medium: Memory      # tmpfs
    sizeLimit: 64Mi
```
```
kubectl get pods -A --field-selector status.phase=Failed -o wide | grep Evicted
kubectl -n <ns> get pod <pod> -o jsonpath='{.status.message}'
kubectl -n <ns> delete pods --field-selector status.phase=Failed
```
"""
[message]
en = """\
{% if kind == 'evicted' %}\
  {{ pods }} pod(s) of {{ owner }} evicted: Usage of EmptyDir volume exceeds the limit\
  {% if vols %} ({% for v in vols | reject('none') %}{{ v.vol }} limit {{ v.lim }}{% if not loop.last %}, {% endif %}{% endfor %}){% endif %} \
[{{ seen | join(', ') }}]\
  {% if volumes is not none %}; emptyDir {% endif %}\
{% else %}\
  {{ owner }}: emptyDir \
{% endif %}\
{% for v in (volumes if volumes is not none else []) | reject('none') %}\
  {{ v.vol }} sizeLimit {{ v.size_limit }}{% if v.medium is not none %} medium {{ v.medium }}{% endif %}\
  {% if v.absurd %} (= {{ v.bytes }} bytes{% if v.mebi is not none %}, m = milli: did you mean {{ v.mebi }}?{% endif %}){% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}\
{% if kind == 'evicted' %}\
  {% if not current %}; the last eviction was {{ last_days }} days before collection (leftover Evicted pods){% endif %}\
{% else %}: the pod is evicted on its first write{% endif %}"""
zh = """\
{% if kind == 'evicted' %}\
  {{ owner }} 的 {{ pods }} 个 Pod 被驱逐：Usage of EmptyDir volume exceeds the limit\
  {% if vols %}（{% for v in vols | reject('none') %}{{ v.vol }} 限制 {{ v.lim }}{% if not loop.last %}, {% endif %}{% endfor %}）{% endif %} \
[来源：\
  {% for s in seen %}\
    {% if s == 'pod status' %}Pod 状态{% elif s == 'events' %}事件\
    {% elif s is endingwith(' log') %}{{ s[:-4] }} 日志{% else %}{{ s }}{% endif %}\
    {% if not loop.last %}, {% endif %}\
  {% endfor %}]\
  {% if volumes is not none %}；emptyDir {% endif %}\
{% else %}\
  {{ owner }}：emptyDir \
{% endif %}\
{% for v in (volumes if volumes is not none else []) | reject('none') %}\
  {{ v.vol }} sizeLimit {{ v.size_limit }}{% if v.medium is not none %} medium {{ v.medium }}{% endif %}\
  {% if v.absurd %}（= {{ v.bytes }} 字节{% if v.mebi is not none %}，m 表示 milli（毫）：是否应为 {{ v.mebi }}？{% endif %}）{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}\
{% if kind == 'evicted' %}\
  {% if not current %}；最近一次驱逐在收集前 {{ last_days }} 天（残留的 Evicted Pod）{% endif %}\
{% else %}：Pod 在首次写入时即被驱逐{% endif %}"""
[thresholds]
# A sizeLimit below this many bytes is no real amount (a unit mistake).
min_size_limit_bytes = 1048576
--- */
-- Evictions told by pod status, events and kubelet logs, each with when it happened: the
-- pod's latest recorded time (start, conditions), the event's last time, the line's time.
WITH evicted AS (
    SELECT p.bundle_id, p.namespace, p.name AS pod, p.node, p.message AS line, 'pod status' AS seen,
        greatest(p.started_at, p.created_at,
                 list_max(list_transform(coalesce(p.conditions, []), lambda c: k8s_ts(c.lastTransitionTime))))::TIMESTAMPTZ AS ts,
        b.collected_at - greatest(p.started_at, p.created_at,
                 list_max(list_transform(coalesce(p.conditions, []), lambda c: k8s_ts(c.lastTransitionTime)))) AS age,
        false AS is_log
    FROM pods p JOIN bundles b ON b.bundle_id = p.bundle_id
    WHERE contains(coalesce(p.message, ''), 'Usage of EmptyDir volume')
    UNION ALL
    SELECT e.bundle_id, e.namespace, e.object_name, coalesce(e.source_host, p.node), e.message, 'events',
        coalesce(e.last_seen, e.first_seen)::TIMESTAMPTZ, b.collected_at - coalesce(e.last_seen, e.first_seen), false
    FROM events e
    JOIN bundles b ON b.bundle_id = e.bundle_id
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.object_name
    WHERE contains(e.message, 'Usage of EmptyDir volume')
    UNION ALL
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id), split_part(regexp_extract(l.line, 'pod="([^"]+)"', 1), '/', 1),
        nullif(split_part(regexp_extract(l.line, 'pod="([^"]+)"', 1), '/', 2), ''), l.node, l.line, coalesce(l.service, l.source) || ' log',
        l.ts, l.age, true
    FROM log_lines l LEFT JOIN host_nodes h ON h.bundle_id = l.bundle_id
    WHERE contains(l.line, 'Usage of EmptyDir volume')
),
rs_owner AS (
    SELECT w.bundle_id, w.namespace, w.name, w.owner_kind, w.owner_name FROM workloads w
    -- Only the clusters with an eviction.
    JOIN (SELECT DISTINCT bundle_id FROM evicted) g ON g.bundle_id = w.bundle_id
    WHERE w.kind IN ('ReplicaSet', 'Job')
),
tagged AS (
    SELECT e.*,
        coalesce(nullif(regexp_extract(e.line, 'EmptyDir volume \\?"?([^"\\ ]+)', 1), 'exceeds'), '') AS vol,
        regexp_extract(e.line, 'exceeds the limit \\?"?([^"\\ ]+?)\\?"?\.?(\s|$)', 1) AS lim,
        CASE WHEN p.owner_kind IN ('ReplicaSet', 'Job') AND r.owner_kind IN ('Deployment', 'CronJob') THEN lower(r.owner_kind) || '/' || r.owner_name
             WHEN p.owner_kind IS NOT NULL THEN lower(p.owner_kind) || '/' || p.owner_name
             WHEN e.pod IS NOT NULL THEN 'pod/' || e.pod END AS owner,
        CASE WHEN p.owner_kind IN ('ReplicaSet', 'Job') AND r.owner_kind IN ('Deployment', 'CronJob') THEN r.owner_kind ELSE p.owner_kind END AS owner_kind,
        CASE WHEN p.owner_kind IN ('ReplicaSet', 'Job') AND r.owner_kind IN ('Deployment', 'CronJob') THEN r.owner_name ELSE p.owner_name END AS owner_name
    FROM evicted e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.pod
    LEFT JOIN rs_owner r ON r.bundle_id = p.bundle_id AND r.namespace = p.namespace AND r.name = p.owner_name
),
per_owner AS (
    SELECT bundle_id, namespace, owner, any_value(owner_kind) AS owner_kind, any_value(owner_name) AS owner_name,
        count(DISTINCT pod) AS pods, list(DISTINCT node) FILTER (WHERE node IS NOT NULL) AS nodes,
        list(DISTINCT CASE WHEN lim IS NOT NULL THEN {'vol': vol, 'lim': lim} END
             ORDER BY CASE WHEN lim IS NOT NULL THEN {'vol': vol, 'lim': lim} END) FILTER (WHERE vol <> '') AS vols,
        list(DISTINCT seen ORDER BY seen) AS seen, list(DISTINCT line)[1:3] AS lines,
        bool_and(is_log) AS logs_only,
        count(*) FILTER (WHERE is_log) AS log_n,
        count(*) FILTER (WHERE is_log AND in_window(age, ${recent})) AS log_recent,
        min(ts) AS first_seen, max(ts) AS last_seen,
        bool_or(coalesce(age <= ${recent}, true)) AS current,
        min(age) AS last_age
    FROM tagged
    GROUP BY bundle_id, namespace, owner
),
-- emptyDir volumes with a sizeLimit, declared in pod templates and bare pods (a text test
-- first: volumes without a sizeLimit are never parsed).
declared AS (
    SELECT *, k8s_quantity(size_limit) AS bytes, k8s_quantity_suffix(size_limit) AS suffix FROM (
    SELECT bundle_id, namespace, lower(kind) || '/' || name AS owner, (v->>'$.name') AS vol,
        (v->>'$.emptyDir.sizeLimit') AS size_limit, (v->>'$.emptyDir.medium') AS medium
    FROM (SELECT bundle_id, namespace, kind, name, unnest(coalesce(from_json(volumes, '["JSON"]'), [])) AS v
          FROM workloads WHERE kind NOT IN ('ReplicaSet') AND NOT (kind = 'Job' AND owner_kind = 'CronJob')
              AND contains(CAST(volumes AS VARCHAR), 'sizeLimit'))
    WHERE (v->'$.emptyDir') IS NOT NULL
    UNION ALL
    SELECT bundle_id, namespace, 'pod/' || name, v->>'$.name', v->>'$.emptyDir.sizeLimit', (v->>'$.emptyDir.medium')
    FROM (SELECT bundle_id, namespace, name, unnest(coalesce(from_json(volumes, '["JSON"]'), [])) AS v FROM pods
          WHERE owner_kind IS NULL AND contains(CAST(volumes AS VARCHAR), 'sizeLimit'))
    WHERE (v->'$.emptyDir') IS NOT NULL)
),
absurd AS (
    SELECT * FROM declared
    WHERE size_limit IS NOT NULL AND bytes < ${min_size_limit_bytes}
),
declared_text AS (
    SELECT bundle_id, namespace, owner,
        list(CASE WHEN vol IS NOT NULL THEN
                 {'vol': vol, 'size_limit': size_limit, 'medium': medium, 'absurd': coalesce(bytes < ${min_size_limit_bytes}, false),
                  'bytes': CAST(bytes AS VARCHAR), 'mebi': CASE WHEN suffix = 'm' THEN regexp_replace(size_limit, 'm$', 'Mi') END} END
             ORDER BY vol) AS volumes,
        bool_or(bytes < ${min_size_limit_bytes}) AS has_absurd
    FROM declared WHERE size_limit IS NOT NULL
    GROUP BY ALL
)
SELECT o.owner AS resource, o.namespace, coalesce(o.owner_name, split_part(o.owner, '/', 2)) AS name, o.nodes[1] AS node, o.bundle_id,
    'evicted' AS kind, o.pods, o.owner, o.vols, o.seen, d.volumes, o.current,
    CAST(round(epoch(o.last_age) / 86400.0) AS BIGINT) AS last_days,
    o.lines AS evidence,
    o.pods AS count,
    -- Evicted within the day: medium, high when the limit is no real amount (every pod is
    -- evicted on its first write). Older evictions: the absurd limit is still there (medium),
    -- otherwise they are history (info).
    CASE WHEN o.current AND coalesce(d.has_absurd, false) THEN 'high'
         WHEN o.current THEN 'medium'
         WHEN coalesce(d.has_absurd, false) THEN 'medium'
         ELSE 'info' END AS severity,
    o.first_seen, o.last_seen,
    CASE WHEN o.logs_only THEN o.log_recent END AS recent_count
FROM per_owner o
LEFT JOIN declared_text d ON d.bundle_id = o.bundle_id AND d.namespace = o.namespace AND d.owner = o.owner
UNION ALL
-- A sizeLimit of a few bytes evicts the pod on its first write, before any eviction is seen.
SELECT a.owner, a.namespace, split_part(a.owner, '/', 2), NULL, a.bundle_id,
    'absurd', NULL, a.owner, NULL, NULL, d.volumes, NULL, NULL,
    a.vols, 1, 'medium', NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, NULL::BIGINT
FROM (SELECT bundle_id, namespace, owner, list(vol || ': sizeLimit ' || size_limit ORDER BY vol) AS vols FROM absurd GROUP BY ALL) a
JOIN declared_text d ON d.bundle_id = a.bundle_id AND d.namespace = a.namespace AND d.owner = a.owner
WHERE NOT EXISTS (SELECT 1 FROM per_owner o WHERE o.bundle_id = a.bundle_id AND o.namespace = a.namespace AND o.owner = a.owner)
ORDER BY 1
