/* ---
id = "apiserver-cert-san-mismatch"
severity = "high"
faq = ["WNR-17"]
category = "certificates"
# A client that cannot reach the API server retries all the time: two lines in 6 hours.
recent = "6h"
min_count = 2
patterns = [
  "x509: certificate is valid for .*, not \\S+",
  "Unable to connect to the server: x509: certificate is valid for",
  "tls: failed to verify certificate: x509: certificate is valid for",
  "x509: certificate is not valid for any names, but wanted to match",
  "x509: cannot validate certificate for \\S+ because it doesn't contain any IP SANs",
]
[title]
en = "API server certificate does not cover an address clients use (x509: certificate is valid for ..., not ...)"
zh = "API Server 证书不包含客户端使用的地址（x509: certificate is valid for ..., not ...）"
[remediation]
en = """
The API server's serving certificate lists the names and IPs it is valid for (SANs); a client
that connects through another address — a public IP, a load balancer, a new node IP — fails with
`Unable to connect to the server: x509: certificate is valid for 10.10.1.2, 10.43.0.1,
127.0.0.1, 192.168.1.10, not 123.123.123.123`. The address was not added when the certificate
was issued. Add it at init time, or reissue the certificate with the extra SAN (kubeadm: the
old files are `/etc/kubernetes/pki/apiserver.*`; k3s/rke2: `--tls-san`), then restart the API
server. Prefer a separate (sub-)account kubeconfig for remote access over sharing the admin one.
```
openssl x509 -noout -ext subjectAltName -in /etc/kubernetes/pki/apiserver.crt
kubeadm init --apiserver-cert-extra-sans=123.123.123.123
# existing kubeadm cluster: add certSANs to the ClusterConfiguration, then
mv /etc/kubernetes/pki/apiserver.{crt,key} /tmp/
kubeadm init phase certs apiserver --config kubeadm.yaml
# k3s / rke2: add to /etc/rancher/k3s/config.yaml (or rke2), then restart
#   tls-san:
#     - 123.123.123.123
```
"""
zh = """
API Server 的服务证书列出了它适用的域名和 IP（SAN）；客户端通过其他地址（公网 IP、负载均衡、变更后的节点 IP）访问时报
`Unable to connect to the server: x509: certificate is valid for 10.10.1.2, 10.43.0.1, 127.0.0.1, 192.168.1.10, not 123.123.123.123`。
签发的证书不包含该 IP。初始化的时候可以添加，或带上额外的 SAN 重新签发证书（kubeadm：原先的证书位于
`/etc/kubernetes/pki/apiserver.*`；k3s/rke2：`--tls-san`），然后重启 API Server。远程访问建议新建子账号的 kubeconfig，
不要共用管理员的。
```
openssl x509 -noout -ext subjectAltName -in /etc/kubernetes/pki/apiserver.crt
kubeadm init --apiserver-cert-extra-sans=123.123.123.123
# 已有的 kubeadm 集群：在 ClusterConfiguration 中添加 certSANs，然后
mv /etc/kubernetes/pki/apiserver.{crt,key} /tmp/
kubeadm init phase certs apiserver --config kubeadm.yaml
# k3s / rke2：在 /etc/rancher/k3s/config.yaml（或 rke2）中添加后重启
#   tls-san:
#     - 123.123.123.123
```
"""
[message]
en = """\
{% if proven %}the API server certificate (\
  {% for c in cert_paths %}{{ c.path }} on {{ c.node }}{% if not loop.last %}, {% endif %}{% endfor %}\
  ) is not valid for {{ host }}, which clients use: \
{% else %}TLS certificate name mismatch for the API server address {{ host }} \
  ("x509: certificate is valid for ..., not {{ host }}"): \
{% endif %}\
{% for o in origins %}\
  {% if o.kind == 'kubeconfig' %}kubeconfig {{ o.path }} on {{ o.node }} ({{ o.server }})\
  {% elif o.kind == 'kubeadm-config' %}kubeadm-config controlPlaneEndpoint\
  {% elif o.kind == 'event' %}event {{ o.reason }} {{ o.object }}\
  {% else %}{{ o.kind | log }} {{ o.place }}{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}\
{% if not proven and covered_now %}; the API server certificates collected from the nodes do cover it now{% endif %}"""
zh = """\
{% if proven %}API Server 证书（\
  {% for c in cert_paths %}节点 {{ c.node }} 上的 {{ c.path }}{% if not loop.last %}、{% endif %}{% endfor %}\
  ）不包含 {{ host }}，但客户端在使用该地址：\
{% else %}API Server 地址 {{ host }} 的 TLS 证书名称不匹配\
  （"x509: certificate is valid for ..., not {{ host }}"）：\
{% endif %}\
{% for o in origins %}\
  {% if o.kind == 'kubeconfig' %}节点 {{ o.node }} 上的 kubeconfig {{ o.path }}（{{ o.server }}）\
  {% elif o.kind == 'kubeadm-config' %}kubeadm-config 的 controlPlaneEndpoint\
  {% elif o.kind == 'event' %}事件 {{ o.reason }} {{ o.object }}\
  {% else %}{{ o.kind | log }} {{ o.place }}{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}\
{% if not proven and covered_now %}；从节点收集到的 API Server 证书现在已包含该地址{% endif %}"""
--- */
-- Each node bundle belongs to the cluster of its Node object (itself when none matches).
WITH hb AS (
    SELECT bundle_id, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
certs AS (
    SELECT c.bundle_id, coalesce(h.cluster, c.bundle_id) AS cluster, c.node, c.path, c.sans
    FROM certificates c LEFT JOIN hb h ON h.bundle_id = c.bundle_id
    WHERE c.idx = 0 AND c.days_left > 0
      AND (c.path LIKE '%/pki/apiserver.crt' OR c.path LIKE '%/tls/serving-kube-apiserver.crt')
),
cas AS (
    SELECT DISTINCT coalesce(h.cluster, c.bundle_id) AS cluster, c.fingerprint_sha256
    FROM certificates c LEFT JOIN hb h ON h.bundle_id = c.bundle_id
    WHERE c.is_ca AND c.fingerprint_sha256 IS NOT NULL
),
-- Addresses clients are configured to reach the API server by.
configured AS (
    SELECT coalesce(h.cluster, k.bundle_id) AS cluster,
        lower(regexp_extract(k.server, '^[A-Za-z]+://\[?([^\]/:]+)', 1)) AS host,
        {'kind': 'kubeconfig', 'path': k.path, 'node': k.node, 'server': k.server, 'place': NULL, 'reason': NULL, 'object': NULL} AS origin,
        k.bundle_id AS only_bundle
    FROM kubeconfig_clusters k LEFT JOIN hb h ON h.bundle_id = k.bundle_id
    WHERE NOT k.insecure_skip_tls_verify AND k.server LIKE 'https://%'
      -- only entries provably for this cluster: their CA is one collected from its nodes
      AND EXISTS (SELECT 1 FROM cas WHERE cas.cluster = coalesce(h.cluster, k.bundle_id)
                  AND cas.fingerprint_sha256 = k.ca_fingerprint_sha256)
    UNION ALL
    SELECT bundle_id, lower(regexp_extract(doc->>'$.data.ClusterConfiguration', 'controlPlaneEndpoint:\s*"?\[?([^\]:"\s]+)', 1)),
        {'kind': 'kubeadm-config', 'path': NULL, 'node': NULL, 'server': NULL, 'place': NULL, 'reason': NULL, 'object': NULL}, NULL
    FROM objects WHERE kind = 'ConfigMap' AND namespace = 'kube-system' AND name = 'kubeadm-config'
),
-- Every address the API server answers on: the above, the kubernetes Service and its endpoints.
apiserver_hosts AS (
    SELECT DISTINCT cluster, host FROM configured WHERE coalesce(host, '') <> ''
    UNION SELECT bundle_id, cluster_ip FROM services WHERE namespace = 'default' AND name = 'kubernetes' AND cluster_ip IS NOT NULL
    UNION SELECT bundle_id, ip FROM endpoint_addresses WHERE namespace = 'default' AND name = 'kubernetes' AND ip IS NOT NULL
),
-- "certificate is valid for …, not X" and its variants, in logs and events.
mentions AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS cluster, l.bundle_id, l.line AS text,
        -- A log's kind is its source: container, node or host.
        {'kind': l.source, 'path': NULL, 'node': NULL, 'server': NULL,
         'place': coalesce(l.namespace || '/' || l.pod || '/' || l.container, l.service, ''), 'reason': NULL, 'object': NULL} AS origin,
        coalesce(l.pod, '') || ' ' || coalesce(l.container, '') AS who,
        l.ts, CAST(l.age AS INTERVAL) AS age, 1 AS n
    FROM log_lines l LEFT JOIN hb h ON h.bundle_id = l.bundle_id
        WHERE (contains(l.line, 'valid for')
           AND (contains(l.line, 'certificate is valid for') OR contains(l.line, 'certificate is not valid for any names')))
       OR contains(l.line, 'because it doesn''t contain any IP SANs')
    UNION ALL
    SELECT e.bundle_id, e.bundle_id, e.message,
        {'kind': 'event', 'path': NULL, 'node': NULL, 'server': NULL, 'place': NULL, 'reason': e.reason,
         'object': coalesce(e.object_kind || ' ', '') || coalesce(e.object_namespace || '/', '') || coalesce(e.object_name, '')},
        coalesce(e.object_name, '') || ' ' || coalesce(e.source_component, ''),
        CAST(e.last_seen AS TIMESTAMPTZ), b.collected_at - e.last_seen, coalesce(e.count, 1)
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
        WHERE (contains(e.message, 'valid for')
           AND (contains(e.message, 'certificate is valid for') OR contains(e.message, 'certificate is not valid for any names')))
       OR contains(e.message, 'because it doesn''t contain any IP SANs')
),
targeted AS (
    SELECT m.*,
        lower(coalesce(
            nullif(regexp_extract(text, 'certificate is valid for .*?, not ([^\s",\\)]+)', 1), ''),
            nullif(regexp_extract(text, 'wanted to match ([^\s",\\)]+)', 1), ''),
            nullif(regexp_extract(text, 'cannot validate certificate for ([^\s",\\)]+) because', 1), ''))) AS host
    FROM mentions m
),
-- Only errors about the API server's certificate: kubectl's "Unable to connect to the server",
-- a connection to port 6443, a certificate naming kubernetes.default, or an address the API
-- server answers on. metrics-server scraping kubelets (:10250), etcd's client and peer ports
-- (:2379, :2380: the API server dialing an etcd member on a control-plane address), webhooks and
-- registries have their own certificates and rules.
-- The names this cluster's API server certificates are valid for, less those every cluster's
-- certificate has (kubernetes.default…, localhost, loopback) and the kubernetes Service address
-- (10.96.0.1 in every kubeadm cluster): a message listing one of them names this cluster's
-- certificate.
own_sans AS (
    SELECT DISTINCT c.cluster, lower(regexp_replace(s, '^[A-Za-z]+:', '')) AS san
    FROM certs c, unnest(c.sans) AS t(s)
),
specific_sans AS (
    SELECT o.cluster, o.san FROM own_sans o
    WHERE o.san NOT IN ('kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'localhost', '127.0.0.1', '::1')
      AND NOT starts_with(o.san, 'kubernetes.default.svc.')
      AND NOT EXISTS (SELECT 1 FROM services v WHERE v.bundle_id = o.cluster AND v.namespace = 'default'
                      AND v.name = 'kubernetes' AND v.cluster_ip = o.san)
),
node_hosts AS (
    SELECT DISTINCT bundle_id AS cluster, lower(address) AS host FROM node_addresses WHERE address IS NOT NULL
),
-- Addresses of this cluster's nodes and API server, less the kubernetes Service address that
-- every kubeadm cluster shares.
own_hosts AS (
    SELECT cluster, host FROM node_hosts
    UNION
    SELECT a.cluster, a.host FROM apiserver_hosts a
    WHERE a.host IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM services v WHERE v.bundle_id = a.cluster AND v.namespace = 'default'
                      AND v.name = 'kubernetes' AND v.cluster_ip = a.host)
),
log_used AS (
    SELECT t.* FROM targeted t
    LEFT JOIN apiserver_hosts a ON a.cluster = t.cluster AND a.host = t.host
    WHERE coalesce(t.host, '') <> ''
      AND (contains(t.text, 'Unable to connect to the server: x509')
           OR (NOT regexp_matches(t.text, '(?i)(:10250\b|:2379\b|:2380\b|failed calling webhook|scrape|/v2/)')
               AND NOT (contains(t.who, 'metrics-server') AND regexp_matches(t.text, '(?i)(kubelet|node)'))
               AND (regexp_matches(t.text, ':6443\b')
                    OR regexp_matches(t.text, 'certificate is valid for [^"]*\bkubernetes\.default\b')
                    OR a.host IS NOT NULL)))
      -- An address this cluster's API server does not answer on is another cluster's (Argo CD,
      -- Rancher or a CI job managing it from here), unless the certificate the message lists is
      -- this cluster's or the address is one of its nodes. Without the certificates: kept when
      -- the message lists no names, or lists one of this cluster's node or API server addresses
      -- (an API server certificate names its control-plane nodes).
      AND (a.host IS NOT NULL
           OR (NOT EXISTS (SELECT 1 FROM specific_sans x WHERE x.cluster = t.cluster)
               AND (coalesce(regexp_extract(t.text, 'certificate is valid for (.*?), not ', 1), '') = ''
                    OR EXISTS (SELECT 1 FROM own_hosts o WHERE o.cluster = t.cluster
                               AND list_contains(string_split(lower(regexp_extract(t.text, 'certificate is valid for (.*?), not ', 1)), ', '), o.host))))
           OR EXISTS (SELECT 1 FROM node_hosts n WHERE n.cluster = t.cluster AND n.host = t.host)
           OR EXISTS (SELECT 1 FROM specific_sans x WHERE x.cluster = t.cluster
                      AND list_contains(string_split(lower(regexp_extract(t.text, 'certificate is valid for (.*?), not ', 1)), ', '), x.san)))
),
used AS (
    SELECT cluster, host, origin, 'config' AS kind, NULL AS line, only_bundle,
        NULL::TIMESTAMPTZ AS ts, NULL::INTERVAL AS age, 0 AS n
    FROM configured
    UNION ALL
    SELECT cluster, host, origin, 'log', text, NULL, ts, age, n FROM log_used
),
-- Each address in use, numbered, and the API server certificates it is checked against: its
-- cluster's, or for a kubeconfig those of its own node. Joined once, not one subquery per
-- column.
used_n AS (
    SELECT *, row_number() OVER () AS id FROM used WHERE coalesce(host, '') <> ''
),
cert_match AS (
    SELECT u.id, count(*) AS n_certs,
        count(*) FILTER (WHERE len(list_filter(c.sans, lambda s:
                    lower(s) = 'ip:' || u.host OR lower(s) = 'dns:' || u.host
                    OR (lower(s) LIKE 'dns:*.%' AND u.host LIKE '%.' || substr(lower(s), 7)
                        AND strpos(substr(u.host, 1, strlen(u.host) - strlen(lower(s)) + 5), '.') = 0))) > 0) AS n_covering,
        list(DISTINCT {'path': c.path, 'node': c.node} ORDER BY {'path': c.path, 'node': c.node}) AS cert_paths
    FROM used_n u JOIN certs c ON c.cluster = u.cluster AND (u.only_bundle IS NULL OR c.bundle_id = u.only_bundle)
    GROUP BY u.id
),
cert_sans AS (
    SELECT u.id, list(DISTINCT s) AS all_sans
    FROM used_n u JOIN certs c ON c.cluster = u.cluster AND (u.only_bundle IS NULL OR c.bundle_id = u.only_bundle),
        unnest(c.sans) AS t(s)
    GROUP BY u.id
),
checked AS (
    SELECT u.* EXCLUDE (id), coalesce(m.n_certs, 0) AS n_certs, coalesce(m.n_covering, 0) AS n_covering,
        m.cert_paths, x.all_sans
    FROM used_n u LEFT JOIN cert_match m ON m.id = u.id LEFT JOIN cert_sans x ON x.id = u.id
),
per_host AS (
    SELECT cluster, host,
        -- Kinds sort as their English names: container, event, host, kubeadm-config, kubeconfig, node.
        list(DISTINCT origin ORDER BY origin) AS origins,
        list(DISTINCT line ORDER BY line) FILTER (WHERE line IS NOT NULL) AS lines,
        bool_or(kind = 'config' AND n_certs > 0 AND n_covering = 0) AS config_uncovered,
        bool_or(kind = 'log') AS from_logs,
        sum(n) FILTER (WHERE kind = 'log') AS log_n,
        coalesce(sum(n) FILTER (WHERE kind = 'log' AND in_window(age, ${recent})), 0) AS log_recent,
        min(ts) FILTER (WHERE kind = 'log') AS first_seen, max(ts) FILTER (WHERE kind = 'log') AS last_seen,
        max(n_certs) FILTER (WHERE kind = 'log') AS n_certs, max(n_covering) FILTER (WHERE kind = 'log') AS n_covering,
        any_value(cert_paths) FILTER (WHERE n_certs > 0) AS cert_paths,
        any_value(all_sans) FILTER (WHERE n_certs > 0) AS all_sans
    FROM checked
    GROUP BY cluster, host
),
judged AS (
    SELECT *,
        -- the certificate collected from the nodes does not cover what clients use
        config_uncovered OR (from_logs AND n_certs > 0 AND n_covering = 0) AS proven,
        from_logs AND n_certs > 0 AND n_covering = n_certs AS covered_now
    FROM per_host
)
SELECT 'address/' || host AS resource, host AS name, cluster AS bundle_id,
    host, proven, covered_now, cert_paths, origins,
    list_concat(coalesce(lines, [])[1:3], CASE WHEN all_sans IS NOT NULL THEN ['certificate SANs: ' || array_to_string(list_sort(all_sans), ', ')] ELSE [] END) AS evidence,
    CASE WHEN proven THEN 'high' WHEN covered_now THEN 'low' ELSE 'medium' END AS severity,
    first_seen, last_seen,
    -- A kubeconfig in use with an uncovered address is proven by the files: not judged by time.
    CASE WHEN NOT config_uncovered THEN log_recent END AS recent_count,
    log_n AS count
FROM judged
WHERE config_uncovered OR from_logs
ORDER BY 1
