/* ---
id = "coredns-no-nameservers"
severity = "high"
faq = ["CRN-07"]
category = "dns"
patterns = ["plugin/forward: no nameservers found", "no nameservers found"]
# CoreDNS exits at start with this error and is restarted at most every 5 minutes: a line
# older than an hour from a CoreDNS that runs now is a start that has since been fixed.
recent = "1h"
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
[message]
en = """\
{% if kind == 'pod' %}\
  {% if lines_n > 0 %}CoreDNS logged "plugin/forward: no nameservers found" {{ lines_n }} times\
  {% else %}CoreDNS terminated with "plugin/forward: no nameservers found"{% endif %}\
  {% if state_now is not none and restart_count is not none %} ({{ state_now }}, {{ restart_count }} restarts){% endif %}\
  {% if empty_node is not none %}; {{ empty_path }} on node {{ empty_node }} has no nameserver line{% endif %}\
  {% if runs_now and empty_node is none %}; it runs now: the file was fixed since{% endif %}\
{% else %}\
  {{ empty_path }} on node {{ empty_node }} has no nameserver line; \
CoreDNS pods on it will fail with "no nameservers found" when they restart\
{% endif %}"""
zh = """\
{% if kind == 'pod' %}\
  {% if lines_n > 0 %}CoreDNS 报 "plugin/forward: no nameservers found" {{ lines_n }} 次\
  {% else %}CoreDNS 因 "plugin/forward: no nameservers found" 退出{% endif %}\
  {% if state_now is not none and restart_count is not none %}（{{ state_now }}，已重启 {{ restart_count }} 次）{% endif %}\
  {% if empty_node is not none %}；节点 {{ empty_node }} 上的 {{ empty_path }} 中没有 nameserver 行{% endif %}\
  {% if runs_now and empty_node is none %}；它现在正常运行：该文件此后已修复{% endif %}\
{% else %}\
  节点 {{ empty_node }} 上的 {{ empty_path }} 中没有 nameserver 行；\
该节点上的 CoreDNS Pod 重启时会报 "no nameservers found" 并失败\
{% endif %}"""
--- */
-- Per node bundle, its cluster and the file CoreDNS (dnsPolicy: Default) gets: the kubelet's
-- resolvConf, else /etc/resolv.conf.
WITH resolv_paths AS (
    SELECT DISTINCT h.bundle_id, h.cluster_bundle_id, h.node,
        coalesce(nullif(k.config->>'$.resolvConf', ''),
                 -- k3s and RKE2 give their kubelet /etc/resolv.conf only when it has a usable
                 -- nameserver; otherwise a file they write (nameserver 8.8.8.8).
                 CASE WHEN n.kubelet_version LIKE '%+k3s%' THEN '/var/lib/rancher/k3s/agent/etc/resolv.conf'
                      WHEN n.kubelet_version LIKE '%+rke2%' THEN '/var/lib/rancher/rke2/agent/etc/resolv.conf' END,
                 '/etc/resolv.conf') AS path
    FROM host_nodes h
    LEFT JOIN kubelet_configs k ON k.bundle_id IN (h.bundle_id, h.cluster_bundle_id) AND lower(k.node) = lower(h.node)
    LEFT JOIN nodes n ON n.bundle_id = h.cluster_bundle_id AND lower(n.name) = lower(h.node)
),
empty_resolv AS (
    -- Nodes whose resolv.conf was collected and has no nameserver line.
    SELECT r.cluster_bundle_id, f.node, f.bundle_id, f.path
    FROM host_files f JOIN resolv_paths r ON r.bundle_id = f.bundle_id AND r.path = f.path
    WHERE NOT regexp_matches(f.content, '(^|\n)[ \t]*nameserver[ \t]+\S')
),
-- Clusters whose Corefile forwards only to explicit servers: the node's file does not matter.
explicit_upstream AS (
    SELECT DISTINCT bundle_id FROM objects
    WHERE api_group = '' AND resource = 'configmaps' AND namespace = 'kube-system'
      AND name IN ('coredns', 'rke2-coredns-rke2-coredns')
      AND (doc->>'$.data.Corefile') IS NOT NULL
      AND NOT contains(doc->>'$.data.Corefile', 'resolv.conf')
),
log_hits AS (
    SELECT bundle_id, namespace, pod, node, container, line, ts, age
    FROM log_lines
    WHERE source = 'container' AND contains(line, 'no nameservers found')
),
-- terminationMessagePolicy: FallbackToLogsOnError puts the last lines in the status.
term_hits AS (
    SELECT bundle_id, namespace, pod, node, name AS container,
        CASE WHEN contains(coalesce(state_message, ''), 'no nameservers found') THEN state_message ELSE last_message END AS text
    FROM containers
    WHERE (state_message IS NOT NULL OR last_message IS NOT NULL)
      AND contains(coalesce(state_message, '') || ' ' || coalesce(last_message, ''), 'no nameservers found')
),
pod_hits AS (
    SELECT bundle_id, namespace, pod, any_value(node) AS node, any_value(container) AS container,
        count(line) AS n, count(line) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT text)[1:3] AS lines
    FROM (SELECT bundle_id, namespace, pod, node, container, line, ts, age, line AS text FROM log_hits
          UNION ALL
          SELECT bundle_id, namespace, pod, node, container, NULL, NULL, NULL, text FROM term_hits)
    GROUP BY ALL
),
states AS (
    SELECT bundle_id, namespace, pod, name AS container,
        coalesce(state_reason, state) AS state_now, restart_count,
        (state_reason IN ('CrashLoopBackOff', 'Error', 'RunContainerError') OR coalesce(exit_code, 0) <> 0) AS failing_now
    FROM containers
)
SELECT
    'pod/' || h.namespace || '/' || h.pod AS resource,
    h.namespace, h.pod AS name, h.node, h.container, h.bundle_id,
    'pod' AS kind, h.n AS lines_n, s.state_now, s.restart_count, NOT coalesce(s.failing_now, false) AS runs_now,
    e.node AS empty_node, e.path AS empty_path,
    h.lines AS evidence,
    -- CoreDNS failing now, or the node's file still empty, proves it; otherwise the lines are
    -- judged by their age.
    CASE WHEN coalesce(s.failing_now, false) OR e.node IS NOT NULL THEN 'high' ELSE 'medium' END AS severity,
    h.first_seen, h.last_seen,
    CASE WHEN NOT (coalesce(s.failing_now, false) OR e.node IS NOT NULL) THEN h.recent_n END AS recent_count,
    h.n AS count
