/* ---
id = "kubelet-port-unreachable-node-ip"
severity = "medium"
faq = ["KADM-12"]
category = "network"
patterns = [
  "dial tcp [0-9a-f.:\\[\\]]+:10250: (getsockopt|connect): no route to host",
  "Get \"?https://[0-9a-f.:\\[\\]]+:10250/containerLogs/",
  "no route to host",
]
# metrics-server scrapes every kubelet each minute and the API server fails every
# `kubectl logs/exec`: an unreachable kubelet port shows several times within hours; one
# blip (a node rebooting) does not make it.
recent = "6h"
min_count = 3
[title]
en = "Control plane cannot reach the kubelet port 10250 (no route to host): the node IP is not routable"
zh = "控制平面无法访问 kubelet 10250 端口 (no route to host)：节点 IP 不可路由"
[remediation]
en = """
`kubectl logs`, `kubectl exec` and `kubectl run` fail with
`Error from server: Get https://10.19.0.41:10250/containerLogs/...: dial tcp 10.19.0.41:10250: getsockopt: no route to host`
while the rest of the cluster works: the IP the kubelet registered as the node's `InternalIP`
cannot be reached from the control plane, often because of the machine provider's network
policy. On DigitalOcean, `eth0` carries both the public IP and a private "anchor" IP for
floating IPs, and the kubelet may pick the anchor IP. Check with `ip addr show` (not `ifconfig`,
which hides alias addresses) or
`curl http://169.254.169.254/metadata/v1/interfaces/public/0/anchor_ipv4/address`.
Tell the kubelet which IP to use with `--node-ip` (kubeadm `NodeRegistrationOptions.KubeletExtraArgs`,
or `KUBELET_EXTRA_ARGS` in `/etc/default/kubelet`), then restart it:
```
systemctl daemon-reload
systemctl restart kubelet
```
"""
zh = """
`kubectl logs`、`kubectl exec` 和 `kubectl run` 报
`Error from server: Get https://10.19.0.41:10250/containerLogs/...: dial tcp 10.19.0.41:10250: getsockopt: no route to host`，
而集群其他功能正常：kubelet 注册为节点 `InternalIP` 的地址无法从控制平面访问，可能是机器提供商的网络策略所致。
DigitalOcean 会在 `eth0` 上同时分配公网 IP 和一个用作浮动 IP 锚点的私有 IP，kubelet 可能选择后者。
请使用 `ip addr show`（而不是不显示别名 IP 的 `ifconfig`）检查，或执行
`curl http://169.254.169.254/metadata/v1/interfaces/public/0/anchor_ipv4/address`。
通过 `--node-ip` 告诉 kubelet 使用哪个 IP（kubeadm `NodeRegistrationOptions` 的 `KubeletExtraArgs`，
或 `/etc/default/kubelet` 中的 `KUBELET_EXTRA_ARGS`），然后重启 kubelet：
```
systemctl daemon-reload
systemctl restart kubelet
```
"""
[message]
en = """\
{{ errors }} "dial tcp {{ ip if ip else '?' }}:10250: ... no route to host" errors (\
{% for s in srcs %}\
  {% if s.kind == 'collection' %}collection gap {{ s.name }}{% elif s.kind == 'event' %}event {{ s.name }}\
  {% elif s.name is none %}log{% else %}{{ s.kind }} {{ s.name }}{% endif %}\
  {% if not loop.last %}, {% endif %}\
{% endfor %})\
{% if node is not none and ready %}: node {{ node }} registered {{ ip }} as its {{ type }}, \
which the control plane cannot route to (the node is Ready: its kubelet reaches the API server, not the other way)\
{% elif node is not none %}: node {{ node }} registered {{ ip }} as its {{ type }}, \
but the node is NotReady: it is down or cut off, not only its kubelet port\
{% else %}: no node has this address now (a removed or re-addressed node){% endif %}\
{% if others is not none %}; its other addresses: {{ others }}{% endif %}"""
zh = """\
{{ errors }} 条 "dial tcp {{ ip if ip else '?' }}:10250: ... no route to host" 错误（\
{% for s in srcs %}\
  {% if s.kind == 'collection' %}采集缺失 {{ s.name }}{% elif s.kind == 'event' %}事件 {{ s.name }}\
  {% elif s.name is none %}日志{% else %}{{ s.kind }} {{ s.name }}{% endif %}\
  {% if not loop.last %}, {% endif %}\
{% endfor %}）\
{% if node is not none and ready %}：节点 {{ node }} 将 {{ ip }} 注册为其 {{ type }}，\
而控制平面无法路由到该地址（节点 Ready：kubelet 能访问 API Server，反之不行）\
{% elif node is not none %}：节点 {{ node }} 将 {{ ip }} 注册为其 {{ type }}，\
但该节点处于 NotReady：节点已宕机或失联，而不只是 kubelet 端口不可达\
{% else %}：目前没有节点使用该地址（节点已删除或更换了地址）{% endif %}\
{% if others is not none %}；该节点的其他地址：{{ others }}{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
hits AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS bundle_id,
        -- Kinds sort as the English texts start: collection (gap), container, event, host, log, node.
        CASE WHEN l.source IS NULL OR coalesce(l.service, l.namespace || '/' || l.pod) IS NULL THEN {'kind': 'log', 'name': NULL}
             ELSE {'kind': l.source, 'name': coalesce(l.service, l.namespace || '/' || l.pod)} END AS src,
        l.line AS text, l.ts, l.age, 1 AS n, false AS during_collection
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE contains(l.line, ':10250') AND contains(l.line, 'no route to host')
    UNION ALL
    SELECT e.bundle_id, {'kind': 'event', 'name': coalesce(e.reason, '')}, e.message,
        coalesce(e.last_seen, e.first_seen)::TIMESTAMPTZ, b.collected_at - coalesce(e.last_seen, e.first_seen), e.count, false
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, ':10250') AND contains(e.message, 'no route to host')
    UNION ALL
    -- The collector itself could not reach the kubelet: happening at collection time.
    SELECT bundle_id, {'kind': 'collection', 'name': location}, detail, NULL, NULL, 1, true FROM gaps
    WHERE contains(coalesce(detail, ''), ':10250') AND contains(detail, 'no route to host')
),
by_ip AS (
    SELECT bundle_id, regexp_extract(text, 'dial tcp \[?([0-9a-fA-F.:]+?)\]?:10250', 1) AS ip,
        sum(n) AS n,
        sum(n) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        bool_or(during_collection) AS during_collection,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT src ORDER BY src) AS srcs,
        list(text ORDER BY ts DESC NULLS FIRST)[1:3] AS lines
    FROM hits GROUP BY 1, 2
),
j AS (
    SELECT b.*, a.node, a.type, n.ready,
        (SELECT string_agg(x.type || ' ' || x.address, ', ' ORDER BY x.type)
         FROM node_addresses x WHERE x.bundle_id = a.bundle_id AND x.node = a.node AND x.address <> b.ip AND x.type <> 'Hostname') AS others
    FROM by_ip b
    LEFT JOIN node_addresses a ON a.bundle_id = b.bundle_id AND a.address = b.ip AND a.type <> 'Hostname'
    LEFT JOIN nodes n ON n.bundle_id = a.bundle_id AND n.name = a.node
)
SELECT
    coalesce('node/' || node, 'ip/' || nullif(ip, ''), 'cluster') AS resource,
    node, bundle_id,
    n AS errors, ip, srcs, ready, type, others,
    lines AS evidence,
    -- The FAQ's case: the node is Ready (the kubelet reaches the API server) and the API
    -- server cannot reach the kubelet. A NotReady node is down (another rule's finding); an
    -- address no node has is history.
    CASE WHEN node IS NOT NULL AND ready THEN 'medium' ELSE 'info' END AS severity,
    first_seen, last_seen,
    -- A collection gap is failing at collection time: not judged by log times.
    CASE WHEN NOT during_collection THEN coalesce(recent_n, 0) END AS recent_count,
    n AS count
FROM j
ORDER BY 1
