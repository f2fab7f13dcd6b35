/* ---
id = "resolv-conf-too-many-nameservers"
severity = "medium"
faq = ["CRN-18"]
category = "dns"
patterns = ["Nameserver limits were exceeded", "Nameserver limits exceeded", "some nameservers have been omitted", "DNSConfigForming"]
# The kubelet warns at every sync of an affected pod: warnings older than an hour are from a
# file that has been fixed since.
recent = "1h"
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
[message]
en = """\
{% if files is not none %}\
{% for f in files %}file {{ f.path }} has {{ f.servers }} nameserver lines{% if not loop.last %}, {% endif %}{% endfor %}\
{% endif %}\
{% if warnings > 0 %}{% if files is not none %}; {% endif %}{{ warnings }} kubelet warnings "Nameserver limits were exceeded" (\
{% for w in seen %}{% if w.kind == 'event' %}event {{ w.ref }}{% else %}{{ w.kind }} log {{ w.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}"""
zh = """\
{% if files is not none %}\
{% for f in files %}文件 {{ f.path }} 中有 {{ f.servers }} 条 nameserver{% if not loop.last %}，{% endif %}{% endfor %}\
{% endif %}\
{% if warnings > 0 %}{% if files is not none %}；{% endif %}{{ warnings }} 条 kubelet 告警 "Nameserver limits were exceeded"（\
{% for w in seen %}{% if w.kind == 'event' %}事件 {{ w.ref }}{% else %}{{ w.kind }} 日志 {{ w.ref }}{% endif %}\
{% if not loop.last %}、{% endif %}{% endfor %}）{% endif %}"""
[thresholds]
max_nameservers = 3
--- */
-- Per node bundle: its cluster and the file the kubelet reads (its resolvConf from configz, the
-- node's config file or the --resolv-conf flag; /etc/resolv.conf when none says otherwise).
WITH kubelet_path AS (
    SELECT h.bundle_id, h.cluster_bundle_id, h.node,
        coalesce(
            (SELECT max(nullif(k.config->>'$.resolvConf', '')) FROM kubelet_configs k
              WHERE k.bundle_id IN (h.bundle_id, h.cluster_bundle_id) AND lower(k.node) = lower(h.node)),
            (SELECT max(nullif(regexp_extract(f.content, '--resolv-conf[= ]["'']?([^\s"'']+)', 1), '')) FROM host_files f
              WHERE f.bundle_id = h.bundle_id AND f.path LIKE '%kubelet%' AND contains(f.content, '--resolv-conf')),
            '/etc/resolv.conf') AS path
    FROM host_nodes h
),
files AS (
    SELECT r.bundle_id, r.cluster_bundle_id, r.node, l.path,
        list(trim(l.line) ORDER BY l.line_no) FILTER (WHERE regexp_matches(l.line, '^\s*nameserver\s')) AS servers
    FROM kubelet_path r
    JOIN host_file_lines l ON l.bundle_id = r.bundle_id AND l.path = r.path
    GROUP BY ALL
),
file_findings AS (
    SELECT coalesce(cluster_bundle_id, bundle_id) AS cluster, node, any_value(bundle_id) AS bundle_id,
        list({'path': path, 'servers': len(servers)} ORDER BY path) AS files,
        flatten(list(servers ORDER BY path)) AS lines
    FROM files WHERE len(servers) > ${max_nameservers}
    GROUP BY ALL
),
-- The kubelet's warnings: DNSConfigForming events (by their last time) and log lines, tied to
-- the node's cluster, with the pod each names (the kubelet's structured line: pod="ns/name").
kubelet_warnings AS MATERIALIZED (
    SELECT e.bundle_id AS cluster, coalesce(e.source_host, '') AS node, {'kind': 'event', 'ref': 'DNSConfigForming'} AS what,
        e.message AS line, e.count AS n,
        e.first_seen, e.last_seen AS ts, b.collected_at - e.last_seen AS age,
        CASE WHEN e.object_kind = 'Pod' THEN e.object_namespace END AS pod_namespace,
        CASE WHEN e.object_kind = 'Pod' THEN e.object_name END AS pod_name
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    -- DNSConfigForming is also the reason of the kubelet's "Search Line limits were exceeded"
    -- warning (too many search domains): not this problem.
    WHERE (e.reason = 'DNSConfigForming' AND NOT regexp_matches(coalesce(e.message, ''), '(?i)search line limits'))
       OR e.message LIKE '%Nameserver limits were exceeded%'
    UNION ALL
    -- A log's kind is its source: container, node or host.
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id), coalesce(l.node, ''), {'kind': l.source, 'ref': coalesce(l.service, l.container, '')}, l.line, 1,
        l.ts, l.ts, l.age,
        nullif(split_part(regexp_extract(l.line, 'pod="([^"/]+/[^"]+)"', 1), '/', 1), ''),
        nullif(split_part(regexp_extract(l.line, 'pod="([^"/]+/[^"]+)"', 1), '/', 2), '')
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    WHERE contains(l.line, 'Nameserver limits were exceeded') OR contains(l.line, 'Nameserver limits exceeded')
),
-- Pods that list nameservers of their own (spec.dnsConfig.nameservers) and take none from the
-- node's file (dnsPolicy None, or ClusterFirst off the host network): a warning about such a
-- pod is about its own spec, not about the node's resolv.conf.
own_dns_pods AS (
    SELECT bundle_id, namespace, name FROM pods
    WHERE dns_config IS NOT NULL
      AND json_array_length(CASE WHEN json_type(dns_config, '$.nameservers') = 'ARRAY'
                                 THEN json_extract(dns_config, '$.nameservers') END) > 0
      AND (coalesce(dns_policy, 'ClusterFirst') = 'None'
           OR (coalesce(dns_policy, 'ClusterFirst') = 'ClusterFirst' AND NOT host_network))
),
signals AS (
    SELECT * FROM kubelet_warnings w
    WHERE NOT EXISTS (SELECT 1 FROM own_dns_pods o WHERE o.bundle_id = w.cluster
                      AND o.namespace = w.pod_namespace AND o.name = w.pod_name)
),
log_findings AS (
    SELECT cluster, node, list(DISTINCT what) AS whats, list(DISTINCT line)[1:3] AS lines, sum(n) AS n,
        coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0) AS recent_n,
        min(first_seen) AS first_seen, max(ts) AS last_seen
    FROM signals GROUP BY cluster, node
)
SELECT
    CASE WHEN coalesce(f.node, l.node) = '' THEN 'cluster' ELSE 'node/' || coalesce(f.node, l.node) END AS resource,
    nullif(coalesce(f.node, l.node), '') AS node,
    coalesce(f.bundle_id, l.cluster) AS bundle_id,
    f.files, coalesce(l.n, 0) AS warnings, list_sort(l.whats) AS seen,
    list_concat(coalesce(f.lines, []), coalesce(l.lines, [])) AS evidence,
    -- Pods get the first three servers: the rest are dropped, with a warning at every sync.
    -- The file alone is low; the kubelet warning now (pods actually affected) is medium.
    CASE WHEN coalesce(l.recent_n, 0) > 0 THEN 'medium' ELSE 'low' END AS severity,
    l.first_seen, l.last_seen,
    -- The file is the current state; warnings alone are judged by their age.
    CASE WHEN f.node IS NULL THEN l.recent_n END AS recent_count,
    l.n AS count
FROM file_findings f
FULL OUTER JOIN log_findings l ON l.cluster = f.cluster AND lower(l.node) = lower(f.node)
ORDER BY 1
