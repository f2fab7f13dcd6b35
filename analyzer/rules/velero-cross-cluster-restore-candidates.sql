/* ---
id = "velero-cross-cluster-restore-candidates"
severity = "info"
faq = ["DCE-08"]
category = "backup"
patterns = ["跨集群(备份|还原)", "cross-cluster (backup|restore)"]
[title]
en = "Cross-cluster backup and restore: which clusters Kcoral offers as restore targets"
zh = "跨集群备份还原：Kcoral 可选的还原目标集群"
[remediation]
en = """
For a cross-cluster restore Kcoral lists only clusters that (1) have Velero installed, (2) whose
Velero is healthy (Deployment `velero` and DaemonSet `node-agent` at their desired replicas,
BackupStorageLocation `Available`), and (3) are connected to the same MinIO and bucket as the
source cluster. Any two clusters sharing MinIO and bucket with a running Velero can back up
(with write permission) and restore across each other. To add a cluster to the list, install
Velero in it, fix its health, and point its BackupStorageLocation at the same `s3Url` and bucket:
```
kubectl -n velero get backupstoragelocations -o custom-columns=NAME:.metadata.name,PHASE:.status.phase,URL:.spec.config.s3Url,BUCKET:.spec.objectStorage.bucket
kubectl -n velero get deploy velero ds node-agent
```
"""
zh = """
跨集群还原时，Kcoral 只列出满足以下条件的集群：(1) 已安装 Velero；(2) Velero 状态正常（`velero` Deployment 与
`node-agent` DaemonSet 达到期望副本数，BackupStorageLocation 为 `Available`）；(3) 与源集群对接了相同的 MinIO 和 Bucket。
只要对接了相同的 MinIO 和 Bucket 且 Velero 处于运行状态，就可以跨集群备份（需要有写入权限）和还原。
要让某集群出现在列表中：安装 Velero、修复其状态，并让其 BackupStorageLocation 指向相同的 `s3Url` 与 Bucket：
```
kubectl -n velero get backupstoragelocations -o custom-columns=NAME:.metadata.name,PHASE:.status.phase,URL:.spec.config.s3Url,BUCKET:.spec.objectStorage.bucket
kubectl -n velero get deploy velero ds node-agent
```
"""
[message]
en = """\
{% if kind == 'shared' %}\
  MinIO {{ url }} bucket {{ bucket }} is shared by {{ clusters }} clusters; restore candidates: \
{% if candidates %}{{ candidates | join(', ') }}{% else %}none{% endif %}\
  {% if excluded %}; excluded (Velero not healthy): \
{% for x in excluded %}{{ x.cluster }} (\
{% for w in x.why %}\
{% if w.kind == 'deployment' %}velero {{ w.ready }}/{{ w.desired }} available{% elif w.kind == 'daemonset' %}{{ w.name }} {{ w.ready }}/{{ w.desired }} ready\
{% elif w.kind == 'bsl' %}BackupStorageLocation {{ w.name }} {{ w.phase }}{% else %}no velero Deployment{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %}){% if not loop.last %}, {% endif %}{% endfor %}\
  {% endif %}\
{% else %}\
  cluster {{ cluster }}\
{% if no_velero %} has no Velero installed: Kcoral never lists it as a restore target\
{% else %} shares no MinIO bucket with the other clusters of this case: it cannot restore their backups{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'shared' %}\
  MinIO {{ url }} 的 bucket {{ bucket }} 被 {{ clusters }} 个集群共用；可执行还原的集群：\
{% if candidates %}{{ candidates | join('、') }}{% else %}无{% endif %}\
  {% if excluded %}；已排除（Velero 状态异常）：\
{% for x in excluded %}{{ x.cluster }}（\
{% for w in x.why %}\
{% if w.kind == 'deployment' %}velero {{ w.ready }}/{{ w.desired }} 可用{% elif w.kind == 'daemonset' %}{{ w.name }} {{ w.ready }}/{{ w.desired }} 就绪\
{% elif w.kind == 'bsl' %}BackupStorageLocation {{ w.name }} 状态为 {{ w.phase }}{% else %}没有 velero Deployment{% endif %}\
{% if not loop.last %}，{% endif %}{% endfor %}）{% if not loop.last %}；{% endif %}{% endfor %}\
  {% endif %}\
{% else %}\
  集群 {{ cluster }}\
{% if no_velero %} 未安装 Velero：Kcoral 不会将其列为还原目标\
{% else %} 与本案例中的其他集群没有共用的 MinIO bucket：无法还原它们的备份{% endif %}\
{% endif %}"""
--- */
WITH clusters AS (
    SELECT bundle_id, coalesce(nullif(context, ''), nullif(label, ''), nullif(cluster_id, ''), bundle_id) AS cluster
    FROM bundles WHERE kind = 'cluster'
),
bsl AS (
    SELECT o.bundle_id, o.namespace, o.name,
        lower(rtrim(coalesce(o.doc->>'$.spec.config.s3Url', o.doc->>'$.spec.config.serviceUrl', o.doc->>'$.spec.provider', ''), '/')) AS url,
        coalesce(o.doc->>'$.spec.objectStorage.bucket', '') AS bucket,
        coalesce(o.doc->>'$.status.phase', 'Unknown') AS phase
    FROM objects o
    WHERE o.api_group = 'velero.io' AND o.resource = 'backupstoragelocations'
),
-- Why a cluster's Velero is not healthy (none: healthy), as Kcoral checks it.
problems AS (
    SELECT c.bundle_id, list(p.what ORDER BY p.what) FILTER (WHERE p.what IS NOT NULL) AS why,
        list(p.item ORDER BY p.what) FILTER (WHERE p.what IS NOT NULL) AS why_items
    FROM clusters c
    LEFT JOIN (
        SELECT w.bundle_id, 'velero ' || coalesce(w.available, 0) || '/' || coalesce(w.desired, 1) || ' available' AS what,
            {'kind': 'deployment', 'name': 'velero', 'ready': coalesce(w.available, 0), 'desired': coalesce(w.desired, 1), 'phase': NULL::VARCHAR} AS item
        FROM workloads w WHERE w.kind = 'Deployment' AND w.name = 'velero' AND coalesce(w.available, 0) < coalesce(w.desired, 1)
        UNION ALL
        SELECT w.bundle_id, w.name || ' ' || coalesce(w.ready, 0) || '/' || coalesce(w.desired, 0) || ' ready',
            {'kind': 'daemonset', 'name': w.name, 'ready': coalesce(w.ready, 0), 'desired': coalesce(w.desired, 0), 'phase': NULL}
        FROM workloads w WHERE w.kind = 'DaemonSet' AND w.name IN ('node-agent', 'restic') AND coalesce(w.ready, 0) < coalesce(w.desired, 0)
        UNION ALL
        SELECT b.bundle_id, 'BackupStorageLocation ' || b.name || ' ' || b.phase,
            {'kind': 'bsl', 'name': b.name, 'ready': NULL, 'desired': NULL, 'phase': b.phase}
        FROM bsl b WHERE b.phase <> 'Available'
        UNION ALL
        SELECT i.bundle_id, 'no velero Deployment', {'kind': 'none', 'name': NULL, 'ready': NULL, 'desired': NULL, 'phase': NULL}
        FROM (SELECT DISTINCT bundle_id FROM bsl) i
        WHERE NOT EXISTS (SELECT 1 FROM workloads w WHERE w.bundle_id = i.bundle_id AND w.kind = 'Deployment' AND w.name = 'velero')
    ) p ON p.bundle_id = c.bundle_id
    GROUP BY c.bundle_id
),
members AS (
    SELECT DISTINCT b.url, b.bucket, c.cluster, c.bundle_id, coalesce(len(p.why), 0) = 0 AS healthy,
        array_to_string(p.why, ', ') AS why, p.why_items
    FROM bsl b JOIN clusters c USING (bundle_id) JOIN problems p USING (bundle_id)
),
velero_clusters AS (SELECT count(DISTINCT bundle_id) AS n FROM bsl)
-- Each MinIO + bucket that several clusters share: who can restore from it.
SELECT 'backupstorage/' || m.url || '/' || m.bucket AS resource, NULL AS bundle_id,
    'shared' AS kind, m.url, m.bucket, count(DISTINCT m.cluster) AS clusters,
    list(DISTINCT m.cluster ORDER BY m.cluster) FILTER (WHERE m.healthy) AS candidates,
    list(DISTINCT {'cluster': m.cluster, 'why': m.why_items} ORDER BY {'cluster': m.cluster, 'why': m.why_items}) FILTER (WHERE NOT m.healthy) AS excluded,
    NULL AS cluster, NULL::BOOLEAN AS no_velero,
    list(m.cluster || ': ' || CASE WHEN m.healthy THEN 'Velero healthy' ELSE m.why END ORDER BY m.cluster) AS evidence,
    CASE WHEN bool_or(NOT m.healthy) THEN 'low' END AS severity
FROM members m
GROUP BY m.url, m.bucket
HAVING count(DISTINCT m.bundle_id) >= 2
UNION ALL
-- Clusters that cannot take part in a cross-cluster restore with the others of the case.
SELECT 'cluster/' || c.cluster, c.bundle_id,
    'alone', NULL, NULL, NULL, NULL, NULL, c.cluster, NOT EXISTS (SELECT 1 FROM bsl b WHERE b.bundle_id = c.bundle_id),
    ['backup storage: ' || coalesce((SELECT string_agg(DISTINCT b.url || ' bucket ' || b.bucket, ', ') FROM bsl b WHERE b.bundle_id = c.bundle_id), 'none')],
    NULL
FROM clusters c, velero_clusters v
WHERE v.n >= 1 AND (SELECT count(*) FROM clusters) >= 2
  AND NOT EXISTS (SELECT 1 FROM bsl b1 JOIN bsl b2 ON b1.url = b2.url AND b1.bucket = b2.bucket AND b1.bundle_id <> b2.bundle_id
                  WHERE b1.bundle_id = c.bundle_id)
ORDER BY 1
