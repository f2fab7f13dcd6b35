/* ---
id = "apiservice-unavailable"
severity = "high"
faq = ["WNR-21"]
category = "control-plane"
patterns = ["unable to retrieve the complete list of server APIs", "the server is currently unable to handle the request", "FailedDiscoveryCheck", "MissingEndpoints", "failed to discover some groups", "failing or missing response from", "an error on the server \\(\"\"\\) has prevented the request from succeeding", "couldn't get resource list for", "stale GroupVersion discovery"]
# Discovery errors in logs only tell that an APIService failed at some time; the finding rests
# on the APIService's own Available condition. Log lines count as current within an hour.
recent = "1h"
[title]
en = "Aggregated APIs unavailable: discovery incomplete (unable to retrieve the complete list of server APIs)"
zh = "聚合 API 不可用：发现不完整 (unable to retrieve the complete list of server APIs)"
[message]
en = """\
{% if kind == 'api' %}\
  APIService {{ name }} is not available{% if reason is not none %} ({{ reason }}){% endif %}\
  {% if backend is not none %}, backend service {{ backend }}{% endif %}\
  {% if short_minutes is not none %}, since {{ short_minutes }} minutes only (its backend may be restarting){% endif %}\
  {% if log_n is not none %}; {{ log_n }} log lines report discovery failures for it ({{ origins | join(', ') }}){% endif %}\
{% elif kind == 'gap' %}\
  API group {{ location }} failed discovery during collection ({{ reason }})\
  {% if up_api is not none %}; APIService {{ up_api }} is Available now: a passing failure{% endif %}\
{% else %}\
  {{ count }} log lines report "unable to retrieve the complete list of server APIs" / failed group discovery \
  ({{ origins | join(', ') }}); no unavailable APIService explains them\
{% endif %}"""
zh = """\
{% if kind == 'api' %}\
  APIService {{ name }} 不可用{% if reason is not none %}（{{ reason }}）{% endif %}\
  {% if backend is not none %}，后端服务 {{ backend }}{% endif %}\
  {% if short_minutes is not none %}，仅持续了 {{ short_minutes }} 分钟（其后端可能正在重启）{% endif %}\
  {% if log_n is not none %}；{{ log_n }} 行日志报告了它的发现失败（{{ origins | join(', ') }}）{% endif %}\
{% elif kind == 'gap' %}\
  API 组 {{ location }} 在采集期间发现失败（{{ reason }}）\
  {% if up_api is not none %}；APIService {{ up_api }} 现已可用：短暂的失败{% endif %}\
{% else %}\
  {{ count }} 行日志报告 "unable to retrieve the complete list of server APIs" 或 API 组发现失败\
  （{{ origins | join(', ') }}）；当前没有不可用的 APIService 能解释这些日志\
{% endif %}"""
[thresholds]
# An APIService unavailable for less than this many minutes may be a backend restarting.
min_down_minutes = 5
[remediation]
en = """
An APIService whose backend does not answer breaks discovery: kubectl prints
`unable to retrieve the complete list of server APIs`, namespace deletion stalls and garbage
collection stops. Check the APIService and the service behind it (metrics-server is typical);
fix or restart its pods, or delete the APIService if the add-on was removed. When every
APIService is available and the error still comes and goes (`write: broken pipe`,
`an error on the server ("") has prevented the request from succeeding`), the network between
kubectl and the API server is unstable (e.g. through sshuttle): use an SSH port forward instead,
`ssh -vNL 6443:10.10.1.1:6443 admin@192.168.1.2 -o ExitOnForwardFailure=yes`. Discovery errors
in component logs while every APIService is Available now are a past or passing failure (info).
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
`ssh -vNL 6443:10.10.1.1:6443 admin@192.168.1.2 -o ExitOnForwardFailure=yes`。若组件日志中有发现失败但当前所有
APIService 均可用，说明是过去或短暂的失败（info）。
```
kubectl api-resources                # 概率失败
kubectl get apiservices | grep False
kubectl get pods -n kube-system
kubectl describe apiservice v1beta1.metrics.k8s.io
```
"""
--- */
WITH down AS (
    SELECT a.*, days_between(a.last_transition, b.collected_at) * 1440 AS down_minutes
    FROM apiservices a JOIN bundles b ON b.bundle_id = a.bundle_id
    WHERE a.available = 'False'
),
disco_logs AS MATERIALIZED (
    -- client-go discovery errors ("unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: ...",
    -- "couldn't get resource list for metrics.k8s.io/v1beta1"), controllers' "failed to discover some
    -- groups: map[metrics.k8s.io/v1beta1:...]" and "stale GroupVersion discovery: ...", and the
    -- API server's "v1beta1.metrics.k8s.io failed with: failing or missing response from ...".
    SELECT bundle_id, node, line, ts, age,
        coalesce(nullif(source || ' ' || coalesce(namespace || '/' || pod || '/' || container, service, ''), ''), source) AS origin
    FROM log_lines
    WHERE contains(line, 'unable to retrieve the complete list of server APIs')
       OR contains(line, 'failed to discover some groups')
       OR contains(line, 'couldn''t get resource list for')
       OR contains(line, 'stale GroupVersion discovery')
       OR (contains(line, 'failing or missing response from') AND contains(line, '/apis/'))
),
matched AS MATERIALIZED (
    SELECT d.bundle_id, d.name, l.line, l.origin, l.ts
    FROM down d JOIN disco_logs l
      ON l.bundle_id = d.bundle_id AND (contains(l.line, d."group" || '/' || d.version) OR contains(l.line, d.name))
),
-- The log evidence of each unavailable APIService, aggregated once.
per_api AS (
    SELECT bundle_id, name, count(*) AS n, list(DISTINCT origin ORDER BY origin) AS origins,
        list(line ORDER BY ts DESC NULLS LAST, line)[1:2] AS lines, min(ts) AS first_seen, max(ts) AS last_seen
    FROM matched
    GROUP BY bundle_id, name
),
-- Collection gaps of each unavailable APIService's group.
gap_lines AS (
    SELECT a.bundle_id, a.name, list(g.what || ' ' || g.location || ': ' || g.detail) AS gaps
    FROM down a JOIN gaps g ON g.bundle_id = a.bundle_id AND g.location LIKE a."group" || '%'
    GROUP BY a.bundle_id, a.name
),
-- APIServices that are Available now: discovery errors about them are history.
up AS (
    SELECT bundle_id, "group", version, name FROM apiservices WHERE available = 'True'
)
SELECT
    'apiservice/' || a.name AS resource,
    a.name, a.bundle_id,
    'api' AS kind, a.reason, a.service_namespace || '/' || a.service_name AS backend,
    CASE WHEN a.down_minutes < ${min_down_minutes} THEN CAST(round(greatest(a.down_minutes, 0)) AS BIGINT) END AS short_minutes,
    p.n AS log_n, p.origins, NULL AS location, NULL AS up_api,
    list_concat(
        [coalesce(a.message, '')],
        coalesce(gl.gaps, []),
        coalesce(p.lines, [])) AS evidence,
    -- The APIService's own condition proves it; only a very fresh transition may be a restart.
    CASE WHEN a.down_minutes < ${min_down_minutes} THEN 'medium' ELSE 'high' END AS severity,
    p.first_seen,
    p.last_seen,
    NULL::BIGINT AS recent_count,
    NULL::BIGINT AS count
