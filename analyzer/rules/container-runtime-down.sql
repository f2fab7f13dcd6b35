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
# The kubelet logs "container runtime is down" every few seconds while it cannot reach the
# runtime, and a few times at every boot or runtime restart: a down runtime shows as at least
# 3 such lines in the last 15 minutes before collection.
recent = "15m"
min_count = 3
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
[message]
en = """\
container runtime down on node {{ node }}: \
{% for p in parts %}\
  {% if p == 'socket' %}runtime socket {{ paths | join(', ') }} does not exist{% if crv is not none %} (node runtime {{ crv }}){% endif %}\
  {% elif p == 'service' %}{{ service }} service is not running (last journal line: {{ last_line }})\
  {% elif p == 'condition' %}node Ready={{ cond_status }}: {{ cond_text }}\
  {% elif p == 'logs' %}{{ log_n }} kubelet/runtime log lines (container runtime is down / socket unreachable)\
  {% else %}the node is Ready now: the runtime answers again{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
节点 {{ node }} 上的容器运行时不可用：\
{% for p in parts %}\
  {% if p == 'socket' %}运行时 socket {{ paths | join(', ') }} 不存在{% if crv is not none %}（节点运行时 {{ crv }}）{% endif %}\
  {% elif p == 'service' %}{{ service }} 服务未在运行（journal 最后一行：{{ last_line }}）\
  {% elif p == 'condition' %}节点 Ready={{ cond_status }}：{{ cond_text }}\
  {% elif p == 'logs' %}{{ log_n }} 行 kubelet/运行时日志（container runtime is down / socket 无法连接）\
  {% else %}节点当前为 Ready：运行时已恢复响应{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
--- */
-- Only positive evidence counts: the node's Ready condition naming the runtime, or the kubelet
-- saying now that it cannot reach it. A socket the collector did not find, or a runtime service
-- whose journal ends with "Stopped", only corroborates: k0s, MicroK8s and other distributions
-- keep their runtime socket where the collector does not look.
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
node_obj AS (
    -- ready: the Ready condition, NULL when the node reports none (unknown, not NotReady).
    SELECT n.bundle_id AS cluster, n.name AS node, c.status = 'True' AS ready, n.kubelet_version, n.container_runtime_version AS crv,
        json_extract_string(n.annotations, '$."kubeadm.alpha.kubernetes.io/cri-socket"') AS cri_annotation
    FROM nodes n
    LEFT JOIN node_conditions c ON c.bundle_id = n.bundle_id AND c.node = n.name AND c.type = 'Ready'
),
-- The endpoint the kubelet is configured with (never guessed from the runtime's name).
cfg_endpoint AS (
    SELECT coalesce(h.cluster, k.bundle_id) AS cluster, k.node, max(k.config->>'$.containerRuntimeEndpoint') AS ep
    FROM kubelet_configs k LEFT JOIN hn h ON h.host_bundle = k.bundle_id
    WHERE (k.config->>'$.containerRuntimeEndpoint') IS NOT NULL
    GROUP BY ALL
),
flag_endpoint AS (
    SELECT h.cluster, h.node, max(regexp_extract(f.content, '--container-runtime-endpoint[= ]"?([^" \n]+)', 1)) AS ep
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE (f.path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet')
           OR f.path LIKE '%/kubelet.service.d/%')
      AND contains(f.content, '--container-runtime-endpoint')
    GROUP BY ALL
),
-- Every node seen: from the API, from node bundles, or both.
node_keys AS (
    SELECT cluster, node FROM node_obj
    UNION SELECT cluster, node FROM hn
),
expected AS (
    SELECT k.cluster, k.node, o.crv, o.ready, o.ready IS NOT NULL AS known, o.kubelet_version,
        regexp_replace(regexp_replace(coalesce(
            c.ep, f.ep, o.cri_annotation,
            CASE WHEN o.kubelet_version LIKE '%k3s%' OR o.kubelet_version LIKE '%rke2%' THEN '/run/k3s/containerd/containerd.sock' END),
            '^unix://', ''), '^/var/run/', '/run/') AS socket
    FROM node_keys k
    LEFT JOIN node_obj o ON o.cluster = k.cluster AND o.node = k.node
    LEFT JOIN cfg_endpoint c ON c.cluster = k.cluster AND c.node = k.node
    LEFT JOIN flag_endpoint f ON f.cluster = k.cluster AND f.node = k.node
),
sockets AS (
    SELECT h.cluster, s.node, regexp_replace(s.path, '^/var/run/', '/run/') AS socket, s.path, s.present
    FROM host_runtime_sockets s JOIN hn h ON h.host_bundle = s.bundle_id
),
-- The kubelet (or k3s/RKE2) saying it cannot reach the runtime.
log_hits AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node, l.line, l.line_no, l.ts, l.age,
        nullif(regexp_replace(regexp_extract(l.line, 'dial unix ([^ :"\\]+\.sock)', 1), '^/var/run/', '/run/'), '') AS sock
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE l.source IN ('node', 'host') AND l.node IS NOT NULL
      AND coalesce(l.service, '') NOT IN ('kernel', 'containerd', 'docker', 'crio')
      AND (contains(l.line, 'container runtime is down')
           OR contains(l.line, 'RuntimeReady=false')
           OR contains(l.line, 'Cannot connect to the Docker daemon')
           OR contains(l.line, 'CRI v1 runtime API is not implemented')
           OR regexp_matches(l.line, 'dial unix [^ ]*(containerd|docker|dockershim|crio|cri-dockerd)\.sock: connect: (no such file or directory|connection refused)'))
),
logs AS (
    SELECT cluster, node, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(line ORDER BY line_no DESC)[1:3] AS lines,
        list(DISTINCT sock) FILTER (WHERE sock IS NOT NULL) AS socks
    FROM log_hits GROUP BY ALL
),
-- A socket the kubelet is configured with, or names in its errors, that the collector measured absent.
missing AS (
    SELECT e.cluster, e.node, list(DISTINCT s.path ORDER BY s.path) AS paths
    FROM expected e
    LEFT JOIN logs l ON l.cluster = e.cluster AND l.node = e.node
    JOIN sockets s ON s.cluster = e.cluster AND s.node = e.node AND NOT s.present
        AND (s.socket = e.socket OR list_contains(coalesce(l.socks, []), s.socket))
    GROUP BY ALL
),
-- The runtime's own service journal ends with systemd stopping it or recording its failure
-- (not for k3s/RKE2, whose containerd runs inside their own service).
svc_stopped AS (
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AS cluster, l.node, l.service,
        arg_max(l.line, l.line_no) AS last_line
    FROM log_lines l
    LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    JOIN expected e ON e.cluster = CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END AND e.node = l.node
    WHERE l.source IN ('host', 'node')
      AND coalesce(e.kubelet_version, '') NOT LIKE '%k3s%' AND coalesce(e.kubelet_version, '') NOT LIKE '%rke2%'
      AND l.service = CASE WHEN e.crv LIKE 'containerd://%' THEN 'containerd' WHEN e.crv LIKE 'docker://%' THEN 'docker'
                           WHEN e.crv LIKE 'cri-o://%' THEN 'crio' END
    GROUP BY ALL
    HAVING regexp_matches(arg_max(l.line, l.line_no),
        '(Stopped (containerd container runtime|Docker Application Container Engine|Container Runtime Interface for OCI)|\.service: (Failed with result|Main process exited|Deactivated successfully)|Stopping (containerd|Docker|Container Runtime))')
),
cond AS (
    SELECT bundle_id AS cluster, node, 'node Ready=' || status || ': ' || coalesce(message, reason, '') AS what,
        status AS cond_status, coalesce(message, reason, '') AS cond_text
    FROM node_conditions
    WHERE type = 'Ready' AND status <> 'True'
      AND (contains(lower(coalesce(message, '')), 'container runtime is down')
           OR contains(coalesce(message, ''), 'RuntimeReady=false')
           OR contains(lower(coalesce(message, '')), 'container runtime not ready'))
),
j AS (
    SELECT e.cluster, e.node, e.crv, e.known, e.ready,
        m.paths, s.service, s.last_line, c.what, c.cond_status, c.cond_text,
        l.n, l.n_recent, l.first_seen, l.last_seen, l.lines
    FROM expected e
    LEFT JOIN missing m ON m.cluster = e.cluster AND m.node = e.node
    LEFT JOIN svc_stopped s ON s.cluster = e.cluster AND s.node = e.node
    LEFT JOIN cond c ON c.cluster = e.cluster AND c.node = e.node
    LEFT JOIN logs l ON l.cluster = e.cluster AND l.node = e.node
),
judged AS (
    SELECT j.*,
        -- What proves the runtime down without counting log lines: the node's condition, or the
        -- runtime's state on a node that is not Ready.
        what IS NOT NULL
            OR (known AND NOT ready AND (paths IS NOT NULL OR service IS NOT NULL)) AS proven,
        paths IS NOT NULL OR service IS NOT NULL OR (known AND NOT ready) AS corroborated
    FROM j
)
SELECT
    'node/' || node AS resource,
    node,
    cluster AS bundle_id,
    -- What the message says, in its order.
    list_filter([CASE WHEN paths IS NOT NULL THEN 'socket' END,
                 CASE WHEN service IS NOT NULL AND last_line IS NOT NULL THEN 'service' END,
                 CASE WHEN what IS NOT NULL THEN 'condition' END,
                 CASE WHEN n > 0 THEN 'logs' END,
                 CASE WHEN known AND ready THEN 'ready' END], lambda p: p IS NOT NULL) AS parts,
    paths, crv, service, last_line, cond_status, cond_text, n AS log_n,
    list_concat(coalesce(lines, []), CASE WHEN what IS NOT NULL THEN [what] ELSE [] END) AS evidence,
    first_seen, last_seen, n AS count,
    -- Rows proven from the node's state are not judged by their log lines.
    CASE WHEN NOT proven THEN n_recent END AS recent_count,
    CASE WHEN proven THEN 'high'
         WHEN known AND ready THEN 'low'
         WHEN corroborated THEN 'high'
         ELSE 'medium' END AS severity
FROM judged
WHERE proven OR n >= ${min_count}
ORDER BY 1
