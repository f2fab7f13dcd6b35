/* ---
id = "too-many-open-files-inotify"
severity = "high"
faq = ["KMD-04"]
category = "nodes"
patterns = [
  "too many open files",
  "webhook server exits unexpectedly: too many open files",
  "failed to create fsnotify watcher: too many open files",
  "inotify_init: too many open files",
  "inotify_add_watch .*: no space left on device",
]
[title]
en = "Components crash with \"too many open files\": inotify limits of the node too low"
zh = "组件因 \"too many open files\" 崩溃：节点 inotify 限制过低"
[thresholds]
# The values the FAQ sets.
min_max_user_watches = 100000
min_max_user_instances = 100000
[remediation]
en = """
The process ran out of inotify instances/watches (or file descriptors): controller-runtime
components such as `karmada-webhook` exit with `webhook server exits unexpectedly: too many open
files` and restart forever. Raise the node's inotify limits (on every node, including kind's
host when using `hack/local-up-karmada`):
```
sysctl fs.inotify.max_user_watches=16384
sysctl -w fs.inotify.max_user_watches=100000
sysctl -w fs.inotify.max_user_instances=100000
```
Persist them in `/etc/sysctl.d/` (e.g. `fs.inotify.max_user_watches = 100000`). When the inotify
limits are already high, raise the open-file limit of the container runtime / service instead
(`LimitNOFILE` of containerd/docker). See kubernetes-sigs/kind#2928.
"""
zh = """
进程耗尽了 inotify 实例/监视数（或文件描述符）：`karmada-webhook` 等基于 controller-runtime 的组件报
`webhook server exits unexpectedly: too many open files` 后退出并反复重启。这是资源耗尽问题，调大节点的 inotify 限制
（所有节点；使用 `hack/local-up-karmada` 时为 kind 所在主机）：
```
sysctl fs.inotify.max_user_watches=16384
sysctl -w fs.inotify.max_user_watches=100000
sysctl -w fs.inotify.max_user_instances=100000
```
并写入 `/etc/sysctl.d/` 持久化（如 `fs.inotify.max_user_watches = 100000`）。若 inotify 限制已足够高，
则应调大容器运行时或服务的文件句柄上限（containerd/docker 的 `LimitNOFILE`）。相关 Issue：kubernetes-sigs/kind#2928。
"""
--- */
WITH hits AS (
    SELECT bundle_id, source, namespace, pod, container, node, service, line
    FROM log_lines
    WHERE (contains(lower(line), 'too many open files')
           OR regexp_matches(line, 'inotify_add_watch.*no space left on device'))
      -- A setting or a limit being reported is not the error.
      AND NOT regexp_matches(lower(line), '(ulimit|rlimit_nofile|max open files|open files limit|nofile)\s*[=:]')
),
grouped AS (
    SELECT bundle_id, source, namespace, pod, container, service, any_value(node) AS node,
        count(*) AS n, list(line ORDER BY line)[1:3] AS lines,
        -- accept/socket/open failures are file descriptors (nofile), not inotify.
        bool_and(regexp_matches(line, '(accept4?|socket|dial tcp [^ ]*|open [^ ]+|pipe2?|epollcreate1?): too many open files')) AS fd_only
    FROM hits GROUP BY bundle_id, source, namespace, pod, container, service
),
limits AS (
    SELECT node,
        max(TRY_CAST(value AS BIGINT)) FILTER (WHERE key = 'fs.inotify.max_user_watches') AS watches,
        max(TRY_CAST(value AS BIGINT)) FILTER (WHERE key = 'fs.inotify.max_user_instances') AS instances
    FROM host_sysctls GROUP BY node
),
judged AS (
    SELECT g.*, l.watches, l.instances,
        (l.watches IS NOT NULL OR l.instances IS NOT NULL) AS known,
        coalesce(l.watches < ${min_max_user_watches} OR l.instances < ${min_max_user_instances}, false) AS low
    FROM grouped g LEFT JOIN limits l ON l.node = g.node
)
SELECT
    CASE WHEN source = 'container' THEN 'pod/' || namespace || '/' || pod ELSE 'node/' || coalesce(node, '?') END AS resource,
    namespace, pod AS name, node, container, bundle_id,
    CASE WHEN source = 'container' THEN 'container ' || container ELSE coalesce(service, 'service') || ' on ' || coalesce(node, '?') END
        || ' logged "too many open files" ' || n || ' times'
        || CASE WHEN fd_only THEN '; the process ran out of file descriptors: raise its open-file limit (LimitNOFILE / ulimit -n)'
                WHEN low THEN '; node ' || node || ' has fs.inotify.max_user_watches=' || coalesce(CAST(watches AS VARCHAR), '?')
                    || ', fs.inotify.max_user_instances=' || coalesce(CAST(instances AS VARCHAR), '?')
                    || ' (below ${min_max_user_watches} / ${min_max_user_instances})'
                WHEN known THEN '; inotify limits of node ' || node || ' are already high (' || coalesce(CAST(watches AS VARCHAR), '?')
                    || ' / ' || coalesce(CAST(instances AS VARCHAR), '?')
                    || '): check the open-file limit (LimitNOFILE) instead'
                ELSE '; inotify limits of the node not collected' END AS message,
    CASE WHEN source = 'container' THEN '容器 ' || container ELSE '节点 ' || coalesce(node, '?') || ' 上的 ' || coalesce(service, 'service') END
        || ' 的日志中出现 ' || n || ' 次 "too many open files"'
        || CASE WHEN fd_only THEN '；进程耗尽了文件描述符：请调大其打开文件数限制（LimitNOFILE / ulimit -n）'
                WHEN low THEN '；节点 ' || node || ' 的 fs.inotify.max_user_watches=' || coalesce(CAST(watches AS VARCHAR), '?')
                    || '，fs.inotify.max_user_instances=' || coalesce(CAST(instances AS VARCHAR), '?')
                    || '（低于 ${min_max_user_watches} / ${min_max_user_instances}）'
                WHEN known THEN '；节点 ' || node || ' 的 inotify 限制已经足够高（' || coalesce(CAST(watches AS VARCHAR), '?')
                    || ' / ' || coalesce(CAST(instances AS VARCHAR), '?')
                    || '）：请改为检查打开文件数限制（LimitNOFILE）'
                ELSE '；未收集该节点的 inotify 限制' END AS message_zh,
    lines AS evidence,
    n AS count,
    CASE WHEN fd_only OR (known AND NOT low) THEN 'medium' END AS severity
FROM judged
ORDER BY 1, container
