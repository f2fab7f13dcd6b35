/* ---
id = "kubelet-no-reserved-resources"
severity = "info"
faq = ["WNR-28"]
category = "nodes"
patterns = ["kube-reserved", "system-reserved", "kubeReserved", "systemReserved", "eviction-hard", "enforce-node-allocatable"]
[title]
en = "No resources reserved for system daemons: node allocatable equals capacity"
zh = "未给系统守护进程预留资源：节点 allocatable 等于 capacity"
[remediation]
en = """
Without `kubeReserved` / `systemReserved` (and with only the default hard-eviction threshold)
the scheduler may hand all of the node's CPU and memory to pods; under load the kubelet, the
container runtime, sshd and journald starve or get OOM-killed and the node goes NotReady.
Reserve resources for them in the kubelet configuration (`/var/lib/kubelet/config.yaml`:
`kubeReserved`, `systemReserved`, `evictionHard`, `enforceNodeAllocatable`) or with the flags,
then restart the kubelet. See
[Reserve Compute Resources for System Daemons](https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/).
```
--kube-reserved=[cpu=100m][,][memory=100Mi][,][ephemeral-storage=1Gi][,][pid=1000]
--system-reserved=[cpu=100m][,][memory=100Mi][,][ephemeral-storage=1Gi][,][pid=1000]
--reserved-cpus=0-3
# threshold at which eviction starts
--eviction-hard=[memory.available<500Mi]
--enforce-node-allocatable=pods[,][system-reserved][,][kube-reserved]

# point at existing cgroups
--kube-reserved-cgroup=
--system-reserved-cgroup=
```
k3s / RKE2: `kubelet-arg: ["kube-reserved=cpu=200m,memory=512Mi", "system-reserved=cpu=200m,memory=512Mi"]`
in `/etc/rancher/k3s/config.yaml` (or `/etc/rancher/rke2/config.yaml`).
"""
zh = """
未配置 `kubeReserved` / `systemReserved`（且只有默认的硬驱逐阈值）时，调度器可能把节点全部 CPU 和内存分给 Pod；
负载高时 kubelet、容器运行时、sshd、journald 等会资源不足或被 OOM 杀掉，节点变为 NotReady。
请在 kubelet 配置（`/var/lib/kubelet/config.yaml` 的 `kubeReserved`、`systemReserved`、`evictionHard`、
`enforceNodeAllocatable`）或启动参数中为它们预留资源，然后重启 kubelet。参考
[Reserve Compute Resources for System Daemons](https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/)。
```
--kube-reserved=[cpu=100m][,][memory=100Mi][,][ephemeral-storage=1Gi][,][pid=1000]
--system-reserved=[cpu=100m][,][memory=100Mi][,][ephemeral-storage=1Gi][,][pid=1000]
--reserved-cpus=0-3
# 开始驱逐的阀值
--eviction-hard=[memory.available<500Mi]
--enforce-node-allocatable=pods[,][system-reserved][,][kube-reserved]

# 指向现有的 cgroup
--kube-reserved-cgroup=
--system-reserved-cgroup=
```
k3s / RKE2：在 `/etc/rancher/k3s/config.yaml`（或 `/etc/rancher/rke2/config.yaml`）中设置
`kubelet-arg: ["kube-reserved=cpu=200m,memory=512Mi", "system-reserved=cpu=200m,memory=512Mi"]`。
"""
[message]
en = """\
node {{ node }}: \
{% if kind == 'status' %}allocatable equals capacity: cpu {{ alloc_cpu }} of {{ cap_cpu }}, \
memory {{ alloc_gib }} GiB of {{ cap_gib }} GiB ({{ reserved_mib }} MiB held back, the hard-eviction threshold)\
{% else %}kubelet configuration reserves nothing for system daemons{% endif %}\
{% if unreserved %}; kubelet config sets no kubeReserved/systemReserved/reservedSystemCPUs{% endif %}\
{% if default_eviction %} and the default evictionHard (memory.available<100Mi){% endif %}\
{% if pressure is not none %}; the node already ran short: \
{% for p in pressure %}{% if p.kind == 'condition' %}{{ p.name }}=True{% else %}event {{ p.name }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}"""
zh = """\
节点 {{ node }}：\
{% if kind == 'status' %}allocatable 等于 capacity：cpu {{ alloc_cpu }}/{{ cap_cpu }}，\
内存 {{ alloc_gib }} GiB/{{ cap_gib }} GiB（仅预留 {{ reserved_mib }} MiB，即硬驱逐阈值）\
{% else %}kubelet 配置没有为系统守护进程预留任何资源{% endif %}\
{% if unreserved %}；kubelet 配置未设置 kubeReserved/systemReserved/reservedSystemCPUs{% endif %}\
{% if default_eviction %}，且使用默认的 evictionHard（memory.available<100Mi）{% endif %}\
{% if pressure is not none %}；节点已出现资源不足：\
{% for p in pressure %}{% if p.kind == 'condition' %}{{ p.name }}=True{% else %}事件 {{ p.name }}{% endif %}\
{% if not loop.last %}、{% endif %}{% endfor %}{% endif %}"""
[thresholds]
# Held back from pods below these amounts counts as nothing reserved (the kubelet's default
# hard-eviction threshold alone is memory.available<100Mi).
min_reserved_millicpu = 50
min_reserved_memory_mib = 200
# A SystemOOM / eviction event counts as "the node already ran short" within this many hours.
pressure_event_hours = 24
# Kubelets before this minor (cAdvisor before v0.37) cannot read the OOM-kill line of kernels
# 5.0 and later and report every OOM kill, a container's own limit too, as SystemOOM
# (google/cadvisor#2417): there the event proves no shortage of the node.
systemoom_min_kubelet_minor = 19
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, cluster_bundle_id, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
node_res AS (
    SELECT bundle_id, name AS node, capacity_cpu, allocatable_cpu, capacity_memory_bytes, allocatable_memory_bytes,
        (capacity_cpu - allocatable_cpu) * 1000 AS reserved_millicpu,
        (capacity_memory_bytes - allocatable_memory_bytes) / 1048576.0 AS reserved_mib
    FROM nodes
    -- Sizes not reported (or reported as 0) are unknown: nothing to compare.
    WHERE nullif(capacity_cpu, 0) IS NOT NULL AND allocatable_cpu IS NOT NULL
      AND nullif(capacity_memory_bytes, 0) IS NOT NULL AND allocatable_memory_bytes IS NOT NULL
      AND coalesce(os, 'linux') = 'linux'
),
-- What the kubelet configuration says, from configz and /var/lib/kubelet/config.yaml.
cfg AS (
    SELECT coalesce(h.cluster, k.bundle_id) AS cluster, k.node,
        bool_or(coalesce(len(json_keys(k.config->'$.kubeReserved')), 0) > 0
             OR coalesce(len(json_keys(k.config->'$.systemReserved')), 0) > 0
             OR coalesce(k.config->>'$.reservedSystemCPUs', '') <> '') AS reserves,
        -- Sorted: DISTINCT leaves the order to the engine, and it differs between versions.
        list_sort(list(DISTINCT k.source || ': kubeReserved ' || coalesce(CAST((k.config->'$.kubeReserved') AS VARCHAR), 'unset')
             || ', systemReserved ' || coalesce(CAST((k.config->'$.systemReserved') AS VARCHAR), 'unset')
             || ', evictionHard ' || coalesce(CAST((k.config->'$.evictionHard') AS VARCHAR), 'default'))) AS seen,
        max(TRY_CAST(k8s_quantity(k.config->>'$.evictionHard."memory.available"') AS DOUBLE)) / 1048576.0 AS eviction_mib
    FROM kubelet_configs k LEFT JOIN hn h ON h.host_bundle = k.bundle_id
    WHERE k.node IS NOT NULL
    GROUP BY 1, 2
),
-- Reservation flags in the kubelet's environment files, unit drop-ins and k3s/RKE2 configs.
flags AS (
    SELECT h.cluster, f.node, list(DISTINCT f.path ORDER BY f.path) AS paths
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE regexp_matches(f.path, '^(/var/lib/kubelet/kubeadm-flags\.env|/etc/default/kubelet|/etc/sysconfig/kubelet|/(etc|usr/lib|lib)/systemd/system/kubelet\.service(\.d/.*)?|/etc/rancher/(k3s|rke2)/config\.yaml(\.d/.*)?)$')
      AND regexp_matches(f.content, '(kube-reserved|system-reserved|reserved-cpus)\s*[=:]')
    GROUP BY 1, 2
),
-- Signs that the node already ran short: pressure conditions now, OOM / eviction events
-- of the last day.
pressure AS (
    -- Conditions first, then events, as the English texts sort.
    SELECT bundle_id, node, list(DISTINCT what ORDER BY what) AS whats FROM (
        SELECT bundle_id, node, {'kind': 'condition', 'name': type} AS what FROM node_conditions
        WHERE type IN ('MemoryPressure', 'PIDPressure') AND status = 'True'
        UNION ALL
        SELECT e.bundle_id, coalesce(e.source_host, CASE WHEN e.object_kind = 'Node' THEN e.object_name END), {'kind': 'event', 'name': e.reason}
        FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
        LEFT JOIN nodes n ON n.bundle_id = e.bundle_id AND n.name = coalesce(e.source_host, CASE WHEN e.object_kind = 'Node' THEN e.object_name END)
        WHERE e.reason IN ('SystemOOM', 'EvictionThresholdMet', 'NodeHasInsufficientMemory', 'NodeHasInsufficientPID')
          AND b.collected_at - coalesce(e.last_seen, e.first_seen) <= INTERVAL (${pressure_event_hours}) HOUR
          AND NOT (e.reason = 'SystemOOM' AND coalesce(version_major(n.kubelet_version) = 1
                   AND version_minor(n.kubelet_version) < ${systemoom_min_kubelet_minor}
                   AND TRY_CAST(regexp_extract(n.kernel_version, '^(\d+)\.', 1) AS INTEGER) >= 5, false))
    ) WHERE node IS NOT NULL
    GROUP BY bundle_id, node
),
candidates AS (
    -- Nodes whose status shows nothing held back from pods.
    SELECT r.bundle_id, r.bundle_id AS cluster, r.node,
        'status' AS kind,
        -- DuckDB's text of the rounded numbers (2, 1.5, 7.63).
        regexp_replace(CAST(round(r.allocatable_cpu, 3) AS VARCHAR), '\.0$', '') AS alloc_cpu,
        regexp_replace(CAST(round(r.capacity_cpu, 3) AS VARCHAR), '\.0$', '') AS cap_cpu,
        CAST(round(r.allocatable_memory_bytes / 1073741824.0, 2) AS VARCHAR) AS alloc_gib,
        CAST(round(r.capacity_memory_bytes / 1073741824.0, 2) AS VARCHAR) AS cap_gib,
        TRY_CAST(round(r.reserved_mib) AS BIGINT) AS reserved_mib
    FROM node_res r
    WHERE r.reserved_millicpu < ${min_reserved_millicpu} AND r.reserved_mib < ${min_reserved_memory_mib}
    UNION ALL
    -- Nodes known only from a node bundle (no Node object in a collected cluster): judge by
    -- the configuration.
    SELECT h.host_bundle, h.cluster, h.node, 'config', NULL, NULL, NULL, NULL, NULL
    FROM hn h
    JOIN cfg c ON c.cluster = h.cluster AND c.node = h.node
    WHERE NOT EXISTS (SELECT 1 FROM node_res r WHERE r.bundle_id = h.cluster AND r.node = h.node)
      AND NOT c.reserves AND coalesce(c.eviction_mib, 100) < ${min_reserved_memory_mib}
      AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.cluster = h.cluster AND f.node = h.node)
)
SELECT 'node/' || k.node AS resource, k.node, k.node AS name, k.bundle_id,
    k.kind, k.alloc_cpu, k.cap_cpu, k.alloc_gib, k.cap_gib, k.reserved_mib,
    coalesce(c.node IS NOT NULL AND NOT c.reserves, false) AS unreserved,
    c.node IS NOT NULL AND coalesce(c.eviction_mib, 100) <= 100 AS default_eviction, p.whats AS pressure,
    list_concat(coalesce(c.seen, []), coalesce(list_transform(f.paths, lambda x: 'reservation flags in ' || x), [])) AS evidence,
    -- Nothing reserved is the default of many installs (k3s, kubeadm without a config):
    -- advice on a healthy node, a problem once the node ran short.
    CASE WHEN p.whats IS NOT NULL THEN 'medium' ELSE 'info' END AS severity
FROM candidates k
LEFT JOIN cfg c ON c.cluster = k.cluster AND c.node = k.node
LEFT JOIN flags f ON f.cluster = k.cluster AND f.node = k.node
LEFT JOIN pressure p ON p.bundle_id = k.cluster AND p.node = k.node
ORDER BY 1
