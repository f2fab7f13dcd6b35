/* ---
id = "hairpin-mode-disabled"
severity = "medium"
faq = ["KADM-08"]
category = "network"
patterns = ["hairpin[-_ ]?mode", "Hairpin mode is set to none", "hairpinMode"]
[title]
en = "Hairpin mode disabled: pods cannot reach themselves through their Service IP"
zh = "hairpin 模式未启用：Pod 无法通过其 Service IP 访问自身"
[remediation]
en = """
A pod that connects to a Service whose endpoint is itself needs hairpin mode on its bridge
port. It is off when the kubelet runs with `hairpinMode: none` or when the CNI `bridge` plugin
is configured without `"hairpinMode": true`. Many network add-ons do not enable it: ask the
add-on's provider for its hairpin status (see containernetworking/cni#476). Set
`hairpinMode: hairpin-veth` (or `promiscuous-bridge`) in `/var/lib/kubelet/config.yaml`, or add
`"hairpinMode": true` to the `bridge` plugin in `/etc/cni/net.d`, then restart the kubelet.
On VirtualBox/Vagrant, also make sure `hostname -i` returns a routable IP (fix `/etc/hosts`).
```
grep -i hairpin /var/lib/kubelet/config.yaml /etc/cni/net.d/*
hostname -i
```
See https://kubernetes.io/docs/tasks/debug/debug-application/debug-service/#a-pod-fails-to-reach-itself-via-the-service-ip
"""
zh = """
Pod 通过 Service 访问到的后端恰好是它自己时，需要在其网桥端口上启用 hairpin 模式。kubelet 配置为 `hairpinMode: none`，
或 CNI `bridge` 插件未配置 `"hairpinMode": true` 时，该模式关闭。许多网络插件尚未启用 hairpin 模式：请向网络插件提供方确认
（参见 containernetworking/cni#476）。在 `/var/lib/kubelet/config.yaml` 中设置 `hairpinMode: hairpin-veth`
（或 `promiscuous-bridge`），或在 `/etc/cni/net.d` 的 `bridge` 插件中加入 `"hairpinMode": true`，然后重启 kubelet。
若使用 VirtualBox/Vagrant，还需确保 `hostname -i` 返回可路由的 IP（修改 `/etc/hosts`）。
```
grep -i hairpin /var/lib/kubelet/config.yaml /etc/cni/net.d/*
hostname -i
```
参见 https://kubernetes.io/zh-cn/docs/tasks/debug/debug-application/debug-service/#a-pod-fails-to-reach-itself-via-the-service-ip
"""
--- */
WITH kubelet_none AS (
    SELECT bundle_id, node, 'kubelet hairpinMode: none (' || CASE source WHEN 'configz' THEN 'configz' ELSE '/var/lib/kubelet/config.yaml' END || ')' AS what,
        'kubelet 配置 hairpinMode: none（' || CASE source WHEN 'configz' THEN 'configz' ELSE '/var/lib/kubelet/config.yaml' END || '）' AS what_zh
    FROM kubelet_configs WHERE config->>'$.hairpinMode' = 'none'
    UNION ALL
    SELECT bundle_id, node, 'kubelet flag --hairpin-mode=none in ' || path,
        path || ' 中设置了 kubelet 参数 --hairpin-mode=none'
    FROM host_files
    WHERE (path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet') OR path LIKE '%/kubelet.service.d/%')
      AND regexp_matches(content, '--hairpin-mode[= ]"?none')
),
-- The CNI configuration the runtime uses: the first file of /etc/cni/net.d.
cni_files AS (
    SELECT bundle_id, node, path, parsed, row_number() OVER (PARTITION BY bundle_id ORDER BY path) AS rn
    FROM host_files
    WHERE regexp_matches(path, '^/etc/cni/net\.d/[^/]+\.(conf|conflist|json)$') AND parsed IS NOT NULL
),
plugins AS (
    SELECT bundle_id, node, path,
        unnest(CASE WHEN json_type(parsed, '$.plugins') = 'ARRAY' THEN from_json(parsed->'$.plugins', '["JSON"]')
                    ELSE [parsed] END) AS plugin
    FROM cni_files WHERE rn = 1
),
cni_off AS (
    SELECT bundle_id, node,
        path || ': bridge plugin ' || coalesce('"' || (plugin->>'$.bridge') || '" ', '') || 'without "hairpinMode": true' AS what,
        path || '：bridge 插件 ' || coalesce('"' || (plugin->>'$.bridge') || '" ', '') || '未设置 "hairpinMode": true' AS what_zh
    FROM plugins
    WHERE plugin->>'$.type' = 'bridge' AND coalesce(plugin->>'$.hairpinMode', 'false') <> 'true'
    UNION ALL
    SELECT bundle_id, node, path || ': flannel delegate sets "hairpinMode": false',
        path || '：flannel delegate 设置了 "hairpinMode": false'
    FROM plugins
    WHERE plugin->>'$.type' = 'flannel' AND plugin->>'$.delegate.hairpinMode' = 'false'
),
alls AS (SELECT *, false AS cni FROM kubelet_none UNION ALL SELECT *, true FROM cni_off)
SELECT
    'node/' || a.node AS resource,
    a.node, any_value(a.bundle_id) AS bundle_id,
    'hairpin mode is off on node ' || a.node || ': ' || string_agg(DISTINCT a.what, '; ')
        || CASE WHEN NOT bool_or(a.cni) AND version_minor(any_value(n.kubelet_version)) >= 24
                THEN ' (since v1.24 the kubelet setting only matters to network plugins that honour it)' ELSE '' END AS message,
    '节点 ' || a.node || ' 上 hairpin 模式已关闭：' || string_agg(DISTINCT a.what_zh, '；')
        || CASE WHEN NOT bool_or(a.cni) AND version_minor(any_value(n.kubelet_version)) >= 24
                THEN '（自 v1.24 起，kubelet 的该设置仅对支持它的网络插件生效）' ELSE '' END AS message_zh,
    list(DISTINCT a.what) AS evidence,
    CASE WHEN bool_or(a.cni) OR coalesce(version_minor(any_value(n.kubelet_version)), 0) < 24 THEN 'medium' ELSE 'low' END AS severity
FROM alls a
LEFT JOIN nodes n ON n.name = a.node
GROUP BY a.node
ORDER BY 1
