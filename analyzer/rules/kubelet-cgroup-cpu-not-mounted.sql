/* ---
id = "kubelet-cgroup-cpu-not-mounted"
severity = "high"
faq = ["WNR-32"]
category = "nodes"
patterns = [
  "failed to run Kubelet: mountpoint for cpu not found",
  "mountpoint for \\w+ not found",
  "Following Cgroup subsystem not mounted",
  "CGROUPS_CPU: missing",
]
# The kubelet (or k3s/k0s) exits at start and is restarted every few seconds: a current
# failure logs within the hour.
recent = "6h"
[title]
en = "kubelet cannot start: the cgroup cpu controller is not mounted"
zh = "kubelet 无法启动：未挂载 cgroup cpu 控制器"
[remediation]
en = """
The kubelet needs the cgroup hierarchies mounted (cgroup v1: one `cgroup` mount per controller
under `/sys/fs/cgroup`, at least `cpu`, `cpuacct`, `cpuset`, `memory`, `pids`; cgroup v2: the
unified `cgroup2` mount at `/sys/fs/cgroup` with `cpu` among its controllers). Without them it
exits with `failed to run Kubelet: mountpoint for cpu not found`. This usually happens on
minimal or non-systemd distributions (Alpine/OpenRC, some embedded systems) where nothing
mounts cgroups at boot. Mount them, e.g. start the cgroups service:
```
service cgroups start
# OpenRC: make it permanent
rc-update add cgroups boot
grep cgroup /proc/mounts
cat /sys/fs/cgroup/cgroup.controllers   # cgroup v2
```
then restart the kubelet (or k3s/k0s). On cgroup v2 make sure the kernel command line does
not disable the cpu controller (`cgroup_disable=cpu`).
"""
zh = """
kubelet 需要挂载 cgroup 层级（cgroup v1：`/sys/fs/cgroup` 下每个控制器一个 `cgroup` 挂载，至少包含 `cpu`、
`cpuacct`、`cpuset`、`memory`、`pids`；cgroup v2：`/sys/fs/cgroup` 上的统一 `cgroup2` 挂载，控制器中包含 `cpu`）。
缺少时 kubelet 报 `failed to run Kubelet: mountpoint for cpu not found` 后退出。应该是没有挂载 cgroups，
常见于精简或非 systemd 的发行版（Alpine/OpenRC、部分嵌入式系统），开机时没有任何服务挂载 cgroup。挂载方法，例如启动 cgroups 服务：
```
service cgroups start
# OpenRC：设为开机启动
rc-update add cgroups boot
grep cgroup /proc/mounts
cat /sys/fs/cgroup/cgroup.controllers   # cgroup v2
```
然后重启 kubelet（或 k3s/k0s）。cgroup v2 下还需确认内核启动参数没有禁用 cpu 控制器（`cgroup_disable=cpu`）。
"""
[message]
en = """\
{% for p in parts %}\
  {% if p == 'logs' %}{{ services | join('/') }} logged "{{ logged }}" {{ log_n }} times\
  {% elif p == 'facts' %}node {{ node }}: \
    {% if unmounted %}no cgroup or cgroup2 filesystem is mounted\
    {% elif cgroup_version == 1 %}cgroup v1 is mounted without the cpu controller (mounted: \
{% if not controllers %}none{% else %}{{ controllers | join(', ') }}{% endif %})\
    {% else %}cgroup v2 has no cpu controller (cgroup.controllers: \
{% if not controllers %}empty{% else %}{{ controllers | join(' ') }}{% endif %}){% endif %}\
    {% if disabled is not none %}; the kernel command line has {{ disabled }}{% endif %}\
  {% elif p == 'mounted' %}the cpu cgroup controller is mounted now\
  {% else %}the node is NotReady{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}"""
zh = """\
{% for p in parts %}\
  {% if p == 'logs' %}{{ services | join('/') }} 日志中出现 "{{ logged }}" {{ log_n }} 次\
  {% elif p == 'facts' %}节点 {{ node }}：\
    {% if unmounted %}未挂载任何 cgroup 或 cgroup2 文件系统\
    {% elif cgroup_version == 1 %}cgroup v1 已挂载但缺少 cpu 控制器（已挂载：\
{% if not controllers %}无{% else %}{{ controllers | join(', ') }}{% endif %}）\
    {% else %}cgroup v2 没有 cpu 控制器（cgroup.controllers：\
{% if not controllers %}空{% else %}{{ controllers | join(' ') }}{% endif %}）{% endif %}\
    {% if disabled is not none %}；内核启动参数包含 {{ disabled }}{% endif %}\
  {% elif p == 'mounted' %}目前 cpu cgroup 控制器已挂载\
  {% else %}该节点处于 NotReady{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
log_hits AS (
    SELECT l.bundle_id, coalesce(h.cluster, l.bundle_id) AS cluster, l.node, coalesce(l.service, l.container, l.source) AS service,
        l.line, l.line_no, l.ts, l.age
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE regexp_matches(l.line, '(mountpoint for (cpu|cpuacct|cpuset|memory|pids|cgroup)[a-z,]* not found|Following Cgroup subsystem not mounted|CGROUPS_CPU: missing)')
),
logs AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT service ORDER BY service) AS services,
        list(DISTINCT line)[1:3] AS lines
    FROM log_hits GROUP BY cluster, node
),
facts AS (
    SELECT f.bundle_id, h.cluster, f.node, f.cgroup_version, coalesce(f.cgroup_controllers, []) AS controllers, f.cmdline,
        (SELECT count(*) FROM host_mounts m WHERE m.bundle_id = f.bundle_id) AS mounts,
        (SELECT list(m.mountpoint || ' ' || m.fstype || ' ' || m.options ORDER BY m.mountpoint)
         FROM host_mounts m WHERE m.bundle_id = f.bundle_id AND m.fstype IN ('cgroup', 'cgroup2')) AS cgroup_mounts,
        -- A cgroup v1 hierarchy mounted with the cpu controller among its options.
        EXISTS (SELECT 1 FROM host_mounts m WHERE m.bundle_id = f.bundle_id AND m.fstype = 'cgroup'
                AND list_contains(string_split(m.options, ','), 'cpu')) AS v1_cpu_mount
    FROM host_facts f JOIN hn h ON h.host_bundle = f.bundle_id
),
bad_facts AS (
    SELECT *,
        len(coalesce(cgroup_mounts, [])) = 0 AS unmounted,
        CASE WHEN regexp_matches(coalesce(cmdline, ''), 'cgroup_disable=[a-z,]*cpu') THEN regexp_extract(cmdline, 'cgroup_disable=[a-z,]*') END AS disabled
    FROM facts
    -- Facts with no mounts at all were not collected: nothing to judge.
    WHERE mounts > 0
      AND CASE WHEN len(coalesce(cgroup_mounts, [])) = 0 THEN true
               WHEN cgroup_version = 1 THEN NOT list_contains(controllers, 'cpu') AND NOT v1_cpu_mount
               -- cgroup v2 with cgroup.controllers unread: unknown, not missing.
               WHEN cgroup_version = 2 THEN len(controllers) > 0 AND NOT list_contains(controllers, 'cpu')
               -- cgroup mounts but no version told: unknown.
               ELSE false END
),
-- The node's cgroups read now and the cpu controller there.
good_facts AS (
    SELECT cluster, node FROM facts
    WHERE mounts > 0 AND (list_contains(controllers, 'cpu') OR v1_cpu_mount)
),
nodes_seen AS (
    SELECT cluster, node FROM bad_facts UNION SELECT cluster, node FROM logs
)
SELECT 'node/' || coalesce(s.node, '?') AS resource, s.node, s.node AS name, coalesce(f.bundle_id, l.bundle_id) AS bundle_id,
    list_filter([CASE WHEN l.n > 0 THEN 'logs' END, CASE WHEN f.node IS NOT NULL THEN 'facts' END,
                 CASE WHEN f.node IS NULL AND g.node IS NOT NULL THEN 'mounted' END,
                 CASE WHEN f.node IS NULL AND n.ready = false THEN 'notready' END], lambda p: p IS NOT NULL) AS parts,
    l.services, regexp_extract(l.lines[1], '(mountpoint for [a-z,]+ not found|Following Cgroup subsystem not mounted: \[[^\]]*\]|CGROUPS_CPU: missing)') AS logged,
    l.n AS log_n, f.unmounted, f.cgroup_version, f.controllers, f.disabled,
    list_concat(coalesce(l.lines, []), coalesce(f.cgroup_mounts, []), CASE WHEN f.node IS NOT NULL AND len(coalesce(f.cgroup_mounts, [])) = 0 THEN ['/proc/mounts has no cgroup entries'] ELSE [] END) AS evidence,
    -- The mounts read now prove it; the kubelet's error alone does with the node NotReady.
    CASE WHEN f.node IS NOT NULL OR n.ready = false THEN 'high'
         WHEN g.node IS NOT NULL THEN 'info'
         ELSE 'medium' END AS severity,
    l.first_seen, l.last_seen,
    CASE WHEN f.node IS NULL THEN l.recent_n END AS recent_count,
    coalesce(l.n, 1) AS count
FROM nodes_seen s
LEFT JOIN bad_facts f ON f.cluster = s.cluster AND f.node IS NOT DISTINCT FROM s.node
LEFT JOIN logs l ON l.cluster = s.cluster AND l.node IS NOT DISTINCT FROM s.node
LEFT JOIN (SELECT DISTINCT cluster, node FROM good_facts) g ON g.cluster = s.cluster AND g.node IS NOT DISTINCT FROM s.node
LEFT JOIN nodes n ON n.bundle_id = s.cluster AND n.name = s.node
ORDER BY 1
