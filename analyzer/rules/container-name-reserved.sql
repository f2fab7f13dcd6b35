/* ---
id = "container-name-reserved"
severity = "medium"
faq = ["WNR-35"]
category = "runtime"
patterns = [
  "failed to reserve container name \".*\": name \".*\" is reserved for",
  "failed to reserve sandbox name",
  "error reserving (ctr|pod) name .* name is reserved",
  "is reserved for \"[0-9a-f]+\"",
]
# Under load a retry of a slow CreateContainer hits the name the first attempt still holds:
# a few such errors that then clear are the runtime catching up. A node stuck on it keeps
# failing: 3 errors in the hour before collection, or a container waiting on it now.
recent = "1h"
min_count = 3
[title]
en = "Container creation stalls: \"failed to reserve container name\""
zh = "容器创建卡住：\"failed to reserve container name\""
[remediation]
en = """
The kubelet asked the runtime to create the container, timed out (`context deadline exceeded`)
and retried, while containerd was still creating the first one under the same name: every
retry fails with `failed to reserve container name "...": name "..." is reserved for "<id>"`
until the first attempt completes. The runtime is slow, not broken:

- The disk is probably slow: it can only be waited out. Check the I/O load of the node:
  `iostat -d -x 1` (look at `%util`), `pidstat -d 1` to find the process.
- The zfs snapshotter may be in use: `zfs list` is very slow with many datasets
  (`ps aux | grep zfs`). Prefer overlayfs on a zvol/ext4/xfs for `/var/lib/containerd`.
- See containerd/containerd#4604 (comment 1027293621).

List the containers containerd has reserved:
```
# reserved containerd
ctr -n k8s.io c ls
iostat -d -x 1
pidstat -d 1
```
"""
zh = """
kubelet 请求运行时创建容器时超时（`context deadline exceeded`）并重试，而 containerd 仍在以同一名称创建第一个容器：
在第一次创建完成之前，每次重试都会报 `failed to reserve container name "...": name "..." is reserved for "<id>"`。
运行时只是慢，并没有坏：

- 可能磁盘慢导致，只能等。检查节点 I/O：`iostat -d -x 1` 看 `%util`，`pidstat -d 1` 排查进程。
- 可能是用了 zfs snapshotter：数据集很多时 `zfs list` 非常慢（`ps aux | grep zfs`）。`/var/lib/containerd` 建议使用 overlayfs（放在 zvol/ext4/xfs 上）。
- 参考 containerd/containerd#4604（comment 1027293621）。

查看 containerd 保留的容器：
```
# reserved containerd
ctr -n k8s.io c ls
iostat -d -x 1
pidstat -d 1
```
"""
[message]
en = """\
{{ errors }} "failed to reserve {% if sandbox %}container/sandbox{% else %}container{% endif %} name" errors\
{% if pods > 0 %} for {{ pods }} pod(s){% endif %} on node {{ node if node is not none else '?' }} \
({{ seen | join(', ') }}): the runtime is slower than the kubelet's timeout\
{% if waiting > 0 %}; {{ waiting }} container(s) waiting on it now\
{% elif cleared %}; cleared: every container of the node's pods has been created since{% endif %}\
{% if zfs is not none %}; containerd uses the zfs snapshotter ({{ zfs | join('; ') }}), whose zfs list is very slow\
{% else %}; check the disk I/O of the node (iostat -d -x 1){% endif %}"""
zh = """\
节点 {{ node if node is not none else '?' }} 上出现 {{ errors }} 次 \
"failed to reserve {% if sandbox %}container/sandbox{% else %}container{% endif %} name" 错误\
{% if pods > 0 %}，涉及 {{ pods }} 个 Pod{% endif %}（\
{% for s in seen %}\
  {% if s == 'events' %}事件{% elif s == 'container status' %}容器状态\
  {% elif s is endingwith(' log') %}{{ s[:-4] }} 日志{% else %}{{ s }}{% endif %}\
  {% if not loop.last %}、{% endif %}\
{% endfor %}）：运行时的响应慢于 kubelet 的超时\
{% if waiting > 0 %}；当前有 {{ waiting }} 个容器仍在等待\
{% elif cleared %}；已恢复：该节点上 Pod 的所有容器此后均已创建{% endif %}\
{% if zfs is not none %}；containerd 使用 zfs snapshotter（\
  {% for w in zfs %}{% if w is endingwith(' is on zfs') %}{{ w[:-10] }} 位于 zfs 上{% else %}{{ w }}{% endif %}\
{% if not loop.last %}；{% endif %}{% endfor %}），而 zfs list 非常慢\
{% else %}；请检查节点的磁盘 I/O（iostat -d -x 1）{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
ev AS (
    SELECT e.bundle_id AS cluster, coalesce(e.source_host, p.node) AS node, e.namespace, e.object_name AS pod, e.message AS line, e.count AS n,
        'events' AS seen, b.collected_at - e.last_seen AS age,
        CAST(e.first_seen AS TIMESTAMPTZ) AS ts_first, CAST(e.last_seen AS TIMESTAMPTZ) AS ts_last
    FROM events e
    JOIN bundles b ON b.bundle_id = e.bundle_id
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.object_name
    WHERE regexp_matches(e.message, '(failed to reserve (container|sandbox) name|error reserving (ctr|pod) name)')
),
logs AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node, NULL AS namespace,
        nullif(regexp_extract(l.line, 'pod="?([^" ]+/[^" ]+)"?', 1), '') AS pod, l.line, 1 AS n,
        coalesce(l.service, l.container, l.source) || ' log' AS seen, l.age, l.ts AS ts_first, l.ts AS ts_last
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE regexp_matches(l.line, '(failed to reserve (container|sandbox) name|error reserving (ctr|pod) name)')
),
-- Containers waiting on it now: the current impact (events may have expired).
waiting AS (
    SELECT bundle_id AS cluster, node, namespace, pod, state_message AS line
    FROM containers
    WHERE state = 'waiting'
      AND regexp_matches(coalesce(state_message, ''), '(failed to reserve (container|sandbox) name|error reserving (ctr|pod) name)')
),
status AS (
    SELECT cluster, node, namespace, pod, line, 1 AS n, 'container status' AS seen, INTERVAL 0 SECOND AS age,
        NULL::TIMESTAMPTZ AS ts_first, NULL::TIMESTAMPTZ AS ts_last
    FROM waiting w
    WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.cluster = w.cluster AND ev.namespace = w.namespace AND ev.pod = w.pod)
),
hits AS (
    SELECT * FROM ev UNION ALL SELECT * FROM logs UNION ALL SELECT * FROM status
),
per_node AS (
    SELECT cluster, node, sum(n) AS n,
        sum(n) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts_first) AS first_seen, max(ts_last) AS last_seen,
        count(DISTINCT CASE WHEN namespace IS NOT NULL THEN namespace || '/' || pod ELSE pod END) AS pods,
        list(DISTINCT CASE WHEN namespace IS NOT NULL THEN namespace || '/' || pod ELSE pod END) FILTER (WHERE pod IS NOT NULL) AS pod_names,
        list(DISTINCT seen ORDER BY seen) AS seen, list(DISTINCT line)[1:3] AS lines,
        bool_or(contains(line, 'sandbox name') OR contains(line, 'reserving pod name')) AS sandbox
    FROM hits GROUP BY cluster, node
),
stuck AS (
    SELECT cluster, node, count(*) AS n FROM waiting GROUP BY ALL
),
-- The node's pods as collected now: none of them is still waiting to create a container or
-- its sandbox (CreateContainerError, ContainerCreating): the errors have cleared.
node_pods AS (
    SELECT bundle_id AS cluster, node,
        count(*) FILTER (WHERE state = 'waiting' AND state_reason IN ('CreateContainerError', 'ContainerCreating')) AS creating
    FROM containers WHERE node IS NOT NULL GROUP BY ALL
),
-- The zfs snapshotter, named by the FAQ as a cause.
zfs AS (
    SELECT cluster, node, list(DISTINCT what ORDER BY what) AS whats FROM (
        SELECT h.cluster, f.node, f.path || ': snapshotter = "zfs"' AS what
        FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
        WHERE (f.path LIKE '/etc/containerd/%' AND regexp_matches(f.content, '(?m)^\s*snapshotter\s*=\s*"zfs"'))
           OR (f.path LIKE '/etc/rancher/%' AND regexp_matches(f.content, '(?m)^\s*snapshotter:\s*"?zfs'))
        UNION ALL
        SELECT h.cluster, f.node, f.path || ' is on zfs'
        FROM host_filesystems f JOIN hn h ON h.host_bundle = f.bundle_id
        WHERE f.fstype = 'zfs' AND f.path IN ('/var/lib/containerd', '/var/lib/rancher', '/var/lib/docker')
    ) GROUP BY cluster, node
)
SELECT 'node/' || coalesce(p.node, '?') AS resource, p.node, p.node AS name, p.cluster AS bundle_id,
    p.n AS errors, p.sandbox, p.pods, p.seen, s.n AS waiting, z.whats AS zfs,
    coalesce(s.n IS NULL AND np.creating = 0, false) AS cleared,
    list_concat(p.lines, coalesce(p.pod_names[1:5], [])) AS evidence,
    p.n AS count, p.first_seen, p.last_seen,
    -- A container waiting on it now is the impact itself, whatever the logs say.
    CASE WHEN s.n IS NULL THEN coalesce(p.n_recent, 0) END AS recent_count,
    -- Errors that cleared are the runtime catching up; stuck containers or the zfs snapshotter
    -- make it a problem of the node.
    CASE WHEN s.n > 0 OR z.whats IS NOT NULL THEN 'medium'
         -- Every container of the node's pods got created since: nothing is affected now.
         WHEN s.n IS NULL AND np.creating = 0 THEN 'info'
         ELSE 'low' END AS severity
FROM per_node p
LEFT JOIN stuck s ON s.cluster = p.cluster AND s.node IS NOT DISTINCT FROM p.node
LEFT JOIN zfs z ON z.cluster = p.cluster AND z.node IS NOT DISTINCT FROM p.node
LEFT JOIN node_pods np ON np.cluster = p.cluster AND np.node = p.node
ORDER BY 1
