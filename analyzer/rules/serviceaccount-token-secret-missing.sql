/* ---
id = "serviceaccount-token-secret-missing"
severity = "medium"
faq = ["KMD-05"]
category = "security"
# karmadactl join / the agent give up with this and exit: one current line is a failed registration.
recent = "6h"
patterns = [
  "MountVolume\\.SetUp failed for volume \"[^\"]*-token-[a-z0-9]{5}\" : secrets? \"[^\"]*-token-[a-z0-9]{5}\" not found",
  "failed to get serviceAccount secret (for impersonation )?from cluster",
  "LegacyServiceAccountTokenNoAutoGeneration",
]
[title]
en = "ServiceAccount token Secrets expected but not generated (Kubernetes 1.24+)"
zh = "依赖 ServiceAccount 自动生成的 token Secret，但 1.24+ 不再自动生成"
[message]
en = """\
{% if kind == 'mount' %}\
  mounts ServiceAccount token Secret {{ secret }}, which {% if stale == 'secret exists' %}did{% else %}does{% endif %} not exist ({{ seen }})\
  {% if phase is not none %}; pod is {{ phase }}{% endif %}\
  ; Kubernetes {{ server_version }} no longer generates token Secrets for ServiceAccounts\
  {% if stale == 'pod gone' %}; the pod is gone since (replaced or deleted): events only, not a current problem\
  {% elif stale == 'secret exists' %}; the Secret exists now: the next mount succeeds, not a current problem\
  {% elif stale == 'pod finished' %}; the pod has finished and mounts nothing any more: not a current problem{% endif %}\
{% elif kind == 'waiting' %}\
  {{ count }} log lines "failed to get serviceAccount secret": waiting for a ServiceAccount token Secret, \
which Kubernetes 1.24+ no longer generates\
{% else %}\
  ServiceAccount token Secret {{ secret }} (for {{ sa }}) has no token after {{ minutes }} minutes: \
the token controller is not populating it\
{% endif %}"""
zh = """\
{% if kind == 'mount' %}\
  挂载了{% if stale == 'secret exists' %}当时{% endif %}不存在的 ServiceAccount token Secret {{ secret }}（见于 \
{% if seen == 'pod spec and FailedMount events' %}Pod spec 和 FailedMount 事件{% elif seen == 'pod spec' %}Pod spec\
{% else %}FailedMount 事件{% endif %}）\
  {% if phase is not none %}；Pod 处于 {{ phase }} 状态{% endif %}\
  ；Kubernetes {{ server_version }} 不再为 ServiceAccount 自动生成 token Secret\
  {% if stale == 'pod gone' %}；该 Pod 此后已不存在（已被替换或删除）：仅剩事件，不是当前的问题\
  {% elif stale == 'secret exists' %}；该 Secret 现已存在：下次挂载即可成功，不是当前的问题\
  {% elif stale == 'pod finished' %}；该 Pod 已运行结束，不再挂载任何卷：不是当前的问题{% endif %}\
{% elif kind == 'waiting' %}\
  {{ count }} 行日志 "failed to get serviceAccount secret"：正在等待 ServiceAccount token Secret，\
而 Kubernetes 1.24+ 已不再自动生成此类 Secret\
{% else %}\
  ServiceAccount token Secret {{ secret }}（对应 ServiceAccount {{ sa }}）创建 {{ minutes }} 分钟后仍没有 token：\
token controller 未向其填充 token\
{% endif %}"""
[thresholds]
# First version that no longer generates ServiceAccount token Secrets (LegacyServiceAccountTokenNoAutoGeneration beta).
since_version = "1.24"
# A token Secret still without a token after this long was never populated.
unpopulated_minutes = 10
[remediation]
en = """
Since Kubernetes 1.24 (`LegacyServiceAccountTokenNoAutoGeneration`, KEP-2799) no token Secret
is generated for a ServiceAccount; pods get short-lived projected tokens instead
(`BoundServiceAccountTokenVolume`, GA in 1.22). Anything that mounts `<sa>-token-xxxxx` or
waits for `serviceaccount.secrets[0]` (tools written for older clusters, including the
Karmada control plane on such versions) waits forever. Either stop relying on the Secret
(use the projected token or `kubectl create token <sa>`), or create the token Secret by hand
(https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#manually-create-an-api-token-for-a-serviceaccount)
and let the token controller fill it:
```
kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: <sa>-token
  namespace: <ns>
  annotations:
    kubernetes.io/service-account.name: <sa>
type: kubernetes.io/service-account-token
YAML
kubectl -n <ns> get secret <sa>-token -o jsonpath='{.data.token}'
```
A manually created token Secret that stays without `token` means the token controller is not
running (kube-controller-manager `--controllers` without `serviceaccount-token`, or no
`--service-account-private-key-file`).
"""
zh = """
自 Kubernetes 1.24 起（`LegacyServiceAccountTokenNoAutoGeneration` 特性进入 Beta，KEP-2799），不再为 ServiceAccount
自动生成 token Secret；Pod 改用短期的投射 token（`BoundServiceAccountTokenVolume`，1.22 GA）。挂载 `<sa>-token-xxxxx`
或等待 `serviceaccount.secrets[0]` 的程序（为旧版本集群编写的工具，包括部署在此类版本上的 Karmada 控制面）会一直等待。
要么不再依赖该 Secret（使用投射 token 或 `kubectl create token <sa>`），要么参考
https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#manually-create-an-api-token-for-a-serviceaccount
手动为 ServiceAccount 创建 token Secret，由 token 控制器填充：
```
kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: <sa>-token
  namespace: <ns>
  annotations:
    kubernetes.io/service-account.name: <sa>
type: kubernetes.io/service-account-token
YAML
kubectl -n <ns> get secret <sa>-token -o jsonpath='{.data.token}'
```
手动创建的 token Secret 一直没有 `token` 字段，说明 token 控制器未运行（kube-controller-manager 的 `--controllers`
未包含 `serviceaccount-token`，或未配置 `--service-account-private-key-file`）。
"""
--- */
WITH versions AS (
    SELECT bundle_id, server_version,
        coalesce(version_num(server_version) >= version_num(${since_version}), true) AS no_autogen
    FROM bundles WHERE kind = 'cluster'
),
secrets AS (
    SELECT bundle_id, namespace, name, created_at, annotations, doc
    FROM objects WHERE api_group = '' AND resource = 'secrets'
),
-- Pods mounting a legacy token Secret (<sa>-token-xxxxx) that does not exist.
pod_refs AS (
    SELECT p.bundle_id, p.namespace, p.name, p.node, p.phase, p.service_account,
        (p.v->>'$.secret.secretName') AS secret
    FROM (SELECT bundle_id, namespace, name, node, phase, service_account,
              unnest(coalesce(from_json(volumes, '["JSON"]'), [])) AS v
          FROM pods WHERE contains(CAST(volumes AS VARCHAR), '-token-')) p
    WHERE regexp_matches(coalesce(p.v->>'$.secret.secretName', ''), '-token-[a-z0-9]{5}$')
      AND coalesce(p.v->>'$.secret.optional', 'false') <> 'true'
      AND EXISTS (SELECT 1 FROM secrets s WHERE s.bundle_id = p.bundle_id)
      AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.bundle_id = p.bundle_id AND s.namespace = p.namespace AND s.name = (p.v->>'$.secret.secretName'))
),
mount_events AS (
    SELECT bundle_id, object_namespace AS namespace, object_name AS name, any_value(source_host) AS node,
        regexp_extract(message, 'secrets? "([^"]+)" not found', 1) AS secret,
        list(DISTINCT message)[1:2] AS messages, sum(count) AS n
    FROM events
    WHERE reason = 'FailedMount' AND regexp_matches(message, 'secrets? "[^"]*-token-[a-z0-9]{5}" not found')
    GROUP BY bundle_id, object_namespace, object_name, regexp_extract(message, 'secrets? "([^"]+)" not found', 1)
),
findings AS (
    SELECT coalesce(r.bundle_id, e.bundle_id) AS bundle_id, coalesce(r.namespace, e.namespace) AS namespace,
        coalesce(r.name, e.name) AS name, coalesce(r.node, e.node) AS node, coalesce(r.secret, e.secret) AS secret,
        r.service_account, r.phase,
        CASE WHEN r.name IS NOT NULL AND e.name IS NOT NULL THEN 'pod spec and FailedMount events'
             WHEN r.name IS NOT NULL THEN 'pod spec' ELSE 'FailedMount events' END AS seen,
        coalesce(e.messages, []) AS messages, coalesce(e.n, 1) AS n,
        -- Told by events only: the pod is gone since (its workload replaced it), or the Secret
        -- exists now (created by hand, as the FAQ says). Only when pods and Secrets were read.
        -- A pod that has finished (a completed Job's pod kept for its logs) mounts nothing any more.
        CASE WHEN r.name IS NOT NULL THEN CASE WHEN r.phase IN ('Succeeded', 'Failed') THEN 'pod finished' END
             WHEN NOT EXISTS (SELECT 1 FROM pods p WHERE p.bundle_id = e.bundle_id AND p.namespace = e.namespace AND p.name = e.name)
                  AND EXISTS (SELECT 1 FROM pods p WHERE p.bundle_id = e.bundle_id) THEN 'pod gone'
             WHEN EXISTS (SELECT 1 FROM secrets s WHERE s.bundle_id = e.bundle_id AND s.namespace = e.namespace AND s.name = e.secret) THEN 'secret exists'
        END AS stale
    FROM pod_refs r
    FULL OUTER JOIN mount_events e ON e.bundle_id = r.bundle_id AND e.namespace = r.namespace AND e.name = r.name AND e.secret = r.secret
),
log_hits AS (
    SELECT bundle_id, namespace, pod, node, line, ts, age
    FROM log_lines
    WHERE contains(line, 'failed to get serviceAccount secret ')
      AND regexp_matches(line, 'failed to get serviceAccount secret (for impersonation )?from cluster')
)
SELECT 'pod/' || f.namespace || '/' || f.name AS resource, f.namespace, f.name, f.node, f.bundle_id,
    'mount' AS kind, f.secret, f.seen, f.phase, coalesce(v.server_version, '?') AS server_version,
    NULL::BIGINT AS minutes, NULL AS sa, f.stale,
    list_concat(['secret: ' || f.secret, 'serviceAccountName: ' || coalesce(f.service_account, '?')], f.messages) AS evidence,
    f.n AS count,
    NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen, NULL::BIGINT AS recent_count,
    CASE WHEN f.stale IS NOT NULL THEN 'info' END AS severity
FROM findings f JOIN versions v ON v.bundle_id = f.bundle_id
WHERE v.no_autogen
UNION ALL
-- Karmada (karmadactl join, cluster controller, agent) waiting for a ServiceAccount's token Secret.
SELECT coalesce('pod/' || namespace || '/' || pod, 'node/' || node, 'cluster'), namespace, pod, node, bundle_id,
    'waiting', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    list(line ORDER BY line)[1:3], count(*),
    min(ts), max(ts), count(*) FILTER (WHERE in_window(age, ${recent})), NULL
FROM log_hits
GROUP BY bundle_id, namespace, pod, node
UNION ALL
-- Token Secrets created for a ServiceAccount that the token controller never filled.
SELECT 'secret/' || s.namespace || '/' || s.name, s.namespace, s.name, NULL, s.bundle_id,
    'unpopulated', s.name, NULL, NULL, NULL, CAST(round(days_between(s.created_at, b.collected_at) * 1440) AS BIGINT),
    coalesce(json_extract_string(s.annotations, '$."kubernetes.io/service-account.name"'), '?'), NULL,
    ['type: kubernetes.io/service-account-token', 'data keys: ' || coalesce(array_to_string(json_keys(s.doc->'$.data'), ', '), '(none)')],
    1, NULL, NULL, NULL, NULL
FROM secrets s JOIN bundles b ON b.bundle_id = s.bundle_id
-- The API requires the service-account.name annotation on this type: testing the small
-- annotations first spares parsing every other Secret.
WHERE contains(CAST(s.annotations AS VARCHAR), 'kubernetes.io/service-account.name')
  AND (s.doc->>'$.type') = 'kubernetes.io/service-account-token'
  AND (s.doc->'$.data.token') IS NULL
  AND days_between(s.created_at, b.collected_at) * 1440 > ${unpopulated_minutes}
ORDER BY 1
