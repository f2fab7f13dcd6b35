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
]
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
--- */
WITH net_not_ready AS (
    SELECT bundle_id, node, coalesce(message, reason) AS why FROM node_conditions
    WHERE type = 'Ready' AND status <> 'True'
      AND regexp_matches(coalesce(message, ''), '(?i)(NetworkPluginNotReady|network plugin is not ready|cni config uninitiali[sz]ed|cni plugin not initiali[sz]ed|no (valid )?(cni|network) config|No CNI configuration file)')
),
net_logs AS (
    SELECT node, count(*) AS n, list(DISTINCT line)[1:2] AS lines FROM log_lines
    WHERE source IN ('node', 'host') AND node IS NOT NULL
      AND regexp_matches(line, '(?i)(NetworkPluginNotReady|cni config uninitiali[sz]ed|cni plugin not initiali[sz]ed|no network config found in /etc/cni/net\.d|No CNI configuration file in)')
    GROUP BY node
),
-- Node bundles with no CNI network configuration in /etc/cni/net.d (k3s keeps its own elsewhere).
empty_netd AS (
    SELECT h.bundle_id, h.node FROM host_nodes h
    LEFT JOIN nodes n ON n.name = h.node
    WHERE coalesce(n.kubelet_version, '') NOT LIKE '%k3s%'
      AND NOT EXISTS (SELECT 1 FROM host_files f WHERE f.bundle_id = h.bundle_id
                      AND regexp_matches(f.path, '^/etc/cni/net\.d/[^/]+\.(conf|conflist|json)$'))
      AND EXISTS (SELECT 1 FROM host_facts hf WHERE hf.bundle_id = h.bundle_id)
      AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.bundle_id = h.bundle_id AND g.location LIKE '/etc/cni/net.d%')
),
node_ready AS (SELECT name, ready FROM nodes),
dns_pending AS (
    SELECT bundle_id, list(name ORDER BY name) AS pods, any_value(scheduled_message) AS why, count(*) AS n
    FROM pods
    WHERE namespace = 'kube-system' AND phase = 'Pending' AND deleted_at IS NULL
      AND (name LIKE 'coredns-%' OR name LIKE 'kube-dns-%' OR labels->>'$."k8s-app"' = 'kube-dns')
    GROUP BY bundle_id
),
bad_nodes AS (
    SELECT node FROM net_not_ready
    -- An empty /etc/cni/net.d counts with a network symptom: the kubelet/runtime logs say so, or
    -- CoreDNS waits for nodes to lose the not-ready / network-unavailable taint.
    UNION SELECT e.node FROM empty_netd e JOIN net_logs l ON l.node = e.node
    UNION SELECT e.node FROM empty_netd e
        WHERE EXISTS (SELECT 1 FROM dns_pending d WHERE regexp_matches(coalesce(d.why, ''), 'node\.kubernetes\.io/(not-ready|network-unavailable)'))
    UNION SELECT l.node FROM net_logs l JOIN node_ready r ON r.name = l.node WHERE NOT r.ready
)
SELECT
    'node/' || b.node AS resource,
    b.node,
    coalesce(c.bundle_id, e.bundle_id, (SELECT any_value(bundle_id) FROM nodes WHERE name = b.node)) AS bundle_id,
    'pod network not ready on node ' || b.node || ': ' || concat_ws('; ',
        CASE WHEN c.node IS NOT NULL THEN 'NotReady (' || c.why || ')' END,
        CASE WHEN e.node IS NOT NULL THEN '/etc/cni/net.d holds no CNI configuration' END,
        CASE WHEN l.n > 0 THEN l.n || ' kubelet/runtime "cni not initialized" log lines' END,
        CASE WHEN d.n > 0 THEN d.n || ' coredns pod(s) Pending' END) AS message,
    '节点 ' || b.node || ' 的 Pod 网络未就绪：' || concat_ws('；',
        CASE WHEN c.node IS NOT NULL THEN 'NotReady（' || c.why || '）' END,
        CASE WHEN e.node IS NOT NULL THEN '/etc/cni/net.d 中没有 CNI 配置' END,
        CASE WHEN l.n > 0 THEN l.n || ' 行 kubelet/运行时 "cni not initialized" 日志' END,
        CASE WHEN d.n > 0 THEN d.n || ' 个 coredns Pod 处于 Pending' END) AS message_zh,
    list_concat(
        CASE WHEN c.node IS NOT NULL THEN ['Ready condition: ' || c.why] ELSE [] END,
        coalesce(l.lines, []),
        CASE WHEN d.n > 0 THEN ['Pending: ' || array_to_string(d.pods, ', ') || coalesce(' (' || d.why || ')', '')] ELSE [] END) AS evidence
FROM bad_nodes b
LEFT JOIN net_not_ready c ON c.node = b.node
LEFT JOIN empty_netd e ON e.node = b.node
LEFT JOIN net_logs l ON l.node = b.node
LEFT JOIN dns_pending d ON true
UNION ALL
-- coredns Pending on a cluster whose nodes all carry the not-ready / network-unavailable taint.
SELECT 'deployment/kube-system/coredns', NULL, d.bundle_id,
    d.n || ' coredns pod(s) Pending: ' || coalesce(d.why, 'not scheduled') || '; no node has a working pod network yet',
    d.n || ' 个 coredns Pod 处于 Pending：' || coalesce(d.why, '未调度') || '；还没有任何节点的 Pod 网络可用',
    list_concat(d.pods, CASE WHEN d.why IS NOT NULL THEN [d.why] ELSE [] END)
FROM dns_pending d
WHERE NOT EXISTS (SELECT 1 FROM bad_nodes)
  AND regexp_matches(coalesce(d.why, ''), 'node\.kubernetes\.io/(not-ready|network-unavailable)')
ORDER BY 1
