/* ---
id = "image-filesystem-capacity-zero"
severity = "high"
faq = ["WNR-13"]
category = "nodes"
patterns = ["invalid capacity 0 on image filesystem", "InvalidDiskCapacity", "cgroup_enable=memory", "failed to find memory cgroup", "missing cgroups: memory"]
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
[thresholds]
min_repeats = 3
--- */
WITH signals AS (
    SELECT bundle_id, coalesce(source_host, CASE WHEN object_kind = 'Node' THEN object_name END) AS node,
        count AS n, message AS line, 'event ' || reason AS what, '事件 ' || reason AS what_zh
    FROM events
    WHERE reason = 'InvalidDiskCapacity' OR contains(message, 'invalid capacity 0 on image filesystem')
    UNION ALL
    SELECT bundle_id, node, 1, line, source || ' log ' || coalesce(service, container, ''), source || ' 日志 ' || coalesce(service, container, '')
    FROM log_lines
    WHERE contains(line, 'invalid capacity 0 on image filesystem')
),
per_node AS (
    SELECT node, any_value(bundle_id) AS bundle_id, sum(n) AS n, string_agg(DISTINCT what, ', ' ORDER BY what) AS seen,
        -- In the order of the English list (sorted by what).
        nullif(array_to_string(list_transform(list_sort(list_distinct(list({'k': what, 'v': what_zh}) FILTER (WHERE what IS NOT NULL))), lambda x: x.v), ', '), '') AS seen_zh,
        list(DISTINCT line ORDER BY line)[1:2] AS lines
    FROM signals GROUP BY node
),
cg AS (
    SELECT bundle_id, node, cgroup_version, cmdline, cgroup_controllers,
        regexp_matches(coalesce(cmdline, ''), '(^|\s)(cgroup_enable=memory|cgroup_memory=1)(\s|$)') AS cmdline_ok,
        regexp_matches(coalesce(cmdline, ''), '(^|\s)cgroup_disable=memory(\s|$)') AS cmdline_disables
    FROM host_facts
    WHERE len(coalesce(cgroup_controllers, [])) > 0 AND NOT list_contains(cgroup_controllers, 'memory')
),
j AS (
    SELECT coalesce(p.node, c.node) AS node, coalesce(c.bundle_id, p.bundle_id) AS bundle_id, p.n, p.seen, p.seen_zh, p.lines,
        c.node IS NOT NULL AS memory_missing, c.cgroup_version, c.cmdline, c.cmdline_ok, c.cmdline_disables, c.cgroup_controllers
    FROM per_node p FULL OUTER JOIN cg c ON c.node IS NOT DISTINCT FROM p.node
)
SELECT coalesce('node/' || node, 'cluster') AS resource, node, node AS name, bundle_id,
    concat_ws('; ',
        CASE WHEN n > 0 THEN '"invalid capacity 0 on image filesystem" ' || n || ' times' || coalesce(' on node ' || node, '') || ' (' || seen || ')' END,
        CASE WHEN memory_missing THEN 'the memory cgroup controller is not available on ' || node || ' (cgroup v' || coalesce(CAST(cgroup_version AS VARCHAR), '?') || ')'
            || CASE WHEN cmdline_disables THEN ' and /proc/cmdline has cgroup_disable=memory'
                    WHEN NOT cmdline_ok THEN ' and /proc/cmdline lacks cgroup_enable=memory cgroup_memory=1' ELSE '' END END) AS message,
    concat_ws('；',
        CASE WHEN n > 0 THEN coalesce('节点 ' || node || ' 上 ', '') || '"invalid capacity 0 on image filesystem" 出现 ' || n || ' 次（' || seen_zh || '）' END,
        CASE WHEN memory_missing THEN '节点 ' || node || ' 上 memory cgroup 控制器不可用（cgroup v' || coalesce(CAST(cgroup_version AS VARCHAR), '?') || '）'
            || CASE WHEN cmdline_disables THEN '，且 /proc/cmdline 中有 cgroup_disable=memory'
                    WHEN NOT cmdline_ok THEN '，且 /proc/cmdline 缺少 cgroup_enable=memory cgroup_memory=1' ELSE '' END END) AS message_zh,
    list_concat(coalesce(lines, []),
        CASE WHEN memory_missing THEN ['/proc/cmdline: ' || coalesce(cmdline, ''), 'cgroup controllers: ' || array_to_string(cgroup_controllers, ' ')] ELSE [] END) AS evidence,
    n AS count,
    CASE WHEN memory_missing THEN 'high' ELSE 'medium' END AS severity
FROM j
WHERE memory_missing OR n >= ${min_repeats}
ORDER BY 1
