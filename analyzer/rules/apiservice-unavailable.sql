/* ---
id = "apiservice-unavailable"
severity = "high"
faq = ["WNR-21"]
category = "control-plane"
patterns = ["unable to retrieve the complete list of server APIs", "the server is currently unable to handle the request", "FailedDiscoveryCheck", "MissingEndpoints", "failed to discover some groups", "failing or missing response from", "an error on the server \\(\"\"\\) has prevented the request from succeeding"]
[title]
en = "Aggregated APIs unavailable: discovery incomplete (unable to retrieve the complete list of server APIs)"
zh = "聚合 API 不可用：发现不完整 (unable to retrieve the complete list of server APIs)"
[remediation]
en = """
An APIService whose backend does not answer breaks discovery: kubectl prints
`unable to retrieve the complete list of server APIs`, namespace deletion stalls and garbage
collection stops. Check the APIService and the service behind it (metrics-server is typical);
fix or restart its pods, or delete the APIService if the add-on was removed. When every
APIService is available and the error still comes and goes (`write: broken pipe`,
`an error on the server ("") has prevented the request from succeeding`), the network between
kubectl and the API server is unstable (e.g. through sshuttle): use an SSH port forward instead,
`ssh -vNL 6443:10.10.1.1:6443 admin@192.168.1.2 -o ExitOnForwardFailure=yes`.
```
kubectl api-resources                # fails intermittently
kubectl get apiservices | grep False
kubectl get pods -n kube-system
kubectl describe apiservice v1beta1.metrics.k8s.io
```
"""
zh = """
后端无响应的 APIService 会破坏 API 发现：kubectl 报 `unable to retrieve the complete list of server APIs`，
命名空间删除会卡住，垃圾回收也会停止。检查该 APIService 及其后端服务（常见为 metrics-server），修复或重启其 Pod；
若组件已卸载，删除该 APIService。若所有 APIService 都可用但错误时有时无（`write: broken pipe`、
`an error on the server ("") has prevented the request from succeeding`），可能是 kubectl 与 API Server 之间网络不稳定
（例如使用 sshuttle 时偶尔出现）：可改用 SSH 端口转发
`ssh -vNL 6443:10.10.1.1:6443 admin@192.168.1.2 -o ExitOnForwardFailure=yes`。
```
kubectl api-resources                # 概率失败
kubectl get apiservices | grep False
kubectl get pods -n kube-system
kubectl describe apiservice v1beta1.metrics.k8s.io
```
"""
--- */
WITH down AS (
    SELECT a.* FROM apiservices a WHERE a.available = 'False'
),
disco_logs AS (
    -- client-go discovery errors ("unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: ..."),
    -- controllers' "failed to discover some groups: map[metrics.k8s.io/v1beta1:...]" and the
    -- API server's "v1beta1.metrics.k8s.io failed with: failing or missing response from ...".
    SELECT bundle_id, node, line,
        coalesce(nullif(source || ' ' || coalesce(namespace || '/' || pod || '/' || container, service, ''), ''), source) AS origin
    FROM log_lines
    WHERE contains(line, 'unable to retrieve the complete list of server APIs')
       OR contains(line, 'failed to discover some groups')
       OR (contains(line, 'failing or missing response from') AND contains(line, '/apis/'))
),
matched AS (
    SELECT d.name, l.line, l.origin
    FROM down d JOIN disco_logs l
      ON contains(l.line, d."group" || '/' || d.version) OR contains(l.line, d.name)
)
SELECT
    'apiservice/' || a.name AS resource,
    a.name, a.bundle_id,
    'APIService ' || a.name || ' is not available' || coalesce(' (' || a.reason || ')', '')
        || coalesce(', backend service ' || a.service_namespace || '/' || a.service_name, '')
        || coalesce((SELECT '; ' || count(*) || ' log lines report discovery failures for it ('
                        || string_agg(DISTINCT m.origin, ', ' ORDER BY m.origin) || ')'
                     FROM matched m WHERE m.name = a.name HAVING count(*) > 0), '') AS message,
    'APIService ' || a.name || ' 不可用' || coalesce('（' || a.reason || '）', '')
        || coalesce('，后端服务 ' || a.service_namespace || '/' || a.service_name, '')
        || coalesce((SELECT '；' || count(*) || ' 行日志报告了它的发现失败（'
                        || string_agg(DISTINCT m.origin, ', ' ORDER BY m.origin) || '）'
                     FROM matched m WHERE m.name = a.name HAVING count(*) > 0), '') AS message_zh,
    list_concat(
        [coalesce(a.message, '')],
        coalesce((SELECT list(g.what || ' ' || g.location || ': ' || g.detail) FROM gaps g
                  WHERE g.bundle_id = a.bundle_id AND g.location LIKE a."group" || '%'), []),
        coalesce((SELECT list(m.line ORDER BY m.line)[1:2] FROM matched m WHERE m.name = a.name), [])) AS evidence
FROM down a
UNION ALL
-- Discovery failures recorded during collection with no matching APIService object.
SELECT 'discovery/' || g.location, NULL, g.bundle_id,
    'API group ' || g.location || ' failed discovery during collection (' || g.reason || ')',
    'API 组 ' || g.location || ' 在采集期间发现失败（' || g.reason || '）',
    [g.detail]
FROM gaps g
WHERE g.what = 'discovery'
  AND NOT EXISTS (SELECT 1 FROM down a WHERE a.bundle_id = g.bundle_id AND g.location LIKE a."group" || '%')
UNION ALL
-- Discovery failures in component logs that no unavailable APIService explains.
SELECT 'discovery/logs', NULL, any_value(l.bundle_id),
    count(*) || ' log lines report "unable to retrieve the complete list of server APIs" / failed group discovery ('
        || string_agg(DISTINCT l.origin, ', ' ORDER BY l.origin) || ')',
    count(*) || ' 行日志报告 "unable to retrieve the complete list of server APIs" 或 API 组发现失败（'
        || string_agg(DISTINCT l.origin, ', ' ORDER BY l.origin) || '）',
    list(l.line ORDER BY l.line)[1:3]
FROM disco_logs l
WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.line = l.line)
HAVING count(*) > 0
ORDER BY 1
