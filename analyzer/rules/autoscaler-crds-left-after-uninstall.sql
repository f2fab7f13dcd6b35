/* ---
id = "autoscaler-crds-left-after-uninstall"
severity = "low"
faq = ["DCE-09"]
category = "addons"
patterns = [
  "verticalpodautoscalers\\.autoscaling\\.k8s\\.io",
  "cronhorizontalpodautoscalers\\.autoscaling\\.alibabacloud\\.com",
  "scaledobjects\\.keda\\.sh",
  "helm uninstall.*(CRD|crd)",
]
[title]
en = "Autoscaling add-on uninstalled but its CRDs and records remain"
zh = "弹性伸缩插件已卸载，但其 CRD 与伸缩记录仍然残留"
[remediation]
en = """
`helm uninstall` does not remove the CRDs a chart installed, so after uninstalling VPA,
CronHPA (or KEDA) from the Helm add-on market the CRDs and every autoscaler object stay, and the
application autoscaling page keeps showing the old records although no controller acts on them.
Delete the leftover CRDs by hand to finish the cleanup (this deletes their objects too):
```
kubectl get crd | grep -E 'verticalpodautoscaler|cronhorizontalpodautoscaler|keda.sh'
kubectl delete crd verticalpodautoscalers.autoscaling.k8s.io verticalpodautoscalercheckpoints.autoscaling.k8s.io
kubectl delete crd cronhorizontalpodautoscalers.autoscaling.alibabacloud.com
```
If the add-on is meant to stay, reinstall it instead: its objects are not acted on while the
controller is missing. CRDs without any object left (installed by a chart that bundles them) and
bundles that did not collect every workload are info: nothing stale shows, or the controller may
run unseen.
"""
zh = """
`helm uninstall` 不会卸载 chart 安装的 CRD，因此通过 Helm 插件市场卸载 VPA、CronHPA（或 KEDA）后，CRD 和所有伸缩对象依然存在，
应用弹性伸缩界面仍显示旧记录，但已没有控制器处理它们。需要手动卸载对应的 CRD，完成最终清理（其对象会一并删除）：
```
kubectl get crd | grep -E 'verticalpodautoscaler|cronhorizontalpodautoscaler|keda.sh'
kubectl delete crd verticalpodautoscalers.autoscaling.k8s.io verticalpodautoscalercheckpoints.autoscaling.k8s.io
kubectl delete crd cronhorizontalpodautoscalers.autoscaling.alibabacloud.com
```
若仍需使用该插件，请重新安装：控制器缺失期间其对象不会生效。没有任何残留对象的 CRD（由捆绑这些 CRD 的 chart 安装）
以及未采集全部工作负载的情况报告为 info：不会显示过期记录，或其控制器可能在未采集的范围内运行。
"""
[message]
en = """\
{{ addon }} CRDs still installed but no {{ addon }} controller runs: \
{% for c in crds %}{{ c.crd }} ({{ c.objects }} {{ c.kind }} objects){% if not loop.last %}, {% endif %}{% endfor %}\
{% if blind %}; not every workload was collected, so its controller may run unseen\
{% elif count == 0 %}; no custom resources are left, so no stale record shows\
{% else %}; the autoscaling records stay visible and are not acted on{% endif %}"""
zh = """\
{{ addon }} 的 CRD 仍然存在，但集群中没有运行 {{ addon }} 控制器：\
{% for c in crds %}{{ c.crd }}（{{ c.objects }} 个 {{ c.kind }} 对象）{% if not loop.last %}、{% endif %}{% endfor %}\
{% if blind %}；并非所有工作负载都已采集，其控制器可能在未采集的范围内运行\
{% elif count == 0 %}；没有残留的自定义资源，因此不会显示过期的记录\
{% else %}；这些伸缩记录仍然可见，但不会生效{% endif %}"""
--- */
WITH addons(addon, grp, image_re) AS (
    -- Upstream images, and OpenShift's (origin-/ose-vertical-pod-autoscaler of the VPA Operator,
    -- custom-metrics-autoscaler-rhel9 of the Custom Metrics Autoscaler, Red Hat's KEDA).
    VALUES ('VPA', 'autoscaling.k8s.io', '(vpa-recommender|vpa-updater|vpa-admission-controller|vertical-pod-autoscaler)'),
           ('CronHPA', 'autoscaling.alibabacloud.com', '(cron-?hpa)'),
           ('KEDA', 'keda.sh', '(kedacore/keda|/keda:|keda-operator|custom-metrics-autoscaler)')
),
-- Where the workloads could not all be read (a gap on pods or Deployments, or a collection
-- limited to some namespaces), "no controller runs" is unknown, not proven.
blind AS (
    SELECT DISTINCT bundle_id FROM gaps
    WHERE what = 'resource' AND (location LIKE '%pods%' OR location LIKE '%deployments%')
    UNION
    SELECT bundle_id FROM bundles WHERE coalesce(json_array_length(options->'$.namespaces'), 0) > 0
),
leftover AS (
    SELECT c.bundle_id, a.addon, c.name AS crd, c.crd_kind, c.plural, c."group",
        (SELECT count(*) FROM objects o WHERE o.bundle_id = c.bundle_id AND o.api_group = c."group" AND o.resource = c.plural) AS objects,
        (SELECT list(CASE WHEN o.namespace = '' THEN o.name ELSE o.namespace || '/' || o.name END ORDER BY o.namespace, o.name)[1:3]
         FROM objects o WHERE o.bundle_id = c.bundle_id AND o.api_group = c."group" AND o.resource = c.plural) AS examples
    FROM crds c JOIN addons a ON a.grp = c."group"
    WHERE c.deleted_at IS NULL
      -- Installed and run by the platform (GKE's managed VPA): its controller is not visible.
      AND json_extract_string(c.doc, '$.metadata.labels."addonmanager.kubernetes.io/mode"') IS NULL
      -- The add-on's controller runs nowhere in the cluster.
      AND NOT EXISTS (SELECT 1 FROM workload_containers w WHERE w.bundle_id = c.bundle_id AND regexp_matches(coalesce(w.image, ''), a.image_re))
      AND NOT EXISTS (SELECT 1 FROM containers p WHERE p.bundle_id = c.bundle_id AND regexp_matches(coalesce(p.image, ''), a.image_re))
)
SELECT 'addon/' || lower(l.addon) AS resource, l.bundle_id, NULL AS name,
    l.addon,
    list({'crd': l.crd, 'objects': l.objects, 'kind': l.crd_kind} ORDER BY l.crd) AS crds,
    l.bundle_id IN (SELECT bundle_id FROM blind) AS blind,
    list_concat(list(l.crd ORDER BY l.crd), flatten(list(coalesce(l.examples, []) ORDER BY l.crd))) AS evidence,
    sum(l.objects) AS count,
    -- The FAQ's problem is the records left behind: without any, or without knowing whether the
    -- controller runs, there is nothing to act on.
    CASE WHEN sum(l.objects) = 0 OR l.bundle_id IN (SELECT bundle_id FROM blind) THEN 'info' END AS severity
FROM leftover l
GROUP BY l.bundle_id, l.addon
ORDER BY 1
