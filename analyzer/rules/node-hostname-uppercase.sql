/* ---
id = "node-hostname-uppercase"
severity = "medium"
faq = ["CRN-10"]
category = "nodes"
patterns = [
  "is not allowed to modify node",
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
  "User \\\\?\"system:node:[^\"\\\\]*[A-Z]",
]
# The kubelet retries its registration every few seconds while it is refused.
recent = "6h"
[title]
en = "Node host name has upper-case letters: the kubelet cannot register or update its Node"
zh = "节点主机名包含大写字母：kubelet 无法注册或更新 Node"
[remediation]
en = """
Kubernetes node names must be lower-case (RFC 1123). The kubelet lower-cases the host name it
registers, but kubeadm puts the host name as it is into `kubelet.conf` and the node client
certificate (`system:node:<Hostname>`), so the node authorizer refuses the kubelet ("node
\\"Master1\\" is not allowed to modify node \\"master1\\"") and the node cannot register. Do not
use upper-case host names, above all on master nodes: rename the host in lower case before
installing (or re-join the node after renaming).
```
hostnamectl set-hostname <lower-case-name>
kubeadm reset && kubeadm join ...        # re-create kubelet.conf for the new name
openssl x509 -noout -subject -in /var/lib/kubelet/pki/kubelet-client-current.pem
```
"""
zh = """
Kubernetes 节点名必须是小写（RFC 1123）。kubelet 注册时会把主机名转成小写，但 kubeadm 生成 `kubelet.conf` 和节点客户端证书
（`system:node:<主机名>`）时保留原样，节点鉴权会拒绝 kubelet（"node \\"Master1\\" is not allowed to modify node
\\"master1\\""），导致节点无法注册。主机名（尤其是 Master 节点）不要设为大写：安装前先改为小写主机名（已安装的节点改名后需重新加入集群）。
```
hostnamectl set-hostname <小写主机名>
kubeadm reset && kubeadm join ...        # 按新主机名重新生成 kubelet.conf
openssl x509 -noout -subject -in /var/lib/kubelet/pki/kubelet-client-current.pem
```
"""
[message]
en = """\
node {{ node }} has an upper-case host name (\
{% for s in seen %}\
  {% if s.kind == 'certificate' %}certificate {{ s.a }}{% elif s.kind == 'file' %}file {{ s.a }}\
  {% elif s.kind == 'host name' %}host name {{ s.a }}{% elif s.kind == 'journal' %}journal host name {{ s.a }}\
  {% elif s.kind == 'kubeconfig' %}kubeconfig {{ s.a }} user {{ s.b }}{% elif s.kind == 'kubelet' %}kubelet {{ s.a }}\
  {% else %}{{ s.kind }} log {{ s.a }} registration refused{% endif %}\
  {% if not loop.last %}, {% endif %}\
{% endfor %})\
{% if refused > 0 %}; the API server refused the kubelet's registration\
  {% if unregistered %} and the node is not registered in the cluster{% elif node_ready == false %} and the node is NotReady{% endif %}\
{% elif credentials %}; its node credentials carry the upper-case name, which the node authorizer refuses for node {{ node }}\
  {% if node_ready %} (the node is Ready now: the authorizer does not enforce it here){% endif %}\
{% else %}: the kubelet registers the lower-cased name, and no refused registration or upper-case node credential was found: \
this alone does no harm{% endif %}"""
zh = """\
节点 {{ node }} 的主机名包含大写字母（\
{% for s in seen %}\
  {% if s.kind == 'certificate' %}证书 {{ s.a }}{% elif s.kind == 'file' %}文件 {{ s.a }}\
  {% elif s.kind == 'host name' %}主机名 {{ s.a }}{% elif s.kind == 'journal' %}journal 中的主机名 {{ s.a }}\
  {% elif s.kind == 'kubeconfig' %}kubeconfig {{ s.a }} 用户 {{ s.b }}{% elif s.kind == 'kubelet' %}kubelet {{ s.a }}\
  {% else %}{{ s.kind }} 日志 {{ s.a }} 注册被拒绝{% endif %}\
  {% if not loop.last %}、{% endif %}\
{% endfor %}）\
{% if refused > 0 %}；API Server 拒绝了 kubelet 的注册\
  {% if unregistered %}，该节点未在集群中注册{% elif node_ready == false %}，该节点处于 NotReady{% endif %}\
{% elif credentials %}；节点凭据中使用了大写主机名，节点鉴权会拒绝其访问节点 {{ node }}\
  {% if node_ready %}（该节点目前 Ready：此集群未强制该鉴权）{% endif %}\
{% else %}：kubelet 注册时使用小写名称，且未发现注册被拒绝或使用大写名称的节点凭据：仅此一项并无影响{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, node, cluster_bundle_id, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
-- Upper case where the host name is set: not a problem by itself (the kubelet lower-cases
-- the name it registers), but the reason for the failures below.
names AS (
    -- Kinds sort as the English texts start: certificate, container, file, host, host name,
    -- journal, kubeconfig, kubelet, node.
    SELECT f.bundle_id, h.cluster, f.node, {'kind': 'host name', 'a': f.hostname, 'b': NULL::VARCHAR} AS what, 'hostname: ' || f.hostname AS line
    FROM host_facts f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE regexp_matches(f.hostname, '[A-Z]')
    UNION ALL
    SELECT f.bundle_id, h.cluster, f.node, {'kind': 'file', 'a': '/etc/hostname', 'b': NULL::VARCHAR}, '/etc/hostname: ' || trim(f.content, chr(10) || chr(13) || ' ')
    FROM host_files f JOIN hn h ON h.host_bundle = f.bundle_id
    WHERE f.path = '/etc/hostname' AND regexp_matches(f.content, '[A-Z]')
    UNION ALL
    SELECT k.bundle_id, coalesce(h.cluster, k.bundle_id), k.node, {'kind': 'kubelet', 'a': 'hostnameOverride', 'b': NULL::VARCHAR}, 'hostnameOverride: ' || (k.config->>'$.hostnameOverride')
    FROM kubelet_configs k LEFT JOIN hn h ON h.host_bundle = k.bundle_id
    WHERE regexp_matches(coalesce(k.config->>'$.hostnameOverride', ''), '[A-Z]')
    UNION ALL
    -- The host name a journal line carries, in any of journalctl's formats:
    -- "Dec 21 13:01:03 BJ-M8-HADOOP-105-145 kubelet[353352]: ...", short-iso
    -- "2026-01-15T11:58:00+0000 Master1 kubelet[812]: ...", short-precise, short-iso-precise.
    SELECT any_value(l.bundle_id), h.cluster, l.node,
        {'kind': 'journal', 'a': any_value(regexp_extract(l.line, '^(?:\w{3} +\d+ [\d:.]+|\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (\S+) ', 1)),
         'b': NULL::VARCHAR},
        arg_min(l.line, l.line_no)
    FROM log_lines l JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE l.source = 'host' AND l.node IS NOT NULL
      AND regexp_matches(l.line, '^(?:\w{3} +\d+ [\d:.]+|\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?) \S*[A-Z]\S* (kubelet|containerd|dockerd|k3s|rke2|systemd)(\[\d+\])?:')
    GROUP BY h.cluster, l.node
),
-- The node client certificate and kubeconfig user carry the upper-case name kubeadm wrote:
-- the node authorizer refuses "system:node:Master1" access to node "master1".
identities AS (
    SELECT c.bundle_id, h.cluster, c.node, {'kind': 'certificate', 'a': c.path, 'b': NULL::VARCHAR} AS what, 'subject: ' || c.subject AS line
    FROM certificates c JOIN hn h ON h.host_bundle = c.bundle_id
    WHERE regexp_matches(c.subject, 'system:node:[^,/]*[A-Z]')
    UNION ALL
    SELECT u.bundle_id, h.cluster, u.node, {'kind': 'kubeconfig', 'a': u.path, 'b': u.name}, 'user: ' || u.name
    FROM kubeconfig_users u JOIN hn h ON h.host_bundle = u.bundle_id
    WHERE regexp_matches(u.name, '^system:node:.*[A-Z]')
),
-- The refusals themselves, wherever the line's prefix is (journal, klog, container stamp).
refusals AS (
    SELECT l.bundle_id, coalesce(h.cluster, l.bundle_id) AS cluster, l.node,
        -- A log's kind is its source: container, node or host.
        {'kind': l.source, 'a': coalesce(l.service, l.container, ''), 'b': 'refused'} AS src,
        l.line, l.line_no, l.ts, l.age
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE l.node IS NOT NULL
      AND ((contains(l.line, ' is not allowed to modify node') AND regexp_matches(l.line, 'node \\?"[^"\\]*[A-Z][^"\\]*\\?" is not allowed to modify node'))
           OR (contains(l.line, 'is forbidden: User ') AND regexp_matches(l.line, 'is forbidden: User \\?"system:node:[^"\\]*[A-Z]'))
           OR (contains(l.line, 'a lowercase RFC 1123 subdomain') AND regexp_matches(l.line, 'Invalid value: \\?"[^"\\]*[A-Z]')))
),
refused AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT src ORDER BY src) AS srcs,
        list(line ORDER BY ts DESC NULLS LAST, line_no DESC)[1:2] AS lines
    FROM refusals GROUP BY cluster, node
),
per_name AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id,
        list(DISTINCT what ORDER BY what) FILTER (WHERE what.a IS NOT NULL) AS whats,
        list(DISTINCT line ORDER BY line) AS lines
    FROM names GROUP BY cluster, node
),
per_id AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id,
        list(DISTINCT what ORDER BY what) FILTER (WHERE what.a IS NOT NULL) AS whats,
        list(DISTINCT line ORDER BY line) AS lines
    FROM identities GROUP BY cluster, node
),
keys AS (
    SELECT cluster, node FROM per_name UNION SELECT cluster, node FROM per_id UNION SELECT cluster, node FROM refused
),
-- The Node objects named like the nodes found (in any cluster), lower-cased once.
named AS (
    SELECT bundle_id, lower(name) AS lname, any_value(ready) AS ready FROM nodes
    WHERE lower(name) IN (SELECT lower(node) FROM keys) GROUP BY ALL
),
j AS (
    SELECT k.node, coalesce(r.bundle_id, i.bundle_id, p.bundle_id) AS bundle_id,
        p.whats AS name_whats, p.lines AS name_lines,
        i.whats AS id_whats, i.lines AS id_lines,
        r.n, r.recent_n, r.first_seen, r.last_seen, r.srcs, r.lines AS refused_lines,
        -- The Node object in the node's own cluster: Ready or not.
        nr.ready AS node_ready,
        -- A node bundle that no Node object of the collected clusters matches: never registered.
        (hu.node IS NOT NULL
         AND EXISTS (SELECT 1 FROM bundles b WHERE b.kind = 'cluster')
         AND NOT coalesce(lower(k.node) IN (SELECT lname FROM named), false)) AS unregistered
    FROM keys k
    LEFT JOIN per_name p ON p.cluster = k.cluster AND p.node = k.node
    LEFT JOIN per_id i ON i.cluster = k.cluster AND i.node = k.node
    LEFT JOIN refused r ON r.cluster = k.cluster AND r.node = k.node
    LEFT JOIN named nr ON nr.bundle_id = k.cluster AND nr.lname = lower(k.node)
    LEFT JOIN (SELECT DISTINCT cluster, node FROM hn WHERE cluster_bundle_id IS NULL) hu ON hu.cluster = k.cluster AND hu.node = k.node
)
SELECT 'node/' || node AS resource, node, node AS name, bundle_id,
    list_sort(list_distinct(list_concat(coalesce(name_whats, []), coalesce(id_whats, []),
        CASE WHEN n > 0 THEN srcs ELSE [] END))) AS seen,
    coalesce(n, 0) AS refused, unregistered, node_ready, id_whats IS NOT NULL AS credentials,
    list_concat(coalesce(refused_lines, []), coalesce(id_lines, []), coalesce(name_lines, []))[1:6] AS evidence,
    -- Refused now and the node missing or NotReady: the outage is proven from objects.
    CASE WHEN n > 0 AND (unregistered OR node_ready = false) THEN 'high'
         WHEN n > 0 THEN 'medium'
         WHEN id_whats IS NOT NULL THEN CASE WHEN node_ready THEN 'low' ELSE 'medium' END
         ELSE 'info' END AS severity,
    first_seen, last_seen,
    -- Refusals alone are judged by their time; credentials are read now.
    CASE WHEN n > 0 AND id_whats IS NULL THEN recent_n END AS recent_count,
    n AS count
FROM j
ORDER BY node
