/* ---
id = "image-pull-unreachable-registry"
severity = "high"
faq = ["KMD-01", "DCE-03"]
category = "images"
patterns = [
  "Failed to pull image",
  "ErrImagePull",
  "ImagePullBackOff",
  "PullImage .*failed",
  "failed to (get|pull) sandbox image",
  "failed to pull and unpack image",
  "dial tcp [0-9a-f.:\\[\\]]+:443: (i/o timeout|connect: connection refused|connect: no route to host|connect: network is unreachable)",
  "request canceled while waiting for connection \\(Client\\.Timeout exceeded while awaiting headers\\)",
  "(registry\\.k8s\\.io|k8s\\.gcr\\.io|gcr\\.io).*(i/o timeout|connection refused|deadline exceeded)",
  "kpanda-shell",
]
# The kubelet retries a failing pull with a back-off of at most 5 minutes, two log lines per
# attempt: a pull still failing shows at least twice in the hour before collection.
recent = "1h"
min_count = 2
# A registry served over plain HTTP (or with an untrusted certificate) that the runtime is not
# configured for makes every pull from it fail: that finding is the cause, these the symptoms.
symptom_of = ["registry-tls-not-configured-in-runtime"]
[title]
en = "Images cannot be pulled: registry unreachable or image missing"
zh = "镜像拉取失败：镜像仓库不可达或镜像不存在"
[message]
en = """\
{% if pulled_since or superseded %}could not pull {% else %}cannot pull {% endif %}{% if sandbox %}sandbox image {% endif %}\
{{ image }} from {{ registry }} ({{ how }}{% if cause is not none %}: {{ cause }}{% endif %}; seen in {{ seen }})\
{% if cause in ['connection timed out', 'connection refused', 'network unreachable', 'registry name does not resolve'] %}\
  {% if blocked %}; {{ registry }} is not reachable from this site: pull from a reachable mirror\
    {% if registry in ['registry.k8s.io', 'k8s.gcr.io', 'gcr.io'] %} (e.g. registry.aliyuncs.com/google_containers){% endif %}\
  {% else %}; the node cannot reach registry {{ registry }} (network, firewall or proxy){% endif %}\
{% elif registry in ['registry.k8s.io', 'k8s.gcr.io', 'gcr.io'] and cause is none %}\
  ; {{ registry }} is often unreachable: use a reachable mirror\
{% endif %}\
{% if 'kpanda-shell' in image %}; kpanda-shell is the DCE Helm operation base image: \
set one this cluster can pull in the cluster settings{% endif %}\
{% if pulled_since %}; pulled on the node since: no longer failing{% endif %}\
{% if superseded %}; the pod is gone and no pod or workload uses this image any more (replaced): not a current problem{% endif %}"""
zh = """\
无法从 {{ registry }} 拉取{% if sandbox %} sandbox 镜像 {% else %}镜像 {% endif %}{{ image }}\
（{% if how == 'pull failures' %}拉取失败{% else %}{{ how }}{% endif %}\
{% if cause is not none %}：\
  {% if cause == 'connection timed out' %}连接超时{% elif cause == 'connection refused' %}连接被拒绝\
  {% elif cause == 'network unreachable' %}网络不可达{% elif cause == 'registry name does not resolve' %}镜像仓库域名无法解析\
  {% elif cause == 'TLS / plain-HTTP mismatch with the registry' %}与镜像仓库的 TLS / 明文 HTTP 不匹配\
  {% elif cause == 'authentication or authorization refused' %}认证或授权被拒绝\
  {% elif cause == 'image or tag not found' %}镜像或 tag 不存在{% else %}{{ cause }}{% endif %}\
{% endif %}\
；来源：{% if seen == 'container status' %}容器状态{% elif seen == 'events' %}事件\
{% elif seen is endingwith(' log') %}{{ seen[:-4] }} 日志{% else %}{{ seen }}{% endif %}）\
{% if cause in ['connection timed out', 'connection refused', 'network unreachable', 'registry name does not resolve'] %}\
  {% if blocked %}；当前环境无法访问 {{ registry }}：请从可访问的镜像源拉取\
    {% if registry in ['registry.k8s.io', 'k8s.gcr.io', 'gcr.io'] %}（例如 registry.aliyuncs.com/google_containers）{% endif %}\
  {% else %}；节点无法访问镜像仓库 {{ registry }}（网络、防火墙或代理问题）{% endif %}\
{% elif registry in ['registry.k8s.io', 'k8s.gcr.io', 'gcr.io'] and cause is none %}\
  ；{{ registry }} 经常无法访问：请使用可访问的镜像源\
{% endif %}\
{% if 'kpanda-shell' in image %}；kpanda-shell 是 DCE Helm 操作的基础镜像：请在集群设置中改用本集群能拉取的镜像{% endif %}\
{% if pulled_since %}；此后该节点已成功拉取：不再失败{% endif %}\
{% if superseded %}；该 Pod 已不存在，且已没有 Pod 或工作负载使用该镜像（已被替换）：不是当前的问题{% endif %}"""
[thresholds]
# Registries commonly unreachable from China and air-gapped sites.
blocked_registries = "registry.k8s.io,k8s.gcr.io,gcr.io,us.gcr.io,eu.gcr.io,asia.gcr.io,ghcr.io,quay.io,docker.io,registry-1.docker.io"
[remediation]
en = """
The node cannot pull the image. When the registry is `registry.k8s.io`, `k8s.gcr.io` or
`gcr.io` and the error is a timeout or refused connection, the site cannot reach it (common in
China and air-gapped sites): pull from a reachable mirror instead, e.g. for Karmada
`karmadactl init --kube-image-registry=registry.cn-hangzhou.aliyuncs.com/google_containers`
or rewrite the manifests:
```
sed -i'' -e "s#registry.k8s.io#registry.aliyuncs.com/google_containers#g" artifacts/deploy/karmada-etcd.yaml
sed -i'' -e "s#registry.k8s.io#registry.aliyuncs.com/google_containers#g" artifacts/deploy/karmada-apiserver.yaml
sed -i'' -e "s#registry.k8s.io#registry.aliyuncs.com/google_containers#g" artifacts/deploy/kube-controller-manager.yaml
export GOPROXY=https://goproxy.cn     # when building Karmada from source in mainland China
```
A sandbox (pause) image that cannot be pulled blocks every pod of the node
(`FailedCreatePodSandBox ... failed to get sandbox image`): set containerd's `sandbox_image` (or
the kubelet's `--pod-infra-container-image`) to a reachable copy. Otherwise push the images to the private registry and point the workloads (or the containerd mirror
configuration) at it. For `kpanda-shell` in DCE (Helm installs of an offline-installed, attached
cluster), open Cluster Operations → Cluster Settings → Advanced and set the Helm operation base
image to a `kpanda-shell` image this cluster can pull.
```
kubectl -n <ns> describe pod <pod>          # Events: Failed to pull image ...
crictl pull <image>                          # on the node, to see the runtime's own error
```
"""
zh = """
节点无法拉取镜像。若镜像仓库为 `registry.k8s.io`、`k8s.gcr.io` 或 `gcr.io` 且报错为超时或连接被拒绝，
说明当前环境无法访问该仓库（国内及离线环境常见）：改用可访问的镜像源，例如 Karmada 可使用
`karmadactl init --kube-image-registry=registry.cn-hangzhou.aliyuncs.com/google_containers`，
或修改部署清单：
```
sed -i'' -e "s#registry.k8s.io#registry.aliyuncs.com/google_containers#g" artifacts/deploy/karmada-etcd.yaml
sed -i'' -e "s#registry.k8s.io#registry.aliyuncs.com/google_containers#g" artifacts/deploy/karmada-apiserver.yaml
sed -i'' -e "s#registry.k8s.io#registry.aliyuncs.com/google_containers#g" artifacts/deploy/kube-controller-manager.yaml
export GOPROXY=https://goproxy.cn     # 在中国大陆从源码构建 Karmada 时
```
sandbox（pause）镜像拉取失败会使该节点上所有 Pod 无法创建（`FailedCreatePodSandBox ... failed to get sandbox image`）：
将 containerd 的 `sandbox_image`（或 kubelet 的 `--pod-infra-container-image`）改为可拉取的镜像。也可将镜像同步到私有仓库并修改工作负载（或 containerd 镜像加速配置）。DCE 中（离线安装后接入的集群安装 Helm 应用时）`kpanda-shell` 镜像拉取失败，
请到 集群运维 → 集群设置 → 高级配置，将 Helm 操作基础镜像改为该集群能正常拉取的 `kpanda-shell` 镜像。
```
kubectl -n <ns> describe pod <pod>          # Events: Failed to pull image ...
crictl pull <image>                          # 在节点上查看运行时报错
```
"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
waiting AS (
    SELECT bundle_id, namespace, pod, node, name AS container, image, registry, state_reason, state_message
    FROM containers
    WHERE state_reason IN ('ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull')
),
-- Pull failures told by events: the container's image, or the sandbox (pause) image.
pull_events AS (
    SELECT e.bundle_id, e.namespace, e.object_name AS pod, e.source_host AS node, e.reason, e.message, e.count,
        b.collected_at - e.last_seen AS age, CAST(e.first_seen AS TIMESTAMPTZ) AS first_seen, CAST(e.last_seen AS TIMESTAMPTZ) AS last_seen,
        coalesce(nullif(regexp_extract(message, '(?:pull(?:ing)?(?: and unpack)? image|sandbox image) \\?"([^"\\]+)', 1), ''),
                 -- CRI-O: "initializing source docker://registry.k8s.io/pause:3.9: pinging container registry ..."
                 nullif(regexp_extract(message, '[Ii]nitializing source docker://([^\s"]+):\s', 1), '')) AS image,
        e.reason = 'FailedCreatePodSandBox' AS sandbox
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE e.object_kind = 'Pod'
      AND ((e.reason IN ('Failed', 'ErrImagePull', 'BackOff') AND (e.message LIKE '%ailed to pull image%' OR e.message LIKE '%Back-off pulling image%' OR e.message LIKE '%ErrImagePull%'))
           -- containerd; dockershim ("failed pulling image"); CRI-O ("initializing source docker://<pause image>").
           OR (e.reason = 'FailedCreatePodSandBox' AND regexp_matches(e.message, '(failed to (get|pull) sandbox image|failed to pull image|failed to pull and unpack image|failed pulling image|[Ii]nitializing source docker://)')))
),
pod_events AS (
    SELECT bundle_id, namespace, pod, list(DISTINCT message ORDER BY message)[1:3] AS messages, sum(count) AS n,
        min(first_seen) AS first_seen, max(last_seen) AS last_seen
    FROM pull_events GROUP BY ALL
),
-- Pods whose only trace is events: the sandbox image, or a pod no longer listed.
event_only AS (
    SELECT e.bundle_id, e.namespace, e.pod, any_value(coalesce(p.node, e.node)) AS node, e.image, bool_or(e.sandbox) AS sandbox,
        list(DISTINCT e.message ORDER BY e.message)[1:3] AS messages, sum(e.count) AS n,
        min(e.first_seen) AS first_seen, max(e.last_seen) AS last_seen, min(e.age) AS age, bool_or(p.name IS NULL) AS gone
    FROM pull_events e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.pod
    WHERE e.image IS NOT NULL AND e.reason <> 'BackOff'
      AND (p.name IS NULL OR (p.phase = 'Pending' AND NOT EXISTS (
            SELECT 1 FROM containers c WHERE c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name AND c.state = 'running')))
      AND NOT EXISTS (SELECT 1 FROM waiting w WHERE w.bundle_id = e.bundle_id AND w.namespace = e.namespace AND w.pod = e.pod AND w.image = e.image)
    GROUP BY e.bundle_id, e.namespace, e.pod, e.image
),
-- Pull failures in the kubelet / container runtime logs of the nodes.
log_hits AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node,
        coalesce(l.service, l.container) AS service, l.line, l.line_no, l.ts, l.age,
        nullif(coalesce(nullif(regexp_extract(l.line, 'PullImage \\?"([^"\\]+)\\?" failed', 1), ''),
                        nullif(regexp_extract(l.line, '(?:pull(?:ing)?(?: and unpack)? image|sandbox image) \\?"([^"\\]+)', 1), ''),
                        nullif(regexp_extract(l.line, ' image="([^"]+)"', 1), '')), '') AS image,
        nullif(regexp_extract(l.line, 'https://([^/"\\]+)/v2/', 1), '') AS url_host
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE l.source IN ('node', 'host')
      AND regexp_matches(l.line, '(PullImage \\?".*\\?" failed|PullImage from image service failed|Failed to pull image|failed to pull and unpack image|failed to get sandbox image|Error response from daemon: (Get|Head) )')
      AND NOT contains(l.line, 'Back-off pulling image')
),
-- Nodes with a failure told only by events or logs: the successes below are looked for on
-- these nodes only, not among every running container of the cluster.
candidates AS MATERIALIZED (
    SELECT DISTINCT bundle_id, node FROM event_only WHERE node IS NOT NULL
    UNION
    SELECT DISTINCT cluster, node FROM log_hits WHERE node IS NOT NULL
),
-- A later success: the kubelet pulled the image (or found it present), a container runs it on
-- the node now, or the runtime returned it. `age` is how long before collection.
pulled AS (
    SELECT e.bundle_id AS cluster, e.source_host AS node,
        regexp_replace(regexp_replace(regexp_extract(e.message, 'image \\?"([^"\\]+)', 1), '^docker\.io/library/', ''), '^docker\.io/', '') AS image,
        b.collected_at - e.last_seen AS age, false AS running
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE e.reason = 'Pulled' AND (starts_with(e.message, 'Successfully pulled image') OR starts_with(e.message, 'Container image'))
    UNION ALL
    SELECT c.bundle_id, c.node, regexp_replace(regexp_replace(c.image, '^docker\.io/library/', ''), '^docker\.io/', ''), NULL, true
    FROM containers c JOIN candidates k ON k.bundle_id = c.bundle_id AND k.node = c.node
    WHERE c.state = 'running'
    UNION ALL
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END, l.node,
        regexp_replace(regexp_replace(regexp_extract(l.line, 'PullImage \\?"([^"\\]+)\\?" returns image reference', 1), '^docker\.io/library/', ''), '^docker\.io/', ''),
        l.age, false
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE l.source IN ('node', 'host') AND contains(l.line, 'returns image reference')
),
-- A sandbox exists again on the node: a container there started after the failure.
sandbox_ok AS (
    SELECT c.bundle_id AS cluster, c.node, min(b.collected_at - k8s_ts(c.status->>'$.state.running.startedAt')) AS age
    FROM containers c JOIN bundles b ON b.bundle_id = c.bundle_id
    JOIN candidates k ON k.bundle_id = c.bundle_id AND k.node = c.node
    WHERE c.state = 'running'
    GROUP BY ALL
),
log_only AS (
    SELECT cluster AS bundle_id, node, coalesce(image, url_host) AS image, list(DISTINCT service) AS services,
        list(line ORDER BY line_no DESC)[1:3] AS lines, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen, min(age) AS age
    FROM log_hits
    WHERE coalesce(image, url_host) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM waiting w WHERE w.bundle_id = log_hits.cluster AND w.image = coalesce(log_hits.image, log_hits.url_host))
      AND NOT EXISTS (SELECT 1 FROM event_only w WHERE w.bundle_id = log_hits.cluster AND w.image = coalesce(log_hits.image, log_hits.url_host))
    GROUP BY ALL
),
findings AS (
    SELECT 'pod/' || w.namespace || '/' || w.pod AS resource, w.namespace, w.pod AS name, w.node, w.container, w.bundle_id,
        w.image, w.registry, w.state_reason AS how, false AS sandbox,
        list_concat(['waiting: ' || w.state_reason || coalesce(': ' || w.state_message, '')], coalesce(e.messages, [])) AS evidence,
        coalesce(e.n, 1) AS n, 'container status' AS seen,
        e.first_seen, e.last_seen, NULL::BIGINT AS recent_count, false AS pulled_since, false AS superseded, NULL AS sev
    FROM waiting w LEFT JOIN pod_events e USING (bundle_id, namespace, pod)
    UNION ALL
    SELECT 'pod/' || namespace || '/' || pod, namespace, pod, node, NULL, bundle_id,
        image, image_registry(image), CASE WHEN sandbox THEN 'FailedCreatePodSandBox' ELSE 'Failed' END, sandbox,
        messages, n, 'events', first_seen, last_seen, NULL, pulled_since, superseded,
        -- A pod still Pending on it is the impact; a failure that stopped, or a pod gone, less so;
        -- a pod gone whose image nothing uses any more was replaced (the workload points elsewhere).
        CASE WHEN pulled_since OR superseded OR NOT in_window(age, ${recent}) THEN 'info' WHEN gone THEN 'medium' END
    FROM (
        SELECT x.*,
            -- The pod is gone, and no pod of the cluster runs or waits for its image, nor does a
            -- workload that wants pods (a CronJob, or replicas above 0): the failing image was
            -- replaced (a fixed tag, a mirror). Only when the cluster's pods were collected.
            coalesce(x.gone AND NOT x.sandbox
                AND EXISTS (SELECT 1 FROM pods ap WHERE ap.bundle_id = x.bundle_id)
                AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.bundle_id = x.bundle_id
                    AND regexp_replace(regexp_replace(c.image, '^docker\.io/library/', ''), '^docker\.io/', '')
                        = regexp_replace(regexp_replace(x.image, '^docker\.io/library/', ''), '^docker\.io/', ''))
                AND NOT EXISTS (SELECT 1 FROM workload_containers wc JOIN workloads w
                        ON w.bundle_id = wc.bundle_id AND w.kind = wc.kind AND w.namespace = wc.namespace AND w.name = wc.workload
                    WHERE wc.bundle_id = x.bundle_id AND (w.kind = 'CronJob' OR coalesce(w.desired, 1) > 0)
                    AND regexp_replace(regexp_replace(wc.image, '^docker\.io/library/', ''), '^docker\.io/', '')
                        = regexp_replace(regexp_replace(x.image, '^docker\.io/library/', ''), '^docker\.io/', '')), false) AS superseded,
            CASE WHEN x.sandbox THEN EXISTS (SELECT 1 FROM sandbox_ok s WHERE s.cluster = x.bundle_id AND s.node = x.node AND s.age < x.age)
                 ELSE EXISTS (SELECT 1 FROM pulled pl WHERE pl.cluster = x.bundle_id AND pl.node = x.node AND (pl.running OR pl.age <= x.age)
                              AND pl.image = regexp_replace(regexp_replace(x.image, '^docker\.io/library/', ''), '^docker\.io/', '')) END AS pulled_since
        FROM event_only x
    )
    UNION ALL
    SELECT 'node/' || node, NULL, NULL, node, NULL, bundle_id,
        image, CASE WHEN contains(image, '/') OR contains(image, ':') THEN image_registry(image) ELSE image END,
        'pull failures', false, lines, n, array_to_string(services, '/') || ' log',
        first_seen, last_seen, n_recent, pulled_since, false,
        CASE WHEN pulled_since THEN 'info' ELSE 'medium' END
    FROM (
        SELECT x.*,
            EXISTS (SELECT 1 FROM pulled pl WHERE pl.cluster = x.bundle_id AND pl.node = x.node AND (pl.running OR pl.age <= x.age)
                    AND pl.image = regexp_replace(regexp_replace(x.image, '^docker\.io/library/', ''), '^docker\.io/', '')) AS pulled_since
        FROM log_only x
    )
),
classified AS (
    SELECT f.*,
        array_to_string(f.evidence, ' ') AS txt
    FROM findings f
),
causes AS (
    SELECT c.*,
        CASE WHEN regexp_matches(txt, '(i/o timeout|deadline exceeded|Client\.Timeout exceeded|TLS handshake timeout|net/http: request canceled)') THEN 'connection timed out'
             WHEN contains(txt, 'connection refused') THEN 'connection refused'
             WHEN regexp_matches(txt, '(no route to host|network is unreachable)') THEN 'network unreachable'
             WHEN regexp_matches(txt, '(no such host|server misbehaving|Temporary failure in name resolution)') THEN 'registry name does not resolve'
             WHEN regexp_matches(txt, '(HTTP response to HTTPS client|x509:|tls: )') THEN 'TLS / plain-HTTP mismatch with the registry'
             WHEN regexp_matches(txt, '(?i)(unauthorized|authentication required|denied|403 Forbidden|401)') THEN 'authentication or authorization refused'
             WHEN regexp_matches(txt, '(?i)(not found|manifest unknown|NotFound)') THEN 'image or tag not found'
             ELSE NULL END AS cause
    FROM classified c
)
SELECT resource, namespace, name, node, container, bundle_id,
    pulled_since, superseded, sandbox, image, registry, how, cause, seen,
    list_contains(string_split(${blocked_registries}, ','), registry) AS blocked,
    evidence,
    n AS count, first_seen, last_seen, recent_count,
    sev AS severity,
    -- A symptom of registry-tls-not-configured-in-runtime only for that registry.
    'registry ' || registry AS symptom_key
FROM causes
ORDER BY resource, container
