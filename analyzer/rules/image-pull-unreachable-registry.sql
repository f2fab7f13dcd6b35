/* ---
id = "image-pull-unreachable-registry"
severity = "high"
faq = ["KMD-01", "DCE-03"]
category = "images"
patterns = [
  "Failed to pull image",
  "ErrImagePull",
  "ImagePullBackOff",
  "dial tcp [0-9.:]+:443: (i/o timeout|connect: connection refused)",
  "kpanda-shell",
]
[title]
en = "Images cannot be pulled: registry unreachable or image missing"
zh = "镜像拉取失败：镜像仓库不可达或镜像不存在"
[remediation]
en = """
The node cannot pull the image. When the registry is `registry.k8s.io`, `k8s.gcr.io` or
`gcr.io` and the error is a timeout or refused connection, the site cannot reach it (common in
China and air-gapped sites): pull from a reachable mirror instead, e.g. for Karmada
`karmadactl init --kube-image-registry=registry.cn-hangzhou.aliyuncs.com/google_containers`,
or push the images to the private registry and point the workloads (or the containerd mirror
configuration) at it. For `kpanda-shell` in DCE, sync the image to the offline registry and
check the node's registry mirror settings.
```
kubectl -n <ns> describe pod <pod>          # Events: Failed to pull image ...
crictl pull <image>                          # on the node, to see the runtime's own error
```
"""
zh = """
节点无法拉取镜像。若镜像仓库为 `registry.k8s.io`、`k8s.gcr.io` 或 `gcr.io` 且报错为超时或连接被拒绝，
说明当前环境无法访问该仓库（国内及离线环境常见）：改用可访问的镜像源，例如 Karmada 可使用
`karmadactl init --kube-image-registry=registry.cn-hangzhou.aliyuncs.com/google_containers`，
或将镜像同步到私有仓库并修改工作负载（或 containerd 镜像加速配置）。DCE 中 `kpanda-shell` 镜像拉取失败时，
请将镜像同步到离线仓库并检查节点的仓库配置。
```
kubectl -n <ns> describe pod <pod>          # Events: Failed to pull image ...
crictl pull <image>                          # 在节点上查看运行时报错
```
"""
--- */
WITH waiting AS (
    SELECT bundle_id, namespace, pod, node, name AS container, image, registry, state_reason, state_message
    FROM containers
    WHERE state_reason IN ('ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull')
),
pull_events AS (
    SELECT bundle_id, namespace, object_name AS pod,
        list(DISTINCT message ORDER BY message)[1:3] AS messages, sum(count) AS n
    FROM events
    WHERE object_kind = 'Pod'
      AND (reason IN ('Failed', 'ErrImagePull', 'BackOff') AND (message LIKE '%ailed to pull image%' OR message LIKE '%Back-off pulling image%' OR message LIKE '%ErrImagePull%'))
    GROUP BY ALL
)
SELECT
    'pod/' || w.namespace || '/' || w.pod AS resource,
    w.namespace, w.pod AS name, w.node, w.container, w.bundle_id,
    'cannot pull ' || w.image || ' from ' || w.registry || ' (' || w.state_reason || ')'
        || CASE WHEN w.registry IN ('registry.k8s.io', 'k8s.gcr.io', 'gcr.io') THEN '; registry often unreachable: use a mirror' ELSE '' END
        || CASE WHEN w.image LIKE '%kpanda-shell%' THEN '; kpanda-shell image (DCE)' ELSE '' END AS message,
    list_concat(
        ['waiting: ' || w.state_reason || coalesce(': ' || w.state_message, '')],
        coalesce(e.messages, [])) AS evidence
FROM waiting w
LEFT JOIN pull_events e USING (bundle_id, namespace, pod)
ORDER BY w.namespace, w.pod, w.container
