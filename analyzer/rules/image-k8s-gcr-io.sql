/* ---
id = "image-k8s-gcr-io"
severity = "medium"
faq = ["WNR-44"]
category = "images"
patterns = ["k8s\\.gcr\\.io", "imageRepository: k8s\\.gcr\\.io", "sandbox_image = \"k8s\\.gcr\\.io"]
[title]
en = "Images still come from the frozen k8s.gcr.io registry"
zh = "镜像仍来自已冻结的 k8s.gcr.io 仓库"
[remediation]
en = """
`k8s.gcr.io` was frozen in April 2023 and receives no new images; it may stop serving. Move
image references to `registry.k8s.io` (same paths), e.g. `k8s.gcr.io/pause:3.2` →
`registry.k8s.io/pause:3.2`, in workloads, static pod manifests, the kubelet's
`--pod-infra-container-image`, containerd's `sandbox_image` (CRI-O: `pause_image`) and
kubeadm's `imageRepository` (ConfigMap `kube-system/kubeadm-config`, used by `kubeadm upgrade`
and `kubeadm join`).
```
kubectl get pods -A -o jsonpath='{range .items[*]}{.spec.containers[*].image}{"\\n"}{end}' | grep k8s.gcr.io
kubectl -n kube-system get cm kubeadm-config -o yaml | grep imageRepository
grep -rn k8s.gcr.io /etc/kubernetes/manifests /etc/containerd/config.toml /var/lib/kubelet/kubeadm-flags.env
```
"""
zh = """
`k8s.gcr.io` 已于 2023 年 4 月冻结，不再接收新镜像，且可能停止服务。请将镜像地址改为 `registry.k8s.io`
（路径不变），例如 `k8s.gcr.io/pause:3.2` → `registry.k8s.io/pause:3.2`，包括工作负载、静态 Pod 清单、
kubelet 的 `--pod-infra-container-image`、containerd 的 `sandbox_image`（CRI-O 为 `pause_image`）以及 kubeadm 的
`imageRepository`（ConfigMap `kube-system/kubeadm-config`，`kubeadm upgrade` 和 `kubeadm join` 会使用它）。
```
kubectl get pods -A -o jsonpath='{range .items[*]}{.spec.containers[*].image}{"\\n"}{end}' | grep k8s.gcr.io
kubectl -n kube-system get cm kubeadm-config -o yaml | grep imageRepository
grep -rn k8s.gcr.io /etc/kubernetes/manifests /etc/containerd/config.toml /var/lib/kubelet/kubeadm-flags.env
```
"""
--- */
WITH wl AS (
    SELECT bundle_id, kind, namespace, name, owner_kind FROM workloads
),
refs AS (
    -- Top-level workloads: a Deployment's ReplicaSets and a CronJob's Jobs count through their owner.
    SELECT c.bundle_id, c.kind, c.namespace, c.workload AS name, c.image, 'pod template' AS place
    FROM workload_containers c
    JOIN wl w ON w.bundle_id = c.bundle_id AND w.kind = c.kind AND w.namespace = c.namespace AND w.name = c.workload
    WHERE c.registry = 'k8s.gcr.io'
      AND NOT (c.kind = 'ReplicaSet' AND w.owner_kind = 'Deployment')
      AND NOT (c.kind = 'Job' AND w.owner_kind = 'CronJob')
    UNION ALL
    -- Pods without a collected controller: static pods, bare pods, pods of operators' CRs.
    SELECT c.bundle_id, 'Pod', c.namespace, c.pod, c.image,
        CASE WHEN p.owner_kind = 'Node' THEN 'static pod' WHEN p.owner_kind IS NULL THEN 'pod' ELSE 'pod of ' || p.owner_kind || ' ' || p.owner_name END
    FROM containers c JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    WHERE c.registry = 'k8s.gcr.io'
      AND (p.owner_kind IS NULL OR p.owner_kind = 'Node'
           OR NOT EXISTS (SELECT 1 FROM wl w WHERE w.bundle_id = p.bundle_id AND w.kind = p.owner_kind
                          AND w.namespace = p.namespace AND w.name = p.owner_name))
),
-- kubeadm's imageRepository: `kubeadm upgrade` / `join` pull the control plane from it.
kubeadm_cfg AS (
    SELECT bundle_id, 'ConfigMap' AS kind, namespace, name,
        regexp_extract(doc->>'$.data.ClusterConfiguration', 'imageRepository:\s*"?([^"\s]+)', 1) AS repo
    FROM objects
    WHERE api_group = '' AND resource = 'configmaps' AND namespace = 'kube-system' AND name = 'kubeadm-config'
),
-- Node configuration: static pod manifests, the pause image of the runtime and the kubelet.
host_refs AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS cluster, l.bundle_id, l.node, path, trim(line) AS line,
        regexp_extract(line, '(?:^|[\s"''=:])(k8s\.gcr\.io/[A-Za-z0-9._/-]+(?::[A-Za-z0-9._-]+)?)', 1) AS image,
        CASE WHEN path LIKE '/etc/kubernetes/manifests/%' THEN 'static pod manifest'
             WHEN contains(line, 'sandbox_image') THEN 'containerd sandbox_image'
             WHEN contains(line, 'pause_image') THEN 'CRI-O pause_image'
             WHEN contains(line, 'pod-infra-container-image') THEN 'kubelet --pod-infra-container-image'
             ELSE 'configuration' END AS place,
        CASE WHEN path LIKE '/etc/kubernetes/manifests/%' THEN '静态 Pod 清单'
             WHEN contains(line, 'sandbox_image') THEN 'containerd sandbox_image'
             WHEN contains(line, 'pause_image') THEN 'CRI-O pause_image'
             WHEN contains(line, 'pod-infra-container-image') THEN 'kubelet --pod-infra-container-image'
             ELSE '配置' END AS place_zh
    FROM host_file_lines l JOIN host_nodes h ON h.bundle_id = l.bundle_id
    -- The registry itself, not a mirror path that happens to contain the name.
    WHERE regexp_matches(line, '(^|[\s"''=:])k8s\.gcr\.io/') AND NOT regexp_matches(trim(line), '^#')
      AND regexp_matches(path, '^(/etc/kubernetes/manifests/|/etc/containerd/|/etc/crio/|/var/lib/kubelet/kubeadm-flags\.env$|/etc/default/kubelet$|/etc/sysconfig/kubelet$|/etc/systemd/system/kubelet\.service|/(usr/)?lib/systemd/system/kubelet\.service|/etc/rancher/)')
)
SELECT
    lower(kind) || '/' || CASE WHEN namespace = '' THEN '' ELSE namespace || '/' END || name AS resource,
    namespace, name, NULL AS node, bundle_id,
    any_value(place) || ' uses ' || string_agg(DISTINCT image, ', ' ORDER BY image) || ' from the frozen k8s.gcr.io registry: move to '
        || string_agg(DISTINCT replace(image, 'k8s.gcr.io/', 'registry.k8s.io/'), ', ' ORDER BY replace(image, 'k8s.gcr.io/', 'registry.k8s.io/')) AS message,
    CASE any_value(place) WHEN 'pod template' THEN 'Pod 模板' WHEN 'static pod' THEN '静态 Pod ' WHEN 'pod' THEN 'Pod '
         ELSE regexp_replace(any_value(place), '^pod of (.*)$', '\1 的 Pod ') END
        || '使用了已冻结的 k8s.gcr.io 仓库中的镜像 ' || string_agg(DISTINCT image, ', ' ORDER BY image) || '：请改为 '
        || string_agg(DISTINCT replace(image, 'k8s.gcr.io/', 'registry.k8s.io/'), ', ' ORDER BY replace(image, 'k8s.gcr.io/', 'registry.k8s.io/')) AS message_zh,
    list(DISTINCT image ORDER BY image) AS evidence
