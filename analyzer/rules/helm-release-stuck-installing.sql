/* ---
id = "helm-release-stuck-installing"
severity = "medium"
faq = ["DCE-05"]
category = "workloads"
patterns = [
  "helmreleases\\.helm\\.kpanda\\.io",
  "another operation \\(install/upgrade/rollback\\) is in progress",
  "pending-install",
  "pending-upgrade",
]
[title]
en = "Helm application stuck installing and cannot be deleted"
zh = "Helm 应用卡在安装中，无法删除"
[message]
en = """\
{% if kind == 'deleting' %}\
  {{ object_kind }} {{ name }} ({{ object_resource }}.{{ api_group }}) has been deleting for {{ minutes }} minutes, \
held by finalizers {{ finalizers | join(', ') }}\
  {% if phase is not none %}; status {{ phase }}{% endif %}\
  {% if status is not none and revision is not none %}; Helm release record is {{ status }} (revision {{ revision }}){% endif %}\
  : the application cannot be removed or reinstalled\
{% else %}\
  Helm release {{ name }} has been {{ status }} for {{ minutes }} minutes (revision {{ revision }})\
  {% if pod is not none %}: the operation is still running (pod {{ pod }}), not stuck yet\
  {% elif flux is not none %}: Flux helm-controller is still running it (HelmRelease {{ flux }}), not stuck yet\
  {% else %}: the install never finished and blocks deleting or reinstalling the application{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'deleting' %}\
  {{ object_kind }} {{ name }}（{{ object_resource }}.{{ api_group }}）处于删除中已 {{ minutes }} 分钟，\
被 finalizer {{ finalizers | join(', ') }} 阻塞\
  {% if phase is not none %}；状态 {{ phase }}{% endif %}\
  {% if status is not none and revision is not none %}；Helm release 记录为 {{ status }}（revision {{ revision }}）{% endif %}\
  ：应用无法删除或重新安装\
{% else %}\
  Helm release {{ name }} 已处于 {{ status }} 状态 {{ minutes }} 分钟（revision {{ revision }}）\
  {% if pod is not none %}：该操作仍在运行（Pod {{ pod }}），尚未卡住\
  {% elif flux is not none %}：Flux helm-controller 仍在执行该操作（HelmRelease {{ flux }}），尚未卡住\
  {% else %}：安装一直未完成，导致应用无法删除或重新安装{% endif %}\
{% endif %}"""
[thresholds]
min_age_minutes = 30
# Flux helm-controller runs Helm in-process: its HelmRelease saying "Running '<action>' action
# with timeout of <d>" (Reconciling / Ready Unknown, reason Progressing) for no longer than that
# timeout (spec.timeout, 5m by default, when the message names none) plus this margin is an
# operation in progress.
flux_margin_minutes = 10
[remediation]
en = """
A Helm installation failed half-way and the application stays "installing": its
`helmreleases.helm.kpanda.io` custom resource still carries a finalizer (and/or Helm's release
record stays `pending-install`), so the application can neither be deleted nor installed again.
In DCE, open Custom Resources, find the `helmreleases.helm.kpanda.io` CRD and delete the
application's HelmRelease CR; then install again. From the command line:
```
kubectl get helmreleases.helm.kpanda.io -A
kubectl -n <ns> delete helmreleases.helm.kpanda.io <name>
# if it stays Terminating because its controller is gone:
kubectl -n <ns> patch helmreleases.helm.kpanda.io <name> --type=merge -p '{"metadata":{"finalizers":[]}}'
# a Helm release stuck in pending-install / pending-upgrade:
helm -n <ns> history <release>
helm -n <ns> uninstall <release>      # or: helm -n <ns> rollback <release> <last good revision>
```
A release record still pending while a Helm client for it runs (a helm operation pod running
`helm install <release>`) is an install in progress, reported as info.
"""
zh = """
Helm 安装中途失败，应用一直处于“安装中”：其 `helmreleases.helm.kpanda.io` 自定义资源仍带有 finalizer
（和/或 Helm 的 release 记录停留在 `pending-install`），因此既不能删除也不能重新安装。
在 DCE 中进入 自定义资源 页面，找到 `helmreleases.helm.kpanda.io` CRD，删除对应应用的 HelmRelease CR，然后重新安装。
命令行方式：
```
kubectl get helmreleases.helm.kpanda.io -A
kubectl -n <ns> delete helmreleases.helm.kpanda.io <name>
# 若因控制器已不存在而一直 Terminating：
kubectl -n <ns> patch helmreleases.helm.kpanda.io <name> --type=merge -p '{"metadata":{"finalizers":[]}}'
# Helm release 停留在 pending-install / pending-upgrade：
helm -n <ns> history <release>
helm -n <ns> uninstall <release>      # 或：helm -n <ns> rollback <release> <上一个正常版本>
```
若该 release 的 Helm 客户端仍在运行（helm operation Pod 正在执行 `helm install <release>`），pending 记录表示安装仍在进行中，报告为 info。
"""
--- */
WITH releases AS (
    -- HelmRelease custom resources (DCE kpanda, and other Helm controllers) being deleted for a
    -- while and held by finalizers.
    SELECT o.bundle_id, o.kind, o.api_group, o.resource, o.namespace, o.name, o.finalizers, o.deleted_at,
        coalesce(o.doc->>'$.status.phase', o.doc->>'$.status.status', o.doc->>'$.status.state') AS phase,
        days_between(o.deleted_at, b.collected_at) * 1440 AS deleting_minutes
    FROM objects o JOIN bundles b USING (bundle_id)
    WHERE o.deleted_at IS NOT NULL AND len(o.finalizers) > 0
      AND days_between(o.deleted_at, b.collected_at) * 1440 >= ${min_age_minutes}
      AND ((o.api_group LIKE '%kpanda.io' AND o.resource IN ('helmreleases', 'helmoperations'))
           OR (o.resource = 'helmreleases' AND o.api_group <> ''))
),
-- Helm's own release records: Secrets (default driver) or ConfigMaps labelled owner=helm. A
-- text test first: only labels that can match are parsed.
helm_records AS MATERIALIZED (
    SELECT bundle_id, namespace, resource, labels, created_at FROM objects
    WHERE api_group = '' AND resource = 'secrets' AND contains(CAST(labels AS VARCHAR), 'helm')
    UNION ALL
    SELECT bundle_id, namespace, resource, labels, created_at FROM objects
    WHERE api_group = '' AND resource = 'configmaps' AND contains(CAST(labels AS VARCHAR), 'helm')
),
pending AS (
    SELECT o.bundle_id, o.namespace,
        json_extract_string(o.labels, '$.name') AS release,
        json_extract_string(o.labels, '$.status') AS status,
        json_extract_string(o.labels, '$.version') AS revision,
        (epoch(b.collected_at) - coalesce(TRY_CAST(json_extract_string(o.labels, '$.modifiedAt') AS DOUBLE), epoch(o.created_at))) / 60 AS minutes
    FROM helm_records o JOIN bundles b USING (bundle_id)
    WHERE contains(CAST(o.labels AS VARCHAR), 'pending-')
      AND json_extract_string(o.labels, '$.owner') = 'helm'
      AND json_extract_string(o.labels, '$.status') IN ('pending-install', 'pending-upgrade', 'pending-rollback')
      AND (epoch(b.collected_at) - coalesce(TRY_CAST(json_extract_string(o.labels, '$.modifiedAt') AS DOUBLE), epoch(o.created_at))) / 60 >= ${min_age_minutes}
      -- Only the newest revision of the release counts.
      AND NOT EXISTS (
          SELECT 1 FROM helm_records n
          WHERE n.bundle_id = o.bundle_id AND n.namespace = o.namespace AND n.resource = o.resource
            AND json_extract_string(n.labels, '$.owner') = 'helm'
            AND json_extract_string(n.labels, '$.name') = json_extract_string(o.labels, '$.name')
            AND TRY_CAST(json_extract_string(n.labels, '$.version') AS INTEGER) > TRY_CAST(json_extract_string(o.labels, '$.version') AS INTEGER))
),
-- A Helm client running right now for the release (a kpanda helm operation pod, any pod running
-- `helm install|upgrade|rollback <release>`): the operation is still going on.
-- Containers whose command names the release (the pattern needs the release, so it runs only
-- against the pending ones)...
op_containers AS MATERIALIZED (
    SELECT c.bundle_id, pe.namespace, pe.release, c.namespace AS pod_namespace, c.pod
    FROM pending pe
    JOIN containers c ON c.bundle_id = pe.bundle_id
    WHERE regexp_matches(coalesce(CAST(c.command AS VARCHAR), '') || ' ' || coalesce(CAST(c.args AS VARCHAR), ''),
                         -- Flags before the release, with their values (`--namespace logging`, `-n logging`).
                         '(?:"(?:install|upgrade|rollback)"\s*,\s*(?:"--?[^"]*"\s*,\s*(?:"[^"-][^"]*"\s*,\s*)?)*"' || regex_escape(pe.release) || '"'
                         || '|helm\s+(?:install|upgrade|rollback)\s+(?:--?\S+\s+(?:[^-\s]\S*\s+)?)*' || regex_escape(pe.release) || '\b)')
),
-- ... of pods that run now.
running_ops AS (
    SELECT DISTINCT o.bundle_id, o.namespace, o.release, o.pod_namespace || '/' || o.pod AS pod
    FROM op_containers o
    JOIN (SELECT p.bundle_id, p.namespace, p.name FROM pods p
          -- Only the pods of clusters with a pending release are read.
          JOIN (SELECT DISTINCT bundle_id FROM pending) g ON g.bundle_id = p.bundle_id
          WHERE p.phase IN ('Running', 'Pending') AND p.deleted_at IS NULL) p
        ON p.bundle_id = o.bundle_id AND p.namespace = o.pod_namespace AND p.name = o.pod
),
-- Flux HelmReleases (helm.toolkit.fluxcd.io) in progress: helm-controller runs Helm itself, so
-- no pod names the release. The release lives in the storage namespace under the release name.
flux_hr AS (
    SELECT o.bundle_id, o.namespace, o.name,
        coalesce(o.doc->>'$.status.storageNamespace', o.doc->>'$.spec.storageNamespace',
                 o.doc->>'$.spec.targetNamespace', o.namespace) AS release_namespace,
        coalesce(o.doc->>'$.status.history[0].name', o.doc->>'$.spec.releaseName',
                 CASE WHEN (o.doc->>'$.spec.targetNamespace') IS NOT NULL
                      THEN (o.doc->>'$.spec.targetNamespace') || '-' || o.name END, o.name) AS release,
        o.doc->>'$.spec.timeout' AS spec_timeout
    FROM objects o
    JOIN (SELECT DISTINCT bundle_id FROM pending) g ON g.bundle_id = o.bundle_id
    WHERE o.resource = 'helmreleases' AND o.api_group = 'helm.toolkit.fluxcd.io' AND o.deleted_at IS NULL
),
flux_progress AS (
    SELECT h.bundle_id, h.release_namespace AS namespace, h.release,
        min(h.namespace || '/' || h.name || ': ' || c.message) AS flux
    FROM flux_hr h
    JOIN object_conditions c ON c.bundle_id = h.bundle_id AND c.api_group = 'helm.toolkit.fluxcd.io'
        AND c.resource = 'helmreleases' AND c.namespace = h.namespace AND c.name = h.name
    JOIN bundles b ON b.bundle_id = h.bundle_id
    WHERE c.reason = 'Progressing'
      AND ((c.type = 'Reconciling' AND c.status = 'True') OR (c.type = 'Ready' AND c.status = 'Unknown'))
      AND c.last_transition IS NOT NULL
      -- Go durations: "1h30m0s", "90m", "5m0s".
      AND (epoch(b.collected_at) - epoch(c.last_transition)) / 60 <= ${flux_margin_minutes} + coalesce(
              (SELECT coalesce(TRY_CAST(regexp_extract(d, '([0-9.]+)h', 1) AS DOUBLE), 0) * 60
                    + coalesce(TRY_CAST(regexp_extract(d, '([0-9.]+)m(?:[^s]|$)', 1) AS DOUBLE), 0)
                    + coalesce(TRY_CAST(regexp_extract(d, '(?:^|[^0-9.])([0-9.]+)s', 1) AS DOUBLE), 0) / 60
               FROM (SELECT coalesce(nullif(regexp_extract(coalesce(c.message, ''), 'with timeout of ([0-9hms.]+)', 1), ''),
                                     h.spec_timeout) AS d) t
               WHERE d IS NOT NULL AND regexp_matches(d, '^([0-9.]+[hms])+$')),
              5)
    GROUP BY ALL
)
SELECT lower(r.kind) || '/' || r.namespace || '/' || r.name AS resource, r.namespace, r.name, r.bundle_id,
    'deleting' AS kind, r.kind AS object_kind, r.resource AS object_resource, r.api_group,
    CAST(round(r.deleting_minutes) AS BIGINT) AS minutes, r.finalizers, r.phase, p.status, p.revision, NULL AS pod, NULL AS flux,
    list_concat(['deletionTimestamp: ' || strftime(r.deleted_at, '%Y-%m-%dT%H:%M:%SZ'),
                 'finalizers: ' || array_to_string(r.finalizers, ', ')],
                CASE WHEN r.phase IS NOT NULL THEN ['status: ' || r.phase] ELSE [] END) AS evidence,
    NULL AS severity
