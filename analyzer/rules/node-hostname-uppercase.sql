/* ---
id = "node-hostname-uppercase"
severity = "medium"
faq = ["CRN-10"]
category = "nodes"
patterns = [
  "is not allowed to modify node",
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
]
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
--- */
WITH signals AS (
    SELECT bundle_id, node, 'host name ' || hostname AS what, '主机名 ' || hostname AS what_zh, 'hostname: ' || hostname AS line, false AS failing
    FROM host_facts WHERE regexp_matches(hostname, '[A-Z]')
    UNION ALL
    SELECT bundle_id, node, 'file /etc/hostname', '文件 /etc/hostname', '/etc/hostname: ' || trim(content, chr(10) || chr(13) || ' '), false
    FROM host_files WHERE path = '/etc/hostname' AND regexp_matches(content, '[A-Z]')
    UNION ALL
    SELECT bundle_id, node, 'kubelet hostnameOverride', 'kubelet hostnameOverride', 'hostnameOverride: ' || (config->>'$.hostnameOverride'), false
    FROM kubelet_configs WHERE regexp_matches(coalesce(config->>'$.hostnameOverride', ''), '[A-Z]')
    UNION ALL
    SELECT bundle_id, node, 'certificate ' || path, '证书 ' || path, 'subject: ' || subject, false
    FROM certificates WHERE regexp_matches(subject, 'system:node:[^,/]*[A-Z]')
    UNION ALL
    SELECT bundle_id, node, 'kubeconfig ' || path || ' user ' || name, 'kubeconfig ' || path || ' 用户 ' || name, 'user: ' || name, false
    FROM kubeconfig_users WHERE regexp_matches(name, '^system:node:.*[A-Z]')
    UNION ALL
    -- journal lines carry the host name: "Dec 21 13:01:03 BJ-M8-HADOOP-105-145 kubelet[353352]: ..."
    SELECT any_value(bundle_id), node, 'journal host name ' || any_value(regexp_extract(line, '^\w{3} +\d+ [\d:]+ (\S+) ', 1)),
        'journal 中的主机名 ' || any_value(regexp_extract(line, '^\w{3} +\d+ [\d:]+ (\S+) ', 1)),
        arg_min(line, line_no), false
    FROM log_lines
    WHERE node IS NOT NULL AND service IS NOT NULL
      AND regexp_matches(line, '^\w{3} +\d+ [\d:]+ \S*[A-Z]\S* (kubelet|containerd|dockerd|k3s|rke2)\[')
    GROUP BY node
    UNION ALL
    -- the registration failures themselves
    SELECT bundle_id, node, source || ' log ' || coalesce(service, container, '') || ' registration refused',
        source || ' 日志 ' || coalesce(service, container, '') || ' 注册被拒绝', line, true
    FROM log_lines
    WHERE node IS NOT NULL
      AND (regexp_matches(line, 'node \\?"[^"\\]*[A-Z][^"\\]*\\?" is not allowed to modify node')
           OR (contains(line, 'a lowercase RFC 1123 subdomain') AND regexp_matches(line, 'Invalid value: \\?"[^"\\]*[A-Z]')))
)
SELECT 'node/' || node AS resource, node, node AS name, any_value(bundle_id) AS bundle_id,
    'node ' || node || ' has an upper-case host name (' || array_to_string(list(DISTINCT what ORDER BY what), ', ') || ')'
        || CASE WHEN bool_or(failing) THEN '; the API server refused the kubelet''s registration' ELSE '' END AS message,
    '节点 ' || node || ' 的主机名包含大写字母（' || array_to_string(list(DISTINCT what_zh ORDER BY what_zh), '、') || '）'
        || CASE WHEN bool_or(failing) THEN '；API Server 拒绝了 kubelet 的注册' ELSE '' END AS message_zh,
    list(DISTINCT line ORDER BY line)[1:6] AS evidence,
    CASE WHEN bool_or(failing) THEN 'high' ELSE 'medium' END AS severity
FROM signals
GROUP BY node
ORDER BY node