FROM refs
GROUP BY bundle_id, kind, namespace, name
UNION ALL
SELECT 'configmap/kube-system/kubeadm-config', namespace, name, NULL, bundle_id,
    'kubeadm ClusterConfiguration imageRepository is k8s.gcr.io: kubeadm upgrade and join will pull the control-plane images from the frozen registry',
    'kubeadm ClusterConfiguration 的 imageRepository 为 k8s.gcr.io：kubeadm upgrade 和 join 将从这个已冻结的仓库拉取控制平面镜像',
    ['imageRepository: ' || repo]
FROM kubeadm_cfg WHERE repo = 'k8s.gcr.io'
UNION ALL
SELECT 'node/' || coalesce(node, '?'), NULL, node, node, cluster,
    'node ' || coalesce(node, '?') || ': ' || string_agg(DISTINCT place || ' ' || image || ' (' || path || ')', '; ' ORDER BY place || ' ' || image || ' (' || path || ')')
        || ' from the frozen k8s.gcr.io registry: use registry.k8s.io',
    '节点 ' || coalesce(node, '?') || '：'
        -- In the order of the English list.
        || nullif(array_to_string(list_transform(list_sort(list_distinct(list({'k': place || ' ' || image || ' (' || path || ')',
                                                                               'v': place_zh || ' ' || image || '（' || path || '）'})
                                                                          FILTER (WHERE place || ' ' || image || ' (' || path || ')' IS NOT NULL))),
                                                 lambda x: x.v), '；'), '')
        || '使用已冻结的 k8s.gcr.io 仓库：请改用 registry.k8s.io',
    list(DISTINCT path || ': ' || line)
FROM host_refs h
-- Static pods already reported through their mirror pods are not repeated.
WHERE NOT (place = 'static pod manifest' AND EXISTS (SELECT 1 FROM refs r WHERE r.bundle_id = h.cluster AND r.place = 'static pod' AND r.image = h.image))
GROUP BY cluster, bundle_id, node
ORDER BY 1
