/* ---
id = "hostport-without-portmap"
severity = "medium"
faq = ["KADM-07"]
category = "network"
patterns = ["failed to find plugin \\\\*\"portmap\\\\*\"", "hostPort", "portmap"]
# The kubelet retries a hostPort pod's sandbox every few seconds while portmap is missing:
# errors older than an hour were fixed since.
recent = "1h"
[title]
en = "Pods use hostPort but the node's CNI configuration has no portmap plugin"
zh = "Pod 使用了 hostPort，但节点的 CNI 配置中没有 portmap 插件"
[remediation]
en = """
`hostPort` (and `hostIP`) only work when the pod network add-on supports them, usually by
chaining the CNI `portmap` plugin (Calico, Canal and Flannel are verified to). Traffic to
`<node>:<hostPort>` goes nowhere when the node's CNI configuration (the first file in
`/etc/cni/net.d`) has no `portmap` plugin, or when `/opt/cni/bin/portmap` is missing. Add
`{"type": "portmap", "capabilities": {"portMappings": true}}` to the plugin list (ask the network
add-on's authors how), or use a `NodePort` Service or `hostNetwork: true` instead.
```
ls /etc/cni/net.d/ && cat /etc/cni/net.d/*.conflist
ls /opt/cni/bin/portmap
```
See https://github.com/containernetworking/plugins/blob/master/plugins/meta/portmap/README.md
"""
zh = """
`hostPort`（以及 `hostIP`）是否可用取决于 Pod 网络插件，通常需要链式调用 CNI `portmap` 插件
（已验证 Calico、Canal 和 Flannel 支持）。若节点的 CNI 配置（`/etc/cni/net.d` 中的第一个文件）中没有 `portmap` 插件，
或 `/opt/cni/bin/portmap` 不存在，访问 `<节点>:<hostPort>` 的流量将无法到达 Pod。请在插件列表中加入
`{"type": "portmap", "capabilities": {"portMappings": true}}`（向网络插件作者确认方法），或改用 `NodePort` 类型的 Service
或 `HostNetwork=true`。
```
ls /etc/cni/net.d/ && cat /etc/cni/net.d/*.conflist
ls /opt/cni/bin/portmap
```
参见 https://github.com/containernetworking/plugins/blob/master/plugins/meta/portmap/README.md
"""
[message]
en = """\
{% if kind == 'config' %}\
  hostPort pods on node {{ node }} are unreachable through their hostPort: \
  {% if path is not none %}\
    {% if not chains_portmap %}{{ path }} chains {{ types | join(', ') }} without portmap\
    {% else %}{{ path }} chains portmap but /opt/cni/bin/portmap is missing{% endif %}\
    {% if logged %}; {% endif %}\
  {% endif %}\
  {% if logged %}{{ errors }} "failed to find plugin \\"portmap\\"" errors{% endif %}\
{% else %}\
  hostPort pods on node {{ node }}: {{ errors }} "failed to find plugin \\"portmap\\"" errors\
{% endif %}"""
zh = """\
{% if kind == 'config' %}\
  节点 {{ node }} 上的 hostPort Pod 无法通过其 hostPort 访问：\
  {% if path is not none %}\
    {% if not chains_portmap %}{{ path }} 链式调用了 {{ types | join(', ') }}，但没有 portmap\
    {% else %}{{ path }} 链式调用了 portmap，但 /opt/cni/bin/portmap 不存在{% endif %}\
    {% if logged %}；{% endif %}\
  {% endif %}\
  {% if logged %}{{ errors }} 条 "failed to find plugin \\"portmap\\"" 错误{% endif %}\
{% else %}\
  节点 {{ node }} 上的 hostPort Pod：{{ errors }} 条 "failed to find plugin \\"portmap\\"" 错误\
{% endif %}"""
[thresholds]
# CNI plugins that implement hostPort themselves or delegate the whole configuration.
native_hostport_types = "cilium-cni|multus|multus-shim|ovn-k8s-cni-overlay|antrea|kube-ovn|nsx"
--- */
-- A text test first: only ports naming a hostPort are parsed or joined (MATERIALIZED keeps
-- the planner from parsing every container's ports before the test).
WITH hp_containers AS MATERIALIZED (
    SELECT bundle_id, node, namespace, pod, ports FROM containers
    WHERE contains(CAST(ports AS VARCHAR), 'hostPort') AND node IS NOT NULL
),
host_port_pods AS (
    SELECT c.bundle_id, c.node, c.namespace, c.pod,
        list_filter(from_json(c.ports, '[{"containerPort":"BIGINT","hostPort":"BIGINT","protocol":"VARCHAR"}]'),
                    lambda p: coalesce(p.hostPort, 0) > 0) AS hp
    FROM hp_containers c
    JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    WHERE NOT p.host_network AND p.phase IN ('Running', 'Pending') AND p.deleted_at IS NULL
),
hp_by_node AS (
    SELECT bundle_id, node, list(DISTINCT namespace || '/' || pod || ' hostPort ' || CAST(x.hostPort AS VARCHAR)) AS pods
    FROM (SELECT bundle_id, node, namespace, pod, unnest(hp) AS x FROM host_port_pods WHERE len(hp) > 0)
    GROUP BY bundle_id, node
),
-- Each node bundle's first CNI file (the one the runtime uses), tied to its cluster.
cni_files AS (
    SELECT f.bundle_id, h.cluster_bundle_id, f.node, f.path, f.parsed,
        row_number() OVER (PARTITION BY f.bundle_id ORDER BY f.path) AS rn
    FROM host_files f JOIN host_nodes h ON h.bundle_id = f.bundle_id
    WHERE regexp_matches(f.path, '^/etc/cni/net\.d/[^/]+\.(conf|conflist|json)$')
),
primary_cni AS (
    SELECT bundle_id, cluster_bundle_id, node, path,
        CASE WHEN json_type(parsed, '$.plugins') = 'ARRAY'
             THEN list_transform(from_json(parsed->'$.plugins', '["JSON"]'), lambda p: (p->>'$.type'))
             ELSE [(parsed->>'$.type')] END AS types
    FROM cni_files WHERE rn = 1 AND parsed IS NOT NULL
),
cni_bin AS (
    SELECT bundle_id, list(name) AS names FROM host_cni_bin GROUP BY bundle_id
),
-- Nodes whose runtime also looks for plugins outside /opt/cni/bin (the only directory listed):
-- containerd's bin_dir / bin_dirs (GKE: /home/kubernetes/bin), CRI-O's plugin_dirs (the RHEL and
-- Fedora packages add /usr/libexec/cni, where containernetworking-plugins puts portmap).
other_bin_dirs AS (
    SELECT DISTINCT bundle_id FROM (
        SELECT f.bundle_id,
            unnest(regexp_extract_all(
                regexp_extract(f.content, '(?m)^[ \t]*(?:bin_dirs?|plugin_dirs?)[ \t]*=[ \t]*(\[[^\]]*\]|"[^"]*"|''[^'']*'')', 1),
                '["'']([^"'']+)["'']', 1)) AS dir
        FROM host_files f
        WHERE regexp_matches(f.path, '^/etc/(containerd/.*\.toml|crio/crio\.conf(\.d/.*)?)$')
          AND regexp_matches(f.content, '(bin_dir|plugin_dir)'))
    WHERE NOT regexp_matches(dir, '^/opt/cni/bin/*$')
),
-- "failed to find plugin portmap" from logs and events, tied to the node's cluster; structured
-- kubelet lines escape the quotes once or twice.
portmap_errors AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS bundle_id, l.node, l.line, l.ts AS first_ts, l.ts, l.age, 1 AS n
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    WHERE contains(l.line, 'failed to find plugin') AND regexp_matches(l.line, 'failed to find plugin \\*"portmap\\*"')
    UNION ALL
    SELECT e.bundle_id, e.source_host, e.message, e.first_seen, e.last_seen, b.collected_at - e.last_seen, e.count
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, 'failed to find plugin') AND regexp_matches(e.message, 'failed to find plugin \\*"portmap\\*"')
),
portmap_missing_logs AS (
    SELECT bundle_id, node, sum(n) AS n, coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0) AS recent_n,
        min(first_ts) AS first_seen, max(ts) AS last_seen, list(DISTINCT line)[1:2] AS lines
    FROM portmap_errors
    WHERE node IS NOT NULL
    GROUP BY bundle_id, node
),
findings AS (
    SELECT coalesce(c.cluster_bundle_id, c.bundle_id) AS bundle_id, c.node,
        CASE WHEN NOT list_contains(c.types, 'portmap')
             THEN c.path || ' chains ' || array_to_string(c.types, ', ') || ' without portmap'
             ELSE c.path || ' chains portmap but /opt/cni/bin/portmap is missing' END AS what,
        c.path, list_contains(c.types, 'portmap') AS chains_portmap, c.types
    FROM primary_cni c
    LEFT JOIN cni_bin b ON b.bundle_id = c.bundle_id
    WHERE NOT list_has_any(c.types, string_split(${native_hostport_types}, '|'))
      AND (NOT list_contains(c.types, 'portmap')
           OR (b.names IS NOT NULL AND len(b.names) > 0 AND NOT list_contains(b.names, 'portmap')
               AND NOT EXISTS (SELECT 1 FROM other_bin_dirs o WHERE o.bundle_id = c.bundle_id)))
)
-- The node's CNI configuration (current files) cannot map hostPorts.
SELECT
    'node/' || h.node AS resource,
    h.node,
    h.bundle_id,
    'config' AS kind, f.path, f.types, f.chains_portmap, coalesce(l.recent_n > 0, false) AS logged, l.n AS errors,
    list_concat(h.pods[1:10], CASE WHEN l.recent_n > 0 THEN l.lines ELSE [] END) AS evidence,
    'medium' AS severity,
    CASE WHEN l.recent_n > 0 THEN l.first_seen END AS first_seen,
    CASE WHEN l.recent_n > 0 THEN l.last_seen END AS last_seen,
    NULL::BIGINT AS recent_count,
    CASE WHEN l.recent_n > 0 THEN l.n END AS count
FROM hp_by_node h
JOIN findings f ON f.bundle_id = h.bundle_id AND f.node = h.node
LEFT JOIN portmap_missing_logs l ON l.bundle_id = h.bundle_id AND l.node = h.node
UNION ALL
-- Errors alone: judged by their age.
SELECT 'node/' || h.node, h.node, h.bundle_id,
    'logs', NULL, NULL, NULL, NULL, l.n,
    list_concat(h.pods[1:10], l.lines),
    'medium', l.first_seen, l.last_seen, l.recent_n, l.n
FROM hp_by_node h JOIN portmap_missing_logs l ON l.bundle_id = h.bundle_id AND l.node = h.node
WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.bundle_id = h.bundle_id AND f.node = h.node)
ORDER BY 1
