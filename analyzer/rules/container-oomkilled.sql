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
Kubernetes keeps the last termination in `lastState` until the container terminates again, so
a kill from weeks ago stays visible on a container that has run fine since: such a kill (older
than 24 hours) is reported as info, a recent one that repeats or keeps the container down as high.
A kill on a pod of a Job that has completed since (a retry succeeded) is info too.
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
或排查内存增长原因。Kubernetes 会在 `lastState` 中保留上一次终止记录，直到容器再次终止，因此数周前的
OOM 记录会一直显示在此后运行正常的容器上：超过 24 小时的旧记录报告为 info，近期反复发生或导致容器停止的报告为 high。
所属 Job 此后已完成（重试成功）的 Pod 上的 OOM 记录同样报告为 info。
对于 Helm 安装/升级 Job（kpanda helm operation Pod），按 FAQ 处理：
在全局服务集群中修改对应集群的 `<集群名>-setting` ConfigMap（`helm_operation_job_template_resources`），
将 Job 内存限制调到不低于 400Mi，然后重新安装应用。
```
kubectl -n <ns> describe pod <pod>   # Last State: Terminated, Reason: OOMKilled
kubectl -n <ns> set resources deploy/<name> --limits=memory=512Mi
```
"""
[message]
en = """\
{% if kind == 'container' %}\
  container {{ container_name }} was OOMKilled{% if current %} (current state){% else %} (last termination){% endif %}\
  {% if memory_limit is not none %}, memory limit {{ memory_limit }}{% else %}, no memory limit{% endif %}\
  , restarts {{ restart_count }}\
  {% if minutes_ago is not none %}, {{ minutes_ago | age }} before collection{% endif %}\
  {% if helm_job and helm_limit_low %}; Helm operation Job with a limit below {{ helm_job_min_memory_mib }}Mi\
  {% elif helm_job %}; Helm operation Job{% endif %}\
  {% if not recent and state == 'running' %}; an old kill kept in the container status, the container has run since\
  {% elif not recent %}; an old kill, not a current problem\
  {% elif job_done %}; its Job {{ job }} has completed since (a retry succeeded), not a current problem\
  {% elif recovered and init %}; once, the init container completed on its retry: not a current problem\
  {% elif recovered %}; once, the container has run Ready for {{ running_minutes | age }} since: not a current problem\
  {% elif once %}; once, the container runs again{% endif %}\
{% else %}\
  cluster setting {{ name }} gives Helm operation Jobs a memory limit of {{ memory_limit }}, \
below {{ helm_job_min_memory_mib }}Mi: Helm installs can be OOMKilled\
  {% if helm_oom_seen %} (Helm operation pods were OOMKilled in this case){% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'container' %}\
  容器 {{ container_name }} 被 OOMKilled{% if current %}（当前状态）{% else %}（上次终止）{% endif %}\
  {% if memory_limit is not none %}，内存限制 {{ memory_limit }}{% else %}，未设置内存限制{% endif %}\
  ，已重启 {{ restart_count }} 次\
  {% if minutes_ago is not none %}，发生于采集前 {{ minutes_ago | age }}{% endif %}\
  {% if helm_job and helm_limit_low %}；Helm operation Job 的内存限制低于 {{ helm_job_min_memory_mib }}Mi\
  {% elif helm_job %}；Helm operation Job{% endif %}\
  {% if not recent and state == 'running' %}；这是保留在容器状态中的旧记录，此后容器一直在运行\
  {% elif not recent %}；这是旧的记录，不是当前的问题\
  {% elif job_done %}；其所属 Job {{ job }} 此后已完成（重试成功），不是当前的问题\
  {% elif recovered and init %}；仅发生一次，该 init 容器重试后已成功完成：不是当前的问题\
  {% elif recovered %}；仅发生一次，此后容器已正常运行（Ready）{{ running_minutes | age }}：不是当前的问题\
  {% elif once %}；仅发生一次，容器已恢复运行{% endif %}\
{% else %}\
  集群设置 {{ name }} 为 Helm operation Job 设置的内存限制为 {{ memory_limit }}，\
