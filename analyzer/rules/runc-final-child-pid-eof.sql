/* ---
id = "runc-final-child-pid-eof"
severity = "high"
faq = ["CRN-20"]
category = "runtime"
patterns = [
  "getting the final child'?s pid from pipe caused",
  "can't get final child's PID from pipe",
]
# runc fails this way on a container start now and then on an affected node: a container
# failing on it now is current; otherwise 2 failures in the day before collection are.
recent = "24h"
min_count = 2
[title]
en = "Containers fail to start: \"getting the final child's pid from pipe caused EOF\" (old kernel)"
zh = "容器无法启动：\"getting the final child's pid from pipe caused EOF\"（内核较旧）"
[remediation]
en = """
runc's child process died before reporting its PID:
`OCI runtime create failed: container_linux.go:349: starting container process caused
"process_linux.go:319: getting the final child's pid from pipe caused \"EOF\"": unknown`
(newer runc: `can't get final child's PID from pipe: EOF`). It happens on `docker build` as
well as on `docker run` and pod starts, and is seen on 3.10 kernels (CentOS/RHEL 7, e.g.
3.10.0-1127.el7) with Docker 19.03. Upgrade the kernel to fix it; as a stop-gap, free memory
and check that the node is not out of PIDs or memory.
```
uname -r
docker version --format '{{.Server.Version}}'
sysctl kernel.pid_max; cat /proc/sys/kernel/threads-max
```
See https://github.com/moby/moby/issues/40835.
"""
zh = """
runc 的子进程在回报 PID 之前就退出了：`OCI runtime create failed: container_linux.go:349: starting container process caused
"process_linux.go:319: getting the final child's pid from pipe caused \"EOF\"": unknown`（新版 runc：
`can't get final child's PID from pipe: EOF`）。此问题不只是 docker build 会出现，docker run 和 Pod 启动时也会出现，
常见于 3.10 内核（CentOS/RHEL 7，如 3.10.0-1127.el7）搭配 Docker 19.03。升级内核解决；临时可释放内存，
并确认节点的 PID 和内存没有耗尽。
```
uname -r
docker version --format '{{.Server.Version}}'
sysctl kernel.pid_max; cat /proc/sys/kernel/threads-max
```
参考 https://github.com/moby/moby/issues/40835。
"""
[message]
en = """\
{% if node %}containers on node {{ node }}{% else %}containers{% endif %} fail to start with "getting the final child's pid from pipe caused EOF" \
({{ failures }} times, \
{% for w in whats or [] %}{% if w.kind == 'event' %}event {{ w.ref }}{% elif w.kind == 'container status' %}container status\
{% else %}{{ w.kind }} log {{ w.ref }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %})\
{% if kernel is none %}{% elif kernel is startingwith('3.10.') %}; kernel {{ kernel }}: upgrade the kernel{% else %}; kernel {{ kernel }}{% endif %}\
{% if current > 0 %}; {{ current }} container(s) not running now because of it{% endif %}"""
zh = """\
{% if node %}节点 {{ node }} 上的容器{% else %}容器{% endif %}启动失败，报错 "getting the final child's pid from pipe caused EOF"（{{ failures }} 次，\
{% for w in whats or [] %}{% if w.kind == 'event' %}事件 {{ w.ref }}{% elif w.kind == 'container status' %}容器状态\
{% else %}{{ w.kind }} 日志 {{ w.ref }}{% endif %}{% if not loop.last %}、{% endif %}{% endfor %}）\
{% if kernel is none %}{% elif kernel is startingwith('3.10.') %}；内核 {{ kernel }}：请升级内核{% else %}；内核 {{ kernel }}{% endif %}\
{% if current > 0 %}；当前有 {{ current }} 个容器因此未运行{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
hits AS (
    -- Kinds sort as the English texts start: container (log), container status, event, host, node.
    SELECT e.bundle_id AS cluster, coalesce(e.source_host, p.node) AS node,
        CASE WHEN e.reason IS NOT NULL THEN {'kind': 'event', 'ref': e.reason} END AS what,
        coalesce(e.object_namespace || '/', '') || coalesce(e.object_name, '') || ': ' || e.message AS line, e.count AS n,
        false AS current, b.collected_at - e.last_seen AS age,
        CAST(e.first_seen AS TIMESTAMPTZ) AS ts_first, CAST(e.last_seen AS TIMESTAMPTZ) AS ts_last
    FROM events e
    JOIN bundles b ON b.bundle_id = e.bundle_id
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND e.object_kind = 'Pod' AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE contains(lower(e.message), 'final child') AND regexp_matches(e.message, '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe')
    UNION ALL
    -- A container failing on it now (its current state says so, or it waits to be restarted
    -- after that failure) is current; one running again, or finished since (a Job's pod that
    -- completed), only tells when its last failure was.
    SELECT c.bundle_id, c.node, {'kind': 'container status', 'ref': NULL}, c.namespace || '/' || c.pod || ' ' || c.name || ': '
            || CASE WHEN regexp_matches(coalesce(c.state_message, ''), '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe') THEN c.state_message ELSE c.last_message END, 1,
        (regexp_matches(coalesce(c.state_message, ''), '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe') OR coalesce(c.state, '') = 'waiting'),
        CASE WHEN (regexp_matches(coalesce(c.state_message, ''), '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe') OR coalesce(c.state, '') = 'waiting') THEN INTERVAL 0 SECOND ELSE b.collected_at - c.last_finished_at END,
        CAST(c.last_finished_at AS TIMESTAMPTZ), CAST(c.last_finished_at AS TIMESTAMPTZ)
    FROM containers c JOIN bundles b ON b.bundle_id = c.bundle_id
    -- The messages are tested before the containers' other columns are read.
    WHERE c.rowid IN (SELECT rowid FROM containers WHERE (state_message IS NOT NULL OR last_message IS NOT NULL)
                      AND regexp_matches(coalesce(state_message, '') || ' ' || coalesce(last_message, ''), '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe'))
    UNION ALL
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END, l.node,
        {'kind': l.source, 'ref': coalesce(l.service, l.container, '')}, l.line, 1, false, l.age, l.ts, l.ts
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE contains(lower(l.line), 'final child') AND regexp_matches(l.line, '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe')
),
hit_nodes AS MATERIALIZED (
    SELECT h.cluster, h.node, sum(h.n) AS n,
        coalesce(sum(h.n) FILTER (WHERE in_window(h.age, ${recent})), 0) AS recent_n,
        count(*) FILTER (WHERE h.current) AS current,
        min(h.ts_first) AS first_seen, max(h.ts_last) AS last_seen,
        list(DISTINCT h.what ORDER BY h.what) FILTER (WHERE h.what.kind IS NOT NULL) AS whats,
        list(DISTINCT h.line)[1:4] AS lines
    FROM hits h
    GROUP BY h.cluster, h.node
),
-- The kernels of the nodes with hits only.
kernels AS (
    SELECT bundle_id AS cluster, lower(name) AS key, kernel_version AS kernel FROM nodes
    WHERE kernel_version IS NOT NULL AND lower(name) IN (SELECT lower(node) FROM hit_nodes)
    UNION ALL
    SELECT h.cluster, lower(f.node), f.kernel_release FROM host_facts f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE coalesce(f.kernel_release, '') <> ''
),
kernel AS (
    SELECT cluster, key, any_value(kernel) AS kernel FROM kernels GROUP BY cluster, key
),
per_node AS (
    SELECT h.*, k.kernel
    FROM hit_nodes h LEFT JOIN kernel k ON k.cluster = h.cluster AND k.key = lower(h.node)
)
SELECT CASE WHEN coalesce(node, '') = '' THEN 'cluster' ELSE 'node/' || node END AS resource,
    nullif(node, '') AS node, cluster AS bundle_id,
    n AS failures, whats, kernel, current,
    lines AS evidence,
    n AS count, first_seen, last_seen,
    -- A container failing on it now is the impact itself.
    CASE WHEN current = 0 THEN recent_n END AS recent_count,
    CASE WHEN current > 0 THEN 'high' ELSE 'medium' END AS severity
FROM per_node
ORDER BY 1
