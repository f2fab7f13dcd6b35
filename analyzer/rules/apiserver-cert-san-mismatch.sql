/* ---
id = "apiserver-cert-san-mismatch"
severity = "high"
faq = ["WNR-17"]
category = "certificates"
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
--- */
WITH certs AS (
    SELECT bundle_id, node, path, sans FROM certificates
    WHERE idx = 0 AND days_left > 0
      AND (path LIKE '%/pki/apiserver.crt' OR path LIKE '%/tls/serving-kube-apiserver.crt')
),
cas AS (SELECT DISTINCT fingerprint_sha256 FROM certificates WHERE is_ca AND fingerprint_sha256 IS NOT NULL),
used AS (
    SELECT lower(regexp_extract(server, '^[A-Za-z]+://\[?([^\]/:]+)', 1)) AS host,
        'kubeconfig ' || path || ' on ' || node || ' (' || server || ')' AS origin,
        '节点 ' || node || ' 上的 kubeconfig ' || path || '（' || server || '）' AS origin_zh,
        'config' AS kind, NULL AS line, node AS only_node
    FROM kubeconfig_clusters
    WHERE NOT insecure_skip_tls_verify AND server LIKE 'https://%'
      -- only entries provably for this cluster: their CA is one collected from its nodes
      AND ca_fingerprint_sha256 IN (SELECT fingerprint_sha256 FROM cas)
    UNION ALL
    SELECT lower(regexp_extract(doc->>'$.data.ClusterConfiguration', 'controlPlaneEndpoint:\s*"?\[?([^\]:"\s]+)', 1)),
        'kubeadm-config controlPlaneEndpoint', 'kubeadm-config 的 controlPlaneEndpoint', 'config', NULL, NULL
    FROM objects WHERE kind = 'ConfigMap' AND namespace = 'kube-system' AND name = 'kubeadm-config'
    UNION ALL
    SELECT lower(coalesce(
            nullif(regexp_extract(line, 'certificate is valid for .*?, not ([^\s",\\)]+)', 1), ''),
            nullif(regexp_extract(line, 'wanted to match ([^\s",\\)]+)', 1), ''),
            nullif(regexp_extract(line, 'cannot validate certificate for ([^\s",\\)]+) because', 1), ''))),
        source || ' log ' || coalesce(namespace || '/' || pod || '/' || container, service, ''),
        CASE source WHEN 'container' THEN '容器' WHEN 'node' THEN '节点' WHEN 'host' THEN '主机' ELSE source || ' ' END
            || '日志 ' || coalesce(namespace || '/' || pod || '/' || container, service, ''),
        'log', line, NULL
    FROM log_lines
    WHERE contains(line, 'certificate is valid for') OR contains(line, 'certificate is not valid for any names')
       OR contains(line, 'because it doesn''t contain any IP SANs')
    UNION ALL
    SELECT lower(coalesce(
            nullif(regexp_extract(message, 'certificate is valid for .*?, not ([^\s",\\)]+)', 1), ''),
            nullif(regexp_extract(message, 'wanted to match ([^\s",\\)]+)', 1), ''),
            nullif(regexp_extract(message, 'cannot validate certificate for ([^\s",\\)]+) because', 1), ''))),
        'event ' || reason || ' ' || coalesce(object_kind || ' ', '') || coalesce(object_namespace || '/', '') || coalesce(object_name, ''),
        '事件 ' || reason || ' ' || coalesce(object_kind || ' ', '') || coalesce(object_namespace || '/', '') || coalesce(object_name, ''),
        'log', message, NULL
    FROM events
    WHERE contains(message, 'certificate is valid for') OR contains(message, 'certificate is not valid for any names')
       OR contains(message, 'because it doesn''t contain any IP SANs')
),
checked AS (
    SELECT u.*,
        (SELECT count(*) FROM certs c WHERE (u.only_node IS NULL OR c.node = u.only_node)) AS n_certs,
        (SELECT count(*) FROM certs c
          WHERE (u.only_node IS NULL OR c.node = u.only_node)
            AND len(list_filter(c.sans, lambda s:
                    lower(s) = 'ip:' || u.host OR lower(s) = 'dns:' || u.host
                    OR (lower(s) LIKE 'dns:*.%' AND u.host LIKE '%.' || substr(lower(s), 7)
                        AND strpos(substr(u.host, 1, strlen(u.host) - strlen(lower(s)) + 5), '.') = 0))) > 0) AS n_covering,
        (SELECT list(DISTINCT c.path || ' on ' || c.node) FROM certs c WHERE (u.only_node IS NULL OR c.node = u.only_node)) AS cert_paths,
        (SELECT list(DISTINCT '节点 ' || c.node || ' 上的 ' || c.path) FROM certs c WHERE (u.only_node IS NULL OR c.node = u.only_node)) AS cert_paths_zh,
        (SELECT list(DISTINCT s) FROM certs c, unnest(c.sans) AS t(s) WHERE (u.only_node IS NULL OR c.node = u.only_node)) AS all_sans
    FROM used u
    WHERE coalesce(u.host, '') <> ''
),
per_host AS (
    SELECT host,
        list(DISTINCT origin ORDER BY origin) AS origins,
        list(DISTINCT origin_zh ORDER BY origin_zh) AS origins_zh,
        list(DISTINCT line ORDER BY line) FILTER (WHERE line IS NOT NULL) AS lines,
        bool_or(kind = 'config' AND n_certs > 0 AND n_covering = 0) AS config_uncovered,
        bool_or(kind = 'log') AS from_logs,
        max(n_certs) AS n_certs, max(n_covering) AS n_covering,
        any_value(cert_paths) FILTER (WHERE n_certs > 0) AS cert_paths,
        any_value(cert_paths_zh) FILTER (WHERE n_certs > 0) AS cert_paths_zh,
        any_value(all_sans) FILTER (WHERE n_certs > 0) AS all_sans
    FROM checked
    GROUP BY host
)
SELECT 'address/' || host AS resource, host AS name,
    CASE WHEN config_uncovered OR (from_logs AND n_certs > 0 AND n_covering = 0)
         THEN 'the API server certificate (' || array_to_string(cert_paths, ', ') || ') is not valid for ' || host
              || ', which clients use: ' || array_to_string(origins, '; ')
         ELSE 'TLS certificate name mismatch for ' || host || ' ("x509: certificate is valid for ..., not ' || host || '"): '
              || array_to_string(origins, '; ') END AS message,
    CASE WHEN config_uncovered OR (from_logs AND n_certs > 0 AND n_covering = 0)
         THEN 'API Server 证书（' || array_to_string(cert_paths_zh, '、') || '）不包含 ' || host
              || '，但客户端在使用该地址：' || array_to_string(origins_zh, '；')
         ELSE host || ' 的 TLS 证书名称不匹配（"x509: certificate is valid for ..., not ' || host || '"）：'
              || array_to_string(origins_zh, '；') END AS message_zh,
    list_concat(coalesce(lines, [])[1:3], CASE WHEN all_sans IS NOT NULL THEN ['certificate SANs: ' || array_to_string(list_sort(all_sans), ', ')] ELSE [] END) AS evidence,
    CASE WHEN config_uncovered OR (from_logs AND n_certs > 0 AND n_covering = 0) THEN 'high' ELSE 'medium' END AS severity
FROM per_host
WHERE config_uncovered OR from_logs
ORDER BY 1
