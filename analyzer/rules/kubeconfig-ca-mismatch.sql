/* ---
id = "kubeconfig-ca-mismatch"
severity = "high"
faq = ["KADM-09"]
category = "certificates"
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
--- */
WITH node_ca AS (
    SELECT bundle_id, node, any_value(fingerprint_sha256) AS fp, any_value(subject) AS subject
    FROM certificates
    WHERE path = '/etc/kubernetes/pki/ca.crt' AND coalesce(idx, 0) = 0 AND fingerprint_sha256 IS NOT NULL
    GROUP BY bundle_id, node
),
-- The cluster CA when all nodes agree on it: the reference for nodes without their own copy.
cluster_ca AS (
    SELECT any_value(fp) AS fp FROM node_ca HAVING count(DISTINCT fp) = 1
),
-- API server URLs of this cluster, as kubeadm's own kubeconfigs name them.
cluster_servers AS (
    SELECT DISTINCT server FROM kubeconfig_clusters
    WHERE regexp_matches(path, '^/etc/kubernetes/(admin|super-admin|kubelet|controller-manager|scheduler|bootstrap-kubelet)\.conf$')
    UNION
    SELECT DISTINCT 'https://' || address || ':6443' FROM node_addresses WHERE type = 'InternalIP'
),
configs AS (
    SELECT k.bundle_id, k.node, k.path, k.name, k.server, k.ca_fingerprint_sha256 AS fp,
        coalesce(n.fp, (SELECT fp FROM cluster_ca)) AS ref_fp,
        CASE WHEN n.fp IS NOT NULL THEN '/etc/kubernetes/pki/ca.crt on ' || k.node ELSE 'the cluster CA of the other nodes' END AS ref,
        CASE WHEN n.fp IS NOT NULL THEN '节点 ' || k.node || ' 上的 /etc/kubernetes/pki/ca.crt' ELSE '其他节点的集群 CA' END AS ref_zh
    FROM kubeconfig_clusters k
    LEFT JOIN node_ca n ON n.bundle_id = k.bundle_id
    WHERE k.ca_fingerprint_sha256 IS NOT NULL AND NOT k.insecure_skip_tls_verify
      AND (regexp_matches(k.path, '^/etc/kubernetes/[^/]+\.conf$')
           OR k.server IN (SELECT server FROM cluster_servers))
),
config_rows AS (
    SELECT bundle_id, node, path, server,
        path || ' (cluster ' || name || ', ' || server || ') trusts CA ' || left(fp, 16) || '… but ' || ref || ' is ' || left(ref_fp, 16) || '…' AS what,
        path || '（cluster ' || name || '，' || server || '）信任的 CA 为 ' || left(fp, 16) || '…，但' || ref_zh || ' 为 ' || left(ref_fp, 16) || '…' AS what_zh
    FROM configs
    WHERE ref_fp IS NOT NULL AND fp <> ref_fp
),
log_hits AS (
    SELECT bundle_id, node, coalesce(service, container) AS who, line FROM log_lines
    WHERE contains(line, 'certificate signed by unknown authority')
      AND regexp_matches(line, 'candidate authority certificate \\?"kubernetes\\?"')
),
logs AS (
    SELECT node, any_value(bundle_id) AS bundle_id, list(DISTINCT who) AS whos, count(*) AS n, list(DISTINCT line)[1:3] AS lines
    FROM log_hits GROUP BY node
)
SELECT
    'kubeconfig/' || r.node || ':' || r.path AS resource,
    r.node, r.bundle_id,
    r.what || CASE WHEN l.n > 0 THEN '; ' || l.n || ' "x509: certificate signed by unknown authority ... candidate authority certificate \"kubernetes\"" log lines on this node' ELSE '' END AS message,
    r.what_zh || CASE WHEN l.n > 0 THEN '；该节点上有 ' || l.n || ' 条 "x509: certificate signed by unknown authority ... candidate authority certificate \"kubernetes\"" 日志' ELSE '' END AS message_zh,
    list_concat([r.what], coalesce(l.lines, [])) AS evidence
FROM config_rows r
LEFT JOIN logs l ON l.node = r.node
UNION ALL
SELECT coalesce('node/' || l.node, 'cluster'), l.node, l.bundle_id,
    l.n || ' "x509: certificate signed by unknown authority ... candidate authority certificate \"kubernetes\"" errors ('
        || array_to_string(l.whos, ', ') || '): a kubeconfig trusts another CA than the cluster''s',
    l.n || ' 条 "x509: certificate signed by unknown authority ... candidate authority certificate \"kubernetes\"" 错误（'
        || array_to_string(l.whos, ', ') || '）：某个 kubeconfig 信任的 CA 与集群的 CA 不同',
    l.lines
FROM logs l
WHERE l.node IS NULL OR l.node NOT IN (SELECT node FROM config_rows)
ORDER BY 1