FROM pod_hits h
LEFT JOIN states s ON s.bundle_id = h.bundle_id AND s.namespace = h.namespace AND s.pod = h.pod AND s.container = h.container
LEFT JOIN empty_resolv e ON e.cluster_bundle_id = h.bundle_id AND lower(e.node) = lower(h.node)
UNION ALL
-- The node's file is empty and CoreDNS runs there: it fails at its next start.
SELECT 'node/' || e.node, NULL, NULL, e.node, NULL, e.bundle_id,
    'node', NULL, NULL, NULL, NULL, e.node, e.path,
    [e.path || ': no nameserver line'],
    'medium', NULL, NULL, NULL, NULL
FROM empty_resolv e
WHERE e.cluster_bundle_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pod_hits h WHERE h.bundle_id = e.cluster_bundle_id AND lower(h.node) = lower(e.node))
  AND e.cluster_bundle_id NOT IN (SELECT bundle_id FROM explicit_upstream)
  AND EXISTS (SELECT 1 FROM pods p WHERE p.bundle_id = e.cluster_bundle_id AND lower(p.node) = lower(e.node) AND p.namespace = 'kube-system'
              AND (p.name LIKE 'coredns%' OR (p.labels->>'$."k8s-app"') = 'kube-dns'))
ORDER BY 1
