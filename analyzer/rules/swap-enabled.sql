/* ---
id = "swap-enabled"
severity = "medium"
faq = ["WNR-24"]
category = "nodes"
patterns = ["running with swap on is not supported", "please disable swap", "--fail-swap-on", "failSwapOn"]
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
--- */
WITH swap AS (
    SELECT bundle_id, node, sum(size_kib) AS size_kib, sum(used_kib) AS used_kib,
        list(filename || ' ' || coalesce("type", '') || ' ' || size_kib || ' KiB, used ' || used_kib || ' KiB' ORDER BY filename) AS lines
    FROM host_swaps WHERE size_kib > 0
    GROUP BY ALL
),
cfg AS (
    SELECT node,
        bool_or(lower(config->>'$.failSwapOn') = 'false') AS fail_swap_off,
        bool_or(lower(config->>'$.failSwapOn') = 'true') AS fail_swap_on,
        max(config->>'$.memorySwap.swapBehavior') AS swap_behavior,
        list(DISTINCT source || ': failSwapOn=' || coalesce(config->>'$.failSwapOn', '(default true)')
             || coalesce(', memorySwap.swapBehavior=' || (config->>'$.memorySwap.swapBehavior'), '')) AS seen
    FROM kubelet_configs GROUP BY node
),
flags AS (
    SELECT node, list(DISTINCT path) AS paths
    FROM host_files
    WHERE regexp_matches(content, 'fail-swap-on(=|:\s*|\s+)"?false')
    GROUP BY node
),
refused AS (
    SELECT node, count(*) AS n, list(line ORDER BY line_no)[1:2] AS lines, any_value(bundle_id) AS bundle_id
    FROM log_lines
    WHERE contains(line, 'running with swap on is not supported')
    GROUP BY node
),
nodes_seen AS (
    SELECT node FROM swap UNION SELECT node FROM refused
),
j AS (
    SELECT n.node, s.bundle_id AS swap_bundle, r.bundle_id AS log_bundle, s.size_kib, s.used_kib, s.lines AS swap_lines,
        coalesce(c.fail_swap_off, false) OR f.paths IS NOT NULL AS tolerated,
        coalesce(c.fail_swap_off, false) AS fail_swap_off, c.swap_behavior, c.seen, f.paths, r.n AS refused_n, r.lines AS refused_lines
    FROM nodes_seen n
    LEFT JOIN swap s ON s.node IS NOT DISTINCT FROM n.node
    LEFT JOIN cfg c ON c.node IS NOT DISTINCT FROM n.node
    LEFT JOIN flags f ON f.node IS NOT DISTINCT FROM n.node
    LEFT JOIN refused r ON r.node IS NOT DISTINCT FROM n.node
)
SELECT coalesce('node/' || node, 'cluster') AS resource, node, node AS name, coalesce(swap_bundle, log_bundle) AS bundle_id,
    concat_ws('; ',
        CASE WHEN size_kib IS NOT NULL THEN 'swap is active on node ' || node || ' (' || CAST(round(size_kib / 1048576.0, 1) AS VARCHAR)
            || ' GiB, ' || CAST(round(used_kib / 1024.0) AS BIGINT) || ' MiB used)' END,
        CASE WHEN refused_n > 0 THEN 'kubelet refused to start ' || refused_n || ' times: "running with swap on is not supported"' END,
        CASE WHEN size_kib IS NULL THEN NULL
             WHEN NOT tolerated THEN 'kubelet failSwapOn is ' || CASE WHEN seen IS NULL THEN 'not known (default true)' ELSE 'true' END
                || ': the kubelet will not start while swap is on'
             ELSE 'kubelet tolerates it (' || concat_ws(', ',
                    CASE WHEN fail_swap_off THEN 'failSwapOn: false' END,
                    CASE WHEN paths IS NOT NULL THEN '--fail-swap-on=false in ' || array_to_string(paths, ', ') END)
                || ') with ' || coalesce('memorySwap.swapBehavior ' || swap_behavior, 'no memorySwap.swapBehavior configured') END) AS message,
    concat_ws('；',
        CASE WHEN size_kib IS NOT NULL THEN '节点 ' || node || ' 上启用了 swap（' || CAST(round(size_kib / 1048576.0, 1) AS VARCHAR)
            || ' GiB，已使用 ' || CAST(round(used_kib / 1024.0) AS BIGINT) || ' MiB）' END,
        CASE WHEN refused_n > 0 THEN 'kubelet 拒绝启动 ' || refused_n || ' 次："running with swap on is not supported"' END,
        CASE WHEN size_kib IS NULL THEN NULL
             WHEN NOT tolerated THEN 'kubelet failSwapOn 为 ' || CASE WHEN seen IS NULL THEN '未知（默认 true）' ELSE 'true' END
                || '：swap 开启时 kubelet 无法启动'
             ELSE 'kubelet 允许 swap（' || concat_ws('，',
                    CASE WHEN fail_swap_off THEN 'failSwapOn: false' END,
                    CASE WHEN paths IS NOT NULL THEN array_to_string(paths, '、') || ' 中设置了 --fail-swap-on=false' END)
                || '），' || coalesce('memorySwap.swapBehavior 为 ' || swap_behavior, '未配置 memorySwap.swapBehavior') END) AS message_zh,
    list_concat(coalesce(swap_lines, []), coalesce(seen, []),
        coalesce(list_transform(paths, lambda p: p || ': --fail-swap-on=false'), []), coalesce(refused_lines, [])) AS evidence,
    CASE WHEN refused_n > 0 OR NOT tolerated THEN 'high' ELSE 'medium' END AS severity
FROM j
WHERE refused_n > 0 OR NOT tolerated OR coalesce(swap_behavior, 'NoSwap') NOT IN ('LimitedSwap')
ORDER BY 1
