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
# kube-proxy repeats "Failed to get node ip address matching nodeport cidrs" at every sync of
# its rules (at least hourly): older lines are from before a fix.
recent = "2h"
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
ip -o addr                                       # on the node: every interface's addresses
```
Limiting NodePorts to a secondary interface on purpose is fine: kube-proxy then finds an
address of that interface and logs no error.
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
ip -o addr                                       # 在节点上查看每个网卡的地址
```
有意只在第二块网卡上提供 NodePort 是正常的：kube-proxy 能在该网卡上找到地址，不会报错。
"""
[message]
en = """\
NodePorts {% if no_log %}may not be{% else %}are not{% endif %} served on node {{ node }}: \
{% if configured %}{{ src }} nodePortAddresses [{{ all_cidrs | join(', ') }}] contains none of the node's addresses \
{{ addresses | join(', ') }}{% endif %}\
{% if logged > 0 %}{% if configured %}; {% endif %}kube-proxy logged {{ logged }} times \
"Failed to get node ip address matching nodeport cidrs"{% endif %}\
{% if no_log %}{% if configured or logged > 0 %}; {% endif %}kube-proxy's log of this node was not collected: \
check that no other interface of the node is in the range{% endif %}"""
zh = """\
节点 {{ node }}{% if no_log %} 上可能无法提供 NodePort 服务：{% else %} 上无法提供 NodePort 服务：{% endif %}\
{% if configured %}{{ src }} 中的 nodePortAddresses [{{ all_cidrs | join(', ') }}] 不包含节点的任何地址 \
{{ addresses | join(', ') }}{% endif %}\
{% if logged > 0 %}{% if configured %}；{% endif %}kube-proxy 日志中 {{ logged }} 次出现 \
"Failed to get node ip address matching nodeport cidrs"{% endif %}\
{% if no_log %}{% if configured or logged > 0 %}；{% endif %}未收集到该节点的 kube-proxy 日志：\
请确认节点上没有其他网卡的地址在该范围内{% endif %}"""
--- */
-- DaemonSets and the ConfigMaps their pods mount: a per-pool kube-proxy DaemonSet (or its own
-- ConfigMap) configures the nodes it runs on, not every node.
WITH cm_users AS (
    SELECT bundle_id, namespace, cm, list(DISTINCT name ORDER BY name) AS ds
    FROM (SELECT bundle_id, namespace, name, json_extract_string(unnest(CASE WHEN json_type(volumes) = 'ARRAY'
                 THEN from_json(volumes, '["JSON"]') ELSE [] END), '$.configMap.name') AS cm
          FROM workloads WHERE kind = 'DaemonSet')
    WHERE cm IS NOT NULL
    GROUP BY ALL
),
ds_nodes AS (
    SELECT DISTINCT bundle_id, namespace, owner_name AS ds, node FROM pods
    WHERE owner_kind = 'DaemonSet' AND node IS NOT NULL AND deleted_at IS NULL
),
sources AS (
    -- kube-proxy configuration file held in a ConfigMap (kubeadm: kube-system/kube-proxy config.conf).
    SELECT bundle_id, NULL::VARCHAR AS node, 'ConfigMap ' || namespace || '/' || name || ' ' || e.key AS src,
        regexp_extract(e.value, 'nodePortAddresses:[ \t]*(\[[^\]]*\]|null|\n(?:[ \t]*-[^\n]*\n?)+)', 1) AS raw,
        namespace AS ns, (SELECT any_value(u.ds) FROM cm_users u WHERE u.bundle_id = x.bundle_id AND u.namespace = x.namespace AND u.cm = x.name) AS scope
    FROM (SELECT bundle_id, namespace, name,
                 unnest(map_entries(from_json(doc->'$.data', '"MAP(VARCHAR, VARCHAR)"'))) AS e
          FROM objects WHERE api_group = '' AND resource = 'configmaps' AND name LIKE '%kube-proxy%') AS x
    WHERE contains(e.value, 'nodePortAddresses')
    UNION ALL
    -- --nodeport-addresses flag of a kube-proxy DaemonSet.
    SELECT bundle_id, NULL, kind || ' ' || namespace || '/' || workload || ' flag',
        regexp_extract(coalesce(CAST(command AS VARCHAR), '') || ' ' || coalesce(CAST(args AS VARCHAR), ''),
                       '--nodeport-addresses[= ]([0-9a-fA-F.:/,]+)', 1),
        namespace, [workload]
    FROM workload_containers
    WHERE kind = 'DaemonSet' AND contains(coalesce(CAST(command AS VARCHAR), '') || coalesce(CAST(args AS VARCHAR), ''), '--nodeport-addresses')
    UNION ALL
    -- kube-proxy as a static pod on a node (the node bundle's cluster).
    SELECT h.cluster_bundle_id, f.node, 'file ' || f.path,
        regexp_extract(f.content, '--nodeport-addresses[= ]([0-9a-fA-F.:/,]+)', 1),
        NULL, NULL::VARCHAR[]
    FROM host_files f JOIN host_nodes h ON h.bundle_id = f.bundle_id
    WHERE f.path LIKE '/etc/kubernetes/manifests/%' AND contains(f.content, '--nodeport-addresses')
      AND h.cluster_bundle_id IS NOT NULL
    UNION ALL
    -- k3s / RKE2 embed kube-proxy: its flags are kube-proxy-arg entries of the node's
    -- config.yaml (or a config.yaml.d drop-in), written without the leading dashes.
    SELECT h.cluster_bundle_id, f.node, 'file ' || f.path,
        regexp_extract(f.content, '(?m)^[^#\n]*nodeport-addresses[= ]([0-9a-fA-F.:/,]+)', 1),
        NULL, NULL::VARCHAR[]
    FROM host_files f JOIN host_nodes h ON h.bundle_id = f.bundle_id
    WHERE regexp_matches(f.path, '^/etc/rancher/(k3s|rke2)/config\.yaml(\.d/[^/]+\.ya?ml)?$')
      AND contains(f.content, 'kube-proxy-arg') AND contains(f.content, 'nodeport-addresses')
      AND h.cluster_bundle_id IS NOT NULL
),
cidrs AS (
    SELECT bundle_id, node, src, raw, ns, scope, regexp_extract_all(raw, '[0-9a-fA-F.:]+/[0-9]{1,3}') AS all_cidrs
    FROM sources
    WHERE raw <> '' AND raw <> 'null' AND NOT contains(raw, 'primary')
      -- an empty list (`nodePortAddresses: []`, kubespray's default) means every address
      AND len(regexp_extract_all(raw, '[0-9a-fA-F.:]+/[0-9]{1,3}')) > 0
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
-- The node's addresses the API knows: its InternalIP and ExternalIP, and the interface
-- addresses network plugins record (Calico's BGP address, flannel's public IP). Other
-- interfaces of the host are not known here: kube-proxy's log is what tells.
known_addresses AS (
    -- (read only when some nodePortAddresses range is set: one pass over the nodes)
    SELECT DISTINCT bundle_id, node, address FROM (
        SELECT n.bundle_id, n.name AS node,
            unnest(list_concat(
                list_transform(list_filter(n.addresses, lambda a: a.type IN ('InternalIP', 'ExternalIP')), lambda a: a.address),
                [split_part(json_extract_string(n.annotations, '$."projectcalico.org/IPv4Address"'), '/', 1),
                 json_extract_string(n.annotations, '$."flannel.alpha.coreos.com/public-ip"')])) AS address
        FROM nodes n, (SELECT 1 FROM cidrs LIMIT 1) AS gate)
    WHERE address IS NOT NULL
),
addr4 AS (
    SELECT bundle_id, node, address,
        TRY_CAST(split_part(address, '.', 1) AS BIGINT) * 16777216
          + TRY_CAST(split_part(address, '.', 2) AS BIGINT) * 65536
          + TRY_CAST(split_part(address, '.', 3) AS BIGINT) * 256
          + TRY_CAST(split_part(address, '.', 4) AS BIGINT) AS ip
    FROM known_addresses
    WHERE regexp_matches(address, '^\d+\.\d+\.\d+\.\d+$')
),
pairs AS (
    -- Every (configuration, node address) pair it applies to: cluster-wide sources apply to
    -- every node of their cluster, a static pod manifest to its own node.
    SELECT c.bundle_id, c.src, c.raw, c.all_cidrs, a.node, a.address, a.ip
    FROM cidrs c
    JOIN addr4 a ON a.bundle_id = c.bundle_id AND (c.node IS NULL OR lower(a.node) = lower(c.node))
    -- A DaemonSet's flag or ConfigMap: the nodes its pods run on (all nodes when none is listed).
    WHERE c.scope IS NULL
       OR NOT EXISTS (SELECT 1 FROM ds_nodes d WHERE d.bundle_id = c.bundle_id AND d.namespace = c.ns AND list_contains(c.scope, d.ds))
       OR EXISTS (SELECT 1 FROM ds_nodes d WHERE d.bundle_id = c.bundle_id AND d.namespace = c.ns AND list_contains(c.scope, d.ds)
                  AND lower(d.node) = lower(a.node))
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
    SELECT bundle_id, node, src, all_cidrs, list_sort(addresses) AS addresses,
        [src || ': nodePortAddresses ' || array_to_string(all_cidrs, ', '), 'node addresses: ' || array_to_string(list_sort(addresses), ', ')] AS lines
    FROM scoped
    WHERE NOT matched AND NOT has_v6
),
-- kube-proxy's own log on each node (the running instance; a host service or the k3s/RKE2
-- process that embeds it), tied to the node's cluster.
proxy_log AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS bundle_id, l.node, l.source, l.line, l.line_no, l.ts, l.age,
        regexp_matches(l.line, '(?i)failed to get node ip address matching nodeport cidr') OR contains(l.line, 'no addresses found for cidrs') AS hit
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    WHERE l.node IS NOT NULL AND NOT coalesce(l.previous, false)
      AND ((l.source = 'container' AND (l.pod LIKE 'kube-proxy%' OR l.container = 'kube-proxy'))
           OR (l.source IN ('node', 'host') AND l.service IN ('kube-proxy', 'k3s', 'k3s-agent', 'rke2-server', 'rke2-agent')))
),
log_findings AS (
    SELECT bundle_id, node, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_count,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(line ORDER BY line_no)[1:2] AS lines
    FROM proxy_log WHERE hit
    GROUP BY ALL
),
-- Nodes whose kube-proxy log was collected, without that error: kube-proxy found an address of
-- the node inside the range (another interface than the ones the API knows). A service log
-- must be recent; the running container's log is its whole current run, however quiet
-- kube-proxy has been since its start (it repeats the error at every sync when it has one).
clean_logs AS (
    SELECT bundle_id, node FROM proxy_log
    GROUP BY ALL
    HAVING NOT bool_or(hit) AND (bool_or(in_window(age, ${recent})) OR bool_or(source = 'container'))
)
SELECT 'node/' || coalesce(c.node, l.node) AS resource,
    coalesce(c.node, l.node) AS node,
    coalesce(c.bundle_id, l.bundle_id) AS bundle_id,
    c.node IS NOT NULL AS configured, c.src, c.all_cidrs, c.addresses, coalesce(l.n, 0) AS logged, l.node IS NULL AS no_log,
    list_concat(coalesce(c.lines, []), coalesce(l.lines, [])) AS evidence,
    -- kube-proxy itself found no address in the range: proven. The configuration alone only
    -- shows that the addresses the API knows are outside it.
    CASE WHEN l.node IS NOT NULL AND c.node IS NOT NULL THEN 'high'
         WHEN l.node IS NOT NULL THEN 'medium'
         ELSE 'low' END AS severity,
    l.first_seen, l.last_seen, l.recent_count, l.n AS count
FROM config_findings c
FULL OUTER JOIN log_findings l ON l.bundle_id = c.bundle_id AND l.node = c.node
WHERE NOT EXISTS (SELECT 1 FROM clean_logs k WHERE k.bundle_id = coalesce(c.bundle_id, l.bundle_id) AND k.node = coalesce(c.node, l.node))
ORDER BY 1
