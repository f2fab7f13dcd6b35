/* ---
id = "kubelet-csimigration-upgrade"
severity = "high"
faq = ["CRN-24"]
category = "upgrade"
patterns = [
  "Failed to initialize CSINode",
  "error updating CSINode annotation",
  "CSIMigration",
]
[title]
en = "kubelet 1.17 after an upgrade from 1.16: CSINode initialisation fails, kube-proxy does not start (CSIMigration)"
zh = "1.16 升级 1.17 后 kubelet 初始化 CSINode 失败，kube-proxy 无法正常启动（CSIMigration）"
[remediation]
en = """
After upgrading from 1.16 to 1.17, the kubelet initialises the `CSINode` object for CSI
migration; while that fails (`Failed to initialize CSINode: error updating CSINode annotation:
timed out waiting for the condition`) the node does not become Ready and kube-proxy may not
start on it. Add the feature gate to the kubelet configuration and restart the kubelet:
```
# /var/lib/kubelet/config.yaml
featureGates:
  CSIMigration: false
```
```
systemctl restart kubelet
kubectl -n kube-system get pods -l k8s-app=kube-proxy -o wide
```
See https://github.com/kubernetes/kubernetes/issues/86094.
"""
zh = """
从 1.16 升级到 1.17 后，kubelet 会为 CSI 迁移初始化 `CSINode` 对象；初始化失败时（`Failed to initialize CSINode:
error updating CSINode annotation: timed out waiting for the condition`）节点无法 Ready，kube-proxy 可能无法正常启动。
需要对 kubelet 配置添加如下内容并重启 kubelet：
```
# /var/lib/kubelet/config.yaml
featureGates:
  CSIMigration: false
```
```
systemctl restart kubelet
kubectl -n kube-system get pods -l k8s-app=kube-proxy -o wide
```
参考 https://github.com/kubernetes/kubernetes/issues/86094。
"""
[thresholds]
# kubelet minor versions where the CSIMigration gate can still be turned off.
first_minor = 17
last_minor = 24
--- */
WITH kubelets AS (
    SELECT bundle_id, name AS node, kubelet_version, version_minor(kubelet_version) AS minor, ready, ready_message
    FROM nodes
    WHERE version_major(kubelet_version) = 1 AND version_minor(kubelet_version) BETWEEN ${first_minor} AND ${last_minor}
),
gate_off AS (
    -- CSIMigration=false in the kubelet configuration (configz or config.yaml) or its flags.
    SELECT DISTINCT lower(node) AS key FROM kubelet_configs
    WHERE lower(coalesce(config->>'$.featureGates.CSIMigration', '')) = 'false'
    UNION
    SELECT DISTINCT lower(node) FROM host_files
    WHERE path LIKE '%kubelet%' AND regexp_matches(content, '--feature-gates[= ]["'']?[^\s"'']*CSIMigration=false')
),
csinode_errors AS (
    SELECT lower(node) AS key, count(*) AS n, list(line ORDER BY line_no)[1:2] AS lines
    FROM log_lines
    WHERE node IS NOT NULL AND (contains(line, 'Failed to initialize CSINode') OR contains(line, 'error updating CSINode annotation'))
    GROUP BY 1
),
proxy_pods AS (
    SELECT lower(node) AS key, bool_or(phase = 'Running' AND ready) AS running,
        list(name || ' ' || coalesce(phase, '?') || CASE WHEN ready THEN ' ready' ELSE ' not ready' END) AS states
    FROM pods
    WHERE namespace = 'kube-system' AND (name LIKE 'kube-proxy%' OR json_extract_string(labels, '$."k8s-app"') = 'kube-proxy')
      AND node IS NOT NULL
    GROUP BY 1
),
proxy_ds AS (
    SELECT bundle_id FROM workloads WHERE kind = 'DaemonSet' AND namespace = 'kube-system' AND name = 'kube-proxy'
),
candidates AS (
    SELECT k.*, e.n AS err_n, e.lines AS err_lines, p.running AS proxy_running, p.states AS proxy_states,
        (p.key IS NULL AND EXISTS (SELECT 1 FROM proxy_ds d WHERE d.bundle_id = k.bundle_id)) AS proxy_missing,
        contains(coalesce(k.ready_message, ''), 'CSINode') AS ready_csinode
    FROM kubelets k
    LEFT JOIN csinode_errors e ON e.key = lower(k.node)
    LEFT JOIN proxy_pods p ON p.key = lower(k.node)
    WHERE lower(k.node) NOT IN (SELECT key FROM gate_off)
)
SELECT 'node/' || node AS resource, node, bundle_id,
    'kubelet ' || kubelet_version || ' on node ' || node || ' runs without CSIMigration=false and '
        || concat_ws(', ',
            CASE WHEN err_n > 0 OR ready_csinode THEN 'cannot initialize its CSINode' END,
            CASE WHEN NOT ready THEN 'the node is NotReady' END,
            CASE WHEN proxy_missing THEN 'no kube-proxy pod runs on it'
                 WHEN proxy_running = false THEN 'kube-proxy is not running on it' END) AS message,
    '节点 ' || node || ' 上的 kubelet ' || kubelet_version || ' 未设置 CSIMigration=false，且'
        || concat_ws('，',
            CASE WHEN err_n > 0 OR ready_csinode THEN '无法初始化其 CSINode' END,
            CASE WHEN NOT ready THEN '节点处于 NotReady' END,
            CASE WHEN proxy_missing THEN '该节点上没有运行任何 kube-proxy Pod'
                 WHEN proxy_running = false THEN 'kube-proxy 未在该节点上正常运行' END) AS message_zh,
    list_concat(
        coalesce(err_lines, []),
        CASE WHEN ready_csinode THEN ['Ready condition: ' || ready_message] ELSE [] END,
        coalesce(proxy_states, []),
        ['featureGates: CSIMigration not set to false']) AS evidence
FROM candidates
WHERE err_n > 0 OR ready_csinode
   -- the 1.16 -> 1.17 upgrade case: kube-proxy down on a 1.17 kubelet
   OR (minor = ${first_minor} AND (proxy_missing OR proxy_running = false))
ORDER BY 1
