/* ---
id = "kernel-too-old"
severity = "high"
faq = ["WNR-12"]
category = "nodes"
patterns = ["Linux Kernel 3\\.10", "kernel (version|release) .*(is )?(too old|not supported)", "check-config\\.sh"]
[title]
en = "Node kernel older than Linux 3.10 (minimum for Kubernetes, container runtimes and Calico)"
zh = "节点内核低于 Linux 3.10（Kubernetes、容器运行时和 Calico 的最低要求）"
[remediation]
en = """
Kubernetes, Docker/containerd and CNI plugins such as Calico require Linux kernel **3.10 or
newer** (namespaces, cgroups, overlayfs, netfilter features). Upgrade the node's kernel (or the
OS) and reboot, then verify the kernel configuration with moby's `check-config.sh`:
```
uname -r
curl -fsSLO https://raw.githubusercontent.com/moby/moby/master/contrib/check-config.sh
bash check-config.sh /boot/config-$(uname -r)   # or: ./check-config.sh kernel.config
```
"""
zh = """
Kubernetes、Docker/containerd 以及 Calico 等 CNI 插件要求 Linux 内核 **3.10 及以上**（依赖 namespace、cgroup、
overlayfs、netfilter 等特性）。升级节点内核（或操作系统）并重启，然后用 moby 的 `check-config.sh` 检查内核配置：
```
uname -r
curl -fsSLO https://raw.githubusercontent.com/moby/moby/master/contrib/check-config.sh
bash check-config.sh /boot/config-$(uname -r)   # 或：./check-config.sh kernel.config
```
"""
[message]
en = """\
node {{ node }} runs kernel {{ kernel }}, older than the required {{ min_kernel }} (seen in {{ sources | join(', ') }})"""
zh = """\
节点 {{ node }} 的内核版本为 {{ kernel }}，低于要求的 {{ min_kernel }}（来源：{{ sources | join(', ') }}）"""
[thresholds]
min_kernel = "3.10"
--- */
WITH kernels AS (
    SELECT bundle_id AS cluster, bundle_id, name AS node, kernel_version AS kernel, 'Node status.nodeInfo.kernelVersion' AS source
    FROM nodes WHERE kernel_version IS NOT NULL AND coalesce(os, 'linux') = 'linux'
    UNION ALL
    -- A node bundle belongs to its Node's cluster (or stands alone when none matched).
    SELECT coalesce(h.cluster_bundle_id, f.bundle_id), f.bundle_id, f.node, f.kernel_release, 'host uname -r'
    FROM host_facts f JOIN host_nodes h ON h.bundle_id = f.bundle_id
    WHERE f.kernel_release IS NOT NULL AND f.kernel_release <> ''
),
old AS (
    SELECT cluster, node, any_value(kernel ORDER BY source) AS kernel, list(DISTINCT source || ': ' || kernel) AS seen,
        any_value(bundle_id ORDER BY source) AS bundle_id
    FROM kernels
    WHERE version_num(kernel) IS NOT NULL AND version_num(kernel) < version_num(${min_kernel})
    GROUP BY cluster, node
)
SELECT 'node/' || node AS resource, node, node AS name, bundle_id,
    kernel, list_transform(seen, lambda s: split_part(s, ':', 1)) AS sources,
    seen AS evidence
FROM old
ORDER BY node
