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
[thresholds]
used_pct_warn = 85
--- */
WITH signals AS (
    SELECT bundle_id, node, 'condition DiskPressure=True' || coalesce(' (' || reason || ')', '') AS what,
        '节点状况 DiskPressure=True' || coalesce('（' || reason || '）', '') AS what_zh,
        coalesce(message, 'DiskPressure') AS line, 1 AS n, 3 AS weight
    FROM node_conditions WHERE type = 'DiskPressure' AND status = 'True'
    UNION ALL
    SELECT bundle_id, node, 'taint node.kubernetes.io/disk-pressure:' || coalesce(effect, ''), '污点 node.kubernetes.io/disk-pressure:' || coalesce(effect, ''), key || ':' || coalesce(effect, ''), 1, 3
    FROM node_taints WHERE key = 'node.kubernetes.io/disk-pressure'
    UNION ALL
    SELECT bundle_id, node, 'pods evicted for disk', '因磁盘不足驱逐 Pod', namespace || '/' || name || ': ' || coalesce(message, reason), 1, 2
    FROM pods
    WHERE reason = 'Evicted' AND (contains(message, 'ephemeral-storage') OR contains(message, 'DiskPressure')
                                   OR contains(message, 'nodefs') OR contains(message, 'imagefs'))
    UNION ALL
    SELECT bundle_id, coalesce(source_host, CASE WHEN object_kind = 'Node' THEN object_name END), 'event ' || reason, '事件 ' || reason, message, count, 1
    FROM events
    WHERE reason IN ('NodeHasDiskPressure', 'FreeDiskSpaceFailed', 'ImageGCFailed')
       OR (reason = 'EvictionThresholdMet' AND (contains(message, 'ephemeral-storage') OR contains(message, 'nodefs') OR contains(message, 'imagefs')))
    UNION ALL
    SELECT bundle_id, node, 'filesystem above ${used_pct_warn}%', '文件系统使用率超过 ${used_pct_warn}%',
        path || ' (' || coalesce(fstype, '?') || ') ' || CAST(round(used_pct, 1) AS VARCHAR) || '% used of '
            || CAST(round(size_bytes / 1073741824.0, 1) AS VARCHAR) || ' GiB', 1, 2
    FROM host_filesystems WHERE used_pct >= ${used_pct_warn}
    UNION ALL
    SELECT bundle_id, node, source || ' log ' || coalesce(service, container, ''), source || ' 日志 ' || coalesce(service, container, ''), line, 1, 1
    FROM log_lines
    WHERE (contains(line, 'eviction manager') AND contains(line, 'ephemeral-storage') AND contains(line, 'reclaim'))
       OR (contains(line, 'over the high threshold') AND contains(line, 'image filesystem'))
)
SELECT 'node/' || node AS resource, node, node AS name, any_value(bundle_id) AS bundle_id,
    'node ' || node || ' is short of disk: ' || string_agg(DISTINCT what, ', ' ORDER BY what)
        || CASE WHEN count(*) FILTER (WHERE what = 'pods evicted for disk') > 0
                THEN ' (' || count(*) FILTER (WHERE what = 'pods evicted for disk') || ' pods evicted)' ELSE '' END AS message,
    '节点 ' || node || ' 磁盘空间不足：' || string_agg(DISTINCT what_zh, '、' ORDER BY what_zh)
        || CASE WHEN count(*) FILTER (WHERE what = 'pods evicted for disk') > 0
                THEN '（已驱逐 ' || count(*) FILTER (WHERE what = 'pods evicted for disk') || ' 个 Pod）' ELSE '' END AS message_zh,
    list(line ORDER BY weight DESC, line)[1:6] AS evidence,
    sum(n) AS count,
    CASE max(weight) WHEN 3 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END AS severity
FROM signals
WHERE node IS NOT NULL
GROUP BY node
ORDER BY 1
