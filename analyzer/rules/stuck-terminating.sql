/* ---
id = "stuck-terminating"
severity = "medium"
faq = ["WNR-15", "WNR-16"]
category = "lifecycle"
patterns = ["stuck in Terminating", "Terminating", "NamespaceDeletionContentFailure", "NamespaceFinalizersRemaining", "NamespaceContentRemaining"]
[title]
en = "Objects stuck in Terminating (finalizers left)"
zh = "资源卡在 Terminating 状态（finalizers 未清除）"
[remediation]
en = """
The object was deleted but a finalizer is still set, so the API server keeps it. First find
and fix the controller that should remove the finalizer (its pods, its webhook, its
APIService); if it is gone for good, remove the finalizers by hand. For namespaces, the
`NamespaceContentRemaining` / `NamespaceFinalizersRemaining` conditions name what blocks it;
in Rancher project namespaces, the `*.cattle.io` resources inside hold finalizers that must be
patched first.
```
kubectl delete pods --force <pod> --grace-period=0
kubectl patch pod <pod> -p '{"metadata":{"finalizers":null}}'
kubectl get ns --field-selector status.phase=Terminating
kubectl patch ns <ns> -p '{"metadata":{"finalizers":[]}}' --type=merge
# all Terminating namespaces at once
kubectl patch ns -p '{"metadata":{"finalizers":[]}}' --type=merge $(kubectl get ns --field-selector status.phase=Terminating -o jsonpath='{..metadata.name}')
# Rancher: `get all` does not return the cattle.io resources (try ketall); list and patch them
for grp in management.cattle.io catalog.cattle.io project.cattle.io; do
  for res in $(kubectl api-resources --namespaced=true --api-group $grp -o name); do kubectl get --all-namespaces $res; done
done
kubectl -n <ns> patch <resource> -p '{"metadata":{"finalizers":[]}}' --type=merge
```
"""
zh = """
对象已被删除，但仍有 finalizer 未清除，API Server 会一直保留它。先找到并修复负责移除该 finalizer 的控制器
（其 Pod、Webhook 或 APIService）；若控制器已不存在，可手工移除 finalizers。对于命名空间，
`NamespaceContentRemaining` / `NamespaceFinalizersRemaining` 条件会指出阻塞原因；
Rancher 项目命名空间中的 `*.cattle.io` 资源带有 finalizer，需先 patch 掉才能删除。
```
kubectl delete pods --force <pod> --grace-period=0
kubectl patch pod <pod> -p '{"metadata":{"finalizers":null}}'
kubectl get ns --field-selector status.phase=Terminating
kubectl patch ns <ns> -p '{"metadata":{"finalizers":[]}}' --type=merge
# 批量处理所有 Terminating 命名空间
kubectl patch ns -p '{"metadata":{"finalizers":[]}}' --type=merge $(kubectl get ns --field-selector status.phase=Terminating -o jsonpath='{..metadata.name}')
# Rancher：get all 不会返回 cattle.io 资源（可尝试 ketall），需逐个列出并 patch
for grp in management.cattle.io catalog.cattle.io project.cattle.io; do
  for res in $(kubectl api-resources --namespaced=true --api-group $grp -o name); do kubectl get --all-namespaces $res; done
done
kubectl -n <ns> patch <resource> -p '{"metadata":{"finalizers":[]}}' --type=merge
```
"""
[thresholds]
min_age_minutes = 30
--- */
WITH stuck AS (
    SELECT o.bundle_id, o.kind, o.api_group, o.namespace, o.name, o.finalizers, o.deleted_at,
        days_between(o.deleted_at, b.collected_at) * 24 * 60 AS minutes,
        CASE WHEN o.kind = 'Namespace' THEN coalesce(from_json(o.doc->'$.spec.finalizers', '["VARCHAR"]'), []) ELSE [] END AS spec_finalizers
    FROM objects o JOIN bundles b USING (bundle_id)
    WHERE o.deleted_at IS NOT NULL
      AND days_between(o.deleted_at, b.collected_at) * 24 * 60 >= ${min_age_minutes}
),
blocking AS (
    SELECT bundle_id, name AS namespace,
        list(type || ': ' || coalesce(message, reason, '') ORDER BY type) AS why
    FROM object_conditions
    WHERE resource = 'namespaces' AND status = 'True'
      AND type IN ('NamespaceContentRemaining', 'NamespaceFinalizersRemaining', 'NamespaceDeletionContentFailure', 'NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure')
    GROUP BY ALL
),
-- What still holds finalizers inside each namespace being deleted (Rancher project
-- namespaces: *.cattle.io resources).
inside AS (
    SELECT o.bundle_id, o.namespace,
        count(*) AS n,
        count(*) FILTER (WHERE o.api_group LIKE '%cattle.io') AS cattle,
        list(lower(o.kind) || '.' || CASE WHEN o.api_group = '' THEN 'core' ELSE o.api_group END || '/' || o.name
             || ' [' || array_to_string(o.finalizers, ', ') || ']' ORDER BY o.api_group, o.kind, o.name) AS what
    FROM objects o
    JOIN stuck s ON s.bundle_id = o.bundle_id AND s.kind = 'Namespace' AND s.name = o.namespace
    WHERE len(o.finalizers) > 0 AND o.resource <> 'events'
      AND NOT (o.kind = 'PersistentVolumeClaim' AND o.finalizers = ['kubernetes.io/pvc-protection'] AND o.deleted_at IS NULL)
    GROUP BY ALL
)
SELECT
    lower(s.kind) || '/' || CASE WHEN s.namespace = '' THEN '' ELSE s.namespace || '/' END || s.name AS resource,
    s.namespace, s.name, s.bundle_id,
    s.kind || ' ' || s.name || ' has been Terminating for '
        || CASE WHEN s.minutes >= 2880 THEN CAST(round(s.minutes / 1440) AS BIGINT) || ' days'
                WHEN s.minutes >= 120 THEN CAST(round(s.minutes / 60) AS BIGINT) || ' hours'
                ELSE CAST(round(s.minutes) AS BIGINT) || ' minutes' END
        || CASE WHEN len(s.finalizers) + len(s.spec_finalizers) > 0
                THEN ', finalizers: ' || array_to_string(list_concat(s.finalizers, s.spec_finalizers), ', ')
                ELSE ', no finalizers left (deletion may be waiting on a grace period or the kubelet)' END
        || CASE WHEN s.api_group LIKE '%cattle.io' THEN ' (Rancher resource)' ELSE '' END
        || CASE WHEN i.n > 0 THEN '; ' || i.n || ' resources inside still hold finalizers'
                || CASE WHEN i.cattle > 0 THEN ' (' || i.cattle || ' Rancher *.cattle.io resources)' ELSE '' END
                ELSE '' END AS message,
    s.kind || ' ' || s.name || ' 已处于 Terminating 状态 '
        || CASE WHEN s.minutes >= 2880 THEN CAST(round(s.minutes / 1440) AS BIGINT) || ' 天'
                WHEN s.minutes >= 120 THEN CAST(round(s.minutes / 60) AS BIGINT) || ' 小时'
                ELSE CAST(round(s.minutes) AS BIGINT) || ' 分钟' END
        || CASE WHEN len(s.finalizers) + len(s.spec_finalizers) > 0
                THEN '，finalizers：' || array_to_string(list_concat(s.finalizers, s.spec_finalizers), ', ')
                ELSE '，已没有 finalizer（删除可能在等待优雅终止期或 kubelet）' END
        || CASE WHEN s.api_group LIKE '%cattle.io' THEN '（Rancher 资源）' ELSE '' END
        || CASE WHEN i.n > 0 THEN '；命名空间内仍有 ' || i.n || ' 个资源持有 finalizer'
                || CASE WHEN i.cattle > 0 THEN '（其中 ' || i.cattle || ' 个为 Rancher *.cattle.io 资源）' ELSE '' END
                ELSE '' END AS message_zh,
    list_concat(['deletionTimestamp: ' || strftime(s.deleted_at, '%Y-%m-%dT%H:%M:%SZ')], coalesce(bl.why, []),
        coalesce(i.what, [])[1:8]) AS evidence,
    CASE WHEN s.kind = 'Namespace' OR s.minutes >= 1440 THEN 'medium' ELSE 'low' END AS severity
FROM stuck s
LEFT JOIN blocking bl ON bl.bundle_id = s.bundle_id AND s.kind = 'Namespace' AND bl.namespace = s.name
LEFT JOIN inside i ON i.bundle_id = s.bundle_id AND s.kind = 'Namespace' AND i.namespace = s.name
WHERE len(s.finalizers) + len(s.spec_finalizers) > 0 OR s.kind = 'Pod'
ORDER BY s.kind, s.namespace, s.name
