/* ---
id = "pod-sandbox-create-timeout"
severity = "high"
faq = ["WNR-18"]
category = "runtime"
patterns = [
  "Failed to create pod sandbox: rpc error: code = (Unknown|DeadlineExceeded) desc = .*(context deadline exceeded|operation timeout)",
  "failed to create a sandbox for pod \"[^\"]*\": operation timeout: context deadline exceeded",
  "RunPodSandbox from runtime service failed.*(context deadline exceeded|DeadlineExceeded)",
  "CreatePodSandboxError.*context deadline exceeded",
]
[title]
en = "Pod sandboxes time out on creation (FailedCreatePodSandBox: context deadline exceeded)"
zh = "Pod 沙箱创建超时 (FailedCreatePodSandBox: context deadline exceeded)"
[remediation]
en = """
The kubelet asked the container runtime to start the pod's sandbox (pause container + network
setup) and gave up after its deadline: `Failed to create pod sandbox: rpc error: code = Unknown
desc = failed to create a sandbox for pod "...": operation timeout: context deadline exceeded`.
When it happens on one node, that node's runtime (dockerd/containerd), its CNI plugin or its
disks are stuck — in the FAQ's case one master node was unhealthy and rebooting it fixed it.
Check the runtime and kubelet logs of the node named below, restart the runtime (or the node),
then verify that new pods start, e.g. with a test Job:
```
journalctl -u containerd -u docker -u kubelet --since -1h | grep -i sandbox
systemctl restart containerd   # or docker; reboot the node if it does not recover
kubectl apply -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: alpine-pwd
spec:
  template:
    spec:
      containers:
        - name: alpine
          image: wener/base
          command: ['pwd']
      restartPolicy: Never
  backoffLimit: 4
YAML
```
"""
zh = """
kubelet 请求容器运行时创建 Pod 沙箱（pause 容器 + 网络配置），超过期限后放弃：`Failed to create pod sandbox:
rpc error: code = Unknown desc = failed to create a sandbox for pod "...": operation timeout: context deadline exceeded`。
若集中在某个节点，说明该节点的运行时（dockerd/containerd）、CNI 插件或磁盘卡住——FAQ 中的案例是一个主节点异常，
重启后恢复。检查下列节点的运行时和 kubelet 日志，重启运行时（或节点），再用测试 Job 验证能否正常创建 Pod：
```
journalctl -u containerd -u docker -u kubelet --since -1h | grep -i sandbox
systemctl restart containerd   # 或 docker；无法恢复时重启节点
kubectl apply -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: alpine-pwd
spec:
  template:
    spec:
      containers:
        - name: alpine
          image: wener/base
          command: ['pwd']
      restartPolicy: Never
  backoffLimit: 4
YAML
```
"""
--- */
WITH ev AS (
    SELECT e.bundle_id, coalesce(e.source_host, p.node) AS node,
        e.object_namespace || '/' || e.object_name AS pod, e.count AS n, e.message AS line,
        p.phase, coalesce(p.ready, false) AS ready, 'event' AS what, '事件' AS what_zh
    FROM events e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE e.reason = 'FailedCreatePodSandBox'
      AND (contains(e.message, 'context deadline exceeded') OR contains(e.message, 'DeadlineExceeded') OR contains(e.message, 'operation timeout'))
),
logs AS (
    SELECT bundle_id, node,
        nullif(regexp_extract(line, '\spod="([^"]+)"', 1), '') AS pod,
        1 AS n, line, NULL AS phase, NULL AS ready, source || ' log ' || coalesce(service, container, '') AS what,
        source || ' 日志 ' || coalesce(service, container, '') AS what_zh
    FROM log_lines
    WHERE (contains(line, 'context deadline exceeded') OR contains(line, 'DeadlineExceeded') OR contains(line, 'operation timeout'))
      AND (contains(line, 'RunPodSandbox') OR contains(line, 'CreatePodSandbox') OR contains(line, 'create pod sandbox')
           OR contains(line, 'create sandbox for pod') OR contains(line, 'create a sandbox for pod'))
),
allhits AS (SELECT * FROM ev UNION ALL SELECT * FROM logs),
per_node AS (
    SELECT node, any_value(bundle_id) AS bundle_id,
        coalesce(sum(n) FILTER (WHERE what = 'event'), 0) AS ev_n,
        count(*) FILTER (WHERE what <> 'event') AS log_n,
        count(DISTINCT pod) AS pods,
        count(DISTINCT pod) FILTER (WHERE what = 'event' AND phase = 'Pending') AS pending,
        string_agg(DISTINCT what, ', ' ORDER BY what) AS seen,
        string_agg(DISTINCT what_zh, '、' ORDER BY what_zh) AS seen_zh,
        list(DISTINCT 'pod ' || pod ORDER BY 'pod ' || pod) FILTER (WHERE pod IS NOT NULL) AS pod_list,
        list(line ORDER BY what, line) AS lines,
        sum(n) AS total
    FROM allhits
    GROUP BY node
)
SELECT
    coalesce('node/' || node, 'cluster') AS resource, node, node AS name, bundle_id,
    'pod sandbox creation timed out (context deadline exceeded)'
        || CASE WHEN node IS NULL THEN '' ELSE ' on node ' || node END || ': '
        || concat_ws(', ',
            CASE WHEN ev_n > 0 THEN ev_n || ' FailedCreatePodSandBox events' END,
            CASE WHEN log_n > 0 THEN log_n || ' runtime/kubelet log lines' END)
        || ', ' || pods || ' pod(s) affected'
        || CASE WHEN pending > 0 THEN ', ' || pending || ' still Pending' ELSE '' END
        || ' (seen in ' || seen || ')' AS message,
    CASE WHEN node IS NULL THEN '' ELSE '节点 ' || node || ' 上的 ' END
        || 'Pod sandbox 创建超时（context deadline exceeded）：'
        || concat_ws('，',
            CASE WHEN ev_n > 0 THEN ev_n || ' 个 FailedCreatePodSandBox 事件' END,
            CASE WHEN log_n > 0 THEN log_n || ' 行运行时/kubelet 日志' END)
        || '，' || pods || ' 个 Pod 受影响'
        || CASE WHEN pending > 0 THEN '，其中 ' || pending || ' 个仍处于 Pending' ELSE '' END
        || '（见于 ' || seen_zh || '）' AS message_zh,
    total AS count,
    list_concat(coalesce(pod_list, [])[1:5], lines[1:3]) AS evidence,
    CASE WHEN pending > 0 THEN 'high' ELSE 'medium' END AS severity
FROM per_node
ORDER BY 1
