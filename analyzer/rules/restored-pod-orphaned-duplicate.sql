/* ---
id = "restored-pod-orphaned-duplicate"
severity = "medium"
faq = ["DCE-14"]
category = "backup"
patterns = ["velero\\.io/restore-name", "restore.*(2|two|duplicate).*pods?", "还原.*(2 ?个|两个).*Pod"]
[title]
en = "Extra pods outside their workload (e.g. after a restore): labels no longer match the owner"
zh = "游离于工作负载之外的多余 Pod（如备份还原后）：标签与父资源不匹配"
[remediation]
en = """
A pod has no owner although it belongs to a Deployment/ReplicaSet by name or labels. This is
what a backup that contains both the pod and its Deployment produces when the pod's labels were
changed: on restore the pod no longer matches its ReplicaSet's selector, is released, and the
ReplicaSet starts a new pod, so twice as many pods run. Avoid changing the labels of one
resource of a related set before backing up; after the restore, delete the orphaned pod (or
exclude pods from the backup and let the workloads recreate them):
```
kubectl -n <ns> get pods --show-labels -l velero.io/restore-name
kubectl -n <ns> get pod <pod> -o jsonpath='{.metadata.ownerReferences}'
kubectl -n <ns> delete pod <orphaned pod>
velero backup create <name> --include-namespaces <ns> --exclude-resources pods
```
"""
zh = """
某个 Pod 按名称或标签属于某个 Deployment/ReplicaSet，却没有父资源。同时备份了 Pod 和 Deployment、且修改过 Pod 标签时，
还原后 Pod 标签与备份时的父资源 ReplicaSet / Deployment 标签不匹配，Pod 被释放，ReplicaSet 又创建新 Pod，于是出现 2 倍数量的 Pod。
尽量避免修改关联资源中某一资源的标签；还原后删除游离的 Pod（或备份时排除 Pod，由工作负载重新创建）：
```
kubectl -n <ns> get pods --show-labels -l velero.io/restore-name
kubectl -n <ns> get pod <pod> -o jsonpath='{.metadata.ownerReferences}'
kubectl -n <ns> delete pod <游离的 Pod>
velero backup create <name> --include-namespaces <ns> --exclude-resources pods
```
"""
[message]
en = """\
pod {{ name }} has no owner but {% if selector_match %}matches the selector of {% else %}is named after {% endif %}\
{{ owner_kind }} {{ owner_name }}\
{% if restore is not none %} (restored by Velero restore {{ restore }}{% if backup is not none %} from backup {{ backup }}{% endif %}){% endif %}\
; {{ owner_kind }} wants {{ replicas }} replicas and has {{ owned_running }} running pods of its own, so \
{{ running }} pods run"""
zh = """\
Pod {{ name }} 没有父资源，但\
{% if selector_match %}匹配 {{ owner_kind }} {{ owner_name }} 的 selector{% else %}按名称属于 {{ owner_kind }} {{ owner_name }}{% endif %}\
{% if restore is not none %}（由 Velero restore {{ restore }}{% if backup is not none %} 从备份 {{ backup }}{% endif %} 还原）{% endif %}\
；{{ owner_kind }} 期望 {{ replicas }} 个副本，自身已有 {{ owned_running }} 个运行中的 Pod，因此共有 \
{{ running }} 个 Pod 在运行"""
[thresholds]
# Pods without an owner younger than this may still be adopted by their controller.
min_age_minutes = 5
--- */
WITH owners AS (
    SELECT w.bundle_id, w.kind, w.namespace, w.name, w.desired,
        from_json(w.selector->'$.matchLabels', '"MAP(VARCHAR, VARCHAR)"') AS match_labels
    FROM workloads w
    WHERE w.kind IN ('Deployment', 'ReplicaSet', 'StatefulSet') AND w.deleted_at IS NULL
      -- ReplicaSets owned by a Deployment are judged through the Deployment.
      AND NOT (w.kind = 'ReplicaSet' AND w.owner_kind = 'Deployment')
),
orphans AS (
    SELECT p.bundle_id, p.namespace, p.name, p.node, p.phase, p.ready, p.labels,
        json_extract_string(p.labels, '$."velero.io/restore-name"') AS restore,
        json_extract_string(p.labels, '$."velero.io/backup-name"') AS backup
    FROM pods p
    JOIN bundles b ON b.bundle_id = p.bundle_id
    WHERE p.owner_kind IS NULL AND p.deleted_at IS NULL AND p.phase IN ('Pending', 'Running')
      -- A pod orphaned a moment ago may still be adopted by its controller.
      AND coalesce(days_between(p.created_at, b.collected_at) * 1440 >= ${min_age_minutes}, true)
),
matches AS (
    SELECT o.*, w.kind AS owner_kind, w.name AS owner_name, w.desired, w.match_labels,
        -- All of the selector's labels on the pod.
        cardinality(w.match_labels) > 0 AND len(list_filter(map_entries(w.match_labels),
            lambda e: json_member(o.labels, e.key) IS DISTINCT FROM e.value)) = 0 AS selector_match,
        -- Named after the workload (<deploy>-<hash>-<id>, <rs>-<id>, <sts>-<n>). The name is
        -- compared as text, never made part of a pattern: a stranger's names may hold any
        -- character.
        starts_with(o.name, w.name || '-') AND (
            regexp_full_match(o.name[length(w.name) + 2:], '([a-z0-9]{8,10}-)?[a-z0-9]{5}')
            OR (w.kind = 'StatefulSet' AND regexp_full_match(o.name[length(w.name) + 2:], '[0-9]+'))) AS name_match
    FROM orphans o JOIN owners w ON w.bundle_id = o.bundle_id AND w.namespace = o.namespace
),
candidates AS MATERIALIZED (
    SELECT * FROM matches m WHERE m.selector_match OR (m.name_match AND m.restore IS NOT NULL)
),
-- Running pods the owner made itself, matched by its selector.
judged AS (
    SELECT m.bundle_id, m.namespace, m.name, any_value(m.node) AS node, any_value(m.phase) AS phase,
        any_value(m.ready) AS ready, any_value(m.labels) AS labels, any_value(m.restore) AS restore,
        any_value(m.backup) AS backup, m.owner_kind, m.owner_name, any_value(m.desired) AS desired,
        any_value(m.match_labels) AS match_labels, bool_or(m.selector_match) AS selector_match,
        count(p2.name) AS owned_running
    FROM candidates m
    LEFT JOIN (
        -- Only the namespaces of the candidates: pods elsewhere cannot match.
        SELECT p.bundle_id, p.namespace, p.name, p.labels FROM pods p
        WHERE p.deleted_at IS NULL AND p.phase = 'Running' AND p.owner_kind IS NOT NULL
          AND (p.bundle_id, p.namespace) IN (SELECT bundle_id, namespace FROM candidates)
    ) p2 ON p2.bundle_id = m.bundle_id AND p2.namespace = m.namespace
        AND len(list_filter(map_entries(m.match_labels),
            lambda e: json_member(p2.labels, e.key) IS DISTINCT FROM e.value)) = 0
    GROUP BY m.bundle_id, m.namespace, m.name, m.owner_kind, m.owner_name
)
SELECT 'pod/' || namespace || '/' || name AS resource, namespace, name, node, bundle_id,
    selector_match, owner_kind, owner_name, restore, backup, coalesce(desired, 1) AS replicas, owned_running,
    owned_running + 1 AS running,
    list_concat(['labels: ' || CAST(labels AS VARCHAR)],
                ['selector: ' || coalesce(CAST(to_json(match_labels) AS VARCHAR), '{}')],
                ['phase: ' || phase || CASE WHEN ready THEN ', ready' ELSE '' END]) AS evidence
FROM judged
ORDER BY 1
