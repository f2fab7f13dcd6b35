/* ---
id = "kubelet-client-cert-rotation-failed"
severity = "high"
faq = ["KADM-10"]
category = "certificates"
# The kubelet retries rotation and re-bootstraps for hours; the API server rejects it on every request.
recent = "6h"
min_count = 2
patterns = [
  "x509: certificate has expired or is not yet valid",
  "part of the existing bootstrap client certificate( in \\S+)? is expired",
  "Failed while requesting a signed certificate from the control plane",
  "kubelet-client-current\\.pem",
]
[title]
en = "Kubelet client certificate rotation failed or is not used"
zh = "kubelet 客户端证书轮换失败或未被使用"
[remediation]
en = """
kubeadm configures the kubelet to rotate its client certificate, with `/etc/kubernetes/kubelet.conf`
pointing at the symlink `/var/lib/kubelet/pki/kubelet-client-current.pem`. When rotation fails
(or `kubelet.conf` still embeds `client-certificate-data`), the certificate expires and the
kube-apiserver logs `x509: certificate has expired or is not yet valid`; the node goes NotReady.
To fix it:

1. On the failed node, back up and remove `/etc/kubernetes/kubelet.conf` and `/var/lib/kubelet/pki/kubelet-client*`.
2. On a working control-plane node that has `/etc/kubernetes/pki/ca.key`, run
   `kubeadm kubeconfig user --org system:nodes --client-name system:node:$NODE > kubelet.conf`
   (`$NODE` = the failed node's name). Adjust the cluster name and server endpoint in it by hand,
   or pass `kubeconfig user --config` (it accepts an `InitConfiguration`). Without `ca.key`,
   sign the embedded certificate in `kubelet.conf` externally.
3. Copy the resulting `kubelet.conf` to `/etc/kubernetes/kubelet.conf` on the failed node.
4. Restart the kubelet (`systemctl restart kubelet`) and wait for `/var/lib/kubelet/pki/kubelet-client-current.pem` to be recreated.
5. Edit `kubelet.conf` to point at the rotated certificate, replacing `client-certificate-data` and `client-key-data` with:
```yaml
client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
```
6. Restart the kubelet.
7. Make sure the node becomes `Ready`.

Also check that rotation CSRs get approved (`kubectl get csr`).
"""
zh = """
kubeadm 将 kubelet 配置为自动轮换客户端证书，`/etc/kubernetes/kubelet.conf` 指向符号链接
`/var/lib/kubelet/pki/kubelet-client-current.pem`。若轮换失败（或 `kubelet.conf` 中仍内嵌 `client-certificate-data`），
证书过期后 kube-apiserver 日志会出现 `x509: certificate has expired or is not yet valid`，节点变为 NotReady。解决步骤：

1. 在故障节点上备份并删除 `/etc/kubernetes/kubelet.conf` 和 `/var/lib/kubelet/pki/kubelet-client*`。
2. 在集群中具有 `/etc/kubernetes/pki/ca.key` 的、正常工作的控制平面节点上执行
   `kubeadm kubeconfig user --org system:nodes --client-name system:node:$NODE > kubelet.conf`
   （`$NODE` 为故障节点的名称）。手动修改生成的 `kubelet.conf` 以调整集群名称和服务器端点，
   或传递 `kubeconfig user --config`（此命令接受 `InitConfiguration`）。如果集群没有 `ca.key`，必须在外部对 `kubelet.conf` 中的嵌入式证书进行签名。
3. 将得到的 `kubelet.conf` 复制到故障节点上，作为 `/etc/kubernetes/kubelet.conf`。
4. 在故障节点上重启 kubelet（`systemctl restart kubelet`），等待 `/var/lib/kubelet/pki/kubelet-client-current.pem` 重新创建。
5. 手动编辑 `kubelet.conf` 指向轮换的 kubelet 客户端证书，将 `client-certificate-data` 和 `client-key-data` 替换为：
```yaml
client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
```
6. 重新启动 kubelet。
7. 确保节点状况变为 `Ready`。

同时检查轮换所需的 CSR 是否被批准（`kubectl get csr`）。
"""
[message]
en = """\
{% if kind == 'node' %}\
  kubelet client certificate on {{ node }}: \
  {% for w in whats %}\
    {% if w.kind == 'file' %}{{ w.path }} \
{% if w.expired %}expired {{ w.days }} days ago{% else %}expires in {{ w.days }} days, past its rotation deadline{% endif %}\
    {% elif w.kind == 'embedded' %}{{ w.path }} embeds client-certificate-data instead of pointing at /var/lib/kubelet/pki/kubelet-client-current.pem\
{% if w.days is not none %}\
{% if w.expired %}; the embedded certificate expired {{ w.days }} days ago{% else %}; the embedded certificate expires in {{ w.days }} days{% endif %}\
{% endif %}\
    {% else %}{{ w.lines }} kubelet client certificate rotation errors in its log{% endif %}\
    {% if not loop.last %}; {% endif %}\
  {% endfor %}\
  {% if ready == false %}; the node is NotReady{% if ready_reason is not none %} ({{ ready_reason }}){% endif %}{% endif %}\
  {% if apiserver_recent > 0 %}; kube-apiserver logged "x509: certificate has expired or is not yet valid" {{ apiserver_recent }} times{% endif %}\
  {% if csrs > 0 %}; {{ csrs }} kubelet client CSRs pending{% endif %}\
{% else %}\
  kube-apiserver logged "x509: certificate has expired or is not yet valid" {{ apiserver_n }} times when authenticating \
a client certificate: a client presents an expired certificate\
  {% if notready_nodes is not none %}; NotReady nodes (kubelets whose rotation may have failed): {{ notready_nodes }}{% endif %}\
  {% if csrs > 0 %}; {{ csrs }} kubelet client CSRs pending{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'node' %}\
  节点 {{ node }} 的 kubelet 客户端证书：\
  {% for w in whats %}\
    {% if w.kind == 'file' %}{{ w.path }} \
{% if w.expired %}已于 {{ w.days }} 天前过期{% else %}将在 {{ w.days }} 天后过期，已超过轮换期限{% endif %}\
    {% elif w.kind == 'embedded' %}{{ w.path }} 内嵌 client-certificate-data，而不是指向 /var/lib/kubelet/pki/kubelet-client-current.pem\
{% if w.days is not none %}\
{% if w.expired %}；内嵌证书已于 {{ w.days }} 天前过期{% else %}；内嵌证书将在 {{ w.days }} 天后过期{% endif %}\
{% endif %}\
    {% else %}日志中有 {{ w.lines }} 条 kubelet 客户端证书轮换错误{% endif %}\
    {% if not loop.last %}；{% endif %}\
  {% endfor %}\
  {% if ready == false %}；节点处于 NotReady{% if ready_reason is not none %}（{{ ready_reason }}）{% endif %}{% endif %}\
  {% if apiserver_recent > 0 %}；kube-apiserver 日志中出现 "x509: certificate has expired or is not yet valid" {{ apiserver_recent }} 次{% endif %}\
  {% if csrs > 0 %}；有 {{ csrs }} 个 kubelet 客户端 CSR 待批准{% endif %}\
{% else %}\
  kube-apiserver 在认证客户端证书时记录了 {{ apiserver_n }} 次 "x509: certificate has expired or is not yet valid"：\
有客户端出示了已过期的证书\
  {% if notready_nodes is not none %}；处于 NotReady 的节点（kubelet 证书轮换可能失败）：{{ notready_nodes }}{% endif %}\
  {% if csrs > 0 %}；有 {{ csrs }} 个 kubelet 客户端 CSR 待批准{% endif %}\
{% endif %}"""
[thresholds]
# The kubelet rotates when 70-90% of the lifetime has passed: less left than this means it failed.
overdue_fraction_left = 0.1
# Embedded kubelet.conf certificate: report as urgent below this many days.
warn_days = 30
# Kubelet CSRs pending longer than this are evidence of a stuck rotation.
csr_pending_minutes = 15
--- */
-- Each node bundle belongs to the cluster of its Node object (itself when none matches).
WITH hb AS (
    SELECT bundle_id, node, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
cert_rows AS (
    SELECT c.bundle_id, h.cluster, c.node, c.path,
        {'kind': 'file', 'path': c.path, 'expired': c.days_left < 0,
         'days': CAST(floor(CASE WHEN c.days_left < 0 THEN -c.days_left ELSE c.days_left END) AS BIGINT), 'lines': NULL::BIGINT} AS what,
        'notAfter: ' || strftime(c.not_after, '%Y-%m-%dT%H:%M:%SZ') || ' (' || c.subject || ')' AS ev,
        CASE WHEN c.days_left < 0 THEN 3 ELSE 2 END AS rank
    FROM certificates c JOIN hb h ON h.bundle_id = c.bundle_id
    WHERE regexp_matches(c.path, '^/var/lib/kubelet/pki/kubelet-client[^/]*\.pem$')
      AND (c.path = '/var/lib/kubelet/pki/kubelet-client-current.pem'
           OR NOT EXISTS (SELECT 1 FROM certificates c2 WHERE c2.bundle_id = c.bundle_id
                          AND c2.path = '/var/lib/kubelet/pki/kubelet-client-current.pem'))
      AND (c.days_left < 0
           OR c.days_left / nullif(days_between(c.not_before, c.not_after), 0) < ${overdue_fraction_left})
),
embedded AS (
    SELECT u.bundle_id, h.cluster, u.node, u.path,
        {'kind': 'embedded', 'path': u.path, 'expired': u.client_certificate_not_after < b.collected_at,
         'days': CAST(floor(CASE WHEN u.client_certificate_not_after < b.collected_at
                                 THEN days_between(u.client_certificate_not_after, b.collected_at)
                                 ELSE days_between(b.collected_at, u.client_certificate_not_after) END) AS BIGINT),
         'lines': NULL::BIGINT} AS what,
        'user ' || u.name || ': auth ' || u.auth AS ev,
        CASE WHEN u.client_certificate_not_after < b.collected_at THEN 3
             WHEN days_between(b.collected_at, u.client_certificate_not_after) < ${warn_days} THEN 2 ELSE 1 END AS rank
    FROM kubeconfig_users u JOIN bundles b ON b.bundle_id = u.bundle_id JOIN hb h ON h.bundle_id = u.bundle_id
    WHERE u.path = '/etc/kubernetes/kubelet.conf' AND u.auth = 'client-certificate-data'
),
-- The kubelet's own words about its client certificate (node logs through the API, host
-- logs from node bundles). Not its serving certificate (kubernetes.io/kubelet-serving), and
-- not "x509: certificate has expired" when it verifies the API server's certificate.
kubelet_hits AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS cluster, l.node, l.bundle_id, l.line, l.ts, l.age
    FROM log_lines l LEFT JOIN hb h ON h.bundle_id = l.bundle_id
    WHERE l.source IN ('node', 'host') AND coalesce(l.service, 'kubelet') IN ('kubelet', 'k3s', 'k3s-agent', 'rke2-agent', 'rke2-server')
      AND l.node IS NOT NULL
      AND NOT contains(l.line, 'kubelet-serving')
      -- "Part of …" (klog of 1.1x) and "part of … in /etc/kubernetes/kubelet.conf is expired: …" (1.19+).
      AND (contains(lower(l.line), 'part of the existing bootstrap client certificate')
           OR contains(l.line, 'Failed while requesting a signed certificate from the control plane')
           OR contains(l.line, 'Reached backoff limit, still unable to rotate certs')
           OR (contains(l.line, 'kube-apiserver-client-kubelet') AND regexp_matches(l.line, '(?i)(fail|error)')))
),
kubelet_logs AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT line)[1:3] AS lines
    FROM kubelet_hits GROUP BY cluster, node
),
-- The API server refusing a client certificate that has expired ("Unable to authenticate the
-- request"): a client, maybe a kubelet, authenticates with an expired certificate. Not the API
-- server calling a webhook whose serving certificate expired ("failed calling webhook").
apiserver_logs AS (
    SELECT bundle_id, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT line)[1:2] AS lines
    FROM log_lines
    WHERE contains(line, 'certificate has expired or is not yet valid')
      AND contains(line, 'Unable to authenticate the request')
      AND NOT regexp_matches(line, '(?i)webhook|failed to verify certificate|dial tcp|Post "https|Get "https')
      AND ((source = 'container' AND (pod LIKE 'kube-apiserver%' OR container = 'kube-apiserver'))
           OR service IN ('kube-apiserver', 'k3s', 'rke2-server'))
    GROUP BY bundle_id
),
pending_csrs AS (
    SELECT o.bundle_id, count(*) AS n, list(o.name || ' (' || coalesce(o.doc->>'$.spec.username', '?') || ')' ORDER BY o.name)[1:3] AS names
    FROM objects o JOIN bundles b ON b.bundle_id = o.bundle_id
    WHERE o.api_group = 'certificates.k8s.io' AND o.resource = 'certificatesigningrequests'
      AND (o.doc->>'$.spec.signerName') = 'kubernetes.io/kube-apiserver-client-kubelet'
      AND coalesce(json_array_length(o.doc->'$.status.conditions'), 0) = 0
      AND days_between(o.created_at, b.collected_at) * 1440 > ${csr_pending_minutes}
    GROUP BY o.bundle_id
),
node_signals AS (
    SELECT bundle_id, cluster, node, what, ev, rank, false AS from_logs FROM cert_rows
    UNION ALL SELECT bundle_id, cluster, node, what, ev, rank, false FROM embedded
    UNION ALL SELECT bundle_id, cluster, node, {'kind': 'logs', 'path': NULL, 'expired': NULL, 'days': NULL, 'lines': n}, NULL, 2, true FROM kubelet_logs
),
per_node AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, list(what ORDER BY rank DESC) AS whats,
        list(ev) FILTER (WHERE ev IS NOT NULL) AS evs,
        max(rank) FILTER (WHERE NOT from_logs) AS file_rank,
        bool_or(from_logs) AS has_logs
    FROM node_signals GROUP BY cluster, node
),
-- The Node object of the same cluster: NotReady proves the kubelet lost the API server.
node_state AS (
    SELECT p.cluster, p.node, c.status = 'True' AS ready, c.reason AS ready_reason
    FROM per_node p JOIN node_conditions c ON c.bundle_id = p.cluster AND c.node = p.node AND c.type = 'Ready'
)
SELECT
    'node/' || p.node AS resource,
    p.node, p.bundle_id,
    'node' AS kind, p.whats, ns.ready, ns.ready_reason, a.n_recent AS apiserver_recent, c.n AS csrs,
    NULL::BIGINT AS apiserver_n, NULL AS notready_nodes,
    list_concat(p.evs, coalesce(l.lines, []), CASE WHEN a.n_recent > 0 THEN a.lines ELSE [] END, coalesce(c.names, [])) AS evidence,
    -- Files prove it: an expired or overdue certificate in use. Logs alone are medium unless
    -- the Node shows the kubelet cut off.
    CASE WHEN p.file_rank >= 2 THEN 'high'
         WHEN ns.ready = false AND coalesce(l.n_recent, 0) >= ${min_count} THEN 'high'
         ELSE 'medium' END AS severity,
    l.first_seen, l.last_seen,
    -- Rows the files prove are not judged by the age of the log lines.
    CASE WHEN p.file_rank IS NULL THEN l.n_recent END AS recent_count,
    l.n AS count
