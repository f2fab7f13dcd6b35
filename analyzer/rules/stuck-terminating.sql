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
APIService); if it is gone for good, remove the finalizers by hand (FAQ WNR-15). For
namespaces, the `NamespaceContentRemaining` / `NamespaceFinalizersRemaining` conditions name
what blocks it. A namespace whose deletion waits on an unavailable APIService is reported by
namespace-terminating-apiservice-unavailable (here as info); a claim or volume kept by storage
protection while a pod or claim still uses it is working as designed (info). A node held by
Karpenter's `karpenter.sh/termination` finalizer waits for its pods to be evicted: when a
PodDisruptionBudget allows no disruption, fix that budget (or the pods it covers); removing the
finalizer by hand leaves the cloud instance running.
```
kubectl delete pods --force <pod> --grace-period=0
kubectl patch pod <pod> -p '{"metadata":{"finalizers":null}}'
kubectl get ns --field-selector status.phase=Terminating
kubectl patch ns <ns> -p '{"metadata":{"finalizers":[]}}' --type=merge
# all Terminating namespaces at once
kubectl patch ns -p '{"metadata":{"finalizers":[]}}' --type=merge $(kubectl get ns --field-selector status.phase=Terminating -o jsonpath='{..metadata.name}')
```
Only when the finding names Rancher `*.cattle.io` resources or finalizers (FAQ WNR-16): in
Rancher project namespaces those resources hold finalizers that must be patched first, and
`kubectl get all` does not return them (try ketall):
```
for grp in management.cattle.io catalog.cattle.io project.cattle.io; do
  for res in $(kubectl api-resources --namespaced=true --api-group $grp -o name); do kubectl get --all-namespaces $res; done
done
kubectl -n <ns> patch <resource> -p '{"metadata":{"finalizers":[]}}' --type=merge
```
"""
zh = """
对象已被删除，但仍有 finalizer 未清除，API Server 会一直保留它。先找到并修复负责移除该 finalizer 的控制器
（其 Pod、Webhook 或 APIService）；若控制器已不存在，可手工移除 finalizers（FAQ WNR-15）。对于命名空间，
`NamespaceContentRemaining` / `NamespaceFinalizersRemaining` 条件会指出阻塞原因。因 APIService 不可用而无法删除的命名空间
由 namespace-terminating-apiservice-unavailable 报告（此处为 info）；存储保护机制在 Pod 或 PVC 仍在使用时保留的 PVC/PV 属预期行为（info）。
带有 Karpenter `karpenter.sh/termination` finalizer 的节点在等待其上的 Pod 被驱逐：若 PodDisruptionBudget 不允许任何中断，
请修正该 PDB（或它覆盖的 Pod）；手工移除该 finalizer 会使云主机实例继续运行而无人回收。
```
kubectl delete pods --force <pod> --grace-period=0
kubectl patch pod <pod> -p '{"metadata":{"finalizers":null}}'
kubectl get ns --field-selector status.phase=Terminating
kubectl patch ns <ns> -p '{"metadata":{"finalizers":[]}}' --type=merge
# 批量处理所有 Terminating 命名空间
kubectl patch ns -p '{"metadata":{"finalizers":[]}}' --type=merge $(kubectl get ns --field-selector status.phase=Terminating -o jsonpath='{..metadata.name}')
```
仅当结果中出现 Rancher `*.cattle.io` 资源或 finalizer 时（FAQ WNR-16）：Rancher 项目命名空间中的这些资源带有 finalizer，
需先 patch 掉才能删除，且 `kubectl get all` 不会返回它们（可尝试 ketall）：
```
for grp in management.cattle.io catalog.cattle.io project.cattle.io; do
  for res in $(kubectl api-resources --namespaced=true --api-group $grp -o name); do kubectl get --all-namespaces $res; done
done
kubectl -n <ns> patch <resource> -p '{"metadata":{"finalizers":[]}}' --type=merge
```
"""
[message]
en = """\
{{ kind }} {{ name }} has been Terminating for {{ minutes | age }}\
{% if has_finalizers %}, finalizers: {{ finalizers | join(', ') }}\
{% else %}, no finalizers left (deletion may be waiting on a grace period or the kubelet){% endif %}\
{% if cattle %} (Rancher resource){% endif %}\
{% if inside_n > 0 %}; {{ inside_n }} resources inside still hold finalizers\
{% if inside_cattle > 0 %} ({{ inside_cattle }} Rancher *.cattle.io resources){% endif %}{% endif %}\
{% if rancher %}; Rancher project resources: patch their *.cattle.io finalizers first (FAQ WNR-16){% endif %}\
{% if blocked_by_apis is not none %}; its deletion waits on unavailable APIService {{ blocked_by_apis }} \
(see namespace-terminating-apiservice-unavailable)\
{% elif user_of is not none and kind == 'PersistentVolumeClaim' %}; still mounted by pod {{ user_of }}: \
storage protection keeps it until the pod is gone, as designed\
{% elif user_of is not none %}; its claim {{ user_of }} still exists: storage protection keeps it until the claim is gone, as designed\
{% elif down_node is not none %}; its node {{ down_node }} is not Ready, so no kubelet confirms the deletion \
(fix the node, or force-delete the pod){% endif %}"""
zh = """\
{{ kind }} {{ name }} 已处于 Terminating 状态 {{ minutes | age }}\
{% if has_finalizers %}，finalizers：{{ finalizers | join(', ') }}\
{% else %}，已没有 finalizer（删除可能在等待优雅终止期或 kubelet）{% endif %}\
{% if cattle %}（Rancher 资源）{% endif %}\
{% if inside_n > 0 %}；命名空间内仍有 {{ inside_n }} 个资源持有 finalizer\
{% if inside_cattle > 0 %}（其中 {{ inside_cattle }} 个为 Rancher *.cattle.io 资源）{% endif %}{% endif %}\
{% if rancher %}；Rancher 项目资源：需先 patch 掉 *.cattle.io 的 finalizer（FAQ WNR-16）{% endif %}\
{% if blocked_by_apis is not none %}；其删除在等待不可用的 APIService {{ blocked_by_apis }}（见 namespace-terminating-apiservice-unavailable）\
{% elif user_of is not none and kind == 'PersistentVolumeClaim' %}；仍被 Pod {{ user_of }} 挂载：存储保护机制会保留它直到 Pod 删除，属预期行为\
{% elif user_of is not none %}；其 PVC {{ user_of }} 仍存在：存储保护机制会保留它直到 PVC 删除，属预期行为\
{% elif down_node is not none %}；其所在节点 {{ down_node }} 未 Ready，没有 kubelet 确认删除（修复节点，或强制删除该 Pod）{% endif %}"""
[thresholds]
min_age_minutes = 30
--- */
WITH stuck AS NOT MATERIALIZED (
    SELECT o.bundle_id, o.kind, o.api_group, o.namespace, o.name, o.finalizers, o.deleted_at, o.doc,
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
-- Namespaces whose deletion waits on an unavailable APIService (discovery failed or not
-- reported): namespace-terminating-apiservice-unavailable reports that problem, this rule
-- only notes it.
apiservice_blocked AS (
    SELECT s.bundle_id, s.name AS namespace, string_agg(a.name, ', ' ORDER BY a.name) AS apis
    FROM stuck s
    JOIN apiservices a ON a.bundle_id = s.bundle_id AND a.available = 'False'
    WHERE s.kind = 'Namespace'
      AND coalesce((SELECT any_value(c.status) FROM object_conditions c
                    WHERE c.bundle_id = s.bundle_id AND c.resource = 'namespaces' AND c.name = s.name
                      AND c.type = 'NamespaceDeletionDiscoveryFailure'), '') <> 'False'
    GROUP BY ALL
),
-- What still holds finalizers inside each namespace being deleted (Rancher project
-- namespaces: *.cattle.io resources).
inside AS (
    SELECT o.bundle_id, o.namespace,
        count(*) AS n,
        count(*) FILTER (WHERE o.api_group LIKE '%cattle.io' OR list_bool_or(list_transform(o.finalizers, lambda f: contains(f, 'cattle.io')))) AS cattle,
        list(lower(o.kind) || '.' || CASE WHEN o.api_group = '' THEN 'core' ELSE o.api_group END || '/' || o.name
             || ' [' || array_to_string(o.finalizers, ', ') || ']' ORDER BY o.api_group, o.kind, o.name) AS what
    FROM objects o
    JOIN stuck s ON s.bundle_id = o.bundle_id AND s.kind = 'Namespace' AND s.name = o.namespace
    WHERE len(o.finalizers) > 0 AND o.resource <> 'events'
      AND NOT (o.kind = 'PersistentVolumeClaim' AND o.finalizers = ['kubernetes.io/pvc-protection'] AND o.deleted_at IS NULL)
    GROUP BY ALL
),
-- Storage protection working as designed: a claim kept while a pod still mounts it, a volume
-- kept while its claim still exists.
protected AS (
    SELECT s.bundle_id, s.kind, s.namespace, s.name, string_agg(p.name, ', ' ORDER BY p.name) AS user_of
    FROM stuck s
    JOIN pods p ON p.bundle_id = s.bundle_id AND p.namespace = s.namespace
    WHERE s.kind = 'PersistentVolumeClaim' AND s.finalizers = ['kubernetes.io/pvc-protection']
      AND coalesce(p.phase, '') NOT IN ('Succeeded', 'Failed')
      AND contains(CAST(p.volumes AS VARCHAR), '"claimName":"' || s.name || '"')
    GROUP BY ALL
    UNION ALL
    SELECT s.bundle_id, s.kind, s.namespace, s.name, any_value(c.namespace || '/' || c.name)
    FROM stuck s
    JOIN pvcs c ON c.bundle_id = s.bundle_id AND c.namespace = json_extract_string(s.doc, '$.spec.claimRef.namespace')
        AND c.name = json_extract_string(s.doc, '$.spec.claimRef.name')
    WHERE s.kind = 'PersistentVolume' AND s.finalizers = ['kubernetes.io/pv-protection']
    GROUP BY ALL
),
-- Pods whose node is not Ready: the kubelet that would confirm the deletion is not there.
pod_node AS (
    SELECT p.bundle_id, p.namespace, p.name, p.node, NOT n.ready AS node_down
    FROM pods p LEFT JOIN nodes n ON n.bundle_id = p.bundle_id AND n.name = p.node
    WHERE p.deleted_at IS NOT NULL AND p.node IS NOT NULL
),
rows AS (
    SELECT s.*, bl.why, i.n AS inside_n, i.cattle AS inside_cattle, i.what AS inside_what,
        ab.apis AS blocked_by_apis, pr.user_of, pn.node AS pod_node,
        CASE WHEN pn.node_down THEN pn.node END AS down_node,
        (s.api_group LIKE '%cattle.io' OR list_bool_or(list_transform(s.finalizers, lambda f: contains(f, 'cattle.io')))
         OR coalesce(i.cattle, 0) > 0) AS rancher
    FROM stuck s
    LEFT JOIN blocking bl ON bl.bundle_id = s.bundle_id AND s.kind = 'Namespace' AND bl.namespace = s.name
    LEFT JOIN inside i ON i.bundle_id = s.bundle_id AND s.kind = 'Namespace' AND i.namespace = s.name
    LEFT JOIN apiservice_blocked ab ON ab.bundle_id = s.bundle_id AND s.kind = 'Namespace' AND ab.namespace = s.name
    LEFT JOIN protected pr ON pr.bundle_id = s.bundle_id AND pr.kind = s.kind AND pr.namespace = s.namespace AND pr.name = s.name
    LEFT JOIN pod_node pn ON pn.bundle_id = s.bundle_id AND s.kind = 'Pod' AND pn.namespace = s.namespace AND pn.name = s.name
    WHERE len(s.finalizers) + len(s.spec_finalizers) > 0 OR s.kind = 'Pod'
)
SELECT
    lower(s.kind) || '/' || CASE WHEN s.namespace = '' THEN '' ELSE s.namespace || '/' END || s.name AS resource,
    s.namespace, s.name, s.pod_node AS node, s.bundle_id,
    s.kind, s.minutes, list_concat(s.finalizers, s.spec_finalizers) AS finalizers,
    coalesce(len(s.finalizers) + len(s.spec_finalizers) > 0, false) AS has_finalizers,
    coalesce(s.api_group LIKE '%cattle.io', false) AS cattle, s.inside_n, s.inside_cattle, s.rancher,
    s.blocked_by_apis, s.user_of, s.down_node,
    list_concat(['deletionTimestamp: ' || strftime(s.deleted_at, '%Y-%m-%dT%H:%M:%SZ')], coalesce(s.why, []),
        coalesce(s.inside_what, [])[1:8]) AS evidence,
    -- One problem, one finding: a namespace held by an unavailable APIService is that rule's
    -- finding; storage protection waiting for its user is no problem.
    CASE WHEN s.blocked_by_apis IS NOT NULL OR s.user_of IS NOT NULL THEN 'info'
         WHEN s.kind = 'Namespace' OR s.minutes >= 1440 THEN 'medium' ELSE 'low' END AS severity
FROM rows s
ORDER BY s.kind, s.namespace, s.name
