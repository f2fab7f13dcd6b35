/* ---
id = "cluster-dns-unavailable"
severity = "high"
faq = ["WNR-22"]
category = "dns"
patterns = [
  "lookup \\S+ on [0-9.]+:53: read udp [0-9.:]+->[0-9.:]+: (i/o timeout|read: connection refused)",
  "dial udp [0-9.]+:53: (i/o timeout|connect: connection refused|connect: network is unreachable)",
  ";; connection timed out; no servers could be reached",
  "lookup \\S+ on [0-9.]+:53: (server misbehaving|dial udp .*: connect: connection refused)",
  "Temporary failure in name resolution",
  "getaddrinfo EAI_AGAIN",
]
# Resolver failures are an outage only when they are current, several and from several pods;
# the DNS Service without ready endpoints (objects) is what proves it.
recent = "30m"
min_count = 2
# A kubelet clusterDNS left on an old address makes every lookup from its node time out.
symptom_of = ["cluster-dns-service-cidr-mismatch"]
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
[message]
en = """\
{% if kind == 'service' %}\
  {% if no_endpoints %}cluster DNS service {{ namespace }}/{{ name }} ({{ cluster_ip if cluster_ip is not none else '?' }}) \
has no ready endpoints{% if not_ready > 0 %} ({{ not_ready }} not ready){% endif %}: name resolution fails on every node{% endif %}\
  {% if stuck_n > 0 %}{% if no_endpoints %}; {% endif %}{{ total - pods_ready }} of {{ total }} DNS pods not Ready\
    {% if unscheduled_only %} (replicas the scheduler has not placed yet, see their FailedScheduling events; \
{{ pods_ready }} serve: a capacity matter, DNS is not affected)\
    {% elif not no_endpoints and not no_pods %} (the others still answer: DNS is degraded, not down){% endif %}{% endif %}\
{% else %}\
  {{ lookups }} DNS lookups to {% if target_ips is not none %}{{ target_ips }}:53{% else %}the cluster DNS{% endif %} \
timed out or were refused from pods on node {{ node if node is not none else '(unknown)' }} ({{ pods }} pods)\
  {% if proven %}: the cluster DNS is down (see the DNS Service finding)\
  {% elif foreign_ips %}: {{ foreign_ips | join(', ') }} is not the DNS Service address {{ svc_ips }}, \
check the kubelet clusterDNS of this node\
  {% elif recent_pods >= 1 and recent_pods <= min_pods - 1 %}: only {{ recent_pods }} pod(s) failed lately, \
too few to blame the cluster DNS (their own network or a busy resolver)\
  {% elif one_blip %}: all within {{ blip_seconds }} seconds, {{ quiet_minutes }} minutes before collection, and none since: \
one transient resolver timeout, not an outage\
  {% elif nodes_affected == 1 %}: only this node is affected, look at its network (CNI, interface){% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'service' %}\
  {% if no_endpoints %}集群 DNS 服务 {{ namespace }}/{{ name }}（{{ cluster_ip if cluster_ip is not none else '?' }}）\
没有就绪的 endpoint{% if not_ready > 0 %}（{{ not_ready }} 个地址未就绪）{% endif %}：所有节点上的域名解析都会失败{% endif %}\
  {% if stuck_n > 0 %}{% if no_endpoints %}；{% endif %}{{ total }} 个 DNS Pod 中有 {{ total - pods_ready }} 个未 Ready\
    {% if unscheduled_only %}（调度器尚未安置的副本，见其 FailedScheduling 事件；{{ pods_ready }} 个 Pod 正常应答：\
属于容量问题，DNS 未受影响）\
    {% elif not no_endpoints and not no_pods %}（其余 Pod 仍在应答：DNS 性能下降，但未中断）{% endif %}{% endif %}\
{% else %}\
  节点 {{ node if node is not none else '（未知）' }} 上的 Pod 向 \
{% if target_ips is not none %}{{ target_ips }}:53{% else %}集群 DNS{% endif %} 发起的 \
{{ lookups }} 次 DNS 查询超时或被拒绝（涉及 {{ pods }} 个 Pod）\
  {% if proven %}：集群 DNS 已不可用（见 DNS Service 的发现）\
  {% elif foreign_ips %}：{{ foreign_ips | join(', ') }} 不是 DNS Service 的地址 {{ svc_ips }}，\
请检查该节点 kubelet 的 clusterDNS\
  {% elif recent_pods >= 1 and recent_pods <= min_pods - 1 %}：近期只有 {{ recent_pods }} 个 Pod 解析失败，\
不足以说明集群 DNS 有问题（可能是其自身网络或解析器繁忙）\
  {% elif one_blip %}：均发生在 {{ blip_seconds }} 秒之内（采集前 {{ quiet_minutes }} 分钟），此后再未出现：\
一次短暂的解析超时，并非故障\
  {% elif nodes_affected == 1 %}：只有该节点受影响，请检查其网络（CNI、网卡）{% endif %}\
{% endif %}"""
[thresholds]
min_not_ready_minutes = 5
# Resolver failures from fewer pods than this on a node (with the DNS Service healthy) are one
# application's trouble, not the cluster DNS.
min_pods = 2
# Failures from all pods within this many seconds, and none in the last quiet_after_minutes
# before collection, are one transient resolver timeout (a CoreDNS restart, a dropped packet).
blip_seconds = 60
quiet_after_minutes = 5
--- */
WITH dns_svc AS (
    SELECT s.bundle_id, s.namespace, s.name, s.cluster_ip,
        coalesce(e.ready_addresses, 0) AS ready, coalesce(e.not_ready_addresses, 0) AS not_ready,
        -- Endpoints known: this Service's object, or any Endpoints collected in the bundle.
        (e.name IS NOT NULL OR EXISTS (SELECT 1 FROM endpoints x WHERE x.bundle_id = s.bundle_id)) AS endpoints_known
    FROM services s
    LEFT JOIN endpoints e ON e.bundle_id = s.bundle_id AND e.namespace = s.namespace AND e.name = s.name
    WHERE s.namespace = 'kube-system'
      AND ((s.labels->>'$."k8s-app"') = 'kube-dns' OR s.name IN ('kube-dns', 'coredns', 'rke2-coredns-rke2-coredns'))
),
dns_pods AS (
    SELECT p.bundle_id, p.namespace, p.name, p.node, p.phase, p.ready,
        days_between(coalesce(k8s_ts(list_filter(p.conditions, lambda c: c.type = 'Ready')[1].lastTransitionTime), p.created_at), b.collected_at) * 1440 AS minutes,
        (SELECT string_agg(c.name || ': ' || coalesce(c.state_reason, c.state, '?') || ' restarts ' || c.restart_count, ', ')
           FROM containers c WHERE c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name AND c.container_type = 'regular') AS states
    FROM pods p JOIN bundles b USING (bundle_id)
    WHERE p.namespace = 'kube-system' AND p.deleted_at IS NULL AND coalesce(p.phase, '') NOT IN ('Succeeded', 'Failed')
      -- (the labels' text is tested before they are parsed)
      AND (contains(CAST(p.labels AS VARCHAR), 'kube-dns') OR contains(CAST(p.labels AS VARCHAR), 'coredns') OR p.name LIKE 'coredns-%')
      AND ((p.labels->>'$."k8s-app"') = 'kube-dns' OR (p.labels->>'$."app.kubernetes.io/name"') = 'coredns'
           OR (p.name LIKE 'coredns-%' AND p.owner_kind = 'ReplicaSet'))
),
pod_summary AS (
    SELECT bundle_id, count(*) AS total, count(*) FILTER (WHERE ready) AS ready,
        list(name || ' on ' || coalesce(node, '(unscheduled)') || ': ' || phase || ', not Ready for ' || CAST(round(minutes) AS BIGINT) || ' min'
             || coalesce(' (' || states || ')', '') ORDER BY name) FILTER (WHERE NOT ready AND minutes >= ${min_not_ready_minutes}) AS stuck,
        -- Stuck pods the scheduler never placed (an extra replica a DNS autoscaler asked for, no
        -- room on the nodes): they never served.
        count(*) FILTER (WHERE NOT ready AND minutes >= ${min_not_ready_minutes} AND node IS NULL AND phase = 'Pending') AS unscheduled
    FROM dns_pods GROUP BY bundle_id
),
svc_judged AS (
    SELECT s.*, p.total, p.ready AS pods_ready, coalesce(p.stuck, []) AS stuck, coalesce(p.unscheduled, 0) AS unscheduled,
        s.endpoints_known AND s.ready = 0 AS no_endpoints,
        -- Every DNS pod not Ready for a while: no server is left even where endpoints are unknown.
        coalesce(p.total > 0 AND p.ready = 0 AND len(p.stuck) = p.total, false) AS no_pods
    FROM dns_svc s LEFT JOIN pod_summary p USING (bundle_id)
),
svc_rows AS (
    SELECT s.bundle_id, 'service/' || s.namespace || '/' || s.name AS resource, s.namespace, s.name,
        s.cluster_ip, s.no_endpoints, s.not_ready, len(s.stuck) AS stuck_n, s.total, s.pods_ready, s.no_pods,
        s.stuck AS evidence,
        -- Only unscheduled extra replicas stuck while at least two serve: DNS keeps its redundancy.
        (NOT s.no_endpoints AND NOT s.no_pods AND len(s.stuck) > 0 AND s.unscheduled = len(s.stuck)
         AND coalesce(s.pods_ready, 0) >= 2) AS unscheduled_only,
        CASE WHEN s.no_endpoints THEN 'critical' WHEN s.no_pods THEN 'high'
             WHEN NOT s.no_endpoints AND NOT s.no_pods AND len(s.stuck) > 0 AND s.unscheduled = len(s.stuck)
                  AND coalesce(s.pods_ready, 0) >= 2 THEN 'info'
             ELSE 'medium' END AS severity,
        s.no_endpoints OR s.no_pods AS outage
    FROM svc_judged s
    WHERE s.no_endpoints OR len(s.stuck) > 0
),
outage AS (
    SELECT DISTINCT bundle_id FROM svc_rows WHERE outage
),
-- The addresses pods send lookups to: the DNS Service, every kubelet's clusterDNS (a stale one
-- included), the kubeadm / k3s defaults, and NodeLocal DNSCache's link-local address (the
-- clusterDNS of its nodes, seen only in their configz).
dns_ips AS (
    SELECT DISTINCT bundle_id, cluster_ip AS ip FROM dns_svc WHERE cluster_ip IS NOT NULL AND cluster_ip <> 'None'
    UNION
    SELECT DISTINCT coalesce(h.cluster_bundle_id, k.bundle_id), unnest(from_json(k.config->'$.clusterDNS', '["VARCHAR"]'))
    FROM kubelet_configs k LEFT JOIN host_nodes h ON h.bundle_id = k.bundle_id
    WHERE json_type(k.config->'$.clusterDNS') = 'ARRAY'
    UNION
    SELECT bundle_id, unnest(['10.96.0.10', '10.43.0.10', '169.254.20.10']) FROM bundles WHERE kind = 'cluster'
),
hits AS MATERIALIZED (
    SELECT l.bundle_id, l.node, l.namespace, l.pod, l.line, l.line_no, l.ts, l.age,
        nullif(regexp_extract(l.line, '(?:on |dial udp |->)([0-9.]+):53\b', 1), '') AS dns_ip
    FROM log_lines l
    WHERE l.source = 'container'
      -- (both patterns name port 53: a cheap test first)
      AND ((contains(l.line, ':53: ')
            AND (regexp_matches(l.line, 'lookup \S+ on [0-9.]+:53: (read udp \S+: (i/o timeout|read: connection refused)|dial udp \S+: (i/o timeout|connect: (connection refused|network is unreachable))|server misbehaving)')
                 OR regexp_matches(l.line, 'dial udp [0-9.]+:53: (i/o timeout|connect: (connection refused|network is unreachable))')))
           OR contains(l.line, 'no servers could be reached')
           OR contains(l.line, 'Temporary failure in name resolution')
           OR contains(l.line, 'getaddrinfo EAI_AGAIN'))
),
timeouts AS (
    -- A line naming an address counts when it is a cluster DNS address; a line naming none
    -- (glibc, Node.js, nslookup) when its pod resolves through the cluster DNS (not host network).
    -- The DNS pods' own upstream errors are not counted.
    SELECT h.*
    FROM hits h
    LEFT JOIN pods p ON p.bundle_id = h.bundle_id AND p.namespace = h.namespace AND p.name = h.pod
    WHERE NOT (h.namespace = 'kube-system' AND (h.pod LIKE 'coredns-%' OR h.pod LIKE 'kube-dns-%'))
      AND CASE WHEN h.dns_ip IS NOT NULL
               THEN EXISTS (SELECT 1 FROM dns_ips d WHERE d.bundle_id = h.bundle_id AND d.ip = h.dns_ip)
               ELSE NOT coalesce(p.host_network, false) END
),
node_rows AS (
    SELECT t.bundle_id, 'node/' || coalesce(t.node, '?') AS resource, t.node,
        -- NULL: the lines name no address.
        string_agg(DISTINCT t.dns_ip, ', ' ORDER BY t.dns_ip) AS target_ips,
        count(*) AS n,
        count(DISTINCT t.pod) AS pods,
        count(DISTINCT t.pod) FILTER (WHERE in_window(t.age, ${recent})) AS recent_pods,
        count(*) FILTER (WHERE in_window(t.age, ${recent})) AS recent_count,
        min(t.ts) AS first_seen, max(t.ts) AS last_seen,
        list(t.line ORDER BY t.ts DESC NULLS LAST, t.line_no DESC)[1:3] AS evidence,
        t.bundle_id IN (SELECT bundle_id FROM outage) AS proven,
        -- One moment of failures, resolved since: every pod's recent failures within
        -- blip_seconds of each other, and lookups fine for quiet_after_minutes before collection.
        coalesce(date_diff('second', min(t.ts) FILTER (WHERE in_window(t.age, ${recent})),
                                     max(t.ts) FILTER (WHERE in_window(t.age, ${recent}))) <= ${blip_seconds}
                 AND min(t.age) FILTER (WHERE in_window(t.age, ${recent})) >= ${quiet_after_minutes} * INTERVAL 1 MINUTE, false) AS one_blip,
        CAST(floor(epoch(min(t.age) FILTER (WHERE in_window(t.age, ${recent}))) / 60) AS BIGINT) AS quiet_minutes,
        -- Addresses that are not the DNS Service's: a stale kubelet clusterDNS or default.
        -- (NodeLocal DNSCache's address is no stale clusterDNS.)
        list(DISTINCT t.dns_ip ORDER BY t.dns_ip) FILTER (WHERE t.dns_ip IS NOT NULL AND t.dns_ip <> '169.254.20.10'
            AND t.dns_ip NOT IN (SELECT s.cluster_ip FROM dns_svc s WHERE s.bundle_id = t.bundle_id AND s.cluster_ip IS NOT NULL)
            AND EXISTS (SELECT 1 FROM dns_svc s WHERE s.bundle_id = t.bundle_id AND s.cluster_ip IS NOT NULL)) AS foreign_ips,
        (SELECT string_agg(DISTINCT s.cluster_ip, ', ') FROM dns_svc s WHERE s.bundle_id = t.bundle_id) AS svc_ips
    FROM timeouts t
    GROUP BY t.bundle_id, t.node
),
affected AS (
    SELECT bundle_id, count(*) AS nodes FROM node_rows WHERE recent_count > 0 GROUP BY bundle_id
)
-- symptom_key: lookups sent to an address that is not the DNS Service's are a symptom of a
-- node's stale clusterDNS naming that address (cluster-dns-service-cidr-mismatch); the DNS
-- Service's own outage is never a symptom of it.
SELECT resource, namespace, name, NULL AS node, bundle_id, 'service' AS kind,
    cluster_ip, no_endpoints, not_ready, stuck_n, total, pods_ready, no_pods, unscheduled_only,
    NULL::BIGINT AS lookups, NULL AS target_ips, NULL::BIGINT AS pods, NULL::BOOLEAN AS proven, NULL::VARCHAR[] AS foreign_ips,
    NULL AS svc_ips, NULL::BIGINT AS recent_pods, NULL::BIGINT AS nodes_affected,
    NULL::BOOLEAN AS one_blip, NULL::BIGINT AS quiet_minutes,
    evidence, severity,
    NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen, NULL::BIGINT AS recent_count, NULL::BIGINT AS count,
    'dns service' AS symptom_key
FROM svc_rows
UNION ALL
SELECT r.resource, NULL, r.node, r.node, r.bundle_id,
    'node', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    r.n, r.target_ips, r.pods, r.proven, r.foreign_ips, r.svc_ips, r.recent_pods, a.nodes,
    r.one_blip, r.quiet_minutes,
    r.evidence,
    -- Lookups failing from several pods are a DNS problem worth a look, unless they all failed
    -- in one moment that has passed; an outage is proven from the DNS Service and its pods, not
    -- from application logs.
    CASE WHEN r.proven OR (r.recent_pods >= ${min_pods} AND NOT r.one_blip) THEN 'medium' ELSE 'info' END,
    r.first_seen, r.last_seen, r.recent_count, r.n,
    coalesce('dns ' || r.foreign_ips[1], 'dns service')
FROM node_rows r
LEFT JOIN affected a ON a.bundle_id = r.bundle_id
ORDER BY 1
