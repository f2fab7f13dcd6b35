/* ---
id = "kubeconfig-ca-mismatch"
severity = "high"
faq = ["KADM-09"]
category = "certificates"
# A client with the wrong CA fails on every request; kubelets and controllers retry all the time.
recent = "6h"
min_count = 2
patterns = [
  "x509: certificate signed by unknown authority \\(possibly because of \\\\?\"crypto/rsa: verification error\\\\?\" while trying to verify candidate authority certificate \\\\?\"kubernetes\\\\?\"\\)",
  "candidate authority certificate \\\\?\"kubernetes\\\\?\"",
  "Unable to connect to the server: x509: certificate signed by unknown authority",
]
[title]
en = "kubeconfig CA does not match the cluster CA (x509: certificate signed by unknown authority)"
zh = "kubeconfig 中的 CA 与集群 CA 不一致 (x509: certificate signed by unknown authority)"
[remediation]
en = """
The kubeconfig trusts another CA than the one that signed the API server's certificate (often
a config left from an earlier `kubeadm init`), so clients fail with
`Unable to connect to the server: x509: certificate signed by unknown authority (possibly because
of "crypto/rsa: verification error" while trying to verify candidate authority certificate "kubernetes")`.

- Check that `$HOME/.kube/config` holds valid certificates and regenerate them if needed; the
  certificates in a kubeconfig are base64 encoded: decode with `base64 --decode` and inspect with
  `openssl x509 -text -noout`.
- Unset `KUBECONFIG` (`unset KUBECONFIG`) or point it at the default location:
  `export KUBECONFIG=/etc/kubernetes/admin.conf`.
- Or replace the existing "admin" kubeconfig:
```
mv  $HOME/.kube $HOME/.kube.bak
mkdir $HOME/.kube
sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config
sudo chown $(id -u):$(id -g) $HOME/.kube/config
```
"""
zh = """
kubeconfig 信任的 CA 与签发 API Server 证书的 CA 不同（常见于之前 `kubeadm init` 留下的旧配置），客户端会报
`Unable to connect to the server: x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "kubernetes")`。

- 验证 `$HOME/.kube/config` 文件是否包含有效证书，必要时重新生成。kubeconfig 中的证书是 base64 编码的，
  可用 `base64 --decode` 解码，用 `openssl x509 -text -noout` 查看证书信息。
- 取消设置 `KUBECONFIG`（`unset KUBECONFIG`），或将其设置为默认位置：`export KUBECONFIG=/etc/kubernetes/admin.conf`。
- 或者覆盖现有的 "管理员" kubeconfig：
```
mv  $HOME/.kube $HOME/.kube.bak
mkdir $HOME/.kube
sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config
sudo chown $(id -u):$(id -g) $HOME/.kube/config
```
"""
[message]
en = """\
{% if kind == 'config' %}\
  {{ path }} (cluster {{ cluster_name }}, {{ server }}) trusts CA {{ fp16 }}… but \
{% if own_ca %}/etc/kubernetes/pki/ca.crt on {{ node }}{% else %}the cluster CA of the other nodes{% endif %} is {{ ref_fp16 }}…\
  {% if recent > 0 %}; {{ recent }} "x509: certificate signed by unknown authority ... candidate authority certificate \\"kubernetes\\"" \
log lines on this node{% endif %}\
{% else %}\
  {{ errors }} "x509: certificate signed by unknown authority ... candidate authority certificate \\"kubernetes\\"" errors \
({{ whos | join(', ') }}): a kubeconfig trusts another CA than the cluster's\
  {% if kubelet_notready %}; the kubelet logs them and the node is NotReady{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'config' %}\
  {{ path }}（cluster {{ cluster_name }}，{{ server }}）信任的 CA 为 {{ fp16 }}…，但\
{% if own_ca %}节点 {{ node }} 上的 /etc/kubernetes/pki/ca.crt{% else %}其他节点的集群 CA{% endif %} 为 {{ ref_fp16 }}…\
  {% if recent > 0 %}；该节点上有 {{ recent }} 条 "x509: certificate signed by unknown authority ... candidate authority certificate \\"kubernetes\\"" 日志{% endif %}\
{% else %}\
  {{ errors }} 条 "x509: certificate signed by unknown authority ... candidate authority certificate \\"kubernetes\\"" 错误\
（{{ whos | join(', ') }}）：某个 kubeconfig 信任的 CA 与集群的 CA 不同\
  {% if kubelet_notready %}；kubelet 记录了这些错误，且节点处于 NotReady{% endif %}\
{% endif %}"""
--- */
-- Each node bundle belongs to the cluster of its Node object (itself when none matches).
WITH hb AS (
    SELECT bundle_id, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
node_ca AS (
    SELECT c.bundle_id, h.cluster, c.node, any_value(c.fingerprint_sha256) AS fp, any_value(c.subject) AS subject
    FROM certificates c JOIN hb h ON h.bundle_id = c.bundle_id
    WHERE c.path = '/etc/kubernetes/pki/ca.crt' AND coalesce(c.idx, 0) = 0 AND c.fingerprint_sha256 IS NOT NULL
    GROUP BY c.bundle_id, h.cluster, c.node
),
-- The cluster CA when all its nodes agree on it: the reference for nodes without their own copy.
cluster_ca AS (
    SELECT cluster, any_value(fp) AS fp FROM node_ca GROUP BY cluster HAVING count(DISTINCT fp) = 1
),
-- API server URLs of each cluster, as kubeadm's own kubeconfigs name them.
cluster_servers AS (
    SELECT DISTINCT h.cluster, k.server FROM kubeconfig_clusters k JOIN hb h ON h.bundle_id = k.bundle_id
    WHERE regexp_matches(k.path, '^/etc/kubernetes/(admin|super-admin|kubelet|controller-manager|scheduler|bootstrap-kubelet)\.conf$')
    UNION
    SELECT DISTINCT bundle_id, 'https://' || address || ':6443' FROM node_addresses WHERE type = 'InternalIP'
),
configs AS (
    SELECT k.bundle_id, h.cluster, k.node, k.path, k.name, k.server, k.ca_fingerprint_sha256 AS fp,
        coalesce(n.fp, (SELECT c.fp FROM cluster_ca c WHERE c.cluster = h.cluster)) AS ref_fp,
        CASE WHEN n.fp IS NOT NULL THEN '/etc/kubernetes/pki/ca.crt on ' || k.node ELSE 'the cluster CA of the other nodes' END AS ref,
        n.fp IS NOT NULL AS own_ca
    FROM kubeconfig_clusters k
    JOIN hb h ON h.bundle_id = k.bundle_id
    LEFT JOIN node_ca n ON n.bundle_id = k.bundle_id
    WHERE k.ca_fingerprint_sha256 IS NOT NULL AND NOT k.insecure_skip_tls_verify
      AND (regexp_matches(k.path, '^/etc/kubernetes/[^/]+\.conf$')
           OR EXISTS (SELECT 1 FROM cluster_servers s WHERE s.cluster = h.cluster AND s.server = k.server))
),
config_rows AS (
    SELECT bundle_id, cluster, node, path, server,
        path || ' (cluster ' || name || ', ' || server || ') trusts CA ' || left(fp, 16) || '… but ' || ref || ' is ' || left(ref_fp, 16) || '…' AS what,
        name, left(fp, 16) AS fp16, own_ca, left(ref_fp, 16) AS ref_fp16,
        -- The kubelet and the control plane stop with a wrong CA; a user's kubectl config is one person's problem.
        regexp_matches(path, '^/etc/kubernetes/(kubelet|bootstrap-kubelet|controller-manager|scheduler|super-admin)\.conf$') AS component
    FROM configs
    WHERE ref_fp IS NOT NULL AND fp <> ref_fp
),
log_hits_all AS (
    SELECT l.bundle_id, coalesce(h.cluster, l.bundle_id) AS cluster, l.node, coalesce(l.service, l.container) AS who,
        l.service = 'kubelet' AS from_kubelet, l.line, l.ts, l.age,
        l.source = 'container' AND coalesce(l.namespace, '') <> 'kube-system' AS from_workload,
        nullif(lower(replace(replace(regexp_extract(l.line, 'https://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)', 1), '[', ''), ']', '')), '') AS url_host
    FROM log_lines l LEFT JOIN hb h ON h.bundle_id = l.bundle_id
    WHERE contains(l.line, 'certificate signed by unknown authority')
      AND regexp_matches(l.line, 'candidate authority certificate \\?"kubernetes\\?"')
),
-- The addresses this cluster's API server is reached at: its nodes, the kubernetes Service,
-- the servers of kubeadm's kubeconfigs and kubeadm's controlPlaneEndpoint.
api_hosts AS (
    SELECT bundle_id AS cluster, lower(address) AS host FROM node_addresses
    UNION SELECT bundle_id, cluster_ip FROM services WHERE namespace = 'default' AND name = 'kubernetes' AND cluster_ip IS NOT NULL
    UNION SELECT s.cluster, lower(replace(replace(regexp_extract(s.server, 'https://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)', 1), '[', ''), ']', ''))
          FROM cluster_servers s
    UNION SELECT bundle_id, lower(replace(replace(regexp_extract(coalesce(doc->>'$.data.ClusterConfiguration', ''),
                     'controlPlaneEndpoint:\s*"?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)', 1), '[', ''), ']', ''))
          FROM objects WHERE api_group = '' AND resource = 'configmaps' AND namespace = 'kube-system' AND name = 'kubeadm-config'
),
-- A workload (Argo CD, Cluster API, Rancher, CI runners) that manages other clusters logs this
-- error for *their* API servers: only lines naming this cluster's API server, or no server, count.
log_hits AS (
    SELECT * FROM log_hits_all a
    WHERE NOT (a.from_workload AND a.url_host IS NOT NULL
               AND NOT starts_with(a.url_host, 'kubernetes.default') AND a.url_host NOT IN ('kubernetes', 'localhost', '127.0.0.1')
               AND EXISTS (SELECT 1 FROM api_hosts x WHERE x.cluster = a.cluster)
               AND NOT EXISTS (SELECT 1 FROM api_hosts x WHERE x.cluster = a.cluster AND x.host = a.url_host))
),
logs AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, list(DISTINCT who) AS whos, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        count(*) FILTER (WHERE in_window(age, ${recent}) AND from_kubelet) AS n_recent_kubelet,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT line)[1:3] AS lines
    FROM log_hits GROUP BY cluster, node
)
SELECT
    'kubeconfig/' || r.node || ':' || r.path AS resource,
    r.node, r.bundle_id,
    'config' AS kind, r.path, r.name AS cluster_name, r.server, r.fp16, r.own_ca, r.ref_fp16, coalesce(l.n_recent, 0) AS recent,
    NULL::BIGINT AS errors, NULL::VARCHAR[] AS whos, NULL::BOOLEAN AS kubelet_notready,
    list_concat([r.what], CASE WHEN l.n_recent > 0 THEN l.lines ELSE [] END) AS evidence,
    CASE WHEN r.component THEN 'high' ELSE 'medium' END AS severity,
    -- The files prove it: not judged by the age of log lines.
    l.first_seen, l.last_seen, NULL::BIGINT AS recent_count, l.n AS count
FROM config_rows r
LEFT JOIN logs l ON l.cluster = r.cluster AND l.node = r.node
UNION ALL
SELECT coalesce('node/' || l.node, 'cluster'), l.node, l.bundle_id,
    'logs', NULL, NULL, NULL, NULL, NULL, NULL, NULL, l.n, l.whos, coalesce(nr.node IS NOT NULL AND l.n_recent_kubelet > 0, false),
    l.lines,
    -- Log lines alone: medium, unless the kubelet is the client and its node is NotReady.
    CASE WHEN nr.node IS NOT NULL AND l.n_recent_kubelet >= ${min_count} THEN 'high' ELSE 'medium' END,
    l.first_seen, l.last_seen, l.n_recent, l.n
FROM logs l
LEFT JOIN (SELECT bundle_id, node FROM node_conditions WHERE type = 'Ready' AND status <> 'True') nr
    ON nr.bundle_id = l.cluster AND nr.node = l.node
WHERE l.node IS NULL OR NOT EXISTS (SELECT 1 FROM config_rows r WHERE r.cluster = l.cluster AND r.node = l.node)
ORDER BY 1
