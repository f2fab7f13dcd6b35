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
--- */
WITH hits AS (
    SELECT bundle_id, coalesce(source || ' ' || coalesce(service, namespace || '/' || pod), 'log') AS src,
        coalesce(source || ' ' || coalesce(service, namespace || '/' || pod), '日志') AS src_zh, line AS text
    FROM log_lines
    WHERE contains(line, ':10250') AND contains(line, 'no route to host')
    UNION ALL
    SELECT bundle_id, 'event ' || coalesce(reason, ''), '事件 ' || coalesce(reason, ''), message FROM events
    WHERE contains(message, ':10250') AND contains(message, 'no route to host')
    UNION ALL
    SELECT bundle_id, 'collection gap ' || location, '采集缺失 ' || location, detail FROM gaps
    WHERE contains(coalesce(detail, ''), ':10250') AND contains(detail, 'no route to host')
),
by_ip AS (
    SELECT regexp_extract(text, 'dial tcp \[?([0-9a-fA-F.:]+?)\]?:10250', 1) AS ip,
        any_value(bundle_id) AS bundle_id, count(*) AS n, list(DISTINCT src) AS srcs, list(DISTINCT src_zh) AS srcs_zh, list(DISTINCT text)[1:3] AS lines
    FROM hits GROUP BY 1
)
SELECT
    coalesce('node/' || a.node, 'ip/' || nullif(b.ip, ''), 'cluster') AS resource,
    a.node, b.bundle_id,
    b.n || ' "dial tcp ' || coalesce(nullif(b.ip, ''), '?') || ':10250: ... no route to host" errors ('
        || array_to_string(b.srcs, ', ') || ')'
        || CASE WHEN a.node IS NOT NULL THEN ': node ' || a.node || ' registered ' || b.ip || ' as its ' || a.type || ', which the control plane cannot route to'
                ELSE ': the kubelet address is not routable from the control plane' END
        || coalesce('; its other addresses: ' || (SELECT string_agg(x.type || ' ' || x.address, ', ' ORDER BY x.type)
                                               FROM node_addresses x WHERE x.node = a.node AND x.address <> b.ip AND x.type <> 'Hostname'), '') AS message,
    b.n || ' 条 "dial tcp ' || coalesce(nullif(b.ip, ''), '?') || ':10250: ... no route to host" 错误（'
        || array_to_string(b.srcs_zh, ', ') || '）'
        || CASE WHEN a.node IS NOT NULL THEN '：节点 ' || a.node || ' 将 ' || b.ip || ' 注册为其 ' || a.type || '，而控制平面无法路由到该地址'
                ELSE '：控制平面无法路由到 kubelet 的地址' END
        || coalesce('；该节点的其他地址：' || (SELECT string_agg(x.type || ' ' || x.address, ', ' ORDER BY x.type)
                                               FROM node_addresses x WHERE x.node = a.node AND x.address <> b.ip AND x.type <> 'Hostname'), '') AS message_zh,
    b.lines AS evidence,
    b.n AS count
FROM by_ip b
LEFT JOIN node_addresses a ON a.address = b.ip AND a.type <> 'Hostname'
ORDER BY 1
