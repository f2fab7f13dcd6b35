/* ---
id = "flexvolume-dir-on-readonly-usr"
severity = "low"
faq = ["KADM-17"]
category = "storage"
patterns = [
  "mkdir /usr/libexec/kubernetes[^ ]*: read-only file system",
  "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/?.*read-only file system",
  "Error initializing dynamic plugin prober",
]
# The kubelet logs the read-only error when it starts its plugin prober (and the
# controller-manager when it probes): a kubelet started days ago logged it days ago, while
# the mounts and the plugin directory read now still tell the state.
recent = "7d"
[title]
en = "FlexVolume plugin directory is under the read-only /usr (Flatcar, Fedora CoreOS)"
zh = "FlexVolume 插件目录位于只读的 /usr 下（Flatcar、Fedora CoreOS）"
[remediation]
en = """
On Fedora CoreOS, Flatcar Container Linux and similar distributions `/usr` is mounted read-only.
The kubelet and kube-controller-manager use `/usr/libexec/kubernetes/kubelet-plugins/volume/exec/`
as the FlexVolume directory by default, and it **must be writable** for FlexVolume to work
(FlexVolume is deprecated since v1.23). Move it with a kubeadm configuration file. On the primary
control-plane node, pass to `kubeadm init --config`:
```yaml
apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
nodeRegistration:
  kubeletExtraArgs:
    volume-plugin-dir: "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
controllerManager:
  extraArgs:
    flex-volume-plugin-dir: "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
```
On joining nodes:
```yaml
apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
nodeRegistration:
  kubeletExtraArgs:
    volume-plugin-dir: "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
```
Alternatively make `/usr` writable in `/etc/fstab`, which goes against the distribution's design.
"""
zh = """
在 Fedora CoreOS、Flatcar Container Linux 等发行版中，`/usr` 以只读方式挂载。kubelet 和 kube-controller-manager 默认使用
`/usr/libexec/kubernetes/kubelet-plugins/volume/exec/` 作为 FlexVolume 目录，而该目录**必须可写入**，FlexVolume 才能正常工作
（FlexVolume 在 v1.23 中已被弃用）。请使用 kubeadm 配置文件修改该目录。在（使用 `kubeadm init` 创建的）主控制节点上，通过 `--config` 传入：
```yaml
apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
nodeRegistration:
  kubeletExtraArgs:
    volume-plugin-dir: "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
controllerManager:
  extraArgs:
    flex-volume-plugin-dir: "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
```
在加入集群的节点上使用：
```yaml
apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
nodeRegistration:
  kubeletExtraArgs:
    volume-plugin-dir: "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/"
```
或者修改 `/etc/fstab` 使 `/usr` 以可写方式挂载，但这本质上是在更改该发行版的设计原则。
"""
[message]
en = """\
FlexVolume directory {{ dir }} is on a read-only /usr on node {{ node }} (\
{% if os is not none %}{{ os }}{% endif %}{% if os is not none and mount is not none %}, {% endif %}\
{% if mount is not none %}/usr mounted read-only{% endif %})\
{% if kcm_too %}; kube-controller-manager here also uses \
{% if kcm_dir is not none %}{{ kcm_dir }}{% else %}the default /usr/libexec/kubernetes/kubelet-plugins/volume/exec/{% endif %}{% endif %}\
{% if log_n > 0 %}; {{ log_n }} "read-only file system" errors for it in the logs{% endif %}"""
zh = """\
FlexVolume 目录 {{ dir }} 位于节点 {{ node }} 的只读 /usr 上（\
{% if os is not none %}{{ os }}{% endif %}{% if os is not none and mount is not none %}，{% endif %}\
{% if mount is not none %}/usr 以只读方式挂载{% endif %}）\
{% if kcm_too %}；该节点上的 kube-controller-manager 也使用 \
{% if kcm_dir is not none %}{{ kcm_dir }}{% else %}默认目录 /usr/libexec/kubernetes/kubelet-plugins/volume/exec/{% endif %}{% endif %}\
{% if log_n > 0 %}；日志中有 {{ log_n }} 条与之相关的 "read-only file system" 错误{% endif %}"""
--- */
WITH hn AS (
    SELECT h.bundle_id, coalesce(h.cluster_bundle_id, h.bundle_id) AS cluster, h.node, n.os_image, hf.os_pretty_name, hf.os_id
    FROM host_nodes h
    LEFT JOIN nodes n ON n.bundle_id = h.cluster_bundle_id AND n.name = h.node
    LEFT JOIN host_facts hf ON hf.bundle_id = h.bundle_id
),
ro_usr AS (
    SELECT bundle_id, any_value(device || ' on ' || mountpoint || ' (' || options || ')') AS mount
    FROM host_mounts
    WHERE mountpoint = '/usr' AND regexp_matches(options, '(^|,)ro(,|$)')
    GROUP BY bundle_id
),
immutable AS (
    SELECT hn.bundle_id, hn.cluster, hn.node, coalesce(hn.os_image, hn.os_pretty_name) AS os, r.mount
    FROM hn LEFT JOIN ro_usr r ON r.bundle_id = hn.bundle_id
    WHERE r.bundle_id IS NOT NULL
       OR regexp_matches(coalesce(hn.os_image, '') || ' ' || coalesce(hn.os_pretty_name, '') || ' ' || coalesce(hn.os_id, ''), '(?i)flatcar|fedora coreos|container linux')
    UNION ALL
    -- Cluster-only bundles: the node's OS image is all there is.
    SELECT n.bundle_id, n.bundle_id, n.name, n.os_image, NULL FROM nodes n
    WHERE regexp_matches(coalesce(n.os_image, ''), '(?i)flatcar|fedora coreos|container linux')
      AND NOT EXISTS (SELECT 1 FROM hn WHERE hn.cluster = n.bundle_id AND hn.node = n.name)
),
kubelet_cfg AS (
    SELECT coalesce(h.cluster, k.bundle_id) AS cluster, k.node, k.source, k.config
    FROM kubelet_configs k LEFT JOIN hn h ON h.bundle_id = k.bundle_id
),
plugin_dir AS (
    SELECT i.cluster, i.node,
        coalesce(
            (SELECT max(config->>'$.volumePluginDir') FROM kubelet_cfg k WHERE k.cluster = i.cluster AND k.node = i.node AND k.source = 'configz'),
            (SELECT max(regexp_extract(f.content, '--volume-plugin-dir[= ]"?([^" \n]+)', 1)) FROM host_files f
              WHERE f.bundle_id = i.bundle_id AND contains(f.content, '--volume-plugin-dir')
                AND (f.path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet') OR f.path LIKE '%/kubelet.service.d/%')),
            (SELECT max(config->>'$.volumePluginDir') FROM kubelet_cfg k WHERE k.cluster = i.cluster AND k.node = i.node AND k.source = 'file'),
            '/usr/libexec/kubernetes/kubelet-plugins/volume/exec/') AS dir
    FROM immutable i
),
kcm AS (
    SELECT c.bundle_id, c.node,
        coalesce(regexp_extract(CAST(c.command AS VARCHAR) || CAST(coalesce(c.args, '[]') AS VARCHAR), '--flex-volume-plugin-dir=([^",\]]+)', 1), '') AS flag
    FROM containers c
    WHERE c.namespace = 'kube-system' AND c.name = 'kube-controller-manager'
),
ro_logs AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS cluster, l.node, count(*) AS n,
        count(*) FILTER (WHERE in_window(l.age, ${recent})) AS recent_n,
        min(l.ts) AS first_seen, max(l.ts) AS last_seen,
        list(l.line ORDER BY l.ts DESC NULLS LAST, l.line_no DESC)[1:2] AS lines
    FROM log_lines l LEFT JOIN hn h ON h.bundle_id = l.bundle_id
    WHERE contains(l.line, '/usr/libexec/kubernetes') AND contains(l.line, 'read-only file system')
    GROUP BY 1, 2
)
SELECT
    'node/' || i.node AS resource,
    i.node, i.bundle_id,
    p.dir, i.os, i.mount,
    coalesce(k.node IS NOT NULL AND (k.flag = '' OR k.flag LIKE '/usr/%'), false) AS kcm_too, nullif(k.flag, '') AS kcm_dir,
    l.n AS log_n,
    list_concat(
        ['volumePluginDir: ' || p.dir],
        CASE WHEN i.mount IS NOT NULL THEN ['mount: ' || i.mount] ELSE [] END,
        coalesce(l.lines, [])) AS evidence,
    -- The directory and the mounts are read now; the errors confirm FlexVolume cannot work
    -- when they are recent.
    CASE WHEN l.recent_n > 0 THEN 'medium' ELSE 'low' END AS severity,
    l.first_seen, l.last_seen, l.n AS count
FROM immutable i
JOIN plugin_dir p ON p.cluster = i.cluster AND p.node = i.node
LEFT JOIN kcm k ON k.bundle_id = i.cluster AND k.node = i.node
LEFT JOIN ro_logs l ON l.cluster = i.cluster AND l.node = i.node
WHERE p.dir LIKE '/usr/%'
ORDER BY 1
