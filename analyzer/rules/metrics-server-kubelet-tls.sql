/* ---
id = "metrics-server-kubelet-tls"
severity = "high"
faq = ["KADM-20"]
category = "certificates"
# metrics-server scrapes every node each 15-60 s: a kubelet it cannot verify fails every time.
recent = "1h"
min_count = 2
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
[message]
en = """\
{% if kind == 'errors' %}\
  metrics-server cannot verify kubelet serving certificates ({{ errors }} x509 errors in its logs)\
  {% if self_signed %}; no kubelet has serverTLSBootstrap: true, their serving certificates are self-signed{% endif %}\
  {% if impact is not none %}; \
{% for i in impact %}{% if i.kind == 'apiservice' %}APIService {{ i.name }} is not Available ({{ i.reason }})\
{% else %}deployment {{ i.name }} has {{ i.ready }}/{{ i.desired }} ready replicas{% endif %}{% if not loop.last %}; {% endif %}{% endfor %}\
: node metrics (kubectl top, HPA) are unavailable{% endif %}\
{% else %}\
  metrics-server runs with --kubelet-insecure-tls: kubelet serving certificates are not verified (not recommended in production)\
{% endif %}"""
zh = """\
{% if kind == 'errors' %}\
  metrics-server 无法验证 kubelet 服务证书（其日志中有 {{ errors }} 条 x509 错误）\
  {% if self_signed %}；没有任何 kubelet 设置 serverTLSBootstrap: true，其服务证书均为自签名{% endif %}\
  {% if impact is not none %}；\
{% for i in impact %}{% if i.kind == 'apiservice' %}APIService {{ i.name }} 不可用（{{ i.reason }}）\
{% else %}Deployment {{ i.name }} 就绪副本 {{ i.ready }}/{{ i.desired }}{% endif %}{% if not loop.last %}；{% endif %}{% endfor %}\
：节点指标（kubectl top、HPA）不可用{% endif %}\
{% else %}\
  metrics-server 以 --kubelet-insecure-tls 运行：不校验 kubelet 服务证书（不建议在生产环境中使用）\
{% endif %}"""
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
    SELECT bundle_id, namespace, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT line)[1:3] AS lines
    FROM log_lines
    WHERE source = 'container' AND (pod LIKE '%metrics-server%' OR container = 'metrics-server')
      AND contains(line, 'x509')
      AND (contains(line, 'certificate signed by unknown authority')
           OR regexp_matches(line, 'x509: certificate is valid for .+ not ')
           OR contains(line, 'doesn''t contain any IP SANs'))
      -- About a kubelet it scrapes ("Failed to scrape node", 0.3's "unable to fetch metrics from
      -- Kubelet ... /stats/summary"), not a client it failed to authenticate ("Unable to
      -- authenticate the request": the front-proxy CA) nor the API server it lists nodes from.
      AND regexp_matches(lower(line), 'scrap|kubelet|/metrics/resource|/stats/summary')
      AND NOT contains(line, 'Unable to authenticate the request')
    GROUP BY ALL
),
-- Whether the kubelets of each cluster request CA-signed serving certificates (configz through
-- the API, or /var/lib/kubelet/config.yaml of node bundles).
server_tls_bootstrap AS (
    SELECT coalesce(h.cluster_bundle_id, k.bundle_id) AS bundle_id,
        count(*) FILTER (WHERE (k.config->>'$.serverTLSBootstrap') = 'true') AS on_nodes, count(*) AS total
    FROM kubelet_configs k LEFT JOIN host_nodes h ON k.source = 'file' AND h.bundle_id = k.bundle_id
    GROUP BY ALL
),
-- What stops working without node metrics: the metrics API (kubectl top, HPA) is unavailable,
-- or metrics-server itself is not ready (it reports ready only once it has scraped nodes).
impact AS (
    SELECT bundle_id, list(what ORDER BY what) AS whats, list(item ORDER BY what) AS items FROM (
        SELECT bundle_id, 'APIService ' || name || ' is not Available (' || coalesce(reason, '?') || ')' AS what,
            {'kind': 'apiservice', 'name': name, 'reason': coalesce(reason, '?'), 'ready': NULL::BIGINT, 'desired': NULL::BIGINT} AS item
        FROM apiservices WHERE "group" = 'metrics.k8s.io' AND available IN ('False', 'Unknown')
        UNION ALL
        SELECT bundle_id, 'deployment ' || namespace || '/' || name || ' has ' || coalesce(ready, 0) || '/' || desired || ' ready replicas',
            {'kind': 'deployment', 'name': namespace || '/' || name, 'reason': NULL, 'ready': coalesce(ready, 0), 'desired': desired}
        FROM workloads WHERE kind = 'Deployment' AND name LIKE '%metrics-server%' AND desired > 0 AND coalesce(ready, 0) = 0
    ) GROUP BY bundle_id
)
SELECT
    'deployment/' || l.namespace || '/metrics-server' AS resource,
    l.namespace, 'metrics-server' AS name, l.bundle_id,
    'errors' AS kind, l.n AS errors, coalesce(s.total > 0 AND s.on_nodes = 0, false) AS self_signed, i.items AS impact,
    list_concat(l.lines, coalesce(i.whats, [])) AS evidence,
    -- The errors alone may concern a few nodes; the metrics API down is an outage.
    CASE WHEN i.bundle_id IS NOT NULL THEN 'high' ELSE 'medium' END AS severity,
    l.first_seen, l.last_seen, l.n_recent AS recent_count, l.n AS count
FROM ms_logs l
LEFT JOIN server_tls_bootstrap s ON s.bundle_id = l.bundle_id
LEFT JOIN impact i ON i.bundle_id = l.bundle_id
UNION ALL
SELECT 'deployment/' || m.namespace || '/' || m.workload, m.namespace, m.workload, m.bundle_id,
    'insecure', NULL, NULL, NULL,
    ['container ' || m.name || ' args: ' || m.argv],
    -- The FAQ's own workaround, common on healthy clusters: advice, not a failure.
    'info',
    NULL, NULL, NULL, NULL
FROM ms m
WHERE regexp_matches(m.argv, '--kubelet-insecure-tls(=true)?"')
  AND NOT EXISTS (SELECT 1 FROM ms_logs l WHERE l.bundle_id = m.bundle_id AND l.namespace = m.namespace
                  AND l.n_recent >= ${min_count})
ORDER BY 1
