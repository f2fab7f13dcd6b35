/* ---
id = "node-missing-network-tools"
severity = "medium"
faq = ["KADM-02"]
category = "nodes"
patterns = [
  "(\\[preflight\\] )?WARNING:? (ebtables|ethtool|conntrack|socat|iptables|ip6tables) not found in system path",
  "\\[(WARNING|ERROR) FileExisting-[a-z0-9]+\\]: [a-z0-9]+ not found in system path",
  "(ebtables|ethtool|conntrack|socat|iptables) not found in system path",
]
[title]
en = "Node is missing ebtables/ethtool or other tools kubeadm and kube-proxy need"
zh = "节点缺少 ebtables/ethtool 等 kubeadm 与 kube-proxy 依赖的可执行文件"
[remediation]
en = """
`kubeadm init`/`join` preflight checks these executables and prints
`[preflight] WARNING: ebtables not found in system path` (or `[WARNING FileExisting-ebtables]`;
a missing `conntrack` or `iptables` is an `[ERROR FileExisting-...]`). kube-proxy needs
`iptables` and `conntrack`, `kubectl port-forward` needs `socat`. Install them on the node:

- Ubuntu/Debian: `apt install ebtables ethtool` (and `conntrack socat iptables` when missing)
- CentOS/Fedora: `yum install ebtables ethtool` (and `conntrack-tools socat iptables`)
"""
zh = """
`kubeadm init`/`join` 的预检会检查这些可执行文件，并打印 `[preflight] WARNING: ebtables not found in system path`
（或 `[WARNING FileExisting-ebtables]`；缺少 `conntrack` 或 `iptables` 时为 `[ERROR FileExisting-...]`）。
kube-proxy 依赖 `iptables` 与 `conntrack`，`kubectl port-forward` 依赖 `socat`。请在节点上安装：

- Ubuntu/Debian 用户：`apt install ebtables ethtool`（缺少时同时安装 `conntrack socat iptables`）
- CentOS/Fedora 用户：`yum install ebtables ethtool`（缺少时同时安装 `conntrack-tools socat iptables`）
"""
--- */
WITH tools AS (
    SELECT * FROM (VALUES
        ('iptables', 'medium', 'kubeadm preflight error (init/join/upgrade stop); CNI plugins and host-run kube-proxy need it'),
        ('conntrack', 'medium', 'kubeadm preflight error (init/join/upgrade stop); kube-proxy cleans conntrack entries with it'),
        ('ip', 'medium', 'kubeadm preflight error'),
        ('nsenter', 'medium', 'kubeadm preflight error'),
        ('ebtables', 'low', 'kubeadm preflight warning'),
        ('ethtool', 'low', 'kubeadm preflight warning'),
        ('socat', 'low', 'kubeadm preflight warning; kubectl port-forward on older runtimes needs it')
    ) AS t(name, sev, why)
),
-- k3s and RKE2 ship these tools in their own data dir, off the PATH.
bundled_distro AS (
    SELECT DISTINCT h.node FROM host_nodes h
    LEFT JOIN nodes n ON n.name = h.node
    WHERE n.kubelet_version LIKE '%k3s%' OR n.kubelet_version LIKE '%rke2%'
       OR h.bundle_id IN (SELECT bundle_id FROM host_files WHERE path LIKE '/etc/rancher/%')
),
missing AS (
    SELECT b.bundle_id, b.node, t.name, t.sev, t.why
    FROM host_binaries b JOIN tools t ON t.name = b.name
    WHERE NOT b.present AND b.node NOT IN (SELECT node FROM bundled_distro)
),
preflight AS (
    SELECT bundle_id, node, regexp_extract(line, '([a-z0-9]+) not found in system path', 1) AS name, line
    FROM log_lines
    WHERE regexp_matches(line, '(ebtables|ethtool|conntrack|socat|iptables|ip6tables|nsenter|ip) not found in system path')
),
per_node AS (
    SELECT coalesce(m.bundle_id, p.bundle_id) AS bundle_id, coalesce(m.node, p.node) AS node,
        list(DISTINCT coalesce(m.name, p.name) ORDER BY coalesce(m.name, p.name)) AS names,
        list(DISTINCT m.name || ': ' || m.why) FILTER (WHERE m.name IS NOT NULL) AS whys,
        list(DISTINCT p.line) FILTER (WHERE p.line IS NOT NULL) AS lines,
        max(CASE coalesce(m.sev, CASE WHEN p.name IN ('iptables', 'conntrack', 'ip', 'nsenter') THEN 'medium' ELSE 'low' END)
            WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) AS rank,
        bool_or(m.name IS NOT NULL) AS from_facts, bool_or(p.line IS NOT NULL) AS from_logs
    FROM missing m FULL OUTER JOIN preflight p ON p.node = m.node AND p.name = m.name
    GROUP BY ALL
)
SELECT
    CASE WHEN node IS NULL THEN 'cluster' ELSE 'node/' || node END AS resource,
    node, bundle_id,
    array_to_string(names, ', ') || ' not found in the system path'
        || CASE WHEN node IS NOT NULL THEN ' of node ' || node ELSE '' END
        || ' (' || concat_ws(', ', CASE WHEN from_facts THEN 'host PATH check' END,
                                   CASE WHEN from_logs THEN 'kubeadm preflight output' END) || ')' AS message,
    array_to_string(names, ', ') || ' 不在'
        || CASE WHEN node IS NOT NULL THEN '节点 ' || node || ' 的' ELSE '' END
        || '系统路径中（' || concat_ws('、', CASE WHEN from_facts THEN '主机 PATH 检查' END,
                                   CASE WHEN from_logs THEN 'kubeadm 预检输出' END) || '）' AS message_zh,
    list_concat(coalesce(whys, []), coalesce(lines, [])[1:3]) AS evidence,
    CASE rank WHEN 3 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END AS severity
FROM per_node
ORDER BY resource
