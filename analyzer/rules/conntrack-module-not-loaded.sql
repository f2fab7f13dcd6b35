/* ---
id = "conntrack-module-not-loaded"
severity = "high"
faq = ["DCE-13"]
category = "nodes"
patterns = [
  "modprobe: FATAL: Module (nf_conntrack|ip_conntrack|nf_conntrack_ipv4) not found",
  "/proc/sys/net/netfilter/nf_conntrack_max: no such file or directory",
  "net\\.netfilter\\.nf_conntrack_max.*(No such file or directory|cannot stat)",
  "lsmod \\| ?grep conntrack",
]
# modprobe / sysctl failures are printed while a cluster is being created or tuned: a day
# covers an install in progress.
recent = "1d"
[title]
en = "Kernel module nf_conntrack not loaded on the node"
zh = "节点未加载内核模块 nf_conntrack（conntrack）"
[remediation]
en = """
Connection tracking is not available on the node: `nf_conntrack` is not loaded, so kernel
tuning of the new cluster (`net.netfilter.nf_conntrack_max` and friends) fails, cluster creation
with "kernel tuning for the new cluster" enabled fails, and kube-proxy/Service NAT cannot work.
Check and load the module, and make it load at boot:
```
lsmod | grep conntrack
modprobe ip_conntrack        # nf_conntrack on current kernels
echo nf_conntrack > /etc/modules-load.d/conntrack.conf
```
If the kernel was upgraded without a reboot, the modules of the running kernel may be missing
(`/lib/modules/$(uname -r)`): reboot into the new kernel, then create the cluster again.
"""
zh = """
节点上连接跟踪不可用：`nf_conntrack` 未加载，导致新建集群的内核调优（`net.netfilter.nf_conntrack_max` 等）失败，
启用 **为新建集群内核调优** 时集群创建失败，kube-proxy/Service 的 NAT 也无法工作。检查并加载该模块，并设置开机加载：
```
lsmod | grep conntrack
modprobe ip_conntrack        # 新内核上为 nf_conntrack
echo nf_conntrack > /etc/modules-load.d/conntrack.conf
```
若内核进行了升级但未重启，当前运行内核的模块可能缺失（`/lib/modules/$(uname -r)`），同样会导致集群创建失败：
重启进入新内核后再创建集群。
"""
[message]
en = """\
nf_conntrack is not loaded on node {{ node }} (not in /proc/modules, no net.netfilter.nf_conntrack_max)\
{% if kernel_release is not none %} (kernel {{ kernel_release }}){% endif %}\
{% if confirmed %}; logs confirm conntrack is missing{% endif %}\
{% if ready_without_it %}; the node is Ready without it: only kernel tuning of nf_conntrack settings would fail{% endif %}"""
zh = """\
节点 {{ node }} 未加载 nf_conntrack（/proc/modules 中没有该模块，也没有 net.netfilter.nf_conntrack_max\
{% if kernel_release is not none %}；内核 {{ kernel_release }}{% endif %}）\
{% if confirmed %}；日志也证实缺少 conntrack{% endif %}\
{% if ready_without_it %}；该节点在没有它的情况下已 Ready：只有针对 nf_conntrack 参数的内核调优会失败{% endif %}"""
--- */
WITH facts AS (
    -- Node bundles whose module list and sysctls were both collected: a sysctl that cannot be
    -- read is only "missing" when others could be.
    SELECT f.bundle_id, h.cluster_bundle_id, f.node, f.kernel_release,
        (SELECT list(m.module ORDER BY m.module) FROM host_modules m WHERE m.bundle_id = f.bundle_id) AS modules,
        (SELECT any_value(s.value) FROM host_sysctls s WHERE s.bundle_id = f.bundle_id AND s.key = 'net.netfilter.nf_conntrack_max') AS conntrack_max,
        (SELECT count(*) FROM host_sysctls s WHERE s.bundle_id = f.bundle_id) AS sysctls
    FROM host_facts f JOIN host_nodes h ON h.bundle_id = f.bundle_id
),
log_hits AS (
    SELECT bundle_id, source, node, line, ts, age
    FROM log_lines
    WHERE regexp_matches(line, '(Module (nf_conntrack|ip_conntrack|nf_conntrack_ipv4) not found|/proc/sys/net/netfilter/nf_conntrack_max: no such file or directory|nf_conntrack_max.*(No such file or directory|cannot stat))')
),
-- The node's log lines: from its own bundle, or from the cluster's node logs.
node_logs AS (
    SELECT f.bundle_id, count(*) AS n, count(*) FILTER (WHERE in_window(l.age, ${recent})) AS recent_n,
        min(l.ts) AS first_seen, max(l.ts) AS last_seen, list(DISTINCT l.line)[1:2] AS lines
    FROM facts f
    JOIN log_hits l ON l.bundle_id = f.bundle_id OR (l.bundle_id = f.cluster_bundle_id AND l.node = f.node)
    GROUP BY f.bundle_id
),
not_loaded AS (
    SELECT f.*, n.ready AS node_ready
    FROM facts f
    LEFT JOIN nodes n ON n.bundle_id = f.cluster_bundle_id AND n.name = f.node
    WHERE len(f.modules) > 0 AND f.sysctls > 0
      AND NOT list_has_any(f.modules, ['nf_conntrack', 'nf_conntrack_ipv4', 'ip_conntrack'])
      -- Built into the kernel: no module, but the sysctl exists.
      AND f.conntrack_max IS NULL
)
SELECT 'node/' || f.node AS resource, f.node, f.bundle_id,
    f.kernel_release, coalesce(l.recent_n > 0, false) AS confirmed,
    coalesce(f.node_ready AND coalesce(l.recent_n, 0) = 0, false) AS ready_without_it,
    list_concat(['conntrack-related modules loaded: ' || coalesce(nullif(array_to_string(list_filter(f.modules, lambda m: m LIKE '%conntrack%' OR m LIKE 'nf_nat%'), ', '), ''), 'none')],
                CASE WHEN l.recent_n > 0 THEN l.lines ELSE [] END) AS evidence,
    -- A node being installed (not in a cluster of the case), not Ready, or with recent
    -- modprobe/sysctl errors: cluster creation and tuning fail, high. A Ready node runs
    -- without it (no iptables NAT needs it there): info.
    CASE WHEN l.recent_n > 0 OR NOT coalesce(f.node_ready, false) THEN 'high' ELSE 'info' END AS severity,
    CASE WHEN l.recent_n > 0 THEN l.first_seen END AS first_seen,
    CASE WHEN l.recent_n > 0 THEN l.last_seen END AS last_seen,
    NULL::BIGINT AS recent_count,
    CASE WHEN l.recent_n > 0 THEN l.n END AS count
FROM not_loaded f
LEFT JOIN node_logs l ON l.bundle_id = f.bundle_id
ORDER BY 1