FROM releases r
LEFT JOIN pending p ON p.bundle_id = r.bundle_id AND p.namespace = r.namespace AND p.release = r.name
UNION ALL
SELECT 'helmrelease/' || p.namespace || '/' || p.release, p.namespace, p.release, p.bundle_id,
    'pending', NULL, NULL, NULL, CAST(round(p.minutes) AS BIGINT), NULL, NULL, p.status, p.revision, o.pod, f.flux,
    list_concat(['helm release record: sh.helm.release.v1.' || p.release || '.v' || p.revision || ' status=' || p.status],
                CASE WHEN o.pod IS NOT NULL THEN ['running: pod ' || o.pod] ELSE [] END,
                CASE WHEN f.flux IS NOT NULL THEN ['HelmRelease ' || f.flux] ELSE [] END),
    CASE WHEN o.pod IS NOT NULL OR f.flux IS NOT NULL THEN 'info' END
FROM pending p
LEFT JOIN (SELECT bundle_id, namespace, release, min(pod) AS pod FROM running_ops GROUP BY ALL) o
    ON o.bundle_id = p.bundle_id AND o.namespace = p.namespace AND o.release = p.release
LEFT JOIN flux_progress f ON f.bundle_id = p.bundle_id AND f.namespace = p.namespace AND f.release = p.release
WHERE NOT EXISTS (SELECT 1 FROM releases r WHERE r.bundle_id = p.bundle_id AND r.namespace = p.namespace AND r.name = p.release)
ORDER BY 1
