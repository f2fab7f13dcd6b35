/* ---
id = "runc-final-child-pid-eof"
severity = "high"
faq = ["CRN-20"]
category = "runtime"
patterns = [
  "getting the final child'?s pid from pipe caused",
  "can't get final child's PID from pipe",
]
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
--- */
WITH hits AS (
    SELECT e.bundle_id, coalesce(e.source_host, p.node) AS node, 'event ' || e.reason AS what,
        coalesce(e.object_namespace || '/', '') || coalesce(e.object_name, '') || ': ' || e.message AS line, e.count AS n,
        coalesce(e.object_namespace || '/' || e.object_name, '') AS pod
    FROM events e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND e.object_kind = 'Pod' AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE regexp_matches(e.message, '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe')
    UNION ALL
    SELECT bundle_id, node, 'container status', namespace || '/' || pod || ' ' || name || ': '
            || CASE WHEN regexp_matches(coalesce(state_message, ''), '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe') THEN state_message ELSE last_message END, 1,
        namespace || '/' || pod
    FROM containers
    WHERE (state_message IS NOT NULL OR last_message IS NOT NULL)
      AND regexp_matches(coalesce(state_message, '') || ' ' || coalesce(last_message, ''), '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe')
    UNION ALL
    SELECT bundle_id, node, source || ' log ' || coalesce(service, container, ''), line, 1,
        CASE WHEN source = 'container' THEN namespace || '/' || pod ELSE '' END
    FROM log_lines
    WHERE regexp_matches(line, '(?i)getting the final child''?s pid from pipe caused|can''t get final child''s PID from pipe')
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
        || ' fail to start with "getting the final child''s pid from pipe caused EOF" (' || sum(h.n) || ' times, '
        || array_to_string(list(DISTINCT h.what ORDER BY h.what), ', ') || ')'
        || CASE WHEN any_value(k.kernel) IS NULL THEN ''
                WHEN any_value(k.kernel) LIKE '3.10.%' THEN '; kernel ' || any_value(k.kernel) || ': upgrade the kernel'
                ELSE '; kernel ' || any_value(k.kernel) END AS message,
    CASE WHEN coalesce(h.node, '') = '' THEN '容器' ELSE '节点 ' || h.node || ' 上的容器' END
        || '启动失败，报错 "getting the final child''s pid from pipe caused EOF"（' || sum(h.n) || ' 次，'
        || array_to_string(list_transform(list(DISTINCT h.what ORDER BY h.what), lambda w:
                CASE WHEN w = 'container status' THEN '容器状态'
                     WHEN w LIKE 'event %' THEN '事件 ' || substr(w, 7)
                     ELSE replace(w, ' log ', ' 日志 ') END), '、') || '）'
        || CASE WHEN any_value(k.kernel) IS NULL THEN ''
                WHEN any_value(k.kernel) LIKE '3.10.%' THEN '；内核 ' || any_value(k.kernel) || '：请升级内核'
                ELSE '；内核 ' || any_value(k.kernel) END AS message_zh,
    list(DISTINCT h.line)[1:4] AS evidence,
    sum(h.n) AS count
FROM hits h LEFT JOIN kernel k ON k.key = lower(h.node)
GROUP BY h.node
ORDER BY 1
