/* ---
id = "image-filesystem-capacity-zero"
severity = "high"
faq = ["WNR-13"]
category = "nodes"
patterns = ["invalid capacity 0 on image filesystem", "InvalidDiskCapacity", "cgroup_enable=memory", "failed to find memory cgroup", "missing cgroups: memory"]
# At every start the kubelet's first image GC finds no stats yet: one "Image garbage
# collection failed once" line and one InvalidDiskCapacity event are normal. A broken image
# filesystem keeps failing the GC every 5 minutes: 3 failures after the first in the hour
# before collection.
recent = "1h"
min_count = 3
[title]
en = "kubelet: \"invalid capacity 0 on image filesystem\" / memory cgroup not enabled in the kernel command line"
zh = "kubelet：\"invalid capacity 0 on image filesystem\" / 内核启动参数未启用 memory cgroup"
[remediation]
en = """
The kubelet cannot read the image filesystem's stats from cAdvisor and reports
`invalid capacity 0 on image filesystem` (event `InvalidDiskCapacity`). A single event right
after the kubelet starts is harmless; repeated, or together with a missing memory cgroup, it
means the kernel was booted without the memory controller — typical for Raspberry Pi / ARM
boards and Alpine (k3s, microk8s). Add the kernel parameters
`cgroup_enable=cpuset cgroup_memory=1 cgroup_enable=memory` and reboot:
- syslinux / extlinux (Alpine): edit `/etc/update-extlinux.conf` (`default_kernel_opts`), run `update-extlinux && reboot`
- grub: add them to `GRUB_CMDLINE_LINUX` in `/etc/default/grub`, run `update-grub` (or `grub2-mkconfig -o /boot/grub2/grub.cfg`) and reboot
- Raspberry Pi OS: append them to the single line of `/boot/cmdline.txt` (or `/boot/firmware/cmdline.txt`)
```
cat /proc/cmdline | grep cgroup_enable
grep memory /proc/cgroups
```
"""
zh = """
kubelet 无法从 cAdvisor 读取镜像文件系统的统计信息，报 `invalid capacity 0 on image filesystem`（事件 `InvalidDiskCapacity`）。
kubelet 刚启动时出现一次无害；若反复出现，或节点缺少 memory cgroup，说明内核启动时未启用 memory 控制器——
树莓派 / ARM 开发板和 Alpine 上（k3s、microk8s）很常见。确保存在内核参数
`cgroup_enable=cpuset cgroup_memory=1 cgroup_enable=memory`，然后重启：
- syslinux / extlinux（Alpine）：修改 `/etc/update-extlinux.conf`（`default_kernel_opts`），执行 `update-extlinux && reboot`
- grub：在 `/etc/default/grub` 的 `GRUB_CMDLINE_LINUX` 中添加，执行 `update-grub`（或 `grub2-mkconfig -o /boot/grub2/grub.cfg`）后重启
- 树莓派系统：追加到 `/boot/cmdline.txt`（或 `/boot/firmware/cmdline.txt`）那一行的末尾
```
cat /proc/cmdline | grep cgroup_enable
grep memory /proc/cgroups
```
"""
[message]
en = """\
{% if signals > 0 %}"invalid capacity 0 on image filesystem" {{ signals }} times\
  {% if node is not none %} on node {{ node }}{% endif %} (\
  {% for w in seen or [] %}{% if w.kind == 'event' %}event {{ w.ref }}{% else %}{{ w.kind }} log {{ w.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %})\
  {% if repeats > 0 %}, {{ repeats }} of them image GC runs failing again after the kubelet's first\
  {% else %}, only the first image GC after a kubelet start (stats not ready yet: harmless){% endif %}\
{% endif %}\
{% if memory_missing %}{% if signals > 0 %}; {% endif %}\
  the memory cgroup controller is not available on {{ node }} (cgroup v{{ cgroup_version if cgroup_version is not none else '?' }})\
  {% if cmdline_disables %} and /proc/cmdline has cgroup_disable=memory\
  {% elif not cmdline_ok %} and /proc/cmdline lacks cgroup_enable=memory cgroup_memory=1{% endif %}\
{% endif %}"""
zh = """\
{% if signals > 0 %}{% if node is not none %}节点 {{ node }} 上 {% endif %}\
"invalid capacity 0 on image filesystem" 出现 {{ signals }} 次（\
  {% for w in seen or [] %}{% if w.kind == 'event' %}事件 {{ w.ref }}{% else %}{{ w.kind }} 日志 {{ w.ref }}{% endif %}\
{% if not loop.last %}, {% endif %}{% endfor %}）\
  {% if repeats > 0 %}，其中 {{ repeats }} 次是 kubelet 首次镜像回收之后再次失败\
  {% else %}，仅为 kubelet 启动后的首次镜像回收（统计尚未就绪，无害）{% endif %}\
{% endif %}\
{% if memory_missing %}{% if signals > 0 %}；{% endif %}\
  节点 {{ node }} 上 memory cgroup 控制器不可用（cgroup v{{ cgroup_version if cgroup_version is not none else '?' }}）\
  {% if cmdline_disables %}，且 /proc/cmdline 中有 cgroup_disable=memory\
  {% elif not cmdline_ok %}，且 /proc/cmdline 缺少 cgroup_enable=memory cgroup_memory=1{% endif %}\
{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
-- Every occurrence, and how many of them are repeats: the kubelet's image GC failing again
-- after its first run (the first run after a start may find no stats yet).
signals AS (
    SELECT e.bundle_id AS cluster, coalesce(e.source_host, CASE WHEN e.object_kind = 'Node' THEN e.object_name END) AS node,
        e.count AS n,
        -- InvalidDiskCapacity: one at the kubelet's start, then one per failed GC; ImageGCFailed
        -- is only recorded for a repeated failure.
        CASE WHEN e.reason = 'ImageGCFailed' THEN e.count ELSE greatest(e.count - 1, 0) END AS repeats,
        b.collected_at - e.last_seen AS age, CAST(e.first_seen AS TIMESTAMPTZ) AS ts_first, CAST(e.last_seen AS TIMESTAMPTZ) AS ts_last,
        e.message AS line, {'kind': 'event', 'ref': e.reason} AS what, false AS is_log
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE e.reason = 'InvalidDiskCapacity' OR contains(e.message, 'invalid capacity 0 on image filesystem')
    UNION ALL
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END, l.node, 1,
        CASE WHEN contains(l.line, 'failed once') THEN 0 ELSE 1 END,
        l.age, l.ts, l.ts,
        -- A log's kind is its source: container, node or host.
        l.line, {'kind': l.source, 'ref': coalesce(l.service, l.container, '')}, true
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE contains(l.line, 'invalid capacity 0 on image filesystem')
),
per_node AS (
    SELECT cluster, node, sum(n) AS n, sum(repeats) AS repeats,
        sum(repeats) FILTER (WHERE in_window(age, ${recent})) AS recent_repeats,
        min(ts_first) AS first_seen, max(ts_last) AS last_seen,
        -- Kinds sort as their English names: container, event, host, node.
        list(DISTINCT what ORDER BY what) FILTER (WHERE what.ref IS NOT NULL) AS seen,
        list(DISTINCT line ORDER BY line)[1:2] AS lines
    FROM signals GROUP BY cluster, node
),
cg AS (
    SELECT h.cluster, f.node, f.cgroup_version, f.cmdline, f.cgroup_controllers,
        regexp_matches(coalesce(f.cmdline, ''), '(^|\s)(cgroup_enable=memory|cgroup_memory=1)(\s|$)') AS cmdline_ok,
        regexp_matches(coalesce(f.cmdline, ''), '(^|\s)cgroup_disable=memory(\s|$)') AS cmdline_disables
    FROM host_facts f JOIN hn h ON h.host_bundle = f.bundle_id
    -- An empty list means the controllers could not be read: unknown, not missing.
    WHERE len(coalesce(f.cgroup_controllers, [])) > 0 AND NOT list_contains(f.cgroup_controllers, 'memory')
),
j AS (
    SELECT coalesce(p.node, c.node) AS node, coalesce(p.cluster, c.cluster) AS bundle_id, p.n, p.repeats, p.recent_repeats,
        p.first_seen, p.last_seen, p.seen, p.lines,
        c.node IS NOT NULL AS memory_missing, c.cgroup_version, c.cmdline, c.cmdline_ok, c.cmdline_disables, c.cgroup_controllers
    FROM per_node p FULL OUTER JOIN cg c ON c.cluster = p.cluster AND c.node IS NOT DISTINCT FROM p.node
)
SELECT coalesce('node/' || node, 'cluster') AS resource, node, node AS name, bundle_id,
    n AS signals, seen, repeats, memory_missing, cgroup_version, cmdline_ok, cmdline_disables,
    list_concat(coalesce(lines, []),
        CASE WHEN memory_missing THEN ['/proc/cmdline: ' || coalesce(cmdline, ''), 'cgroup controllers: ' || array_to_string(cgroup_controllers, ' ')] ELSE [] END) AS evidence,
    n AS count, first_seen, last_seen,
    -- The missing controller is measured on the host: that row is not judged by its log lines.
    CASE WHEN NOT memory_missing THEN coalesce(recent_repeats, 0) END AS recent_count,
    CASE WHEN memory_missing THEN 'high' ELSE 'medium' END AS severity
FROM j
WHERE memory_missing OR repeats >= ${min_count}
ORDER BY 1