FROM down a
LEFT JOIN per_api p ON p.bundle_id = a.bundle_id AND p.name = a.name
LEFT JOIN gap_lines gl ON gl.bundle_id = a.bundle_id AND gl.name = a.name
UNION ALL
-- Discovery failures recorded during collection with no matching unavailable APIService.
SELECT 'discovery/' || g.location, NULL, g.bundle_id,
    'gap', g.reason, NULL, NULL, NULL, NULL, g.location, u.name,
    [g.detail],
    CASE WHEN u.name IS NOT NULL THEN 'info' ELSE 'medium' END,
    NULL, NULL, NULL, NULL
FROM gaps g
LEFT JOIN up u ON u.bundle_id = g.bundle_id AND g.location = u."group" || '/' || u.version
WHERE g.what = 'discovery'
  -- An imported bundle whose tool records no discovery did not see a failure.
  AND g.reason <> 'source-format'
  AND NOT EXISTS (SELECT 1 FROM down a WHERE a.bundle_id = g.bundle_id AND g.location LIKE a."group" || '%')
UNION ALL
-- Discovery failures in component logs that no unavailable APIService explains: without the
-- APIService object's Available=False they tell of a past or passing failure (info).
SELECT 'discovery/logs', NULL, l.bundle_id,
    'logs', NULL, NULL, NULL, NULL, list(DISTINCT l.origin ORDER BY l.origin), NULL, NULL,
    list(l.line ORDER BY l.ts DESC NULLS LAST, l.line)[1:3],
    'info',
    min(l.ts), max(l.ts),
    count(*) FILTER (WHERE in_window(l.age, ${recent})),
    count(*)
FROM disco_logs l
WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.bundle_id = l.bundle_id AND m.line = l.line)
GROUP BY l.bundle_id
ORDER BY 1
