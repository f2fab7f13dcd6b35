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
# The liveness probe execs into etcd every few seconds: while the bug bites, the exec error
# repeats and etcd keeps restarting. Restarts and errors count within the 6 hours before
# collection; 3 errors are needed when etcd is not restarting.
recent = "6h"
min_count = 3
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
[message]
en = """\
{% for p in parts %}\
  {% if p == 'restarts' %}etcd restarted {{ restart_count }} times{% if reason is not none %} (last: {{ reason }}){% endif %}\
    {% if restarting == false %}, none in the 6 hours before collection{% endif %}\
  {% elif p == 'docker' %}node {{ bad_node }} runs {{ crv }} on {{ os_image }}\
  {% elif p == 'noexec' %}but etcd's probes are not exec probes (kubeadm 1.16+ probes /health over HTTP): \
the kubelet does not exec into etcd, so this Docker bug does not restart it\
  {% else %}{{ count }} "exec failed ... decoding init error from pipe ... read parent: connection reset by peer" errors{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
{% for p in parts %}\
  {% if p == 'restarts' %}etcd 已重启 {{ restart_count }} 次{% if reason is not none %}（上次：{{ reason }}）{% endif %}\
    {% if restarting == false %}，收集前 6 小时内没有重启{% endif %}\
  {% elif p == 'docker' %}节点 {{ bad_node }} 在 {{ os_image }} 上运行 {{ crv }}\
  {% elif p == 'noexec' %}但 etcd 的探针不是 exec 探针（kubeadm 1.16 起通过 HTTP 探测 /health）：\
kubelet 不会在 etcd 中执行命令，该 Docker 缺陷不会导致其重启\
  {% else %}{{ count }} 条 "exec failed ... decoding init error from pipe ... read parent: connection reset by peer" 错误{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
[thresholds]
min_restarts = 3
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
exec_errors AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, coalesce(l.node, '') AS node,
        l.line AS text, 1 AS n, l.age, l.ts AS ts_first, l.ts AS ts_last
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE contains(l.line, 'decoding init error from pipe') AND contains(l.line, 'read parent: connection reset by peer')
    UNION ALL
    SELECT e.bundle_id, coalesce(p.node, e.source_host, ''), e.message, e.count, b.collected_at - e.last_seen,
        CAST(e.first_seen AS TIMESTAMPTZ), CAST(e.last_seen AS TIMESTAMPTZ)
    FROM events e
    JOIN bundles b ON b.bundle_id = e.bundle_id
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE contains(e.message, 'decoding init error from pipe') AND contains(e.message, 'read parent: connection reset by peer')
),
errs AS (
    SELECT cluster, node, sum(n) AS n, coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0) AS n_recent,
        min(ts_first) AS first_seen, max(ts_last) AS last_seen, list(DISTINCT text)[1:2] AS lines
    FROM exec_errors GROUP BY cluster, node
),
bad_docker AS (
    SELECT bundle_id AS cluster, name AS node, container_runtime_version AS crv, os_image FROM nodes
    WHERE container_runtime_version LIKE 'docker://1.13.1%' AND os_image LIKE 'CentOS Linux 7%'
),
etcd AS (
    SELECT c.bundle_id AS cluster, c.pod, c.node, c.restart_count, coalesce(c.last_reason, c.state_reason) AS reason,
        -- Restarting now: not ready, or its last restart inside the window.
        NOT c.ready OR coalesce(b.collected_at - c.last_finished_at <= ${recent}, false) AS restarting,
        b.collected_at - c.last_finished_at AS since_last,
        -- The bug breaks the kubelet's exec into etcd (kubeadm before 1.16 probed with etcdctl);
        -- an etcd probed over HTTP only is never exec'd into. NULL: no spec to tell.
        CASE WHEN c.spec IS NOT NULL THEN (c.spec->'$.livenessProbe.exec') IS NOT NULL
             OR (c.spec->'$.readinessProbe.exec') IS NOT NULL OR (c.spec->'$.startupProbe.exec') IS NOT NULL END AS exec_probe
    FROM containers c JOIN bundles b ON b.bundle_id = c.bundle_id
    WHERE c.namespace = 'kube-system' AND c.name = 'etcd' AND c.restart_count >= ${min_restarts}
),
j AS (
    SELECT coalesce(e.cluster, d.cluster, x.cluster) AS cluster,
        e.pod, e.restart_count, e.reason, e.restarting, e.since_last, e.exec_probe,
        nullif(coalesce(e.node, d.node, x.node), '') AS node,
        d.node AS bad_node, d.crv, d.os_image,
        x.n, x.n_recent, x.first_seen, x.last_seen, x.lines
    FROM etcd e
    FULL OUTER JOIN bad_docker d ON d.cluster = e.cluster AND d.node = e.node
    FULL OUTER JOIN errs x ON x.cluster = coalesce(e.cluster, d.cluster) AND x.node = coalesce(e.node, d.node)
),
judged AS (
    SELECT j.*,
        -- etcd restarting now, on the affected Docker or with the exec error in the window.
        coalesce(restarting, false) AND ((bad_node IS NOT NULL AND coalesce(exec_probe, true)) OR coalesce(n_recent, 0) >= ${min_count}) AS proven
    FROM j
)
SELECT
    coalesce('pod/kube-system/' || pod, 'node/' || node, 'cluster') AS resource,
    CASE WHEN pod IS NOT NULL THEN 'kube-system' END AS namespace, pod AS name,
    node, cluster AS bundle_id,
    list_filter([CASE WHEN pod IS NOT NULL AND restart_count IS NOT NULL THEN 'restarts' END,
                 CASE WHEN bad_node IS NOT NULL AND crv IS NOT NULL AND os_image IS NOT NULL THEN 'docker' END,
                 CASE WHEN bad_node IS NOT NULL AND exec_probe = false AND NOT coalesce(n > 0, false) THEN 'noexec' END,
                 CASE WHEN n > 0 THEN 'errors' END], lambda p: p IS NOT NULL) AS parts,
    restart_count, reason, restarting, bad_node, crv, os_image,
    list_concat(coalesce(lines, []), CASE WHEN bad_node IS NOT NULL THEN [bad_node || ': ' || crv || ', ' || os_image] ELSE [] END) AS evidence,
    n AS count, first_seen, last_seen,
    -- etcd restarting now proves the impact; otherwise the exec errors are judged by their window.
    CASE WHEN NOT proven AND n > 0 THEN n_recent END AS recent_count,
    CASE WHEN proven THEN 'high'
         WHEN n > 0 THEN 'medium'
         -- Old restarts on the affected Docker, no error: a risk to know, not a failure now.
         ELSE 'info' END AS severity
FROM judged
WHERE n > 0 OR (pod IS NOT NULL AND bad_node IS NOT NULL)
ORDER BY 1
