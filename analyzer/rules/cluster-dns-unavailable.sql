/* ---
id = "cluster-dns-unavailable"
severity = "high"
faq = ["WNR-22"]
category = "dns"
patterns = [
  "lookup \\S+ on [0-9.]+:53: read udp [0-9.:]+->[0-9.:]+: i/o timeout",
  "dial udp [0-9.]+:53: i/o timeout",
  ";; connection timed out; no servers could be reached",
  "lookup \\S+ on [0-9.]+:53: (server misbehaving|dial udp .*: connect: connection refused)",
]
[title]
en = "Cluster DNS (kube-dns / CoreDNS) not answering"
zh = "集群 DNS（kube-dns / CoreDNS）不可用"
[remediation]
en = """
When the cluster DNS does not answer, every service-to-service call by name fails: gateways
return 504 for all services. Check whether kube-dns answers on port 53, and whether the problem
is on **all nodes** (the DNS service itself: CoreDNS pods, their endpoints) or on **a single
node** (that node's environment: the CNI plugin such as flannel, or the underlying interface).
Ping the backend endpoints; if they do not answer, the pod network is broken. Fix: restart
CoreDNS (k3s: restart k3s), restart the node's networking, or reboot the node.
```
kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide
kubectl -n kube-system get endpoints kube-dns
# verify DNS resolution (k3s default 10.43.0.10, kubeadm 10.96.0.10; kube-dns.kube-system.svc)
nslookup wener.me 10.43.0.10
dig @10.43.0.10 wener.me
kubectl -n kube-system rollout restart deploy/coredns
systemctl restart k3s
```
"""
zh = """
集群 DNS 不响应时，所有按服务名的调用都会失败：现象是网关对所有服务返回 504。验证 kube-dns 53 端口能否解析，
并判断是 **所有节点** 都有问题（服务本身的问题：CoreDNS Pod 及其 endpoint），还是 **单个节点**（环境问题：
flannel 之类的 CNI 插件或底层网卡异常）。ping 后端 endpoint，ping 不通说明 Pod 网络异常。
解决：重启 CoreDNS（k3s 可重启 k3s）、重启网络，或重启系统。
```
kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide
kubectl -n kube-system get endpoints kube-dns
# 验证 DNS 能否解析（k3s 默认 10.43.0.10，kubeadm 默认 10.96.0.10；kube-dns.kube-system.svc）
nslookup wener.me 10.43.0.10
dig @10.43.0.10 wener.me
kubectl -n kube-system rollout restart deploy/coredns
systemctl restart k3s
```
"""
[thresholds]
min_not_ready_minutes = 5
--- */
WITH dns_svc AS (
    SELECT s.bundle_id, s.namespace, s.name, s.cluster_ip, s.selector,
        coalesce(e.ready_addresses, 0) AS ready, coalesce(e.not_ready_addresses, 0) AS not_ready, e.name IS NOT NULL AS has_endpoints
    FROM services s
    LEFT JOIN endpoints e ON e.bundle_id = s.bundle_id AND e.namespace = s.namespace AND e.name = s.name
    WHERE s.namespace = 'kube-system'
      AND (s.labels->>'$."k8s-app"' = 'kube-dns' OR s.name IN ('kube-dns', 'coredns', 'rke2-coredns-rke2-coredns'))
),
dns_pods AS (
    SELECT p.bundle_id, p.name, p.node, p.phase, p.ready,
        days_between(coalesce(k8s_ts(list_filter(p.conditions, lambda c: c.type = 'Ready')[1].lastTransitionTime), p.created_at), b.collected_at) * 1440 AS minutes,
        coalesce(list_filter(p.conditions, lambda c: c.type = 'Ready')[1].message, p.message, p.reason, '') AS why,
        (SELECT string_agg(c.name || ': ' || coalesce(c.state_reason, c.state, '?') || ' restarts ' || c.restart_count, ', ')
           FROM containers c WHERE c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name AND c.container_type = 'regular') AS states
    FROM pods p JOIN bundles b USING (bundle_id)
    WHERE p.namespace = 'kube-system' AND p.deleted_at IS NULL AND coalesce(p.phase, '') NOT IN ('Succeeded', 'Failed')
      AND (p.labels->>'$."k8s-app"' = 'kube-dns' OR p.labels->>'$."app.kubernetes.io/name"' = 'coredns'
           OR (p.name LIKE 'coredns-%' AND p.owner_kind = 'ReplicaSet'))
),
pod_summary AS (
    SELECT bundle_id, count(*) AS total, count(*) FILTER (WHERE ready) AS ready,
        list(name || ' on ' || coalesce(node, '(unscheduled)') || ': ' || phase || ', not Ready for ' || CAST(round(minutes) AS BIGINT) || ' min'
             || coalesce(' (' || states || ')', '') ORDER BY name) FILTER (WHERE NOT ready AND minutes >= ${min_not_ready_minutes}) AS stuck
    FROM dns_pods GROUP BY bundle_id
),
svc_rows AS (
    SELECT s.bundle_id, 'service/' || s.namespace || '/' || s.name AS resource, s.namespace, s.name,
        concat_ws('; ',
            CASE WHEN s.ready = 0 THEN 'cluster DNS service ' || s.namespace || '/' || s.name || ' (' || coalesce(s.cluster_ip, '?') || ') has no ready endpoints'
                || CASE WHEN s.not_ready > 0 THEN ' (' || s.not_ready || ' not ready)' ELSE '' END || ': name resolution fails on every node' END,
            CASE WHEN len(coalesce(p.stuck, [])) > 0 THEN (p.total - p.ready) || ' of ' || p.total || ' DNS pods not Ready' END) AS message,
        concat_ws('；',
            CASE WHEN s.ready = 0 THEN '集群 DNS 服务 ' || s.namespace || '/' || s.name || '（' || coalesce(s.cluster_ip, '?') || '）没有就绪的 endpoint'
                || CASE WHEN s.not_ready > 0 THEN '（' || s.not_ready || ' 个地址未就绪）' ELSE '' END || '：所有节点上的域名解析都会失败' END,
            CASE WHEN len(coalesce(p.stuck, [])) > 0 THEN p.total || ' 个 DNS Pod 中有 ' || (p.total - p.ready) || ' 个未 Ready' END) AS message_zh,
        coalesce(p.stuck, []) AS evidence,
        CASE WHEN s.ready = 0 AND (s.has_endpoints OR EXISTS (SELECT 1 FROM endpoints x WHERE x.bundle_id = s.bundle_id)) THEN 'critical' ELSE 'high' END AS severity
    FROM dns_svc s LEFT JOIN pod_summary p USING (bundle_id)
    WHERE (s.ready = 0 AND (s.has_endpoints OR EXISTS (SELECT 1 FROM endpoints x WHERE x.bundle_id = s.bundle_id)))
       OR len(coalesce(p.stuck, [])) > 0
),
dns_ips AS (
    SELECT DISTINCT cluster_ip FROM dns_svc WHERE cluster_ip IS NOT NULL AND cluster_ip <> 'None'
    UNION SELECT '10.96.0.10' UNION SELECT '10.43.0.10'
),
timeouts AS (
    SELECT l.bundle_id, l.node, l.namespace || '/' || l.pod AS pod, l.line,
        regexp_extract(l.line, '(?:on |dial udp )([0-9.]+):53', 1) AS dns_ip
    FROM log_lines l
    WHERE l.source = 'container'
      AND (regexp_matches(l.line, 'lookup \S+ on [0-9.]+:53: (read udp \S+: i/o timeout|dial udp \S+: (i/o timeout|connect: connection refused)|server misbehaving)')
           OR regexp_matches(l.line, 'dial udp [0-9.]+:53: (i/o timeout|connect: connection refused)'))
),
node_rows AS (
    SELECT any_value(t.bundle_id) AS bundle_id, 'node/' || coalesce(t.node, '?') AS resource, NULL AS namespace, t.node AS name,
        count(*) || ' DNS lookups to ' || string_agg(DISTINCT t.dns_ip, ', ') || ':53 timed out or were refused from pods on node '
            || coalesce(t.node, '(unknown)') || ' (' || count(DISTINCT t.pod) || ' pods)' AS message,
        '节点 ' || coalesce(t.node, '（未知）') || ' 上的 Pod 向 ' || string_agg(DISTINCT t.dns_ip, ', ') || ':53 发起的 '
            || count(*) || ' 次 DNS 查询超时或被拒绝（涉及 ' || count(DISTINCT t.pod) || ' 个 Pod）' AS message_zh,
        list(t.line ORDER BY t.line)[1:3] AS evidence,
        'high' AS severity
    FROM timeouts t
    WHERE t.dns_ip IN (SELECT cluster_ip FROM dns_ips)
    GROUP BY t.node
)
SELECT resource, namespace, name, NULL AS node, bundle_id, message, message_zh, evidence, severity FROM svc_rows
UNION ALL
SELECT resource, namespace, name, name, bundle_id,
    message || CASE WHEN (SELECT count(DISTINCT node) FROM timeouts) = 1 AND NOT EXISTS (SELECT 1 FROM svc_rows)
                    THEN ': only this node is affected, look at its network (CNI, interface)' ELSE '' END,
    message_zh || CASE WHEN (SELECT count(DISTINCT node) FROM timeouts) = 1 AND NOT EXISTS (SELECT 1 FROM svc_rows)
                    THEN '：只有该节点受影响，请检查其网络（CNI、网卡）' ELSE '' END,
    evidence, severity
FROM node_rows
ORDER BY 1
