/* ---
id = "coredns-loop-or-selinux-crashloop"
severity = "high"
faq = ["KADM-13"]
category = "dns"
patterns = [
  "plugin/loop: Loop \\([^)]*\\) detected for zone",
  "plugin/loop: Forwarding loop detected in",
  "plugin/loop: Seen .* more than twice, loop detected",
  "\\[FATAL\\] plugin/loop",
  "coredns.io/plugins/loop#troubleshooting",
]
references = ["https://github.com/coredns/coredns/tree/master/plugin/loop#troubleshooting-loops-in-kubernetes-clusters"]
# CoreDNS exits at the loop it detects and is restarted at most every 5 minutes: a loop line
# older than an hour from a CoreDNS that runs now was fixed since.
recent = "1h"
[title]
en = "CoreDNS crash-looping: forwarding loop to a local resolver, or old Docker with SELinux"
zh = "CoreDNS 反复崩溃：转发到本地解析器形成环路，或旧版 Docker 与 SELinux"
[remediation]
en = """
**Loop.** CoreDNS forwards to the nameservers of the `resolv.conf` the kubelet gives it. When that
file lists a local stub such as `127.0.0.53` (systemd-resolved) or `127.0.0.1` (dnsmasq), CoreDNS
forwards to itself, logs `[FATAL] plugin/loop: Loop (127.0.0.1:xxxxx -> :53) detected for zone "."`
and exits, and Kubernetes keeps restarting it. Point the kubelet's `resolvConf` at a file with the
real upstream servers (`/run/systemd/resolve/resolv.conf` with systemd-resolved), or replace
`forward . /etc/resolv.conf` in the Corefile with upstream IPs, then restart CoreDNS. See
https://github.com/coredns/coredns/tree/master/plugin/loop#troubleshooting-loops-in-kubernetes-clusters

**SELinux.** On nodes with an old Docker and SELinux enabled, CoreDNS may fail to start. Upgrade
Docker, or disable SELinux, or set `allowPrivilegeEscalation` to `true` in the coredns Deployment:
```
kubectl -n kube-system get deployment coredns -o yaml | \\
  sed 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/g' | \\
  kubectl apply -f -
```
Warning: disabling SELinux or setting `allowPrivilegeEscalation` to `true` can weaken the cluster's security.
"""
zh = """
**环路。** CoreDNS 转发到 kubelet 提供给它的 `resolv.conf` 中的 nameserver。若该文件列出本地存根解析器，如 `127.0.0.53`
（systemd-resolved）或 `127.0.0.1`（dnsmasq），CoreDNS 会转发给自己，报
`[FATAL] plugin/loop: Loop (127.0.0.1:xxxxx -> :53) detected for zone "."` 并退出，Kubernetes 会不断重启它。
请将 kubelet 的 `resolvConf` 指向包含真实上游服务器的文件（使用 systemd-resolved 时为 `/run/systemd/resolve/resolv.conf`），
或将 Corefile 中的 `forward . /etc/resolv.conf` 改为上游 IP，然后重启 CoreDNS。参见
https://github.com/coredns/coredns/tree/master/plugin/loop#troubleshooting-loops-in-kubernetes-clusters

**SELinux。** 如果有些节点运行旧版本 Docker 且启用了 SELinux，`coredns` Pod 可能无法启动。可以升级 Docker、禁用 SELinux，
或修改 `coredns` Deployment，将 `allowPrivilegeEscalation` 设置为 `true`：
```
kubectl -n kube-system get deployment coredns -o yaml | \\
  sed 's/allowPrivilegeEscalation: false/allowPrivilegeEscalation: true/g' | \\
  kubectl apply -f -
```
警告：禁用 SELinux 或设置 `allowPrivilegeEscalation` 为 `true` 可能会损害集群的安全性。
"""
[message]
en = """\
{% if kind == 'loop' %}\
  CoreDNS detected a forwarding loop ({{ count }} "plugin/loop: Loop ... detected" lines)\
  {% if stub_node is not none %}; the kubelet on {{ stub_node }} gives pods {{ stub_path }} pointing at a local resolver: \
{{ local_lines | join(', ') }}{% endif %}\
  {% if runs_now %}; CoreDNS runs now{% endif %}\
{% elif kind == 'stub' %}\
  kubelet resolvConf {{ stub_path }} on node {{ stub_node }} lists a local nameserver ({{ local_lines | join(', ') }}): \
CoreDNS pods there forward to themselves and exit with "Loop ... detected"\
  {% if coredns_pods is not none %}; coredns pods on this node: \
{% for p in coredns_pods %}{{ p.name }}{% if p.failing %} (failing){% else %} (running){% endif %}{% if not loop.last %}, {% endif %}{% endfor %}\
  {% endif %}\
{% else %}\
  coredns container {{ ctr }} is {{ reason }} (restarts {{ restarts }}) on node {{ node }} running {{ crv }} with SELinux enforcing\
{% endif %}"""
zh = """\
{% if kind == 'loop' %}\
  CoreDNS 检测到转发环路（{{ count }} 行 "plugin/loop: Loop ... detected" 日志）\
  {% if stub_node is not none %}；节点 {{ stub_node }} 上的 kubelet 提供给 Pod 的 {{ stub_path }} 指向本地解析器：\
{{ local_lines | join(', ') }}{% endif %}\
  {% if runs_now %}；CoreDNS 目前正常运行{% endif %}\
{% elif kind == 'stub' %}\
  节点 {{ stub_node }} 上 kubelet 的 resolvConf {{ stub_path }} 列出了本地 nameserver（{{ local_lines | join(', ') }}）：\
该节点上的 CoreDNS Pod 会转发给自己，并以 "Loop ... detected" 退出\
  {% if coredns_pods is not none %}；该节点上的 coredns Pod：\
{% for p in coredns_pods %}{{ p.name }}{% if p.failing %}（失败）{% else %}（运行中）{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}\
  {% endif %}\
{% else %}\
  coredns 容器 {{ ctr }} 处于 {{ reason }} 状态（已重启 {{ restarts }} 次），所在节点 {{ node }} 运行 {{ crv }} 且 SELinux 为 enforcing\
{% endif %}"""
[thresholds]
# Docker releases older than this major version count as "old" for the SELinux issue.
old_docker_major = 17
--- */
WITH coredns_pods AS (
    SELECT p.bundle_id, p.namespace, p.name, p.node,
        coalesce(bool_or(c.state_reason IN ('CrashLoopBackOff', 'RunContainerError', 'CreateContainerError', 'Error')
                         OR coalesce(c.exit_code, 0) <> 0), false) AS failing_now
    FROM pods p
    LEFT JOIN containers c ON c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name AND c.container_type = 'regular'
    WHERE p.namespace = 'kube-system' AND p.deleted_at IS NULL
      AND (p.name LIKE 'coredns-%' OR (p.labels->>'$."k8s-app"') = 'kube-dns')
    GROUP BY ALL
),
loop_logs AS (
    SELECT bundle_id, namespace, pod, node, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT line)[1:2] AS lines
    FROM log_lines
    -- CoreDNS 1.3+: "Loop (…) detected for zone"; 1.2.4–1.2.6: "Forwarding loop detected in "." zone.
    -- Exiting."; 1.2.0–1.2.3: "Seen "HINFO IN …" more than twice, loop detected".
    WHERE source = 'container' AND contains(line, 'plugin/loop')
      AND (contains(line, 'detected for zone') OR contains(line, 'Forwarding loop detected in')
           OR (contains(line, 'more than twice') AND contains(line, 'loop detected')))
    GROUP BY ALL
),
-- Clusters whose Corefile forwards only to explicit servers: the node's file cannot loop.
explicit_upstream AS (
    SELECT DISTINCT bundle_id FROM objects
    WHERE api_group = '' AND resource = 'configmaps' AND namespace = 'kube-system'
      AND name IN ('coredns', 'rke2-coredns-rke2-coredns')
      AND (doc->>'$.data.Corefile') IS NOT NULL
      AND NOT contains(doc->>'$.data.Corefile', 'resolv.conf')
),
-- The resolv.conf the kubelet hands to dnsPolicy: Default pods (CoreDNS), per node bundle,
-- with the cluster it belongs to.
kubelet_resolv AS (
    SELECT h.bundle_id, h.cluster_bundle_id, h.node,
        coalesce(
            (SELECT max(config->>'$.resolvConf') FROM kubelet_configs k
              WHERE k.bundle_id = h.cluster_bundle_id AND k.node = h.node AND k.source = 'configz'),
            (SELECT max(regexp_extract(f.content, '--resolv-conf[= ]"?([^" \n]+)', 1)) FROM host_files f
              WHERE f.bundle_id = h.bundle_id AND contains(f.content, '--resolv-conf')
                AND (f.path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet') OR f.path LIKE '%/kubelet.service.d/%')),
            (SELECT max(config->>'$.resolvConf') FROM kubelet_configs k WHERE k.bundle_id = h.bundle_id AND k.source = 'file'),
            CASE WHEN EXISTS (SELECT 1 FROM kubelet_configs k WHERE k.bundle_id IN (h.bundle_id, h.cluster_bundle_id) AND k.node = h.node)
                 THEN '/etc/resolv.conf' END) AS path
    FROM host_nodes h
),
local_stub AS (
    SELECT r.bundle_id, r.cluster_bundle_id, r.node, r.path,
        list(trim(l.line) ORDER BY l.line_no) FILTER (WHERE regexp_matches(l.line, '^\s*nameserver\s+(127\.|::1\s*$|0\.0\.0\.0)')) AS local_lines
    FROM kubelet_resolv r
    JOIN host_file_lines l ON l.bundle_id = r.bundle_id AND l.path = r.path
    WHERE coalesce(r.cluster_bundle_id, '') NOT IN (SELECT bundle_id FROM explicit_upstream)
    GROUP BY ALL
    HAVING len(list(l.line) FILTER (WHERE regexp_matches(l.line, '^\s*nameserver\s+(127\.|::1\s*$|0\.0\.0\.0)'))) > 0
),
-- CoreDNS containers failing now (not a crash long ago that was followed by a good run).
crashing AS (
    SELECT c.bundle_id, c.namespace, c.pod, c.node, c.name AS container, c.restart_count,
        coalesce(c.state_reason, c.last_reason) AS reason, c.state_message AS msg, c.last_reason, c.last_message
    FROM containers c JOIN coredns_pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    WHERE c.state_reason IN ('CrashLoopBackOff', 'RunContainerError', 'CreateContainerError', 'Error')
      -- SELinux stops CoreDNS as it starts: a last instance that was OOM-killed, or that ran for
      -- more than a minute, crashes for another reason.
      AND coalesce(c.last_reason, '') <> 'OOMKilled'
      AND NOT coalesce(c.last_finished_at - c.last_started_at > INTERVAL 60 SECONDS, false)
),
-- What the crashing container said: SELinux shows as "permission denied" (bind, open). A log
-- or termination message that says something else is another crash (a Corefile error).
crash_said AS (
    SELECT l.bundle_id, l.namespace, l.pod, l.container,
        bool_or(contains(lower(l.line), 'permission denied')) AS denied
    FROM log_lines l JOIN crashing c ON c.bundle_id = l.bundle_id AND c.namespace = l.namespace
        AND c.pod = l.pod AND c.container = l.container
    WHERE l.source = 'container'
    GROUP BY ALL
),
selinux_old_docker AS (
    SELECT h.cluster_bundle_id AS bundle_id, hf.node, n.container_runtime_version AS crv
    FROM host_facts hf
    JOIN host_nodes h ON h.bundle_id = hf.bundle_id
    JOIN nodes n ON n.bundle_id = h.cluster_bundle_id AND n.name = h.node
    WHERE (hf.doc->>'$.extra.selinux_enforce') = '1'
      AND n.container_runtime_version LIKE 'docker://%'
      AND version_major(n.container_runtime_version) < ${old_docker_major}
)
-- CoreDNS logged the loop.
SELECT
    'pod/' || g.namespace || '/' || g.pod AS resource,
    g.namespace, g.pod AS name, g.node, g.bundle_id,
    'loop' AS kind, s.node AS stub_node, s.path AS stub_path, s.local_lines, NOT coalesce(p.failing_now, false) AS runs_now,
    NULL::STRUCT(name VARCHAR, failing BOOLEAN)[] AS coredns_pods, NULL AS ctr, NULL AS reason, NULL::BIGINT AS restarts, NULL AS crv,
    list_concat(g.lines, coalesce(s.local_lines, [])) AS evidence,
    -- Crash-looping now: proven. Otherwise the loop lines are judged by their age.
    CASE WHEN coalesce(p.failing_now, false) THEN 'high' ELSE 'medium' END AS severity,
    g.first_seen, g.last_seen,
    CASE WHEN NOT coalesce(p.failing_now, false) THEN g.recent_n END AS recent_count,
    g.n AS count
FROM loop_logs g
LEFT JOIN coredns_pods p ON p.bundle_id = g.bundle_id AND p.namespace = g.namespace AND p.name = g.pod
LEFT JOIN local_stub s ON s.cluster_bundle_id = g.bundle_id AND s.node = g.node
UNION ALL
-- The kubelet hands a local stub resolver to CoreDNS (dnsPolicy: Default): CoreDNS forwarding
-- to /etc/resolv.conf there forwards to itself.
SELECT 'node/' || s.node, NULL, NULL, s.node, s.bundle_id,
    'stub', s.node, s.path, s.local_lines, NULL,
    (SELECT list({'name': p.name, 'failing': p.failing_now}) FROM coredns_pods p WHERE p.bundle_id = s.cluster_bundle_id AND p.node = s.node),
    NULL, NULL, NULL, NULL,
    s.local_lines,
    -- CoreDNS failing on the node: high. CoreDNS running there despite the file: it does not
    -- read it (hostNetwork, another dnsPolicy): low. None there yet: medium.
    CASE WHEN EXISTS (SELECT 1 FROM coredns_pods p WHERE p.bundle_id = s.cluster_bundle_id AND p.node = s.node AND p.failing_now) THEN 'high'
         WHEN EXISTS (SELECT 1 FROM coredns_pods p WHERE p.bundle_id = s.cluster_bundle_id AND p.node = s.node) THEN 'low'
         ELSE 'medium' END,
    NULL, NULL, NULL, NULL
FROM local_stub s
WHERE NOT EXISTS (SELECT 1 FROM loop_logs g WHERE g.bundle_id = s.cluster_bundle_id AND g.node = s.node)
UNION ALL
-- Old Docker with SELinux enforcing.
SELECT 'pod/' || c.namespace || '/' || c.pod, c.namespace, c.pod, c.node, c.bundle_id,
    'selinux', NULL, NULL, NULL, NULL, NULL, c.container, c.reason, c.restart_count, d.crv,
    list_concat(['state: ' || c.reason || coalesce(': ' || nullif(c.msg, ''), '')],
        CASE WHEN c.last_message IS NOT NULL THEN ['last termination: ' || coalesce(c.last_reason, '') || ': ' || c.last_message] ELSE [] END),
    'high', NULL, NULL, NULL, NULL
FROM crashing c JOIN selinux_old_docker d ON d.bundle_id = c.bundle_id AND d.node = c.node
LEFT JOIN crash_said cs ON cs.bundle_id = c.bundle_id AND cs.namespace = c.namespace AND cs.pod = c.pod AND cs.container = c.container
-- "permission denied" in its log or last termination message; or nothing said at all.
WHERE (coalesce(cs.denied, false) OR contains(lower(coalesce(c.last_message, '')), 'permission denied')
       OR (cs.container IS NULL AND nullif(trim(coalesce(c.last_message, '')), '') IS NULL))
  AND NOT EXISTS (SELECT 1 FROM loop_logs g WHERE g.bundle_id = c.bundle_id AND g.namespace = c.namespace AND g.pod = c.pod)
ORDER BY 1