低于 {{ helm_job_min_memory_mib }}Mi：Helm 安装可能被 OOMKilled\
  {% if helm_oom_seen %}（本例中已有 Helm operation Pod 被 OOMKilled）{% endif %}\
{% endif %}"""
[thresholds]
helm_job_min_memory_mib = 400
# An OOM kill counts as current when it ended at most this many hours before collection; an
# older one (kept in lastState until the container restarts again) is reported as info.
recent_hours = 24
# Restarts at or above this, with a recent OOM kill, mean the container keeps being killed.
repeated_restarts = 2
# A container killed once (fewer restarts than repeated_restarts) that has run Ready for at
# least this long since, or an init container that completed on its retry, has recovered.
stable_minutes = 60
--- */
WITH oom AS (
    SELECT c.*, b.collected_at,
        (c.pod LIKE '%helm-operation%' OR c.pod LIKE '%helm%install%' OR c.pod LIKE '%helm%upgrade%'
         OR c.image LIKE '%/kpanda-shell:%' OR c.image LIKE '%/kpanda-shell@%') AS helm_job,
        -- When the OOM kill happened: the current termination, or the last one kept in lastState.
        CASE WHEN c.state_reason = 'OOMKilled' THEN k8s_ts(c.status->>'$.state.terminated.finishedAt')
             ELSE c.last_finished_at END AS oom_at,
        -- The pod's Job has completed since (another pod or a restart finished the work): the
        -- kill is kept on a pod of a finished Job, the workload no longer suffers from it.
        CASE WHEN p.owner_kind = 'Job' THEN p.owner_name END AS job,
        coalesce(p.owner_kind = 'Job' AND EXISTS (
            SELECT 1 FROM object_conditions j
            WHERE j.bundle_id = c.bundle_id AND j.api_group = 'batch' AND j.resource = 'jobs'
              AND j.namespace = c.namespace AND j.name = p.owner_name
              AND j.type = 'Complete' AND j.status = 'True'), false) AS job_done
    FROM containers c JOIN bundles b ON b.bundle_id = c.bundle_id
    LEFT JOIN pods p ON p.bundle_id = c.bundle_id AND p.namespace = c.namespace AND p.name = c.pod
    -- Picked by row id: the scan then reads the other columns of these rows only, not of every
    -- container (an OR is no filter the scan can apply itself).
    WHERE c.rowid IN (SELECT rowid FROM containers WHERE state_reason = 'OOMKilled' OR last_reason = 'OOMKilled')
),
judged AS (
    SELECT o.*,
        (epoch(o.collected_at) - epoch(o.oom_at)) / 60 AS minutes_ago,
        -- Unknown time is not old: judged as before.
        coalesce((epoch(o.collected_at) - epoch(o.oom_at)) / 3600 <= ${recent_hours}, true) AS recent,
        -- Not running now because of it: still terminated, or waiting to restart after it.
        (o.state_reason = 'OOMKilled' OR (o.state = 'waiting' AND o.last_reason = 'OOMKilled')) AS down,
        o.restart_count >= ${repeated_restarts} AS repeated,
        -- Killed once in lastState, and fine since: running Ready for stable_minutes, or an init
        -- container that completed on its retry.
        coalesce(o.state_reason IS DISTINCT FROM 'OOMKilled' AND o.last_reason = 'OOMKilled'
                 AND o.restart_count < ${repeated_restarts} AND NOT o.helm_job
                 AND ((o.state = 'running' AND o.ready
                       AND (epoch(o.collected_at) - epoch(o.started_at)) / 60 >= ${stable_minutes})
                      OR (o.container_type = 'init' AND o.state_reason = 'Completed' AND o.exit_code = 0)), false) AS recovered
    FROM oom o
),
worded AS (
    SELECT j.* FROM judged j
),
-- DCE cluster settings (kpanda-system/<cluster>-setting): the resources given to Helm operation Jobs.
settings AS (
    SELECT bundle_id, namespace, name,
        json_extract_string(cs, '$.addon_setting.helm_operation_job_template_resources.limits.memory') AS memory_limit,
        json_extract_string(cs, '$.addon_setting.helm_operation_base_image') AS base_image
    FROM (SELECT bundle_id, namespace, name,
              CASE WHEN json_valid(doc->>'$.data.clusterSetting') THEN (doc->>'$.data.clusterSetting') END AS cs
          FROM objects
          WHERE api_group = '' AND resource = 'configmaps' AND namespace = 'kpanda-system')
    WHERE cs IS NOT NULL
)
SELECT
    'pod/' || namespace || '/' || pod AS resource,
    namespace, pod AS name, node, name AS container, bundle_id,
    'container' AS kind, name AS container_name, state_reason = 'OOMKilled' AS current, memory_limit, restart_count, minutes_ago,
    helm_job, coalesce(memory_limit_bytes < ${helm_job_min_memory_mib} * 1048576, false) AS helm_limit_low,
    recent, state, coalesce(NOT down AND NOT repeated AND NOT helm_job, false) AS once, NULL::BOOLEAN AS helm_oom_seen,
    recovered, container_type = 'init' AS init,
    CAST(round((epoch(collected_at) - epoch(started_at)) / 60) AS BIGINT) AS running_minutes,
    job, job_done,
    list_concat(
        ['state: ' || coalesce(state_reason, state, '?') || coalesce(' exit ' || exit_code, ''),
         'lastState: ' || coalesce(last_reason, '-') || coalesce(' exit ' || last_exit_code, ''),
         'image: ' || image],
        CASE WHEN oom_at IS NOT NULL THEN ['OOMKilled finishedAt: ' || strftime(oom_at, '%Y-%m-%dT%H:%M:%SZ')] ELSE [] END) AS evidence,
    CASE WHEN NOT recent OR job_done OR recovered THEN 'info'
         WHEN down OR repeated OR helm_job THEN 'high'
         ELSE 'medium' END AS severity
FROM worded
UNION ALL
SELECT
    'configmap/' || s.namespace || '/' || s.name,
    s.namespace, s.name, NULL, NULL, s.bundle_id,
    'setting', NULL, NULL, s.memory_limit, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    EXISTS (SELECT 1 FROM judged o WHERE o.helm_job AND o.recent AND NOT o.job_done), NULL, NULL, NULL, NULL, NULL,
    list_concat(['clusterSetting.addon_setting.helm_operation_job_template_resources.limits.memory: ' || s.memory_limit],
        CASE WHEN s.base_image IS NOT NULL THEN ['helm_operation_base_image: ' || s.base_image] ELSE [] END),
    CASE WHEN EXISTS (SELECT 1 FROM judged o WHERE o.helm_job AND o.recent AND NOT o.job_done) THEN 'high' ELSE 'medium' END
FROM settings s
WHERE s.memory_limit IS NOT NULL AND k8s_quantity(s.memory_limit) < ${helm_job_min_memory_mib} * 1048576
ORDER BY 1
