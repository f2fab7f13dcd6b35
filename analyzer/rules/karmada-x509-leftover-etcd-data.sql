/* ---
id = "karmada-x509-leftover-etcd-data"
severity = "high"
faq = ["KMD-03"]
category = "multicluster"
# Karmada components retry their informers every few seconds: two current errors in 6 hours.
recent = "6h"
min_count = 2
patterns = [
  "x509: certificate signed by unknown authority \\(possibly because of \"crypto/rsa: verification error\" while trying to verify candidate authority certificate \"karmada\"\\)",
  "candidate authority certificate \"karmada\"",
  "karmadactl init.*x509",
  "deploy\\.go:\\d+\\].*x509: certificate signed by unknown authority",
]
[title]
en = "Karmada components reject certificates (x509: signed by unknown authority): etcd data left from an earlier install"
zh = "Karmada 组件证书校验失败（x509: certificate signed by unknown authority）：etcd 中残留旧安装的数据"
[remediation]
en = """
Karmada was installed on this cluster before. `karmada-etcd` keeps its data on a `hostPath`,
and uninstalling left that data behind; the new install generated a new CA, but the old data
still serves the old one, so `karmadactl init` and the components fail with
`x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification
error" while trying to verify candidate authority certificate "karmada")`.
Uninstall, delete the leftover etcd data on every node that ran `karmada-etcd` (the default
path is `/var/lib/karmada-etcd`; if `karmadactl init --etcd-data=<dir>` was used, delete that
directory instead), then install again:
```
kubectl karmada deinit
rm -rf /var/lib/karmada-etcd          # or the --etcd-data directory
kubectl karmada init
```
See karmada issues #1467 and #2504.
"""
zh = """
该集群上曾安装过 Karmada。`karmada-etcd` 以 `hostPath` 方式挂载本地存储，卸载时数据有残留；新安装生成了新的 CA，
但残留数据仍对应旧 CA，导致 `karmadactl init` 及各组件报
`x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "karmada")`。
先卸载，在运行过 `karmada-etcd` 的每个节点上删除残留数据（默认路径 `/var/lib/karmada-etcd`；若使用了
`karmadactl init --etcd-data=<目录>` 参数，请删除对应目录），然后重新安装：
```
kubectl karmada deinit
rm -rf /var/lib/karmada-etcd          # 或 --etcd-data 指定的目录
kubectl karmada init
```
相关 Issue：karmada #1467、#2504。
"""
[message]
en = """\
{{ errors }} x509 "certificate signed by unknown authority" errors (\
{% for s in seen or [] %}{% if s.kind == 'event' %}event {{ s.ref }}{% else %}logs of {{ s.ref }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %})\
{% if karmada_ca %}, checked against another CA also named "karmada"{% endif %}\
{% if member and not own %}; they are about member cluster {{ member }}: its CA in the cluster's Secret, not old karmada-etcd data\
{% endif %}\
{% if dirs is not none %}; karmada-etcd data directory holds data on \
{% for d in dirs %}{{ d.node }}:{{ d.path }} ({{ d.entries }} entries){% if not loop.last %}, {% endif %}{% endfor %}\
{% if own %}: likely left from an earlier Karmada install\
{% else %}, where the running karmada-etcd keeps its own data, but the errors are about other endpoints\
{% endif %}\
{% else %}; check the karmada-etcd data directory ({{ etcd_paths }}) for data left from an earlier install{% endif %}"""
zh = """\
{{ errors }} 条 x509 "certificate signed by unknown authority" 错误（\
{% for s in seen or [] %}{% if s.kind == 'event' %}事件 {{ s.ref }}{% else %}{{ s.ref }} 的日志{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}）\
{% if karmada_ca %}，证书被另一个同样名为 "karmada" 的 CA 校验{% endif %}\
{% if member and not own %}；这些错误针对成员集群 {{ member }}：应检查该集群 Secret 中的 CA，而不是 karmada-etcd 的残留数据\
{% endif %}\
{% if dirs is not none %}；karmada-etcd 数据目录中有数据：\
{% for d in dirs %}{{ d.node }}:{{ d.path }}（{{ d.entries }} 个条目）{% if not loop.last %}, {% endif %}{% endfor %}\
{% if own %}，很可能是之前安装 Karmada 时残留的\
{% else %}，正在运行的 karmada-etcd 本身也在此保存数据，而这些错误针对的是其他端点\
{% endif %}\
{% else %}；请检查 karmada-etcd 数据目录（{{ etcd_paths }}）中是否有之前安装残留的数据{% endif %}"""
--- */
WITH errors AS (
    -- Karmada components (and their etcd) rejecting the certificates.
    SELECT bundle_id, 'pod/' || namespace || '/' || pod AS resource, namespace, pod AS name, node,
        {'kind': 'logs', 'ref': coalesce(container, pod)} AS seen, line AS text,
        ts, age, 1 AS n
    FROM log_lines
    WHERE source = 'container'
      AND contains(line, 'x509: certificate signed by unknown authority')
      AND (namespace LIKE 'karmada%' OR pod LIKE 'karmada-%' OR container LIKE 'karmada-%')
    UNION ALL
    SELECT e.bundle_id, lower(coalesce(e.object_kind, 'object')) || '/' || coalesce(e.object_namespace || '/', '') || coalesce(e.object_name, ''),
        e.object_namespace, e.object_name, e.source_host, {'kind': 'event', 'ref': e.reason}, e.message,
        CAST(e.last_seen AS TIMESTAMPTZ), b.collected_at - e.last_seen, coalesce(e.count, 1)
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, 'x509: certificate signed by unknown authority')
      AND (e.namespace LIKE 'karmada%' OR e.object_name LIKE 'karmada-%' OR contains(e.message, 'karmada'))
),
-- hostPath data directories of karmada-etcd (the --etcd-data directory, /var/lib/karmada-etcd by default).
etcd_paths AS (
    SELECT DISTINCT bundle_id, (v->>'$.hostPath.path') AS path
    FROM (SELECT bundle_id, unnest(from_json(template->'$.spec.volumes', '["JSON"]')) AS v
          FROM workloads WHERE (namespace LIKE 'karmada%' OR name LIKE 'karmada-%') AND name LIKE '%etcd%')
    WHERE (v->>'$.hostPath.path') IS NOT NULL
    UNION SELECT bundle_id, '/var/lib/karmada-etcd' FROM bundles WHERE kind = 'cluster'
),
-- Data in those directories on the nodes of the same cluster.
leftovers AS (
    SELECT h.cluster_bundle_id AS bundle_id,
        list({'node': d.node, 'path': d.path, 'entries': d.entries} ORDER BY d.node) AS dirs
    FROM host_leftover_dirs d JOIN host_nodes h ON h.bundle_id = d.bundle_id
    WHERE d.entries > 0
      AND EXISTS (SELECT 1 FROM etcd_paths p WHERE p.bundle_id = h.cluster_bundle_id AND p.path = d.path)
    GROUP BY h.cluster_bundle_id
),
grouped AS (
    SELECT e.bundle_id, e.resource, e.namespace, e.name, any_value(e.node) AS node,
        sum(e.n) AS n, coalesce(sum(e.n) FILTER (WHERE in_window(e.age, ${recent})), 0) AS n_recent,
        min(e.ts) AS first_seen, max(e.ts) AS last_seen,
        list(DISTINCT e.seen ORDER BY e.seen) FILTER (WHERE e.seen.ref IS NOT NULL) AS seen,
        -- The FAQ's form: two CAs both named "karmada" (this install's and the one the old data trusts).
        bool_or(contains(e.text, 'candidate authority certificate "karmada"')) AS karmada_ca,
        -- Errors reaching Karmada's own API server or etcd (what old etcd data breaks), rather than a
        -- member cluster's API server or a proxy.
        bool_or(contains(e.text, 'candidate authority certificate "karmada"')
                OR regexp_matches(e.text, '(karmada-apiserver|karmada-aggregated-apiserver|etcd)')) AS own,
        -- Karmada's controllers name the member cluster whose API server they failed to reach.
        min(nullif(regexp_extract(e.text, '(?:of the member cluster:? |status of cluster |of cluster |cluster\()([A-Za-z0-9][A-Za-z0-9.-]*)', 1), '')) AS member,
        list(e.text ORDER BY e.text)[1:3] AS lines
    FROM errors e
    GROUP BY e.bundle_id, e.resource, e.namespace, e.name
)
SELECT g.resource, g.namespace, g.name, g.node, g.bundle_id,
    g.n AS errors, g.seen, g.karmada_ca, g.own, g.member, l.dirs,
    (SELECT string_agg(DISTINCT p.path, ', ' ORDER BY p.path) FROM etcd_paths p WHERE p.bundle_id = g.bundle_id) AS etcd_paths,
    g.lines AS evidence,
    -- "certificate signed by unknown authority" alone may be any CA problem (a member cluster's,
    -- a proxy); the FAQ's "candidate authority certificate \"karmada\"" means two Karmada CAs, and
    -- data in the etcd directory on the nodes makes the earlier install the likely cause.
    -- The current install keeps its own data there too: the directory counts only for errors
    -- about Karmada's own endpoints.
    CASE WHEN g.karmada_ca AND l.dirs IS NOT NULL THEN 'high'
         WHEN g.karmada_ca OR (g.own AND l.dirs IS NOT NULL) THEN 'medium'
         -- A member cluster's CA: another problem than the FAQ's.
         WHEN NOT g.own AND g.member IS NOT NULL THEN 'info'
         ELSE 'low' END AS severity,
    g.first_seen, g.last_seen, g.n_recent AS recent_count, g.n AS count
FROM grouped g LEFT JOIN leftovers l ON l.bundle_id = g.bundle_id
ORDER BY 1
