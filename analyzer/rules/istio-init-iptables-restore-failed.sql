/* ---
id = "istio-init-iptables-restore-failed"
severity = "high"
faq = ["CRN-11"]
category = "service-mesh"
patterns = [
  "ip6?tables-restore( v[0-9.]+ \\([a-z_]+\\))?: line \\d+ failed",
  "panic: exit status 1",
  "istio-iptables/pkg/dependencies.*RunOrFail",
  "executeIptablesRestoreCommand",
  "restarting failed container istio-init",
]
# istio-init runs when the pod (re)starts: a failure more than a day old on a pod whose
# istio-init has since completed is history.
recent = "1d"
[title]
en = "Istio sidecar init (istio-init) fails: \"iptables-restore: line 2 failed\" / \"panic: exit status 1\""
zh = "Istio Sidecar 初始化容器 istio-init 异常退出：\"iptables-restore: line 2 failed\" / \"panic: exit status 1\""
[remediation]
en = """
`istio-init` writes the pod's iptables rules once. When its exited container is removed (for
example by a periodic `docker system prune`), the kubelet runs it again in the same network
namespace: the `ISTIO_*` chains already exist, `iptables-restore` fails on line 2 and
istio-init panics with `exit status 1`, so the pod (and istio-proxy) cannot start. Istio
1.6.6 and 1.7.1 are known to hit this: skip those versions. Keep istio-init containers out of
the clean-up, then delete the broken pods so they get a fresh network namespace.
```
docker system prune -af --volumes --filter "label!=io.kubernetes.container.name=istio-init"
kubectl -n <ns> logs <pod> -c istio-init --previous
kubectl -n <ns> delete pod <pod>
```
"""
zh = """
`istio-init` 只负责一次性写入 Pod 的 iptables 规则。如果它已退出的容器被清理（例如定时执行 `docker system prune`），
kubelet 会在同一个网络命名空间中再次运行它：`ISTIO_*` 链已存在，`iptables-restore` 在第 2 行失败，istio-init 以
`panic: exit status 1` 退出，导致 Pod（及 istio-proxy）无法正常启动。Istio 1.6.6 和 1.7.1 存在此问题，请跳过这些版本。
定时清理时请排除 istio-init 容器，然后删除异常 Pod 让其获得新的网络命名空间。
```
docker system prune -af --volumes --filter "label!=io.kubernetes.container.name=istio-init"
kubectl -n <ns> logs <pod> -c istio-init --previous
kubectl -n <ns> delete pod <pod>
```
"""
[message]
en = """\
{% if kind == 'failed' %}\
  istio-init of pod {{ namespace }}/{{ name }}{% if failing_now %} failed{% else %} failed before and has since completed{% endif %}\
  {% if failing_now %}\
    {% if reason is not none and exit is not none and restart_count is not none %} \
({{ reason }}, exit {{ exit }}, {{ restart_count }} restarts){% endif %}\
  {% elif last_reason is not none and last_exit_code is not none and restart_count is not none %} \
(earlier run: {{ last_reason }}, exit {{ last_exit_code }}; {{ restart_count }} restarts)\
  {% endif %}\
  : "iptables-restore: line 2 failed" / "panic: exit status 1" in its {% if in_log %}log{% else %}termination message{% endif %}\
  {% if known_bad %}; image {{ image }} is a release known to hit this{% endif %}\
{% else %}\
  {{ pods }} pods run istio-init from {{ image }}, a release known to fail with "iptables-restore: line 2 failed" \
when istio-init is re-run\
{% endif %}"""
zh = """\
{% if kind == 'failed' %}\
  Pod {{ namespace }}/{{ name }} 的 istio-init {% if failing_now %}失败{% else %}曾经失败，此后已完成{% endif %}\
  {% if failing_now %}\
    {% if reason is not none and exit is not none and restart_count is not none %}\
（{{ reason }}，退出码 {{ exit }}，已重启 {{ restart_count }} 次）{% endif %}\
  {% elif last_reason is not none and last_exit_code is not none and restart_count is not none %}\
（上一次运行：{{ last_reason }}，退出码 {{ last_exit_code }}；已重启 {{ restart_count }} 次）\
  {% endif %}\
  ：其{% if in_log %}日志{% else %}终止消息{% endif %}中有 "iptables-restore: line 2 failed" / "panic: exit status 1"\
  {% if known_bad %}；镜像 {{ image }} 属于已知会出现此问题的版本{% endif %}\
{% else %}\
  {{ pods }} 个 Pod 运行 {{ image }} 中的 istio-init，该版本已知在 istio-init 重新运行时会报 "iptables-restore: line 2 failed"\
{% endif %}"""
[thresholds]
bad_versions = "1.6.6,1.7.1"
--- */
WITH inits AS (
    SELECT bundle_id, namespace, pod, node, name AS container, image, restart_count, state_reason, exit_code,
        last_reason, last_exit_code, coalesce(state_message, last_message) AS term_message,
        regexp_extract(image, ':v?([0-9]+\.[0-9]+\.[0-9]+)', 1) AS version,
        -- Failing now: waiting to be restarted after a failure, or terminated non-zero.
        (state_reason IN ('CrashLoopBackOff', 'Error', 'RunContainerError') OR coalesce(exit_code, 0) <> 0) AS failing_now
    FROM containers
    WHERE container_type = 'init' AND (name = 'istio-init' OR image LIKE '%istio/proxyv2%' OR image LIKE '%istio/proxy_init%')
),
-- The FAQ's message, in the container's log (this run or the previous one) or in its
-- termination message; the Go panic that follows it is kept as evidence.
log_hits AS (
    SELECT l.bundle_id, l.namespace, l.pod, l.container,
        count(*) FILTER (WHERE regexp_matches(l.line, 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed')) AS n,
        count(*) FILTER (WHERE regexp_matches(l.line, 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed') AND in_window(l.age, ${recent})) AS recent_n,
        min(l.ts) FILTER (WHERE regexp_matches(l.line, 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed')) AS first_seen,
        max(l.ts) FILTER (WHERE regexp_matches(l.line, 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed')) AS last_seen,
        list(l.line ORDER BY l.previous DESC, l.line_no)[1:3] AS lines
    FROM log_lines l
    SEMI JOIN inits i ON i.bundle_id = l.bundle_id AND i.namespace = l.namespace AND i.pod = l.pod AND i.container = l.container
    WHERE l.source = 'container'
      AND (regexp_matches(l.line, 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed') OR starts_with(l.line, 'panic: exit status'))
    GROUP BY ALL
    HAVING count(*) FILTER (WHERE regexp_matches(l.line, 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed')) > 0
),
backoff AS (
    SELECT bundle_id, namespace, object_name AS pod, sum(count) AS n, any_value(message) AS message
    FROM events
    WHERE object_kind = 'Pod' AND reason = 'BackOff' AND contains(message, 'istio-init')
    GROUP BY ALL
),
failing AS (
    SELECT i.*, l.n AS log_n, l.recent_n, l.first_seen, l.last_seen, l.lines, b.n AS backoff_n, b.message AS backoff_message,
        regexp_matches(coalesce(i.term_message, ''), 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed') AS in_term
    FROM inits i
    LEFT JOIN log_hits l ON l.bundle_id = i.bundle_id AND l.namespace = i.namespace AND l.pod = i.pod AND l.container = i.container
    LEFT JOIN backoff b ON b.bundle_id = i.bundle_id AND b.namespace = i.namespace AND b.pod = i.pod
    WHERE l.n > 0 OR regexp_matches(coalesce(i.term_message, ''), 'ip6?tables-restore( v[0-9.]+ \([a-z_]+\))?: line \d+ failed')
)
SELECT 'pod/' || namespace || '/' || pod AS resource, namespace, pod AS name, node, container, bundle_id,
    'failed' AS kind, failing_now, coalesce(state_reason, last_reason) AS reason, coalesce(nullif(exit_code, 0), last_exit_code) AS exit,
    restart_count, last_reason, last_exit_code, coalesce(log_n, 0) > 0 AS in_log,
    list_contains(string_split(${bad_versions}, ','), version) AS known_bad, image, NULL::BIGINT AS pods,
    list_concat(['image: ' || image], coalesce(lines, []),
        CASE WHEN in_term AND coalesce(log_n, 0) = 0 THEN ['termination message: ' || term_message] ELSE [] END,
        CASE WHEN backoff_message IS NOT NULL THEN [backoff_message] ELSE [] END) AS evidence,
    -- Failing now (the container status) with the FAQ's message: the pod cannot start. Once
    -- istio-init has completed, the failure is history, shown low while recent.
    CASE WHEN failing_now THEN 'high' ELSE 'low' END AS severity,
    first_seen, last_seen,
    CASE WHEN NOT failing_now THEN coalesce(recent_n, 0) END AS recent_count,
    log_n AS count
FROM failing
UNION ALL
-- Sidecars on the releases known to hit it, with no failure seen yet.
SELECT 'image/' || image, NULL, NULL, NULL, 'istio-init', any_value(bundle_id),
    'release', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, image, count(DISTINCT namespace || '/' || pod),
    list(DISTINCT namespace || '/' || pod ORDER BY namespace || '/' || pod)[1:10],
    'low', NULL, NULL, NULL, NULL
FROM inits i
WHERE list_contains(string_split(${bad_versions}, ','), version)
  AND NOT EXISTS (SELECT 1 FROM failing f WHERE f.bundle_id = i.bundle_id AND f.namespace = i.namespace AND f.pod = i.pod)
  -- a finished pod (a Job's, from before an upgrade) never runs its istio-init again
  AND NOT EXISTS (SELECT 1 FROM pods p WHERE p.bundle_id = i.bundle_id AND p.namespace = i.namespace AND p.name = i.pod
                  AND p.phase IN ('Succeeded', 'Failed'))
GROUP BY image
ORDER BY 1
