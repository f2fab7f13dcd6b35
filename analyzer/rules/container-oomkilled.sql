/* ---
id = "container-oomkilled"
severity = "high"
faq = ["DCE-01"]
category = "workloads"
patterns = ["OOMKilled", "Memory cgroup out of memory", "exit code 137"]
[title]
en = "Containers killed for exceeding their memory limit (OOMKilled)"
zh = "容器因超出内存限制被终止 (OOMKilled)"
[remediation]
en = """
The kernel killed the container because it used more memory than its limit. Raise
`resources.limits.memory` of the workload (and the request with it) or find what grows.
For Helm install/upgrade Jobs (kpanda/helm operation pods), the FAQ fix is to give the Job at
least 400Mi: edit the cluster's `<cluster>-setting` ConfigMap in the global service cluster
(`helm_operation_job_template_resources`) and retry the installation.
```
kubectl -n <ns> describe pod <pod>   # Last State: Terminated, Reason: OOMKilled
kubectl -n <ns> set resources deploy/<name> --limits=memory=512Mi
```
"""
zh = """
容器内存使用超出限制，被内核终止。调大工作负载的 `resources.limits.memory`（同时调整 request），
或排查内存增长原因。对于 Helm 安装/升级 Job（kpanda helm operation Pod），按 FAQ 处理：
在全局服务集群中修改对应集群的 `<集群名>-setting` ConfigMap（`helm_operation_job_template_resources`），
将 Job 内存限制调到不低于 400Mi，然后重新安装应用。
```
kubectl -n <ns> describe pod <pod>   # Last State: Terminated, Reason: OOMKilled
kubectl -n <ns> set resources deploy/<name> --limits=memory=512Mi
```
"""
[thresholds]
helm_job_min_memory_mib = 400
--- */
SELECT
    'pod/' || namespace || '/' || pod AS resource,
    namespace, pod AS name, node, name AS container, bundle_id,
    'container ' || name || ' was OOMKilled'
        || CASE WHEN state_reason = 'OOMKilled' THEN ' (current state)' ELSE ' (last termination)' END
        || coalesce(', memory limit ' || memory_limit, ', no memory limit')
        || ', restarts ' || restart_count
        || CASE WHEN (pod LIKE 'helm-operation%' OR pod LIKE '%helm%install%' OR pod LIKE '%helm%upgrade%')
                 AND memory_limit_bytes < ${helm_job_min_memory_mib} * 1048576
            THEN '; Helm operation Job with a limit below ${helm_job_min_memory_mib}Mi' ELSE '' END AS message,
    ['state: ' || coalesce(state_reason, state, '?') || coalesce(' exit ' || exit_code, ''),
     'lastState: ' || coalesce(last_reason, '-') || coalesce(' exit ' || last_exit_code, ''),
     'image: ' || image] AS evidence
FROM containers
WHERE state_reason = 'OOMKilled' OR last_reason = 'OOMKilled'
ORDER BY namespace, pod, name
