/* ---
id = "kube-system-pods-crashing"
severity = "high"
faq = ["KADM-05"]
category = "control-plane"
patterns = ["RunContainerError", "CrashLoopBackOff", "Back-off restarting failed container"]
# Findings rest on the containers' current state; the log tail is evidence only.
recent = "1h"
[title]
en = "kube-system pods in RunContainerError, CrashLoopBackOff or Error"
zh = "kube-system 中的 Pod 处于 RunContainerError、CrashLoopBackOff 或 Error 状态"
[remediation]
en = """
After `kubeadm init` no pod should be in `RunContainerError`, `CrashLoopBackOff` or `Error`;
`coredns` (or `kube-dns`) stays `Pending` only until a pod network add-on is installed. If
pods crash after `kubeadm init` itself, it is a kubeadm issue: report it at
https://github.com/kubernetes/kubeadm/issues. If they crash after installing the network add-on
while `coredns` is still `Pending`, the network add-on is most likely not working: it may need
more RBAC privileges or a newer version; raise it with the network provider (its pods may run in
`kube-flannel` or `calico-system` rather than `kube-system`: use that namespace below). A pod that has
ended (`Failed` after an eviction or a node shutdown) is never restarted and is reported as info;
delete it once its controller runs a replacement. Read the container's previous log first:
```
kubectl -n kube-system get pods -o wide
kubectl -n kube-system describe pod <pod>
kubectl -n kube-system logs <pod> -c <container> --previous
```
"""
zh = """
`kubeadm init` 完成后，不应有 Pod 处于 `RunContainerError`、`CrashLoopBackOff` 或 `Error` 状态；
`coredns`（或 `kube-dns`）在部署网络插件之前处于 `Pending` 是正常的。若 `kubeadm init` 之后就有 Pod 处于这些状态，
请在 https://github.com/kubernetes/kubeadm/issues 提交 issue。若部署网络插件之后 Pod 出现这些状态且 `coredns` 仍为 `Pending`，
很可能是网络插件无法工作：可能需要授予它更多 RBAC 权限或使用较新版本，请向网络插件提供方提交问题
（其 Pod 可能位于 `kube-flannel` 或 `calico-system` 而非 `kube-system`：下面的命令请使用该命名空间）。已结束的 Pod
（驱逐或节点关机后处于 `Failed`）不会再重启，报告为 info；其控制器已运行替代 Pod 后可将其删除。先查看容器上一次的日志：
```
kubectl -n kube-system get pods -o wide
kubectl -n kube-system describe pod <pod>
kubectl -n kube-system logs <pod> -c <container> --previous
```
"""
[message]
en = """\
container {{ container }} is {{ state_reason }} (restarts {{ restart_count }}\
{% if last_exit_code is not none %}, last exit {{ last_reason }} code {{ last_exit_code }}\
{% elif exit_code is not none %}, exit code {{ exit_code }}{% endif %})\
{% if ended %}; the pod has ended ({{ phase }}{% if pod_reason is not none %}: {{ pod_reason }}{% endif %}), \
a leftover that is never restarted\
{% elif silent_minutes is not none %}; its node's kubelet stopped posting status {{ silent_minutes | age }} \
before collection: this status is the last one it wrote, frozen since\
{% elif state_reason == 'Error' %}; it is about to be restarted{% endif %}\
{% if dns_pending > 0 and not ended and silent_minutes is none %}; {{ dns_pending }} coredns/kube-dns pod(s) still Pending: \
the pod network add-on is probably not working{% endif %}"""
zh = """\
容器 {{ container }} 处于 {{ state_reason }} 状态（已重启 {{ restart_count }} 次\
{% if last_exit_code is not none %}，上次退出：{% if last_reason is not none %}{{ last_reason }}，{% endif %}退出码 {{ last_exit_code }}\
{% elif exit_code is not none %}，退出码 {{ exit_code }}{% endif %}）\
{% if ended %}；该 Pod 已结束（{{ phase }}{% if pod_reason is not none %}：{{ pod_reason }}{% endif %}），是不会再重启的残留\
{% elif silent_minutes is not none %}；其节点的 kubelet 在采集前 {{ silent_minutes | age }}已停止上报状态：\
这是它最后写下的状态，此后未再更新\
{% elif state_reason == 'Error' %}；即将被重启{% endif %}\
{% if dns_pending > 0 and not ended and silent_minutes is none %}；{{ dns_pending }} 个 coredns/kube-dns Pod 仍处于 Pending：Pod 网络插件很可能未正常工作{% endif %}"""
[thresholds]
log_tail_lines = 5
# A node whose kubelet has not posted status for this long (Ready Unknown): its pods' container
# statuses are frozen at what the kubelet last wrote.
node_silent_minutes = 60
--- */
WITH bad AS (
    SELECT c.bundle_id, c.namespace, c.pod, c.node, c.name AS container, c.restart_count, c.image,
        c.state_reason, c.state_message, c.exit_code, c.last_reason, c.last_exit_code, c.last_message, p.owner_kind,
        p.phase, p.reason AS pod_reason, p.message AS pod_message,
        -- A pod that ended (Failed/Succeeded: evicted, shut down with its node) is never restarted:
        -- its controller has made another one. What it shows is history.
        coalesce(p.phase IN ('Failed', 'Succeeded'), false) AS ended
    FROM containers c
    JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    -- kube-system, and the namespaces the official flannel and Calico (operator) manifests
    -- install the pod network add-on into: the FAQ's add-on that is not working.
    WHERE c.namespace IN ('kube-system', 'kube-flannel', 'calico-system') AND p.deleted_at IS NULL
      -- An ephemeral (kubectl debug) container is never restarted: its exit is the debug session's.
      AND coalesce(c.container_type, '') <> 'ephemeral'
      AND (c.state_reason IN ('CrashLoopBackOff', 'RunContainerError')
           OR (c.state = 'terminated' AND c.state_reason = 'Error' AND coalesce(p.owner_kind, '') <> 'Job'))
),
lg AS (
    SELECT bundle_id, namespace, pod, container, previous, line_no, line,
        max(line_no) OVER (PARTITION BY bundle_id, namespace, pod, container, previous) AS last_no,
        bool_or(previous) OVER (PARTITION BY bundle_id, namespace, pod, container) AS has_prev
    FROM log_lines
    WHERE source = 'container'
      AND EXISTS (SELECT 1 FROM bad x WHERE x.bundle_id = log_lines.bundle_id AND x.namespace = log_lines.namespace
                  AND x.pod = log_lines.pod AND x.container = log_lines.container)
),
tail AS (
    SELECT bundle_id, namespace, pod, container, any_value(previous) AS previous, list(line ORDER BY line_no) AS lines
    FROM lg WHERE previous = has_prev AND line_no > last_no - ${log_tail_lines}
    GROUP BY ALL
),
-- Nodes whose kubelet stopped posting status (Ready Unknown, last heartbeat long before the
-- collection): DaemonSet and static pods there tolerate the unreachable taint and keep the last
-- container status the kubelet wrote. That status is history; the node is the problem.
silent_nodes AS (
    SELECT c.bundle_id, c.node,
        CAST(round(days_between(c.last_heartbeat, b.collected_at) * 1440) AS BIGINT) AS silent_minutes
    FROM node_conditions c
    JOIN bundles b ON b.bundle_id = c.bundle_id
    WHERE c.type = 'Ready' AND c.status = 'Unknown'
      AND days_between(c.last_heartbeat, b.collected_at) * 1440 >= ${node_silent_minutes}
),
dns_pending AS (
    SELECT bundle_id, count(*) AS n FROM pods
    WHERE namespace = 'kube-system' AND phase = 'Pending'
      AND (name LIKE 'coredns-%' OR name LIKE 'kube-dns-%' OR json_extract_string(labels, '$."k8s-app"') = 'kube-dns')
    GROUP BY bundle_id
)
SELECT
    'pod/' || b.namespace || '/' || b.pod AS resource,
    b.namespace, b.pod AS name, b.node, b.container, b.bundle_id,
    b.state_reason, b.restart_count, b.last_reason, b.last_exit_code, b.exit_code, b.ended, b.phase,
    nullif(b.pod_reason, '') AS pod_reason, coalesce(d.n, 0) AS dns_pending, sn.silent_minutes,
    list_concat(
        ['state: ' || b.state_reason || coalesce(': ' || nullif(b.state_message, ''), '')],
        CASE WHEN b.last_message IS NOT NULL AND b.last_message <> '' THEN ['last termination: ' || b.last_message] ELSE [] END,
        CASE WHEN b.ended AND b.pod_message IS NOT NULL THEN ['pod: ' || b.pod_message] ELSE [] END,
        CASE WHEN t.lines IS NOT NULL THEN list_transform(t.lines, lambda l: CASE WHEN t.previous THEN '[previous] ' ELSE '' END || l) ELSE [] END) AS evidence,
    -- Crash loops and containers that cannot start are current; a container caught between an
    -- error and its restart is likely one; an ended pod is history.
    CASE WHEN b.ended OR sn.silent_minutes IS NOT NULL THEN 'info'
         WHEN b.state_reason = 'Error' THEN 'medium'
         ELSE 'high' END AS severity
FROM bad b
LEFT JOIN tail t ON t.bundle_id = b.bundle_id AND t.namespace = b.namespace AND t.pod = b.pod AND t.container = b.container
LEFT JOIN dns_pending d ON d.bundle_id = b.bundle_id
LEFT JOIN silent_nodes sn ON sn.bundle_id = b.bundle_id AND sn.node = b.node
ORDER BY b.namespace, b.pod, b.container
