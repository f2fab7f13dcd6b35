/* ---
id = "coredns-no-nameservers"
severity = "high"
faq = ["CRN-07"]
category = "dns"
patterns = ["plugin/forward: no nameservers found", "no nameservers found"]
[title]
en = "CoreDNS cannot start: no upstream nameservers (plugin/forward: no nameservers found)"
zh = "CoreDNS 无法启动：没有上游 nameserver (plugin/forward: no nameservers found)"
[remediation]
en = """
CoreDNS forwards to the nameservers of the node's `/etc/resolv.conf` (`forward . /etc/resolv.conf`).
That file (or the one the kubelet's `resolvConf` names) has no `nameserver` line on the node
the pod runs on, so CoreDNS exits with
`plugin/forward: no nameservers found`. Add a `nameserver` line to the node's `/etc/resolv.conf`
(or point the Corefile's `forward` at explicit upstream servers), then restart CoreDNS.
```
kubectl -n kube-system logs -l k8s-app=kube-dns
kubectl -n kube-system rollout restart deploy/coredns
```
"""
zh = """
CoreDNS 默认转发到节点 `/etc/resolv.conf` 中的 nameserver（`forward . /etc/resolv.conf`）。
Pod 所在节点的该文件中没有 `nameserver` 行，CoreDNS 报 `plugin/forward: no nameservers found` 并退出。
在节点 `/etc/resolv.conf` 中添加一条 `nameserver`（或在 Corefile 的 `forward` 中写明上游地址），然后重启 CoreDNS。
```
kubectl -n kube-system logs -l k8s-app=kube-dns
kubectl -n kube-system rollout restart deploy/coredns
```
"""
--- */
WITH resolv_paths AS (
    -- The file CoreDNS (dnsPolicy: Default) gets: the kubelet's resolvConf, else /etc/resolv.conf.
    SELECT DISTINCT h.bundle_id, h.node, coalesce(nullif(k.config->>'$.resolvConf', ''), '/etc/resolv.conf') AS path
    FROM host_nodes h LEFT JOIN kubelet_configs k ON lower(k.node) = lower(h.node)
),
empty_resolv AS (
    -- Nodes whose resolv.conf was collected and has no nameserver line.
    SELECT f.node, f.bundle_id, f.path
    FROM host_files f JOIN resolv_paths r ON r.bundle_id = f.bundle_id AND r.path = f.path
    WHERE NOT regexp_matches(f.content, '(^|\n)[ \t]*nameserver[ \t]+\S')
),
hits AS (
    SELECT bundle_id, namespace, pod, node, container, line AS text, line_no AS ord, true AS from_log
    FROM log_lines
    WHERE source = 'container' AND contains(line, 'no nameservers found')
    UNION ALL
    -- terminationMessagePolicy: FallbackToLogsOnError puts the last lines in the status
    SELECT bundle_id, namespace, pod, node, name,
        CASE WHEN contains(coalesce(state_message, ''), 'no nameservers found') THEN state_message ELSE last_message END, 0, false
    FROM containers
    WHERE (state_message IS NOT NULL OR last_message IS NOT NULL)
      AND contains(coalesce(state_message, '') || ' ' || coalesce(last_message, ''), 'no nameservers found')
),
pod_hits AS (
    SELECT h.bundle_id, h.namespace, h.pod, h.node, any_value(h.container) AS container,
        count(*) FILTER (WHERE h.from_log) AS n, list(DISTINCT h.text)[1:3] AS lines
    FROM hits h GROUP BY ALL
),
states AS (
    SELECT bundle_id, namespace, pod, name AS container,
        coalesce(state_reason, state) || ', ' || restart_count || ' restarts' AS state_text,
        coalesce(state_reason, state) || '，已重启 ' || restart_count || ' 次' AS state_text_zh
    FROM containers
)
SELECT
    'pod/' || h.namespace || '/' || h.pod AS resource,
    h.namespace, h.pod AS name, h.node, h.container, h.bundle_id,
    CASE WHEN h.n > 0 THEN 'CoreDNS logged "plugin/forward: no nameservers found" ' || h.n || ' times'
         ELSE 'CoreDNS terminated with "plugin/forward: no nameservers found"' END
        || coalesce(' (' || s.state_text || ')', '')
        || CASE WHEN e.node IS NOT NULL THEN '; ' || e.path || ' on node ' || e.node || ' has no nameserver line' ELSE '' END AS message,
    CASE WHEN h.n > 0 THEN 'CoreDNS 报 "plugin/forward: no nameservers found" ' || h.n || ' 次'
         ELSE 'CoreDNS 因 "plugin/forward: no nameservers found" 退出' END
        || coalesce('（' || s.state_text_zh || '）', '')
        || CASE WHEN e.node IS NOT NULL THEN '；节点 ' || e.node || ' 上的 ' || e.path || ' 中没有 nameserver 行' ELSE '' END AS message_zh,
    h.lines AS evidence
FROM pod_hits h
LEFT JOIN states s ON s.bundle_id = h.bundle_id AND s.namespace = h.namespace AND s.pod = h.pod AND s.container = h.container
LEFT JOIN empty_resolv e ON lower(e.node) = lower(h.node)
UNION ALL
SELECT 'node/' || e.node, NULL, NULL, e.node, NULL, e.bundle_id,
    e.path || ' on node ' || e.node || ' has no nameserver line; CoreDNS pods on it will fail with "no nameservers found"',
    '节点 ' || e.node || ' 上的 ' || e.path || ' 中没有 nameserver 行；该节点上的 CoreDNS Pod 会报 "no nameservers found" 并失败',
    [e.path || ': no nameserver line']
FROM empty_resolv e
WHERE lower(e.node) NOT IN (SELECT lower(node) FROM pod_hits WHERE node IS NOT NULL)
  AND EXISTS (SELECT 1 FROM pods p WHERE lower(p.node) = lower(e.node) AND p.namespace = 'kube-system'
              AND (p.name LIKE 'coredns%' OR p.labels->>'$."k8s-app"' = 'kube-dns'))
ORDER BY 1
