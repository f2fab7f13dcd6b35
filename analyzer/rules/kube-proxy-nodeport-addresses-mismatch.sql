/* ---
id = "kube-proxy-nodeport-addresses-mismatch"
severity = "high"
faq = ["CRN-02"]
category = "network"
patterns = [
  "Failed to get node ip address matching nodeport cidr",
  "no addresses found for cidrs",
  "nodePortAddresses",
  "nodeport-addresses",
  "node_port_address",
]
[title]
en = "NodePort unreachable: kube-proxy nodePortAddresses matches none of the node's addresses"
zh = "NodePort 无法访问：kube-proxy 的 nodePortAddresses 不包含节点的任何地址"
[remediation]
en = """
kube-proxy only opens NodePorts on node addresses inside `nodePortAddresses`
(`--nodeport-addresses`). When none of a node's addresses falls inside those CIDRs, every
NodePort service is unreachable through that node (kube-proxy logs "Failed to get node ip
address matching nodeport cidrs"). Fix the CIDRs in the kube-proxy configuration (for Crane:
`kube_proxy_node_port_addresses`), or leave the list empty to serve on all addresses, then
restart kube-proxy.
```
kubectl -n kube-system get cm kube-proxy -o yaml | grep -A3 nodePortAddresses
kubectl -n kube-system edit cm kube-proxy        # nodePortAddresses: ["10.200.0.0/16"]
kubectl -n kube-system rollout restart ds/kube-proxy
kubectl get nodes -o wide                        # the node addresses
```
"""
zh = """
kube-proxy 只在 `nodePortAddresses`（`--nodeport-addresses`）范围内的节点地址上开放 NodePort。
节点的地址都不在这些 CIDR 内时，通过该节点访问任何 NodePort 服务都会失败（kube-proxy 日志
"Failed to get node ip address matching nodeport cidrs"）。修改 kube-proxy 配置中的 node_port_address 地址
（Crane 中为 `kube_proxy_node_port_addresses`），或留空以在所有地址上监听，然后重启 kube-proxy。
```
kubectl -n kube-system get cm kube-proxy -o yaml | grep -A3 nodePortAddresses
kubectl -n kube-system edit cm kube-proxy        # nodePortAddresses: ["10.200.0.0/16"]
kubectl -n kube-system rollout restart ds/kube-proxy
kubectl get nodes -o wide                        # 查看节点地址
```
"""
--- */
WITH sources AS (
    -- kube-proxy configuration file held in a ConfigMap (kubeadm: kube-system/kube-proxy config.conf).
    SELECT bundle_id, NULL::VARCHAR AS node, 'ConfigMap ' || namespace || '/' || name || ' ' || e.key AS src,
        regexp_extract(e.value, 'nodePortAddresses:[ \t]*(\[[^\]]*\]|null|\n(?:[ \t]*-[^\n]*\n?)+)', 1) AS raw
    FROM (SELECT bundle_id, namespace, name,
                 unnest(map_entries(from_json(doc->'$.data', '"MAP(VARCHAR, VARCHAR)"'))) AS e
          FROM objects WHERE api_group = '' AND resource = 'configmaps' AND name LIKE '%kube-proxy%')
    WHERE contains(e.value, 'nodePortAddresses')
    UNION ALL
    -- --nodeport-addresses flag of a kube-proxy DaemonSet.
    SELECT bundle_id, NULL, kind || ' ' || namespace || '/' || workload || ' flag',
        regexp_extract(coalesce(CAST(command AS VARCHAR), '') || ' ' || coalesce(CAST(args AS VARCHAR), ''),
                       '--nodeport-addresses[= ]([0-9a-fA-F.:/,]+)', 1)
    FROM workload_containers
    WHERE kind = 'DaemonSet' AND contains(coalesce(CAST(command AS VARCHAR), '') || coalesce(CAST(args AS VARCHAR), ''), '--nodeport-addresses')
    UNION ALL
    -- kube-proxy as a static pod on a node.
    SELECT bundle_id, node, 'file ' || path,
        regexp_extract(content, '--nodeport-addresses[= ]([0-9a-fA-F.:/,]+)', 1)
    FROM host_files
    WHERE path LIKE '/etc/kubernetes/manifests/%' AND contains(content, '--nodeport-addresses')
),
cidrs AS (
    SELECT bundle_id, node, src, raw, regexp_extract_all(raw, '[0-9a-fA-F.:]+/[0-9]{1,3}') AS all_cidrs
    FROM sources
    WHERE raw <> '' AND raw <> 'null' AND NOT contains(raw, 'primary')
),
cidr4 AS (
    SELECT bundle_id, node, src, raw, c AS cidr,
        TRY_CAST(split_part(c, '/', 2) AS INTEGER) AS prefix,
        TRY_CAST(split_part(split_part(c, '/', 1), '.', 1) AS BIGINT) * 16777216
          + TRY_CAST(split_part(split_part(c, '/', 1), '.', 2) AS BIGINT) * 65536
          + TRY_CAST(split_part(split_part(c, '/', 1), '.', 3) AS BIGINT) * 256
          + TRY_CAST(split_part(split_part(c, '/', 1), '.', 4) AS BIGINT) AS net
    FROM (SELECT *, unnest(all_cidrs) AS c FROM cidrs)
    WHERE contains(c, '.')
),
addr4 AS (
    SELECT bundle_id, node, address,
        TRY_CAST(split_part(address, '.', 1) AS BIGINT) * 16777216
          + TRY_CAST(split_part(address, '.', 2) AS BIGINT) * 65536
          + TRY_CAST(split_part(address, '.', 3) AS BIGINT) * 256
          + TRY_CAST(split_part(address, '.', 4) AS BIGINT) AS ip
    FROM node_addresses
    WHERE type IN ('InternalIP', 'ExternalIP') AND regexp_matches(address, '^\d+\.\d+\.\d+\.\d+$')
),
pairs AS (
    -- Every (configuration, node address) pair it applies to: cluster-wide sources apply to
    -- every node of their cluster, a static pod manifest to its own node.
    SELECT c.bundle_id, c.src, c.raw, c.all_cidrs, a.node, a.address, a.ip
    FROM cidrs c
    JOIN addr4 a ON (c.node IS NULL AND a.bundle_id = c.bundle_id) OR (c.node IS NOT NULL AND lower(a.node) = lower(c.node))
),
matches AS (
    SELECT DISTINCT p.bundle_id, p.src, p.node
    FROM pairs p
    JOIN cidr4 k ON k.bundle_id = p.bundle_id AND k.src = p.src AND k.prefix BETWEEN 0 AND 32
        AND p.ip // (1::BIGINT << (32 - k.prefix)) = k.net // (1::BIGINT << (32 - k.prefix))
),
scoped AS (
    SELECT p.bundle_id, p.src, p.raw, p.all_cidrs, p.node, list(DISTINCT p.address) AS addresses,
        len(list_filter(p.all_cidrs, lambda x: contains(x, ':'))) > 0 AS has_v6,
        m.node IS NOT NULL AS matched
    FROM pairs p
    LEFT JOIN matches m ON m.bundle_id = p.bundle_id AND m.src = p.src AND m.node = p.node
    GROUP BY ALL
),
config_findings AS (
    SELECT bundle_id, node, src || ' nodePortAddresses [' || array_to_string(all_cidrs, ', ') || ']'
            || ' contains none of the node''s addresses ' || array_to_string(list_sort(addresses), ', ') AS what,
        src || ' 中的 nodePortAddresses [' || array_to_string(all_cidrs, ', ') || ']'
            || ' 不包含节点的任何地址 ' || array_to_string(list_sort(addresses), ', ') AS what_zh,
        [src || ': nodePortAddresses ' || array_to_string(all_cidrs, ', '), 'node addresses: ' || array_to_string(list_sort(addresses), ', ')] AS lines
    FROM scoped
    WHERE NOT matched AND NOT has_v6
),
log_findings AS (
    SELECT node, any_value(bundle_id) AS bundle_id, count(*) AS n, list(line ORDER BY line_no)[1:2] AS lines
    FROM log_lines
    WHERE node IS NOT NULL
      AND (regexp_matches(line, '(?i)failed to get node ip address matching nodeport cidr') OR contains(line, 'no addresses found for cidrs'))
    GROUP BY node
)
SELECT 'node/' || coalesce(c.node, l.node) AS resource,
    coalesce(c.node, l.node) AS node,
    coalesce(c.bundle_id, l.bundle_id) AS bundle_id,
    'NodePorts are not served on node ' || coalesce(c.node, l.node) || ': '
        || concat_ws('; ', c.what,
            CASE WHEN l.n > 0 THEN 'kube-proxy logged ' || l.n || ' times "Failed to get node ip address matching nodeport cidrs"' END) AS message,
    '节点 ' || coalesce(c.node, l.node) || ' 上无法提供 NodePort 服务：'
        || concat_ws('；', c.what_zh,
            CASE WHEN l.n > 0 THEN 'kube-proxy 日志中 ' || l.n || ' 次出现 "Failed to get node ip address matching nodeport cidrs"' END) AS message_zh,
    list_concat(coalesce(c.lines, []), coalesce(l.lines, [])) AS evidence
FROM config_findings c
FULL OUTER JOIN log_findings l ON l.node = c.node
ORDER BY 1
