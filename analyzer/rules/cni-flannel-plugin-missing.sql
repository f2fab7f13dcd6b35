/* ---
id = "cni-flannel-plugin-missing"
severity = "high"
faq = ["WNR-06"]
category = "network"
patterns = [
  "failed to find plugin \"flannel\" in path",
  "plugin type=\"flannel\" failed \\(add\\): failed to find plugin",
]
# The kubelet retries a pod's sandbox every few seconds while the plugin is missing: errors
# older than an hour were fixed since (the binary installed, the pods gone).
recent = "1h"
[title]
en = "CNI config uses flannel but /opt/cni/bin has no flannel binary (no longer shipped in cni-plugins)"
zh = "CNI 配置使用 flannel，但 /opt/cni/bin 中没有 flannel 二进制（cni-plugins 已不再包含 flannel）"
[remediation]
en = """
Since containernetworking/plugins v1.0 the `flannel` CNI plugin is no longer part of the
`cni-plugins` package: it lives in its own repository, flannel-io/cni-plugin
(containernetworking/plugins#655). A node whose `/etc/cni/net.d/*.conflist` says
`"type": "flannel"` but whose `/opt/cni/bin` holds only the standard plugins cannot set up pod
networking: sandboxes fail with `failed to find plugin "flannel" in path [/opt/cni/bin]`.
Install the flannel CNI binary (recent kube-flannel manifests copy it with the
`install-cni-plugin` init container; otherwise download it from the flannel-io/cni-plugin
releases) into `/opt/cni/bin/flannel` on every node, then recreate the failing pods.
```
ls /opt/cni/bin
cat /etc/cni/net.d/10-flannel.conflist
kubectl -n kube-flannel get ds kube-flannel-ds -o yaml | grep -A5 install-cni-plugin
```
"""
zh = """
自 containernetworking/plugins v1.0 起，`flannel` CNI 插件不再包含在 `cni-plugins` 中，而是独立为
flannel-io/cni-plugin 仓库（containernetworking/plugins#655）。节点的 `/etc/cni/net.d/*.conflist` 写着
`"type": "flannel"`，但 `/opt/cni/bin` 中只有标准插件时，无法配置 Pod 网络：沙箱创建失败，报
`failed to find plugin "flannel" in path [/opt/cni/bin]`。在每个节点的 `/opt/cni/bin/flannel` 安装 flannel CNI
二进制（新版 kube-flannel 清单通过 `install-cni-plugin` init 容器复制；否则从 flannel-io/cni-plugin 的发布页下载），
然后重建失败的 Pod。
```
ls /opt/cni/bin
cat /etc/cni/net.d/10-flannel.conflist
kubectl -n kube-flannel get ds kube-flannel-ds -o yaml | grep -A5 install-cni-plugin
```
"""
[message]
en = """\
{% if missing %}{{ paths | join(', ') }} on {{ node }} uses "type": "flannel" but /opt/cni/bin has no flannel binary\
  {% if bins_n == 0 %} (the directory is empty){% else %} (has {{ bins_n }} other plugins: cni-plugins without flannel){% endif %}\
{% endif %}\
{% if errors > 0 %}{% if missing %}; {% endif %}pod sandboxes failed {{ errors }} times with: \
failed to find plugin "flannel" in path (\
  {% for w in seen %}{% if w.kind == 'event' %}event {{ w.ref }}{% else %}{{ w.kind | log }} {{ w.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %})\
{% if works_now %}; the plugin works on the node now (the binary is in /opt/cni/bin, or a pod got its network after the last failure): past failures, e.g. at boot before kube-flannel installed it{% endif %}\
{% endif %}"""
zh = """\
{% if missing %}节点 {{ node }} 上的 {{ paths | join(', ') }} 使用 "type": "flannel"，但 /opt/cni/bin 中没有 flannel 二进制文件\
  {% if bins_n == 0 %}（该目录为空）{% else %}（其中有 {{ bins_n }} 个其他插件：cni-plugins 不含 flannel）{% endif %}\
{% endif %}\
{% if errors > 0 %}{% if missing %}；{% endif %}Pod 沙箱创建失败 {{ errors }} 次，\
报错 failed to find plugin "flannel" in path（\
  {% for w in seen %}{% if w.kind == 'event' %}事件 {{ w.ref }}{% else %}{{ w.kind | log }} {{ w.ref }}{% endif %}\
{% if not loop.last %}、{% endif %}{% endfor %}）\
{% if works_now %}；该节点上的插件现已可用（/opt/cni/bin 中已有该二进制，或最后一次失败后已有 Pod 获得网络）：这是过去的失败，例如开机时 kube-flannel 尚未安装该插件{% endif %}\
{% endif %}"""
--- */
-- The network configuration the runtime uses: the first file of /etc/cni/net.d. A flannel
-- file left behind after moving to another plugin is not read.
WITH cni_files AS (
    SELECT bundle_id, node, path, content,
        row_number() OVER (PARTITION BY bundle_id ORDER BY path) AS rn
    FROM host_files
    WHERE regexp_matches(path, '^/etc/cni/net\.d/[^/]+\.(conf|conflist|json)$')
),
conf AS (
    SELECT bundle_id, node, [path] AS paths
    FROM cni_files
    WHERE rn = 1 AND regexp_matches(content, '"type"\s*:\s*"flannel"')
),
other_bin_dir AS (
    -- containerd pointed at another CNI bin directory: /opt/cni/bin is not what it uses.
    SELECT DISTINCT bundle_id FROM host_files
    WHERE path = '/etc/containerd/config.toml'
      AND regexp_extract(content, '\n\s*bin_dir\s*=\s*"([^"]+)"', 1) NOT IN ('', '/opt/cni/bin', '/opt/cni/bin/')
),
unknown_bin AS (
    SELECT DISTINCT bundle_id FROM gaps
    WHERE what = 'fact' AND location = '/opt/cni/bin' AND reason <> 'not-found'
),
missing AS (
    SELECT coalesce(h.cluster_bundle_id, c.bundle_id) AS cluster, c.bundle_id, c.node, c.paths,
        (SELECT list(b.name ORDER BY b.name) FROM host_cni_bin b WHERE b.bundle_id = c.bundle_id) AS bins
    FROM conf c
    JOIN host_nodes h ON h.bundle_id = c.bundle_id
    WHERE NOT EXISTS (SELECT 1 FROM host_cni_bin b WHERE b.bundle_id = c.bundle_id AND b.name = 'flannel')
      AND c.bundle_id NOT IN (SELECT bundle_id FROM other_bin_dir)
      AND c.bundle_id NOT IN (SELECT bundle_id FROM unknown_bin)
),
-- Sandbox failures, from events (their last time) and logs, tied to the node's cluster.
errs AS (
    SELECT e.bundle_id AS cluster, coalesce(e.source_host, (SELECT any_value(p.node) FROM pods p WHERE p.bundle_id = e.bundle_id AND p.namespace = e.object_namespace AND p.name = e.object_name)) AS node,
        e.message AS line, e.count AS n, e.first_seen AS first_ts, e.last_seen AS ts, b.collected_at - e.last_seen AS age,
        {'kind': 'event', 'ref': e.reason} AS what
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, 'failed to find plugin') AND regexp_matches(e.message, 'failed to find plugin \\*"flannel\\*"')
    UNION ALL
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id), l.node, l.line, 1, l.ts, l.ts, l.age,
        {'kind': l.source, 'ref': coalesce(l.service, l.container, '')}
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    -- Structured kubelet lines escape the quotes once or twice (inside err="...").
    WHERE contains(l.line, 'failed to find plugin') AND regexp_matches(l.line, 'failed to find plugin \\*"flannel\\*"')
),
err_nodes AS (
    SELECT cluster, node, sum(n) AS n, coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0) AS recent_n,
        min(first_ts) AS first_seen, max(ts) AS last_seen,
        -- Kinds sort as their English names: container, event, host, node.
        list(DISTINCT what ORDER BY what) AS seen,
        list(DISTINCT line ORDER BY line)[1:2] AS lines
    FROM errs GROUP BY cluster, node
),
-- The plugin works on the node now: its node bundle shows /opt/cni/bin/flannel (and
-- /opt/cni/bin is the directory in use), or a pod on the pod network started a container there
-- after the last failure (its sandbox got its network). Failures before that are history, e.g.
-- at boot, before kube-flannel's install-cni-plugin init container copied the binary.
works_now AS (
    SELECT DISTINCT e.cluster, e.node
    FROM err_nodes e
    LEFT JOIN host_nodes h ON coalesce(h.cluster_bundle_id, h.bundle_id) = e.cluster AND h.node = e.node
        AND h.bundle_id NOT IN (SELECT bundle_id FROM other_bin_dir)
    LEFT JOIN host_cni_bin b ON b.bundle_id = h.bundle_id AND b.name = 'flannel'
    WHERE b.name IS NOT NULL
       OR EXISTS (SELECT 1 FROM pods p JOIN containers c ON c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name
                  WHERE p.bundle_id = e.cluster AND p.node = e.node AND NOT p.host_network
                    AND c.started_at > e.last_seen)
)
SELECT coalesce('node/' || coalesce(m.node, e.node), 'cluster') AS resource,
    coalesce(m.node, e.node) AS node, coalesce(m.node, e.node) AS name, coalesce(m.bundle_id, e.cluster) AS bundle_id,
    m.node IS NOT NULL AS missing, w.node IS NOT NULL AS works_now, m.paths, len(coalesce(m.bins, [])) AS bins_n, coalesce(e.n, 0) AS errors, e.seen,
    list_concat(CASE WHEN m.node IS NOT NULL THEN ['/opt/cni/bin: ' || array_to_string(coalesce(m.bins, []), ' ')] ELSE [] END, coalesce(e.lines, [])) AS evidence,
    -- The node's files prove it now; errors alone are judged by their age.
    CASE WHEN m.node IS NOT NULL THEN 'high' WHEN w.node IS NOT NULL THEN 'info' ELSE 'medium' END AS severity,
    e.first_seen, e.last_seen,
    CASE WHEN m.node IS NULL THEN e.recent_n END AS recent_count,
    e.n AS count
FROM missing m
FULL OUTER JOIN err_nodes e ON e.cluster = m.cluster AND e.node IS NOT DISTINCT FROM m.node
LEFT JOIN works_now w ON m.node IS NULL AND w.cluster = e.cluster AND w.node = e.node
ORDER BY 1
