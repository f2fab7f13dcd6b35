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
[message]
en = """\
namespace {{ name }} has been Terminating{% if minutes is not none %} for {{ minutes }} minutes{% endif %} while APIService \
{% for a in apis or [] %}{{ a.api }}{% if a.reason is not none %} ({{ a.reason }}){% endif %}{% if a.served_here %} served from this namespace{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %} is unavailable\
{% if named %}: namespace deletion is blocked by its discovery failure\
{% elif discovery_failed == 'True' %}: namespace deletion reports a discovery failure\
{% else %} (the namespace reports no discovery condition: the block is likely, not proven){% endif %}"""
zh = """\
命名空间 {{ name }} 已处于 Terminating 状态{% if minutes is not none %} {{ minutes }} 分钟{% endif %}，而以下 APIService 不可用：\
{% for a in apis or [] %}{{ a.api }}{% if a.reason is not none %}（{{ a.reason }}）{% endif %}{% if a.served_here %}（由该命名空间提供服务）{% endif %}\
{% if not loop.last %}、{% endif %}{% endfor %}\
{% if named %}；其 API 发现失败阻塞了命名空间删除\
{% elif discovery_failed == 'True' %}；命名空间删除报告了 API 发现失败\
{% else %}（该命名空间没有报告发现状态：很可能被阻塞，但未得到证实）{% endif %}"""
[thresholds]
min_terminating_minutes = 5
[remediation]
en = """
Deleting a namespace needs discovery of every API group to delete its content; an APIService
whose Available condition is False makes discovery fail, so the namespace stays
`Terminating` (typical after a cluster is detached in DCE: `kpanda-system` never goes away).
The namespace's own `NamespaceDeletionDiscoveryFailure` condition tells whether discovery is
what blocks it: when it says every group was discovered, the unavailable APIService is not the
cause and this finding is not raised (see stuck-terminating for what holds the namespace).
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
`Terminating`（DCE 中集群解除接入后 `kpanda-system` 命名空间一直 Terminating 即为此类）。
命名空间自身的 `NamespaceDeletionDiscoveryFailure` 条件说明是否为 API 发现阻塞了删除：若其表明所有 API 组均已发现，
则不可用的 APIService 并非原因，不会报告此问题（阻塞原因见 stuck-terminating）。检查 APIServices 状态：若为 False，请尝试修复该 APIService（其后端 Service 与 Pod）或在组件已卸载时删除该服务：
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
           AND c.type IN ('NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure')) AS why,
        -- What the namespace controller last said about discovery: 'True' (failed), 'False'
        -- (every group discovered), NULL (no such condition: an older cluster, or not reported).
        (SELECT any_value(c.status) FROM object_conditions c
         WHERE c.bundle_id = n.bundle_id AND c.resource = 'namespaces' AND c.name = n.name
           AND c.type = 'NamespaceDeletionDiscoveryFailure') AS discovery_failed
    FROM namespaces n JOIN bundles b USING (bundle_id)
    WHERE (n.phase = 'Terminating' OR n.deleted_at IS NOT NULL)
      AND coalesce(days_between(n.deleted_at, b.collected_at) * 1440, 1e9) >= ${min_terminating_minutes}
),
down AS (
    SELECT bundle_id, name, "group", version, service_namespace, service_name, reason, message
    FROM apiservices WHERE available = 'False'
),
pairs AS (
    SELECT t.*, d.name AS api, d."group", d.version, d.service_namespace, d.reason, d.message,
        contains(coalesce(t.why, ''), d."group" || '/' || d.version) AS named,
        d.service_namespace = t.name AS served_here
    FROM terminating t JOIN down d ON d.bundle_id = t.bundle_id
    -- The namespace controller discovered every group: an unavailable APIService is not what
    -- holds this namespace (stuck-terminating reports what does).
    WHERE coalesce(t.discovery_failed, '') <> 'False'
)
SELECT 'namespace/' || p.name AS resource, p.name AS namespace, p.name, p.bundle_id,
    CAST(round(p.minutes) AS BIGINT) AS minutes,
    list({'api': p.api, 'reason': p.reason, 'served_here': p.served_here} ORDER BY p.api) FILTER (WHERE p.api IS NOT NULL) AS apis,
    bool_or(p.named) AS named, any_value(p.discovery_failed) AS discovery_failed,
    list_concat(CASE WHEN any_value(p.why) IS NOT NULL THEN [any_value(p.why)] ELSE [] END,
                list(p.api || ': ' || coalesce(p.message, p.reason, 'Available=False') ORDER BY p.api)) AS evidence,
    -- Proven when the namespace's own discovery failure names the group, or the APIService's
    -- backend lived in the namespace being deleted; likely when discovery failed or was not reported.
    CASE WHEN bool_or(p.named) OR bool_or(p.served_here) THEN 'high' ELSE 'medium' END AS severity
FROM pairs p
GROUP BY p.bundle_id, p.name, p.minutes
ORDER BY 1
