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
[message]
en = """\
hairpin mode is off on node {{ node }}: \
{% for w in items %}\
  {% if w.kind == 'kubelet-config' %}kubelet hairpinMode: none ({{ w.path }})\
  {% elif w.kind == 'kubelet-flag' %}kubelet flag --hairpin-mode=none in {{ w.path }}\
  {% elif w.kind == 'bridge' %}{{ w.path }}: bridge plugin {% if w.bridge is not none %}"{{ w.bridge }}" {% endif %}without "hairpinMode": true\
  {% else %}{{ w.path }}: flannel delegate sets "hairpinMode": false{% endif %}\
  {% if not loop.last %}; {% endif %}\
{% endfor %}\
{% if not cni and minor is not none and minor >= 24 %} (since v1.24 the kubelet setting only matters to network plugins that honour it)\
{% elif not cni %} (the kubelet setting matters to kubenet and the Docker bridge; CNI plugins set hairpin themselves){% endif %}"""
zh = """\
节点 {{ node }} 上 hairpin 模式已关闭：\
{% for w in items %}\
  {% if w.kind == 'kubelet-config' %}kubelet 配置 hairpinMode: none（{{ w.path }}）\
  {% elif w.kind == 'kubelet-flag' %}{{ w.path }} 中设置了 kubelet 参数 --hairpin-mode=none\
  {% elif w.kind == 'bridge' %}{{ w.path }}：bridge 插件 {% if w.bridge is not none %}"{{ w.bridge }}" {% endif %}未设置 "hairpinMode": true\
  {% else %}{{ w.path }}：flannel delegate 设置了 "hairpinMode": false{% endif %}\
  {% if not loop.last %}；{% endif %}\
{% endfor %}\
{% if not cni and minor is not none and minor >= 24 %}（自 v1.24 起，kubelet 的该设置仅对支持它的网络插件生效）\
{% elif not cni %}（kubelet 的该设置只对 kubenet 和 Docker 网桥生效；CNI 插件自行设置 hairpin）{% endif %}"""
--- */
-- Every setting is tied to its node within its cluster (configz: the cluster bundle; files: the
-- node bundle's cluster).
WITH kubelet_none AS (
    SELECT coalesce(h.cluster_bundle_id, k.bundle_id) AS cluster, k.bundle_id, k.node,
        'kubelet hairpinMode: none (' || CASE k.source WHEN 'configz' THEN 'configz' ELSE '/var/lib/kubelet/config.yaml' END || ')' AS what,
        -- The kubelet's settings first, then the CNI configuration's.
        {'cni': false, 'kind': 'kubelet-config', 'path': CASE k.source WHEN 'configz' THEN 'configz' ELSE '/var/lib/kubelet/config.yaml' END,
         'bridge': NULL} AS item
    FROM kubelet_configs k LEFT JOIN host_nodes h ON h.bundle_id = k.bundle_id
    WHERE (k.config->>'$.hairpinMode') = 'none'
    UNION ALL
    SELECT coalesce(h.cluster_bundle_id, f.bundle_id), f.bundle_id, f.node, 'kubelet flag --hairpin-mode=none in ' || f.path,
        {'cni': false, 'kind': 'kubelet-flag', 'path': f.path, 'bridge': NULL}
    FROM host_files f LEFT JOIN host_nodes h ON h.bundle_id = f.bundle_id
    WHERE (f.path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet') OR f.path LIKE '%/kubelet.service.d/%')
      AND regexp_matches(f.content, '--hairpin-mode[= ]"?none')
),
-- The CNI configuration the runtime uses: the first file of /etc/cni/net.d.
cni_files AS (
    SELECT bundle_id, node, path, parsed, row_number() OVER (PARTITION BY bundle_id ORDER BY path) AS rn
    FROM host_files
    WHERE regexp_matches(path, '^/etc/cni/net\.d/[^/]+\.(conf|conflist|json)$') AND parsed IS NOT NULL
),
plugins AS (
    SELECT c.bundle_id, coalesce(h.cluster_bundle_id, c.bundle_id) AS cluster, c.node, c.path,
        unnest(CASE WHEN json_type(c.parsed, '$.plugins') = 'ARRAY' THEN from_json(c.parsed->'$.plugins', '["JSON"]')
                    ELSE [c.parsed] END) AS plugin
    FROM cni_files c LEFT JOIN host_nodes h ON h.bundle_id = c.bundle_id
    WHERE c.rn = 1
),
cni_off AS (
    -- A bridge in promiscuous mode (kubenet's way) delivers hairpin traffic too.
    SELECT cluster, bundle_id, node,
        path || ': bridge plugin ' || coalesce('"' || (plugin->>'$.bridge') || '" ', '') || 'without "hairpinMode": true' AS what,
        {'cni': true, 'kind': 'bridge', 'path': path, 'bridge': (plugin->>'$.bridge')} AS item
    FROM plugins
    WHERE (plugin->>'$.type') = 'bridge' AND coalesce(plugin->>'$.hairpinMode', 'false') <> 'true'
      AND coalesce(plugin->>'$.promiscMode', 'false') <> 'true'
    UNION ALL
    SELECT cluster, bundle_id, node, path || ': flannel delegate sets "hairpinMode": false',
        {'cni': true, 'kind': 'flannel', 'path': path, 'bridge': NULL}
    FROM plugins
    WHERE (plugin->>'$.type') = 'flannel' AND (plugin->>'$.delegate.hairpinMode') = 'false'
),
alls AS (SELECT *, false AS cni FROM kubelet_none UNION ALL SELECT *, true FROM cni_off),
judged AS (
    SELECT a.cluster, a.node, any_value(a.bundle_id) AS bundle_id, bool_or(a.cni) AS cni,
        list(DISTINCT a.item ORDER BY a.item) AS items, list(DISTINCT a.what) AS evidence,
        version_minor(any_value(n.kubelet_version)) AS minor
    FROM alls a
    LEFT JOIN nodes n ON n.bundle_id = a.cluster AND n.name = a.node
    GROUP BY a.cluster, a.node
)
SELECT
    'node/' || node AS resource,
    node, bundle_id,
    items, cni, minor,
    evidence,
    -- The bridge the pods hang off has hairpin off: a pod cannot reach itself through its
    -- Service. The kubelet setting alone does nothing for CNI plugins: low before v1.24
    -- (kubenet, Docker bridge), info from v1.24 (no kubelet-managed bridge is left).
    CASE WHEN cni THEN 'medium' WHEN minor IS NULL OR minor < 24 THEN 'low' ELSE 'info' END AS severity
FROM judged
ORDER BY 1
