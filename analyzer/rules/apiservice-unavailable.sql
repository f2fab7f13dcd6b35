/* ---
id = "apiservice-unavailable"
severity = "high"
faq = ["WNR-21"]
category = "control-plane"
patterns = ["unable to retrieve the complete list of server APIs", "the server is currently unable to handle the request", "FailedDiscoveryCheck", "MissingEndpoints"]
[title]
en = "Aggregated APIs unavailable: discovery incomplete (unable to retrieve the complete list of server APIs)"
zh = "聚合 API 不可用：发现不完整 (unable to retrieve the complete list of server APIs)"
[remediation]
en = """
An APIService whose backend does not answer breaks discovery: kubectl prints
`unable to retrieve the complete list of server APIs`, namespace deletion stalls and garbage
collection stops. Check the APIService and the service behind it (metrics-server is typical);
fix or restart its pods, or delete the APIService if the add-on was removed.
```
kubectl get apiservices | grep False
kubectl get pods -n kube-system
kubectl describe apiservice v1beta1.metrics.k8s.io
```
"""
zh = """
后端无响应的 APIService 会破坏 API 发现：kubectl 报 `unable to retrieve the complete list of server APIs`，
命名空间删除会卡住，垃圾回收也会停止。检查该 APIService 及其后端服务（常见为 metrics-server），修复或重启其 Pod；
若组件已卸载，删除该 APIService。
```
kubectl get apiservices | grep False
kubectl get pods -n kube-system
kubectl describe apiservice v1beta1.metrics.k8s.io
```
"""
--- */
SELECT
    'apiservice/' || a.name AS resource,
    a.name, a.bundle_id,
    'APIService ' || a.name || ' is not available' || coalesce(' (' || a.reason || ')', '')
        || coalesce(', backend service ' || a.service_namespace || '/' || a.service_name, '') AS message,
    list_concat(
        [coalesce(a.message, '')],
        coalesce((SELECT list(g.what || ' ' || g.location || ': ' || g.detail) FROM gaps g
                  WHERE g.bundle_id = a.bundle_id AND g.location LIKE a."group" || '%'), [])) AS evidence
FROM apiservices a
WHERE a.available = 'False'
UNION ALL
-- Discovery failures recorded during collection with no matching APIService object.
SELECT 'discovery/' || g.location, NULL, g.bundle_id,
    'API group ' || g.location || ' failed discovery during collection (' || g.reason || ')',
    [g.detail]
FROM gaps g
WHERE g.what = 'discovery'
  AND NOT EXISTS (SELECT 1 FROM apiservices a WHERE a.bundle_id = g.bundle_id AND a.available = 'False' AND g.location LIKE a."group" || '%')
ORDER BY 1
