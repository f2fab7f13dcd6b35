/* ---
id = "port-forward-failed-in-netns"
severity = "low"
faq = ["WNR-45"]
category = "network"
patterns = [
  "failed to execute portforward in network namespace",
  "error forwarding port \\d+ to pod",
  "an error occurred forwarding \\d+ -> \\d+",
  "unable to do port forwarding: socat not found",
]
# Port-forwarding is interactive: failures from the last hours are someone stuck now; one
# failure is a mistyped port, a retrying session logs several.
recent = "6h"
min_count = 2
[title]
en = "kubectl port-forward fails: \"failed to execute portforward in network namespace\""
zh = "kubectl port-forward 失败：\"failed to execute portforward in network namespace\""
[remediation]
en = """
`kubectl port-forward` reaches the pod through the kubelet and the container runtime, which
connect to `localhost:<port>` **inside the pod's network namespace**. The error comes back when
that connection fails:

- `connect: connection refused`: nothing listens on that port on the pod's loopback. The
  application may listen on another port, not have started yet, or bind only to the pod IP /
  a specific interface instead of `0.0.0.0`/`127.0.0.1`. Check inside the pod:
  ```
  kubectl -n <ns> exec <pod> -- netstat -lntp    # or: ss -lntp
  kubectl -n <ns> port-forward pod/<pod> <local>:<containerPort>
  ```
- `socat not found` / `socat command returns error` (dockershim, older containerd): install
  `socat` on the node.
- The IPv6 part (`dial tcp6 [::1]:<port>`) is only the fallback attempt and can be ignored when
  the pod has no IPv6 loopback.
"""
zh = """
`kubectl port-forward` 经由 kubelet 和容器运行时，在 **Pod 的网络命名空间内** 连接 `localhost:<port>`。该连接失败时就会返回此错误：

- `connect: connection refused`：Pod 的 loopback 上没有进程监听该端口。可能应用监听的是其他端口、尚未启动，
  或者只绑定了 Pod IP / 某个网卡，而不是 `0.0.0.0`/`127.0.0.1`。在 Pod 内检查：
  ```
  kubectl -n <ns> exec <pod> -- netstat -lntp    # 或：ss -lntp
  kubectl -n <ns> port-forward pod/<pod> <local>:<containerPort>
  ```
- `socat not found` / `socat command returns error`（dockershim、旧版 containerd）：在节点上安装 `socat`。
- IPv6 部分（`dial tcp6 [::1]:<port>`）只是回退尝试，Pod 没有 IPv6 loopback 时可以忽略。
"""
[message]
en = """\
{{ count }} port-forward failures "failed to execute portforward in network namespace" in the {{ services }} log \
of node {{ node if node is not none else '?' }}{% if ports %} (port {{ ports | join(', ') }}){% endif %}: \
{% for c in causes %}\
  {% if c == 'socat' %}socat missing or failing on the node\
  {% elif c == 'nothing-listens' %}nothing listens on localhost:port inside the pod (wrong port, not started, or bound to the pod IP only)\
  {% elif c == 'timeout' %}timed out\
  {% elif c == 'reset' %}connections reset or closed after they were established (the forward worked; the application or client ended them)\
  {% else %}other{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}\
{% if no_socat %}; socat is not installed on the node{% endif %}"""
zh = """\
节点 {{ node if node is not none else '?' }} 的 {{ services }} 日志中有 {{ count }} 次 port-forward 失败 \
"failed to execute portforward in network namespace"{% if ports %}（端口 {{ ports | join(', ') }}）{% endif %}：\
{% for c in causes %}\
  {% if c == 'socat' %}节点上缺少 socat 或 socat 执行出错\
  {% elif c == 'nothing-listens' %}Pod 内没有进程监听 localhost:port（端口错误、应用未启动，或只绑定了 Pod IP）\
  {% elif c == 'timeout' %}超时\
  {% elif c == 'reset' %}连接建立后被重置或关闭（转发本身正常，是应用或客户端结束了连接）\
  {% else %}其他错误{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}\
{% if no_socat %}；节点上未安装 socat{% endif %}"""
--- */
WITH hits AS (
    SELECT l.bundle_id, coalesce(h.cluster_bundle_id, l.bundle_id) AS cluster, l.node,
        coalesce(l.service, l.container, l.source) AS service, l.line, l.ts, l.age,
        coalesce(nullif(regexp_extract(line, 'failed to connect to localhost:(\d+)', 1), ''),
                 nullif(regexp_extract(line, 'error forwarding port (\d+)', 1), ''),
                 nullif(regexp_extract(line, 'AF=\d+ [0-9.]+:(\d+)', 1), ''),
                 nullif(regexp_extract(line, '(?:read|write) tcp[46]? [^ ]+->(?:127\.0\.0\.1|\[::1\]):(\d+): ', 1), '')) AS port,
        nullif(regexp_extract(line, 'inside namespace \\?"([0-9a-f]{12,})', 1), '') AS sandbox,
        -- Named to sort as the English texts do.
        CASE WHEN regexp_matches(line, 'socat not found|socat command returns error') THEN 'socat'
             WHEN regexp_matches(line, '(?i)127\.0\.0\.1:\d+: connect: connection refused|connect\(\d+, AF=2 127\.0\.0\.1:\d+, \d+\): Connection refused')
                 THEN 'nothing-listens'
             WHEN regexp_matches(line, '(?i)(timeout|deadline exceeded)') THEN 'timeout'
             -- The connection to localhost:port was made and data flowed; the application
             -- (or the client, on its side) then reset or closed it: the forward works.
             WHEN regexp_matches(line, '(?:read|write) tcp[46]? [^ ]+->[^ ]+: (?:read: connection reset by peer|write: broken pipe)|use of closed network connection')
                 THEN 'reset'
             ELSE 'other' END AS cause
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    -- containerd's wording, and the streaming server's of dockershim / cri-dockerd (nsenter … socat).
    WHERE regexp_matches(l.line, '(failed to execute portforward in network namespace|unable to do port forwarding: socat not found|error forwarding port \d+ to pod )')
),
-- socat on the node, from its node bundle, keyed by cluster and node.
socat AS (
    SELECT coalesce(h.cluster_bundle_id, b.bundle_id) AS cluster, b.node, bool_or(b.present) AS present
    FROM host_binaries b JOIN host_nodes h ON h.bundle_id = b.bundle_id
    WHERE b.name = 'socat' GROUP BY ALL
)
SELECT 'node/' || coalesce(h.node, '?') AS resource, h.node, h.node AS name, h.cluster AS bundle_id,
    string_agg(DISTINCT h.service, '/') AS services, list(DISTINCT h.port ORDER BY h.port) FILTER (WHERE h.port IS NOT NULL) AS ports,
    list(DISTINCT h.cause ORDER BY h.cause) AS causes, coalesce(any_value(s.present) = false, false) AS no_socat,
    list(DISTINCT h.line)[1:3] AS evidence,
    min(h.ts) AS first_seen, max(h.ts) AS last_seen,
    count(*) FILTER (WHERE in_window(h.age, ${recent})) AS recent_count,
    -- Connections reset after they were made are not failures of the forward: they alone,
    -- with fewer than min_count current failures besides, are a working session.
    CASE WHEN count(*) FILTER (WHERE in_window(h.age, ${recent}) AND h.cause <> 'reset') < ${min_count} THEN 'info' ELSE 'low' END AS severity,
    count(*) AS count
FROM hits h
LEFT JOIN socat s ON s.cluster = h.cluster AND s.node IS NOT DISTINCT FROM h.node
GROUP BY h.cluster, h.node
ORDER BY 1
