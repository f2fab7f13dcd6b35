/* ---
id = "image-k8s-gcr-io"
severity = "medium"
faq = ["WNR-44"]
category = "images"
patterns = ["k8s\\.gcr\\.io"]
[title]
en = "Images still come from the frozen k8s.gcr.io registry"
zh = "镜像仍来自已冻结的 k8s.gcr.io 仓库"
[remediation]
en = """
`k8s.gcr.io` was frozen in April 2023 and receives no new images; it may stop serving. Move
image references to `registry.k8s.io` (same paths), e.g. `k8s.gcr.io/pause:3.2` →
`registry.k8s.io/pause:3.2`, in workloads, static pod manifests, the kubelet's
`--pod-infra-container-image` and containerd's `sandbox_image`.
```
kubectl get pods -A -o jsonpath='{range .items[*]}{.spec.containers[*].image}{"\\n"}{end}' | grep k8s.gcr.io
```
"""
zh = """
`k8s.gcr.io` 已于 2023 年 4 月冻结，不再接收新镜像，且可能停止服务。请将镜像地址改为 `registry.k8s.io`
（路径不变），例如 `k8s.gcr.io/pause:3.2` → `registry.k8s.io/pause:3.2`，包括工作负载、静态 Pod 清单、
kubelet 的 `--pod-infra-container-image` 以及 containerd 的 `sandbox_image`。
```
kubectl get pods -A -o jsonpath='{range .items[*]}{.spec.containers[*].image}{"\\n"}{end}' | grep k8s.gcr.io
```
"""
--- */
WITH refs AS (
    SELECT bundle_id, kind, namespace, workload AS name, image FROM workload_containers
    WHERE registry = 'k8s.gcr.io' AND kind <> 'ReplicaSet'
    UNION
    -- Pods without a controller (static pods, bare pods) are workloads of their own.
    SELECT c.bundle_id, 'Pod', c.namespace, c.pod, c.image
    FROM containers c JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    WHERE c.registry = 'k8s.gcr.io' AND (p.owner_kind IS NULL OR p.owner_kind = 'Node')
)
SELECT
    lower(kind) || '/' || CASE WHEN namespace = '' THEN '' ELSE namespace || '/' END || name AS resource,
    namespace, name, bundle_id,
    'uses ' || string_agg(DISTINCT image, ', ' ORDER BY image) || ' from the frozen k8s.gcr.io registry' AS message,
    list(DISTINCT image ORDER BY image) AS evidence
FROM refs
GROUP BY bundle_id, kind, namespace, name
ORDER BY namespace, name
