/* ---
id = "kubelet-client-cert-rotation-failed"
severity = "high"
faq = ["KADM-10"]
category = "certificates"
patterns = [
  "x509: certificate has expired or is not yet valid",
  "Part of the existing bootstrap client certificate in /etc/kubernetes/kubelet\\.conf is expired",
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
[thresholds]
# The kubelet rotates when 70-90% of the lifetime has passed: less left than this means it failed.
overdue_fraction_left = 0.1
# Embedded kubelet.conf certificate: report as urgent below this many days.
warn_days = 30
# Kubelet CSRs pending longer than this are evidence of a stuck rotation.
csr_pending_minutes = 15
--- */
WITH cert_rows AS (
    SELECT bundle_id, node, path,
        CASE WHEN days_left < 0 THEN path || ' expired ' || CAST(floor(-days_left) AS BIGINT) || ' days ago'
             ELSE path || ' expires in ' || CAST(floor(days_left) AS BIGINT) || ' days, past its rotation deadline' END AS what,
        CASE WHEN days_left < 0 THEN path || ' 已于 ' || CAST(floor(-days_left) AS BIGINT) || ' 天前过期'
             ELSE path || ' 将在 ' || CAST(floor(days_left) AS BIGINT) || ' 天后过期，已超过轮换期限' END AS what_zh,
        'notAfter: ' || strftime(not_after, '%Y-%m-%dT%H:%M:%SZ') || ' (' || subject || ')' AS ev,
        CASE WHEN days_left < 0 THEN 3 ELSE 2 END AS rank
    FROM certificates
    WHERE regexp_matches(path, '^/var/lib/kubelet/pki/kubelet-client[^/]*\.pem$')
      AND (path = '/var/lib/kubelet/pki/kubelet-client-current.pem'
           OR NOT EXISTS (SELECT 1 FROM certificates c2 WHERE c2.bundle_id = certificates.bundle_id
                          AND c2.path = '/var/lib/kubelet/pki/kubelet-client-current.pem'))
      AND (days_left < 0
           OR days_left / nullif(days_between(not_before, not_after), 0) < ${overdue_fraction_left})
),
embedded AS (
    SELECT u.bundle_id, u.node, u.path,
        u.path || ' embeds client-certificate-data instead of pointing at /var/lib/kubelet/pki/kubelet-client-current.pem'
            || coalesce(CASE WHEN u.client_certificate_not_after < b.collected_at
                             THEN '; the embedded certificate expired ' || CAST(floor(days_between(u.client_certificate_not_after, b.collected_at)) AS BIGINT) || ' days ago'
                             ELSE '; the embedded certificate expires in ' || CAST(floor(days_between(b.collected_at, u.client_certificate_not_after)) AS BIGINT) || ' days' END, '') AS what,
        u.path || ' 内嵌 client-certificate-data，而不是指向 /var/lib/kubelet/pki/kubelet-client-current.pem'
            || coalesce(CASE WHEN u.client_certificate_not_after < b.collected_at
                             THEN '；内嵌证书已于 ' || CAST(floor(days_between(u.client_certificate_not_after, b.collected_at)) AS BIGINT) || ' 天前过期'
                             ELSE '；内嵌证书将在 ' || CAST(floor(days_between(b.collected_at, u.client_certificate_not_after)) AS BIGINT) || ' 天后过期' END, '') AS what_zh,
        'user ' || u.name || ': auth ' || u.auth AS ev,
        CASE WHEN u.client_certificate_not_after < b.collected_at THEN 3
             WHEN days_between(b.collected_at, u.client_certificate_not_after) < ${warn_days} THEN 2 ELSE 1 END AS rank
    FROM kubeconfig_users u JOIN bundles b ON b.bundle_id = u.bundle_id
    WHERE u.path = '/etc/kubernetes/kubelet.conf' AND u.auth = 'client-certificate-data'
),
kubelet_logs AS (
    SELECT node, any_value(bundle_id) AS bundle_id, count(*) AS n, list(DISTINCT line)[1:3] AS lines FROM log_lines
    WHERE (service = 'kubelet' OR source IN ('node', 'host'))
      AND (contains(line, 'Part of the existing bootstrap client certificate')
           OR contains(line, 'Failed while requesting a signed certificate from the control plane')
           OR (contains(line, 'kube-apiserver-client-kubelet') AND regexp_matches(line, '(?i)(fail|error)'))
           OR (service = 'kubelet' AND contains(line, 'certificate has expired or is not yet valid')
               AND NOT regexp_matches(line, '(?i)pull|registry')))
      AND node IS NOT NULL
    GROUP BY node
),
apiserver_logs AS (
    SELECT any_value(bundle_id) AS bundle_id, count(*) AS n, list(DISTINCT line)[1:2] AS lines FROM log_lines
    WHERE contains(line, 'certificate has expired or is not yet valid')
      AND (pod LIKE 'kube-apiserver%' OR container = 'kube-apiserver')
),
pending_csrs AS (
    SELECT count(*) AS n, list(o.name || ' (' || coalesce(o.doc->>'$.spec.username', '?') || ')' ORDER BY o.name)[1:3] AS names
    FROM objects o JOIN bundles b ON b.bundle_id = o.bundle_id
    WHERE o.api_group = 'certificates.k8s.io' AND o.resource = 'certificatesigningrequests'
      AND o.doc->>'$.spec.signerName' = 'kubernetes.io/kube-apiserver-client-kubelet'
      AND coalesce(json_array_length(o.doc->'$.status.conditions'), 0) = 0
      AND days_between(o.created_at, b.collected_at) * 1440 > ${csr_pending_minutes}
),
node_signals AS (
    SELECT bundle_id, node, what, what_zh, ev, rank FROM cert_rows
    UNION ALL SELECT bundle_id, node, what, what_zh, ev, rank FROM embedded
    UNION ALL SELECT bundle_id, node, n || ' kubelet certificate rotation errors in its log', '日志中有 ' || n || ' 条 kubelet 证书轮换错误', NULL, 2 FROM kubelet_logs
),
per_node AS (
    SELECT node, any_value(bundle_id) AS bundle_id, list(what ORDER BY rank DESC) AS whats,
        list(what_zh ORDER BY rank DESC) AS whats_zh,
        list(ev) FILTER (WHERE ev IS NOT NULL) AS evs, max(rank) AS rank
    FROM node_signals GROUP BY node
)
SELECT
    'node/' || p.node AS resource,
    p.node, p.bundle_id,
    'kubelet client certificate on ' || p.node || ': ' || array_to_string(p.whats, '; ')
        || CASE WHEN a.n > 0 THEN '; kube-apiserver logged "x509: certificate has expired or is not yet valid" ' || a.n || ' times' ELSE '' END
        || CASE WHEN c.n > 0 THEN '; ' || c.n || ' kubelet client CSRs pending' ELSE '' END AS message,
    '节点 ' || p.node || ' 的 kubelet 客户端证书：' || array_to_string(p.whats_zh, '；')
        || CASE WHEN a.n > 0 THEN '；kube-apiserver 日志中出现 "x509: certificate has expired or is not yet valid" ' || a.n || ' 次' ELSE '' END
        || CASE WHEN c.n > 0 THEN '；有 ' || c.n || ' 个 kubelet 客户端 CSR 待批准' ELSE '' END AS message_zh,
    list_concat(p.evs, coalesce(l.lines, []), coalesce(a.lines, []), coalesce(c.names, [])) AS evidence,
    CASE p.rank WHEN 3 THEN 'high' WHEN 2 THEN 'high' ELSE 'medium' END AS severity
FROM per_node p
LEFT JOIN kubelet_logs l ON l.node = p.node
LEFT JOIN apiserver_logs a ON true
LEFT JOIN pending_csrs c ON true
UNION ALL
SELECT 'cluster', NULL, a.bundle_id,
    'kube-apiserver logged "x509: certificate has expired or is not yet valid" ' || a.n || ' times: a client (often a kubelet whose certificate rotation failed) presents an expired certificate'
        || CASE WHEN c.n > 0 THEN '; ' || c.n || ' kubelet client CSRs pending' ELSE '' END,
    'kube-apiserver 日志中出现 "x509: certificate has expired or is not yet valid" ' || a.n || ' 次：有客户端（通常是证书轮换失败的 kubelet）出示了已过期的证书'
        || CASE WHEN c.n > 0 THEN '；有 ' || c.n || ' 个 kubelet 客户端 CSR 待批准' ELSE '' END,
    list_concat(a.lines, coalesce(c.names, [])),
    'medium'
FROM apiserver_logs a LEFT JOIN pending_csrs c ON true
WHERE a.n > 0 AND NOT EXISTS (SELECT 1 FROM per_node)
ORDER BY 1
