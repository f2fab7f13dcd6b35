/* ---
id = "karmada-x509-leftover-etcd-data"
severity = "high"
faq = ["KMD-03"]
category = "multicluster"
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
--- */
WITH errors AS (
    -- Karmada components (and their etcd) rejecting the certificates.
    SELECT bundle_id, 'pod/' || namespace || '/' || pod AS resource, namespace, pod AS name, node,
        'logs of ' || coalesce(container, pod) AS seen, coalesce(container, pod) || ' 的日志' AS seen_zh, line AS text
    FROM log_lines
    WHERE source = 'container'
      AND contains(line, 'x509: certificate signed by unknown authority')
      AND (namespace LIKE 'karmada%' OR pod LIKE 'karmada-%' OR container LIKE 'karmada-%')
    UNION ALL
    SELECT bundle_id, lower(coalesce(object_kind, 'object')) || '/' || coalesce(object_namespace || '/', '') || coalesce(object_name, ''),
        object_namespace, object_name, source_host, 'event ' || reason, '事件 ' || reason, message
    FROM events
    WHERE contains(message, 'x509: certificate signed by unknown authority')
      AND (namespace LIKE 'karmada%' OR object_name LIKE 'karmada-%' OR contains(message, 'karmada'))
),
-- hostPath data directories of karmada-etcd (the --etcd-data directory, /var/lib/karmada-etcd by default).
etcd_paths AS (
    SELECT DISTINCT v->>'$.hostPath.path' AS path
    FROM (SELECT unnest(from_json(template->'$.spec.volumes', '["JSON"]')) AS v
          FROM workloads WHERE (namespace LIKE 'karmada%' OR name LIKE 'karmada-%') AND name LIKE '%etcd%')
    WHERE v->>'$.hostPath.path' IS NOT NULL
    UNION SELECT '/var/lib/karmada-etcd'
),
leftovers AS (
    SELECT list(d.node || ':' || d.path || ' (' || d.entries || ' entries)' ORDER BY d.node) AS dirs,
        list(d.node || ':' || d.path || '（' || d.entries || ' 个条目）' ORDER BY d.node) AS dirs_zh
    FROM host_leftover_dirs d
    WHERE d.entries > 0 AND d.path IN (SELECT path FROM etcd_paths)
)
SELECT e.resource, e.namespace, e.name, any_value(e.node) AS node, any_value(e.bundle_id) AS bundle_id,
    count(*) || ' x509 "certificate signed by unknown authority" errors (' || string_agg(DISTINCT e.seen, ', ') || ')'
        || CASE WHEN len(l.dirs) > 0 THEN '; karmada-etcd data directory holds data on ' || array_to_string(l.dirs, ', ')
                    || ': likely left from an earlier Karmada install'
                ELSE '; check the karmada-etcd data directory (' || (SELECT string_agg(path, ', ' ORDER BY path) FROM etcd_paths)
                    || ') for data left from an earlier install' END AS message,
    count(*) || ' 条 x509 "certificate signed by unknown authority" 错误（' || string_agg(DISTINCT e.seen_zh, ', ') || '）'
        || CASE WHEN len(l.dirs) > 0 THEN '；karmada-etcd 数据目录中有数据：' || array_to_string(any_value(l.dirs_zh), ', ')
                    || '，很可能是之前安装 Karmada 时残留的'
                ELSE '；请检查 karmada-etcd 数据目录（' || (SELECT string_agg(path, ', ' ORDER BY path) FROM etcd_paths)
                    || '）中是否有之前安装残留的数据' END AS message_zh,
    list(e.text ORDER BY e.text)[1:3] AS evidence,
    count(*) AS count
FROM errors e CROSS JOIN leftovers l
GROUP BY e.resource, e.namespace, e.name, l.dirs
ORDER BY 1
