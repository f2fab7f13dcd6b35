/* ---
id = "node-disk-pressure"
severity = "high"
faq = ["WNR-09"]
category = "nodes"
patterns = [
  "node\\.kubernetes\\.io/disk-pressure",
  "NodeHasDiskPressure",
  "The node was low on resource: ephemeral-storage",
  "The node had condition: \\[DiskPressure\\]",
  "had untolerated taint \\{node\\.kubernetes\\.io/disk-pressure",
  "Attempting to reclaim ephemeral-storage",
  "EvictionThresholdMet",
  "FreeDiskSpaceFailed",
  "Disk usage on image filesystem is at .* which is over the high threshold",
]
# The kubelet's eviction manager logs every 10 s while it reclaims disk; an eviction or
# event older than a day is history (old Evicted pods stay listed for weeks).
recent = "24h"
[title]
en = "Nodes under disk pressure (DiskPressure, node.kubernetes.io/disk-pressure taint, ephemeral-storage evictions)"
zh = "节点磁盘压力（DiskPressure、node.kubernetes.io/disk-pressure 污点、ephemeral-storage 驱逐）"
[remediation]
en = """
The kubelet found the node's root or image filesystem below its eviction threshold
(`nodefs.available<10%`, `imagefs.available<15%` by default): it sets `DiskPressure`, taints the
node `node.kubernetes.io/disk-pressure:NoSchedule`, garbage-collects images
(`imageGCHighThresholdPercent` / `imageGCLowThresholdPercent`) and evicts pods. Free space on
the node (unused images, old logs, large emptyDir volumes), or grow the disk; the taint goes
away by itself once the kubelet sees enough free space. Give critical pods a
`priorityClassName` (`system-node-critical`, `system-cluster-critical`) so they are scheduled
and evicted last. The usage comes from cAdvisor.
```
df -h
df -Hi
crictl rmi --prune
journalctl --vacuum-size=500M
# remove DiskPressure taint (only after freeing space; the kubelet re-adds it otherwise)
kubectl taint nodes <nodename> node.kubernetes.io/disk-pressure-
```
"""
zh = """
kubelet 发现节点根文件系统或镜像文件系统的可用空间低于驱逐阈值（默认 `nodefs.available<10%`、`imagefs.available<15%`）：
设置 `DiskPressure`，给节点打上 `node.kubernetes.io/disk-pressure:NoSchedule` 污点，触发镜像垃圾回收
（`imageGCHighThresholdPercent` / `imageGCLowThresholdPercent`）并驱逐 Pod。清理节点空间（无用镜像、旧日志、
大的 emptyDir 卷）或扩容磁盘；kubelet 检测到空间充足后会自动去掉污点。为关键 Pod 设置 `priorityClassName`
（`system-node-critical`、`system-cluster-critical`），确保其被调度、最后被驱逐。监控数据来自 cAdvisor。
```
df -h
df -Hi
crictl rmi --prune
journalctl --vacuum-size=500M
# 移除 DiskPressure 污点（需先释放空间，否则 kubelet 会重新添加）
kubectl taint nodes <nodename> node.kubernetes.io/disk-pressure-
```
"""
[message]
en = """\
{% if history %}node {{ node }} evicted {{ evicted_old }} pods for disk, the last {{ days_ago }} days before collection; \
no disk pressure now (delete the leftover Evicted pods)\
{% else %}node {{ node }} {% if cleared_at is not none %}was{% else %}is{% endif %} short of disk: \
  {% if whats %}\
    {% for w in whats %}\
      {% if w.kind == 'condition' %}condition DiskPressure=True{% if w.ref is not none %} ({{ w.ref }}){% endif %}\
      {% elif w.kind == 'taint' %}taint node.kubernetes.io/disk-pressure:{{ w.ref }}\
      {% elif w.kind == 'pods' %}pods evicted for disk{% if w.ref %} long ago{% endif %}\
      {% elif w.kind == 'event' %}event {{ w.ref }}\
      {% elif w.kind == 'filesystem' %}filesystem above {{ used_pct_warn }}%\
      {% else %}{{ w.kind }} log {{ w.ref }}{% endif %}\
      {% if not loop.last %}, {% endif %}\
    {% endfor %}\
  {% else %}no current sign{% endif %}\
  {% if evicted_now > 0 %} ({{ evicted_now }} pods evicted){% endif %}\
  {% if cleared_at is not none %}; all before DiskPressure cleared at {{ cleared_at }}: no disk pressure now{% endif %}\
{% endif %}"""
zh = """\
{% if history %}节点 {{ node }} 曾因磁盘不足驱逐 {{ evicted_old }} 个 Pod，最近一次在收集前 {{ days_ago }} 天；\
目前没有磁盘压力（可删除残留的 Evicted Pod）\
{% else %}节点 {{ node }} {% if cleared_at is not none %}曾经{% endif %}磁盘空间不足：\
  {% if whats %}\
    {% for w in whats %}\
      {% if w.kind == 'condition' %}节点状况 DiskPressure=True{% if w.ref is not none %}（{{ w.ref }}）{% endif %}\
      {% elif w.kind == 'taint' %}污点 node.kubernetes.io/disk-pressure:{{ w.ref }}\
      {% elif w.kind == 'pods' %}{% if w.ref %}很久以前因磁盘不足驱逐的 Pod{% else %}因磁盘不足驱逐 Pod{% endif %}\
      {% elif w.kind == 'event' %}事件 {{ w.ref }}\
      {% elif w.kind == 'filesystem' %}文件系统使用率超过 {{ used_pct_warn }}%\
      {% else %}{{ w.kind }} 日志 {{ w.ref }}{% endif %}\
      {% if not loop.last %}、{% endif %}\
    {% endfor %}\
  {% else %}目前无迹象{% endif %}\
  {% if evicted_now > 0 %}（已驱逐 {{ evicted_now }} 个 Pod）{% endif %}\
  {% if cleared_at is not none %}；均发生在 DiskPressure 于 {{ cleared_at }} 解除之前：目前没有磁盘压力{% endif %}\
{% endif %}"""
[thresholds]
used_pct_warn = 85
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
-- DiskPressure the kubelet reports False now, since when: events and log lines from before that
-- transition are a pressure that has since cleared (the GC or an admin freed space).
cleared AS (
    SELECT bundle_id, node, max(last_transition) AS since FROM node_conditions
    WHERE type = 'DiskPressure' AND status = 'False' AND last_transition IS NOT NULL
    GROUP BY ALL
),
evictions AS (
    SELECT p.bundle_id, p.node, p.namespace, p.name, p.reason, p.message,
        -- When it was evicted: the latest time the pod records (its conditions' transitions,
        -- its start); leftover Evicted pods stay listed for weeks after.
        greatest(p.started_at, p.created_at,
                 list_max(list_transform(coalesce(p.conditions, []), lambda c: k8s_ts(c.lastTransitionTime)))) AS evicted_at,
        b.collected_at
    FROM pods p JOIN bundles b ON b.bundle_id = p.bundle_id
    WHERE p.reason = 'Evicted' AND (contains(p.message, 'ephemeral-storage') OR contains(p.message, 'DiskPressure')
                                     OR contains(p.message, 'nodefs') OR contains(p.message, 'imagefs'))
),
signals AS (
    -- Kinds sort as the English texts start: condition, container, event, filesystem, host, node, pods, taint.
    SELECT bundle_id, node, {'kind': 'condition', 'ref': reason} AS what,
        coalesce(message, 'DiskPressure') AS line, 1 AS n, 3 AS weight,
        false AS is_log, false AS is_eviction, NULL::TIMESTAMPTZ AS ts, NULL::INTERVAL AS age
    FROM node_conditions WHERE type = 'DiskPressure' AND status = 'True'
    UNION ALL
    SELECT bundle_id, node, {'kind': 'taint', 'ref': coalesce(effect, '')},
        key || ':' || coalesce(effect, ''), 1, 3, false, false, NULL, NULL
    FROM node_taints WHERE key = 'node.kubernetes.io/disk-pressure'
    UNION ALL
    SELECT bundle_id, node,
        {'kind': 'pods', 'ref': CASE WHEN collected_at - evicted_at <= ${recent} THEN '' ELSE 'long ago' END},
        namespace || '/' || name || ': ' || coalesce(message, reason), 1,
        CASE WHEN collected_at - evicted_at <= ${recent} THEN 2 ELSE 0 END, false, true, evicted_at::TIMESTAMPTZ, collected_at - evicted_at
    FROM evictions
    UNION ALL
    SELECT e.bundle_id, coalesce(e.source_host, CASE WHEN e.object_kind = 'Node' THEN e.object_name END),
        CASE WHEN e.reason IS NOT NULL THEN {'kind': 'event', 'ref': e.reason} END,
        e.message, e.count,
        CASE WHEN coalesce(e.last_seen, e.first_seen) <= (SELECT c.since FROM cleared c WHERE c.bundle_id = e.bundle_id
                 AND c.node = coalesce(e.source_host, CASE WHEN e.object_kind = 'Node' THEN e.object_name END))
             THEN 0 ELSE 1 END,
        false, false, NULL, NULL
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    -- ImageGCFailed counts when the GC could not free enough ("Attempted to free …", "Wanted
    -- to free …"): its other errors ("invalid capacity 0 on image filesystem", "failed to get
    -- imageFs info") are the runtime's stats missing, repeated for days on a node with room.
    WHERE (e.reason IN ('NodeHasDiskPressure', 'FreeDiskSpaceFailed')
           OR (e.reason = 'ImageGCFailed' AND contains(lower(e.message), 'free'))
           OR (e.reason = 'EvictionThresholdMet' AND (contains(e.message, 'ephemeral-storage') OR contains(e.message, 'nodefs') OR contains(e.message, 'imagefs'))))
      AND b.collected_at - coalesce(e.last_seen, e.first_seen) <= ${recent}
    UNION ALL
    SELECT h.cluster, f.node, {'kind': 'filesystem', 'ref': NULL},
        f.path || ' (' || coalesce(f.fstype, '?') || ') ' || CAST(round(f.used_pct, 1) AS VARCHAR) || '% used of '
            || CAST(round(f.size_bytes / 1073741824.0, 1) AS VARCHAR) || ' GiB', 1, 2, false, false, NULL, NULL
    FROM host_filesystems f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE f.used_pct >= ${used_pct_warn}
    UNION ALL
    SELECT coalesce(h.cluster, l.bundle_id), l.node, {'kind': l.source, 'ref': coalesce(l.service, l.container, '')},
        l.line, 1,
        CASE WHEN NOT in_window(l.age, ${recent}) THEN 0
             WHEN l.ts <= (SELECT c.since FROM cleared c WHERE c.bundle_id = coalesce(h.cluster, l.bundle_id) AND c.node = l.node)::TIMESTAMPTZ THEN 0
             ELSE 1 END, true, false, l.ts, l.age
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    -- Lower-cased only when the other words are there (CASE keeps the order).
    WHERE CASE WHEN contains(l.line, 'ephemeral-storage') AND contains(l.line, 'reclaim')
               THEN contains(lower(l.line), 'eviction manager') ELSE false END
       OR (contains(l.line, 'over the high threshold') AND contains(l.line, 'image filesystem'))
),
per_node AS (
    SELECT bundle_id, node, max(weight) AS weight, sum(n) AS n,
        list(DISTINCT what ORDER BY what) FILTER (WHERE (weight > 0 OR NOT is_log) AND what IS NOT NULL) AS whats,
        count(*) FILTER (WHERE is_eviction AND weight > 0) AS evicted_now,
        count(*) FILTER (WHERE is_eviction AND weight = 0) AS evicted_old,
        min(age) FILTER (WHERE is_eviction) AS last_eviction_age,
        bool_and(is_log) AS logs_only,
        count(*) FILTER (WHERE is_log) AS log_n,
        count(*) FILTER (WHERE is_log AND in_window(age, ${recent})) AS log_recent,
        min(ts) FILTER (WHERE is_log) AS first_seen, max(ts) FILTER (WHERE is_log) AS last_seen,
        list(line ORDER BY weight DESC, ts DESC NULLS LAST, line)[1:6] AS evidence
    FROM signals
    WHERE node IS NOT NULL
    GROUP BY bundle_id, node
)
SELECT 'node/' || p.node AS resource, p.node, p.node AS name, p.bundle_id,
    coalesce(p.weight = 0 AND p.evicted_old > 0 AND NOT p.logs_only, false) AS history, p.evicted_old, p.evicted_now,
    CASE WHEN p.weight = 0 THEN strftime(c.since, '%Y-%m-%dT%H:%M:%SZ') END AS cleared_at,
    CAST(round(epoch(p.last_eviction_age) / 86400.0) AS BIGINT) AS days_ago, p.whats,
    p.evidence,
    p.n AS count,
    CASE p.weight WHEN 3 THEN 'high' WHEN 2 THEN 'medium' WHEN 1 THEN 'low' ELSE 'info' END AS severity,
    p.first_seen, p.last_seen,
    -- Only a row that rests on log lines alone is judged by their time.
    CASE WHEN p.logs_only THEN p.log_recent END AS recent_count
FROM per_node p
LEFT JOIN cleared c ON c.bundle_id = p.bundle_id AND c.node = p.node
ORDER BY 1
