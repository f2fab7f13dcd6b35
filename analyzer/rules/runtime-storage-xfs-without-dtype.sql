/* ---
id = "runtime-storage-xfs-without-dtype"
severity = "high"
faq = ["CRN-01"]
category = "runtime"
patterns = [
  "does not support d_type",
  "formatted without d_type support",
  "Supports d_type:\\s*false",
  "reformat (the filesystem )?with ftype=1",
  "ftype=0",
]
# The runtime reports missing d_type once, when it starts: a warning belongs to the runtime
# running now unless the runtime started again after it, and counts within 7 days.
recent = "7d"
[title]
en = "Container runtime storage on xfs formatted with ftype=0 (no d_type): overlay driver unusable"
zh = "容器运行时存储所在 xfs 以 ftype=0 格式化（不支持 d_type）：overlay 驱动无法正常使用"
[remediation]
en = """
The overlay storage driver of Docker (`overlay2`) and the overlayfs snapshotter of containerd
need `d_type` support from the backing filesystem. An xfs filesystem created with `ftype=0`
does not have it: dockerd refuses to start (or warns "the backing xfs filesystem is formatted
without d_type support") and containerd fails to load the overlayfs snapshotter ("does not
support d_type"), so no pod can start on the node.

`ftype` cannot be changed in place: move the data off, re-create the filesystem with `ftype=1`,
and restore (or re-pull the images).
```
xfs_info /var/lib/containerd | grep ftype     # or /var/lib/docker
docker info | grep 'Supports d_type'
systemctl stop kubelet containerd docker
mkfs.xfs -f -n ftype=1 /dev/xxx
```
"""
zh = """
Docker 的 `overlay2` 存储驱动和 containerd 的 overlayfs snapshotter 都要求底层文件系统支持 `d_type`。
以 `ftype=0` 创建的 xfs 不支持：dockerd 会拒绝启动（或告警 "the backing xfs filesystem is formatted without
d_type support"），containerd 无法加载 overlayfs snapshotter（"does not support d_type"），节点上的 Pod 都无法启动。

`ftype` 不能在线修改：迁出数据后用 `ftype=1` 重新格式化磁盘，再恢复数据（或重新拉取镜像）。
```
xfs_info /var/lib/containerd | grep ftype     # 或 /var/lib/docker
docker info | grep 'Supports d_type'
systemctl stop kubelet containerd docker
mkfs.xfs -f -n ftype=1 /dev/xxx
```
"""
[message]
en = """\
{% if measured %}{% for p in paths %}{{ p }} on xfs with ftype=0{% if not loop.last %}, {% endif %}{% endfor %} \
(xfs_info): overlay needs d_type (ftype=1){% endif %}\
{% if log_n > 0 %}{% if measured %}; {% endif %}{{ log_n }} runtime log lines report missing d_type support (\
{% for w in whats or [] %}{{ w.source }} log {{ w.service }}{% if not loop.last %}, {% endif %}{% endfor %})\
{% if superseded %}, none since the runtime's latest start{% endif %}{% endif %}"""
zh = """\
{% if measured %}{% for p in paths %}{{ p }} 位于 ftype=0 的 xfs 上{% if not loop.last %}、{% endif %}{% endfor %}\
（xfs_info）：overlay 需要 d_type 支持（ftype=1）{% endif %}\
{% if log_n > 0 %}{% if measured %}；{% endif %}{{ log_n }} 行运行时日志报告不支持 d_type（\
{% for w in whats or [] %}{{ w.source }} 日志 {{ w.service }}{% if not loop.last %}、{% endif %}{% endfor %}）\
{% if superseded %}，运行时最近一次启动后未再出现{% endif %}{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
driver AS (
    -- Docker configured with a driver that is not overlay: d_type does not matter to it.
    SELECT bundle_id, node, (parsed->>'$."storage-driver"') AS storage_driver
    FROM host_files WHERE path = '/etc/docker/daemon.json'
),
-- Nodes whose Kubernetes runtime is Docker: the containerd that Docker ships beside it keeps
-- /var/lib/containerd, but Docker stores images with its own storage driver, never with
-- containerd's snapshotters.
docker_nodes AS (
    SELECT bundle_id AS cluster, lower(name) AS node FROM nodes WHERE container_runtime_version LIKE 'docker://%'
),
fs AS (
    SELECT h.cluster, f.node,
        list(f.path || ' on xfs with ftype=0' ORDER BY f.path) AS what,
        list(f.path ORDER BY f.path) AS paths
    FROM host_filesystems f
    JOIN hn h ON h.host_bundle = f.bundle_id
    LEFT JOIN driver d ON d.bundle_id = f.bundle_id AND d.node = f.node
    WHERE f.fstype = 'xfs' AND f.xfs_ftype = 0
      AND f.path IN ('/var/lib/containerd', '/var/lib/docker', '/var/lib/rancher')
      AND NOT (f.path = '/var/lib/docker' AND coalesce(d.storage_driver, 'overlay2') NOT LIKE 'overlay%')
      AND NOT (f.path = '/var/lib/containerd'
               AND EXISTS (SELECT 1 FROM docker_nodes n WHERE n.cluster = h.cluster AND n.node = lower(f.node)))
    GROUP BY ALL
),
runtime_logs AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, coalesce(l.node, '') AS node,
        l.source, coalesce(l.service, l.container, '') AS service, l.line, l.line_no, l.ts, l.age,
        contains(l.line, 'does not support d_type') OR contains(l.line, 'formatted without d_type support')
            OR regexp_matches(l.line, 'Supports d_type:\s*false') AS hit
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE (contains(l.line, 'd_type')
           OR regexp_matches(l.line, '(msg="starting containerd"|Starting containerd container runtime|msg="Starting up"|Starting Docker Application Container Engine|Starting Container Runtime Interface for OCI)'))
      -- (containerd's own snapshotter warnings on a Docker node: not the runtime's storage)
      AND NOT (coalesce(l.service, '') = 'containerd' AND l.node IS NOT NULL
               AND EXISTS (SELECT 1 FROM docker_nodes n WHERE n.cluster = CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END
                                                          AND n.node = lower(l.node)))
),
-- The latest start of each runtime's log: warnings before it belong to an earlier run.
last_start AS (
    SELECT cluster, node, source, service, min(age) AS age
    FROM runtime_logs WHERE NOT hit AND age IS NOT NULL
    GROUP BY ALL
),
logs AS (
    SELECT r.cluster, r.node, count(*) AS n,
        count(*) FILTER (WHERE (s.age IS NULL OR r.age IS NULL OR r.age <= s.age) AND in_window(r.age, ${recent})) AS n_recent,
        bool_and(s.age IS NOT NULL AND r.age > s.age) AS superseded,
        min(r.ts) AS first_seen, max(r.ts) AS last_seen,
        list(DISTINCT {'source': r.source, 'service': r.service} ORDER BY {'source': r.source, 'service': r.service})
            FILTER (WHERE r.source IS NOT NULL AND r.service IS NOT NULL) AS whats,
        list(r.line ORDER BY r.line_no)[1:3] AS lines
    FROM runtime_logs r
    LEFT JOIN last_start s ON s.cluster = r.cluster AND s.node = r.node AND s.source = r.source AND s.service = r.service
    WHERE r.hit
    GROUP BY r.cluster, r.node
)
SELECT
    CASE WHEN coalesce(f.node, l.node, '') = '' THEN 'cluster' ELSE 'node/' || coalesce(f.node, l.node) END AS resource,
    nullif(coalesce(f.node, l.node), '') AS node,
    coalesce(f.cluster, l.cluster) AS bundle_id,
    f.node IS NOT NULL AS measured, f.paths, coalesce(l.n, 0) AS log_n, l.whats, l.superseded,
    list_concat(coalesce(f.what, []), coalesce(l.lines, [])) AS evidence,
    l.n AS count, l.first_seen, l.last_seen,
    -- The filesystem is measured now: that row is not judged by its log lines.
    CASE WHEN f.node IS NULL THEN l.n_recent END AS recent_count,
    CASE WHEN f.node IS NOT NULL THEN 'high' ELSE 'medium' END AS severity
FROM fs f
FULL OUTER JOIN logs l ON l.cluster = f.cluster AND l.node = f.node
ORDER BY 1
