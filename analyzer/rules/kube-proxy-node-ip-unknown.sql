/* ---
id = "kube-proxy-node-ip-unknown"
severity = "high"
faq = ["KADM-16"]
category = "network"
patterns = [
  "Failed to retrieve node IP: host IP unknown; known addresses: \\[\\]",
  "\"Failed to retrieve node IPs\" err=\"host IP unknown",
  "Failed to retrieve node IP",
  "invalid nodeIP, initializing kube-proxy with 127\\.0\\.0\\.1 as nodeIP",
  "Can't determine this node's IP, assuming (127\\.0\\.0\\.1|loopback)",
  "node\\.cloudprovider\\.kubernetes\\.io/uninitialized",
]
references = ["https://github.com/kubernetes/kubeadm/issues/1027"]
# kube-proxy decides its node IP once, at start, and keeps it while it runs: the lines of the
# running instance's log stay true until it restarts, however old they are.
recent = "30d"
[title]
en = "kube-proxy started before the cloud controller manager set the node's IP"
zh = "kube-proxy 在云控制管理器初始化节点地址之前就被调度"
[remediation]
en = """
In cloud setups kube-proxy can be scheduled on a new node before the cloud controller manager
has initialised the node's addresses. kube-proxy then cannot find the node IP
(`server.go:610] Failed to retrieve node IP: host IP unknown; known addresses: []`,
`proxier.go:340] invalid nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP`) and the
proxying of load-balanced Services suffers. Check that the cloud controller manager runs and
removes the `node.cloudprovider.kubernetes.io/uninitialized` taint, then restart the kube-proxy
pods on the affected nodes. A known workaround is to let kube-proxy run on control-plane nodes
regardless of their conditions and keep it off other nodes until their initial guarding
conditions are gone:
```
kubectl -n kube-system patch ds kube-proxy -p='{ "spec": { "template": { "spec": { "tolerations": [ { "key": "CriticalAddonsOnly", "operator": "Exists" }, { "effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane" } ] } } } }'
kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=<node>
```
"""
zh = """
在云环境中，kube-proxy 可能在云控制管理器完成节点地址初始化之前就被调度到新节点上，导致 kube-proxy 无法获取节点 IP
（`server.go:610] Failed to retrieve node IP: host IP unknown; known addresses: []`、
`proxier.go:340] invalid nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP`），并对负载均衡的代理功能产生连锁反应。
请确认云控制管理器正常运行并移除了 `node.cloudprovider.kubernetes.io/uninitialized` 污点，然后重启受影响节点上的 kube-proxy Pod。
一种已知的解决方案是修补 kube-proxy DaemonSet，允许它在控制平面节点上调度（无论其状况如何），并在其他节点的初始保护条件消除之前不调度到这些节点：
```
kubectl -n kube-system patch ds kube-proxy -p='{ "spec": { "template": { "spec": { "tolerations": [ { "key": "CriticalAddonsOnly", "operator": "Exists" }, { "effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane" } ] } } } }'
kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=<节点名>
```
"""
[message]
en = """\
{% if kind == 'proxy' %}\
  kube-proxy on node {{ node if node is not none else '?' }} could not retrieve the node IP ({{ lines_n }} log lines)\
  {% if fallback %} and proxies with 127.0.0.1{% else %} and has not logged finding it since{% endif %}\
  {% if minutes is not none %}; node still tainted node.cloudprovider.kubernetes.io/uninitialized ({{ minutes }} minutes after joining){% endif %}\
  {% if initialised %}; the node has since been initialised: restart this kube-proxy pod{% endif %}\
{% else %}\
  node {{ node }} still carries node.cloudprovider.kubernetes.io/uninitialized {{ minutes }} minutes after joining: \
the cloud controller manager has not initialised it\
  {% if proxy_pod is not none %}; kube-proxy pod {{ proxy_pod }} already runs there and may have no node IP{% endif %}\
  {% if no_ip %}; the node has no InternalIP yet{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'proxy' %}\
  节点 {{ node if node is not none else '?' }} 上的 kube-proxy 无法获取节点 IP（{{ lines_n }} 条日志）\
  {% if fallback %}，以 127.0.0.1 作为节点 IP 进行代理{% else %}，此后也未记录成功获取{% endif %}\
  {% if minutes is not none %}；节点仍带有 node.cloudprovider.kubernetes.io/uninitialized 污点（加入后已 {{ minutes }} 分钟）{% endif %}\
  {% if initialised %}；该节点此后已完成初始化：请重启此 kube-proxy Pod{% endif %}\
{% else %}\
  节点 {{ node }} 加入 {{ minutes }} 分钟后仍带有 node.cloudprovider.kubernetes.io/uninitialized 污点：\
云控制管理器尚未完成其初始化\
  {% if proxy_pod is not none %}；kube-proxy Pod {{ proxy_pod }} 已在该节点上运行，可能没有节点 IP{% endif %}\
  {% if no_ip %}；该节点尚无 InternalIP{% endif %}\
{% endif %}"""
[thresholds]
# A node normally loses the uninitialized taint within minutes of joining.
uninitialized_taint_minutes = 10
--- */
-- The running kube-proxy's own log (not the previous instance's): the node IP it settled on at
-- start. Old releases log "Failed to retrieve node IP: ..." once and fall back to 127.0.0.1
-- ("invalid nodeIP ..."); newer ones retry ("Failed to retrieve node IPs") and either log
-- "Successfully retrieved node IP(s)" or give up ("Can't determine this node's IP, assuming
-- loopback"). 1.17-1.20 write that line in lower case ("can't determine this node's IP, assuming
-- 127.0.0.1"), alone when the Node lookup itself failed ("Failed to retrieve node info").
WITH proxy_lines AS (
    SELECT bundle_id, node, namespace, pod, container, line, line_no, ts, age,
        CASE WHEN contains(line, 'Successfully retrieved node IP') THEN 'ok'
             WHEN contains(line, 'invalid nodeIP, initializing kube-proxy with 127.0.0.1')
               OR regexp_matches(line, 'can''t determine this node''s IP, assuming (127\.0\.0\.1|loopback)', 'i')
               OR regexp_matches(line, 'Failed to retrieve node IP: ') THEN 'fallback'
             ELSE 'retry' END AS kind
    FROM log_lines
    WHERE source = 'container' AND NOT previous
      AND (pod LIKE 'kube-proxy%' OR container = 'kube-proxy')
      AND (contains(line, 'Failed to retrieve node IP')
           OR contains(line, 'Successfully retrieved node IP')
           OR contains(line, 'invalid nodeIP, initializing kube-proxy with 127.0.0.1')
           OR regexp_matches(line, 'can''t determine this node''s IP, assuming (127\.0\.0\.1|loopback)', 'i'))
),
-- Failures after the last success of the same log: a retry that then found the IP is fine.
proxy_logs AS (
    SELECT f.bundle_id, f.node, f.namespace, f.pod, count(*) AS n,
        count(*) FILTER (WHERE in_window(f.age, ${recent})) AS recent_count,
        min(f.ts) AS first_seen, max(f.ts) AS last_seen,
        bool_or(f.kind = 'fallback') AS fallback,
        list(DISTINCT f.line)[1:2] AS lines
    FROM proxy_lines f
    WHERE f.kind <> 'ok'
      AND NOT EXISTS (SELECT 1 FROM proxy_lines s WHERE s.kind = 'ok' AND s.bundle_id = f.bundle_id
                      AND s.namespace = f.namespace AND s.pod = f.pod AND s.container = f.container AND s.line_no > f.line_no)
    GROUP BY ALL
),
uninit AS (
    SELECT t.bundle_id, t.node,
        days_between(n.created_at, b.collected_at) * 1440 AS minutes, n.internal_ip,
        t.key || coalesce('=' || t.value, '') || ':' || coalesce(t.effect, '') AS taint
    FROM node_taints t
    JOIN nodes n ON n.bundle_id = t.bundle_id AND n.name = t.node
    JOIN bundles b ON b.bundle_id = t.bundle_id
    WHERE t.key = 'node.cloudprovider.kubernetes.io/uninitialized'
),
proxy_pods AS (
    SELECT bundle_id, node, name FROM pods
    WHERE namespace = 'kube-system' AND (name LIKE 'kube-proxy-%' OR (labels->>'$."k8s-app"') = 'kube-proxy')
)
SELECT
    'pod/' || l.namespace || '/' || l.pod AS resource,
    l.namespace, l.pod AS name, l.node, l.bundle_id,
    'proxy' AS kind, l.n AS lines_n, l.fallback, CAST(round(u.minutes) AS BIGINT) AS minutes, u.node IS NULL AS initialised,
    NULL AS proxy_pod, NULL::BOOLEAN AS no_ip,
    l.lines AS evidence,
    -- The running instance said it fell back to 127.0.0.1: that is the broken state itself.
    CASE WHEN l.fallback THEN 'high' ELSE 'medium' END AS severity,
    l.first_seen, l.last_seen, l.recent_count, l.n AS count
FROM proxy_logs l
LEFT JOIN uninit u ON u.bundle_id = l.bundle_id AND u.node = l.node
UNION ALL
SELECT 'node/' || u.node, NULL, NULL, u.node, u.bundle_id,
    'taint', NULL, NULL, CAST(round(u.minutes) AS BIGINT), NULL,
    (SELECT any_value(p.name) FROM proxy_pods p WHERE p.bundle_id = u.bundle_id AND p.node = u.node), u.internal_ip IS NULL,
    ['taint: ' || u.taint],
    'medium', NULL, NULL, NULL, NULL
FROM uninit u
WHERE u.minutes >= ${uninitialized_taint_minutes}
  AND NOT EXISTS (SELECT 1 FROM proxy_logs l WHERE l.bundle_id = u.bundle_id AND l.node = u.node)
ORDER BY 1
