/* ---
id = "runc-setns-exit-status-40"
severity = "high"
faq = ["CRN-22"]
category = "runtime"
patterns = [
  "running exec setns process for init caused .{0,4}exit status 40",
]
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
--- */
WITH hits AS (
    SELECT e.bundle_id, coalesce(e.source_host, p.node) AS node, 'event ' || e.reason AS what,
        coalesce(e.object_namespace || '/', '') || coalesce(e.object_name, '') || ': ' || e.message AS line, e.count AS n,
        coalesce(e.object_namespace || '/' || e.object_name, '') AS pod
    FROM events e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND e.object_kind = 'Pod' AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE regexp_matches(e.message, '(?i)running exec setns process for init caused .{0,4}exit status 40')
    UNION ALL
    SELECT bundle_id, node, 'container status', namespace || '/' || pod || ' ' || name || ': '
            || CASE WHEN regexp_matches(coalesce(state_message, ''), '(?i)running exec setns process for init caused .{0,4}exit status 40') THEN state_message ELSE last_message END, 1,
        namespace || '/' || pod
    FROM containers
    WHERE (state_message IS NOT NULL OR last_message IS NOT NULL)
      AND regexp_matches(coalesce(state_message, '') || ' ' || coalesce(last_message, ''), '(?i)running exec setns process for init caused .{0,4}exit status 40')
    UNION ALL
    SELECT bundle_id, node, source || ' log ' || coalesce(service, container, ''), line, 1,
        CASE WHEN source = 'container' THEN namespace || '/' || pod ELSE '' END
    FROM log_lines
    WHERE regexp_matches(line, '(?i)running exec setns process for init caused .{0,4}exit status 40')
),
kernels AS (
    SELECT lower(name) AS key, kernel_version AS kernel FROM nodes WHERE kernel_version IS NOT NULL
    UNION ALL
    SELECT lower(node), kernel_release FROM host_facts WHERE coalesce(kernel_release, '') <> ''
),
kernel AS (
    SELECT key, any_value(kernel) AS kernel FROM kernels GROUP BY key
)
SELECT CASE WHEN coalesce(h.node, '') = '' THEN 'cluster' ELSE 'node/' || h.node END AS resource,
    nullif(h.node, '') AS node, any_value(h.bundle_id) AS bundle_id,
    CASE WHEN coalesce(h.node, '') = '' THEN 'containers' ELSE 'containers on node ' || h.node END
        || ' fail to start with "running exec setns process for init caused exit status 40" (' || sum(h.n) || ' times, '
        || array_to_string(list(DISTINCT h.what ORDER BY h.what), ', ') || '): drop the page cache on the node'
        || coalesce('; kernel ' || any_value(k.kernel), '') AS message,
    CASE WHEN coalesce(h.node, '') = '' THEN '容器' ELSE '节点 ' || h.node || ' 上的容器' END
        || '启动失败，报错 "running exec setns process for init caused exit status 40"（' || sum(h.n) || ' 次，'
        || array_to_string(list_transform(list(DISTINCT h.what ORDER BY h.what), lambda w:
                CASE WHEN w = 'container status' THEN '容器状态'
                     WHEN w LIKE 'event %' THEN '事件 ' || substr(w, 7)
                     ELSE replace(w, ' log ', ' 日志 ') END), '、') || '）：请清除该节点的页缓存'
        || coalesce('；内核 ' || any_value(k.kernel), '') AS message_zh,
    list(DISTINCT h.line)[1:4] AS evidence,
    sum(h.n) AS count
FROM hits h LEFT JOIN kernel k ON k.key = lower(h.node)
GROUP BY h.node
ORDER BY 1
