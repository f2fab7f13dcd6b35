/* ---
id = "namespace-terminating-apiservice-unavailable"
severity = "high"
faq = ["DCE-15"]
category = "lifecycle"
patterns = [
  "NamespaceDeletionDiscoveryFailure",
  "Discovery failed for some groups",
  "unable to retrieve the complete list of server APIs",
  "kpanda-system.*Terminating",
]
[title]
en = "Namespace stuck Terminating because an APIService is unavailable"
zh = "命名空间因 APIService 不可用而一直处于 Terminating"
[thresholds]
min_terminating_minutes = 5
[remediation]
en = """
Deleting a namespace needs discovery of every API group to delete its content; an APIService
whose Available condition is False makes discovery fail, so the namespace stays
`Terminating` (typical after a cluster is detached in DCE: `kpanda-system` never goes away).
Check the APIServices, then repair the failing one (its backend Service and pods) or delete it
when its add-on is gone:
```
kubectl get apiservices | grep False
kubectl get apiservice <name> -o yaml          # status.conditions: reason/message
kubectl delete apiservice <name>               # when the add-on was removed
kubectl get ns <ns> -o jsonpath='{.status.conditions}'
```
"""
zh = """
删除命名空间时需要发现所有 API 组以清理其中的资源；Available 状态为 False 的 APIService 会使发现失败，命名空间因此一直处于
`Terminating`（DCE 中集群解除接入后 `kpanda-system` 命名空间一直 Terminating 即为此类）。检查 APIServices 状态：
若为 False，请尝试修复该 APIService（其后端 Service 与 Pod）或在组件已卸载时删除该服务：
```
kubectl get apiservices | grep False
kubectl get apiservice <name> -o yaml          # status.conditions: reason/message
kubectl delete apiservice <name>               # 组件已卸载时
kubectl get ns <ns> -o jsonpath='{.status.conditions}'
```
"""
--- */
WITH terminating AS (
    SELECT n.bundle_id, n.name, n.deleted_at,
        days_between(n.deleted_at, b.collected_at) * 1440 AS minutes,
        (SELECT string_agg(c.type || ': ' || coalesce(c.message, c.reason, ''), '; ')
         FROM object_conditions c
         WHERE c.bundle_id = n.bundle_id AND c.resource = 'namespaces' AND c.name = n.name AND c.status = 'True'
           AND c.type IN ('NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure')) AS why
    FROM namespaces n JOIN bundles b USING (bundle_id)
    WHERE (n.phase = 'Terminating' OR n.deleted_at IS NOT NULL)
      AND coalesce(days_between(n.deleted_at, b.collected_at) * 1440, 1e9) >= ${min_terminating_minutes}
),
down AS (
    SELECT bundle_id, name, "group", version, service_namespace, service_name, reason, message
    FROM apiservices WHERE available = 'False'
)
SELECT 'namespace/' || t.name AS resource, t.name AS namespace, t.name, t.bundle_id,
    'namespace ' || t.name || ' has been Terminating'
        || coalesce(' for ' || CAST(round(t.minutes) AS BIGINT) || ' minutes', '')
        || ' while APIService ' || string_agg(d.name || coalesce(' (' || d.reason || ')', '')
            || CASE WHEN d.service_namespace = t.name THEN ' served from this namespace' ELSE '' END, ', ' ORDER BY d.name)
        || ' is unavailable'
        || CASE WHEN bool_or(contains(coalesce(t.why, ''), d."group" || '/' || d.version)) THEN ': namespace deletion is blocked by its discovery failure' ELSE '' END AS message,
    '命名空间 ' || t.name || ' 已处于 Terminating 状态'
        || coalesce(' ' || CAST(round(t.minutes) AS BIGINT) || ' 分钟', '')
        || '，而以下 APIService 不可用：' || string_agg(d.name || coalesce('（' || d.reason || '）', '')
            || CASE WHEN d.service_namespace = t.name THEN '（由该命名空间提供服务）' ELSE '' END, '、' ORDER BY d.name)
        || CASE WHEN bool_or(contains(coalesce(t.why, ''), d."group" || '/' || d.version)) THEN '；其 API 发现失败阻塞了命名空间删除' ELSE '' END AS message_zh,
    list_concat(CASE WHEN t.why IS NOT NULL THEN [t.why] ELSE [] END,
                list(d.name || ': ' || coalesce(d.message, d.reason, 'Available=False') ORDER BY d.name)) AS evidence
FROM terminating t JOIN down d ON d.bundle_id = t.bundle_id
GROUP BY t.bundle_id, t.name, t.minutes, t.why
ORDER BY 1