FROM per_node p
LEFT JOIN kubelet_logs l ON l.cluster = p.cluster AND l.node = p.node
LEFT JOIN node_state ns ON ns.cluster = p.cluster AND ns.node = p.node
LEFT JOIN apiserver_logs a ON a.bundle_id = p.cluster
LEFT JOIN pending_csrs c ON c.bundle_id = p.cluster
UNION ALL
-- Only the API server's complaint: some client presents an expired certificate. A kubelet
-- when a node is NotReady or kubelet CSRs are stuck; otherwise maybe any client.
SELECT 'cluster', NULL, a.bundle_id,
    'cluster', NULL, NULL, NULL, NULL, c.n, a.n, nr.nodes,
    list_concat(a.lines, coalesce(c.names, [])),
    CASE WHEN nr.nodes IS NOT NULL OR c.n > 0 THEN 'medium' ELSE 'low' END,
    a.first_seen, a.last_seen, a.n_recent, a.n
FROM apiserver_logs a
LEFT JOIN pending_csrs c ON c.bundle_id = a.bundle_id
LEFT JOIN (SELECT bundle_id, string_agg(node, ', ' ORDER BY node) AS nodes FROM node_conditions
           WHERE type = 'Ready' AND status <> 'True' GROUP BY bundle_id) nr
    ON nr.bundle_id = a.bundle_id
WHERE NOT EXISTS (SELECT 1 FROM per_node p WHERE p.cluster = a.bundle_id)
ORDER BY 1
