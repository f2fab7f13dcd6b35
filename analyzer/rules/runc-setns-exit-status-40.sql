/* ---
id = "runc-setns-exit-status-40"
severity = "high"
faq = ["CRN-22"]
category = "runtime"
patterns = [
  "running exec setns process for init caused .{0,4}exit status 40",
]
# runc fails this way on a container start now and then on an affected node: a container
# failing on it now is current; otherwise 2 failures in the day before collection are.
recent = "24h"
min_count = 2
[title]
en = "Containers fail to start: \"running exec setns process for init caused exit status 40\" (kernel memory)"
zh = "容器无法启动：\"running exec setns process for init caused exit status 40\"（系统内存问题）"
[remediation]
en = """
`OCI runtime create failed: container_linux.go:348: starting container process caused
"process_linux.go:301: running exec setns process for init caused \"exit status 40\"": unknown`
comes from runc's `nsexec` failing to allocate memory for the new container (system memory
fragmented or taken by page cache, seen with Docker 17.12 on 3.10 kernels). Drop the caches on
the node, then start the container again:
```
sync
echo 1 > /proc/sys/vm/drop_caches
free -m; cat /proc/buddyinfo
```
"""
zh = """
`OCI runtime create failed: container_linux.go:348: starting container process caused
"process_linux.go:301: running exec setns process for init caused \"exit status 40\"": unknown`
是 runc 的 `nsexec` 为新容器分配内存失败（系统内存碎片化或被页缓存占用，常见于 Docker 17.12 搭配 3.10 内核）。
此问题属于系统内存 Bug，在节点上执行内存清除命令即可解决，然后重新启动容器：
```
sync
echo 1 > /proc/sys/vm/drop_caches
free -m; cat /proc/buddyinfo
```
"""
[message]
en = """\
{% if node %}containers on node {{ node }}{% else %}containers{% endif %} fail to start with "running exec setns process for init caused exit status 40" \
({{ failures }} times, \
{% for w in whats or [] %}{% if w.kind == 'event' %}event {{ w.ref }}{% elif w.kind == 'container status' %}container status\
{% else %}{{ w.kind }} log {{ w.ref }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %})\
: drop the page cache on the node{% if kernel is not none %}; kernel {{ kernel }}{% endif %}\
{% if current > 0 %}; {{ current }} container(s) not running now because of it{% endif %}"""
zh = """\
{% if node %}节点 {{ node }} 上的容器{% else %}容器{% endif %}启动失败，报错 "running exec setns process for init caused exit status 40"（{{ failures }} 次，\
{% for w in whats or [] %}{% if w.kind == 'event' %}事件 {{ w.ref }}{% elif w.kind == 'container status' %}容器状态\
{% else %}{{ w.kind }} 日志 {{ w.ref }}{% endif %}{% if not loop.last %}、{% endif %}{% endfor %}）\
：请清除该节点的页缓存{% if kernel is not none %}；内核 {{ kernel }}{% endif %}\
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
    WHERE contains(lower(e.message), 'exec setns process') AND regexp_matches(e.message, '(?i)running exec setns process for init caused .{0,4}exit status 40')
    UNION ALL
    -- A container failing on it now (its current state says so, or it waits to be restarted
    -- after that failure) is current; one running again, or finished since (a Job's pod that
    -- completed), only tells when its last failure was.
    SELECT c.bundle_id, c.node, {'kind': 'container status', 'ref': NULL}, c.namespace || '/' || c.pod || ' ' || c.name || ': '
            || CASE WHEN regexp_matches(coalesce(c.state_message, ''), '(?i)running exec setns process for init caused .{0,4}exit status 40') THEN c.state_message ELSE c.last_message END, 1,
        (regexp_matches(coalesce(c.state_message, ''), '(?i)running exec setns process for init caused .{0,4}exit status 40') OR coalesce(c.state, '') = 'waiting'),
        CASE WHEN (regexp_matches(coalesce(c.state_message, ''), '(?i)running exec setns process for init caused .{0,4}exit status 40') OR coalesce(c.state, '') = 'waiting') THEN INTERVAL 0 SECOND ELSE b.collected_at - c.last_finished_at END,
        CAST(c.last_finished_at AS TIMESTAMPTZ), CAST(c.last_finished_at AS TIMESTAMPTZ)
    FROM containers c JOIN bundles b ON b.bundle_id = c.bundle_id
    -- The messages are tested before the containers' other columns are read.
    WHERE c.rowid IN (SELECT rowid FROM containers WHERE (state_message IS NOT NULL OR last_message IS NOT NULL)
                      AND regexp_matches(coalesce(state_message, '') || ' ' || coalesce(last_message, ''), '(?i)running exec setns process for init caused .{0,4}exit status 40'))
    UNION ALL
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END, l.node,
        {'kind': l.source, 'ref': coalesce(l.service, l.container, '')}, l.line, 1, false, l.age, l.ts, l.ts
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE contains(lower(l.line), 'exec setns process') AND regexp_matches(l.line, '(?i)running exec setns process for init caused .{0,4}exit status 40')
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
