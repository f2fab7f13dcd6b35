/* ---
id = "kubelet-no-podsandbox-found"
severity = "high"
faq = ["CRN-16"]
category = "runtime"
patterns = [
  "no PodsandBox found with Id",
  "failed to build map of initial containers from runtime",
  "Failed to start ContainerManager",
]
# The kubelet exits on this error at every start: while it lasts, systemd restarts it every
# few seconds and the node is NotReady. A line in the hour before collection is current.
recent = "1h"
[title]
en = "kubelet cannot start: \"failed to build map of initial containers from runtime: no PodsandBox found\""
zh = "kubelet 无法启动：\"failed to build map of initial containers from runtime: no PodsandBox found\""
[remediation]
en = """
At start-up the kubelet lists the runtime's containers and looks up each one's pod sandbox.
A container whose sandbox is gone (left behind by Docker's storage driver) makes it exit with
`Failed to start ContainerManager failed to build map of initial containers from runtime: no
PodsandBox found with Id '<id>'`, and the node stays NotReady. The cause is the Docker storage
driver: move Docker to `overlay2`. To get the node back now, remove the containers that still
point at the missing sandbox and restart the kubelet.
```
docker info | grep 'Storage Driver'
docker ps -a --filter "label=io.kubernetes.sandbox.id=<id>" -q | xargs -r docker rm -f
systemctl restart kubelet
# /etc/docker/daemon.json: {"storage-driver": "overlay2"}   (needs xfs ftype=1 or ext4)
```
"""
zh = """
kubelet 启动时会列出运行时中的容器并查找它们所属的 Pod sandbox。某个容器的 sandbox 已不存在（Docker 存储驱动遗留）时，
kubelet 报 `Failed to start ContainerManager failed to build map of initial containers from runtime: no PodsandBox found
with Id '<id>'` 并退出，节点保持 NotReady。问题属于 docker 存储驱动的问题，使用 overlay2 后解决。若需立即恢复节点，
删除仍指向该 sandbox 的容器后重启 kubelet。
```
docker info | grep 'Storage Driver'
docker ps -a --filter "label=io.kubernetes.sandbox.id=<id>" -q | xargs -r docker rm -f
systemctl restart kubelet
# /etc/docker/daemon.json: {"storage-driver": "overlay2"}   （需要 xfs ftype=1 或 ext4）
```
"""
[message]
en = """\
{% if kind == 'kubelet' %}\
  kubelet{% if node %} on node {{ node }}{% endif %} cannot start its ContainerManager: \
"no PodsandBox found with Id{% if sandbox_id is not none %} '{{ sandbox_id }}'{% endif %}" ({{ lines_n }} log lines)\
  {% if driver_list is not none %}; Docker storage driver {{ driver_list | join(', ') }}{% if not_overlay2 %} (not overlay2){% endif %}{% endif %}\
  {% if node_state == 'notready' %}; the node is NotReady\
  {% elif node_state == 'ready' %}; the node is Ready now: the kubelet started since{% endif %}\
{% else %}\
  Docker on node {{ node }} uses the {{ driver_list | join(', ') }} storage driver, not overlay2: \
it leaves containers without their pod sandbox ("no PodsandBox found")\
{% endif %}"""
zh = """\
{% if kind == 'kubelet' %}\
  {% if node %}节点 {{ node }} 上的 kubelet{% else %}kubelet{% endif %} 无法启动 ContainerManager：\
"no PodsandBox found with Id{% if sandbox_id is not none %} '{{ sandbox_id }}'{% endif %}"（{{ lines_n }} 行日志）\
  {% if driver_list is not none %}；Docker 存储驱动为 {{ driver_list | join(', ') }}{% if not_overlay2 %}（不是 overlay2）{% endif %}{% endif %}\
  {% if node_state == 'notready' %}；节点处于 NotReady\
  {% elif node_state == 'ready' %}；节点当前为 Ready：kubelet 此后已正常启动{% endif %}\
{% else %}\
  节点 {{ node }} 上的 Docker 使用 {{ driver_list | join(', ') }} 存储驱动而不是 overlay2：\
它会遗留失去 Pod sandbox 的容器（"no PodsandBox found"）\
{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
node_logs AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node, l.source, l.line, l.line_no, l.ts, l.age
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE contains(l.line, 'PodsandBox') OR contains(l.line, 'graphdriver(s)=') OR contains(l.line, 'using prior storage driver')
),
hits AS (
    SELECT cluster, coalesce(node, '') AS node, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(line ORDER BY line_no)[1:3] AS lines,
        max(nullif(regexp_extract(line, 'no PodsandBox found with Id \\?[''"]?([0-9a-f]{12,64})', 1), '')) AS sandbox_id
    FROM node_logs
    -- The kubelet's own log (node and host service logs): agents that copy the kubelet's CPU
    -- manager code (crane-agent: "Failed to build ContainerMapFromRuntime: no PodsandBox found
    -- with Id") log the same words from their containers without the kubelet failing.
    WHERE source <> 'container'
      AND (contains(line, 'no PodsandBox found with Id')
           OR (contains(line, 'failed to build map of initial containers from runtime') AND contains(line, 'PodsandBox')))
    GROUP BY 1, 2
),
drivers AS (
    -- Docker's storage driver: /etc/docker/daemon.json, or what dockerd said at its latest start.
    SELECT h.cluster, f.node, 1 AS prio, 'daemon.json storage-driver: ' || (f.parsed->>'$."storage-driver"') AS what,
        (f.parsed->>'$."storage-driver"') AS driver
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE f.path = '/etc/docker/daemon.json' AND (f.parsed->>'$."storage-driver"') IS NOT NULL
    UNION ALL
    SELECT cluster, node, 2, 'dockerd: ' || regexp_extract(last_line, '(graphdriver\(s\)=\w+|using prior storage driver:? \\?"?\w+)', 1),
        coalesce(nullif(regexp_extract(last_line, 'graphdriver\(s\)=(\w+)', 1), ''),
                 regexp_extract(last_line, 'using prior storage driver:? \\?"?(\w+)', 1))
    FROM (
        SELECT cluster, node, arg_max(line, (coalesce(-epoch(age), 0), line_no)) AS last_line
        FROM node_logs
        WHERE node IS NOT NULL AND (contains(line, 'graphdriver(s)=') OR contains(line, 'using prior storage driver'))
        GROUP BY cluster, node
    )
),
node_driver AS (
    SELECT cluster, node, list(what ORDER BY prio) AS whats, [arg_min(driver, prio)] AS driver_list
    FROM drivers WHERE driver IS NOT NULL AND driver <> '' GROUP BY cluster, node
),
-- The kubelet's log going on long after its last such failure: the check runs at every start,
-- so the kubelet has started past it since, and a node NotReady now is NotReady for another
-- reason. (While it fails, systemd restarts it every few seconds and each start fails again.)
ran_since AS (
    SELECT h.cluster, h.node
    FROM hits h
    JOIN (SELECT CASE WHEN l.source = 'host' THEN x.cluster ELSE l.bundle_id END AS cluster, l.node, l.ts
          FROM log_lines l LEFT JOIN hn x ON l.source = 'host' AND x.host_bundle = l.bundle_id
          WHERE l.source IN ('host', 'node') AND l.service = 'kubelet' AND l.ts IS NOT NULL
            AND lower(l.node) IN (SELECT lower(node) FROM hits)) k
      ON k.cluster = h.cluster AND lower(k.node) = lower(h.node)
    WHERE k.ts > h.last_seen + INTERVAL 10 MINUTE
    GROUP BY ALL
),
j AS (
    -- The node's Ready condition; a node reporting none is unknown, not NotReady.
    SELECT h.*, d.whats, d.driver_list, c.status IS NOT NULL AS known, coalesce(c.status = 'True', false) AS ready,
        r.node IS NOT NULL AS started_since
    FROM hits h
    LEFT JOIN node_driver d ON d.cluster = h.cluster AND lower(d.node) = lower(h.node)
    LEFT JOIN node_conditions c ON c.bundle_id = h.cluster AND lower(c.node) = lower(h.node) AND c.type = 'Ready'
    LEFT JOIN ran_since r ON r.cluster = h.cluster AND r.node = h.node
)
SELECT
    CASE WHEN node = '' THEN 'cluster' ELSE 'node/' || node END AS resource,
    nullif(node, '') AS node, cluster AS bundle_id,
    'kubelet' AS kind, sandbox_id, n AS lines_n, driver_list,
    list_bool_or(list_transform(driver_list, lambda x: x <> 'overlay2')) AS not_overlay2,
    CASE WHEN known AND NOT ready THEN 'notready' WHEN known AND ready THEN 'ready' END AS node_state,
    list_concat(lines, coalesce(whats, [])) AS evidence,
    n AS count, first_seen, last_seen,
    -- A NotReady node proves the kubelet down now, however old its last words are, unless
    -- the kubelet has run since.
    CASE WHEN NOT (known AND NOT ready AND NOT started_since) THEN n_recent END AS recent_count,
    CASE WHEN known AND NOT ready AND NOT started_since THEN 'high'
         WHEN known AND ready THEN 'info'
         ELSE 'medium' END AS severity
FROM j
UNION ALL
SELECT 'node/' || d.node, d.node, d.cluster,
    'docker', NULL, NULL, d.driver_list, NULL, NULL,
    d.whats, NULL, NULL, NULL, NULL,
    'low'
FROM node_driver d
WHERE list_bool_or(list_transform(d.driver_list, lambda x: x IN ('devicemapper', 'overlay', 'aufs', 'vfs')))
  AND NOT EXISTS (SELECT 1 FROM hits h WHERE h.cluster = d.cluster AND lower(h.node) = lower(d.node))
  -- Docker matters only as the kubelet's runtime: not on a node that runs containerd or CRI-O
  -- (migrated off dockershim, Docker kept for builds).
  AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.bundle_id = d.cluster AND lower(n.name) = lower(d.node)
                  AND coalesce(n.container_runtime_version, '') <> '' AND n.container_runtime_version NOT LIKE 'docker://%')
ORDER BY 1
