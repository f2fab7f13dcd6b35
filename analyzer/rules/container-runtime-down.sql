/* ---
id = "container-runtime-down"
severity = "high"
faq = ["KADM-04"]
category = "nodes"
patterns = [
  "container runtime is down",
  "Container runtime not ready",
  "RuntimeReady=false",
  "Cannot connect to the Docker daemon at unix://",
  "dial unix [^ ]*(containerd|docker|crio|cri-dockerd)\\.sock: connect: (no such file or directory|connection refused)",
  "\\[reset\\] Removing kubernetes-managed containers",
  "CRI v1 runtime API is not implemented for endpoint",
]
[title]
en = "Container runtime not running or not answering on the node"
zh = "节点上的容器运行时未运行或无响应"
[remediation]
en = """
The kubelet cannot talk to the container runtime: its socket is missing or refuses
connections, and the kubelet logs `container runtime is down`. Pods on the node stop being
managed, and `kubeadm reset` blocks at `[reset] Removing kubernetes-managed containers`.
Restart the runtime (Docker, containerd or CRI-O), check its own log, then re-run what was
blocked (e.g. `kubeadm reset`). Use `crictl` to check the runtime's state:
```
systemctl status containerd      # or docker / crio
systemctl restart containerd     # or: systemctl restart docker
journalctl -u containerd -n 100
crictl --runtime-endpoint unix:///run/containerd/containerd.sock info
sudo kubeadm reset
```
See https://kubernetes.io/docs/tasks/debug/debug-cluster/crictl/
"""
zh = """
kubelet 无法与容器运行时通信：运行时 socket 不存在或拒绝连接，kubelet 日志报 `container runtime is down`。
该节点上的 Pod 无法被管理，`kubeadm reset` 会阻塞在 `[reset] Removing kubernetes-managed containers`。
请重启容器运行时（Docker、containerd 或 CRI-O），查看其日志，然后重新执行被阻塞的操作（例如 `kubeadm reset`）。
可以使用 `crictl` 调试容器运行时的状态：
```
systemctl status containerd      # 或 docker / crio
systemctl restart containerd     # 或：systemctl restart docker
journalctl -u containerd -n 100
crictl --runtime-endpoint unix:///run/containerd/containerd.sock info
sudo kubeadm reset
```
参见 https://kubernetes.io/zh-cn/docs/tasks/debug/debug-cluster/crictl/
"""
[thresholds]
# Log lines needed to report a node on logs alone (the kubelet logs a few at every boot).
min_log_lines = 3
--- */
WITH hn AS (
    SELECT h.bundle_id, h.node, n.kubelet_version, n.container_runtime_version AS crv,
        json_extract_string(n.annotations, '$."kubeadm.alpha.kubernetes.io/cri-socket"') AS cri_annotation
    FROM host_nodes h LEFT JOIN nodes n ON n.name = h.node
),
flag_endpoint AS (
    SELECT node, max(regexp_extract(content, '--container-runtime-endpoint[= ]"?([^" \n]+)', 1)) AS ep
    FROM host_files
    WHERE (path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet')
           OR path LIKE '%/kubelet.service.d/%')
      AND contains(content, '--container-runtime-endpoint')
    GROUP BY node
),
expected AS (
    SELECT hn.bundle_id, hn.node, hn.crv,
        regexp_replace(regexp_replace(coalesce(
            (SELECT max(k.config->>'$.containerRuntimeEndpoint') FROM kubelet_configs k WHERE k.node = hn.node),
            (SELECT f.ep FROM flag_endpoint f WHERE f.node = hn.node),
            hn.cri_annotation,
            CASE WHEN hn.kubelet_version LIKE '%k3s%' THEN '/run/k3s/containerd/containerd.sock'
                 WHEN hn.crv LIKE 'containerd://%' THEN '/run/containerd/containerd.sock'
                 WHEN hn.crv LIKE 'cri-o://%' THEN '/run/crio/crio.sock'
                 WHEN hn.crv LIKE 'docker://%' AND version_minor(hn.kubelet_version) < 24 THEN '/var/run/docker.sock'
                 WHEN hn.crv LIKE 'docker://%' THEN '/var/run/cri-dockerd.sock' END),
            '^unix://', ''), '^/var/run/', '/run/') AS socket
    FROM hn
),
sockets AS (
    SELECT bundle_id, node, regexp_replace(path, '^/var/run/', '/run/') AS socket, path, present FROM host_runtime_sockets
),
socket_findings AS (
    SELECT e.bundle_id, e.node,
        'runtime socket ' || s.path || ' does not exist' || coalesce(' (node runtime ' || e.crv || ')', '') AS what,
        '运行时 socket ' || s.path || ' 不存在' || coalesce('（节点运行时 ' || e.crv || '）', '') AS what_zh
    FROM expected e JOIN sockets s ON s.node = e.node AND s.socket = e.socket
    WHERE NOT s.present
    UNION ALL
    -- Runtime unknown: not one of the usual sockets exists.
    SELECT e.bundle_id, e.node, 'none of the container runtime sockets exists (' || string_agg(s.path, ', ' ORDER BY s.path) || ')',
        '所有容器运行时 socket 都不存在（' || string_agg(s.path, ', ' ORDER BY s.path) || '）'
    FROM expected e JOIN sockets s ON s.node = e.node
    WHERE e.socket IS NULL OR e.socket NOT IN (SELECT socket FROM sockets x WHERE x.node = e.node)
    GROUP BY e.bundle_id, e.node
    HAVING NOT bool_or(s.present)
),
-- The runtime's own service log ends with systemd stopping it or recording its failure.
svc_stopped AS (
    SELECT l.bundle_id, l.node,
        l.service || ' service is not running (last journal line: ' || arg_max(l.line, l.line_no) || ')' AS what,
        l.service || ' 服务未在运行（journal 最后一行：' || arg_max(l.line, l.line_no) || '）' AS what_zh
    FROM log_lines l
    JOIN expected e ON e.node = l.node
    WHERE l.source IN ('host', 'node')
      AND l.service = CASE WHEN e.crv LIKE 'containerd://%' THEN 'containerd' WHEN e.crv LIKE 'docker://%' THEN 'docker'
                           WHEN e.crv LIKE 'cri-o://%' THEN 'crio' END
    GROUP BY l.bundle_id, l.node, l.service
    HAVING regexp_matches(arg_max(l.line, l.line_no),
        '(Stopped (containerd container runtime|Docker Application Container Engine|Container Runtime Interface for OCI)|\.service: (Failed with result|Main process exited|Deactivated successfully)|Stopping (containerd|Docker|Container Runtime))')
),
log_hits AS (
    SELECT bundle_id, node, line FROM log_lines
    WHERE source IN ('node', 'host')
      AND (contains(line, 'container runtime is down')
           OR contains(line, 'RuntimeReady=false')
           OR contains(line, 'Cannot connect to the Docker daemon')
           OR contains(line, 'CRI v1 runtime API is not implemented')
           OR regexp_matches(line, 'dial unix [^ ]*(containerd|docker|dockershim|crio|cri-dockerd)\.sock: connect: (no such file or directory|connection refused)'))
),
logs AS (
    SELECT node, any_value(bundle_id) AS bundle_id, count(*) AS n, list(line ORDER BY line)[1:3] AS lines
    FROM log_hits WHERE node IS NOT NULL GROUP BY node
),
cond AS (
    SELECT bundle_id, node, 'node Ready=' || status || ': ' || coalesce(message, reason, '') AS what,
        '节点 Ready=' || status || '：' || coalesce(message, reason, '') AS what_zh
    FROM node_conditions
    WHERE type = 'Ready' AND status <> 'True'
      AND (contains(lower(coalesce(message, '')), 'container runtime is down')
           OR contains(coalesce(message, ''), 'RuntimeReady=false')
           OR contains(lower(coalesce(message, '')), 'container runtime not ready'))
),
state AS (
    SELECT bundle_id, node, what, what_zh FROM socket_findings
    UNION ALL SELECT bundle_id, node, what, what_zh FROM svc_stopped
),
nodes_all AS (
    SELECT node FROM state UNION SELECT node FROM cond
    UNION SELECT node FROM logs WHERE n >= ${min_log_lines}
)
SELECT
    'node/' || a.node AS resource,
    a.node,
    coalesce((SELECT any_value(bundle_id) FROM state s WHERE s.node = a.node),
             (SELECT any_value(bundle_id) FROM cond c WHERE c.node = a.node), l.bundle_id) AS bundle_id,
    'container runtime down on node ' || a.node || ': ' || concat_ws('; ',
        (SELECT string_agg(what, '; ') FROM state s WHERE s.node = a.node),
        (SELECT string_agg(what, '; ') FROM cond c WHERE c.node = a.node),
        CASE WHEN l.n > 0 THEN l.n || ' kubelet/runtime log lines (container runtime is down / socket unreachable)' END) AS message,
    '节点 ' || a.node || ' 上的容器运行时不可用：' || concat_ws('；',
        (SELECT string_agg(what_zh, '；') FROM state s WHERE s.node = a.node),
        (SELECT string_agg(what_zh, '；') FROM cond c WHERE c.node = a.node),
        CASE WHEN l.n > 0 THEN l.n || ' 行 kubelet/运行时日志（container runtime is down / socket 无法连接）' END) AS message_zh,
    list_concat(coalesce(l.lines, []),
        coalesce((SELECT list(what) FROM cond c WHERE c.node = a.node), [])) AS evidence,
    CASE WHEN a.node IN (SELECT node FROM state UNION SELECT node FROM cond) THEN 'high' ELSE 'medium' END AS severity
FROM nodes_all a
LEFT JOIN logs l ON l.node = a.node
ORDER BY 1
