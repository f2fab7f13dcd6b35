/* ---
id = "duplicate-node-ip-flannel-iface"
severity = "high"
faq = ["KADM-11"]
category = "network"
patterns = [
  "Error from server \\(NotFound\\): the server could not find the requested resource",
  "10\\.0\\.2\\.15",
  "--iface",
]
[title]
en = "Several nodes report the same IP (Vagrant NAT NIC 10.0.2.15): flannel needs --iface"
zh = "多个节点报告相同的 IP（Vagrant NAT 网卡 10.0.2.15）：flannel 需要指定 --iface"
[remediation]
en = """
Vagrant gives every VM two interfaces; the first has the address `10.0.2.15` on every host, for
NATed outside traffic. flannel defaults to the host's first interface, so all hosts believe
they have the same public IP and the pod network breaks (symptoms include
`Error from server (NotFound): the server could not find the requested resource`). Pass
`--iface eth1` to flannel so it picks the second interface, and give the kubelet the right
address with `--node-ip` (kubeadm `nodeRegistration.kubeletExtraArgs`).
```
kubectl get nodes -o wide
kubectl -n kube-flannel edit ds kube-flannel-ds    # args: [--ip-masq, --kube-subnet-mgr, --iface=eth1]
```
"""
zh = """
Vagrant 通常为所有 VM 分配两个网卡，第一个网卡在所有主机上的 IP 都是 `10.0.2.15`，用于 NAT 外部流量。
flannel 默认使用主机上的第一个网卡，导致所有主机认为它们具有相同的公共 IP，Pod 网络出现问题（可能表现为
`Error from server (NotFound): the server could not find the requested resource`）。请向 flannel 传递 `--iface eth1`
以选择第二个网卡，并通过 `--node-ip`（kubeadm `nodeRegistration.kubeletExtraArgs`）为 kubelet 指定正确地址。
```
kubectl get nodes -o wide
kubectl -n kube-flannel edit ds kube-flannel-ds    # args: [--ip-masq, --kube-subnet-mgr, --iface=eth1]
```
"""
[message]
en = """\
{{ nodes | length }} nodes report the same IP {{ ip }} ({{ whats | join(', ') }}): {{ nodes | join(', ') }}\
{% if ip == '10.0.2.15' %}; 10.0.2.15 is the Vagrant/VirtualBox NAT interface{% endif %}\
{% if ready_n < 2 %}; only {{ ready_n }} of them is Ready: the others look like stale Node objects of replaced machines{% endif %}\
{% if daemonset is not none %}; flannel DaemonSet {{ daemonset }}\
{% if without_iface %} runs without --iface{% else %} sets --iface{% endif %}{% endif %}"""
zh = """\
{{ nodes | length }} 个节点上报了相同的 IP {{ ip }}（{{ whats | join(', ') }}）：{{ nodes | join(', ') }}\
{% if ip == '10.0.2.15' %}；10.0.2.15 是 Vagrant/VirtualBox 的 NAT 网卡{% endif %}\
{% if ready_n < 2 %}；其中只有 {{ ready_n }} 个节点 Ready：其余的看起来是已被替换机器遗留的 Node 对象{% endif %}\
{% if daemonset is not none %}；flannel DaemonSet {{ daemonset }}\
{% if without_iface %} 运行时未设置 --iface{% else %} 设置了 --iface{% endif %}{% endif %}"""
--- */
-- Addresses of live Nodes (not being deleted, not virtual kubelets), with their readiness.
WITH live AS (
    SELECT bundle_id, name, ready, annotations FROM nodes
    WHERE deleted_at IS NULL AND coalesce(json_extract_string(labels, '$.type'), '') <> 'virtual-kubelet'
),
ips AS (
    SELECT a.bundle_id, a.node, a.address AS ip, 'InternalIP' AS what, l.ready
    FROM node_addresses a JOIN live l ON l.bundle_id = a.bundle_id AND l.name = a.node
    WHERE a.type = 'InternalIP'
    UNION ALL
    SELECT bundle_id, name, json_extract_string(annotations, '$."flannel.alpha.coreos.com/public-ip"'), 'flannel public-ip', ready
    FROM live WHERE json_extract_string(annotations, '$."flannel.alpha.coreos.com/public-ip"') IS NOT NULL
),
-- Addresses of more than one node, found cheaply first: most belong to one.
repeated AS (
    SELECT bundle_id, ip FROM ips GROUP BY bundle_id, ip HAVING min(node) < max(node)
),
dups AS (
    SELECT i.bundle_id, i.ip, list(DISTINCT i.what) AS whats, list(DISTINCT i.node ORDER BY i.node) AS nodes,
        list(DISTINCT i.node ORDER BY i.node) FILTER (WHERE i.ready) AS ready_nodes
    FROM ips i SEMI JOIN repeated r ON r.bundle_id = i.bundle_id AND r.ip IS NOT DISTINCT FROM i.ip
    GROUP BY i.bundle_id, i.ip
    HAVING count(DISTINCT i.node) > 1
),
flannel AS (
    SELECT bundle_id, namespace, workload, name,
        concat_ws(' ', CAST(command AS VARCHAR), CAST(args AS VARCHAR), CAST((spec->'$.env') AS VARCHAR)) AS argv
    FROM workload_containers
    WHERE kind = 'DaemonSet' AND (workload LIKE '%flannel%' OR image LIKE '%flannel%') AND container_type = 'regular'
      AND (image LIKE '%flannel%' OR name LIKE '%flannel%')
),
-- Per bundle, the flannel DaemonSet and whether it pins the interface.
flannel_ds AS (
    SELECT bundle_id, any_value(namespace || '/' || workload) AS daemonset,
        bool_and(NOT contains(argv, '--iface') AND NOT contains(argv, 'FLANNELD_IFACE')) AS without_iface
    FROM flannel GROUP BY bundle_id
)
SELECT
    'nodes/' || d.ip AS resource,
    d.bundle_id,
    d.ip, d.nodes, d.whats, len(coalesce(d.ready_nodes, [])) AS ready_n, f.daemonset, f.without_iface,
    list_transform(d.nodes, lambda n: n || ': ' || d.ip || CASE WHEN list_contains(coalesce(d.ready_nodes, []), n) THEN '' ELSE ' (not Ready)' END) AS evidence,
    -- Two working nodes with one address break the pod network between them. When at most one
    -- of them is Ready, the others are stale Node objects of replaced machines: info.
    CASE WHEN len(coalesce(d.ready_nodes, [])) >= 2 THEN 'high' ELSE 'info' END AS severity
FROM dups d
LEFT JOIN flannel_ds f ON f.bundle_id = d.bundle_id
ORDER BY 1
