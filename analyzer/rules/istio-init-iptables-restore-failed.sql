/* ---
id = "istio-init-iptables-restore-failed"
severity = "high"
faq = ["CRN-11"]
category = "service-mesh"
patterns = [
  "iptables-restore: line \\d+ failed",
  "panic: exit status 1",
  "istio-iptables/pkg/dependencies.*RunOrFail",
  "executeIptablesRestoreCommand",
  "restarting failed container istio-init",
]
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
[thresholds]
bad_versions = "1.6.6,1.7.1"
--- */
WITH inits AS (
    SELECT bundle_id, namespace, pod, node, name AS container, image, restart_count, state_reason, exit_code,
        last_reason, last_exit_code, coalesce(state_message, last_message) AS term_message,
        regexp_extract(image, ':v?([0-9]+\.[0-9]+\.[0-9]+)', 1) AS version
    FROM containers
    WHERE container_type = 'init' AND (name = 'istio-init' OR image LIKE '%istio/proxyv2%' OR image LIKE '%istio/proxy_init%')
),
log_hits AS (
    SELECT bundle_id, namespace, pod, container, count(*) AS n, list(line ORDER BY previous DESC, line_no)[1:3] AS lines
    FROM log_lines
    WHERE source = 'container'
      AND (regexp_matches(line, 'iptables-restore: line \d+ failed') OR starts_with(line, 'panic: exit status'))
    GROUP BY ALL
),
backoff AS (
    SELECT bundle_id, namespace, object_name AS pod, sum(count) AS n, any_value(message) AS message
    FROM events
    WHERE object_kind = 'Pod' AND reason = 'BackOff' AND contains(message, 'istio-init')
    GROUP BY ALL
),
failing AS (
    SELECT i.*, l.n AS log_n, l.lines, b.n AS backoff_n, b.message AS backoff_message
    FROM inits i
    LEFT JOIN log_hits l ON l.bundle_id = i.bundle_id AND l.namespace = i.namespace AND l.pod = i.pod AND l.container = i.container
    LEFT JOIN backoff b ON b.bundle_id = i.bundle_id AND b.namespace = i.namespace AND b.pod = i.pod
    WHERE coalesce(i.exit_code, 0) <> 0 OR coalesce(i.last_exit_code, 0) <> 0
       OR i.state_reason IN ('CrashLoopBackOff', 'Error') OR l.n > 0
)
SELECT 'pod/' || namespace || '/' || pod AS resource, namespace, pod AS name, node, container, bundle_id,
    'istio-init of pod ' || namespace || '/' || pod || ' failed'
        || coalesce(' (' || coalesce(state_reason, last_reason) || ', exit ' || coalesce(nullif(exit_code, 0), last_exit_code) || ', '
                    || restart_count || ' restarts)', '')
        || CASE WHEN log_n > 0 THEN ': "iptables-restore: line 2 failed" / "panic: exit status 1" in its log' ELSE '' END
        || CASE WHEN list_contains(string_split(${bad_versions}, ','), version) THEN '; image ' || image || ' is a release known to hit this' ELSE '' END AS message,
    'Pod ' || namespace || '/' || pod || ' 的 istio-init 失败'
        || coalesce('（' || coalesce(state_reason, last_reason) || '，退出码 ' || coalesce(nullif(exit_code, 0), last_exit_code) || '，已重启 '
                    || restart_count || ' 次）', '')
        || CASE WHEN log_n > 0 THEN '：其日志中有 "iptables-restore: line 2 failed" / "panic: exit status 1"' ELSE '' END
        || CASE WHEN list_contains(string_split(${bad_versions}, ','), version) THEN '；镜像 ' || image || ' 属于已知会出现此问题的版本' ELSE '' END AS message_zh,
    list_concat(['image: ' || image], coalesce(lines, []), CASE WHEN backoff_message IS NOT NULL THEN [backoff_message] ELSE [] END) AS evidence,
    'high' AS severity
FROM failing
UNION ALL
-- Sidecars on the releases known to hit it, with no failure seen yet.
SELECT 'image/' || image, NULL, NULL, NULL, 'istio-init', any_value(bundle_id),
    count(DISTINCT namespace || '/' || pod) || ' pods run istio-init from ' || image || ', a release known to fail with "iptables-restore: line 2 failed" when istio-init is re-run',
    count(DISTINCT namespace || '/' || pod) || ' 个 Pod 运行 ' || image || ' 中的 istio-init，该版本已知在 istio-init 重新运行时会报 "iptables-restore: line 2 failed"',
    list(DISTINCT namespace || '/' || pod ORDER BY namespace || '/' || pod)[1:10],
    'low'
FROM inits i
WHERE list_contains(string_split(${bad_versions}, ','), version)
  AND NOT EXISTS (SELECT 1 FROM failing f WHERE f.bundle_id = i.bundle_id AND f.namespace = i.namespace AND f.pod = i.pod)
GROUP BY image
ORDER BY 1
