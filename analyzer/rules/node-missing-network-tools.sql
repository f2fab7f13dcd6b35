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
# kubeadm prints these at init/join/upgrade; a line older than a day is an install that has
# passed (the node's own PATH check says what is missing now).
recent = "1d"
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

kubeadm 1.32 no longer checks `socat`, `ebtables` and `conntrack` (kube-proxy cleans conntrack
entries through netlink), and 1.33 no longer checks `ip`, `iptables` and `ethtool`: on nodes of
those versions only a missing `iptables` matters (CNI `portmap`/`bridge`, an iptables-mode
kube-proxy running on the host).
"""
zh = """
`kubeadm init`/`join` 的预检会检查这些可执行文件，并打印 `[preflight] WARNING: ebtables not found in system path`
（或 `[WARNING FileExisting-ebtables]`；缺少 `conntrack` 或 `iptables` 时为 `[ERROR FileExisting-...]`）。
kube-proxy 依赖 `iptables` 与 `conntrack`，`kubectl port-forward` 依赖 `socat`。请在节点上安装：

- Ubuntu/Debian 用户：`apt install ebtables ethtool`（缺少时同时安装 `conntrack socat iptables`）
- CentOS/Fedora 用户：`yum install ebtables ethtool`（缺少时同时安装 `conntrack-tools socat iptables`）

