/* ---
id = "metrics-server-kubelet-tls"
severity = "high"
faq = ["KADM-20"]
category = "certificates"
patterns = [
  "--kubelet-insecure-tls",
  "x509: certificate is valid for .+,? not [0-9a-zA-Z.:-]+",
  "x509: cannot validate certificate for [0-9a-f.:]+ because it doesn't contain any IP SANs",
  "Failed to scrape node.*x509: certificate signed by unknown authority",
  "unable to fully scrape metrics.*x509",
]
references = ["https://github.com/kubernetes-sigs/metrics-server/blob/master/FAQ.md#how-to-run-metrics-server-securely"]
[title]
en = "metrics-server and kubelet serving certificates: insecure TLS or x509 errors"
zh = "metrics-server 与 kubelet 服务证书：不安全 TLS 或 x509 错误"
[remediation]
en = """
kubeadm deploys the kubelet with a self-signed serving certificate, so metrics-server cannot
verify it and reports `x509: certificate signed by unknown authority` or
`x509: certificate is valid for IP-foo not IP-bar` (node metrics, `kubectl top` and HPA stop
working). Running metrics-server with `--kubelet-insecure-tls` hides this by skipping
verification, which is not recommended in production. Instead enable signed kubelet serving
certificates: set `serverTLSBootstrap: true` in the kubelet configuration (kubeadm:
`KubeletConfiguration` in the `kubelet-config` ConfigMap and `/var/lib/kubelet/config.yaml`),
restart the kubelets, approve their CSRs, then remove `--kubelet-insecure-tls`.
```
kubectl get csr | grep kubernetes.io/kubelet-serving
kubectl certificate approve <csr>
kubectl -n kube-system logs deploy/metrics-server
```
See https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#kubelet-serving-certs
and https://github.com/kubernetes-sigs/metrics-server/blob/master/FAQ.md#how-to-run-metrics-server-securely
"""
zh = """
kubeadm 为 kubelet 部署的是自签名的服务证书，metrics-server 无法验证，会报 `x509: certificate signed by unknown authority`
或 `x509: certificate is valid for IP-foo not IP-bar`（节点指标、`kubectl top` 与 HPA 失效）。使用 `--kubelet-insecure-tls`
运行 metrics-server 会跳过校验，不建议在生产环境中这样使用。请为 kubelet 启用签名的服务证书：在 kubelet 配置中设置
`serverTLSBootstrap: true`（kubeadm：`kubelet-config` ConfigMap 中的 `KubeletConfiguration` 以及 `/var/lib/kubelet/config.yaml`），
重启 kubelet 并批准其 CSR，然后去掉 `--kubelet-insecure-tls`。
```
kubectl get csr | grep kubernetes.io/kubelet-serving
kubectl certificate approve <csr>
kubectl -n kube-system logs deploy/metrics-server
```
参见 https://kubernetes.io/zh-cn/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#kubelet-serving-certs
以及 https://github.com/kubernetes-sigs/metrics-server/blob/master/FAQ.md#how-to-run-metrics-server-securely
"""
--- */
WITH ms AS (
    SELECT bundle_id, namespace, workload, name,
        concat_ws(' ', CAST(command AS VARCHAR), CAST(args AS VARCHAR)) AS argv
    FROM workload_containers
    WHERE kind = 'Deployment' AND container_type = 'regular'
      AND (workload LIKE '%metrics-server%' OR image LIKE '%metrics-server%')
      AND image LIKE '%metrics-server%'
),
ms_logs AS (
    SELECT bundle_id, namespace, count(*) AS n, list(DISTINCT line)[1:3] AS lines FROM log_lines
    WHERE source = 'container' AND (pod LIKE '%metrics-server%' OR container = 'metrics-server')
      AND contains(line, 'x509')
      AND (contains(line, 'certificate signed by unknown authority')
           OR regexp_matches(line, 'x509: certificate is valid for .+ not ')
           OR contains(line, 'doesn''t contain any IP SANs'))
    GROUP BY ALL
),
server_tls_bootstrap AS (
    SELECT count(*) FILTER (WHERE (config->>'$.serverTLSBootstrap') = 'true') AS on_nodes, count(*) AS total
    FROM kubelet_configs
)
SELECT
    'deployment/' || l.namespace || '/metrics-server' AS resource,
    l.namespace, 'metrics-server' AS name, l.bundle_id,
    'metrics-server cannot verify kubelet serving certificates (' || l.n || ' x509 errors in its logs)'
        || CASE WHEN s.total > 0 AND s.on_nodes = 0 THEN '; no kubelet has serverTLSBootstrap: true, their serving certificates are self-signed' ELSE '' END AS message,
    'metrics-server 无法验证 kubelet 服务证书（其日志中有 ' || l.n || ' 条 x509 错误）'
        || CASE WHEN s.total > 0 AND s.on_nodes = 0 THEN '；没有任何 kubelet 设置 serverTLSBootstrap: true，其服务证书均为自签名' ELSE '' END AS message_zh,
    l.lines AS evidence,
    'high' AS severity
FROM ms_logs l, server_tls_bootstrap s
UNION ALL
SELECT 'deployment/' || m.namespace || '/' || m.workload, m.namespace, m.workload, m.bundle_id,
    'metrics-server runs with --kubelet-insecure-tls: kubelet serving certificates are not verified (not recommended in production)',
    'metrics-server 以 --kubelet-insecure-tls 运行：不校验 kubelet 服务证书（不建议在生产环境中使用）',
    ['container ' || m.name || ' args: ' || m.argv],
    'low'
FROM ms m
WHERE regexp_matches(m.argv, '--kubelet-insecure-tls(=true)?"')
  AND m.namespace NOT IN (SELECT namespace FROM ms_logs)
ORDER BY 1
