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
[title]
en = "Pause (sandbox) image changed on a running cluster: nodes disagree or pods run on an older pause"
zh = "在运行中的集群上更换了 pause（sandbox）镜像：节点配置不一致或 Pod 仍运行在旧 pause 上"
[remediation]
en = """
Do not upgrade the pause image of a cluster that is in use: every pod sandbox is built on it,
and moving to another pause image recreates the sandboxes, which restarts **all** pods.
Keep one pause image for all nodes (containerd `sandbox_image`, CRI-O `pause_image`, or the
kubelet's `--pod-infra-container-image` with Docker). If it has already been changed on some
nodes, either set it back to the image the running pods use, or roll the change out node by
node in a maintenance window (drain the node first).
```
grep -n sandbox_image /etc/containerd/config.toml
crictl images | grep pause
kubectl drain <node> --ignore-daemonsets --delete-emptydir-data
systemctl restart containerd && kubectl uncordon <node>
```
"""
zh = """
正在使用的集群不要对 pause 进行升级：所有 Pod 的 sandbox 都基于它，换成另一个 pause 镜像会重建 sandbox，
从而重启**所有** Pod。所有节点应使用同一个 pause 镜像（containerd 的 `sandbox_image`、CRI-O 的 `pause_image`，
Docker 下为 kubelet 的 `--pod-infra-container-image`）。如果已经在部分节点上修改，要么改回正在运行的 Pod
所用的镜像，要么在维护窗口内逐个节点变更（先驱逐节点）。
```
grep -n sandbox_image /etc/containerd/config.toml
crictl images | grep pause
kubectl drain <node> --ignore-daemonsets --delete-emptydir-data
systemctl restart containerd && kubectl uncordon <node>
```
"""
[thresholds]
# The kubelet reports at most this many images in Node status (nodeStatusMaxImages): a shorter
# list is complete, so an image missing from it is not on the node.
node_status_max_images = 50
--- */
WITH runtime AS (
    SELECT lower(name) AS node, container_runtime_version AS rt FROM nodes
),
configured AS (
    -- containerd 1.x `sandbox_image`, 2.x `[plugins."io.containerd.cri.v1.images".pinned_images] sandbox`
    SELECT bundle_id, node, 1 AS prio, 'file ' || path AS src,
        coalesce(nullif(regexp_extract(content, '(?m)^[ \t]*sandbox_image[ \t]*=[ \t]*["'']([^"'']+)', 1), ''),
                 nullif(regexp_extract(content, '(?m)^[ \t]*sandbox[ \t]*=[ \t]*["'']([^"'']+)', 1), '')) AS image
    FROM host_files WHERE path = '/etc/containerd/config.toml' OR path LIKE '/etc/containerd/conf.d/%'
    UNION ALL
    SELECT bundle_id, node, 1, 'file ' || path,
        nullif(regexp_extract(content, '(?m)^[ \t]*pause_image[ \t]*=[ \t]*["'']([^"'']+)', 1), '')
    FROM host_files WHERE path = '/etc/crio/crio.conf' OR path LIKE '/etc/crio/crio.conf.d/%'
    UNION ALL
    -- containerd prints its CRI configuration at start-up: "... SandboxImage:registry.k8s.io/pause:3.6 ..."
    SELECT bundle_id, node, 2, source || ' log ' || coalesce(service, container, ''),
        nullif(regexp_extract(line, 'SandboxImage:([^\s,}]+)', 1), '')
    FROM log_lines WHERE node IS NOT NULL AND contains(line, 'SandboxImage:')
    UNION ALL
    -- The kubelet flag decides only with Docker (dockershim/cri-dockerd) or an unknown runtime.
    SELECT f.bundle_id, f.node, 3, 'kubelet flag in ' || f.path,
        nullif(regexp_extract(f.content, '--pod-infra-container-image[= ]["'']?([^\s"'']+)', 1), '')
    FROM host_files f LEFT JOIN runtime r ON r.node = lower(f.node)
    WHERE contains(f.content, '--pod-infra-container-image') AND coalesce(r.rt, 'docker://') LIKE 'docker://%'
    UNION ALL
    SELECT l.bundle_id, l.node, 4, l.source || ' log kubelet flags',
        nullif(regexp_extract(l.line, 'FLAG: --pod-infra-container-image="([^"]+)"', 1), '')
    FROM log_lines l LEFT JOIN runtime r ON r.node = lower(l.node)
    WHERE l.node IS NOT NULL AND contains(l.line, 'FLAG: --pod-infra-container-image')
      AND coalesce(r.rt, 'docker://') LIKE 'docker://%'
),
effective AS (
    SELECT lower(node) AS key_node, any_value(node) AS node, arg_min(bundle_id, prio) AS bundle_id,
        arg_min(image, prio) AS image, arg_min(src, prio) AS src,
        regexp_extract(arg_min(image, prio), '([^/]+)$', 1) AS short
    FROM configured WHERE image IS NOT NULL
    GROUP BY 1
),
-- MATERIALIZED: keeps the planner from pushing the image-count test below into the scan of
-- nodes, where it would parse every node's image list, not only these nodes'.
node_images AS MATERIALIZED (
    SELECT lower(name) AS key_node, name AS node, bundle_id,
        coalesce(json_array_length(doc->'$.status.images'), 0) AS n_images,
        list_distinct(list_transform(
            list_filter(flatten(list_transform(coalesce(from_json(doc->'$.status.images', '[{"names":["VARCHAR"]}]'), []),
                                               lambda i: coalesce(i.names, []))),
                        lambda x: x NOT LIKE '%@sha256:%'),
            lambda x: regexp_extract(x, '([^/]+)$', 1))) AS shorts
    FROM nodes
    -- Only nodes whose sandbox image is known; the others' image lists are never parsed.
    WHERE lower(name) IN (SELECT key_node FROM effective)
),
pending AS (
    -- The runtime is set to a pause image the node does not hold, while it holds another one:
    -- the running pods' sandboxes come from that other image.
    SELECT e.node, coalesce(ni.bundle_id, e.bundle_id) AS bundle_id, e.image, e.src,
        list_filter(ni.shorts, lambda s: regexp_matches(s, '^(pause|pause-amd64|pause-arm64|mirrored-pause)[:@]')) AS held
    FROM effective e JOIN node_images ni ON ni.key_node = e.key_node
    WHERE ni.n_images < ${node_status_max_images}
      AND NOT list_contains(ni.shorts, e.short)
),
spread AS (
    SELECT count(DISTINCT short) AS kinds,
        list(node || ': ' || image || ' (' || src || ')' ORDER BY node) AS lines,
        list(DISTINCT short ORDER BY short) AS shorts,
        coalesce((SELECT min(bundle_id) FROM bundles WHERE kind = 'cluster'), any_value(bundle_id)) AS bundle_id
    FROM effective
)
SELECT 'cluster' AS resource, NULL AS node, bundle_id,
    'nodes run different pause (sandbox) images: ' || array_to_string(shorts, ' vs ')
        || ' (pause image changed on part of the cluster)' AS message,
    '各节点使用的 pause（sandbox）镜像不一致：' || array_to_string(shorts, ' vs ')
        || '（集群中部分节点更换了 pause 镜像）' AS message_zh,
    lines AS evidence
FROM spread WHERE kinds > 1
UNION ALL
SELECT 'node/' || node, node, bundle_id,
    'node ' || node || ' is configured for sandbox image ' || image || ' (' || src || ') but holds only '
        || array_to_string(held, ', ') || ', the pause its running pod sandboxes were created from',
    '节点 ' || node || ' 配置的 sandbox 镜像为 ' || image || '（'
        || CASE WHEN src LIKE 'file %' THEN '文件 ' || substr(src, 6)
                WHEN src LIKE 'kubelet flag in %' THEN 'kubelet 参数，位于 ' || substr(src, 17)
                WHEN src LIKE '% log kubelet flags' THEN substr(src, 1, length(src) - 18) || ' 日志中的 kubelet 参数'
                ELSE replace(src, ' log ', ' 日志 ') END
        || '），但节点上只有 ' || array_to_string(held, '、') || '，即当前运行中 Pod 的 sandbox 所基于的 pause 镜像',
    ['configured: ' || image || ' (' || src || ')', 'pause images on the node: ' || array_to_string(held, ', ')]
FROM pending WHERE len(held) > 0
ORDER BY 1
