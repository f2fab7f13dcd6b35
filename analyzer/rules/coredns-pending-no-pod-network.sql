/* ---
id = "coredns-pending-no-pod-network"
severity = "high"
faq = ["KADM-06"]
category = "network"
patterns = [
  "NetworkPluginNotReady",
  "network plugin is not ready: cni config uninitiali[sz]ed",
  "cni plugin not initiali[sz]ed",
  "No CNI configuration file in /etc/cni/net\\.d",
  "no network config found in /etc/cni/net\\.d",
  "container runtime network not ready",
  "network is not ready: container runtime network not ready",
]
# The kubelet repeats "network not ready" every few seconds while the CNI is missing: a line
# older than this is a boot or install moment that has passed.
recent = "15m"
[title]
en = "No working pod network: coredns Pending, nodes NotReady (CNI not initialized)"
zh = "Pod 网络未就绪：coredns 处于 Pending，节点 NotReady（CNI 未初始化）"
[remediation]
en = """
kubeadm is network-provider-agnostic: until a pod network add-on is installed and has written
its configuration to `/etc/cni/net.d` on every node, the nodes stay `NotReady`
(`container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady ...
cni plugin not initialized` / `cni config uninitialized`) and CoreDNS stays `Pending`. This is
expected right after `kubeadm init`; install (or repair) the pod network add-on, then check that
its pods run on every node and that `/etc/cni/net.d` holds its config:
```
kubectl get nodes
kubectl -n kube-system get pods -o wide
ls /etc/cni/net.d /opt/cni/bin
```
See https://kubernetes.io/docs/concepts/cluster-administration/addons/
"""
zh = """
kubeadm 与网络插件无关：在安装 Pod 网络插件并在每个节点的 `/etc/cni/net.d` 中写入配置之前，节点会一直处于 `NotReady`
（`container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady ... cni plugin not initialized`
/ `cni config uninitialized`），CoreDNS 会一直处于 `Pending`。这在 `kubeadm init` 之后是预期行为；请安装（或修复）
Pod 网络插件，然后确认其 Pod 在每个节点上运行、`/etc/cni/net.d` 中有其配置文件：
```
kubectl get nodes
kubectl -n kube-system get pods -o wide
ls /etc/cni/net.d /opt/cni/bin
```
参见 https://kubernetes.io/zh-cn/docs/concepts/cluster-administration/addons/
"""
[message]
en = """\
{% if kind == 'node' %}\
  pod network not ready on node {{ node }}: \
  {% for p in parts %}\
    {% if p == 'notready' %}NotReady ({{ notready_why }})\
    {% elif p == 'empty' %}/etc/cni/net.d holds no CNI configuration\
    {% elif p == 'logs' %}{{ log_n }} kubelet/runtime "cni not initialized" log lines\
    {% else %}{{ pending }} coredns pod(s) Pending{% endif %}\
    {% if not loop.last %}; {% endif %}\
  {% endfor %}\
{% else %}\
  {{ pending }} coredns pod(s) Pending: {{ pending_why if pending_why is not none else 'not scheduled' }}; \
no node has a working pod network yet\
{% endif %}"""
zh = """\
{% if kind == 'node' %}\
  节点 {{ node }} 的 Pod 网络未就绪：\
  {% for p in parts %}\
    {% if p == 'notready' %}NotReady（{{ notready_why }}）\
    {% elif p == 'empty' %}/etc/cni/net.d 中没有 CNI 配置\
    {% elif p == 'logs' %}{{ log_n }} 行 kubelet/运行时 "cni not initialized" 日志\
    {% else %}{{ pending }} 个 coredns Pod 处于 Pending{% endif %}\
    {% if not loop.last %}；{% endif %}\
  {% endfor %}\
{% else %}\
  {{ pending }} 个 coredns Pod 处于 Pending：{{ pending_why if pending_why is not none else '未调度' }}；\
还没有任何节点的 Pod 网络可用\
{% endif %}"""
[thresholds]
# CoreDNS pods Pending, or a node NotReady, for less than this are passing through (a rollout,
# a drain, a reboot waiting seconds for its CNI pod).
pending_minutes = 5
--- */
-- Nodes whose pod network is not ready now: the Node's Ready condition says so (current
-- object), or its kubelet/runtime keeps logging it (recent lines) while the node is NotReady
-- or its /etc/cni/net.d is empty. Every node is tied to its cluster bundle.
WITH net_not_ready AS (
    SELECT c.bundle_id, c.node, coalesce(c.message, c.reason) AS why
    FROM node_conditions c JOIN bundles b USING (bundle_id)
    WHERE c.type = 'Ready' AND c.status <> 'True'
      -- NotReady for a while: a node that just rebooted waits seconds for its CNI pod.
      AND coalesce(days_between(c.last_transition, b.collected_at) * 1440 >= ${pending_minutes}, true)
      AND regexp_matches(coalesce(c.message, ''), '(?i)(NetworkPluginNotReady|network plugin is not ready|cni config uninitiali[sz]ed|cni plugin not initiali[sz]ed|no (valid )?(cni|network) config|No CNI configuration file)')
),
net_log_lines AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS bundle_id, l.node, l.line, l.ts, l.age
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    WHERE l.source IN ('node', 'host') AND l.node IS NOT NULL
      AND regexp_matches(l.line, '(?i)(NetworkPluginNotReady|cni config uninitiali[sz]ed|cni plugin not initiali[sz]ed|no network config found in /etc/cni/net\.d|No CNI configuration file in)')
),
net_logs AS (
    SELECT bundle_id, node, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT line ORDER BY line)[1:2] AS lines
    FROM net_log_lines
    GROUP BY ALL
),
-- Node bundles with no CNI network configuration in /etc/cni/net.d (k3s keeps its own elsewhere).
empty_netd AS (
    SELECT h.cluster_bundle_id AS bundle_id, h.node FROM host_nodes h
    LEFT JOIN nodes n ON n.bundle_id = h.cluster_bundle_id AND n.name = h.node
    WHERE h.cluster_bundle_id IS NOT NULL
      AND coalesce(n.kubelet_version, '') NOT LIKE '%k3s%'
      AND NOT EXISTS (SELECT 1 FROM host_files f WHERE f.bundle_id = h.bundle_id
                      AND regexp_matches(f.path, '^/etc/cni/net\.d/[^/]+\.(conf|conflist|json)$'))
      AND EXISTS (SELECT 1 FROM host_facts hf WHERE hf.bundle_id = h.bundle_id)
      AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.bundle_id = h.bundle_id AND g.location LIKE '/etc/cni/net.d%')
),
-- CoreDNS pods Pending now, for a while, and not for a reason unrelated to the network
-- (CPU, memory, affinity): unscheduled because every node is not-ready / network-unavailable,
-- or scheduled and waiting for a sandbox on a node without a pod network.
dns_pods AS (
    SELECT p.bundle_id, p.name, p.node, p.scheduled_message,
        days_between(coalesce(k8s_ts(list_filter(p.conditions, lambda c: c.type = 'PodScheduled')[1].lastTransitionTime), p.created_at), b.collected_at) * 1440 AS minutes
    FROM pods p JOIN bundles b USING (bundle_id)
    WHERE p.namespace = 'kube-system' AND p.phase = 'Pending' AND p.deleted_at IS NULL
      AND (p.name LIKE 'coredns-%' OR p.name LIKE 'kube-dns-%' OR (p.labels->>'$."k8s-app"') = 'kube-dns')
),
bad_nodes AS (
    SELECT bundle_id, node FROM net_not_ready
    UNION SELECT e.bundle_id, e.node FROM empty_netd e
        JOIN net_logs l ON l.bundle_id = e.bundle_id AND l.node = e.node AND l.recent_n > 0
    UNION SELECT e.bundle_id, e.node FROM empty_netd e
        WHERE EXISTS (SELECT 1 FROM dns_pods d WHERE d.bundle_id = e.bundle_id AND d.node IS NULL
                      AND regexp_matches(coalesce(d.scheduled_message, ''), 'node\.kubernetes\.io/(not-ready|network-unavailable)'))
    UNION SELECT l.bundle_id, l.node FROM net_logs l
        JOIN nodes n ON n.bundle_id = l.bundle_id AND n.name = l.node
        WHERE l.recent_n > 0 AND NOT n.ready
),
dns_pending AS (
    SELECT d.bundle_id, list(d.name ORDER BY d.name) AS pods, any_value(d.scheduled_message) AS why, count(*) AS n
    FROM dns_pods d
    WHERE d.minutes >= ${pending_minutes}
      AND (regexp_matches(coalesce(d.scheduled_message, ''), 'node\.kubernetes\.io/(not-ready|network-unavailable)')
           OR EXISTS (SELECT 1 FROM bad_nodes b WHERE b.bundle_id = d.bundle_id AND b.node = d.node))
    GROUP BY d.bundle_id
)
SELECT
    'node/' || b.node AS resource,
    b.node,
    b.bundle_id,
    'node' AS kind,
    list_filter([CASE WHEN c.node IS NOT NULL AND c.why IS NOT NULL THEN 'notready' END, CASE WHEN e.node IS NOT NULL THEN 'empty' END,
                 CASE WHEN l.recent_n > 0 THEN 'logs' END, 'pending'], lambda p: p IS NOT NULL) AS parts,
    c.why AS notready_why, l.n AS log_n, d.n AS pending, d.why AS pending_why,
    list_concat(
        CASE WHEN c.node IS NOT NULL THEN ['Ready condition: ' || c.why] ELSE [] END,
        CASE WHEN l.recent_n > 0 THEN l.lines ELSE [] END,
        ['Pending: ' || array_to_string(d.pods, ', ') || coalesce(' (' || d.why || ')', '')]) AS evidence,
    -- The Node's own condition proves it now; otherwise the node's files and recent logs do.
    CASE WHEN c.node IS NOT NULL THEN 'high' ELSE 'medium' END AS severity,
    CASE WHEN l.recent_n > 0 THEN l.first_seen END AS first_seen,
    CASE WHEN l.recent_n > 0 THEN l.last_seen END AS last_seen,
    -- Judged by recency only when the log lines are the proof.
    CASE WHEN c.node IS NULL AND e.node IS NULL THEN l.recent_n END AS recent_count,
    CASE WHEN l.recent_n > 0 THEN l.n END AS count
FROM bad_nodes b
JOIN dns_pending d ON d.bundle_id = b.bundle_id
LEFT JOIN net_not_ready c ON c.bundle_id = b.bundle_id AND c.node = b.node
LEFT JOIN empty_netd e ON e.bundle_id = b.bundle_id AND e.node = b.node
LEFT JOIN net_logs l ON l.bundle_id = b.bundle_id AND l.node = b.node
UNION ALL
-- CoreDNS Pending on a cluster whose nodes all carry the not-ready / network-unavailable taint.
SELECT 'deployment/kube-system/coredns', NULL, d.bundle_id,
    'cluster', NULL, NULL, NULL, d.n, d.why,
    list_concat(d.pods, CASE WHEN d.why IS NOT NULL THEN [d.why] ELSE [] END),
    'high', NULL, NULL, NULL, NULL
FROM dns_pending d
WHERE NOT EXISTS (SELECT 1 FROM bad_nodes b WHERE b.bundle_id = d.bundle_id)
  AND regexp_matches(coalesce(d.why, ''), 'node\.kubernetes\.io/(not-ready|network-unavailable)')
ORDER BY 1
