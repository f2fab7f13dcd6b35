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
# A sandbox that times out once on a busy node and then starts is noise. The FAQ's case (a
# node that stopped creating sandboxes) keeps failing: a pod still Pending on it, or at least
# 3 failures in the hour before collection.
recent = "1h"
min_count = 3
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
[message]
en = """\
pod sandbox creation timed out (context deadline exceeded){% if node is not none %} on node {{ node }}{% endif %}: \
{% if ev_n > 0 %}{{ ev_n }} FailedCreatePodSandBox events{% endif %}{% if ev_n > 0 and log_n > 0 %}, {% endif %}\
{% if log_n > 0 %}{{ log_n }} runtime/kubelet log lines{% endif %}\
, {{ pods }} pod(s) affected{% if pending > 0 %}, {{ pending }} still Pending{% endif %} \
(seen in {% for s in seen or [] %}{% if s.kind == 'event' %}event{% else %}{{ s.kind }} log {{ s.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %})"""
zh = """\
{% if node is not none %}节点 {{ node }} 上的 {% endif %}Pod sandbox 创建超时（context deadline exceeded）：\
{% if ev_n > 0 %}{{ ev_n }} 个 FailedCreatePodSandBox 事件{% endif %}{% if ev_n > 0 and log_n > 0 %}，{% endif %}\
{% if log_n > 0 %}{{ log_n }} 行运行时/kubelet 日志{% endif %}\
，{{ pods }} 个 Pod 受影响{% if pending > 0 %}，其中 {{ pending }} 个仍处于 Pending{% endif %}\
（见于 {% for s in seen or [] %}{% if s.kind == 'event' %}事件{% else %}{{ s.kind }} 日志 {{ s.ref }}{% endif %}\
{% if not loop.last %}、{% endif %}{% endfor %}）"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
ev AS (
    SELECT e.bundle_id AS cluster, coalesce(e.source_host, p.node) AS node,
        e.object_namespace || '/' || e.object_name AS pod, e.count AS n, e.message AS line,
        -- Still waiting for its sandbox: Pending, no container of it started or past creation
        -- (ImagePullBackOff, CreateContainerConfigError come after the sandbox), no sandbox
        -- reported (PodReadyToStartContainers, PodHasNetwork before 1.29, a pod IP off the
        -- host network), no image pulled or container created since the failure.
        p.phase = 'Pending' AND NOT EXISTS (
            SELECT 1 FROM containers c WHERE c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name
              AND (c.state IN ('running', 'terminated')
                   OR (c.state = 'waiting' AND coalesce(c.state_reason, '') NOT IN ('', 'ContainerCreating', 'PodInitializing'))))
          AND NOT pod_has_sandbox(p.conditions, p.host_network, p.pod_ip)
          AND NOT EXISTS (
            SELECT 1 FROM events x WHERE x.bundle_id = e.bundle_id AND x.object_kind = 'Pod'
              AND x.object_namespace = e.object_namespace AND x.object_name = e.object_name
              AND x.reason IN ('Pulling', 'Pulled', 'Created', 'Started') AND x.last_seen >= e.last_seen) AS pending,
        b.collected_at - e.last_seen AS age, CAST(e.first_seen AS TIMESTAMPTZ) AS ts_first, CAST(e.last_seen AS TIMESTAMPTZ) AS ts_last,
        'event' AS what, {'kind': 'event', 'ref': NULL::VARCHAR} AS src
    FROM events e
    JOIN bundles b ON b.bundle_id = e.bundle_id
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE e.reason = 'FailedCreatePodSandBox'
      AND (contains(e.message, 'context deadline exceeded') OR contains(e.message, 'DeadlineExceeded') OR contains(e.message, 'operation timeout'))
),
logs AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node,
        nullif(regexp_extract(l.line, '\spod="([^"]+)"', 1), '') AS pod,
        1 AS n, l.line, NULL::BOOLEAN AS pending, l.age, l.ts AS ts_first, l.ts AS ts_last,
        l.source || ' log ' || coalesce(l.service, l.container, '') AS what,
        -- A log's kind is its source: container, node or host.
        {'kind': l.source, 'ref': coalesce(l.service, l.container, '')} AS src
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    -- "andbox" is in every sandbox wording below: one test for most lines (CASE keeps the order).
    WHERE CASE WHEN contains(l.line, 'andbox')
          THEN (contains(l.line, 'context deadline exceeded') OR contains(l.line, 'DeadlineExceeded') OR contains(l.line, 'operation timeout'))
               AND (contains(l.line, 'RunPodSandbox') OR contains(l.line, 'CreatePodSandbox') OR contains(l.line, 'create pod sandbox')
                    OR contains(l.line, 'create sandbox for pod') OR contains(l.line, 'create a sandbox for pod'))
          ELSE false END
),
allhits AS (SELECT * FROM ev UNION ALL SELECT * FROM logs),
per_node AS (
    SELECT cluster, node,
        coalesce(sum(n) FILTER (WHERE what = 'event'), 0) AS ev_n,
        count(*) FILTER (WHERE what <> 'event') AS log_n,
        count(DISTINCT pod) AS pods,
        count(DISTINCT pod) FILTER (WHERE what = 'event' AND pending) AS pending,
        -- Kinds sort as their English names: container, event, host, node.
        list(DISTINCT src ORDER BY src) FILTER (WHERE src.kind IS NOT NULL) AS seen,
        list(DISTINCT 'pod ' || pod ORDER BY 'pod ' || pod) FILTER (WHERE pod IS NOT NULL) AS pod_list,
        list(line ORDER BY what, line) AS lines,
        sum(n) AS total,
        -- Events count with their last time: an event in the window stands for its repeats.
        coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0) AS recent_n,
        min(ts_first) AS first_seen, max(ts_last) AS last_seen
    FROM allhits
    GROUP BY cluster, node
)
SELECT
    coalesce('node/' || node, 'cluster') AS resource, node, node AS name, cluster AS bundle_id,
    ev_n, log_n, pods, pending, seen,
    total AS count, first_seen, last_seen,
    -- A pod still waiting for its sandbox is the impact itself.
    CASE WHEN pending = 0 THEN recent_n END AS recent_count,
    list_concat(coalesce(pod_list, [])[1:5], lines[1:3]) AS evidence,
    CASE WHEN pending > 0 THEN 'high' ELSE 'medium' END AS severity
FROM per_node
ORDER BY 1
