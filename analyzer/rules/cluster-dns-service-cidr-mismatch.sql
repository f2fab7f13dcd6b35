/* ---
id = "cluster-dns-service-cidr-mismatch"
severity = "high"
faq = ["CRN-05"]
category = "network"
patterns = [
  "is not within the (configured )?service CIDR",
  "ClusterIPOutOfRange",
  "service-cluster-ip-range",
  "CALICO_IPV4POOL_CIDR",
  "clusterDNS",
  "--cluster-dns",
]
[title]
en = "Service/pod CIDR changed but not everywhere: kubelet clusterDNS, DNS Service IP, ClusterIPs or Calico pool disagree"
zh = "Service/Pod 网段变更不完整：kubelet clusterDNS、DNS Service IP、ClusterIP 或 Calico 地址池不一致"
[remediation]
en = """
A ClusterIP range change has to reach every component:
1. change `--service-cluster-ip-range` on **all** kube-apiservers and restart them;
2. give the DNS Service (`kube-system/kube-dns`) a ClusterIP in the new range (Services keep
   their old IP: delete and re-create them);
3. point every kubelet's `clusterDNS` at the new DNS IP and restart the kubelets:
```
sed -i 's/10.96.0.10/10.9.0.10/g' /etc/systemd/system/kubelet.service.d/10-kubelet.conf
sed -i 's/10.96.0.10/10.9.0.10/g' /var/lib/kubelet/config.yaml
systemctl daemon-reload
systemctl restart kubelet
```
A pod CIDR change (Calico `CALICO_IPV4POOL_CIDR`) only applies to a new IPPool: create the pool
for the new CIDR (matching the controller-manager `--cluster-cidr`), disable the old one, then
restart all pods (or wait for the iptables rules to be refreshed).
A node's clusterDNS is read where it takes effect: the running kubelet (configz), else a
`--cluster-dns` flag (it overrides the config file), else `/var/lib/kubelet/config.yaml`; an old
address left only in a setting the kubelet does not use is info. Any Service serving DNS counts
(NodeLocal DNSCache's `kube-dns-upstream` too), and ServiceCIDR objects extend the service range.
```
kubectl -n kube-system get svc kube-dns -o wide
kubectl get ippools.crd.projectcalico.org -o yaml | grep cidr
```
"""
zh = """
ClusterIP 地址段变更需要覆盖所有组件：
1. 修改**所有** kube-apiserver 的 `--service-cluster-ip-range` 参数并重启 apiServer；
2. 修改 DNS Service（`kube-system/kube-dns`）的 ClusterIP 到新网段（已有 Service 不会自动改变 IP，需要删除重建）；
3. 变更所有 kubelet 配置中的 `clusterDNS` 并重启 kubelet：
```
sed -i 's/10.96.0.10/10.9.0.10/g' /etc/systemd/system/kubelet.service.d/10-kubelet.conf
sed -i 's/10.96.0.10/10.9.0.10/g' /var/lib/kubelet/config.yaml
systemctl daemon-reload
systemctl restart kubelet
```
Pod 网段变更（修改 Calico 的 `CALICO_IPV4POOL_CIDR`）只对新建的 IPPool 生效：为新网段创建地址池（与 controller-manager 的
`--cluster-cidr` 一致）并禁用旧池，然后重启所有 Pod（或者等待 iptables 等规则下一次更新）。
节点的 clusterDNS 按实际生效的位置读取：运行中的 kubelet（configz），其次是 `--cluster-dns` 参数（它覆盖配置文件），
最后是 `/var/lib/kubelet/config.yaml`；旧地址只残留在 kubelet 未使用的配置中时报告为 info。任何提供 DNS 的 Service 都算数
（包括 NodeLocal DNSCache 的 `kube-dns-upstream`），ServiceCIDR 对象也会扩展 Service 网段。
```
kubectl -n kube-system get svc kube-dns -o wide
kubectl get ippools.crd.projectcalico.org -o yaml | grep cidr
```
"""
[message]
en = """\
{% if kind == 'node' %}\
  {% if broken %}kubelet on node {{ node }} sends pods to DNS server {{ dns_ips | join(', ') }} \
but the DNS Service {{ dns_svc }} has ClusterIP {{ dns_ip }}: pods on this node cannot resolve names\
  {% else %}kubelet on node {{ node }} sends pods to {{ dns_ips | join(', ') }} ({{ eff_src }}), \
but a setting it does not use still names an old DNS address: {{ stale | join('; ') }} (fix it before it is used){% endif %}\
{% elif kind == 'daemonset' %}\
  calico-node CALICO_IPV4POOL_CIDR={{ cidr }} but no IPPool has that CIDR (existing: {{ pool_lines | join(', ') }}): \
the variable only applies when a pool is created\
{% else %}\
  {% if kind == 'services' %}{{ outside_n }} Service ClusterIPs lie outside the service range {{ range_value }}\
  {% else %}Calico IPPool {{ pool }} ({{ cidr }}) is outside the cluster pod CIDR {{ range_value }}{% endif %} (\
  {% if range_origin.kind == 'pod' %}pod {{ range_origin.ref }} {{ range_origin.flag }}\
  {% elif range_origin.kind == 'file' %}file {{ range_origin.ref }} on {{ range_origin.node }}\
  {% elif range_origin.kind == 'kubeadm-config' %}ConfigMap kube-system/kubeadm-config {{ range_origin.ref }}\
  {% else %}ServiceCIDR {{ range_origin.ref }}{% endif %})\
  {% if kind == 'services' %}{% if dns_outside %}, including the DNS Service{% endif %}: \
{{ outside | join(', ') }}{% if outside_n > 5 %}, ...{% endif %}\
  {% elif has_inside %}; another enabled pool lies inside it, so this one is an extra pool\
  {% elif policy_only %}; Calico only enforces policy here (Canal: CALICO_NETWORKING_BACKEND=none, \
flannel and host-local IPAM give pod addresses), so nothing allocates from this pool{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'node' %}\
  {% if broken %}节点 {{ node }} 上的 kubelet 为 Pod 配置的 DNS 服务器是 {{ dns_ips | join(', ') }}，\
但 DNS Service {{ dns_svc }} 的 ClusterIP 是 {{ dns_ip }}：该节点上的 Pod 无法解析域名\
  {% else %}节点 {{ node }} 上的 kubelet 为 Pod 配置的 DNS 是 {{ dns_ips | join(', ') }}（{{ eff_src }}），\
但未生效的配置中仍是旧的 DNS 地址：{{ stale | join('；') }}（请在其生效前修正）{% endif %}\
{% elif kind == 'daemonset' %}\
  calico-node 的 CALICO_IPV4POOL_CIDR={{ cidr }}，但没有 IPPool 使用该 CIDR（现有：{{ pool_lines | join(', ') }}）：\
该变量只在创建 IP 池时生效\
{% else %}\
  {% if kind == 'services' %}{{ outside_n }} 个 Service 的 ClusterIP 不在 Service 网段 {{ range_value }}\
  {% else %}Calico IPPool {{ pool }}（{{ cidr }}）不在集群 Pod 网段 {{ range_value }}{% endif %}（\
  {% if range_origin.kind == 'pod' %}Pod {{ range_origin.ref }} 的 {{ range_origin.flag }}\
  {% elif range_origin.kind == 'file' %}节点 {{ range_origin.node }} 上的文件 {{ range_origin.ref }}\
  {% elif range_origin.kind == 'kubeadm-config' %}ConfigMap kube-system/kubeadm-config 的 {{ range_origin.ref }}\
  {% else %}ServiceCIDR {{ range_origin.ref }}{% endif %}）内\
  {% if kind == 'services' %}{% if dns_outside %}，其中包括 DNS Service{% endif %}：\
{{ outside | join(', ') }}{% if outside_n > 5 %}, ...{% endif %}\
  {% elif has_inside %}；另有启用的地址池位于该网段内，此池为额外添加的地址池\
  {% elif policy_only %}；此处 Calico 只负责网络策略（Canal：CALICO_NETWORKING_BACKEND=none，\
Pod 地址由 flannel 与 host-local IPAM 分配），不会从该地址池分配地址{% endif %}\
{% endif %}"""
--- */
WITH settings AS (
    -- (cluster bundle, which range, where it was read, value, priority: running flags first)
    SELECT bundle_id, CASE name WHEN 'kube-apiserver' THEN 'service' ELSE 'pod' END AS what,
        'pod ' || namespace || '/' || pod || CASE name WHEN 'kube-apiserver' THEN ' --service-cluster-ip-range' ELSE ' --cluster-cidr' END AS src,
        {'kind': 'pod', 'ref': namespace || '/' || pod, 'node': NULL,
         'flag': CASE name WHEN 'kube-apiserver' THEN '--service-cluster-ip-range' ELSE '--cluster-cidr' END} AS origin,
        CASE name
            WHEN 'kube-apiserver' THEN regexp_extract(coalesce(CAST(command AS VARCHAR), '') || ' ' || coalesce(CAST(args AS VARCHAR), ''),
                                                      '--service-cluster-ip-range[= ]([0-9a-fA-F.:/,]+)', 1)
            ELSE regexp_extract(coalesce(CAST(command AS VARCHAR), '') || ' ' || coalesce(CAST(args AS VARCHAR), ''),
                                '--cluster-cidr[= ]([0-9a-fA-F.:/,]+)', 1) END AS value,
        1 AS prio
    FROM containers WHERE namespace = 'kube-system' AND name IN ('kube-apiserver', 'kube-controller-manager')
    UNION ALL
    -- Static pod manifests (every one may carry the service range; the controller manager's the
    -- pod range) and RKE2/k3s config files, read once.
    SELECT coalesce(h.cluster_bundle_id, f.bundle_id), x.what, 'file ' || f.path || ' on ' || f.node,
        {'kind': 'file', 'ref': f.path, 'node': f.node, 'flag': NULL}, x.value, 2
    FROM host_files f LEFT JOIN host_nodes h USING (bundle_id),
        unnest(CASE WHEN f.path LIKE '/etc/kubernetes/manifests/%' THEN
                   [{'what': 'service', 'value': regexp_extract(f.content, '--service-cluster-ip-range[= ]([0-9a-fA-F.:/,]+)', 1)},
                    {'what': 'pod', 'value': CASE WHEN f.path LIKE '/etc/kubernetes/manifests/%kube-controller-manager%'
                                                  THEN regexp_extract(f.content, '--cluster-cidr[= ]([0-9a-fA-F.:/,]+)', 1) END}]
               ELSE
                   [{'what': 'service', 'value': regexp_extract(f.content, '(?m)^service-cidr:[ \t]*["'']?([0-9a-fA-F.:/,]+)', 1)},
                    {'what': 'pod', 'value': regexp_extract(f.content, '(?m)^cluster-cidr:[ \t]*["'']?([0-9a-fA-F.:/,]+)', 1)}] END) AS t(x)
    WHERE f.path LIKE '/etc/kubernetes/manifests/%' OR f.path LIKE '/etc/rancher/%config.yaml%'
    UNION ALL
    SELECT bundle_id, x.what, 'ConfigMap kube-system/kubeadm-config ' || x.field,
        {'kind': 'kubeadm-config', 'ref': x.field, 'node': NULL, 'flag': NULL}, x.value, 3
    -- The ConfigMap is picked before the unnest: filters above a lateral unnest are not pushed
    -- into the scan, which then reads every core object's document.
    FROM (SELECT bundle_id, doc->>'$.data.ClusterConfiguration' AS cc FROM objects
          WHERE api_group = '' AND resource = 'configmaps' AND namespace = 'kube-system' AND name = 'kubeadm-config'),
        unnest([{'what': 'service', 'field': 'serviceSubnet', 'value': regexp_extract(cc, 'serviceSubnet:[ \t]*["'']?([0-9a-fA-F.:/,]+)', 1)},
                {'what': 'pod', 'field': 'podSubnet', 'value': regexp_extract(cc, 'podSubnet:[ \t]*["'']?([0-9a-fA-F.:/,]+)', 1)}]) AS t(x)
),
effective AS (
    SELECT bundle_id, what, arg_min(value, prio) AS value, arg_min(src, prio) AS src, arg_min(origin, prio) AS origin
    FROM settings WHERE value IS NOT NULL AND value <> ''
    GROUP BY ALL
),
ranges AS (
    SELECT bundle_id, what, src, origin, value, c AS cidr,
        TRY_CAST(split_part(c, '/', 2) AS INTEGER) AS prefix,
        TRY_CAST(split_part(split_part(c, '/', 1), '.', 1) AS BIGINT) * 16777216
          + TRY_CAST(split_part(split_part(c, '/', 1), '.', 2) AS BIGINT) * 65536
          + TRY_CAST(split_part(split_part(c, '/', 1), '.', 3) AS BIGINT) * 256
          + TRY_CAST(split_part(split_part(c, '/', 1), '.', 4) AS BIGINT) AS net
    FROM (SELECT *, unnest(string_split(value, ',')) AS c FROM effective
          UNION ALL
          -- ServiceCIDR objects (networking.k8s.io, Kubernetes 1.31+) extend the service range
          -- the supported way: ClusterIPs from them are in range.
          SELECT bundle_id, 'service', array_to_string(from_json(doc->'$.spec.cidrs', '["VARCHAR"]'), ','),
              'ServiceCIDR ' || name, {'kind': 'servicecidr', 'ref': name, 'node': NULL, 'flag': NULL},
              unnest(from_json(doc->'$.spec.cidrs', '["VARCHAR"]'))
          FROM objects WHERE api_group = 'networking.k8s.io' AND resource = 'servicecidrs')
    WHERE contains(c, '.') AND contains(c, '/')
),
-- ClusterIPs outside every IPv4 service range the API server was given. Only clusters with a
-- known service range are read (the join reads no Service where none is).
svc_out AS (
    SELECT s.bundle_id, any_value(r.value) AS range_value, any_value(r.src) AS range_src, any_value(r.origin) AS range_origin,
        list(s.namespace || '/' || s.name || ' ' || s.cluster_ip ORDER BY NOT s.is_dns, s.namespace, s.name) AS outside,
        bool_or(s.is_dns) AS dns_outside
    FROM (SELECT bundle_id, namespace, name, cluster_ip,
              (namespace = 'kube-system' AND (name IN ('kube-dns', 'coredns') OR json_extract_string(labels, '$."k8s-app"') = 'kube-dns')) AS is_dns,
              TRY_CAST(split_part(cluster_ip, '.', 1) AS BIGINT) * 16777216
                + TRY_CAST(split_part(cluster_ip, '.', 2) AS BIGINT) * 65536
                + TRY_CAST(split_part(cluster_ip, '.', 3) AS BIGINT) * 256
                + TRY_CAST(split_part(cluster_ip, '.', 4) AS BIGINT) AS ip
          FROM services
          WHERE regexp_matches(coalesce(cluster_ip, ''), '^\d+\.\d+\.\d+\.\d+$')) s
    JOIN ranges r ON r.bundle_id = s.bundle_id AND r.what = 'service'
    GROUP BY s.bundle_id, s.namespace, s.name, s.cluster_ip, s.is_dns
    HAVING NOT bool_or(r.prefix BETWEEN 0 AND 32 AND s.ip // (1::BIGINT << (32 - r.prefix)) = r.net // (1::BIGINT << (32 - r.prefix)))
),
svc_out_by_cluster AS (
    SELECT bundle_id, any_value(range_value) AS range_value, any_value(range_src) AS range_src, any_value(range_origin) AS range_origin,
        flatten(list(outside)) AS outside, bool_or(dns_outside) AS dns_outside
    FROM svc_out GROUP BY bundle_id
),
out_of_range_events AS (
    -- (read only for clusters with ClusterIPs out of range; the test is no filter of the scan)
    SELECT e.bundle_id,
        list(DISTINCT e.message) FILTER (WHERE e.reason = 'ClusterIPOutOfRange' OR regexp_matches(e.message, '(?i)is not within the (configured )?service CIDR'))[1:3] AS messages
    FROM events e SEMI JOIN svc_out o ON o.bundle_id = e.bundle_id
    GROUP BY e.bundle_id
),
kubelet_dns AS (
    -- Every place a node's clusterDNS is read, with its precedence: the running kubelet
    -- (configz), a --cluster-dns flag (flags override the config file), the config file.
    SELECT coalesce(h.cluster_bundle_id, k.bundle_id) AS cluster, k.node,
        CASE WHEN k.source = 'configz' THEN 1 ELSE 3 END AS prio,
        'kubelet ' || CASE WHEN k.source = 'file' THEN '/var/lib/kubelet/config.yaml' ELSE 'configz' END || ' clusterDNS' AS src,
        from_json(k.config->'$.clusterDNS', '["VARCHAR"]') AS ips
    FROM kubelet_configs k LEFT JOIN host_nodes h ON h.bundle_id = k.bundle_id
    WHERE json_type(k.config->'$.clusterDNS') = 'ARRAY'
    UNION ALL
    -- The flag in a kubelet unit, drop-in or environment file; commented-out lines do not count.
    SELECT coalesce(h.cluster_bundle_id, f.bundle_id), f.node, 2, 'kubelet flag --cluster-dns in ' || f.path,
        string_split(regexp_extract(f.content, '(?m)^[^#\n]*--cluster-dns[= ]["'']?([0-9a-fA-F.:,]+)', 1), ',')
    FROM host_files f LEFT JOIN host_nodes h USING (bundle_id)
    WHERE contains(f.content, '--cluster-dns') AND f.path LIKE '%kubelet%'
      AND regexp_matches(f.content, '(?m)^[^#\n]*--cluster-dns[= ]')
),
-- Services pods may be sent to for DNS: the cluster DNS Service(s) and anything serving port 53
-- (NodeLocal DNSCache's kube-dns-upstream carries the kube-dns label too).
dns_targets AS (
    SELECT bundle_id, namespace, name, cluster_ip, is_dns
    FROM (SELECT bundle_id, namespace, name, cluster_ip, ports,
              (namespace = 'kube-system' AND (name IN ('kube-dns', 'coredns') OR json_extract_string(labels, '$."k8s-app"') = 'kube-dns')) AS is_dns
          FROM services)
    WHERE (is_dns OR contains(coalesce(CAST(ports AS VARCHAR), ''), '"port":53'))
      AND regexp_matches(coalesce(cluster_ip, ''), '^\d+\.\d+\.\d+\.\d+$')
),
dns_main AS (
    -- The one named in messages: kube-system/kube-dns first.
    SELECT bundle_id, arg_min(namespace || '/' || name, CASE WHEN name = 'kube-dns' THEN 0 WHEN is_dns THEN 1 ELSE 2 END) AS dns_svc,
        arg_min(cluster_ip, CASE WHEN name = 'kube-dns' THEN 0 WHEN is_dns THEN 1 ELSE 2 END) AS dns_ip,
        list(DISTINCT cluster_ip) AS ips
    FROM dns_targets GROUP BY bundle_id
),
node_dns AS (
    SELECT k.cluster AS bundle_id, k.node,
        arg_min(k.ips, k.prio) AS eff_ips, arg_min(k.src, k.prio) AS eff_src,
        list(k.src || ': ' || array_to_string(k.ips, ', ') ORDER BY k.prio, k.src) AS lines,
        -- sources that name no DNS Service (link-local: NodeLocal DNSCache, on purpose)
        list(k.src || ': ' || array_to_string(k.ips, ', ') ORDER BY k.prio, k.src)
            FILTER (WHERE NOT list_has_any(k.ips, d.ips) AND NOT list_bool_or(list_transform(k.ips, lambda x: x LIKE '169.254.%'))) AS stale,
        any_value(d.dns_svc) AS dns_svc, any_value(d.dns_ip) AS dns_ip, any_value(d.ips) AS dns_ips
    FROM kubelet_dns k JOIN dns_main d ON d.bundle_id = k.cluster
    WHERE len(k.ips) > 0 AND k.node IS NOT NULL
    GROUP BY k.cluster, k.node
),
dns_mismatch AS (
    SELECT *,
        NOT list_has_any(eff_ips, dns_ips) AND NOT list_bool_or(list_transform(eff_ips, lambda x: x LIKE '169.254.%')) AS broken
    FROM node_dns
    WHERE len(coalesce(stale, [])) > 0
),
pools AS (
    SELECT bundle_id, name, (doc->>'$.spec.cidr') AS cidr,
        TRY_CAST(split_part(doc->>'$.spec.cidr', '/', 2) AS INTEGER) AS prefix,
        TRY_CAST(split_part(split_part(doc->>'$.spec.cidr', '/', 1), '.', 1) AS BIGINT) * 16777216
          + TRY_CAST(split_part(split_part(doc->>'$.spec.cidr', '/', 1), '.', 2) AS BIGINT) * 65536
          + TRY_CAST(split_part(split_part(doc->>'$.spec.cidr', '/', 1), '.', 3) AS BIGINT) * 256
          + TRY_CAST(split_part(split_part(doc->>'$.spec.cidr', '/', 1), '.', 4) AS BIGINT) AS net
    FROM objects
    WHERE api_group IN ('crd.projectcalico.org', 'projectcalico.org') AND resource = 'ippools'
      AND contains(coalesce(doc->>'$.spec.cidr', ''), '.')
      AND NOT coalesce(TRY_CAST((doc->>'$.spec.disabled') AS BOOLEAN), false)
),
pool_in AS (
    SELECT p.bundle_id, p.name, p.cidr,
        bool_or(r.prefix BETWEEN 0 AND 32 AND p.prefix >= r.prefix
                AND p.net // (1::BIGINT << (32 - r.prefix)) = r.net // (1::BIGINT << (32 - r.prefix))) AS inside,
        any_value(r.value) AS range_value, any_value(r.src) AS range_src, any_value(r.origin) AS range_origin
    FROM pools p JOIN ranges r ON r.bundle_id = p.bundle_id AND r.what = 'pod'
    GROUP BY ALL
),
pool_out AS (
    -- A pool outside the pod CIDR; beside a pool inside it, it is an extra pool made on purpose.
    SELECT * FROM (SELECT *, coalesce(bool_or(inside) OVER (PARTITION BY bundle_id), false) AS has_inside FROM pool_in)
    WHERE NOT inside
),
-- Calico for policy only (Canal, RKE2's rke2-canal): pod addresses come from flannel and
-- host-local IPAM on the nodes' podCIDRs; the default pool calico-node creates is never used.
policy_only AS (
    SELECT DISTINCT bundle_id FROM workload_containers
    WHERE kind = 'DaemonSet' AND name = 'calico-node'
      AND list_bool_or(list_transform(coalesce(from_json(spec->'$.env', '[{"name":"VARCHAR","value":"VARCHAR"}]'), []),
            lambda e: (e.name = 'CALICO_NETWORKING_BACKEND' AND lower(coalesce(e.value, '')) = 'none')
                      OR (e.name = 'CLUSTER_TYPE' AND contains(lower(coalesce(e.value, '')), 'canal'))))
),
env_cidr AS (
    -- CALICO_IPV4POOL_CIDR changed in calico-node while no pool has that CIDR.
    SELECT bundle_id, namespace, workload,
        list_filter(from_json(spec->'$.env', '[{"name":"VARCHAR","value":"VARCHAR"}]'), lambda e: e.name = 'CALICO_IPV4POOL_CIDR')[1].value AS cidr
    FROM workload_containers WHERE kind = 'DaemonSet' AND name = 'calico-node'
),
env_no_pool AS (
    SELECT e.bundle_id, e.namespace, e.workload, e.cidr, list(p.name || ' ' || p.cidr ORDER BY p.name) AS pool_lines
    FROM env_cidr e JOIN pools p ON p.bundle_id = e.bundle_id
    WHERE e.cidr IS NOT NULL
    GROUP BY ALL
    HAVING NOT bool_or(p.cidr = e.cidr)
)
-- The node's kubelet is named in `node` and the row carries the cluster bundle, so that
-- cluster-dns-unavailable, which names this rule as its root cause, links per node.
SELECT 'node/' || node AS resource, node, bundle_id,
    'node' AS kind, broken, list_sort(eff_ips) AS dns_ips, eff_src, dns_svc, dns_ip, stale,
    NULL::BIGINT AS outside_n, NULL AS range_value, NULL AS range_origin, NULL::BOOLEAN AS dns_outside, NULL::VARCHAR[] AS outside,
    NULL AS pool, NULL AS cidr, NULL::BOOLEAN AS has_inside, NULL::BOOLEAN AS policy_only, NULL::VARCHAR[] AS pool_lines,
    list_concat(lines, ['Service ' || dns_svc || ' clusterIP: ' || dns_ip]) AS evidence,
    CASE WHEN broken THEN 'high' ELSE 'info' END AS severity,
    -- The address the node's pods are sent to: lookups timing out against it are symptoms.
    'dns ' || list_sort(eff_ips)[1] AS symptom_key
FROM dns_mismatch
UNION ALL
SELECT 'cluster', NULL, o.bundle_id,
    'services', NULL, NULL, NULL, NULL, NULL, NULL,
    len(o.outside), o.range_value, o.range_origin, o.dns_outside, o.outside[1:5], NULL, NULL, NULL, NULL, NULL,
    list_concat(o.outside[1:10], coalesce(ev.messages, [])),
    CASE WHEN o.dns_outside THEN 'high' ELSE 'medium' END, NULL
FROM svc_out_by_cluster o LEFT JOIN out_of_range_events ev USING (bundle_id)
UNION ALL
SELECT 'ippool/' || name, NULL, bundle_id,
    'pool', NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, range_value, range_origin, NULL, NULL, name, cidr, has_inside, bundle_id IN (SELECT bundle_id FROM policy_only), NULL,
    ['IPPool ' || name || ' spec.cidr: ' || cidr, range_src || ': ' || range_value],
    CASE WHEN has_inside OR bundle_id IN (SELECT bundle_id FROM policy_only) THEN 'info' ELSE 'medium' END, NULL
FROM pool_out
UNION ALL
SELECT 'daemonset/' || namespace || '/' || workload, NULL, bundle_id,
    'daemonset', NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, cidr, NULL, NULL, pool_lines,
    list_concat(['CALICO_IPV4POOL_CIDR=' || cidr], pool_lines),
    'medium', NULL
FROM env_no_pool
ORDER BY 1
