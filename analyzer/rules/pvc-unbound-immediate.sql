/* ---
id = "pvc-unbound-immediate"
severity = "high"
faq = ["WNR-20"]
category = "storage"
patterns = [
  "pod has unbound immediate PersistentVolumeClaims",
  "running \"VolumeBinding\" filter plugin for pod \"[^\"]*\": pod has unbound immediate PersistentVolumeClaims",
  "no persistent volumes available for this claim and no storage class is set",
  "storageclass\\.storage\\.k8s\\.io \"[^\"]*\" not found",
  "waiting for a volume to be created,? either by external provisioner",
]
[title]
en = "Pods wait on unbound PersistentVolumeClaims (pod has unbound immediate PersistentVolumeClaims)"
zh = "Pod 等待未绑定的 PVC（pod has unbound immediate PersistentVolumeClaims）"
[remediation]
en = """
The scheduler will not place a pod whose `Immediate`-binding PVC is still `Pending`:
`running "VolumeBinding" filter plugin for pod "web-0": pod has unbound immediate
PersistentVolumeClaims`. Find out why the claim is not bound — the finding names the cause:
- the claim names a StorageClass that does not exist → create it or fix `storageClassName`;
- the claim names no StorageClass and the cluster has no default one → mark one default, or set `storageClassName`;
- the class's provisioner is not running (no CSI driver / provisioner pod) → install or fix it;
- `kubernetes.io/no-provisioner` or `storageClassName: ""` → create a matching PersistentVolume by hand.

A Pending claim no pod uses is low, and info after a week: a leftover to delete, not an outage.
```
kubectl get pvc -A | grep Pending
kubectl -n <ns> describe pvc <pvc>        # Events: ProvisioningFailed / ExternalProvisioning / FailedBinding
kubectl get storageclass
kubectl patch storageclass <name> -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'
```
"""
zh = """
PVC 为 `Immediate` 绑定模式且仍处于 `Pending` 时，调度器不会调度使用它的 Pod：
`running "VolumeBinding" filter plugin for pod "web-0": pod has unbound immediate PersistentVolumeClaims`。
需找出 PVC 未绑定的原因（结果中已指出）：
- PVC 指定的 StorageClass 不存在 → 创建它或修正 `storageClassName`；
- PVC 未指定 StorageClass 且集群没有默认 StorageClass → 设置一个默认 StorageClass，或指定 `storageClassName`；
- StorageClass 的 provisioner 未运行（没有 CSI 驱动 / provisioner Pod）→ 安装或修复；
- `kubernetes.io/no-provisioner` 或 `storageClassName: ""` → 手动创建匹配的 PersistentVolume。

没有 Pod 使用的 Pending PVC 报告为 low，超过一周报告为 info：这是应清理的残留，而非故障。
```
kubectl get pvc -A | grep Pending
kubectl -n <ns> describe pvc <pvc>        # Events: ProvisioningFailed / ExternalProvisioning / FailedBinding
kubectl get storageclass
kubectl patch storageclass <name> -p '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}'
```
"""
[message]
en = """\
PVC {{ namespace }}/{{ name }} is Pending for {{ minutes | age }}: \
{% if verdict == 'missing-class' %}StorageClass "{{ storage_class }}" does not exist\
{% elif verdict == 'no-default' %}no storageClassName and the cluster has no default StorageClass\
{% elif verdict == 'default-not-applied' %}no storageClassName (default StorageClass {{ default_classes | join(', ') }} \
exists now but was not applied to this claim)\
{% elif verdict == 'static-pv' %}needs a pre-created PersistentVolume \
({% if storage_class == '' %}storageClassName ""{% else %}provisioner kubernetes.io/no-provisioner{% endif %}) and none matches\
{% elif verdict == 'provisioner-missing' %}provisioner "{{ provisioner }}" of StorageClass {{ sc_name }} is not running \
(no CSIDriver, no pod mentions it)\
{% elif verdict == 'provisioning' %}not provisioned by "{{ provisioner }}" yet\
{% else %}not bound{% endif %}\
{% if waiting is not none %}; {{ waiting }} pod(s) wait on it{% endif %}\
{% if unbound_said %} (pod has unbound immediate PersistentVolumeClaims){% endif %}\
{% if leftover %}; no pod uses it: a leftover claim{% endif %}"""
zh = """\
PVC {{ namespace }}/{{ name }} 已处于 Pending 状态 {{ minutes | age }}：\
{% if verdict == 'missing-class' %}StorageClass "{{ storage_class }}" 不存在\
{% elif verdict == 'no-default' %}未设置 storageClassName，且集群没有默认 StorageClass\
{% elif verdict == 'default-not-applied' %}未设置 storageClassName（默认 StorageClass {{ default_classes | join(', ') }} \
现已存在，但未应用到该 PVC）\
{% elif verdict == 'static-pv' %}需要预先创建的 PersistentVolume\
（{% if storage_class == '' %}storageClassName ""{% else %}provisioner kubernetes.io/no-provisioner{% endif %}），但没有匹配的 PV\
{% elif verdict == 'provisioner-missing' %}StorageClass {{ sc_name }} 的 provisioner "{{ provisioner }}" 未运行\
（没有 CSIDriver，也没有 Pod 提及它）\
{% elif verdict == 'provisioning' %}尚未由 "{{ provisioner }}" 完成供应\
{% else %}未绑定{% endif %}\
{% if waiting is not none %}；有 {{ waiting }} 个 Pod 在等待它{% endif %}\
{% if unbound_said %}（pod has unbound immediate PersistentVolumeClaims）{% endif %}\
{% if leftover %}；没有 Pod 使用它：是残留的 PVC{% endif %}"""
[thresholds]
min_pending_minutes = 5
# A Pending claim no pod uses, older than this, is a leftover: info.
leftover_days = 7
--- */
WITH pending AS (
    -- The class as Kubernetes reads it: the deprecated volume.beta.kubernetes.io/storage-class
    -- annotation (older Helm charts still write it) wins over spec.storageClassName, and the
    -- admission plugin leaves a claim carrying it without a spec class.
    SELECT c.bundle_id, c.namespace, c.name,
        coalesce(json_extract_string(c.doc, '$.metadata.annotations."volume.beta.kubernetes.io/storage-class"'), c.storage_class) AS storage_class,
        days_between(c.created_at, b.collected_at) * 1440 AS minutes,
        json_type(c.doc->'$.spec.storageClassName') IS NOT NULL
            OR json_extract_string(c.doc, '$.metadata.annotations."volume.beta.kubernetes.io/storage-class"') IS NOT NULL AS class_field_set
    FROM pvcs c JOIN bundles b USING (bundle_id)
    WHERE c.phase = 'Pending' AND c.deleted_at IS NULL
      AND coalesce(c.volume_name, '') = ''
),
sched_events AS (
    SELECT bundle_id, object_namespace AS namespace, object_name AS pod, sum(count) AS n, any_value(message) AS message
    FROM events
    WHERE reason = 'FailedScheduling' AND contains(message, 'unbound immediate PersistentVolumeClaims')
    GROUP BY ALL
),
pod_volumes AS (
    SELECT bundle_id, namespace, name, phase, scheduled_message,
        unnest(from_json(coalesce(volumes, '[]'), '["JSON"]')) AS v
    FROM pods
    -- Only pods that can use a pending claim: the same namespace, a claim among their volumes
    -- (a text test first, so the other pods' volumes are never parsed).
    WHERE deleted_at IS NULL AND contains(CAST(volumes AS VARCHAR), 'persistentVolumeClaim')
      AND EXISTS (SELECT 1 FROM pending c WHERE c.bundle_id = pods.bundle_id AND c.namespace = pods.namespace)
),
users AS (
    SELECT pv.bundle_id, pv.namespace, (pv.v->>'$.persistentVolumeClaim.claimName') AS claim,
        list(pv.name || ' (' || coalesce(pv.phase, '?') || coalesce(': ' || pv.scheduled_message, '') || ')' ORDER BY pv.name) AS pods,
        bool_or(contains(coalesce(pv.scheduled_message, ''), 'unbound immediate PersistentVolumeClaims')) AS sched_msg,
        sum(se.n) AS ev_n, any_value(se.message) AS ev_msg
    FROM pod_volumes pv
    LEFT JOIN sched_events se ON se.bundle_id = pv.bundle_id AND se.namespace = pv.namespace AND se.pod = pv.name
    WHERE (pv.v->>'$.persistentVolumeClaim.claimName') IS NOT NULL
    GROUP BY ALL
),
pvc_events AS (
    SELECT bundle_id, object_namespace AS namespace, object_name AS claim,
        list(DISTINCT reason || ': ' || message) AS lines
    FROM events
    WHERE object_kind = 'PersistentVolumeClaim' AND reason IN ('ProvisioningFailed', 'ExternalProvisioning', 'FailedBinding')
    GROUP BY ALL
),
defaults AS (
    SELECT bundle_id, list(name ORDER BY name) AS names FROM storage_classes WHERE is_default GROUP BY bundle_id
),
-- External provisioners of pending claims that a running pod names, in a container's spec
-- (image, args, env) or in its volumes (the driver's socket directory): the driver is
-- deployed. Nothing is searched when no claim is pending.
mentioned_provisioners AS (
    SELECT DISTINCT sc.bundle_id, sc.provisioner
    FROM (SELECT DISTINCT s.bundle_id, s.provisioner
          FROM pending p JOIN storage_classes s ON s.bundle_id = p.bundle_id AND s.name = p.storage_class
          WHERE s.provisioner NOT LIKE 'kubernetes.io/%') sc
    JOIN pods x ON x.bundle_id = sc.bundle_id AND x.phase = 'Running'
    LEFT JOIN containers c ON c.bundle_id = x.bundle_id AND c.namespace = x.namespace AND c.pod = x.name
    WHERE contains(coalesce(CAST(x.volumes AS VARCHAR), ''), sc.provisioner)
       OR contains(coalesce(CAST(c.spec AS VARCHAR), ''), sc.provisioner)
),
classified AS (
    SELECT p.*, sc.name AS sc_name, sc.provisioner, sc.binding_mode, d.names AS default_classes,
        -- why it is unbound, judged once; both languages word the same verdict
        CASE
            WHEN p.storage_class IS NOT NULL AND p.storage_class <> '' AND sc.name IS NULL THEN 'missing-class'
            WHEN NOT p.class_field_set AND d.names IS NULL THEN 'no-default'
            WHEN NOT p.class_field_set THEN 'default-not-applied'
            WHEN p.storage_class = '' OR sc.provisioner = 'kubernetes.io/no-provisioner' THEN 'static-pv'
            WHEN sc.provisioner IS NOT NULL AND sc.provisioner NOT LIKE 'kubernetes.io/%'
                 AND drv.name IS NULL AND mp.provisioner IS NULL THEN 'provisioner-missing'
            WHEN sc.provisioner IS NOT NULL THEN 'provisioning'
            ELSE 'unbound'
        END AS verdict
    FROM pending p
    LEFT JOIN storage_classes sc ON sc.bundle_id = p.bundle_id AND sc.name = p.storage_class
    LEFT JOIN defaults d ON d.bundle_id = p.bundle_id
    LEFT JOIN mentioned_provisioners mp ON mp.bundle_id = p.bundle_id AND mp.provisioner = sc.provisioner
    -- a CSIDriver object registered under the provisioner's name
    LEFT JOIN (SELECT DISTINCT bundle_id, name FROM objects WHERE api_group = 'storage.k8s.io' AND resource = 'csidrivers') drv
        ON drv.bundle_id = p.bundle_id AND drv.name = sc.provisioner
),
-- Bundles whose pods could not all be listed: "no pod uses it" is unknown there.
pods_unseen AS (
    SELECT DISTINCT bundle_id FROM gaps WHERE what = 'resource' AND location LIKE '%pods%'
),
worded AS (
    SELECT c.* FROM classified c
)
SELECT 'persistentvolumeclaim/' || c.namespace || '/' || c.name AS resource,
    c.namespace, c.name, c.bundle_id,
    c.minutes, c.verdict, c.storage_class, c.default_classes, c.provisioner, c.sc_name, len(u.pods) AS waiting,
    coalesce(u.sched_msg OR u.ev_n > 0, false) AS unbound_said,
    coalesce(u.pods IS NULL AND c.minutes >= ${leftover_days} * 1440 AND c.bundle_id NOT IN (SELECT bundle_id FROM pods_unseen), false) AS leftover,
    list_concat(coalesce(u.pods, []), coalesce(pe.lines, [])[1:3],
        CASE WHEN u.ev_msg IS NOT NULL THEN ['FailedScheduling x' || u.ev_n || ': ' || u.ev_msg] ELSE [] END) AS evidence,
    -- Pods waiting on it: an outage of those pods. None: nothing fails now; a claim nobody has
    -- used for a week is a leftover (of a deleted app or a scaled-down StatefulSet).
    CASE WHEN u.pods IS NOT NULL THEN 'high'
         WHEN c.minutes >= ${leftover_days} * 1440 AND c.bundle_id NOT IN (SELECT bundle_id FROM pods_unseen) THEN 'info'
         ELSE 'low' END AS severity
FROM worded c
LEFT JOIN users u ON u.bundle_id = c.bundle_id AND u.namespace = c.namespace AND u.claim = c.name
LEFT JOIN pvc_events pe ON pe.bundle_id = c.bundle_id AND pe.namespace = c.namespace AND pe.claim = c.name
WHERE c.minutes >= ${min_pending_minutes}
  AND coalesce(c.binding_mode, 'Immediate') = 'Immediate'
ORDER BY 1
