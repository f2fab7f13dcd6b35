/* ---
id = "container-oomkilled"
severity = "high"
faq = ["DCE-01"]
category = "workloads"
patterns = ["OOMKilled", "Memory cgroup out of memory", "exit code 137", "helm_operation_job_template_resources"]
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
WITH oom AS (
    SELECT c.*,
        (c.pod LIKE '%helm-operation%' OR c.pod LIKE '%helm%install%' OR c.pod LIKE '%helm%upgrade%'
         OR c.image LIKE '%/kpanda-shell:%' OR c.image LIKE '%/kpanda-shell@%') AS helm_job
    FROM containers c
    WHERE c.state_reason = 'OOMKilled' OR c.last_reason = 'OOMKilled'
),
-- DCE cluster settings (kpanda-system/<cluster>-setting): the resources given to Helm operation Jobs.
settings AS (
    SELECT bundle_id, namespace, name,
        json_extract_string(cs, '$.addon_setting.helm_operation_job_template_resources.limits.memory') AS memory_limit,
        json_extract_string(cs, '$.addon_setting.helm_operation_base_image') AS base_image
    FROM (SELECT bundle_id, namespace, name,
              CASE WHEN json_valid(doc->>'$.data.clusterSetting') THEN doc->>'$.data.clusterSetting' END AS cs
          FROM objects
          WHERE api_group = '' AND resource = 'configmaps' AND namespace = 'kpanda-system')
    WHERE cs IS NOT NULL
)
SELECT
    'pod/' || namespace || '/' || pod AS resource,
    namespace, pod AS name, node, name AS container, bundle_id,
    'container ' || name || ' was OOMKilled'
        || CASE WHEN state_reason = 'OOMKilled' THEN ' (current state)' ELSE ' (last termination)' END
        || coalesce(', memory limit ' || memory_limit, ', no memory limit')
        || ', restarts ' || restart_count
        || CASE WHEN helm_job AND coalesce(memory_limit_bytes < ${helm_job_min_memory_mib} * 1048576, false)
                THEN '; Helm operation Job with a limit below ${helm_job_min_memory_mib}Mi'
                WHEN helm_job THEN '; Helm operation Job' ELSE '' END AS message,
    '容器 ' || name || ' 被 OOMKilled'
        || CASE WHEN state_reason = 'OOMKilled' THEN '（当前状态）' ELSE '（上次终止）' END
        || coalesce('，内存限制 ' || memory_limit, '，未设置内存限制')
        || '，已重启 ' || restart_count || ' 次'
        || CASE WHEN helm_job AND coalesce(memory_limit_bytes < ${helm_job_min_memory_mib} * 1048576, false)
                THEN '；Helm operation Job 的内存限制低于 ${helm_job_min_memory_mib}Mi'
                WHEN helm_job THEN '；Helm operation Job' ELSE '' END AS message_zh,
    ['state: ' || coalesce(state_reason, state, '?') || coalesce(' exit ' || exit_code, ''),
     'lastState: ' || coalesce(last_reason, '-') || coalesce(' exit ' || last_exit_code, ''),
     'image: ' || image] AS evidence,
    NULL::VARCHAR AS severity
FROM oom
UNION ALL
SELECT
    'configmap/' || s.namespace || '/' || s.name,
    s.namespace, s.name, NULL, NULL, s.bundle_id,
    'cluster setting ' || s.name || ' gives Helm operation Jobs a memory limit of ' || s.memory_limit
        || ', below ${helm_job_min_memory_mib}Mi: Helm installs can be OOMKilled'
        || CASE WHEN EXISTS (SELECT 1 FROM oom o WHERE o.helm_job)
                THEN ' (Helm operation pods were OOMKilled in this case)' ELSE '' END,
    '集群设置 ' || s.name || ' 为 Helm operation Job 设置的内存限制为 ' || s.memory_limit
        || '，低于 ${helm_job_min_memory_mib}Mi：Helm 安装可能被 OOMKilled'
        || CASE WHEN EXISTS (SELECT 1 FROM oom o WHERE o.helm_job)
                THEN '（本例中已有 Helm operation Pod 被 OOMKilled）' ELSE '' END,
    list_concat(['clusterSetting.addon_setting.helm_operation_job_template_resources.limits.memory: ' || s.memory_limit],
        CASE WHEN s.base_image IS NOT NULL THEN ['helm_operation_base_image: ' || s.base_image] ELSE [] END),
    CASE WHEN EXISTS (SELECT 1 FROM oom o WHERE o.helm_job) THEN 'high' ELSE 'medium' END
FROM settings s
WHERE s.memory_limit IS NOT NULL AND k8s_quantity(s.memory_limit) < ${helm_job_min_memory_mib} * 1048576
ORDER BY 1