kubeadm 1.32 起不再检查 `socat`、`ebtables` 和 `conntrack`（kube-proxy 通过 netlink 清理 conntrack 条目），
1.33 起不再检查 `ip`、`iptables` 和 `ethtool`：这些版本的节点上只有缺少 `iptables` 仍有影响
（CNI `portmap`/`bridge` 插件、在主机上运行的 iptables 模式 kube-proxy）。
"""
[message]
en = """\
{{ names | join(', ') }} not found in the system path{% if node is not none %} of node {{ node }}{% endif %} (\
{% if from_facts %}host PATH check{% endif %}{% if from_facts and from_logs %}, {% endif %}\
{% if from_logs %}kubeadm preflight output{% endif %})"""
zh = """\
{{ names | join(', ') }} 不在{% if node is not none %}节点 {{ node }} 的{% endif %}系统路径中（\
{% if from_facts %}主机 PATH 检查{% endif %}{% if from_facts and from_logs %}、{% endif %}\
{% if from_logs %}kubeadm 预检输出{% endif %}）"""
--- */
-- (tool, severity on a kubeadm node, severity on another node, why, the Kubernetes minor whose
-- kubeadm no longer checks it, and what is left of the tool's use from then: severity, why).
-- kubeadm dropped socat and ebtables from its preflight in 1.32 (kubernetes#127151), conntrack
-- in 1.32 (kube-proxy cleans conntrack entries through netlink, kubernetes#126952), and ip,
-- iptables, ethtool and tc in 1.33 (kubernetes#129131); the packages no longer pull them in.
WITH tools AS (
    SELECT * FROM (VALUES
        ('iptables', 'medium', 'medium', 'kubeadm preflight error (init/join/upgrade stop); CNI plugins (portmap, bridge) and host-run kube-proxy need it',
         33, 'medium', 'CNI plugins (portmap, bridge) and a host-run iptables-mode kube-proxy need it'),
        ('conntrack', 'medium', 'low', 'kubeadm preflight error (init/join/upgrade stop); a host-run kube-proxy cleans conntrack entries with it',
         32, NULL, NULL),
        ('ip', 'medium', 'low', 'kubeadm preflight error', 33, NULL, NULL),
        ('nsenter', 'medium', 'low', 'kubeadm preflight error', NULL, NULL, NULL),
        ('ebtables', 'low', NULL, 'kubeadm preflight warning', 32, NULL, NULL),
        ('ethtool', 'low', NULL, 'kubeadm preflight warning', 33, NULL, NULL),
        ('socat', 'low', NULL, 'kubeadm preflight warning; kubectl port-forward on older runtimes needs it', 32, NULL, NULL)
    ) AS t(name, sev, other_sev, why, gone_minor, later_sev, later_why)
),
nodes_of AS (
    SELECT h.bundle_id, h.cluster_bundle_id, h.node FROM host_nodes h
),
-- k3s and RKE2 ship these tools in their own data dir, off the PATH.
bundled_distro AS (
    SELECT DISTINCT h.bundle_id FROM nodes_of h
    LEFT JOIN nodes n ON n.bundle_id = h.cluster_bundle_id AND n.name = h.node
    WHERE n.kubelet_version LIKE '%k3s%' OR n.kubelet_version LIKE '%rke2%'
       OR h.bundle_id IN (SELECT bundle_id FROM host_files WHERE path LIKE '/etc/rancher/%')
),
-- Nodes kubeadm set up (its preflight is what asks for the warning-level tools): the kubeadm
-- binary, its kubelet flags file, or the cluster's kubeadm-config.
kubeadm_nodes AS (
    SELECT h.bundle_id FROM nodes_of h
    WHERE EXISTS (SELECT 1 FROM host_binaries b WHERE b.bundle_id = h.bundle_id AND b.name = 'kubeadm' AND b.present)
       OR EXISTS (SELECT 1 FROM host_files f WHERE f.bundle_id = h.bundle_id AND f.path = '/var/lib/kubelet/kubeadm-flags.env')
       OR EXISTS (SELECT 1 FROM objects o WHERE o.bundle_id = h.cluster_bundle_id AND o.api_group = '' AND o.resource = 'configmaps'
                  AND o.namespace = 'kube-system' AND o.name = 'kubeadm-config')
),
-- The node's Kubernetes minor: its Node object, else the version its kubelet logged at start.
node_minor AS (
    SELECT h.bundle_id,
        coalesce(
            (SELECT version_minor(max(n.kubelet_version)) FROM nodes n WHERE n.bundle_id = h.cluster_bundle_id AND n.name = h.node),
            (SELECT version_minor(arg_max(regexp_extract(l.line, 'kubeletVersion="(v[0-9][^"]*)"', 1), l.line_no))
             FROM log_lines l WHERE l.bundle_id = h.bundle_id AND l.source = 'host' AND contains(l.line, 'kubeletVersion="'))) AS minor
    FROM nodes_of h
),
missing AS (
    SELECT coalesce(h.cluster_bundle_id, b.bundle_id) AS cluster, b.node, t.name,
        CASE WHEN coalesce(v.minor >= t.gone_minor, false) THEN t.later_why ELSE t.why END AS why,
        CASE WHEN coalesce(v.minor >= t.gone_minor, false) THEN t.later_sev
             WHEN b.bundle_id IN (SELECT bundle_id FROM kubeadm_nodes) THEN t.sev ELSE t.other_sev END AS sev
    FROM host_binaries b
    JOIN nodes_of h ON h.bundle_id = b.bundle_id
    JOIN tools t ON t.name = b.name
    LEFT JOIN node_minor v ON v.bundle_id = b.bundle_id
    WHERE NOT b.present AND b.bundle_id NOT IN (SELECT bundle_id FROM bundled_distro)
),
-- kubeadm's own preflight output, wherever it was logged.
preflight AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS cluster, l.node,
        regexp_extract(l.line, '([a-z0-9]+) not found in system path', 1) AS name, l.line, l.ts, l.age
    FROM log_lines l
    LEFT JOIN host_nodes h ON l.source = 'host' AND h.bundle_id = l.bundle_id
    WHERE contains(l.line, ' not found in system path')
      AND regexp_matches(l.line, '(ebtables|ethtool|conntrack|socat|iptables|ip6tables|nsenter|ip) not found in system path')
),
per_node AS (
    SELECT coalesce(m.cluster, p.cluster) AS bundle_id, coalesce(m.node, p.node) AS node,
        list(DISTINCT coalesce(m.name, p.name) ORDER BY coalesce(m.name, p.name)) AS names,
        list(DISTINCT m.name || ': ' || m.why) FILTER (WHERE m.name IS NOT NULL) AS whys,
        list(DISTINCT p.line) FILTER (WHERE p.line IS NOT NULL) AS lines,
        max(CASE coalesce(m.sev, CASE WHEN m.name IS NULL THEN CASE WHEN p.name IN ('iptables', 'conntrack', 'ip', 'nsenter') THEN 'medium' ELSE 'low' END END)
            WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END) AS rank,
        bool_or(m.name IS NOT NULL) AS from_facts, bool_or(p.line IS NOT NULL) AS from_logs,
        min(p.ts) AS first_seen, max(p.ts) AS last_seen,
        count(p.line) AS n, count(p.line) FILTER (WHERE in_window(p.age, ${recent})) AS recent_n
    FROM (SELECT * FROM missing WHERE sev IS NOT NULL) m
    FULL OUTER JOIN preflight p ON p.cluster = m.cluster AND p.node = m.node AND p.name = m.name
    GROUP BY ALL
)
SELECT
    CASE WHEN node IS NULL THEN 'cluster' ELSE 'node/' || node END AS resource,
    node, bundle_id,
    names, from_facts, from_logs,
    list_concat(coalesce(whys, []), coalesce(lines, [])[1:3]) AS evidence,
    CASE rank WHEN 3 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END AS severity,
    first_seen, last_seen,
    -- The node's PATH check is the current state; preflight lines alone are judged by age.
    CASE WHEN NOT from_facts THEN recent_n END AS recent_count,
    CASE WHEN from_logs THEN n END AS count
FROM per_node
ORDER BY resource
