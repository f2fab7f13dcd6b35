/* ---
id = "etcd-restarts-docker-exec-bug"
severity = "high"
faq = ["KADM-14"]
category = "control-plane"
patterns = [
  "oci runtime error: exec failed: container_linux\\.go:247: starting container process caused \\\\?\"process_linux\\.go:110: decoding init error from pipe caused",
  "decoding init error from pipe caused .*read parent: connection reset by peer",
  "read parent: connection reset by peer",
]
[title]
en = "etcd keeps restarting: Docker 1.13.1 on CentOS 7 breaks exec into the etcd container"
zh = "etcd Pod 持续重启：CentOS 7 上的 Docker 1.13.1 导致无法在 etcd 容器中执行命令"
[remediation]
en = """
Docker 1.13.1-84 on CentOS 7 prevents the kubelet from executing into the etcd container, so the
exec liveness probe fails with
`rpc error: code = 2 desc = oci runtime error: exec failed: container_linux.go:247: starting container process caused "process_linux.go:110: decoding init error from pipe caused \\"read parent: connection reset by peer\\""`
and etcd is restarted again and again. Either roll back to an earlier Docker, e.g. 1.13.1-75:
```
yum downgrade docker-1.13.1-75.git8633870.el7.centos.x86_64 docker-client-1.13.1-75.git8633870.el7.centos.x86_64 docker-common-1.13.1-75.git8633870.el7.centos.x86_64
```
or install one of the more recent recommended versions, such as 18.06:
```
sudo yum-config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo
yum install docker-ce-18.06.1.ce-3.el7.x86_64
```
"""
zh = """
CentOS 7 上的 Docker 1.13.1-84 会阻止 kubelet 在 etcd 容器中执行命令，exec 存活探针失败并报
`rpc error: code = 2 desc = oci runtime error: exec failed: container_linux.go:247: starting container process caused "process_linux.go:110: decoding init error from pipe caused \\"read parent: connection reset by peer\\""`，
etcd 因此不断重启。请选择以下方法之一：回滚到早期版本的 Docker，例如 1.13.1-75：
```
yum downgrade docker-1.13.1-75.git8633870.el7.centos.x86_64 docker-client-1.13.1-75.git8633870.el7.centos.x86_64 docker-common-1.13.1-75.git8633870.el7.centos.x86_64
```
或安装较新的推荐版本之一，例如 18.06：
```
sudo yum-config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo
yum install docker-ce-18.06.1.ce-3.el7.x86_64
```
"""
[thresholds]
min_restarts = 3
--- */
WITH exec_errors AS (
    SELECT bundle_id, coalesce(node, '') AS node, line AS text, 1 AS n FROM log_lines
    WHERE contains(line, 'decoding init error from pipe') AND contains(line, 'read parent: connection reset by peer')
    UNION ALL
    SELECT e.bundle_id, coalesce(p.node, e.source_host, ''), e.message, e.count FROM events e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE contains(e.message, 'decoding init error from pipe') AND contains(e.message, 'read parent: connection reset by peer')
),
errs AS (
    SELECT node, any_value(bundle_id) AS bundle_id, sum(n) AS n, list(DISTINCT text)[1:2] AS lines FROM exec_errors GROUP BY node
),
bad_docker AS (
    SELECT bundle_id, name AS node, container_runtime_version AS crv, os_image FROM nodes
    WHERE container_runtime_version LIKE 'docker://1.13.1%' AND os_image LIKE 'CentOS Linux 7%'
),
etcd AS (
    SELECT c.bundle_id, c.pod, c.node, c.restart_count, coalesce(c.last_reason, c.state_reason) AS reason
    FROM containers c
    WHERE c.namespace = 'kube-system' AND c.name = 'etcd' AND c.restart_count >= ${min_restarts}
)
SELECT
    coalesce('pod/kube-system/' || e.pod, 'node/' || nullif(coalesce(d.node, x.node), ''), 'cluster') AS resource,
    CASE WHEN e.pod IS NOT NULL THEN 'kube-system' END AS namespace, e.pod AS name,
    nullif(coalesce(e.node, d.node, x.node), '') AS node,
    coalesce(e.bundle_id, d.bundle_id, x.bundle_id) AS bundle_id,
    concat_ws('; ',
        CASE WHEN e.pod IS NOT NULL THEN 'etcd restarted ' || e.restart_count || ' times' || coalesce(' (last: ' || e.reason || ')', '') END,
        CASE WHEN d.node IS NOT NULL THEN 'node ' || d.node || ' runs ' || d.crv || ' on ' || d.os_image END,
        CASE WHEN x.n > 0 THEN x.n || ' "exec failed ... decoding init error from pipe ... read parent: connection reset by peer" errors' END) AS message,
    concat_ws('；',
        CASE WHEN e.pod IS NOT NULL THEN 'etcd 已重启 ' || e.restart_count || ' 次' || coalesce('（上次：' || e.reason || '）', '') END,
        CASE WHEN d.node IS NOT NULL THEN '节点 ' || d.node || ' 在 ' || d.os_image || ' 上运行 ' || d.crv END,
        CASE WHEN x.n > 0 THEN x.n || ' 条 "exec failed ... decoding init error from pipe ... read parent: connection reset by peer" 错误' END) AS message_zh,
    list_concat(coalesce(x.lines, []), CASE WHEN d.node IS NOT NULL THEN [d.node || ': ' || d.crv || ', ' || d.os_image] ELSE [] END) AS evidence
FROM etcd e
FULL OUTER JOIN bad_docker d ON d.node = e.node
FULL OUTER JOIN errs x ON x.node = coalesce(e.node, d.node)
WHERE x.n > 0 OR (e.pod IS NOT NULL AND d.node IS NOT NULL)
ORDER BY 1
