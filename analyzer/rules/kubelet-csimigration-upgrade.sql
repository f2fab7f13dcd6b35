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
# The kubelet retries CSINode initialisation at start and exits when it gives up: a current
# failure logs within hours.
recent = "6h"
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
[message]
en = """\
kubelet {{ kubelet_version }} on node {{ node }} runs without CSIMigration=false and \
{% for p in parts %}\
  {% if p == 'cannot' %}cannot initialize its CSINode{% elif p == 'failed' %}failed to initialize its CSINode\
  {% elif p == 'notready' %}the node is NotReady{% elif p == 'noproxy' %}no kube-proxy pod runs on it\
  {% elif p == 'proxydown' %}kube-proxy is not running on it{% else %}the node is Ready with kube-proxy running now{% endif %}\
  {% if not loop.last %}, {% endif %}\
{% endfor %}"""
zh = """\
节点 {{ node }} 上的 kubelet {{ kubelet_version }} 未设置 CSIMigration=false，且\
{% for p in parts %}\
  {% if p == 'cannot' %}无法初始化其 CSINode{% elif p == 'failed' %}曾无法初始化其 CSINode\
  {% elif p == 'notready' %}节点处于 NotReady{% elif p == 'noproxy' %}该节点上没有运行任何 kube-proxy Pod\
  {% elif p == 'proxydown' %}kube-proxy 未在该节点上正常运行{% else %}目前节点 Ready 且 kube-proxy 正常运行{% endif %}\
  {% if not loop.last %}，{% endif %}\
{% endfor %}"""
[thresholds]
# kubelet minor versions where the CSIMigration gate can still be turned off.
first_minor = 17
last_minor = 24
# CSINode errors saying the Node does not exist yet, up to this long after the Node was created,
# are the kubelet starting before its registration.
bootstrap_minutes = 10
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
kubelets AS (
    SELECT bundle_id, name AS node, kubelet_version, version_minor(kubelet_version) AS minor, ready, ready_message
    FROM nodes
    WHERE version_major(kubelet_version) = 1 AND version_minor(kubelet_version) BETWEEN ${first_minor} AND ${last_minor}
),
gate_off AS (
    -- CSIMigration=false in the kubelet configuration (configz or config.yaml) or its flags.
    SELECT DISTINCT coalesce(h.cluster, k.bundle_id) AS cluster, k.node FROM kubelet_configs k
    LEFT JOIN hn h ON h.host_bundle = k.bundle_id
    WHERE lower(coalesce(k.config->>'$.featureGates.CSIMigration', '')) = 'false'
    UNION
    SELECT DISTINCT h.cluster, f.node FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE f.path LIKE '%kubelet%' AND regexp_matches(f.content, '--feature-gates[= ]["'']?[^\s"'']*CSIMigration=false')
),
csinode_errors AS (
    SELECT coalesce(h.cluster, l.bundle_id) AS cluster, l.node, count(*) AS n,
        count(*) FILTER (WHERE in_window(l.age, ${recent})) AS recent_n,
        min(l.ts) AS first_seen, max(l.ts) AS last_seen,
        list(l.line ORDER BY l.ts DESC NULLS LAST, l.line_no DESC)[1:2] AS lines
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    LEFT JOIN nodes nd ON nd.bundle_id = coalesce(h.cluster, l.bundle_id) AND nd.name = l.node
    WHERE l.node IS NOT NULL AND (contains(l.line, 'Failed to initialize CSINode') OR contains(l.line, 'error updating CSINode annotation'))
      -- A kubelet that starts before its Node object exists fails its first CSINode update with
      -- 'caused by: nodes "<node>" not found' and registers the node moments later: the
      -- bootstrap race of every new node, not the CSIMigration failure.
      AND NOT (regexp_matches(l.line, 'nodes? \\?"[^"\\]+\\?" not found')
               AND l.ts IS NOT NULL AND nd.created_at IS NOT NULL
               AND l.ts <= nd.created_at + INTERVAL ${bootstrap_minutes} MINUTE)
    GROUP BY 1, 2
),
proxy_pods AS (
    SELECT bundle_id, node, bool_or(phase = 'Running' AND ready) AS running,
        list(name || ' ' || coalesce(phase, '?') || CASE WHEN ready THEN ' ready' ELSE ' not ready' END) AS states
    FROM pods
    WHERE namespace = 'kube-system' AND (name LIKE 'kube-proxy%' OR json_extract_string(labels, '$."k8s-app"') = 'kube-proxy')
      AND node IS NOT NULL
    GROUP BY bundle_id, node
),
proxy_ds AS (
    SELECT bundle_id FROM workloads WHERE kind = 'DaemonSet' AND namespace = 'kube-system' AND name = 'kube-proxy'
),
candidates AS (
    SELECT k.*, e.n AS err_n, e.recent_n AS err_recent, e.first_seen, e.last_seen, e.lines AS err_lines,
        p.running AS proxy_running, p.states AS proxy_states,
        (p.node IS NULL AND EXISTS (SELECT 1 FROM proxy_ds d WHERE d.bundle_id = k.bundle_id)) AS proxy_missing,
        contains(coalesce(k.ready_message, ''), 'CSINode') AS ready_csinode
    FROM kubelets k
    LEFT JOIN csinode_errors e ON e.cluster = k.bundle_id AND e.node = k.node
    LEFT JOIN proxy_pods p ON p.bundle_id = k.bundle_id AND p.node = k.node
    WHERE NOT EXISTS (SELECT 1 FROM gate_off g WHERE g.cluster = k.bundle_id AND g.node = k.node)
),
judged AS (
    SELECT *,
        -- The impact the FAQ describes, read from the objects now.
        (ready_csinode OR NOT ready OR proxy_missing OR proxy_running = false) AS impact
    FROM candidates
)
SELECT 'node/' || node AS resource, node, bundle_id,
    kubelet_version,
    list_filter([CASE WHEN ready_csinode OR (err_n > 0 AND impact) THEN 'cannot' WHEN err_n > 0 THEN 'failed' END,
                 CASE WHEN NOT ready THEN 'notready' END,
                 CASE WHEN proxy_missing THEN 'noproxy' WHEN proxy_running = false THEN 'proxydown' END,
                 CASE WHEN NOT impact THEN 'fine' END], lambda p: p IS NOT NULL) AS parts,
    list_concat(
        coalesce(err_lines, []),
        CASE WHEN ready_csinode THEN ['Ready condition: ' || ready_message] ELSE [] END,
        coalesce(proxy_states, []),
        ['featureGates: CSIMigration not set to false']) AS evidence,
    -- CSINode failing with the node NotReady or kube-proxy down: proven now. kube-proxy down on
    -- a 1.17 kubelet without any CSINode error may have another cause. Errors on a node that
    -- is Ready with kube-proxy running are judged by their time.
    CASE WHEN impact AND (err_n > 0 OR ready_csinode) THEN 'high'
         WHEN impact THEN 'medium'
         ELSE 'low' END AS severity,
    first_seen, last_seen,
    CASE WHEN NOT impact THEN err_recent END AS recent_count,
    err_n AS count
FROM judged
WHERE err_n > 0 OR ready_csinode
   -- the 1.16 -> 1.17 upgrade case: kube-proxy down on a 1.17 kubelet
   OR (minor = ${first_minor} AND (proxy_missing OR proxy_running = false))
ORDER BY 1
