/* ---
id = "nodeport-service-no-destination"
severity = "medium"
faq = ["CRN-14"]
category = "network"
patterns = [
  "IPVS: \\w+: (TCP|UDP|SCTP) [0-9a-fA-F.:\\[\\]]+:\\d+ - no destination available",
  "no destination available",
]
# IPVS logs a drop for each connection it cannot place (rate-limited): a handful in the last
# half hour is traffic being lost now; older ones are a rollout that has passed.
recent = "30m"
min_count = 3
[title]
en = "NodePort/LoadBalancer Service without a ready endpoint (IPVS: \"no destination available\")"
zh = "NodePort/LoadBalancer Service 没有就绪的后端（IPVS: \"no destination available\"）"
[remediation]
en = """
Traffic to the Service's NodePort reaches IPVS, which has no real server for it and drops it
(`IPVS: rr: TCP 10.200.1.206:44693 - no destination available`). Either the pods behind the
Service are not ready (or gone), or the Service has `externalTrafficPolicy: Local` and the
node that received the traffic runs none of them (by design: the load balancer's health check
on `healthCheckNodePort` keeps traffic off such nodes, so drops there are not a fault). For an Istio ingress gateway, deploy the
IstioOperator and declare the gateway there (otherwise later changes can overwrite it), then
restart or scale the gateway:
```
kubectl -n istio-system get pods,endpoints | grep ingressgateway
kubectl rollout restart deployment/aws-ingressgateway -n istio-system
#or
kubectl scale deployment/aws-ingressgateway -n istio-system --replicas=3
istioctl operator init
```
"""
zh = """
发往该 Service NodePort 的流量进入 IPVS 后没有可用的后端，被直接丢弃
（`IPVS: rr: TCP 10.200.1.206:44693 - no destination available`）。原因是 Service 后端的 Pod 未就绪（或不存在），
或 Service 设置了 `externalTrafficPolicy: Local` 而接收流量的节点上没有后端 Pod（这是设计如此：负载均衡器通过
`healthCheckNodePort` 的健康检查避开这些节点，在这些节点上的丢弃不算故障）。若是 Istio ingressgateway，
部署 Istio 后一定要部署 IstioOperator 并在其中配置 ingressgateway（否则任意修改都可能篡改 ingressgateway），然后重启或扩容网关：
```
kubectl -n istio-system get pods,endpoints | grep ingressgateway
kubectl rollout restart deployment/aws-ingressgateway -n istio-system
#or
kubectl scale deployment/aws-ingressgateway -n istio-system --replicas=3
istioctl operator init
```
"""
[message]
en = """\
{{ s_type }} Service {{ namespace }}/{{ name }}\
{% if ready == 0 %} has no ready endpoint{% endif %}\
{% if log_n > 0 %}{% if ready == 0 %} and{% endif %} IPVS dropped traffic to it {{ log_n }} times ("no destination available"){% endif %}\
{% if ready > 0 and log_n > 0 %} although it has {{ ready }} ready endpoints: kube-proxy lags behind or the pods were replaced{% endif %}\
{% if scaled_to_zero is not none %}: {{ scaled_to_zero | join(', ') }} scaled to 0 replicas on purpose\
{% elif is_gateway %}: ingress gateway traffic is dropped{% endif %}"""
zh = """\
{{ s_type }} Service {{ namespace }}/{{ name }}\
{% if ready == 0 %} 没有就绪的 endpoint{% endif %}\
{% if log_n > 0 %}{% if ready == 0 %}，且其流量{% else %} 的流量{% endif %}被 IPVS 丢弃 {{ log_n }} 次（"no destination available"）{% endif %}\
{% if ready > 0 and log_n > 0 %}，尽管它有 {{ ready }} 个就绪的 endpoint：kube-proxy 未及时同步或 Pod 已被替换{% endif %}\
{% if scaled_to_zero is not none %}：{{ scaled_to_zero | join('、') }} 已被有意缩容到 0 个副本\
{% elif is_gateway %}：ingress gateway 的流量被丢弃{% endif %}"""
--- */
WITH svc AS NOT MATERIALIZED (
    SELECT bundle_id, namespace, name, type, cluster_ip, ports, load_balancer_ingress, labels, selector
    FROM services
    WHERE type <> 'ExternalName'
),
-- IPVS drops, tied to the node's cluster (kernel logs come from node bundles).
ipvs AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS bundle_id, l.node, l.line, l.line_no, l.ts, l.age,
        regexp_extract(l.line, 'IPVS: \w+: (TCP|UDP|SCTP) ', 1) AS proto,
        regexp_extract(l.line, 'IPVS: \w+: \w+ \[?([0-9a-fA-F.:]+?)\]?:(\d+) - no destination available', 1) AS ip,
        TRY_CAST(regexp_extract(l.line, 'IPVS: \w+: \w+ \[?([0-9a-fA-F.:]+?)\]?:(\d+) - no destination available', 2) AS BIGINT) AS port
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    WHERE contains(l.line, 'no destination available') AND contains(l.line, 'IPVS')
),
-- Ports and load-balancer IPs, parsed only when IPVS lines need matching.
svc_ports AS (
    SELECT bundle_id, namespace, name, cluster_ip,
        coalesce(doc->>'$.spec.externalTrafficPolicy', 'Cluster') AS etp,
        coalesce(from_json(ports, '[{"port":"BIGINT","nodePort":"BIGINT","protocol":"VARCHAR"}]'), []) AS ports,
        coalesce(from_json(load_balancer_ingress, '[{"ip":"VARCHAR"}]'), []) AS lb
    FROM services
    WHERE type <> 'ExternalName' AND EXISTS (SELECT 1 FROM ipvs)
),
-- A line names the Service by its NodePort, or by its ClusterIP / load-balancer IP and port.
ipvs_matched AS (
    SELECT s.bundle_id, s.namespace, s.name, s.etp, i.node, i.line, i.line_no, i.ts, i.age,
        i.ip = s.cluster_ip AS via_cluster_ip
    FROM ipvs i
    JOIN svc_ports s ON s.bundle_id = i.bundle_id AND list_bool_or(list_transform(s.ports,
        lambda p: (p.nodePort = i.port OR (p.port = i.port AND (i.ip = s.cluster_ip OR list_contains(list_transform(s.lb, lambda l: l.ip), i.ip))))
                  AND upper(coalesce(p.protocol, 'TCP')) = i.proto))
),
-- The Services judged: those reachable from outside, and those IPVS named.
watched AS (
    SELECT bundle_id, namespace, name FROM svc WHERE type IN ('NodePort', 'LoadBalancer')
    UNION
    SELECT bundle_id, namespace, name FROM ipvs_matched
),
-- Objects read only when some Service is watched (usually none is: gate is empty).
gate AS (
    SELECT 1 AS one FROM watched LIMIT 1
),
watched_svc AS MATERIALIZED (
    SELECT s.bundle_id, s.namespace, s.name, s.type, s.ports, s.labels, s.selector FROM svc s, gate
),
watched_endpoints AS MATERIALIZED (
    SELECT e.bundle_id, e.namespace, e.name, e.ready_addresses FROM endpoints e, gate
),
watched_slices AS MATERIALIZED (
    SELECT x.rowid AS id, x.bundle_id, x.namespace, json_extract_string(x.labels, '$."kubernetes.io/service-name"') AS name
    FROM objects x, gate
    WHERE x.api_group = 'discovery.k8s.io' AND x.resource = 'endpointslices'
),
backends AS (
    -- Ready endpoints from Endpoints and from EndpointSlices; a Service with neither object
    -- collected is left alone.
    SELECT bundle_id, namespace, name, ready_addresses AS ready
    FROM watched_endpoints SEMI JOIN watched USING (bundle_id, namespace, name)
    UNION ALL
    SELECT bundle_id, namespace, name,
        len(list_filter(coalesce(from_json(doc->'$.endpoints', '[{"conditions":{"ready":"BOOLEAN"}}]'), []),
                        lambda e: coalesce(e.conditions.ready, true)))
    FROM (SELECT bundle_id, namespace, json_extract_string(labels, '$."kubernetes.io/service-name"') AS name, doc
          FROM objects, gate
          -- Picked by row id, so that only the watched Services' slices are read.
          WHERE api_group = 'discovery.k8s.io' AND resource = 'endpointslices' AND rowid IN (SELECT x.id FROM watched_slices x
                          JOIN watched w ON w.bundle_id = x.bundle_id AND w.namespace = x.namespace AND w.name = x.name))
),
ready AS (
    SELECT bundle_id, namespace, name, max(ready) AS ready FROM backends GROUP BY ALL
),
-- (for the Services IPVS named only; none are read when it named none)
ready_addresses AS MATERIALIZED (
    SELECT a.bundle_id, a.namespace, a.name, a.node FROM endpoint_addresses a, (SELECT 1 FROM ipvs_matched LIMIT 1) AS g
    WHERE a.ready AND a.node IS NOT NULL
),
ready_nodes AS (
    SELECT bundle_id, namespace, name, list(DISTINCT node ORDER BY node) AS nodes
    FROM ready_addresses SEMI JOIN ipvs_matched USING (bundle_id, namespace, name)
    GROUP BY ALL
),
-- Drops that mean lost traffic. With externalTrafficPolicy: Local a node without a ready
-- endpoint of its own has none by design (the load balancer's health check avoids it): its
-- drops of NodePort / load-balancer traffic are not counted while the Service has endpoints.
ipvs_hits AS (
    SELECT m.bundle_id, m.namespace, m.name, count(*) AS n,
        count(*) FILTER (WHERE in_window(m.age, ${recent})) AS recent_count,
        min(m.ts) AS first_seen, max(m.ts) AS last_seen,
        list(DISTINCT m.node) FILTER (WHERE m.node IS NOT NULL) AS nodes,
        list(m.line ORDER BY m.ts DESC NULLS LAST, m.line_no DESC)[1:3] AS lines
    FROM ipvs_matched m
    LEFT JOIN ready r USING (bundle_id, namespace, name)
    LEFT JOIN ready_nodes rn USING (bundle_id, namespace, name)
    WHERE NOT (m.etp = 'Local' AND coalesce(r.ready, 0) > 0 AND NOT m.via_cluster_ip
               AND NOT list_contains(coalesce(rn.nodes, []), m.node))
    GROUP BY ALL
),
-- Services whose every selected workload is scaled to 0 replicas (a standby gateway, a job
-- server run on demand): no endpoint is what was asked for.
scaled_to_zero AS (
    SELECT s.bundle_id, s.namespace, s.name,
        list_sort(list(lower(w.kind) || '/' || w.name)) AS workloads
    FROM watched_svc s
    SEMI JOIN watched USING (bundle_id, namespace, name)
    JOIN workloads w ON w.bundle_id = s.bundle_id AND w.namespace = s.namespace
    WHERE s.type IN ('NodePort', 'LoadBalancer') AND json_type(s.selector) = 'OBJECT'
      AND len(json_keys(s.selector)) > 0 AND w.deleted_at IS NULL
      AND (w.kind IN ('Deployment', 'StatefulSet') OR (w.kind = 'ReplicaSet' AND w.owner_kind IS NULL))
      AND list_bool_and(list_transform(json_keys(s.selector),
            lambda k: coalesce(json_member(json_extract(w.template, '$.metadata.labels'), k) = json_member(s.selector, k), false)))
    GROUP BY ALL
    HAVING bool_and(w.desired IS NOT NULL AND w.desired = 0)
),
candidates AS (
    SELECT s.bundle_id, s.namespace, s.name, s.type AS s_type,
        coalesce(from_json(s.ports, '[{"port":"BIGINT","nodePort":"BIGINT","protocol":"VARCHAR"}]'), []) AS ports,
        (s.name LIKE '%ingressgateway%' OR coalesce(json_extract_string(s.labels, '$.istio'), '') LIKE '%ingressgateway%'
            OR coalesce(json_extract_string(s.labels, '$.app'), '') LIKE '%ingressgateway%') AS is_gateway,
        r.ready, h.n AS log_n, h.recent_count, h.first_seen, h.last_seen, h.lines, z.workloads AS scaled_to_zero
    FROM watched_svc s
    SEMI JOIN watched USING (bundle_id, namespace, name)
    LEFT JOIN ready r USING (bundle_id, namespace, name)
    LEFT JOIN ipvs_hits h USING (bundle_id, namespace, name)
    LEFT JOIN scaled_to_zero z USING (bundle_id, namespace, name)
    WHERE (s.type IN ('NodePort', 'LoadBalancer') AND r.ready = 0) OR h.n > 0
)
SELECT 'service/' || namespace || '/' || name AS resource, namespace, name, bundle_id,
    s_type, ready, log_n, is_gateway, scaled_to_zero,
    list_concat(
        ['nodePorts: ' || array_to_string(list_transform(list_filter(ports, lambda p: p.nodePort IS NOT NULL), lambda p: p.port || ':' || p.nodePort || '/' || coalesce(p.protocol, 'TCP')), ', '),
         'ready endpoints: ' || coalesce(CAST(ready AS VARCHAR), 'unknown')],
        coalesce(lines, [])) AS evidence,
    -- No ready endpoint is proven from the objects: high for an ingress gateway or while IPVS
    -- is dropping its traffic now. Drops alone (endpoints ready) are judged by their recency.
    -- Workloads scaled to zero on purpose, and no drop logged lately: info.
    CASE WHEN ready = 0 AND scaled_to_zero IS NOT NULL AND coalesce(recent_count, 0) = 0 THEN 'info'
         WHEN ready = 0 AND (is_gateway OR coalesce(recent_count, 0) > 0) THEN 'high' ELSE 'medium' END AS severity,
    first_seen, last_seen,
    CASE WHEN coalesce(ready, 1) > 0 THEN recent_count END AS recent_count,
    log_n AS count
FROM candidates
ORDER BY 1
