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
[message]
en = """\
{% if kind == 'workload' %}\
  {{ place }} uses {{ images | join(', ') }} from the frozen k8s.gcr.io registry: move to {{ moved | join(', ') }}\
  {% if finished %} ({% if place == 'pod template' %}a Job that completed{% else %}a pod that finished{% endif %}: \
nothing pulls the image again unless it is re-created){% endif %}\
  {% if mirrored and not finished %} (every node's runtime pulls k8s.gcr.io through a configured mirror, so pulls work; \
update the references when convenient){% endif %}\
{% elif kind == 'kubeadm' %}\
  kubeadm ClusterConfiguration imageRepository is k8s.gcr.io: \
kubeadm upgrade and join will pull the control-plane images from the frozen registry\
{% else %}\
  node {{ node if node is not none else '?' }}: \
{% for x in refs or [] %}{{ x.place }} {{ x.image }} ({{ x.path }}){% if not loop.last %}; {% endif %}{% endfor %} \
from the frozen k8s.gcr.io registry: use registry.k8s.io\
{% if mirrored %} (the node's runtime pulls k8s.gcr.io through a configured mirror, so pulls work){% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'workload' %}\
  {% if place == 'pod template' %}Pod 模板{% elif place == 'static pod' %}静态 Pod {% elif place == 'pod' %}Pod \
  {% elif place is startingwith('pod of ') %}{{ place[7:] }} 的 Pod {% else %}{{ place }}{% endif %}\
使用了已冻结的 k8s.gcr.io 仓库中的镜像 {{ images | join(', ') }}：请改为 {{ moved | join(', ') }}\
  {% if finished %}（{% if place == 'pod template' %}该 Job 已完成{% else %}该 Pod 已结束{% endif %}：\
除非重新创建，否则不会再拉取此镜像）{% endif %}\
  {% if mirrored and not finished %}（所有节点的容器运行时都通过已配置的镜像加速地址拉取 k8s.gcr.io，拉取正常；方便时再更新镜像地址）{% endif %}\
{% elif kind == 'kubeadm' %}\
  kubeadm ClusterConfiguration 的 imageRepository 为 k8s.gcr.io：\
kubeadm upgrade 和 join 将从这个已冻结的仓库拉取控制平面镜像\
{% else %}\
  节点 {{ node if node is not none else '?' }}：\
{% for x in refs or [] %}\
  {% if x.place == 'static pod manifest' %}静态 Pod 清单{% elif x.place == 'configuration' %}配置{% else %}{{ x.place }}{% endif %} \
{{ x.image }}（{{ x.path }}）{% if not loop.last %}；{% endif %}\
{% endfor %}\
使用已冻结的 k8s.gcr.io 仓库：请改用 registry.k8s.io\
{% if mirrored %}（该节点的容器运行时通过已配置的镜像加速地址拉取 k8s.gcr.io，拉取正常）{% endif %}\
{% endif %}"""
--- */
WITH wl AS (
    SELECT bundle_id, kind, namespace, name, owner_kind FROM workloads
),
-- Jobs that completed, like pods that finished, pull nothing again unless re-created (a Helm
-- hook Job of an old install left behind).
completed_jobs AS (
    SELECT DISTINCT bundle_id, namespace, name FROM object_conditions
    WHERE kind = 'Job' AND type = 'Complete' AND status = 'True'
),
refs AS (
    -- Top-level workloads: a Deployment's ReplicaSets and a CronJob's Jobs count through their owner
    -- (a Job or ReplicaSet without one is its own workload).
    SELECT c.bundle_id, c.kind, c.namespace, c.workload AS name, c.image, 'pod template' AS place,
        c.kind = 'Job' AND EXISTS (SELECT 1 FROM completed_jobs j WHERE j.bundle_id = c.bundle_id
                                   AND j.namespace = c.namespace AND j.name = c.workload) AS finished
    FROM workload_containers c
    JOIN wl w ON w.bundle_id = c.bundle_id AND w.kind = c.kind AND w.namespace = c.namespace AND w.name = c.workload
    WHERE c.registry = 'k8s.gcr.io'
      AND NOT (c.kind = 'ReplicaSet' AND coalesce(w.owner_kind, '') = 'Deployment')
      AND NOT (c.kind = 'Job' AND coalesce(w.owner_kind, '') = 'CronJob')
    UNION ALL
    -- Pods without a collected controller: static pods, bare pods, pods of operators' CRs.
    SELECT c.bundle_id, 'Pod', c.namespace, c.pod, c.image,
        CASE WHEN p.owner_kind = 'Node' THEN 'static pod' WHEN p.owner_kind IS NULL THEN 'pod' ELSE 'pod of ' || p.owner_kind || ' ' || p.owner_name END,
        -- A pod that succeeded or failed never starts again: a one-off pod left behind.
        coalesce(p.phase, '') IN ('Succeeded', 'Failed')
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
-- Nodes whose runtime pulls k8s.gcr.io through a mirror: containerd's hosts.toml in
-- certs.d/k8s.gcr.io or a registry.mirrors."k8s.gcr.io" section, k3s/RKE2 registries.yaml
-- (a "*" mirror covers every registry). Docker's registry-mirrors cover docker.io only.
mirror_nodes AS (
    SELECT DISTINCT coalesce(h.cluster_bundle_id, f.bundle_id) AS cluster, h.node, f.bundle_id
    FROM host_files f JOIN host_nodes h ON h.bundle_id = f.bundle_id
    WHERE (regexp_matches(f.path, '^/etc/containerd/certs\.d/k8s\.gcr\.io(:443)?/hosts\.toml$')
           AND regexp_matches(f.content, '(?m)^[ \t]*\[host\.'))
       OR (regexp_matches(f.path, '^(/etc/containerd/|/var/lib/rancher/(k3s|rke2)/agent/etc/containerd/).*\.toml$')
           AND regexp_matches(f.content, '(?m)^[ \t]*\[[^\]\n]*registry\.mirrors\."k8s\.gcr\.io"\]'))
       OR (regexp_matches(f.path, '^/etc/rancher/(k3s|rke2)/registries\.yaml$')
           AND (json_member(f.parsed->'$.mirrors', 'k8s.gcr.io') IS NOT NULL OR json_member(f.parsed->'$.mirrors', '*') IS NOT NULL))
),
-- Clusters where every node's runtime is known to pull k8s.gcr.io through a mirror: wherever a
-- workload's pods land, the frozen registry is not what they pull from.
mirrored_clusters AS (
    SELECT n.bundle_id FROM nodes n
    LEFT JOIN mirror_nodes m ON m.cluster = n.bundle_id AND lower(m.node) = lower(n.name)
    GROUP BY n.bundle_id
    HAVING count(*) > 0 AND count(*) = count(m.node)
),
-- Node configuration: static pod manifests, the pause image of the runtime and the kubelet.
host_refs AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS cluster, l.bundle_id, l.node, path, trim(line) AS line,
        regexp_extract(line, '(?:^|[\s"''=:])(k8s\.gcr\.io/[A-Za-z0-9._/-]+(?::[A-Za-z0-9._-]+)?)', 1) AS image,
        CASE WHEN path LIKE '/etc/kubernetes/manifests/%' THEN 'static pod manifest'
             WHEN contains(line, 'sandbox_image') THEN 'containerd sandbox_image'
             WHEN contains(line, 'pause_image') THEN 'CRI-O pause_image'
             WHEN contains(line, 'pod-infra-container-image') THEN 'kubelet --pod-infra-container-image'
             ELSE 'configuration' END AS place
    FROM host_file_lines l JOIN host_nodes h ON h.bundle_id = l.bundle_id
    -- The registry itself, not a mirror path that happens to contain the name.
    WHERE regexp_matches(line, '(^|[\s"''=:])k8s\.gcr\.io/') AND NOT regexp_matches(trim(line), '^#')
      AND regexp_matches(path, '^(/etc/kubernetes/manifests/|/etc/containerd/|/etc/crio/|/var/lib/kubelet/kubeadm-flags\.env$|/etc/default/kubelet$|/etc/sysconfig/kubelet$|/etc/systemd/system/kubelet\.service|/(usr/)?lib/systemd/system/kubelet\.service|/etc/rancher/)')
)
SELECT
    lower(kind) || '/' || CASE WHEN namespace = '' THEN '' ELSE namespace || '/' END || name AS resource,
    namespace, name, NULL AS node, bundle_id,
    'workload' AS kind, any_value(place) AS place, list(DISTINCT image ORDER BY image) AS images,
    list(DISTINCT replace(image, 'k8s.gcr.io/', 'registry.k8s.io/') ORDER BY replace(image, 'k8s.gcr.io/', 'registry.k8s.io/')) AS moved,
    NULL::STRUCT(place VARCHAR, image VARCHAR, path VARCHAR)[] AS refs,
    bool_and(finished) AS finished,
    bundle_id IN (SELECT bundle_id FROM mirrored_clusters) AS mirrored,
    list(DISTINCT image ORDER BY image) AS evidence,
    CASE WHEN bool_and(finished) OR bundle_id IN (SELECT bundle_id FROM mirrored_clusters) THEN 'info' ELSE 'medium' END AS severity
