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
--- */
WITH hn AS (
    SELECT h.bundle_id, h.node, n.os_image, hf.os_pretty_name, hf.os_id
    FROM host_nodes h
    LEFT JOIN nodes n ON n.name = h.node
    LEFT JOIN host_facts hf ON hf.bundle_id = h.bundle_id
),
ro_usr AS (
    SELECT node, any_value(device || ' on ' || mountpoint || ' (' || options || ')') AS mount
    FROM host_mounts
    WHERE mountpoint = '/usr' AND regexp_matches(options, '(^|,)ro(,|$)')
    GROUP BY node
),
immutable AS (
    SELECT hn.bundle_id, hn.node, coalesce(hn.os_image, hn.os_pretty_name) AS os, r.mount
    FROM hn LEFT JOIN ro_usr r ON r.node = hn.node
    WHERE r.node IS NOT NULL
       OR regexp_matches(coalesce(hn.os_image, '') || ' ' || coalesce(hn.os_pretty_name, '') || ' ' || coalesce(hn.os_id, ''), '(?i)flatcar|fedora coreos|container linux')
    UNION ALL
    -- Cluster-only bundles: the node's OS image is all there is.
    SELECT n.bundle_id, n.name, n.os_image, NULL FROM nodes n
    WHERE regexp_matches(coalesce(n.os_image, ''), '(?i)flatcar|fedora coreos|container linux')
      AND n.name NOT IN (SELECT node FROM hn WHERE node IS NOT NULL)
),
plugin_dir AS (
    SELECT i.node,
        coalesce(
            (SELECT max(config->>'$.volumePluginDir') FROM kubelet_configs k WHERE k.node = i.node AND k.source = 'configz'),
            (SELECT max(regexp_extract(f.content, '--volume-plugin-dir[= ]"?([^" \n]+)', 1)) FROM host_files f
              WHERE f.node = i.node AND contains(f.content, '--volume-plugin-dir')
                AND (f.path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet') OR f.path LIKE '%/kubelet.service.d/%')),
            (SELECT max(config->>'$.volumePluginDir') FROM kubelet_configs k WHERE k.node = i.node AND k.source = 'file'),
            '/usr/libexec/kubernetes/kubelet-plugins/volume/exec/') AS dir
    FROM immutable i
),
kcm AS (
    SELECT c.node,
        coalesce(regexp_extract(CAST(c.command AS VARCHAR) || CAST(coalesce(c.args, '[]') AS VARCHAR), '--flex-volume-plugin-dir=([^",\]]+)', 1), '') AS flag
    FROM containers c
    WHERE c.namespace = 'kube-system' AND c.name = 'kube-controller-manager'
),
ro_logs AS (
    SELECT node, count(*) AS n, list(DISTINCT line)[1:2] AS lines FROM log_lines
    WHERE contains(line, '/usr/libexec/kubernetes') AND contains(line, 'read-only file system')
    GROUP BY node
)
SELECT
    'node/' || i.node AS resource,
    i.node, i.bundle_id,
    'FlexVolume directory ' || p.dir || ' is on a read-only /usr on node ' || i.node
        || ' (' || concat_ws(', ', CASE WHEN i.os IS NOT NULL THEN i.os END, CASE WHEN i.mount IS NOT NULL THEN '/usr mounted read-only' END) || ')'
        || CASE WHEN k.node IS NOT NULL AND (k.flag = '' OR k.flag LIKE '/usr/%')
                THEN '; kube-controller-manager here also uses ' || coalesce(nullif(k.flag, ''), 'the default /usr/libexec/kubernetes/kubelet-plugins/volume/exec/') ELSE '' END
        || CASE WHEN l.n > 0 THEN '; ' || l.n || ' "read-only file system" errors for it in the logs' ELSE '' END AS message,
    'FlexVolume 目录 ' || p.dir || ' 位于节点 ' || i.node || ' 的只读 /usr 上'
        || '（' || concat_ws('，', CASE WHEN i.os IS NOT NULL THEN i.os END, CASE WHEN i.mount IS NOT NULL THEN '/usr 以只读方式挂载' END) || '）'
        || CASE WHEN k.node IS NOT NULL AND (k.flag = '' OR k.flag LIKE '/usr/%')
                THEN '；该节点上的 kube-controller-manager 也使用 ' || coalesce(nullif(k.flag, ''), '默认目录 /usr/libexec/kubernetes/kubelet-plugins/volume/exec/') ELSE '' END
        || CASE WHEN l.n > 0 THEN '；日志中有 ' || l.n || ' 条与之相关的 "read-only file system" 错误' ELSE '' END AS message_zh,
    list_concat(
        ['volumePluginDir: ' || p.dir],
        CASE WHEN i.mount IS NOT NULL THEN ['mount: ' || i.mount] ELSE [] END,
        coalesce(l.lines, [])) AS evidence,
    CASE WHEN l.n > 0 THEN 'medium' ELSE 'low' END AS severity
FROM immutable i
JOIN plugin_dir p ON p.node = i.node
LEFT JOIN kcm k ON k.node = i.node
LEFT JOIN ro_logs l ON l.node = i.node
WHERE p.dir LIKE '/usr/%'
ORDER BY 1
