/* ---
id = "coredns-no-nameservers"
severity = "high"
faq = ["CRN-07"]
category = "dns"
patterns = ["plugin/forward: no nameservers found"]
[title]
en = "CoreDNS cannot start: no upstream nameservers (plugin/forward: no nameservers found)"
zh = "CoreDNS 无法启动：没有上游 nameserver (plugin/forward: no nameservers found)"
[remediation]
en = """
CoreDNS forwards to the nameservers of the node's `/etc/resolv.conf` (`forward . /etc/resolv.conf`).
That file has no `nameserver` line on the node the pod runs on, so CoreDNS exits with
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
WITH log_hits AS (
    SELECT bundle_id, namespace, pod, node, container, count(*) AS n, list(line ORDER BY line_no)[1:3] AS lines
    FROM log_lines
    WHERE source = 'container' AND contains(line, 'no nameservers found')
    GROUP BY ALL
),
empty_resolv AS (
    -- Nodes whose /etc/resolv.conf was collected and has no nameserver line.
    SELECT f.node, f.bundle_id
    FROM host_files f
    WHERE f.path = '/etc/resolv.conf'
      AND NOT regexp_matches(f.content, '(^|\n)\s*nameserver\s+\S')
)
SELECT
    'pod/' || h.namespace || '/' || h.pod AS resource,
    h.namespace, h.pod AS name, h.node, h.container, h.bundle_id,
    'CoreDNS logged "plugin/forward: no nameservers found" ' || h.n || ' times'
        || CASE WHEN e.node IS NOT NULL THEN '; /etc/resolv.conf on node ' || e.node || ' has no nameserver line' ELSE '' END AS message,
    h.lines AS evidence
FROM log_hits h
LEFT JOIN empty_resolv e ON e.node = h.node
UNION ALL
SELECT 'node/' || e.node, NULL, NULL, e.node, NULL, e.bundle_id,
    '/etc/resolv.conf on node ' || e.node || ' has no nameserver line; CoreDNS pods on it will fail with "no nameservers found"',
    ['/etc/resolv.conf: no nameserver line']
FROM empty_resolv e
WHERE e.node NOT IN (SELECT node FROM log_hits WHERE node IS NOT NULL)
  AND EXISTS (SELECT 1 FROM pods p WHERE p.node = e.node AND p.namespace = 'kube-system' AND (p.name LIKE 'coredns%' OR p.labels->>'$."k8s-app"' = 'kube-dns'))
ORDER BY 1
