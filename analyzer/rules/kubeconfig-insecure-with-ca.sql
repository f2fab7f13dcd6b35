/* ---
id = "kubeconfig-insecure-with-ca"
severity = "medium"
faq = ["WNR-19"]
category = "certificates"
# client-go refuses the configuration outright: one current line is a client that cannot start.
recent = "6h"
patterns = ["specifying a root certificates file with the insecure flag is not allowed"]
[title]
en = "kubeconfig sets both insecure-skip-tls-verify and a CA: \"specifying a root certificates file with the insecure flag is not allowed\""
zh = "kubeconfig 同时设置了 insecure-skip-tls-verify 和 CA 证书：\"specifying a root certificates file with the insecure flag is not allowed\""
[remediation]
en = """
client-go refuses a cluster entry that has `insecure-skip-tls-verify: true` **and** a root
certificate (`certificate-authority` or `certificate-authority-data`): every kubectl or
controller call fails with `error: specifying a root certificates file with the insecure flag is
not allowed`. `insecure-skip-tls-verify` cannot be combined with the root CA: keep the CA and
drop the insecure flag (preferred), or remove the CA. Better still, create a dedicated account
(sub-account / ServiceAccount) with its own kubeconfig instead of editing the admin one.
```
kubectl config view --raw -o jsonpath='{.clusters[*].cluster}'
kubectl config set-cluster <cluster> --insecure-skip-tls-verify=false
# or remove the CA instead:
kubectl config unset clusters.<cluster>.certificate-authority-data
```
"""
zh = """
client-go 不接受同时设置了 `insecure-skip-tls-verify: true` **和** 根证书（`certificate-authority` 或
`certificate-authority-data`）的集群条目：所有 kubectl 或控制器请求都会报
`error: specifying a root certificates file with the insecure flag is not allowed`。
`insecure-skip-tls-verify` 不能与根证书同时使用：保留 CA、去掉 insecure 选项（推荐），或删除 CA。
更好的做法是新建子账号（或 ServiceAccount）并生成独立的 kubeconfig，而不是修改管理员的 kubeconfig。
```
kubectl config view --raw -o jsonpath='{.clusters[*].cluster}'
kubectl config set-cluster <cluster> --insecure-skip-tls-verify=false
# 或删除 CA：
kubectl config unset clusters.<cluster>.certificate-authority-data
```
"""
[message]
en = """\
{% if kind == 'kubeconfig' %}\
  kubeconfig {{ path }} on {{ node }}: cluster entry "{{ name }}" ({{ server if server is not none else '?' }}) \
sets insecure-skip-tls-verify together with {{ ca_field }}; \
client-go rejects it with "specifying a root certificates file with the insecure flag is not allowed"\
{% else %}\
  {{ errors }} "specifying a root certificates file with the insecure flag is not allowed" errors (\
{% for o in origins or [] %}{% if o.kind == 'event' %}event {{ o.ref }} on {{ o.object }}\
{% elif o.ref is none %}{{ o.kind }}{% else %}{{ o.kind }} log {{ o.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %}): a kubeconfig in use combines insecure-skip-tls-verify with a CA\
{% endif %}"""
zh = """\
{% if kind == 'kubeconfig' %}\
  节点 {{ node }} 上的 kubeconfig {{ path }}：集群条目 "{{ name }}"（{{ server if server is not none else '?' }}）\
同时设置了 insecure-skip-tls-verify 和 {{ ca_field }}；\
client-go 会拒绝该配置并报 "specifying a root certificates file with the insecure flag is not allowed"\
{% else %}\
  {{ errors }} 条 "specifying a root certificates file with the insecure flag is not allowed" 错误（\
{% for o in origins or [] %}{% if o.kind == 'event' %}{{ o.object }} 的事件 {{ o.ref }}\
{% elif o.ref is none %}{{ o.kind }}{% else %}{{ o.kind }} 日志 {{ o.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %}）：正在使用的某个 kubeconfig 同时设置了 insecure-skip-tls-verify 和 CA\
{% endif %}"""
--- */
WITH bad AS (
    SELECT bundle_id, node, path, name, server,
        CASE WHEN ca_embedded THEN 'certificate-authority-data' ELSE 'certificate-authority: ' || ca_path END AS ca
    FROM kubeconfig_clusters
    WHERE insecure_skip_tls_verify AND (ca_embedded OR coalesce(ca_path, '') <> '')
),
log_hits AS (
    SELECT bundle_id, node,
        -- A log's kind is its source: container, node or host.
        {'kind': source, 'ref': coalesce(namespace || '/' || pod || '/' || container, service), 'object': NULL} AS origin, line,
        ts, age, 1 AS n
    FROM log_lines
    WHERE contains(line, 'specifying a root certificates file with the insecure flag is not allowed')
    UNION ALL
    SELECT e.bundle_id, e.source_host,
        {'kind': 'event', 'ref': e.reason,
         'object': coalesce(e.object_kind || ' ', '') || coalesce(e.object_namespace || '/', '') || coalesce(e.object_name, '')}, e.message,
        CAST(e.last_seen AS TIMESTAMPTZ), b.collected_at - e.last_seen, coalesce(e.count, 1)
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, 'specifying a root certificates file with the insecure flag is not allowed')
)
SELECT 'kubeconfig/' || b.node || ':' || b.path || '#' || b.name AS resource,
    b.node, b.name, b.bundle_id,
    'kubeconfig' AS kind, b.path, b.server, split_part(b.ca, ':', 1) AS ca_field, NULL::BIGINT AS errors,
    NULL::STRUCT(kind VARCHAR, ref VARCHAR, object VARCHAR)[] AS origins,
    ['insecure-skip-tls-verify: true', b.ca] AS evidence,
    NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen, NULL::BIGINT AS recent_count, NULL::BIGINT AS count
FROM bad b
UNION ALL
SELECT coalesce('node/' || node, 'cluster'), node, NULL, bundle_id,
    'logs', NULL, NULL, NULL, sum(n),
    -- Kinds sort as their English names: container, event, host, node.
    list(DISTINCT origin ORDER BY origin) FILTER (WHERE origin.kind IS NOT NULL AND (origin.kind <> 'event' OR origin.ref IS NOT NULL)),
    list(line ORDER BY line)[1:3],
    min(ts), max(ts), coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0), sum(n)
FROM log_hits
GROUP BY bundle_id, node
ORDER BY 1
