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
# A broken snapshot chain fails every pull of the image until it is removed: a failure in the
# hour before collection not followed by a successful pull is current. Stats cache misses are
# normal for a few minutes after the kubelet starts; they count from min_cache_errors lines
# later than that, in the same hour.
recent = "1h"
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
[message]
en = """\
{% if kind == 'snapshot' %}\
  containerd snapshot chain {% if pulled_since %}was broken{% else %}broken{% endif %} on node {{ node if node is not none else '?' }}: \
{{ errors }} "parent snapshot ... does not exist: not found" errors ({{ seen | join(', ') }})\
  {% if pulled_since %}; {{ images | join(', ') }} pulled on the node since\
  {% elif images %}; remove and pull again: {{ images | join(', ') }}{% endif %}\
{% else %}\
  kubelet stats: {{ errors }} "unable to find data in memory cache" errors on node {{ node if node is not none else '?' }} \
({{ seen | join(', ') }}): cAdvisor has no data for some cgroups (kubectl top / eviction stats incomplete)\
  {% if few %}; fewer than {{ min_cache_errors }} in the hour before collection{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'snapshot' %}\
  节点 {{ node if node is not none else '?' }} 上的 containerd 快照链{% if pulled_since %}曾损坏：{% else %}已损坏：{% endif %}\
{{ errors }} 次 "parent snapshot ... does not exist: not found" 错误（\
{% for x in seen %}{% if x == 'events' %}事件{% elif x == 'container status' %}容器状态\
{% elif x is endingwith(' log') %}{{ x[:-4] }} 日志{% else %}{{ x }}{% endif %}{% if not loop.last %}、{% endif %}{% endfor %}）\
  {% if pulled_since %}；此后节点已重新拉取 {{ images | join(', ') }}\
  {% elif images %}；请删除并重新拉取镜像：{{ images | join(', ') }}{% endif %}\
{% else %}\
  kubelet stats：节点 {{ node if node is not none else '?' }} 上有 {{ errors }} 次 "unable to find data in memory cache" 错误（\
{% for x in seen %}{% if x == 'events' %}事件{% elif x == 'container status' %}容器状态\
{% elif x is endingwith(' log') %}{{ x[:-4] }} 日志{% else %}{{ x }}{% endif %}{% if not loop.last %}、{% endif %}{% endfor %}）\
：cAdvisor 缺少部分 cgroup 的数据（kubectl top / 驱逐统计不完整）\
  {% if few %}；收集前一小时内少于 {{ min_cache_errors }} 次{% endif %}\
{% endif %}"""
[thresholds]
# "unable to find data in memory cache" right after a restart is normal: report it from
# this many lines on a node.
min_cache_errors = 5
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
node_logs AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node, l.source, l.service, l.container,
        l.line, l.line_no, l.ts, l.age
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE contains(l.line, 'unable to find data in memory cache') OR contains(l.line, 'Started kubelet')
       OR contains(l.line, 'returns image reference')
       OR (contains(l.line, 'parent snapshot') AND regexp_matches(l.line, 'parent snapshot \S*\s*does not exist'))
),
-- When the kubelet (or k3s/RKE2) started: cAdvisor has no data for a while after.
starts AS (
    SELECT cluster, node, age FROM node_logs WHERE contains(line, 'Started kubelet') AND age IS NOT NULL
),
hits AS MATERIALIZED (
    SELECT l.cluster, l.node, coalesce(l.service, l.container, l.source) || ' log' AS seen, l.line, 1 AS n,
        CASE WHEN regexp_matches(l.line, 'parent snapshot \S*\s*does not exist') THEN 'snapshot' ELSE 'cache' END AS kind,
        nullif(regexp_extract(l.line, '(?:pull(?:ing)?(?: and unpack)? image|unpack image|image) \\?"([^"\\]+)\\?"', 1), '') AS image,
        l.age, l.ts AS ts_first, l.ts AS ts_last, false AS current,
        -- Within 5 minutes after the latest kubelet start before it.
        EXISTS (SELECT 1 FROM starts s WHERE s.cluster = l.cluster AND s.node = l.node
                AND s.age >= l.age AND s.age - l.age < INTERVAL 5 MINUTE) AS after_start
    FROM node_logs l
    WHERE regexp_matches(l.line, '(parent snapshot \S*\s*does not exist|unable to find data in memory cache)')
    UNION ALL
    SELECT e.bundle_id, coalesce(e.source_host, p.node), 'events', e.message, e.count,
        CASE WHEN regexp_matches(e.message, 'parent snapshot \S*\s*does not exist') THEN 'snapshot' ELSE 'cache' END,
        nullif(regexp_extract(e.message, '(?:pull(?:ing)?(?: and unpack)? image|unpack image|image) \\?"([^"\\]+)\\?"', 1), ''),
        b.collected_at - e.last_seen, CAST(e.first_seen AS TIMESTAMPTZ), CAST(e.last_seen AS TIMESTAMPTZ), false, false
    FROM events e
    JOIN bundles b ON b.bundle_id = e.bundle_id
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.object_name
    WHERE (contains(e.message, 'parent snapshot') OR contains(e.message, 'unable to find data in memory cache'))
      AND regexp_matches(e.message, '(parent snapshot \S*\s*does not exist|unable to find data in memory cache)')
    UNION ALL
    -- A container waiting on it now.
    SELECT bundle_id, node, 'container status', state_message, 1, 'snapshot', image,
        INTERVAL 0 SECOND, NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ, true, false
    FROM containers
    WHERE state = 'waiting' AND contains(state_message, 'parent snapshot') AND regexp_matches(state_message, 'parent snapshot \S*\s*does not exist')
),
-- Each image the snapshot errors name, with its latest error: the only images whose pulls matter.
snap AS MATERIALIZED (
    SELECT cluster, node, image, min(age) AS age FROM hits
    WHERE kind = 'snapshot' AND image IS NOT NULL GROUP BY ALL
),
-- Images pulled on the node since: the runtime returned them, the kubelet reported them
-- pulled, or a container runs them. Only on the nodes with snapshot errors naming an image.
pulled AS (
    SELECT cluster, node, regexp_extract(line, 'PullImage \\?"([^"\\]+)\\?" returns image reference', 1) AS image, age, false AS running
    FROM node_logs WHERE contains(line, 'returns image reference')
    UNION ALL
    SELECT e.bundle_id, e.source_host, regexp_extract(e.message, 'image \\?"([^"\\]+)', 1), b.collected_at - e.last_seen, false
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE e.reason = 'Pulled' AND e.source_host IN (SELECT node FROM snap) AND starts_with(e.message, 'Successfully pulled image')
    UNION ALL
    SELECT bundle_id, node, image, NULL, true FROM containers
    WHERE state = 'running' AND image IN (SELECT image FROM snap)
),
grouped AS (
    SELECT cluster, node, kind, sum(n) AS n,
        sum(n) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        count(*) FILTER (WHERE current) AS current,
        min(ts_first) AS first_seen, max(ts_last) AS last_seen, min(age) AS age,
        list(DISTINCT seen ORDER BY seen) AS seen,
        list(DISTINCT image ORDER BY image) FILTER (WHERE image IS NOT NULL) AS images,
        list(DISTINCT line)[1:3] AS lines
    FROM hits
    WHERE NOT (kind = 'cache' AND after_start)
    GROUP BY cluster, node, kind
),
-- Each image the snapshot errors name, pulled on the node after its last error.
image_ok AS (
    SELECT h.cluster, h.node, h.image,
        bool_or(p.running OR p.age <= h.age) AS ok
    FROM snap h
    LEFT JOIN pulled p ON p.cluster = h.cluster AND p.node = h.node AND p.image = h.image
    GROUP BY ALL
),
judged AS (
    SELECT g.*,
        g.kind = 'snapshot' AND g.current = 0 AND len(coalesce(g.images, [])) > 0
            AND coalesce((SELECT bool_and(coalesce(o.ok, false)) FROM image_ok o WHERE o.cluster = g.cluster AND o.node IS NOT DISTINCT FROM g.node), false) AS pulled_since
    FROM grouped g
)
SELECT 'node/' || coalesce(node, '?') AS resource, node, node AS name, cluster AS bundle_id,
    kind, pulled_since, n AS errors, seen, images[1:5] AS images, coalesce(n_recent, 0) < ${min_cache_errors} AS few,
    lines AS evidence,
    n AS count, first_seen, last_seen,
    -- A container waiting on a broken snapshot now is the impact itself.
    CASE WHEN current = 0 THEN coalesce(n_recent, 0) END AS recent_count,
    CASE WHEN kind = 'snapshot' AND pulled_since THEN 'info'
         WHEN kind = 'snapshot' THEN 'medium'
         WHEN coalesce(n_recent, 0) >= ${min_cache_errors} THEN 'low'
         ELSE 'info' END AS severity
FROM judged
WHERE kind = 'snapshot' OR n >= ${min_cache_errors}
ORDER BY 1, kind DESC
