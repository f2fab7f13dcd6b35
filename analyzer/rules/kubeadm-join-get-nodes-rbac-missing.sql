/* ---
id = "kubeadm-join-get-nodes-rbac-missing"
severity = "high"
faq = ["KADM-01"]
category = "control-plane"
# A join attempt: its errors count as a current failure for a day (joins are retried by hand).
recent = "24h"
patterns = [
  "User \"system:bootstrap:[a-z0-9]+\" cannot get resource \"nodes\"",
  "cannot get Node \"[^\"]+\"",
  "nodes \"[^\"]+\" is forbidden: User \"system:bootstrap:",
  "kubeadm:get-nodes",
]
references = ["https://github.com/kubernetes/kubeadm/issues/2079"]
[title]
en = "kubeadm join cannot GET its Node: ClusterRole kubeadm:get-nodes is missing"
zh = "kubeadm join 无法 GET Node：缺少 ClusterRole kubeadm:get-nodes"
[remediation]
en = """
Since v1.18, `kubeadm join` checks whether a Node with the same name already exists, which
needs RBAC for the bootstrap-token user to GET Node objects. Clusters created by kubeadm v1.17
(or upgraded with kubeadm v1.18.0) lack it, and joins fail with
`nodes "<name>" is forbidden: User "system:bootstrap:<token-id>" cannot get resource "nodes" in API group "" at the cluster scope`.

Either run, with kubeadm v1.18 or newer, on a control-plane node:
```
kubeadm init phase bootstrap-token
```
(this also re-applies the other bootstrap-token permissions), or apply the RBAC by hand with
`kubectl apply -f`:
```yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeadm:get-nodes
rules:
- apiGroups:
  - ""
  resources:
  - nodes
  verbs:
  - get
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubeadm:get-nodes
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubeadm:get-nodes
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:bootstrappers:kubeadm:default-node-token
```
"""
zh = """
自 v1.18 起，`kubeadm join` 会检查集群中是否已存在同名 Node，这需要为 bootstrap-token 用户添加 GET Node 的 RBAC。
由 kubeadm v1.17 创建（或用 kubeadm v1.18.0 升级）的集群缺少该权限，join 会失败并报
`nodes "<节点名>" is forbidden: User "system:bootstrap:<token-id>" cannot get resource "nodes" in API group "" at the cluster scope`。

两种解决方法：在控制平面节点上使用 kubeadm v1.18 或更新版本执行
```
kubeadm init phase bootstrap-token
```
（这也会启用 bootstrap-token 的其余权限），或者使用 `kubectl apply -f ...` 手动应用以下 RBAC：
```yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubeadm:get-nodes
rules:
- apiGroups:
  - ""
  resources:
  - nodes
  verbs:
  - get
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubeadm:get-nodes
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubeadm:get-nodes
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:bootstrappers:kubeadm:default-node-token
```
"""
[message]
en = """\
ClusterRole/ClusterRoleBinding kubeadm:get-nodes \
{% if missing %}is missing{% else %}is not bound to system:bootstrappers:kubeadm:default-node-token{% endif %} \
(API server {{ server_version if server_version is not none else '?' }})\
{% if newer is not none %}; v1.{{ get_nodes_since_minor }}+ kubelets joined or joining a v1.{{ server_minor }} control plane: \
{% for n in newer %}{{ n.name }} (kubelet {{ n.kubelet }}){% if not loop.last %}, {% endif %}{% endfor %}{% endif %}\
{% if errors > 0 %}; {{ errors }} bootstrap-token "cannot get resource \\"nodes\\"" errors seen{% endif %}\
{% if newer is none and errors == 0 %}; kubeadm join v1.{{ get_nodes_since_minor }}+ will fail with "cannot get Node"{% endif %}"""
zh = """\
ClusterRole/ClusterRoleBinding kubeadm:get-nodes \
{% if missing %}不存在{% else %}未绑定到 system:bootstrappers:kubeadm:default-node-token{% endif %}\
（API server {{ server_version if server_version is not none else '?' }}）\
{% if newer is not none %}；v1.{{ get_nodes_since_minor }}+ 的 kubelet 已加入或正在加入 v1.{{ server_minor }} 的控制平面：\
{% for n in newer %}{{ n.name }}（kubelet {{ n.kubelet }}）{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}\
{% if errors > 0 %}；发现 {{ errors }} 条 bootstrap-token "cannot get resource \\"nodes\\"" 错误{% endif %}\
{% if newer is none and errors == 0 %}；kubeadm join v1.{{ get_nodes_since_minor }}+ 将失败并报 "cannot get Node"{% endif %}"""
[thresholds]
# First kubeadm/kubelet minor version whose join GETs the Node (major 1).
get_nodes_since_minor = 18
--- */
WITH clusters AS (
    SELECT b.bundle_id, b.server_version FROM bundles b WHERE b.kind = 'cluster'
),
-- kubeadm-managed clusters: the kubeadm-config ConfigMap or kubeadm's own RBAC objects.
kubeadm AS (
    SELECT DISTINCT bundle_id FROM objects
    WHERE (resource = 'configmaps' AND namespace = 'kube-system' AND name = 'kubeadm-config')
       OR (api_group = 'rbac.authorization.k8s.io' AND resource = 'clusterrolebindings'
           AND name IN ('kubeadm:kubelet-bootstrap', 'kubeadm:node-autoapprove-bootstrap', 'kubeadm:node-autoapprove-certificate-rotation'))
),
-- ClusterRoles were collected at all (otherwise absence proves nothing).
rbac_seen AS (
    SELECT DISTINCT bundle_id FROM objects
    WHERE api_group = 'rbac.authorization.k8s.io' AND resource = 'clusterroles'
),
role AS (
    SELECT bundle_id, name, doc FROM objects
    WHERE api_group = 'rbac.authorization.k8s.io' AND resource = 'clusterroles' AND name = 'kubeadm:get-nodes'
),
-- A binding of kubeadm:get-nodes to the kubeadm bootstrap token group.
binding AS (
    SELECT DISTINCT bundle_id FROM objects
    WHERE api_group = 'rbac.authorization.k8s.io' AND resource = 'clusterrolebindings'
      AND (doc->>'$.roleRef.name') = 'kubeadm:get-nodes'
      AND contains(CAST((doc->'$.subjects') AS VARCHAR), 'system:bootstrappers:kubeadm:default-node-token')
),
newer_nodes AS (
    SELECT n.bundle_id,
        list(n.name || ' (kubelet ' || n.kubelet_version || ')' ORDER BY n.name) AS nodes,
        list({'name': n.name, 'kubelet': n.kubelet_version} ORDER BY n.name) AS newer
    FROM nodes n JOIN clusters c USING (bundle_id)
    WHERE version_major(n.kubelet_version) = 1 AND version_minor(n.kubelet_version) >= ${get_nodes_since_minor}
      AND version_major(c.server_version) = 1 AND version_minor(c.server_version) < ${get_nodes_since_minor}
    GROUP BY n.bundle_id
),
join_errors AS (
    SELECT coalesce(h.cluster_bundle_id, l.bundle_id) AS bundle_id, l.line AS text, l.ts, l.age
    FROM log_lines l LEFT JOIN host_nodes h ON h.bundle_id = l.bundle_id
    WHERE contains(l.line, 'cannot get resource "nodes"') AND contains(l.line, 'system:bootstrap:')
    UNION ALL
    SELECT e.bundle_id, e.message, CAST(e.last_seen AS TIMESTAMPTZ), b.collected_at - e.last_seen
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, 'cannot get resource "nodes"') AND contains(e.message, 'system:bootstrap:')
),
errors AS (
    SELECT bundle_id, count(*) AS n, count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen, list(text ORDER BY text)[1:3] AS lines
    FROM join_errors GROUP BY bundle_id
)
SELECT
    'clusterrole/kubeadm:get-nodes' AS resource,
    c.bundle_id,
    r.bundle_id IS NULL AS missing, c.server_version, version_minor(c.server_version) AS server_minor, nn.newer,
    coalesce(e.n, 0) AS errors,
    list_concat(
        ['server version: ' || coalesce(c.server_version, '?')],
        coalesce(nn.nodes, []),
        coalesce(e.lines, [])) AS evidence,
    -- The missing RBAC is proven by the objects; join errors raise it only while current.
    CASE WHEN nn.bundle_id IS NOT NULL OR e.n_recent > 0 THEN 'high' ELSE 'medium' END AS severity,
    e.first_seen, e.last_seen
FROM clusters c
JOIN kubeadm k USING (bundle_id)
JOIN rbac_seen rs USING (bundle_id)
LEFT JOIN role r USING (bundle_id)
LEFT JOIN newer_nodes nn USING (bundle_id)
LEFT JOIN errors e ON e.bundle_id = c.bundle_id
WHERE (r.bundle_id IS NULL OR c.bundle_id NOT IN (SELECT bundle_id FROM binding))
  AND (nn.bundle_id IS NOT NULL OR e.n > 0
       OR (version_major(c.server_version) = 1 AND version_minor(c.server_version) >= ${get_nodes_since_minor}))
