/* ---
id = "resolv-conf-too-many-nameservers"
severity = "medium"
faq = ["CRN-18"]
category = "dns"
patterns = ["Nameserver limits were exceeded", "Nameserver limits exceeded", "some nameservers have been omitted", "DNSConfigForming"]
[title]
en = "More than 3 nameservers in resolv.conf: kubelet drops the rest"
zh = "resolv.conf 中 nameserver 超过 3 个：kubelet 丢弃多余的条目"
[remediation]
en = """
glibc uses at most 3 `nameserver` lines; the kubelet applies only the first 3 to pods and logs
`Nameserver limits were exceeded, some nameservers have been omitted`. Reduce the nameserver
lines in the node's `/etc/resolv.conf` (or the file the kubelet's `resolvConf` points at, e.g.
`/run/systemd/resolve/resolv.conf`) to 3 or fewer, then restart the kubelet.
```
grep -c '^nameserver' /etc/resolv.conf
```
"""
zh = """
glibc 最多只使用 3 条 `nameserver`；kubelet 只把前 3 条应用到 Pod，并报
`Nameserver limits were exceeded, some nameservers have been omitted`。将节点 `/etc/resolv.conf`
（或 kubelet `resolvConf` 指向的文件，如 `/run/systemd/resolve/resolv.conf`）中的 nameserver 数量改为不超过 3 条，
然后重启 kubelet。
```
grep -c '^nameserver' /etc/resolv.conf
```
"""
[thresholds]
max_nameservers = 3
--- */
WITH resolv_paths AS (
    -- The files the kubelet may read: its resolvConf setting (config file or --resolv-conf flag),
    -- and /etc/resolv.conf.
    SELECT h.bundle_id, h.node, coalesce(nullif(k.config->>'$.resolvConf', ''), '/etc/resolv.conf') AS path
    FROM host_nodes h LEFT JOIN kubelet_configs k ON lower(k.node) = lower(h.node)
    UNION
    SELECT bundle_id, node, regexp_extract(content, '--resolv-conf[= ]["'']?([^\s"'']+)', 1)
    FROM host_files WHERE path LIKE '%kubelet%' AND contains(content, '--resolv-conf')
    UNION
    SELECT bundle_id, node, '/etc/resolv.conf' FROM host_nodes
),
files AS (
    SELECT l.bundle_id, l.node, l.path,
        list(trim(l.line) ORDER BY l.line_no) FILTER (WHERE regexp_matches(l.line, '^\s*nameserver\s')) AS servers
    FROM host_file_lines l
    JOIN resolv_paths r ON r.bundle_id = l.bundle_id AND l.path = r.path
    GROUP BY ALL
),
file_findings AS (
    SELECT node, any_value(bundle_id) AS bundle_id,
        string_agg('file ' || path || ' has ' || len(servers) || ' nameserver lines', ', ' ORDER BY path) AS what,
        string_agg('文件 ' || path || ' 中有 ' || len(servers) || ' 条 nameserver', '，' ORDER BY path) AS what_zh,
        flatten(list(servers ORDER BY path)) AS lines
    FROM files WHERE len(servers) > ${max_nameservers}
    GROUP BY node
),
signals AS (
    SELECT bundle_id, coalesce(source_host, '') AS node, 'event DNSConfigForming' AS what, message AS line, count AS n
    FROM events WHERE reason = 'DNSConfigForming' OR message LIKE '%Nameserver limits were exceeded%'
    UNION ALL
    SELECT bundle_id, coalesce(node, ''), source || ' log ' || coalesce(service, container, ''), line, 1
    FROM log_lines WHERE contains(line, 'Nameserver limits were exceeded') OR contains(line, 'Nameserver limits exceeded')
),
log_findings AS (
    SELECT node, list(DISTINCT what) AS whats, list(DISTINCT line)[1:3] AS lines, sum(n) AS n,
        any_value(bundle_id) AS bundle_id
    FROM signals GROUP BY node
)
SELECT
    CASE WHEN coalesce(f.node, l.node) = '' THEN 'cluster' ELSE 'node/' || coalesce(f.node, l.node) END AS resource,
    nullif(coalesce(f.node, l.node), '') AS node,
    coalesce(f.bundle_id, l.bundle_id) AS bundle_id,
    concat_ws('; ', f.what,
        CASE WHEN l.n > 0 THEN l.n || ' kubelet warnings "Nameserver limits were exceeded" (' || array_to_string(list_sort(l.whats), ', ') || ')' END) AS message,
    concat_ws('；', f.what_zh,
        CASE WHEN l.n > 0 THEN l.n || ' 条 kubelet 告警 "Nameserver limits were exceeded"（'
            || array_to_string(list_transform(list_sort(l.whats), lambda w: CASE WHEN w LIKE 'event %' THEN '事件 ' || substr(w, 7) ELSE replace(w, ' log ', ' 日志 ') END), '、') || '）' END) AS message_zh,
    list_concat(coalesce(f.lines, []), coalesce(l.lines, [])) AS evidence
FROM file_findings f
FULL OUTER JOIN log_findings l ON lower(l.node) = lower(f.node)
ORDER BY 1
