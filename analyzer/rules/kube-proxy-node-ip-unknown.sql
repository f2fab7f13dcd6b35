/* ---
id = "kube-proxy-node-ip-unknown"
severity = "high"
faq = ["KADM-16"]
category = "network"
patterns = [
  "Failed to retrieve node IP: host IP unknown; known addresses: \\[\\]",
  "Failed to retrieve node IP",
  "invalid nodeIP, initializing kube-proxy with 127\\.0\\.0\\.1 as nodeIP",
  "Can't determine this node's IP, assuming (127\\.0\\.0\\.1|loopback)",
  "node\\.cloudprovider\\.kubernetes\\.io/uninitialized",
]
references = ["https://github.com/kubernetes/kubeadm/issues/1027"]
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
[thresholds]
# A node normally loses the uninitialized taint within minutes of joining.
uninitialized_taint_minutes = 10
--- */
WITH proxy_logs AS (
    SELECT bundle_id, node, pod, count(*) AS n, list(DISTINCT line)[1:2] AS lines FROM log_lines
    WHERE source = 'container' AND (pod LIKE 'kube-proxy%' OR container = 'kube-proxy')
      AND (contains(line, 'Failed to retrieve node IP')
           OR contains(line, 'invalid nodeIP, initializing kube-proxy with 127.0.0.1')
           OR regexp_matches(line, 'Can''t determine this node''s IP, assuming (127\.0\.0\.1|loopback)'))
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
    WHERE namespace = 'kube-system' AND (name LIKE 'kube-proxy-%' OR labels->>'$."k8s-app"' = 'kube-proxy')
)
SELECT
    'pod/kube-system/' || l.pod AS resource,
    'kube-system' AS namespace, l.pod AS name, l.node, l.bundle_id,
    'kube-proxy on node ' || coalesce(l.node, '?') || ' could not retrieve the node IP (' || l.n || ' log lines) and proxies with 127.0.0.1'
        || coalesce('; node still tainted node.cloudprovider.kubernetes.io/uninitialized ('
                    || CAST(round(u.minutes) AS BIGINT) || ' minutes after joining)', '')
        || CASE WHEN u.node IS NULL THEN '; the node has since been initialised: restart this kube-proxy pod' ELSE '' END AS message,
    '节点 ' || coalesce(l.node, '?') || ' 上的 kube-proxy 无法获取节点 IP（' || l.n || ' 条日志），以 127.0.0.1 作为节点 IP 进行代理'
        || coalesce('；节点仍带有 node.cloudprovider.kubernetes.io/uninitialized 污点（加入后已 '
                    || CAST(round(u.minutes) AS BIGINT) || ' 分钟）', '')
        || CASE WHEN u.node IS NULL THEN '；该节点此后已完成初始化：请重启此 kube-proxy Pod' ELSE '' END AS message_zh,
    l.lines AS evidence,
    'high' AS severity
FROM proxy_logs l
LEFT JOIN uninit u ON u.node = l.node
UNION ALL
SELECT 'node/' || u.node, NULL, NULL, u.node, u.bundle_id,
    'node ' || u.node || ' still carries node.cloudprovider.kubernetes.io/uninitialized '
        || CAST(round(u.minutes) AS BIGINT) || ' minutes after joining: the cloud controller manager has not initialised it'
        || coalesce('; kube-proxy pod ' || (SELECT any_value(p.name) FROM proxy_pods p WHERE p.node = u.node) || ' already runs there and may have no node IP', '')
        || CASE WHEN u.internal_ip IS NULL THEN '; the node has no InternalIP yet' ELSE '' END,
    '节点 ' || u.node || ' 加入 ' || CAST(round(u.minutes) AS BIGINT)
        || ' 分钟后仍带有 node.cloudprovider.kubernetes.io/uninitialized 污点：云控制管理器尚未完成其初始化'
        || coalesce('；kube-proxy Pod ' || (SELECT any_value(p.name) FROM proxy_pods p WHERE p.node = u.node) || ' 已在该节点上运行，可能没有节点 IP', '')
        || CASE WHEN u.internal_ip IS NULL THEN '；该节点尚无 InternalIP' ELSE '' END,
    ['taint: ' || u.taint],
    'medium'
FROM uninit u
WHERE u.minutes >= ${uninitialized_taint_minutes}
  AND u.node NOT IN (SELECT node FROM proxy_logs WHERE node IS NOT NULL)
ORDER BY 1
