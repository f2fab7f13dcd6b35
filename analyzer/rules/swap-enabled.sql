/* ---
id = "swap-enabled"
severity = "medium"
faq = ["WNR-24"]
category = "nodes"
patterns = ["running with swap on is not supported", "please disable swap", "--fail-swap-on", "failSwapOn"]
# systemd restarts a kubelet that refuses to start every 10 s: a current refusal shows
# within the hour; one from before swap was turned off is history.
recent = "6h"
[title]
en = "Swap is active on Kubernetes nodes"
zh = "Kubernetes 节点启用了 swap"
[remediation]
en = """
Swap is not recommended on Kubernetes nodes: the kubelet's memory accounting, QoS and eviction
assume no swap, and by default (`failSwapOn: true`) the kubelet refuses to start with
`running with swap on is not supported, please disable swap!`. Turn swap off now and
permanently (comment the swap line in `/etc/fstab`, or `systemctl mask` the swap unit / zram
generator), then restart the kubelet. Only keep swap deliberately, with Kubernetes ≥ 1.28,
`failSwapOn: false` **and** `memorySwap.swapBehavior: LimitedSwap` on cgroup v2
(kubernetes/kubernetes#53533).
```
cat /proc/swaps
swapoff -a
sed -i '/\\sswap\\s/ s/^/#/' /etc/fstab
systemctl restart kubelet
```
"""
zh = """
不建议在 Kubernetes 节点上使用 swap：kubelet 的内存统计、QoS 与驱逐机制都假设没有 swap；默认（`failSwapOn: true`）
kubelet 会拒绝启动并报 `running with swap on is not supported, please disable swap!`。立即并永久关闭 swap
（注释 `/etc/fstab` 中的 swap 行，或 `systemctl mask` swap 单元 / zram 生成器），然后重启 kubelet。
只有在 Kubernetes ≥ 1.28、cgroup v2 下同时配置 `failSwapOn: false` **和** `memorySwap.swapBehavior: LimitedSwap`
时才可有意保留 swap（kubernetes/kubernetes#53533）。
```
cat /proc/swaps
swapoff -a
sed -i '/\\sswap\\s/ s/^/#/' /etc/fstab
systemctl restart kubelet
```
"""
[message]
en = """\
{% for p in parts %}\
  {% if p == 'active' %}swap is active on node {{ node }} ({{ size_gib }} GiB, {{ used_mib }} MiB used)\
  {% elif p == 'refused' %}kubelet refused to start {{ refused_n }} times: "running with swap on is not supported"\
  {% elif p == 'fails' %}kubelet failSwapOn is {% if unknown %}not known (default true){% else %}true{% endif %}\
: the kubelet will not start while swap is on\
  {% elif p == 'running' %}the kubelet configuration was not collected, but the node is Ready: its kubelet runs with swap on \
(failSwapOn false, or swap turned on after the kubelet started: then it will refuse at its next restart); check failSwapOn and memorySwap.swapBehavior\
  {% elif p == 'tolerated' %}kubelet tolerates it (\
{% if fail_swap_off %}failSwapOn: false{% endif %}{% if fail_swap_off and paths is not none %}, {% endif %}\
{% if paths is not none %}--fail-swap-on=false in {{ paths | join(', ') }}{% endif %}) with \
{% if swap_behavior is not none %}memorySwap.swapBehavior {{ swap_behavior }}{% else %}no memorySwap.swapBehavior configured{% endif %}\
{% if kubelet_version is not none %} on kubelet {{ kubelet_version }}{% endif %}\
: choose memorySwap.swapBehavior (NoSwap or LimitedSwap) or turn swap off\
  {% else %}{% if facts_read %}no swap is active now{% else %}swap on the node was not collected{% endif %}\
{% if notready %}, the node is NotReady{% endif %}{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
{% for p in parts %}\
  {% if p == 'active' %}节点 {{ node }} 上启用了 swap（{{ size_gib }} GiB，已使用 {{ used_mib }} MiB）\
  {% elif p == 'refused' %}kubelet 拒绝启动 {{ refused_n }} 次："running with swap on is not supported"\
  {% elif p == 'fails' %}kubelet failSwapOn 为 {% if unknown %}未知（默认 true）{% else %}true{% endif %}\
：swap 开启时 kubelet 无法启动\
  {% elif p == 'running' %}未采集到 kubelet 配置，但节点处于 Ready：kubelet 正在 swap 开启的情况下运行\
（failSwapOn 为 false，或 swap 是在 kubelet 启动后才开启的：那么它下次重启时会拒绝启动）；请检查 failSwapOn 与 memorySwap.swapBehavior\
  {% elif p == 'tolerated' %}kubelet 允许 swap（\
{% if fail_swap_off %}failSwapOn: false{% endif %}{% if fail_swap_off and paths is not none %}，{% endif %}\
{% if paths is not none %}{{ paths | join('、') }} 中设置了 --fail-swap-on=false{% endif %}），\
{% if swap_behavior is not none %}memorySwap.swapBehavior 为 {{ swap_behavior }}{% else %}未配置 memorySwap.swapBehavior{% endif %}\
{% if kubelet_version is not none %}（kubelet {{ kubelet_version }}）{% endif %}\
：请设置 memorySwap.swapBehavior（NoSwap 或 LimitedSwap）或关闭 swap\
  {% else %}{% if facts_read %}目前没有启用 swap{% else %}未采集到该节点的 swap 信息{% endif %}\
{% if notready %}，该节点处于 NotReady{% endif %}{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
[thresholds]
# kubelet minor from which memorySwap.swapBehavior defaults to NoSwap (NodeSwap beta2, on
# by default): pods get no swap unless LimitedSwap is chosen.
noswap_default_minor = 30
# kubelet minor from which swapBehavior NoSwap / LimitedSwap exist (NodeSwap beta).
swap_behavior_minor = 28
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, cluster_bundle_id, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
swap AS (
    SELECT s.bundle_id, h.cluster, s.node, sum(s.size_kib) AS size_kib, sum(s.used_kib) AS used_kib,
        list(s.filename || ' ' || coalesce(s."type", '') || ' ' || s.size_kib || ' KiB, used ' || s.used_kib || ' KiB' ORDER BY s.filename) AS lines
    FROM host_swaps s JOIN hn h ON h.host_bundle = s.bundle_id
    WHERE s.size_kib > 0
    GROUP BY ALL
),
cfg AS (
    SELECT coalesce(h.cluster, k.bundle_id) AS cluster, k.node,
        bool_or(lower(k.config->>'$.failSwapOn') = 'false') AS fail_swap_off,
        max(k.config->>'$.memorySwap.swapBehavior') AS swap_behavior,
        bool_or(lower(k.config->>'$.featureGates.NodeSwap') = 'true') AS node_swap_gate,
        -- Sorted: DISTINCT leaves the order to the engine, and it differs between versions.
        list_sort(list(DISTINCT k.source || ': failSwapOn=' || coalesce(k.config->>'$.failSwapOn', '(default true)')
             || coalesce(', memorySwap.swapBehavior=' || (k.config->>'$.memorySwap.swapBehavior'), '')
             || coalesce(', featureGates.NodeSwap=' || (k.config->>'$.featureGates.NodeSwap'), ''))) AS seen
    FROM kubelet_configs k LEFT JOIN hn h ON h.host_bundle = k.bundle_id
    GROUP BY 1, 2
),
flags AS (
    SELECT h.cluster, f.node, list(DISTINCT f.path) AS paths,
        bool_or(regexp_matches(f.content, 'feature-gates[= ]"?[^"\s]*NodeSwap=true')) AS node_swap_gate
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE regexp_matches(f.content, 'fail-swap-on(=|:\s*|\s+)"?false')
    GROUP BY 1, 2
),
-- The flags the kubelet last started with, as its service logged them: k3s/rke2 print
-- "Running kubelet --… --fail-swap-on=false …" (no kubelet config file, no flags file), the
-- kubelet itself prints FLAG: --fail-swap-on="false" from -v=1.
log_flags AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS cluster, l.node,
        arg_max(l.line, coalesce(l.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')) AS line,
        arg_max(coalesce(l.service, 'kubelet') || ' log', coalesce(l.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')) AS path
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE l.node IS NOT NULL AND (contains(l.line, 'Running kubelet ') OR contains(l.line, 'FLAG: --fail-swap-on='))
    GROUP BY 1, 2
),
log_tolerated AS (
    SELECT cluster, node, [path] AS paths, regexp_matches(line, 'feature-gates[= ]"?[^"\s]*NodeSwap=true') AS node_swap_gate
    FROM log_flags WHERE regexp_matches(line, 'fail-swap-on(=|:\s*|\s+)\\?"?false')
),
refusals AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS cluster, l.node, l.bundle_id, l.line, l.line_no, l.ts, l.age
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE l.node IS NOT NULL AND contains(l.line, 'running with swap on is not supported')
),
refused AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(line ORDER BY ts DESC NULLS LAST, line_no DESC)[1:2] AS lines
    FROM refusals GROUP BY cluster, node
),
nodes_seen AS (
    SELECT cluster, node FROM swap UNION SELECT cluster, node FROM refused
),
j AS (
    SELECT n.node, s.bundle_id AS swap_bundle, r.bundle_id AS log_bundle, s.size_kib, s.used_kib, s.lines AS swap_lines,
        coalesce(c.fail_swap_off, false) OR f.paths IS NOT NULL OR lt.paths IS NOT NULL AS tolerated,
        coalesce(c.fail_swap_off, false) AS fail_swap_off, c.swap_behavior, c.seen,
        CASE WHEN f.paths IS NOT NULL OR lt.paths IS NOT NULL THEN list_concat(coalesce(f.paths, []), coalesce(lt.paths, [])) END AS paths,
        coalesce(c.node_swap_gate, false) OR coalesce(f.node_swap_gate, false) OR coalesce(lt.node_swap_gate, false) AS node_swap_gate,
        lf.line IS NOT NULL AS flags_logged,
        r.n AS refused_n, r.recent_n AS refused_recent, r.first_seen, r.last_seen, r.lines AS refused_lines,
        k.kubelet_version, version_minor(k.kubelet_version) AS minor, k.ready,
        -- The node's swaps were read (and none is active when size_kib is NULL).
        EXISTS (SELECT 1 FROM host_facts hf JOIN hn h ON h.host_bundle = hf.bundle_id
                WHERE h.cluster = n.cluster AND hf.node = n.node) AS facts_read
    FROM nodes_seen n
    LEFT JOIN swap s ON s.cluster = n.cluster AND s.node = n.node
    LEFT JOIN cfg c ON c.cluster = n.cluster AND c.node = n.node
    LEFT JOIN flags f ON f.cluster = n.cluster AND f.node = n.node
    LEFT JOIN log_tolerated lt ON lt.cluster = n.cluster AND lt.node = n.node
    LEFT JOIN log_flags lf ON lf.cluster = n.cluster AND lf.node = n.node
    LEFT JOIN refused r ON r.cluster = n.cluster AND r.node = n.node
    LEFT JOIN nodes k ON k.bundle_id = n.cluster AND k.name = n.node
),
judged AS (
    SELECT *,
        -- The kubelet keeps swap away from pods: NoSwap / LimitedSwap where they exist, the
        -- NoSwap default from 1.30, or the NodeSwap gate's LimitedSwap default before 1.28.
        tolerated AND coalesce(
            (swap_behavior IN ('NoSwap', 'LimitedSwap') AND coalesce(minor >= ${swap_behavior_minor}, true))
            OR (swap_behavior IS NULL AND minor >= ${noswap_default_minor})
            OR (node_swap_gate AND coalesce(swap_behavior, 'LimitedSwap') = 'LimitedSwap'), false) AS managed,
        -- No configuration of any kind, yet the kubelet reports the node Ready with swap on
        -- and has not refused lately: it tolerates swap, or swap came on after it started.
        seen IS NULL AND paths IS NULL AND NOT flags_logged AND ready = true AND coalesce(refused_recent, 0) = 0 AS running_unknown
    FROM j
)
SELECT coalesce('node/' || node, 'cluster') AS resource, node, node AS name, coalesce(swap_bundle, log_bundle) AS bundle_id,
    list_filter([CASE WHEN size_kib IS NOT NULL THEN 'active' END, CASE WHEN refused_n > 0 THEN 'refused' END,
                 CASE WHEN size_kib IS NULL THEN NULL WHEN tolerated THEN 'tolerated'
                      WHEN running_unknown THEN 'running' ELSE 'fails' END,
                 CASE WHEN size_kib IS NULL AND refused_n > 0 THEN 'now' END], lambda p: p IS NOT NULL) AS parts,
    -- DuckDB's text of the rounded size (1.5, 2.0).
    CAST(round(size_kib / 1048576.0, 1) AS VARCHAR) AS size_gib, CAST(round(used_kib / 1024.0) AS BIGINT) AS used_mib,
    refused_n, seen IS NULL AS unknown, fail_swap_off, paths, swap_behavior, kubelet_version, facts_read,
    coalesce(ready = false, false) AS notready,
    list_concat(coalesce(swap_lines, []), coalesce(seen, []),
        coalesce(list_transform(paths, lambda p: p || ': --fail-swap-on=false'), []), coalesce(refused_lines, [])) AS evidence,
    CASE
        -- Swap on and the kubelet refusing it: down now if it refused lately or the node is NotReady,
        -- down at its next restart otherwise.
        WHEN size_kib IS NOT NULL AND NOT tolerated THEN
            CASE WHEN refused_recent > 0 OR ready = false THEN 'high' WHEN running_unknown THEN 'low' ELSE 'medium' END
        WHEN size_kib IS NOT NULL THEN 'low'
        -- Refusals alone: the kubelet down now (NotReady) is proven; swap read as off now
        -- makes them history; otherwise they are judged by their time below.
        WHEN ready = false THEN 'high'
        WHEN facts_read THEN 'info'
        ELSE 'medium' END AS severity,
    first_seen, last_seen,
    CASE WHEN size_kib IS NULL THEN refused_recent END AS recent_count,
    refused_n AS count
FROM judged
WHERE (size_kib IS NOT NULL AND NOT managed) OR (size_kib IS NULL AND refused_n > 0)
ORDER BY 1
