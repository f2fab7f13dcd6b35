/* ---
id = "runtime-snapshot-or-stats-cache-errors"
severity = "medium"
faq = ["WNR-36"]
category = "runtime"
patterns = [
  "parent snapshot .*does not exist: not found",
  "failed to prepare extraction snapshot",
  "unable to find data in memory cache",
]
[title]
en = "Container runtime state out of sync: \"parent snapshot does not exist\" / \"unable to find data in memory cache\""
zh = "容器运行时状态不一致：\"parent snapshot does not exist\" / \"unable to find data in memory cache\""
[remediation]
en = """
Two runtime-side inconsistencies, grouped by node:

- `parent snapshot sha256:... does not exist: not found` (containerd): the image's layer
  chain in the snapshotter is broken (interrupted pull, disk full, unclean shutdown, someone
  deleted under `/var/lib/containerd`). Pods using that image cannot start on the node until
  the image is removed and pulled again:
  ```
  crictl images | grep <image>
  crictl rmi <image>                       # or: ctr -n k8s.io images rm <image>
  ctr -n k8s.io snapshots ls | head        # look for dangling extract-* snapshots
  ctr -n k8s.io content prune references   # containerd >= 1.7: drop unreferenced content
  systemctl restart containerd
  ```
  If it keeps happening, drain the node, stop kubelet and containerd, move
  `/var/lib/containerd` aside and start again (images are pulled anew).
- `unable to find data in memory cache` (kubelet/cAdvisor): stats were asked for a cgroup
  cAdvisor has not (yet) collected, e.g. after a runtime restart or when `--runtime-cgroups` /
  `--kubelet-cgroups` point at cgroups that do not exist. `kubectl top` and the eviction
  manager miss data for it. Usually transient; if it persists, restart the kubelet and check
  those flags (`/system.slice/containerd.service`, `/system.slice/kubelet.service`).
"""
zh = """
运行时侧的两类不一致，按节点汇总：

- `parent snapshot sha256:... does not exist: not found`（containerd）：快照器中镜像的层链已损坏（拉取中断、磁盘满、
  非正常关机、有人删除了 `/var/lib/containerd` 下的内容）。删除该镜像并重新拉取之前，使用该镜像的 Pod 在此节点上都无法启动：
  ```
  crictl images | grep <image>
  crictl rmi <image>                       # 或：ctr -n k8s.io images rm <image>
  ctr -n k8s.io snapshots ls | head        # 查看残留的 extract-* 快照
  ctr -n k8s.io content prune references   # containerd >= 1.7：清理未引用的内容
  systemctl restart containerd
  ```
  若反复出现，驱逐节点（drain），停止 kubelet 和 containerd，将 `/var/lib/containerd` 移走后重新启动（镜像会重新拉取）。
- `unable to find data in memory cache`（kubelet/cAdvisor）：请求了 cAdvisor 尚未采集的 cgroup 的统计数据，例如运行时重启之后，
  或 `--runtime-cgroups` / `--kubelet-cgroups` 指向了不存在的 cgroup。`kubectl top` 和驱逐管理器会缺少这部分数据。
  通常是暂时的；若持续出现，重启 kubelet 并检查上述参数（`/system.slice/containerd.service`、`/system.slice/kubelet.service`）。
"""
[thresholds]
# "unable to find data in memory cache" right after a restart is normal: report it from
# this many lines on a node.
min_cache_errors = 5
--- */
WITH hits AS (
    SELECT bundle_id, node, coalesce(service, container, source) || ' log' AS seen, line, 1 AS n,
        CASE WHEN regexp_matches(line, 'parent snapshot \S*\s*does not exist') THEN 'snapshot' ELSE 'cache' END AS kind,
        nullif(regexp_extract(line, '(?:pull(?:ing)?(?: and unpack)? image|unpack image|image) \\?"([^"\\]+)\\?"', 1), '') AS image
    FROM log_lines
    WHERE regexp_matches(line, '(parent snapshot \S*\s*does not exist|unable to find data in memory cache)')
    UNION ALL
    SELECT e.bundle_id, coalesce(e.source_host, p.node), 'events', e.message, e.count,
        CASE WHEN regexp_matches(e.message, 'parent snapshot \S*\s*does not exist') THEN 'snapshot' ELSE 'cache' END,
        nullif(regexp_extract(e.message, '(?:pull(?:ing)?(?: and unpack)? image|unpack image|image) \\?"([^"\\]+)\\?"', 1), '')
    FROM events e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.object_name
    WHERE regexp_matches(e.message, '(parent snapshot \S*\s*does not exist|unable to find data in memory cache)')
    UNION ALL
    SELECT bundle_id, node, 'container status', state_message, 1, 'snapshot', image
    FROM containers
    WHERE regexp_matches(coalesce(state_message, ''), 'parent snapshot \S*\s*does not exist')
),
grouped AS (
    SELECT node, kind, any_value(bundle_id) AS bundle_id, sum(n) AS n, list(DISTINCT seen ORDER BY seen) AS seen,
        list(DISTINCT image ORDER BY image) FILTER (WHERE image IS NOT NULL) AS images,
        list(DISTINCT line)[1:3] AS lines
    FROM hits GROUP BY node, kind
)
SELECT 'node/' || coalesce(node, '?') AS resource, node, node AS name, bundle_id,
    CASE WHEN kind = 'snapshot'
         THEN 'containerd snapshot chain broken on node ' || coalesce(node, '?') || ': ' || n || ' "parent snapshot ... does not exist: not found" errors ('
              || array_to_string(seen, ', ') || ')'
              || CASE WHEN len(coalesce(images, [])) > 0 THEN '; remove and pull again: ' || array_to_string(images[1:5], ', ') ELSE '' END
         ELSE 'kubelet stats: ' || n || ' "unable to find data in memory cache" errors on node ' || coalesce(node, '?') || ' ('
              || array_to_string(seen, ', ') || '): cAdvisor has no data for some cgroups (kubectl top / eviction stats incomplete)' END AS message,
    CASE WHEN kind = 'snapshot'
         THEN '节点 ' || coalesce(node, '?') || ' 上的 containerd 快照链已损坏：' || n || ' 次 "parent snapshot ... does not exist: not found" 错误（'
              || array_to_string(list_transform(seen, lambda x:
                    CASE WHEN x = 'events' THEN '事件' WHEN x = 'container status' THEN '容器状态'
                         WHEN x LIKE '% log' THEN substr(x, 1, length(x) - 4) || ' 日志' ELSE x END), '、') || '）'
              || CASE WHEN len(coalesce(images, [])) > 0 THEN '；请删除并重新拉取镜像：' || array_to_string(images[1:5], ', ') ELSE '' END
         ELSE 'kubelet stats：节点 ' || coalesce(node, '?') || ' 上有 ' || n || ' 次 "unable to find data in memory cache" 错误（'
              || array_to_string(list_transform(seen, lambda x:
                    CASE WHEN x = 'events' THEN '事件' WHEN x = 'container status' THEN '容器状态'
                         WHEN x LIKE '% log' THEN substr(x, 1, length(x) - 4) || ' 日志' ELSE x END), '、') || '）：cAdvisor 缺少部分 cgroup 的数据（kubectl top / 驱逐统计不完整）' END AS message_zh,
    lines AS evidence,
    n AS count,
    CASE WHEN kind = 'cache' THEN 'low' END AS severity
FROM grouped
WHERE kind = 'snapshot' OR n >= ${min_cache_errors}
ORDER BY 1, kind DESC
