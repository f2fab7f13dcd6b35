/* ---
id = "karmada-cluster-stale-ready"
severity = "high"
faq = ["KMD-02"]
category = "multicluster"
# Health checks and syncs run every few seconds: two current failures in an hour.
recent = "1h"
min_count = 2
patterns = [
  "Failed to do cluster health check for cluster",
  "Failed to get Kubernetes version for Cluster",
  "Failed to sync cache for cluster",
  "cluster is not reachable",
  "ClusterNotReachable",
]
[title]
en = "Karmada member cluster reported Ready while it cannot be reached"
zh = "Karmada 成员集群显示就绪，但实际已无法访问"
[message]
en = """\
member cluster {{ name }} ({{ sync_mode }} mode{% if endpoint is not none %}, {{ endpoint }}{% endif %}) is Ready\
{% if ready_since is not none %} since {{ ready_since }}{% endif %} but is not reachable: \
{% for s in signs %}\
  {% if s.kind == 'Work' %}Work objects in karmada-es-{{ name }} fail to apply\
  {% elif s.kind == 'collection' %}collection errors name it\
  {% elif s.kind == 'component' %}karmada component logs ({{ s.who }}) fail to reach it\
  {% else %}lease karmada-cluster/{{ name }} not renewed for {{ s.minutes }} minutes{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
成员集群 {{ name }}（{{ sync_mode }} 模式{% if endpoint is not none %}，{{ endpoint }}{% endif %}）\
{% if ready_since is not none %}自 {{ ready_since }} 起{% endif %}处于 Ready 状态，但无法访问：\
{% for s in signs %}\
  {% if s.kind == 'Work' %}karmada-es-{{ name }} 中的 Work 对象应用失败\
  {% elif s.kind == 'collection' %}采集错误中提到了该集群\
  {% elif s.kind == 'component' %}Karmada 组件日志（{{ s.who }}）显示无法访问该集群\
  {% else %}Lease karmada-cluster/{{ name }} 已有 {{ s.minutes }} 分钟未续约{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
[thresholds]
# A pull-mode cluster lease renewed longer ago than this is stale (lease duration is 40s by default).
stale_lease_minutes = 5
[remediation]
en = """
Karmada still shows the member cluster `Ready` although the control plane can no longer reach
it: a firewall put between Karmada and a Push-mode member does not close the TCP connection that
already exists, so health checks keep succeeding over it and the status never turns to failed.
Close the existing connection on the node running the member cluster's kube-apiserver
(`ens192` is the interface the member uses to talk to Karmada), then watch the status change:
```
tcpkill -9 -i ens192 src host ${KARMADA_APISERVER_IP} and dst port ${MEMBER_CLUTER_APISERVER_IP}
kubectl --kubeconfig karmada-apiserver.config get clusters
kubectl --kubeconfig karmada-apiserver.config -n karmada-cluster get lease
```
For Pull-mode clusters check the `karmada-agent` in the member cluster: its lease in the
`karmada-cluster` namespace must be renewed every few seconds.
"""
zh = """
Karmada 仍显示成员集群为 `Ready`，但控制面已无法访问该集群：在 Karmada 与推送（Push）模式成员集群之间开启防火墙后，
防火墙不会关闭已存在的 TCP 连接，健康检查沿用该连接继续成功，集群状态因此一直不会变为失败。
登录成员集群 apiserver 所在节点，用 `tcpkill` 关闭该 TCP 连接（`ens192` 为成员集群与 Karmada 通信的网卡），再观察状态变化：
```
tcpkill -9 -i ens192 src host ${KARMADA_APISERVER_IP} and dst port ${MEMBER_CLUTER_APISERVER_IP}
kubectl --kubeconfig karmada-apiserver.config get clusters
kubectl --kubeconfig karmada-apiserver.config -n karmada-cluster get lease
```
拉取（Pull）模式的集群请检查成员集群中的 `karmada-agent`：其在 `karmada-cluster` 命名空间中的 Lease 应每隔几秒续约一次。
"""
--- */
WITH clusters AS (
    SELECT o.bundle_id, o.name,
        coalesce(o.doc->>'$.spec.syncMode', 'Push') AS sync_mode,
        (o.doc->>'$.spec.apiEndpoint') AS endpoint,
        nullif(regexp_extract(coalesce(o.doc->>'$.spec.apiEndpoint', ''), '^[a-z]+://([^/:]+)', 1), '') AS endpoint_host,
        c.last_transition,
        '(^|[^a-z0-9.-])' || regex_escape(o.name) || '([^a-z0-9-]|$)' AS name_re
    FROM objects o
    JOIN object_conditions c ON c.bundle_id = o.bundle_id AND c.api_group = o.api_group AND c.resource = o.resource
        AND c.name = o.name AND c.type = 'Ready'
    WHERE o.api_group = 'cluster.karmada.io' AND o.resource = 'clusters' AND c.status = 'True'
),
-- Pull mode: the agent renews a Lease named after the cluster in karmada-cluster.
leases AS (
    SELECT l.bundle_id, l.name, k8s_ts(l.doc->>'$.spec.renewTime') AS renewed,
        days_between(k8s_ts(l.doc->>'$.spec.renewTime'), b.collected_at) * 1440 AS age_minutes
    FROM objects l JOIN bundles b USING (bundle_id)
    WHERE l.api_group = 'coordination.k8s.io' AND l.resource = 'leases' AND l.namespace = 'karmada-cluster'
),
component_errors AS (
    SELECT bundle_id, coalesce(pod, service, '?') AS who, line, ts, age
    FROM log_lines
    WHERE (namespace = 'karmada-system' OR pod LIKE 'karmada-%' OR container LIKE 'karmada-%')
      AND (regexp_matches(line, '(Failed to do cluster health check for cluster|Failed to get Kubernetes version for Cluster|Failed to sync cache for cluster|Failed to get any APIs installed in Cluster|Failed to create a ClusterClient|Failed to build dynamic cluster client)')
           OR (regexp_matches(line, '(?i)(cluster|member)')
               AND regexp_matches(line, '(i/o timeout|connect: connection refused|no route to host|network is unreachable|context deadline exceeded|Client\.Timeout exceeded|TLS handshake timeout|connection reset by peer|http2: client connection lost)')))
),
signals AS (
    -- Kinds sort as the English texts do: Work, collection, component, lease.
    SELECT c.bundle_id, c.name, {'kind': 'lease', 'who': NULL, 'minutes': CAST(round(l.age_minutes) AS BIGINT)} AS what,
        'renewTime: ' || strftime(l.renewed, '%Y-%m-%dT%H:%M:%SZ') AS line,
        false AS from_logs, NULL::TIMESTAMPTZ AS ts, NULL::INTERVAL AS age
    FROM clusters c JOIN leases l ON l.bundle_id = c.bundle_id AND l.name = c.name
    WHERE c.sync_mode = 'Pull' AND l.age_minutes > ${stale_lease_minutes}
    UNION ALL
    -- karmada-controller-manager / agent / aggregated-apiserver / estimator failing to reach it.
    SELECT c.bundle_id, c.name, {'kind': 'component', 'who': g.who, 'minutes': NULL}, g.line,
        true, g.ts, g.age
    FROM clusters c JOIN component_errors g ON g.bundle_id = c.bundle_id AND regexp_matches(g.line, c.name_re)
    UNION ALL
    -- Works of the cluster's execution namespace that could not be applied for network reasons.
    SELECT c.bundle_id, c.name, {'kind': 'Work', 'who': NULL, 'minutes': NULL}, 'Work ' || w.name || ': ' || coalesce(w.message, w.reason, ''),
        false, NULL, NULL
    FROM clusters c JOIN object_conditions w ON w.bundle_id = c.bundle_id AND w.namespace = 'karmada-es-' || c.name
    WHERE w.api_group = 'work.karmada.io' AND w.resource = 'works' AND w.type = 'Applied' AND w.status = 'False'
      AND regexp_matches(coalesce(w.message, ''), '(i/o timeout|connection refused|no route to host|network is unreachable|context deadline exceeded|Client\.Timeout exceeded|TLS handshake timeout|connection reset by peer)')
    UNION ALL
    -- What the collector could not reach.
    SELECT c.bundle_id, c.name, {'kind': 'collection', 'who': NULL, 'minutes': NULL}, g.what || ' ' || g.location || ': ' || coalesce(g.detail, g.reason),
        false, NULL, NULL
    FROM clusters c JOIN gaps g ON (regexp_matches(coalesce(g.location, '') || ' ' || coalesce(g.detail, ''), c.name_re)
                                   OR (c.endpoint_host IS NOT NULL AND contains(coalesce(g.detail, '') || ' ' || coalesce(g.location, ''), c.endpoint_host)))
    WHERE g.reason IN ('timeout', 'unavailable', 'error')
)
SELECT 'cluster.karmada.io/' || c.name AS resource, c.name, c.bundle_id,
    c.sync_mode, c.endpoint, strftime(c.last_transition, '%Y-%m-%dT%H:%M:%SZ') AS ready_since,
    list(DISTINCT s.what ORDER BY s.what) AS signs,
    list(s.line ORDER BY s.line)[1:5] AS evidence,
    count(*) AS count,
    -- Objects (a stale lease, Works failing to apply, collection errors) prove it now; failing
    -- component logs alone are medium and must be current.
    CASE WHEN bool_or(NOT s.from_logs) THEN 'high' ELSE 'medium' END AS severity,
    min(s.ts) FILTER (WHERE s.from_logs) AS first_seen, max(s.ts) FILTER (WHERE s.from_logs) AS last_seen,
    CASE WHEN bool_and(s.from_logs) THEN count(*) FILTER (WHERE in_window(s.age, ${recent})) END AS recent_count
FROM clusters c JOIN signals s ON s.bundle_id = c.bundle_id AND s.name = c.name
GROUP BY c.bundle_id, c.name, c.sync_mode, c.endpoint, c.last_transition
ORDER BY 1
