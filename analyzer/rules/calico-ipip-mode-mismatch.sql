/* ---
id = "calico-ipip-mode-mismatch"
severity = "medium"
faq = ["CRN-04"]
category = "network"
patterns = ["CALICO_IPV4POOL_IPIP", "ipipMode", "tunl0", "calico_type"]
[title]
en = "Calico IPIP mode differs from the intended one, or tunl0 is left over after switching to BGP"
zh = "Calico IPIP 模式与预期不一致，或切换为 BGP 后 tunl0 网卡残留"
[remediation]
en = """
Calico uses IPIP by default. To run plain BGP, set the encapsulation to Off (Crane:
`calico_type: Off`). The `CALICO_IPV4POOL_IPIP` variable of calico-node only applies when the
pool is first created: on a running cluster the existing IPPool keeps its `ipipMode` until it
is patched. After switching to BGP, the old `tunl0` interface (and its tunnel address) stays
on every node and conflicts with the BGP routes: delete it on each node for the change to take
effect.
```
kubectl get ippools.crd.projectcalico.org -o yaml | grep -E 'cidr|ipipMode'
calicoctl patch ippool default-ipv4-ippool -p '{"spec":{"ipipMode":"Never"}}'
kubectl -n kube-system set env ds/calico-node CALICO_IPV4POOL_IPIP=Never
# on every node, once calico-node has restarted:
ip link delete tunl0      # or: modprobe -r ipip
```
"""
zh = """
Calico 默认使用 IPIP 协议。如需改为 BGP，将封装设为 Off（Crane 中把 `calico_type` 改为 Off）。calico-node 的
`CALICO_IPV4POOL_IPIP` 变量只在首次创建 IP 池时生效：正在使用的集群中，已有 IPPool 的 `ipipMode` 不会随之改变，
需要单独修改。切换到 BGP 后，每个节点上原有的 `tunl0` 网卡（及其隧道地址）仍然存在，与 BGP 路由冲突：
需在每个节点上删除 tunl0 网卡后才会生效。
```
kubectl get ippools.crd.projectcalico.org -o yaml | grep -E 'cidr|ipipMode'
calicoctl patch ippool default-ipv4-ippool -p '{"spec":{"ipipMode":"Never"}}'
kubectl -n kube-system set env ds/calico-node CALICO_IPV4POOL_IPIP=Never
# calico-node 重启后，在每个节点上执行：
ip link delete tunl0      # 或：modprobe -r ipip
```
"""
[message]
en = """\
{% if kind == 'pool' %}\
  IPPool {{ name }} ({{ cidr }}) has ipipMode {{ mode }} but {{ src }} asks for {{ want }}: \
  the variable only applies when the pool is created\
  {% if want == 'Always' %} (it is the install default: the pool was most likely changed on purpose){% endif %}\
{% elif kind == 'leftover' %}\
  IPIP is off in every IPv4 pool but node {{ node }} still has its IPIP tunnel address \
  ({{ what | join(', ') }}): delete the leftover tunl0 interface\
{% else %}\
  IPIP is off in every IPv4 pool but the ipip kernel module is still loaded on node {{ node }} (tunl0 exists)\
{% endif %}"""
zh = """\
{% if kind == 'pool' %}\
  IPPool {{ name }}（{{ cidr }}）的 ipipMode 为 {{ mode }}，但 {{ src }} 要求 {{ want }}：\
  该变量只在创建 IP 池时生效\
  {% if want == 'Always' %}（这是安装时的默认值：IP 池多半是有意修改的）{% endif %}\
{% elif kind == 'leftover' %}\
  所有 IPv4 IP 池都已关闭 IPIP，但节点 {{ node }} 仍保留 IPIP 隧道地址\
  （{{ what | join(', ') }}）：请删除残留的 tunl0 网卡\
{% else %}\
  所有 IPv4 IP 池都已关闭 IPIP，但节点 {{ node }} 仍加载着 ipip 内核模块（存在 tunl0）\
{% endif %}"""
--- */
WITH pools AS (
    SELECT bundle_id, name,
        (doc->>'$.spec.cidr') AS cidr,
        coalesce(TRY_CAST((doc->>'$.spec.disabled') AS BOOLEAN), false) AS disabled,
        CASE
            WHEN lower(coalesce(doc->>'$.spec.ipipMode', '')) IN ('always') THEN 'Always'
            WHEN lower(coalesce(doc->>'$.spec.ipipMode', '')) IN ('crosssubnet', 'cross-subnet') THEN 'CrossSubnet'
            WHEN (doc->>'$.spec.ipipMode') IS NOT NULL THEN 'Never'
            WHEN TRY_CAST((doc->>'$.spec.ipip.enabled') AS BOOLEAN) THEN
                CASE WHEN lower(coalesce(doc->>'$.spec.ipip.mode', 'always')) = 'cross-subnet' THEN 'CrossSubnet' ELSE 'Always' END
            ELSE 'Never' END AS mode
    FROM objects
    WHERE api_group IN ('crd.projectcalico.org', 'projectcalico.org') AND resource = 'ippools'
      AND contains(coalesce(doc->>'$.spec.cidr', ''), '.')
),
intent AS (
    -- calico-node environment (Crane's calico_type ends up here) ...
    SELECT bundle_id, 'DaemonSet ' || namespace || '/' || workload || ' CALICO_IPV4POOL_IPIP=' || raw AS src, raw,
        CASE WHEN lower(raw) IN ('always', 'true', 'enabled') THEN 'Always'
             WHEN lower(raw) IN ('crosssubnet', 'cross-subnet') THEN 'CrossSubnet'
             ELSE 'Never' END AS mode,
        pool_cidr
    FROM (
        SELECT bundle_id, namespace, workload,
            list_filter(from_json(spec->'$.env', '[{"name":"VARCHAR","value":"VARCHAR"}]'), lambda e: e.name = 'CALICO_IPV4POOL_IPIP')[1].value AS raw,
            list_filter(from_json(spec->'$.env', '[{"name":"VARCHAR","value":"VARCHAR"}]'), lambda e: e.name = 'CALICO_IPV4POOL_CIDR')[1].value AS pool_cidr
        FROM workload_containers
        WHERE kind = 'DaemonSet' AND name = 'calico-node'
    )
    WHERE raw IS NOT NULL
    UNION ALL
    -- ... or the tigera-operator Installation.
    SELECT bundle_id, 'Installation ' || name || ' encapsulation ' || p.encapsulation, p.encapsulation,
        CASE WHEN p.encapsulation = 'IPIP' THEN 'Always' WHEN p.encapsulation = 'IPIPCrossSubnet' THEN 'CrossSubnet' ELSE 'Never' END,
        p.cidr
    FROM (SELECT bundle_id, name,
                 unnest(from_json(doc->'$.spec.calicoNetwork.ipPools', '[{"cidr":"VARCHAR","encapsulation":"VARCHAR"}]')) AS p
          FROM objects WHERE api_group = 'operator.tigera.io' AND resource = 'installations')
    WHERE p.encapsulation IS NOT NULL AND contains(coalesce(p.cidr, ''), '.')
),
mismatch AS (
    SELECT p.bundle_id, p.name, p.cidr, p.mode, i.src, i.mode AS want
    FROM intent i
    JOIN pools p ON p.bundle_id = i.bundle_id AND NOT p.disabled
        AND (p.cidr = i.pool_cidr OR (i.pool_cidr IS NULL AND p.name = 'default-ipv4-ippool'))
    WHERE p.mode <> i.mode
),
ipip_off AS (
    -- Clusters whose enabled IPv4 pools all have IPIP off.
    SELECT bundle_id, list(name || ' ' || cidr || ' ipipMode ' || mode ORDER BY name) AS pool_lines
    FROM pools WHERE NOT disabled
    GROUP BY bundle_id
    HAVING bool_and(mode = 'Never')
),
tunnel AS (
    -- Nodes that still carry an IPIP tunnel address (node annotation or Calico Node resource).
    SELECT bundle_id, name AS node, json_extract_string(annotations, '$."projectcalico.org/IPv4IPIPTunnelAddr"') AS addr,
        'annotation projectcalico.org/IPv4IPIPTunnelAddr' AS src
    FROM nodes WHERE json_extract_string(annotations, '$."projectcalico.org/IPv4IPIPTunnelAddr"') IS NOT NULL
    UNION ALL
    SELECT bundle_id, name, doc->>'$.spec.ipv4IPIPTunnelAddr', 'Calico Node spec.ipv4IPIPTunnelAddr'
    FROM objects WHERE api_group = 'crd.projectcalico.org' AND resource = 'nodes' AND (doc->>'$.spec.ipv4IPIPTunnelAddr') IS NOT NULL
),
leftover AS (
    SELECT o.bundle_id, t.node, list(DISTINCT t.src || ' ' || t.addr) AS what, any_value(o.pool_lines) AS pool_lines
    FROM ipip_off o JOIN tunnel t ON t.bundle_id = o.bundle_id
    GROUP BY ALL
),
module_only AS (
    -- ipip kernel module loaded (it creates tunl0) on nodes of a cluster where IPIP is off.
    SELECT m.node, any_value(m.bundle_id) AS bundle_id, any_value(o.pool_lines) AS pool_lines
    FROM host_modules m
    JOIN host_nodes h ON h.bundle_id = m.bundle_id
    JOIN ipip_off o ON o.bundle_id = h.cluster_bundle_id
    WHERE m.module = 'ipip'
      AND NOT EXISTS (SELECT 1 FROM leftover l WHERE l.bundle_id = h.cluster_bundle_id AND l.node = m.node)
    GROUP BY m.node
)
SELECT 'ippool/' || name AS resource, NULL AS node, name, bundle_id,
    'pool' AS kind, cidr, mode, src, want, NULL::VARCHAR[] AS what,
    ['IPPool ' || name || ' spec.ipipMode: ' || mode, src] AS evidence,
    -- Asked to turn IPIP off or down (Crane calico_type: Off) and the pool still encapsulates:
    -- the switch did not take. The install default (Always) beside a pool changed later is
    -- the pool edited on purpose, the variable a leftover: info.
    CASE WHEN want = 'Always' THEN 'info' ELSE 'medium' END AS severity
FROM mismatch
UNION ALL
SELECT 'node/' || node, node, node, bundle_id,
    'leftover', NULL, NULL, NULL, NULL, what,
    list_concat(what, pool_lines),
    'medium'
FROM leftover
UNION ALL
SELECT 'node/' || node, node, node, bundle_id,
    'module', NULL, NULL, NULL, NULL, NULL,
    list_concat(['kernel module: ipip'], pool_lines),
    'low'
FROM module_only
ORDER BY 1
