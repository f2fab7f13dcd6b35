/* ---
id = "mount-volume-setup-timeout"
severity = "medium"
faq = ["WNR-23"]
category = "storage"
patterns = [
  "MountVolume\\.SetUp failed for volume \"[^\"]*\" : failed to sync (secret|configmap) cache: timed out waiting for the condition",
  "MountVolume\\.SetUp failed for volume .*(timed out waiting for the condition|context deadline exceeded)",
  "Unable to attach or mount volumes: unmounted volumes=\\[.*\\]: (timed out waiting for the condition|context deadline exceeded)",
  "timeout expired waiting for volumes to attach or mount for pod",
]
# The kubelet retries the mount every two minutes and the FailedMount event's last time
# moves with it: a mount still failing shows within the hour.
recent = "1h"
[title]
en = "Pod volumes not mounted: MountVolume.SetUp failed ... timed out waiting for the condition"
zh = "Pod 卷挂载失败：MountVolume.SetUp failed ... timed out waiting for the condition"
[remediation]
en = """
The kubelet waited for a condition before it could mount the volume (the Secret/ConfigMap
cache to sync, the volume to attach) and the wait timed out, e.g.
`MountVolume.SetUp failed for volume "config-volume" : failed to sync secret cache: timed out
waiting for the condition`. The pod stays `Pending` with `ContainersReady` False. The kubelet
retries by itself: wait, or delete the pod so it is recreated. If it does not recover, check
that the Secret/ConfigMap exists in the pod's namespace, that the kubelet can reach the API
server (node Ready, no throttling), and for attached volumes the CSI driver / attach-detach
controller.
```
kubectl -n <ns> describe pod <pod>        # Events: FailedMount
kubectl -n <ns> get pod <pod> -o yaml     # status.conditions: which one is False
kubectl -n <ns> get secret,configmap
kubectl -n <ns> delete pod <pod>
```
"""
zh = """
kubelet 在挂载卷之前需等待某个条件（Secret/ConfigMap 缓存同步、卷完成 attach），等待超时，例如
`MountVolume.SetUp failed for volume "config-volume" : failed to sync secret cache: timed out waiting for the condition`。
条件未满足，无法继续执行：Pod 停在 `Pending`，`ContainersReady` 为 False。kubelet 会自动重试：可以等待，或删除 Pod 让其重建。
若仍不恢复，检查 Pod 所在命名空间中 Secret/ConfigMap 是否存在、kubelet 能否正常访问 API Server（节点 Ready、无限流），
以及需要 attach 的卷对应的 CSI 驱动 / attach-detach 控制器。
```
kubectl -n <ns> describe pod <pod>        # Events: FailedMount
kubectl -n <ns> get pod <pod> -o yaml     # status.conditions：查看哪一项为 False
kubectl -n <ns> get secret,configmap
kubectl -n <ns> delete pod <pod>
```
"""
[message]
en = """\
volume {{ volume }} of pod {{ namespace }}/{{ name }} failed to mount {{ count }} times (timed out waiting for the condition\
{% if cache is not none %}, {{ cache }} cache not synced{% endif %}); pod is {{ phase }}{% if not ready %}, not Ready{% endif %} \
(seen in {% for w in seen or [] %}{% if w.kind == 'event' %}event {{ w.ref }}{% else %}{{ w.kind }} log {{ w.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %})"""
zh = """\
Pod {{ namespace }}/{{ name }} 的卷 {{ volume }} 挂载失败 {{ count }} 次（timed out waiting for the condition\
{% if cache is not none %}，{{ cache }} cache 未同步{% endif %}）；Pod 处于 {{ phase }}{% if not ready %}，未 Ready{% endif %}\
（见于 {% for w in seen or [] %}{% if w.kind == 'event' %}事件 {{ w.ref }}{% else %}{{ w.kind }} 日志 {{ w.ref }}{% endif %}\
{% if not loop.last %}、{% endif %}{% endfor %}）"""
--- */
WITH hits AS MATERIALIZED (
    SELECT e.bundle_id, e.object_namespace AS namespace, e.object_name AS pod, e.object_uid AS pod_uid, e.message AS line, e.count AS n,
        {'kind': 'event', 'ref': e.reason} AS what,
        coalesce(e.last_seen, e.first_seen)::TIMESTAMPTZ AS ts, b.collected_at - coalesce(e.last_seen, e.first_seen) AS age
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE object_kind = 'Pod' AND reason IN ('FailedMount', 'FailedAttachVolume')
      AND (contains(message, 'timed out waiting for the condition') OR contains(message, 'timeout expired waiting for volumes')
           OR ((contains(message, 'MountVolume.SetUp failed') OR contains(message, 'Unable to attach or mount volumes'))
               AND contains(message, 'context deadline exceeded')))
    UNION ALL
    SELECT coalesce(hn.cluster_bundle_id, l.bundle_id),
        nullif(split_part(regexp_extract(line, '\spod="([^"/]+/[^"]+)"', 1), '/', 1), ''),
        nullif(split_part(regexp_extract(line, '\spod="([^"/]+/[^"]+)"', 1), '/', 2), ''),
        coalesce(nullif(regexp_extract(line, '\(UID: \\?"([0-9a-f-]{36})', 1), ''),
                 nullif(regexp_extract(line, 'podUID="?([0-9a-f-]{36})', 1), '')),
        -- A log's kind is its source: container, node or host.
        line, 1, {'kind': source, 'ref': coalesce(service, container, '')},
        l.ts, l.age
    FROM log_lines l LEFT JOIN host_nodes hn ON hn.bundle_id = l.bundle_id
    -- "olume" is in each of the three wordings: one test for most lines (CASE keeps the order).
    WHERE CASE WHEN contains(line, 'olume')
          THEN (contains(line, 'MountVolume.SetUp failed') OR contains(line, 'Unable to attach or mount volumes')
                OR contains(line, 'timeout expired waiting for volumes'))
               AND (contains(line, 'timed out waiting for the condition') OR contains(line, 'context deadline exceeded')
                    OR contains(line, 'timeout expired waiting for volumes'))
          ELSE false END
),
-- The pods the hits name, looked up by name or UID before any join.
-- A pod whose sandbox exists has its volumes mounted: the kubelet creates the sandbox only
-- once every volume is (PodReadyToStartContainers, PodHasNetwork before 1.29, or a pod IP
-- off the host network). It may still wait in ContainerCreating, pulling a large image.
cand AS MATERIALIZED (
    SELECT * FROM (
        SELECT p.rowid AS pod_row, p.bundle_id, p.namespace, p.name, p.uid, p.node, p.phase, p.ready, p.conditions, p.host_network, p.pod_ip FROM pods p
        WHERE p.name IN (SELECT pod FROM hits) AND p.deleted_at IS NULL AND p.phase NOT IN ('Succeeded', 'Failed')
        UNION
        SELECT p.rowid AS pod_row, p.bundle_id, p.namespace, p.name, p.uid, p.node, p.phase, p.ready, p.conditions, p.host_network, p.pod_ip FROM pods p
        WHERE p.uid IN (SELECT pod_uid FROM hits) AND p.deleted_at IS NULL AND p.phase NOT IN ('Succeeded', 'Failed')
    )
    WHERE NOT pod_has_sandbox(conditions, host_network, pod_ip)
),
-- The kubelet pulls or starts a pod's containers only after its volumes are mounted: such an
-- event of the pod after a failure says the retry mounted them.
progressed AS (
    SELECT e.bundle_id, e.object_namespace AS namespace, e.object_name AS pod, max(e.last_seen)::TIMESTAMPTZ AS ts
    FROM events e
    WHERE e.object_kind = 'Pod' AND e.reason IN ('Pulling', 'Pulled', 'Created', 'Started')
      AND e.object_name IN (SELECT name FROM cand)
    GROUP BY ALL
),
-- Their containers: one waiting to be created, or one started.
cstate AS (
    SELECT c.bundle_id, c.namespace, c.pod,
        bool_or(c.state = 'waiting' AND c.state_reason IN ('ContainerCreating', 'PodInitializing')) AS creating,
        bool_or(c.state IN ('running', 'terminated')) AS started
    FROM containers c WHERE c.pod IN (SELECT name FROM cand)
    GROUP BY ALL
),
vols AS (
    SELECT p.bundle_id, p.namespace, p.name AS pod, p.node, p.phase, p.ready, p.conditions, h.line, h.n, h.what, h.ts, h.age,
        coalesce(nullif(regexp_extract(h.line, 'for volume \\?"([^"\\]+)', 1), ''),
                 nullif(regexp_extract(h.line, 'unmounted volumes=\[([^\]]*)\]', 1), ''),
                 '?') AS volume
    -- A hit names its pod by namespace and name, or by UID (kubelet lines): two equi-joins,
    -- the second for the pairs the first does not make, rather than one join on an OR that
    -- would compare every hit with every pod.
    FROM (SELECT h.line, h.n, h.what, h.ts, h.age, p.pod_row FROM hits h
          JOIN cand p ON p.bundle_id = h.bundle_id AND p.namespace = h.namespace AND p.name = h.pod
          UNION ALL
          SELECT h.line, h.n, h.what, h.ts, h.age, p.pod_row FROM hits h
          JOIN cand p ON p.bundle_id = h.bundle_id AND p.uid = h.pod_uid
          WHERE NOT coalesce(p.namespace = h.namespace AND p.name = h.pod, false)) h
    JOIN cand p ON p.pod_row = h.pod_row
    LEFT JOIN cstate c ON c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name
    LEFT JOIN progressed g ON g.bundle_id = p.bundle_id AND g.namespace = p.namespace AND g.pod = p.name
    -- Still waiting for its volumes: a container waits to be created (ContainerCreating,
    -- PodInitializing), or the pod is Pending with no container started. A pod whose
    -- containers run has its volumes mounted, whatever made it not Ready.
    WHERE (coalesce(c.creating, false) OR (p.phase = 'Pending' AND NOT coalesce(c.started, false)))
      AND NOT coalesce(g.ts >= h.ts, false)
)
SELECT
    'pod/' || namespace || '/' || pod AS resource,
    namespace, pod AS name, node, bundle_id,
    volume, phase, ready,
    CASE WHEN bool_or(contains(line, 'secret cache')) THEN 'secret'
         WHEN bool_or(contains(line, 'configmap cache')) THEN 'configmap' END AS cache,
    -- Kinds sort as their English names: container, event, host, node.
    list(DISTINCT what ORDER BY what) FILTER (WHERE what.kind IS NOT NULL AND what.ref IS NOT NULL) AS seen,
    sum(n) AS count,
    min(ts) AS first_seen, max(ts) AS last_seen,
    -- Events and kubelet lines within the hour: the mount is failing now.
    coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0) AS recent_count,
    list_concat(list(DISTINCT line ORDER BY line)[1:3],
        coalesce(list_transform(list_filter(any_value(conditions), lambda c: c.status <> 'True'),
            lambda c: 'condition ' || c.type || '=' || c.status || coalesce(' (' || c.reason || ')', '')), [])) AS evidence
FROM vols
GROUP BY bundle_id, namespace, pod, volume, node, phase, ready
ORDER BY 1, volume