FROM refs
GROUP BY bundle_id, kind, namespace, name
UNION ALL
SELECT 'configmap/kube-system/kubeadm-config', namespace, name, NULL, bundle_id,
    'kubeadm', NULL, NULL, NULL, NULL, false, false,
    ['imageRepository: ' || repo], 'medium'
FROM kubeadm_cfg WHERE repo = 'k8s.gcr.io'
UNION ALL
SELECT 'node/' || coalesce(node, '?'), NULL, node, node, cluster,
    'node', NULL, NULL, NULL,
    -- Sorted as the English list reads: place, image, path.
    list(DISTINCT {'place': place, 'image': image, 'path': path} ORDER BY {'place': place, 'image': image, 'path': path})
        FILTER (WHERE image IS NOT NULL),
    false,
    EXISTS (SELECT 1 FROM mirror_nodes m WHERE m.bundle_id = h.bundle_id) AS mirrored,
    list(DISTINCT path || ': ' || line),
    CASE WHEN EXISTS (SELECT 1 FROM mirror_nodes m WHERE m.bundle_id = h.bundle_id) THEN 'info' ELSE 'medium' END
FROM host_refs h
-- Static pods already reported through their mirror pods are not repeated.
WHERE NOT (place = 'static pod manifest' AND EXISTS (SELECT 1 FROM refs r WHERE r.bundle_id = h.cluster AND r.place = 'static pod' AND r.image = h.image))
GROUP BY cluster, bundle_id, node
ORDER BY 1
