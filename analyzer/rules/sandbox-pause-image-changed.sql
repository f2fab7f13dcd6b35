/* ---
id = "sandbox-pause-image-changed"
severity = "medium"
faq = ["CRN-03"]
category = "runtime"
patterns = [
  "sandbox_image",
  "pod-infra-container-image",
  "SandboxChanged",
  "Pod sandbox changed, it will be killed and re-created",
]
# Log lines here are configuration, not events: containerd prints its CRI configuration
# (SandboxImage) at each start and the kubelet its flags; the latest start-up line is the
# configuration in force, however old. The window only bounds how far back a change of it on
# one node is told.
recent = "30d"
[title]
en = "Pause (sandbox) image changed on a node whose running pods use another pause"
zh = "节点更换了 pause（sandbox）镜像，而其上运行中的 Pod 仍使用另一个 pause"
[remediation]
en = """
Do not upgrade the pause image of a cluster that is in use: every pod sandbox is built on it,
and moving to another pause image recreates the sandboxes, which restarts **all** pods.
Keep each node on the pause image its running pods were created with (containerd
`sandbox_image`, CRI-O `pause_image`, or the kubelet's `--pod-infra-container-image` with Docker);
node pools that have always used different pause images are fine. If it has already been
changed on a node, either set it back to the image the running pods use, or roll the change
out node by node in a maintenance window (drain the node first).
```
grep -n sandbox_image /etc/containerd/config.toml
crictl images | grep pause
kubectl drain <node> --ignore-daemonsets --delete-emptydir-data
systemctl restart containerd && kubectl uncordon <node>
```
"""
zh = """
正在使用的集群不要对 pause 进行升级：所有 Pod 的 sandbox 都基于它，换成另一个 pause 镜像会重建 sandbox，
从而重启**所有** Pod。每个节点应保持其上运行中的 Pod 创建时所用的 pause 镜像（containerd 的 `sandbox_image`、
CRI-O 的 `pause_image`，Docker 下为 kubelet 的 `--pod-infra-container-image`）。如果已经在某个节点上修改，要么改回正在运行的 Pod
所用的镜像，要么在维护窗口内逐个节点变更（先驱逐节点）。一直使用不同 pause 镜像的节点池无需处理。
```
grep -n sandbox_image /etc/containerd/config.toml
crictl images | grep pause
kubectl drain <node> --ignore-daemonsets --delete-emptydir-data
systemctl restart containerd && kubectl uncordon <node>
```
"""
[message]
en = """\
{% if kind == 'cluster' %}\
  nodes run different pause (sandbox) images: {{ shorts | join(' vs ') }} (pause image changed on part of the cluster)\
{% else %}\
  node {{ node }} is configured for sandbox image {{ image }} (\
{% if origin.kind == 'file' %}file {{ origin.ref }}{% elif origin.kind == 'flag' %}kubelet flag in {{ origin.ref }}\
{% elif origin.kind == 'flags' %}{{ origin.source }} log kubelet flags{% else %}{{ origin.source }} log {{ origin.ref }}{% endif %}\
) but holds only {{ held | join(', ') }}, the pause its running pod sandboxes were created from\
  {% if changed_from is not none %}; its runtime started with {{ changed_from | join(' and ') }} in the 30 days before collection{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'cluster' %}\
  各节点使用的 pause（sandbox）镜像不一致：{{ shorts | join(' vs ') }}（集群中部分节点更换了 pause 镜像）\
{% else %}\
  节点 {{ node }} 配置的 sandbox 镜像为 {{ image }}（\
{% if origin.kind == 'file' %}文件 {{ origin.ref }}{% elif origin.kind == 'flag' %}kubelet 参数，位于 {{ origin.ref }}\
{% elif origin.kind == 'flags' %}{{ origin.source }} 日志中的 kubelet 参数{% else %}{{ origin.source }} 日志 {{ origin.ref }}{% endif %}\
），但节点上只有 {{ held | join('、') }}，即当前运行中 Pod 的 sandbox 所基于的 pause 镜像\
  {% if changed_from is not none %}；收集前 30 天内其运行时先后以 {{ changed_from | join(' 和 ') }} 启动{% endif %}\
{% endif %}"""
[thresholds]
# The kubelet reports at most this many images in Node status (nodeStatusMaxImages): a shorter
# list is complete, so an image missing from it is not on the node.
node_status_max_images = 50
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
runtime AS (
    SELECT bundle_id AS cluster, name AS node, container_runtime_version AS rt FROM nodes
),
-- Log lines of the nodes, keyed by cluster.
node_logs AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node, l.source, l.service, l.container,
        l.line, l.line_no, l.ts, l.age
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE l.node IS NOT NULL AND l.source IN ('host', 'node')
      AND (contains(l.line, 'SandboxImage:') OR contains(l.line, 'FLAG: --pod-infra-container-image'))
),
-- containerd prints its CRI configuration at start-up: "... SandboxImage:registry.k8s.io/pause:3.6 ...".
startups AS (
    SELECT cluster, node, source || ' log ' || coalesce(service, container, '') AS src,
        {'kind': 'log', 'source': source, 'ref': coalesce(service, container, '')} AS origin, ts, age, line_no,
        nullif(regexp_extract(line, 'SandboxImage:([^\s,}]+)', 1), '') AS image
    FROM node_logs WHERE contains(line, 'SandboxImage:')
),
configured AS (
    -- containerd 1.x `sandbox_image`, 2.x `[plugins."io.containerd.cri.v1.images".pinned_images] sandbox`
    SELECT h.cluster, f.node, 1 AS prio, 'file ' || f.path AS src, {'kind': 'file', 'source': NULL, 'ref': f.path} AS origin,
        coalesce(nullif(regexp_extract(f.content, '(?m)^[ \t]*sandbox_image[ \t]*=[ \t]*["'']([^"'']+)', 1), ''),
                 nullif(regexp_extract(f.content, '(?m)^[ \t]*sandbox[ \t]*=[ \t]*["'']([^"'']+)', 1), '')) AS image
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE f.path = '/etc/containerd/config.toml' OR f.path LIKE '/etc/containerd/conf.d/%'
    UNION ALL
    SELECT h.cluster, f.node, 1, 'file ' || f.path, {'kind': 'file', 'source': NULL, 'ref': f.path},
        nullif(regexp_extract(f.content, '(?m)^[ \t]*pause_image[ \t]*=[ \t]*["'']([^"'']+)', 1), '')
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE f.path = '/etc/crio/crio.conf' OR f.path LIKE '/etc/crio/crio.conf.d/%'
    UNION ALL
    -- The runtime's latest start-up line: the configuration it runs with now.
    SELECT cluster, node, 2, arg_max(src, (coalesce(-epoch(age), 0), line_no)), arg_max(origin, (coalesce(-epoch(age), 0), line_no)),
        arg_max(image, (coalesce(-epoch(age), 0), line_no))
    FROM startups WHERE image IS NOT NULL
    GROUP BY cluster, node
    UNION ALL
    -- The kubelet flag decides only with Docker (dockershim/cri-dockerd) or an unknown runtime.
    SELECT h.cluster, f.node, 3, 'kubelet flag in ' || f.path, {'kind': 'flag', 'source': NULL, 'ref': f.path},
        nullif(regexp_extract(f.content, '--pod-infra-container-image[= ]["'']?([^\s"'']+)', 1), '')
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    LEFT JOIN runtime r ON r.cluster = h.cluster AND r.node = f.node
    WHERE contains(f.content, '--pod-infra-container-image') AND coalesce(r.rt, 'docker://') LIKE 'docker://%'
    UNION ALL
    SELECT l.cluster, l.node, 4, l.source || ' log kubelet flags', {'kind': 'flags', 'source': l.source, 'ref': NULL},
        arg_max(nullif(regexp_extract(l.line, 'FLAG: --pod-infra-container-image="([^"]+)"', 1), ''), (coalesce(-epoch(l.age), 0), l.line_no))
    FROM node_logs l LEFT JOIN runtime r ON r.cluster = l.cluster AND r.node = l.node
    WHERE contains(l.line, 'FLAG: --pod-infra-container-image')
      AND coalesce(r.rt, 'docker://') LIKE 'docker://%'
    GROUP BY l.cluster, l.node, l.source
),
effective AS (
    SELECT cluster, node, arg_min(image, prio) AS image,
        -- Where the setting was read: as evidence text, and in its parts for the messages.
        arg_min({'src': src, 'origin': origin}, prio).src AS src, arg_min({'src': src, 'origin': origin}, prio).origin AS origin,
        -- pinned by tag and digest (`pause:3.9@sha256:…`): the node lists it by its tag
        regexp_replace(regexp_extract(arg_min(image, prio), '([^/]+)$', 1), '^([^@:]+:[^@]+)@.*$', '\1') AS short
    FROM configured WHERE image IS NOT NULL
    GROUP BY cluster, node
),
-- The same node's runtime started with another sandbox image within the window: the change itself.
changed AS (
    SELECT s.cluster, s.node, list(DISTINCT s.image ORDER BY s.image) AS images, min(s.ts) AS first_seen, max(s.ts) AS last_seen
    FROM startups s
    WHERE s.image IS NOT NULL AND in_window(s.age, ${recent})
    GROUP BY s.cluster, s.node
    HAVING count(DISTINCT s.image) > 1
),
-- MATERIALIZED: keeps the planner from pushing the image-count test below into the scan of
-- nodes, where it would parse every node's image list, not only these nodes'.
node_images AS MATERIALIZED (
    SELECT n.bundle_id AS cluster, n.name AS node,
        coalesce(json_array_length(n.doc->'$.status.images'), 0) AS n_images,
        list_distinct(list_transform(
            list_filter(flatten(list_transform(coalesce(from_json(n.doc->'$.status.images', '[{"names":["VARCHAR"]}]'), []),
                                               lambda i: coalesce(i.names, []))),
                        lambda x: x NOT LIKE '%@sha256:%'),
            lambda x: regexp_extract(x, '([^/]+)$', 1))) AS shorts,
        -- the same with digest names (`pause@sha256:…`), for a sandbox image pinned by digest only
        list_transform(flatten(list_transform(coalesce(from_json(n.doc->'$.status.images', '[{"names":["VARCHAR"]}]'), []),
                                              lambda i: coalesce(i.names, []))),
                       lambda x: regexp_extract(x, '([^/]+)$', 1)) AS all_shorts
    FROM nodes n
    -- Only nodes whose sandbox image is known; the others' image lists are never parsed.
    WHERE (n.bundle_id, n.name) IN (SELECT (cluster, node) FROM effective)
),
-- The runtime is set to a pause image the node does not hold, while it holds another one:
-- the running pods' sandboxes come from that other image. A node whose configuration matches
-- the pause it holds is consistent, whatever other node pools use.
pending AS (
    SELECT e.cluster, e.node, e.image, e.src, e.origin, c.images AS changed_from, c.first_seen, c.last_seen,
        list_filter(ni.shorts, lambda s: regexp_matches(s, '^(pause|pause-amd64|pause-arm64|mirrored-pause)[:@]')) AS held
    FROM effective e JOIN node_images ni ON ni.cluster = e.cluster AND ni.node = e.node
    LEFT JOIN changed c ON c.cluster = e.cluster AND c.node = e.node
    WHERE ni.n_images < ${node_status_max_images}
      AND NOT list_contains(ni.all_shorts, e.short)
),
-- The spread of pause images over the cluster, told only beside a node that changed.
spread AS (
    SELECT e.cluster, count(DISTINCT e.short) AS kinds,
        list(e.node || ': ' || e.image || ' (' || e.src || ')' ORDER BY e.node) AS lines,
        list(DISTINCT e.short ORDER BY e.short) AS shorts
    FROM effective e
    WHERE e.cluster IN (SELECT cluster FROM pending WHERE len(held) > 0)
    GROUP BY e.cluster
)
SELECT 'cluster' AS resource, NULL AS node, cluster AS bundle_id,
    'cluster' AS kind, shorts, NULL AS image, NULL::STRUCT(kind VARCHAR, source VARCHAR, ref VARCHAR) AS origin,
    NULL::VARCHAR[] AS held, NULL::VARCHAR[] AS changed_from,
    lines AS evidence,
    NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    -- Context for the node finding below, not a second problem.
    'info' AS severity
FROM spread WHERE kinds > 1
UNION ALL
SELECT 'node/' || node, node, cluster,
    'node', NULL, image, origin, held, changed_from,
    ['configured: ' || image || ' (' || src || ')', 'pause images on the node: ' || array_to_string(held, ', ')],
    first_seen, last_seen, NULL
FROM pending WHERE len(held) > 0
ORDER BY 1
