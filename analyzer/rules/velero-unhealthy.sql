/* ---
id = "velero-unhealthy"
severity = "high"
faq = ["DCE-07"]
category = "backup"
patterns = [
  "BackupStorageLocation \"[^\"]+\" is unavailable",
  "Current BackupStorageLocations available/unavailable/unknown",
  "Unavailable BackupStorageLocations detected",
  "BackupStorageLocation is invalid, marking as unavailable",
]
[title]
en = "Velero not healthy: backups and restores (Kcoral) will fail"
zh = "Velero 状态异常：备份与还原（Kcoral）将失败"
[remediation]
en = """
Kcoral considers a cluster's Velero healthy only when all of these hold: the standard Velero
components are installed in the `velero` namespace; the control plane Deployment `velero` runs
with its desired replicas; the data plane DaemonSet `node-agent` runs with its desired
replicas; and Velero is connected to its object storage (MinIO), i.e. the
BackupStorageLocation phase is `Available`. Fix the failing item:
```
kubectl -n velero get deploy velero ds node-agent
kubectl -n velero get backupstoragelocations      # PHASE must be Available
kubectl -n velero describe backupstoragelocation default
kubectl -n velero logs deploy/velero | grep -i backupstoragelocation
```
An `Unavailable` location usually means a wrong MinIO URL (`s3Url`), bucket, credentials
(`cloud-credentials` Secret) or a network path from the cluster to MinIO.
"""
zh = """
Kcoral 判断工作集群 Velero 正常需同时满足：在 velero 命名空间下安装了标准的 Velero 组件；控制面 `velero` Deployment
处于运行状态并达到期望副本数；数据面 `node-agent` DaemonSet 处于运行状态并达到期望副本数；Velero 成功连接到目标
MinIO（BackupStorageLocation 状态为 `Available`）。请修复不满足的项：
```
kubectl -n velero get deploy velero ds node-agent
kubectl -n velero get backupstoragelocations      # PHASE 应为 Available
kubectl -n velero describe backupstoragelocation default
kubectl -n velero logs deploy/velero | grep -i backupstoragelocation
```
BSL 为 `Unavailable` 通常是 MinIO 地址（`s3Url`）、Bucket、凭据（`cloud-credentials` Secret）错误，或集群到 MinIO 的网络不通。
"""
--- */
WITH installs AS (
    -- Velero is installed where its server Deployment or its storage locations are.
    SELECT DISTINCT bundle_id, namespace FROM workloads WHERE kind = 'Deployment' AND name = 'velero'
    UNION
    SELECT DISTINCT bundle_id, namespace FROM objects WHERE api_group = 'velero.io' AND resource = 'backupstoragelocations'
),
checks AS (
    -- Control plane: Deployment velero at its desired replicas.
    SELECT i.bundle_id, i.namespace, 3 AS weight,
        CASE WHEN w.name IS NULL THEN 'Deployment velero missing'
             ELSE 'Deployment velero ' || coalesce(w.available, 0) || '/' || coalesce(w.desired, 1) || ' available' END AS what,
        CASE WHEN w.name IS NULL THEN 'Deployment velero 缺失'
             ELSE 'Deployment velero ' || coalesce(w.available, 0) || '/' || coalesce(w.desired, 1) || ' 可用' END AS what_zh
    FROM installs i LEFT JOIN workloads w ON w.bundle_id = i.bundle_id AND w.namespace = i.namespace AND w.kind = 'Deployment' AND w.name = 'velero'
    WHERE w.name IS NULL OR coalesce(w.available, 0) < coalesce(w.desired, 1) OR coalesce(w.desired, 1) = 0
    UNION ALL
    -- Data plane: DaemonSet node-agent (restic before Velero 1.10) fully ready.
    SELECT i.bundle_id, i.namespace, CASE WHEN w.name IS NULL THEN 1 ELSE 2 END,
        CASE WHEN w.name IS NULL THEN 'DaemonSet node-agent missing (Kcoral requires the data plane)'
             ELSE 'DaemonSet ' || w.name || ' ' || coalesce(w.ready, 0) || '/' || coalesce(w.desired, 0) || ' ready' END,
        CASE WHEN w.name IS NULL THEN 'DaemonSet node-agent 缺失（Kcoral 要求部署数据面）'
             ELSE 'DaemonSet ' || w.name || ' ' || coalesce(w.ready, 0) || '/' || coalesce(w.desired, 0) || ' 就绪' END
    FROM installs i
    LEFT JOIN workloads w ON w.bundle_id = i.bundle_id AND w.namespace = i.namespace AND w.kind = 'DaemonSet' AND w.name IN ('node-agent', 'restic')
    WHERE w.name IS NULL OR coalesce(w.ready, 0) < coalesce(w.desired, 0)
    UNION ALL
    -- Object storage: every BackupStorageLocation Available.
    SELECT o.bundle_id, o.namespace, 3,
        'BackupStorageLocation ' || o.name || ' is ' || coalesce(o.doc->>'$.status.phase', 'not validated (no phase)')
            || coalesce(' (' || nullif(o.doc->>'$.status.message', '') || ')', '')
            || coalesce(' [' || (o.doc->>'$.spec.config.s3Url') || ', bucket ' || (o.doc->>'$.spec.objectStorage.bucket') || ']', ''),
        'BackupStorageLocation ' || o.name || coalesce(' 状态为 ' || (o.doc->>'$.status.phase'), ' 尚未校验（没有 phase）')
            || coalesce('（' || nullif(o.doc->>'$.status.message', '') || '）', '')
            || coalesce(' [' || (o.doc->>'$.spec.config.s3Url') || ', bucket ' || (o.doc->>'$.spec.objectStorage.bucket') || ']', '')
    FROM objects o
    WHERE o.api_group = 'velero.io' AND o.resource = 'backupstoragelocations'
      AND coalesce(o.doc->>'$.status.phase', '') <> 'Available'
),
velero_logs AS (
    SELECT namespace, list(line ORDER BY line_no DESC)[1:2] AS lines
    FROM log_lines
    WHERE source = 'container' AND pod LIKE 'velero-%'
      AND regexp_matches(line, '(Current BackupStorageLocations available/unavailable/unknown|Unavailable BackupStorageLocations detected|BackupStorageLocation is invalid|fail to validate backup store|Error getting a backup store)')
    GROUP BY namespace
)
SELECT 'namespace/' || c.namespace AS resource, c.namespace, 'velero' AS name, c.bundle_id,
    'Velero in ' || c.namespace || ' is not healthy: ' || string_agg(c.what, '; ' ORDER BY c.weight DESC, c.what)
        || '; Kcoral lists this cluster as Velero abnormal' AS message,
    '命名空间 ' || c.namespace || ' 中的 Velero 状态异常：' || string_agg(c.what_zh, '；' ORDER BY c.weight DESC, c.what)
        || '；Kcoral 会将此集群显示为 Velero 异常' AS message_zh,
    list_concat(list(c.what ORDER BY c.weight DESC, c.what), coalesce(any_value(l.lines), [])) AS evidence,
    CASE WHEN max(c.weight) >= 3 THEN 'high' WHEN max(c.weight) = 2 THEN 'medium' ELSE 'low' END AS severity
FROM checks c LEFT JOIN velero_logs l ON l.namespace = c.namespace
GROUP BY c.bundle_id, c.namespace
ORDER BY 1
