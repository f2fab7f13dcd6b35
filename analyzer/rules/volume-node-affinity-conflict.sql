/* ---
id = "volume-node-affinity-conflict"
severity = "high"
faq = ["WNR-29"]
category = "storage"
patterns = [
  "node\\(s\\) had volume node affinity conflict",
  "volume node affinity conflict",
]
[title]
en = "Pods cannot be scheduled: volume node affinity conflict"
zh = "Pod 无法调度：volume node affinity conflict（卷的节点亲和冲突）"
[remediation]
en = """
The pod's PersistentVolume carries a `nodeAffinity` (a zone for cloud disks, a host name for
local volumes) that no node the pod may run on satisfies: the node or zone is gone, the pod's
own nodeSelector/affinity/taints exclude it, or two of its volumes sit in different zones.

- Check the StorageClass topology and the PersistentVolume's affinity: the pod must match the
  PV's affinity.
  ```
  kubectl get pv <pv> -o jsonpath='{.spec.nodeAffinity}'
  kubectl get nodes -L topology.kubernetes.io/zone
  ```
- If the PV cannot move and losing it matters little (e.g. a local volume of a removed node),
  delete the PVC (and PV) and let it be recreated.
- The PVC and the pod may end up in different zones when the volume is provisioned before the
  pod is scheduled: create a StorageClass per zone, or use `volumeBindingMode:
  WaitForFirstConsumer`:
  ```yaml
  kind: StorageClass
  apiVersion: storage.k8s.io/v1
  metadata:
    name: region1storageclass
  provisioner: kubernetes.io/aws-ebs
  volumeBindingMode: WaitForFirstConsumer
  allowedTopologies:
    - matchLabelExpressions:
        - key: failure-domain.beta.kubernetes.io/zone
          values:
            - eu-west-2b
  ```
"""
zh = """
Pod 使用的 PersistentVolume 带有 `nodeAffinity`（云盘为可用区，本地卷为主机名），而 Pod 能运行的节点都不满足它：
节点或可用区已不存在、Pod 自身的 nodeSelector/亲和/污点排除了这些节点，或 Pod 的多个卷位于不同可用区。

- 检查 StorageClass 的亲和策略和 PersistentVolume 的亲和策略：Pod 需要匹配 PV 的亲和策略。
  ```
  kubectl get pv <pv> -o jsonpath='{.spec.nodeAffinity}'
  kubectl get nodes -L topology.kubernetes.io/zone
  ```
- 如果 PV 无法迁移且影响不大（例如已删除节点上的本地卷），可以删除 PVC（及 PV）后重建。
- 卷在 Pod 调度之前就已创建时，PVC 和 Pod 可能落在不同可用区：可以针对 zone 创建 StorageClass，
  或使用 `volumeBindingMode: WaitForFirstConsumer`：
  ```yaml
  kind: StorageClass
  apiVersion: storage.k8s.io/v1
  metadata:
    name: region1storageclass
  provisioner: kubernetes.io/aws-ebs
  volumeBindingMode: WaitForFirstConsumer
  allowedTopologies:
    - matchLabelExpressions:
        - key: failure-domain.beta.kubernetes.io/zone
          values:
            - eu-west-2b
  ```
"""
[message]
en = """\
{% if kind == 'pod' %}\
  pod Pending: "{{ scheduler_says }}"\
  {% if pvs %}; {% for v in pvs %}{{ v.pv }} (claim {{ v.claim }}, class {{ v.class }}) requires {{ v.affinity }}\
{% if v.gone %}: node {{ v.gone | join(', ') }} is no longer in the cluster\
{% elif not v.ok %}: no Ready schedulable node satisfies it{% else %}: satisfied by {{ v.ok | join(', ') }}{% endif %}\
{% if not loop.last %}; {% endif %}{% endfor %}{% endif %}\
  {% if split %}; the pod's volumes have no node in common (different zones/nodes){% endif %}\
  {% if capacity %}; nodes that satisfy its volumes exist but are full: a capacity problem first{% endif %}\
  {% if scaler %}; {{ scaler }} is adding a node for it{% if scale_up_minutes is not none %} ({{ scale_up_minutes }} min ago){% endif %}: Pending until that node is Ready{% endif %}\
{% else %}\
  StorageClass {{ name }} ({{ provisioner }}) binds volumes Immediately, before the pod is scheduled, while its \
{{ pv_count }} PV(s) are pinned by node affinity ({{ affinity }})\
  {% if zone_count >= 2 %} in a cluster spread over {{ zone_count }} zones{% endif %}\
  : pods can hit "volume node affinity conflict"; use volumeBindingMode: WaitForFirstConsumer\
{% endif %}"""
zh = """\
{% if kind == 'pod' %}\
  Pod Pending："{{ scheduler_says }}"\
  {% if pvs %}；{% for v in pvs %}{{ v.pv }}（claim {{ v.claim }}，StorageClass {{ v.class }}）要求 {{ v.affinity }}\
{% if v.gone %}：节点 {{ v.gone | join(', ') }} 已不在集群中\
{% elif not v.ok %}：没有 Ready 且可调度的节点满足该条件{% else %}：满足条件的节点有 {{ v.ok | join(', ') }}{% endif %}\
{% if not loop.last %}；{% endif %}{% endfor %}{% endif %}\
  {% if split %}；该 Pod 的多个卷没有共同的可用节点（位于不同可用区/节点）{% endif %}\
  {% if capacity %}；满足其卷要求的节点存在但资源已满：首先是容量问题{% endif %}\
  {% if scaler %}；{{ scaler }} 正在为其添加节点{% if scale_up_minutes is not none %}（{{ scale_up_minutes }} 分钟前）{% endif %}：新节点就绪前 Pending 是正常的{% endif %}\
{% else %}\
  StorageClass {{ name }}（{{ provisioner }}）以 Immediate 模式在 Pod 调度之前就绑定卷，而其 \
{{ pv_count }} 个 PV 被节点亲和性固定了位置（{{ affinity }}）\
  {% if zone_count >= 2 %}，且集群分布在 {{ zone_count }} 个可用区{% endif %}\
  ：Pod 可能遇到 "volume node affinity conflict"；请使用 volumeBindingMode: WaitForFirstConsumer\
{% endif %}"""
[thresholds]
# Pods Pending for fewer minutes than this are still being scheduled.
min_pending_minutes = 5
# A conflict event counts, for a pod without a scheduler message of its own, when seen this recently.
event_recent_minutes = 60
# A pod this young for which a node autoscaler is adding a node (cluster-autoscaler's
# TriggeredScaleUp, Karpenter's Nominated) waits for that node: a node boots in minutes.
scale_up_grace_minutes = 15
--- */
WITH conflict_events AS (
    SELECT e.bundle_id, e.namespace, e.object_name AS pod, sum(e.count) AS n, arg_max(e.message, e.last_seen) AS message,
        max(e.last_seen) AS last_seen, any_value(b.collected_at) AS collected_at
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE e.object_kind = 'Pod' AND contains(e.message, 'volume node affinity conflict')
    GROUP BY ALL
),
stuck AS (
    SELECT p.bundle_id, p.namespace, p.name AS pod, p.volumes,
        coalesce(CASE WHEN contains(p.scheduled_message, 'volume node affinity conflict') THEN p.scheduled_message END, e.message) AS message,
        coalesce(e.n, 1) AS n
    FROM pods p
    JOIN bundles b ON b.bundle_id = p.bundle_id
    LEFT JOIN conflict_events e ON e.bundle_id = p.bundle_id AND e.namespace = p.namespace AND e.pod = p.name
    WHERE p.node IS NULL AND p.deleted_at IS NULL AND p.phase = 'Pending'
      -- The scheduler's current word on the pod names the conflict; or, when the pod carries no
      -- word of its own, a recent event does. An old event under a pod now Pending for another
      -- reason is history.
      AND (contains(p.scheduled_message, 'volume node affinity conflict')
           OR (e.pod IS NOT NULL AND coalesce(p.scheduled_message, '') = ''
               AND days_between(e.last_seen, e.collected_at) * 1440 <= ${event_recent_minutes}))
      AND days_between(p.created_at, b.collected_at) * 1440 >= ${min_pending_minutes}
),
-- A node autoscaler is adding a node for a young pending pod: cluster-autoscaler's
-- TriggeredScaleUp, Karpenter's Nominated ("Pod should schedule on: nodeclaim/...").
scale_ups AS (
    SELECT s.bundle_id, s.namespace, s.pod,
        arg_max(node_scaler(e.reason, e.message), e.last_seen) AS scaler,
        TRY_CAST(round(days_between(max(e.last_seen), any_value(b.collected_at)) * 1440) AS BIGINT) AS minutes_ago
    FROM stuck s
    JOIN pods p ON p.bundle_id = s.bundle_id AND p.namespace = s.namespace AND p.name = s.pod
    JOIN bundles b ON b.bundle_id = s.bundle_id
    JOIN events e ON e.bundle_id = s.bundle_id AND e.object_kind = 'Pod' AND e.object_namespace = s.namespace AND e.object_name = s.pod
    WHERE node_scaler(e.reason, e.message) IS NOT NULL
      AND days_between(p.created_at, b.collected_at) * 1440 < ${scale_up_grace_minutes}
    GROUP BY ALL
),
claims AS (
    SELECT bundle_id, namespace, pod,
        coalesce(v->>'$.persistentVolumeClaim.claimName',
                 CASE WHEN (v->'$.ephemeral') IS NOT NULL THEN pod || '-' || (v->>'$.name') END) AS claim
    FROM (SELECT bundle_id, namespace, pod, unnest(coalesce(from_json(volumes, '["JSON"]'), [])) AS v FROM stuck)
),
pvs AS (
    SELECT bundle_id, name AS pv, (doc->>'$.spec.storageClassName') AS storage_class,
        (doc->>'$.spec.claimRef.namespace') AS claim_ns, (doc->>'$.spec.claimRef.name') AS claim,
        coalesce(from_json(doc->'$.spec.nodeAffinity.required.nodeSelectorTerms',
            '[{"matchExpressions":[{"key":"VARCHAR","operator":"VARCHAR","values":["VARCHAR"]}]}]'), []) AS terms
    FROM objects WHERE api_group = '' AND resource = 'persistentvolumes'
),
pv_text AS (
    SELECT *, array_to_string(list_transform(terms, lambda t: array_to_string(list_transform(coalesce(t.matchExpressions, []),
                lambda e: e.key || ' ' || e.operator || CASE WHEN len(coalesce(e.values, [])) > 0 THEN ' [' || array_to_string(e.values, ', ') || ']' ELSE '' END), ' and ')), ' or ') AS affinity,
        list_distinct(flatten(list_transform(terms, lambda t: flatten(list_transform(
            list_filter(coalesce(t.matchExpressions, []), lambda e: e.key = 'kubernetes.io/hostname' AND e.operator = 'In'),
            lambda e: e.values))))) AS pinned_hosts
    FROM pvs
),
schedulable AS (
    SELECT bundle_id, name, labels FROM nodes WHERE ready AND NOT unschedulable AND deleted_at IS NULL
),
-- Nodes satisfying each PV's affinity.
pv_nodes AS (
    SELECT v.bundle_id, v.pv,
        list(n.name ORDER BY n.name) FILTER (WHERE n.name IS NOT NULL) AS ok_nodes
    FROM pv_text v
    LEFT JOIN schedulable n ON n.bundle_id = v.bundle_id
        AND len(list_filter(v.terms, lambda t: len(list_filter(coalesce(t.matchExpressions, []), lambda e: NOT coalesce(
            CASE e.operator
                WHEN 'In' THEN list_contains(e.values, json_member(n.labels, e.key))
                WHEN 'NotIn' THEN NOT coalesce(list_contains(e.values, json_member(n.labels, e.key)), false)
                WHEN 'Exists' THEN json_member(n.labels, e.key) IS NOT NULL
                WHEN 'DoesNotExist' THEN json_member(n.labels, e.key) IS NULL
                ELSE true END, false))) = 0)) > 0
    WHERE len(v.terms) > 0
    GROUP BY ALL
),
all_nodes AS (
    SELECT bundle_id, list(name) AS names FROM nodes GROUP BY bundle_id
),
pod_pvs AS (
    SELECT c.bundle_id, c.namespace, c.pod, c.claim, pc.volume_name AS pv, pc.phase AS claim_phase,
        v.affinity, v.pinned_hosts, v.storage_class, pn.ok_nodes,
        CASE WHEN an.names IS NOT NULL THEN list_filter(v.pinned_hosts, lambda h: NOT list_contains(an.names, h)) ELSE [] END AS gone_hosts
    FROM claims c
    LEFT JOIN all_nodes an ON an.bundle_id = c.bundle_id
    LEFT JOIN pvcs pc ON pc.bundle_id = c.bundle_id AND pc.namespace = c.namespace AND pc.name = c.claim
    LEFT JOIN pv_text v ON v.bundle_id = c.bundle_id AND v.pv = pc.volume_name
    LEFT JOIN pv_nodes pn ON pn.bundle_id = c.bundle_id AND pn.pv = pc.volume_name
    WHERE c.claim IS NOT NULL
),
per_pod AS (
    SELECT s.bundle_id, s.namespace, s.pod, s.message, s.n,
        list(pp.pv || ' (claim ' || pp.claim || ', class ' || coalesce(pp.storage_class, '-') || ') requires ' || pp.affinity
             || CASE WHEN len(pp.gone_hosts) > 0 THEN ': node ' || array_to_string(pp.gone_hosts, ', ') || ' is no longer in the cluster'
                     WHEN len(coalesce(pp.ok_nodes, [])) = 0 THEN ': no Ready schedulable node satisfies it'
                     ELSE ': satisfied by ' || array_to_string(pp.ok_nodes[1:5], ', ') END
             ORDER BY pp.claim) FILTER (WHERE pp.affinity IS NOT NULL AND pp.affinity <> '') AS pv_lines,
        list({'pv': pp.pv, 'claim': pp.claim, 'class': coalesce(pp.storage_class, '-'), 'affinity': pp.affinity,
              'gone': pp.gone_hosts, 'ok': coalesce(pp.ok_nodes, [])[1:5]}
             ORDER BY pp.claim) FILTER (WHERE pp.affinity IS NOT NULL AND pp.affinity <> '') AS pvs,
        count(pp.affinity) FILTER (WHERE pp.affinity <> '') AS with_affinity,
        list(pp.ok_nodes) FILTER (WHERE pp.affinity <> '') AS node_sets,
        bool_or(len(pp.gone_hosts) > 0) AS gone
    FROM stuck s
    LEFT JOIN pod_pvs pp ON pp.bundle_id = s.bundle_id AND pp.namespace = s.namespace AND pp.pod = s.pod
    GROUP BY ALL
),
judged AS (
    SELECT *,
        CASE WHEN with_affinity >= 2
              AND len(list_reduce(list_transform(node_sets, lambda x: coalesce(x, [])), lambda a, b: list_intersect(a, b))) = 0
              AND len(list_filter(node_sets, lambda x: len(coalesce(x, [])) > 0)) = with_affinity
             THEN 'the pod''s volumes have no node in common (different zones/nodes)' END AS split
    FROM per_pod
),
judged_cap AS (
    -- Nodes that would take every volume exist but are full: a capacity problem first.
    SELECT *,
        contains(message, 'Insufficient ') AND len(coalesce(pv_lines, [])) > 0
            AND NOT list_bool_or(list_transform(node_sets, lambda x: len(coalesce(x, [])) = 0))
            AND NOT coalesce(gone, false) AND split IS NULL AS capacity
    FROM judged
),
-- Immediate binding provisions the volume before the pod is placed: in a cluster spread over
-- zones (or for node-local volumes) it can land where the pod cannot go.
zones AS (
    SELECT bundle_id, count(DISTINCT coalesce(json_extract_string(labels, '$."topology.kubernetes.io/zone"'),
                                              json_extract_string(labels, '$."failure-domain.beta.kubernetes.io/zone"'))) AS n
    FROM nodes GROUP BY bundle_id
),
immediate AS (
    SELECT sc.bundle_id, sc.name, sc.provisioner, z.n AS zone_count,
        count(*) AS pvs, list(v.pv ORDER BY v.pv)[1:3] AS examples, any_value(v.affinity) AS affinity
    FROM storage_classes sc
    JOIN pv_text v ON v.bundle_id = sc.bundle_id AND v.storage_class = sc.name
    JOIN zones z ON z.bundle_id = sc.bundle_id
    WHERE sc.binding_mode = 'Immediate' AND len(v.terms) > 0
      AND (z.n >= 2 OR len(v.pinned_hosts) > 0)
      AND (SELECT count(*) FROM nodes n WHERE n.bundle_id = sc.bundle_id) >= 2
    GROUP BY ALL
)
SELECT 'pod/' || namespace || '/' || pod AS resource, namespace, pod AS name, bundle_id,
    'pod' AS kind, regexp_replace(message, '\s+preemption:.*$', '') AS scheduler_says, pvs, split IS NOT NULL AS split, capacity,
    u.scaler, u.minutes_ago AS scale_up_minutes,
    NULL AS provisioner, NULL::BIGINT AS pv_count, NULL AS affinity, NULL::BIGINT AS zone_count,
    list_concat([message], coalesce(pv_lines, [])) AS evidence,
    n AS count,
    CASE WHEN u.scaler IS NOT NULL THEN 'info' WHEN capacity THEN 'medium' END AS severity
FROM judged_cap
LEFT JOIN scale_ups u USING (bundle_id, namespace, pod)
UNION ALL
SELECT 'storageclass/' || name, NULL, name, bundle_id,
    'storageclass', NULL, NULL, NULL, NULL, NULL, NULL, provisioner, pvs, affinity, zone_count,
    examples, pvs, 'low'
FROM immediate
ORDER BY 1
