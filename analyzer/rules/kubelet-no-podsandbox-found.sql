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
--- */
WITH hits AS (
    SELECT coalesce(node, '') AS node, any_value(bundle_id) AS bundle_id, count(*) AS n,
        list(line ORDER BY line_no)[1:3] AS lines,
        max(nullif(regexp_extract(line, 'no PodsandBox found with Id \\?[''"]?([0-9a-f]{12,64})', 1), '')) AS sandbox_id
    FROM log_lines
    WHERE contains(line, 'no PodsandBox found with Id')
       OR (contains(line, 'failed to build map of initial containers from runtime') AND contains(line, 'PodsandBox'))
    GROUP BY 1
),
drivers AS (
    -- Docker's storage driver: /etc/docker/daemon.json, or what dockerd says at start-up.
    SELECT bundle_id, node, 'daemon.json storage-driver: ' || (parsed->>'$."storage-driver"') AS what,
        parsed->>'$."storage-driver"' AS driver
    FROM host_files WHERE path = '/etc/docker/daemon.json' AND parsed->>'$."storage-driver"' IS NOT NULL
    UNION ALL
    SELECT bundle_id, node, 'dockerd: ' || regexp_extract(line, '(graphdriver\(s\)=\w+|using prior storage driver:? \\?"?\w+)', 1),
        coalesce(nullif(regexp_extract(line, 'graphdriver\(s\)=(\w+)', 1), ''), regexp_extract(line, 'using prior storage driver:? \\?"?(\w+)', 1))
    FROM log_lines
    WHERE node IS NOT NULL AND (contains(line, 'graphdriver(s)=') OR contains(line, 'using prior storage driver'))
),
node_driver AS (
    SELECT node, any_value(bundle_id) AS bundle_id, list(DISTINCT what) AS whats,
        list(DISTINCT driver) FILTER (WHERE driver IS NOT NULL AND driver <> '') AS driver_list
    FROM drivers GROUP BY node
)
SELECT
    CASE WHEN h.node = '' THEN 'cluster' ELSE 'node/' || h.node END AS resource,
    nullif(h.node, '') AS node, h.bundle_id,
    'kubelet' || CASE WHEN h.node = '' THEN '' ELSE ' on node ' || h.node END
        || ' cannot start its ContainerManager: "no PodsandBox found with Id' || coalesce(' ''' || h.sandbox_id || '''', '') || '" ('
        || h.n || ' log lines)'
        || coalesce('; Docker storage driver ' || array_to_string(d.driver_list, ', ')
                    || CASE WHEN list_bool_or(list_transform(d.driver_list, lambda x: x <> 'overlay2')) THEN ' (not overlay2)' ELSE '' END, '') AS message,
    CASE WHEN h.node = '' THEN 'kubelet' ELSE '节点 ' || h.node || ' 上的 kubelet' END
        || ' 无法启动 ContainerManager："no PodsandBox found with Id' || coalesce(' ''' || h.sandbox_id || '''', '') || '"（'
        || h.n || ' 行日志）'
        || coalesce('；Docker 存储驱动为 ' || array_to_string(d.driver_list, ', ')
                    || CASE WHEN list_bool_or(list_transform(d.driver_list, lambda x: x <> 'overlay2')) THEN '（不是 overlay2）' ELSE '' END, '') AS message_zh,
    list_concat(h.lines, coalesce(d.whats, [])) AS evidence,
    'high' AS severity
FROM hits h LEFT JOIN node_driver d ON lower(d.node) = lower(h.node)
UNION ALL
SELECT 'node/' || d.node, d.node, d.bundle_id,
    'Docker on node ' || d.node || ' uses the ' || array_to_string(d.driver_list, ', ')
        || ' storage driver, not overlay2: it leaves containers without their pod sandbox ("no PodsandBox found")',
    '节点 ' || d.node || ' 上的 Docker 使用 ' || array_to_string(d.driver_list, ', ')
        || ' 存储驱动而不是 overlay2：它会遗留失去 Pod sandbox 的容器（"no PodsandBox found"）',
    d.whats,
    'low'
FROM node_driver d
WHERE list_bool_or(list_transform(d.driver_list, lambda x: x IN ('devicemapper', 'overlay', 'aufs', 'vfs')))
  AND lower(d.node) NOT IN (SELECT lower(node) FROM hits)
ORDER BY 1
