/* ---
id = "kubelet-qos-pids-cgroup-missing"
severity = "high"
faq = ["CRN-17"]
category = "nodes"
patterns = [
  "failed to find subsystem mount for required subsystem: pids",
  "Failed to reserve QoS requests",
  "Failed to update QoS cgroup configuration",
]
# The kubelet retries its QoS cgroup update every minute: a current problem shows within hours.
recent = "6h"
[title]
en = "Old kernel (before 4.14): kubelet QoS cgroups fail (\"failed to find subsystem mount for required subsystem: pids\")"
zh = "内核较旧（低于 4.14）引起 kubelet QoS 错误（\"failed to find subsystem mount for required subsystem: pids\"）"
[remediation]
en = """
The kubelet manages QoS cgroups with the `pids` controller. Old kernels such as
3.10.0-327.el7 do not have it mounted, so the kubelet logs `Failed to update QoS cgroup
configuration` / `failed to find subsystem mount for required subsystem: pids` and containers
crash after the services start. Upgrade the kernel to 4.14 or newer and reboot the node.
```
uname -r
grep pids /proc/cgroups; ls /sys/fs/cgroup/ | grep pids
journalctl -u kubelet | grep -i 'subsystem: pids'
```
"""
zh = """
kubelet 通过 `pids` 控制器管理 QoS cgroup。3.10.0-327.el7 等较旧的内核没有挂载该控制器，kubelet 报
`Failed to update QoS cgroup configuration` / `failed to find subsystem mount for required subsystem: pids`，
会导致服务启动后容器异常崩溃。升级内核到 4.14 以上并重启节点即可解决。
```
uname -r
grep pids /proc/cgroups; ls /sys/fs/cgroup/ | grep pids
journalctl -u kubelet | grep -i 'subsystem: pids'
```
"""
[message]
en = """\
node {{ node }}: \
{% for p in parts %}\
  {% if p == 'kernel' %}kernel {{ kernel }} is older than {{ min_kernel }}\
  {% elif p == 'nopids' %}no pids cgroup controller\
  {% elif p == 'logs' %}kubelet logged "failed to find subsystem mount for required subsystem: pids" {{ logged }} times (QoS cgroups not applied)\
  {% elif p == 'mounted' %}its pids cgroup controller is mounted now\
  {% elif pids_present %}but its pids cgroup controller is there (a backported kernel) and the kubelet logged no QoS error\
  {% else %}its cgroup controllers were not collected (no node bundle) and the kubelet logged no QoS error: not a proven problem{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
节点 {{ node }}：\
{% for p in parts %}\
  {% if p == 'kernel' %}内核 {{ kernel }} 低于 {{ min_kernel }}\
  {% elif p == 'nopids' %}没有 pids cgroup 控制器\
  {% elif p == 'logs' %}kubelet 日志中出现 "failed to find subsystem mount for required subsystem: pids" {{ logged }} 次（QoS cgroup 未生效）\
  {% elif p == 'mounted' %}该节点现在已挂载 pids cgroup 控制器\
  {% elif pids_present %}但该节点有 pids cgroup 控制器（内核已向后移植），kubelet 也未报 QoS 错误\
  {% else %}未采集到该节点的 cgroup 控制器（没有节点包），kubelet 也未报 QoS 错误：问题未被证实{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
[thresholds]
min_kernel = "4.14"
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
kernels AS (
    SELECT bundle_id AS cluster, name AS node, bundle_id, kernel_version AS kernel, 'Node kernelVersion ' || kernel_version AS what
    FROM nodes WHERE kernel_version IS NOT NULL AND coalesce(os, 'linux') = 'linux'
    UNION ALL
    SELECT h.cluster, f.node, f.bundle_id, f.kernel_release, 'uname -r ' || f.kernel_release
    FROM host_facts f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE coalesce(f.kernel_release, '') <> ''
),
old_kernel AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, any_value(kernel) AS kernel, list(DISTINCT what ORDER BY what) AS whats
    FROM kernels
    WHERE version_num(kernel) < version_num(${min_kernel})
    GROUP BY cluster, node
),
controllers AS (
    -- The node's cgroup controllers, when the node bundle could list them (an empty list is
    -- unknown, not "none").
    SELECT h.cluster, f.node, f.bundle_id, f.cgroup_version, f.cgroup_controllers,
        list_contains(f.cgroup_controllers, 'pids') AS has_pids
    FROM host_facts f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE f.cgroup_version IN (1, 2) AND len(coalesce(f.cgroup_controllers, [])) > 0
),
no_pids AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id,
        'cgroup v' || any_value(cgroup_version) || ' controllers: ' || array_to_string(any_value(cgroup_controllers), ',') AS what
    FROM controllers WHERE NOT has_pids
    GROUP BY cluster, node
),
logs AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS cluster, l.node, any_value(l.bundle_id) AS bundle_id,
        count(*) AS n,
        count(*) FILTER (WHERE in_window(l.age, ${recent})) AS recent_n,
        min(l.ts) AS first_seen, max(l.ts) AS last_seen,
        list(l.line ORDER BY l.ts DESC NULLS LAST, l.line_no DESC)[1:2] AS lines
    FROM log_lines l
    LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE l.node IS NOT NULL AND l.source IN ('host', 'node')
      AND contains(l.line, 'failed to find subsystem mount for required subsystem: pids')
    GROUP BY 1, 2
),
keys AS (
    SELECT cluster, node FROM old_kernel UNION SELECT cluster, node FROM no_pids UNION SELECT cluster, node FROM logs
),
j AS (
    SELECT k.cluster, k.node, o.kernel, o.whats, p.what AS pids_what, l.n, l.recent_n, l.first_seen, l.last_seen, l.lines,
        coalesce(o.bundle_id, p.bundle_id, l.bundle_id) AS bundle_id,
        -- The pids controller was listed on this node: the old kernel has it (a backport).
        EXISTS (SELECT 1 FROM controllers c WHERE c.cluster = k.cluster AND c.node = k.node AND c.has_pids) AS pids_present
    FROM keys k
    LEFT JOIN old_kernel o ON o.cluster = k.cluster AND o.node = k.node
    LEFT JOIN no_pids p ON p.cluster = k.cluster AND p.node = k.node
    LEFT JOIN logs l ON l.cluster = k.cluster AND l.node = k.node
)
SELECT 'node/' || node AS resource, node, bundle_id,
    list_filter([CASE WHEN kernel IS NOT NULL THEN 'kernel' END, CASE WHEN pids_what IS NOT NULL THEN 'nopids' END,
                 CASE WHEN n > 0 THEN 'logs' END, CASE WHEN pids_what IS NULL AND n > 0 AND pids_present THEN 'mounted' END,
                 CASE WHEN pids_what IS NULL AND coalesce(n, 0) = 0 THEN 'quiet' END], lambda p: p IS NOT NULL) AS parts,
    kernel, n AS logged, pids_present,
    list_concat(coalesce(whats, []), CASE WHEN pids_what IS NOT NULL THEN [pids_what] ELSE [] END, coalesce(lines, [])) AS evidence,
    -- A missing controller (measured now) or the kubelet's own error proves it; an old
    -- kernel alone does not (RHEL 7 kernels carry the pids controller since 7.5).
    CASE WHEN pids_what IS NOT NULL OR n > 0 THEN 'high' ELSE 'info' END AS severity,
    first_seen, last_seen,
    -- Judged by the log alone only when nothing measured now says the controller is missing.
    CASE WHEN pids_what IS NULL AND n > 0 THEN recent_n END AS recent_count,
    n AS count
FROM j
-- An old kernel with the controller present and no error: nothing to report.
WHERE NOT (pids_present AND pids_what IS NULL AND coalesce(n, 0) = 0)
ORDER BY 1
