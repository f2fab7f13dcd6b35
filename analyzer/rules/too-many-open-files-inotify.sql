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
  "User limit of inotify (instances|watches) reached",
  "inotify resources exhausted",
]
# A component that cannot get an inotify instance fails at every start: a current problem
# shows within hours.
recent = "6h"
[title]
en = "Components crash with \"too many open files\": inotify limits of the node too low"
zh = "组件因 \"too many open files\" 崩溃：节点 inotify 限制过低"
[message]
en = """\
{% if source == 'container' %}container {{ container }}\
{% else %}{{ service if service is not none else 'service' }} on {{ node if node is not none else '?' }}{% endif %} \
logged "too many open files" {{ logged }} times\
{% if kind == 'fd' %}; the process ran out of file descriptors: raise its open-file limit (LimitNOFILE / ulimit -n); not an inotify limit\
{% elif low %}; node {{ node }} has fs.inotify.max_user_watches={{ watches if watches is not none else '?' }}, \
fs.inotify.max_user_instances={{ instances if instances is not none else '?' }} \
(below {{ min_max_user_watches }} / {{ min_max_user_instances }})\
{% elif known %}; inotify limits of node {{ node }} are already high ({{ watches if watches is not none else '?' }} / \
{{ instances if instances is not none else '?' }}): check the open-file limit (LimitNOFILE) instead\
{% else %}; inotify limits of the node not collected{% endif %}\
{% if kind == 'inotify' %}; the errors name inotify / file watchers{% endif %}\
{% if crashing and kind != 'fd' %}; the container keeps failing ({{ st if st is not none else '?' }}, {{ restarts }} restarts)\
{% elif transient and kind != 'fd' %}; a single line from a container that runs Ready: transient, nothing failing now{% endif %}"""
zh = """\
{% if source == 'container' %}容器 {{ container }}\
{% else %}节点 {{ node if node is not none else '?' }} 上的 {{ service if service is not none else 'service' }}{% endif %} \
的日志中出现 {{ logged }} 次 "too many open files"\
{% if kind == 'fd' %}；进程耗尽了文件描述符：请调大其打开文件数限制（LimitNOFILE / ulimit -n）；与 inotify 限制无关\
{% elif low %}；节点 {{ node }} 的 fs.inotify.max_user_watches={{ watches if watches is not none else '?' }}，\
fs.inotify.max_user_instances={{ instances if instances is not none else '?' }}\
（低于 {{ min_max_user_watches }} / {{ min_max_user_instances }}）\
{% elif known %}；节点 {{ node }} 的 inotify 限制已经足够高（{{ watches if watches is not none else '?' }} / \
{{ instances if instances is not none else '?' }}）：请改为检查打开文件数限制（LimitNOFILE）\
{% else %}；未收集该节点的 inotify 限制{% endif %}\
{% if kind == 'inotify' %}；错误信息指明了 inotify / 文件监视{% endif %}\
{% if crashing and kind != 'fd' %}；该容器反复失败（{{ st if st is not none else '?' }}，已重启 {{ restarts }} 次）\
{% elif transient and kind != 'fd' %}；仅一行日志，且该容器运行正常（Ready）：属于偶发错误，当前没有失败{% endif %}"""
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
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
hits AS (
    SELECT bundle_id, source, namespace, pod, container, node, service, line, line_no, ts, age,
        -- The line names inotify or a file watcher: the inotify limits (fsnotify, tail -f,
        -- kubectl logs -f, Java's WatchService, cAdvisor).
        regexp_matches(line, '(?i)(inotify|fsnotify|file watcher|failed to watch|watchservice)') AS inotify,
        -- The line names a file-descriptor operation or runtime that fails with EMFILE/ENFILE:
        -- the process's open-file limit (nofile), not inotify.
        regexp_matches(line, '(?i)((accept4?|socket|dial (tcp|udp)[^:]*|open [^ :]+|pipe2?|epoll_?create1?|fork/exec [^ :]+|lstat [^ :]+|readdirent|dup[23]?|eventfd): too many open files'
            || '|java\.[\w.$]*(exception|error):.*too many open files'
            || '|\(24: too many open files\)|\[errno 24\]|errno 24|\bemfile\b|too many open files in system'
            || '|(accept4?|socket|open|pipe)\(\) failed)') AS fd
    FROM log_lines
    -- The words the patterns need, in any case (lower-cased once), before the patterns themselves.
    WHERE CASE WHEN len(list_filter([lower(line)], lambda ll: contains(ll, 'too many open file') OR contains(ll, 'inotify') OR contains(ll, 'failed to watch file'))) > 0
          THEN regexp_matches(line, '(?i)(too many open files|inotify_add_watch.*no space left on device|user limit of inotify (instances|watches) reached|inotify resources exhausted|failed to watch file .*no space left on device)')
               -- A setting or a limit being reported is not the error.
               AND NOT regexp_matches(lower(line), '(ulimit|rlimit_nofile|max open files|open files limit|nofile)\s*[=:]')
          ELSE false END
),
grouped AS (
    SELECT bundle_id, source, namespace, pod, container, service, any_value(node) AS node,
        count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(line ORDER BY inotify DESC, ts DESC NULLS LAST, line_no DESC)[1:3] AS lines,
        CASE WHEN bool_or(inotify) THEN 'inotify'
             WHEN bool_and(fd AND NOT inotify) THEN 'fd'
             ELSE 'bare' END AS kind
    FROM hits GROUP BY bundle_id, source, namespace, pod, container, service
),
limits AS (
    SELECT h.host_bundle, h.cluster, s.node,
        max(TRY_CAST(s.value AS BIGINT)) FILTER (WHERE s.key = 'fs.inotify.max_user_watches') AS watches,
        max(TRY_CAST(s.value AS BIGINT)) FILTER (WHERE s.key = 'fs.inotify.max_user_instances') AS instances
    FROM host_sysctls s JOIN hn h ON h.host_bundle = s.bundle_id
    GROUP BY h.host_bundle, h.cluster, s.node
),
-- The container that logged it: crashing or not Ready is the impact the FAQ describes.
state AS (
    SELECT bundle_id, namespace, pod, name,
        any_value(restart_count) AS restarts, any_value(coalesce(state_reason, state)) AS st,
        bool_or(state_reason IN ('CrashLoopBackOff', 'Error', 'RunContainerError')
                OR (NOT ready AND restart_count > 0)) AS crashing,
        bool_and(coalesce(ready, false) AND state = 'running') AS healthy
    FROM containers
    WHERE pod IN (SELECT pod FROM grouped WHERE source = 'container')
    GROUP BY ALL
),
judged AS (
    SELECT g.*, l.watches, l.instances,
        (l.watches IS NOT NULL OR l.instances IS NOT NULL) AS known,
        coalesce(l.watches < ${min_max_user_watches} OR l.instances < ${min_max_user_instances}, false) AS low,
        coalesce(c.crashing, false) AS crashing, c.st, c.restarts,
        -- One line from a container that runs Ready, on a node whose limits are not known to be
        -- low: a transient error, nothing failing now.
        (g.source = 'container' AND coalesce(c.healthy, false) AND NOT coalesce(c.crashing, false)
         AND NOT coalesce(l.watches < ${min_max_user_watches} OR l.instances < ${min_max_user_instances}, false)
         AND g.recent_n < 2) AS transient
    FROM grouped g
    LEFT JOIN limits l ON CASE WHEN g.source = 'host' THEN l.host_bundle = g.bundle_id
                               ELSE l.cluster = g.bundle_id AND l.node = g.node END
    LEFT JOIN state c ON g.source = 'container' AND c.bundle_id = g.bundle_id AND c.namespace = g.namespace
                     AND c.pod = g.pod AND c.name = g.container
)
SELECT
    CASE WHEN source = 'container' THEN 'pod/' || namespace || '/' || pod ELSE 'node/' || coalesce(node, '?') END AS resource,
    namespace, pod AS name, node, container, bundle_id,
    source, service, n AS logged, kind, low, known, watches, instances, crashing, st, restarts,
    transient,
    lines AS evidence,
    -- File-descriptor exhaustion (Java, nginx, accept4) is another limit: info here. A bare
    -- "too many open files" is the FAQ's inotify case when the node's limits are low; the
    -- crash of the component that logged it is the impact.
    CASE WHEN kind = 'fd' THEN 'info'
         WHEN transient THEN 'info'
         WHEN kind = 'bare' AND known AND NOT low THEN 'info'
         WHEN kind = 'inotify' AND known AND NOT low THEN 'low'
         WHEN low AND crashing THEN 'high'
         WHEN low OR crashing THEN 'medium'
         WHEN kind = 'inotify' THEN 'medium'
         ELSE 'low' END AS severity,
    first_seen, last_seen, recent_n AS recent_count, n AS count
FROM judged
ORDER BY 1, container
