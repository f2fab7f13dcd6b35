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
# The findings rest on the Velero objects; the velero server's log lines are evidence, current
# within an hour.
recent = "1h"
[message]
en = """\
{% if not installed %}Velero is not installed in {{ namespace }} (no Deployment runs the velero server; left: \
{% elif weight == 0 %}Velero in {{ namespace }}: \
{% else %}Velero in {{ namespace }} is not healthy: {% endif %}\
{% if items %}{% for i in items %}\
  {% if i.kind == 'deployment' %}{% if i.missing %}Deployment velero missing{% else %}Deployment velero {{ i.ready }}/{{ i.desired }} available{% endif %}\
  {% elif i.kind == 'daemonset' %}{% if i.missing %}DaemonSet node-agent missing (Kcoral requires the data plane)\
{% else %}DaemonSet {{ i.name }} {{ i.ready }}/{{ i.desired }} ready{% if i.others_notready %} (the others are on NotReady nodes){% endif %}{% endif %}\
  {% else %}BackupStorageLocation {{ i.name }} is {{ i.phase if i.phase is not none else 'not validated (no phase)' }}\
{% if i.message is not none %} ({{ i.message }}){% endif %}\
{% if i.s3 is not none and i.bucket is not none %} [{{ i.s3 }}, bucket {{ i.bucket }}]{% endif %}{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}{% else %}nothing{% endif %}\
{% if not installed %}): Kcoral lists this cluster as without Velero, not as Velero abnormal\
{% elif weight == 0 %}; nothing of Velero's own is failing\
{% else %}; Kcoral lists this cluster as Velero abnormal{% endif %}"""
zh = """\
{% if not installed %}命名空间 {{ namespace }} 中未安装 Velero（没有运行 velero server 的 Deployment；残留：\
{% elif weight == 0 %}命名空间 {{ namespace }} 中的 Velero：\
{% else %}命名空间 {{ namespace }} 中的 Velero 状态异常：{% endif %}\
{% if items %}{% for i in items %}\
  {% if i.kind == 'deployment' %}{% if i.missing %}Deployment velero 缺失{% else %}Deployment velero {{ i.ready }}/{{ i.desired }} 可用{% endif %}\
  {% elif i.kind == 'daemonset' %}{% if i.missing %}DaemonSet node-agent 缺失（Kcoral 要求部署数据面）\
{% else %}DaemonSet {{ i.name }} {{ i.ready }}/{{ i.desired }} 就绪{% if i.others_notready %}（其余位于 NotReady 节点上）{% endif %}{% endif %}\
  {% else %}BackupStorageLocation {{ i.name }}\
{% if i.phase is not none %} 状态为 {{ i.phase }}{% else %} 尚未校验（没有 phase）{% endif %}\
{% if i.message is not none %}（{{ i.message }}）{% endif %}\
{% if i.s3 is not none and i.bucket is not none %} [{{ i.s3 }}, bucket {{ i.bucket }}]{% endif %}{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}{% else %}无{% endif %}\
{% if not installed %}）：Kcoral 会将此集群视为未安装 Velero，而非 Velero 异常\
{% elif weight == 0 %}；Velero 自身没有故障\
{% else %}；Kcoral 会将此集群显示为 Velero 异常{% endif %}"""
[thresholds]
# A BackupStorageLocation without a phase younger than this is still waiting for its first
# validation.
bsl_validation_grace_minutes = 5
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
(`cloud-credentials` Secret) or a network path from the cluster to MinIO. Storage locations
left after Velero was uninstalled (no Deployment runs the velero server) mean Velero is not
installed, and node-agent pods missing only on NotReady nodes follow their node: both are info.
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
卸载 Velero 后残留的 BSL（没有运行 velero server 的 Deployment）表示未安装 Velero；node-agent 仅在 NotReady 节点上缺失时
取决于节点本身：两者均报告为 info。
"""
--- */
WITH places AS (
    -- Velero is installed where its server Deployment or its storage locations are.
    SELECT DISTINCT bundle_id, namespace FROM workloads WHERE kind = 'Deployment' AND name = 'velero'
    UNION
    SELECT DISTINCT bundle_id, namespace FROM objects WHERE api_group = 'velero.io' AND resource = 'backupstoragelocations'
),
installs AS (
    -- Storage locations without any Deployment running the velero server (by name or image) are
    -- left from an uninstall: Kcoral lists such a cluster as without Velero.
    SELECT p.*,
        EXISTS (SELECT 1 FROM workload_containers x WHERE x.bundle_id = p.bundle_id AND x.namespace = p.namespace
                AND x.kind = 'Deployment' AND (x.workload = 'velero' OR x.image LIKE '%velero/velero:%' OR x.image LIKE '%velero/velero@%')) AS installed
    FROM places p
),
-- node-agent pods not Ready on a node that is Ready: the data plane's own fault. Those on
-- NotReady nodes follow their node.
agent_pods AS (
    SELECT p.bundle_id, p.namespace,
        count(*) AS pods,
        count(*) FILTER (WHERE NOT p.ready AND coalesce(n.ready, false)) AS down_on_ready_nodes,
        list(p.name || ' on ' || coalesce(p.node, '?') || CASE WHEN NOT coalesce(n.ready, false) THEN ' (node NotReady)' ELSE '' END ORDER BY p.name)
            FILTER (WHERE NOT p.ready) AS down
    FROM pods p LEFT JOIN nodes n ON n.bundle_id = p.bundle_id AND n.name = p.node
    WHERE p.owner_kind = 'DaemonSet' AND p.owner_name IN ('node-agent', 'restic') AND p.deleted_at IS NULL
    GROUP BY ALL
),
checks AS (
    -- Control plane: Deployment velero at its desired replicas. Missing while another
    -- Deployment of the namespace runs the velero image: installed under another name.
    SELECT i.bundle_id, i.namespace,
        CASE WHEN i.installed THEN 3 ELSE 0 END AS weight,
        CASE WHEN w.name IS NULL THEN 'Deployment velero missing'
             ELSE 'Deployment velero ' || coalesce(w.available, 0) || '/' || coalesce(w.desired, 1) || ' available' END AS what,
        {'kind': 'deployment', 'name': NULL::VARCHAR, 'missing': w.name IS NULL, 'ready': coalesce(w.available, 0),
         'desired': coalesce(w.desired, 1), 'others_notready': NULL::BOOLEAN, 'phase': NULL::VARCHAR, 'message': NULL::VARCHAR,
         's3': NULL::VARCHAR, 'bucket': NULL::VARCHAR} AS item
    FROM installs i LEFT JOIN workloads w ON w.bundle_id = i.bundle_id AND w.namespace = i.namespace AND w.kind = 'Deployment' AND w.name = 'velero'
    WHERE w.name IS NULL OR coalesce(w.available, 0) < coalesce(w.desired, 1) OR coalesce(w.desired, 1) = 0
    UNION ALL
    -- Data plane: DaemonSet node-agent (restic before Velero 1.10) fully ready.
    SELECT i.bundle_id, i.namespace,
        CASE WHEN NOT i.installed THEN 0
             WHEN w.name IS NULL THEN 1
             WHEN a.pods > 0 AND a.down_on_ready_nodes = 0 THEN 0
             ELSE 2 END,
        CASE WHEN w.name IS NULL THEN 'DaemonSet node-agent missing (Kcoral requires the data plane)'
             ELSE 'DaemonSet ' || w.name || ' ' || coalesce(w.ready, 0) || '/' || coalesce(w.desired, 0) || ' ready'
                  || CASE WHEN a.pods > 0 AND a.down_on_ready_nodes = 0 THEN ' (the others are on NotReady nodes)' ELSE '' END END,
        {'kind': 'daemonset', 'name': w.name, 'missing': w.name IS NULL, 'ready': coalesce(w.ready, 0), 'desired': coalesce(w.desired, 0),
         'others_notready': coalesce(a.pods > 0 AND a.down_on_ready_nodes = 0, false), 'phase': NULL, 'message': NULL, 's3': NULL, 'bucket': NULL}
    FROM installs i
    LEFT JOIN workloads w ON w.bundle_id = i.bundle_id AND w.namespace = i.namespace AND w.kind = 'DaemonSet' AND w.name IN ('node-agent', 'restic')
    LEFT JOIN agent_pods a ON a.bundle_id = i.bundle_id AND a.namespace = i.namespace
    WHERE w.name IS NULL OR coalesce(w.ready, 0) < coalesce(w.desired, 0)
    UNION ALL
    -- Object storage: every BackupStorageLocation Available; the default one is what backups use.
    SELECT o.bundle_id, o.namespace,
        CASE WHEN NOT i.installed THEN 0
             WHEN json_extract_string(o.doc, '$.status.phase') IS NULL
                  AND days_between(o.created_at, b.collected_at) * 1440 < ${bsl_validation_grace_minutes} THEN 0
             WHEN json_extract_string(o.doc, '$.spec.default') = 'true' OR o.name = 'default' THEN 3
             ELSE 2 END,
        'BackupStorageLocation ' || o.name || ' is ' || coalesce(json_extract_string(o.doc, '$.status.phase'), 'not validated (no phase)')
            || coalesce(' (' || nullif(json_extract_string(o.doc, '$.status.message'), '') || ')', '')
            || coalesce(' [' || json_extract_string(o.doc, '$.spec.config.s3Url') || ', bucket ' || json_extract_string(o.doc, '$.spec.objectStorage.bucket') || ']', ''),
        {'kind': 'bsl', 'name': o.name, 'missing': false, 'ready': NULL, 'desired': NULL, 'others_notready': NULL,
         'phase': json_extract_string(o.doc, '$.status.phase'), 'message': nullif(json_extract_string(o.doc, '$.status.message'), ''),
         's3': json_extract_string(o.doc, '$.spec.config.s3Url'), 'bucket': json_extract_string(o.doc, '$.spec.objectStorage.bucket')}
    FROM objects o JOIN bundles b ON b.bundle_id = o.bundle_id
    JOIN installs i ON i.bundle_id = o.bundle_id AND i.namespace = o.namespace
    WHERE o.api_group = 'velero.io' AND o.resource = 'backupstoragelocations'
      AND coalesce(json_extract_string(o.doc, '$.status.phase'), '') <> 'Available'
),
velero_logs AS (
    -- The velero server's latest current complaints about its storage.
    SELECT bundle_id, namespace, list(line ORDER BY ts DESC NULLS LAST, line_no DESC)[1:2] AS lines
    FROM log_lines
    WHERE source = 'container' AND pod LIKE 'velero-%' AND in_window(age, ${recent})
      AND regexp_matches(line, '(Current BackupStorageLocations available/unavailable/unknown|Unavailable BackupStorageLocations detected|BackupStorageLocation is invalid|fail to validate backup store|Error getting a backup store)')
    GROUP BY bundle_id, namespace
)
SELECT 'namespace/' || c.namespace AS resource, c.namespace, 'velero' AS name, c.bundle_id,
    bool_or(i.installed) AS installed, max(c.weight) AS weight,
    -- Left from an uninstall: what is not the missing server itself.
    CASE WHEN NOT bool_or(i.installed)
         THEN list(c.item ORDER BY c.weight DESC, c.what) FILTER (WHERE c.what NOT LIKE 'Deployment velero%' AND c.what NOT LIKE 'DaemonSet node-agent missing%')
         ELSE list(c.item ORDER BY c.weight DESC, c.what) END AS items,
    list_concat(list(c.what ORDER BY c.weight DESC, c.what), coalesce(any_value(l.lines), [])) AS evidence,
    CASE WHEN max(c.weight) >= 3 THEN 'high' WHEN max(c.weight) = 2 THEN 'medium' WHEN max(c.weight) = 1 THEN 'low' ELSE 'info' END AS severity
FROM checks c
JOIN installs i ON i.bundle_id = c.bundle_id AND i.namespace = c.namespace
LEFT JOIN velero_logs l ON l.bundle_id = c.bundle_id AND l.namespace = c.namespace
GROUP BY c.bundle_id, c.namespace
ORDER BY 1
