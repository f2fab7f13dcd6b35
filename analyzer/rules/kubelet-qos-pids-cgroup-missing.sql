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
[thresholds]
min_kernel = "4.14"
--- */
WITH kernels AS (
    SELECT lower(name) AS key, name AS node, bundle_id, kernel_version AS kernel, 'Node kernelVersion ' || kernel_version AS what
    FROM nodes WHERE kernel_version IS NOT NULL AND coalesce(os, 'linux') = 'linux'
    UNION ALL
    SELECT lower(node), node, bundle_id, kernel_release, 'uname -r ' || kernel_release
    FROM host_facts WHERE coalesce(kernel_release, '') <> ''
),
old_kernel AS (
    SELECT key, any_value(node) AS node, any_value(bundle_id) AS bundle_id, any_value(kernel) AS kernel, list(DISTINCT what) AS whats
    FROM kernels
    WHERE version_num(kernel) < version_num(${min_kernel})
    GROUP BY key
),
no_pids AS (
    -- cgroup v1 hierarchies were listed and pids is not among them.
    SELECT lower(node) AS key, any_value(node) AS node, any_value(bundle_id) AS bundle_id,
        'cgroup v1 controllers: ' || array_to_string(any_value(cgroup_controllers), ',') AS what
    FROM host_facts
    WHERE cgroup_version = 1 AND len(cgroup_controllers) > 0 AND NOT list_contains(cgroup_controllers, 'pids')
    GROUP BY 1
),
logs AS (
    SELECT lower(node) AS key, any_value(node) AS node, any_value(bundle_id) AS bundle_id, count(*) AS n,
        list(line ORDER BY line_no)[1:2] AS lines
    FROM log_lines
    WHERE node IS NOT NULL AND contains(line, 'failed to find subsystem mount for required subsystem: pids')
    GROUP BY 1
),
keys AS (
    SELECT key FROM old_kernel UNION SELECT key FROM no_pids UNION SELECT key FROM logs
)
SELECT 'node/' || coalesce(k.node, p.node, l.node) AS resource,
    coalesce(k.node, p.node, l.node) AS node,
    coalesce(k.bundle_id, p.bundle_id, l.bundle_id) AS bundle_id,
    'node ' || coalesce(k.node, p.node, l.node) || ': '
        || concat_ws('; ',
            CASE WHEN k.key IS NOT NULL THEN 'kernel ' || k.kernel || ' is older than ' || ${min_kernel} END,
            CASE WHEN p.key IS NOT NULL THEN 'no pids cgroup controller' END,
            CASE WHEN l.n > 0 THEN 'kubelet logged "failed to find subsystem mount for required subsystem: pids" ' || l.n || ' times (QoS cgroups not applied)' END) AS message,
    '节点 ' || coalesce(k.node, p.node, l.node) || '：'
        || concat_ws('；',
            CASE WHEN k.key IS NOT NULL THEN '内核 ' || k.kernel || ' 低于 ' || ${min_kernel} END,
            CASE WHEN p.key IS NOT NULL THEN '没有 pids cgroup 控制器' END,
            CASE WHEN l.n > 0 THEN 'kubelet 日志中出现 "failed to find subsystem mount for required subsystem: pids" ' || l.n || ' 次（QoS cgroup 未生效）' END) AS message_zh,
    list_concat(coalesce(k.whats, []), CASE WHEN p.key IS NOT NULL THEN [p.what] ELSE [] END, coalesce(l.lines, [])) AS evidence,
    CASE WHEN l.n > 0 OR p.key IS NOT NULL THEN 'high' ELSE 'medium' END AS severity
FROM keys
LEFT JOIN old_kernel k USING (key)
LEFT JOIN no_pids p USING (key)
LEFT JOIN logs l USING (key)
ORDER BY 1
