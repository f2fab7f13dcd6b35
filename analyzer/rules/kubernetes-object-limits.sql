/* ---
id = "kubernetes-object-limits"
severity = "medium"
faq = ["WNR-04"]
category = "capacity"
patterns = [
  "etcdserver: request is too large",
  "Request entity too large: limit is [0-9]+",
  "metadata\\.annotations: Too long: must have at most 262144 bytes",
  "must be no more than 63 characters",
  "(received|trying to send) message larger than max",
  "mvcc: database space exceeded",
  "Too many pods",
  "OutOfpods",
]
# Size-limit errors (events, log lines) count while they are current: within 6 hours before
# collection. Older ones are history: the row is info.
recent = "6h"
[title]
en = "Objects or nodes at Kubernetes/etcd limits (110 pods/node, 1 MiB objects, 256 KiB annotations, 63-char names, etcd quota)"
zh = "对象或节点接近 Kubernetes/etcd 限制（每节点 110 Pod、对象 1 MiB、注解 256 KiB、名称 63 字符、etcd 配额）"
[remediation]
en = """
Kubernetes and etcd have hard limits:
- **pods per node**: `maxPods` (110 by default, less on some clouds); a full node rejects pods (`Too many pods`). Add nodes or raise `maxPods` within what the node and CNI can hold.
- **1 MB per object** (etcd `--max-request-bytes=1.5MiB`, kubernetes/kubernetes#19781): large CRDs hit it (embed fewer external definitions, kubernetes/kubernetes#82292); split large ConfigMaps/Secrets.
- **all annotations together ≤ 256 KiB** (`TotalAnnotationSizeLimitB`): client-side `kubectl apply` stores the whole object in `kubectl.kubernetes.io/last-applied-configuration`, so objects above 256 KiB fail with `metadata.annotations: Too long` — use `kubectl apply --server-side` or `kubectl create`/`replace`.
- **63 characters** for DNS labels (RFC 1123): names of Services, Namespaces, label values; a StatefulSet longer than 52 characters cannot create pods (its `controller-revision-hash` label exceeds 63).
- **etcd** `--quota-backend-bytes` (2 GB default, keep it ≤ 8 GB); past the quota etcd answers `mvcc: database space exceeded`: compact, defragment and disarm the alarm.
- gRPC messages are usually limited to 4 MB.

Errors from these limits (events, log lines) count while current, within 6 hours of collection;
older ones are reported as info. A full node is high when pods were turned away for it lately.
```
kubectl get nodes -o custom-columns=NAME:.metadata.name,PODS:.status.capacity.pods
kubectl get cm -A -o json | jq -r '.items[] | "\\(.metadata.namespace)/\\(.metadata.name) \\(tostring|length)"' | sort -k2 -n | tail
kubectl apply --server-side -f big-crd.yaml
ETCDCTL_API=3 etcdctl endpoint status -w table
ETCDCTL_API=3 etcdctl defrag && ETCDCTL_API=3 etcdctl alarm disarm
```
"""
zh = """
Kubernetes 与 etcd 有硬性限制：
- **每节点 Pod 数**：`maxPods`（默认 110，部分云更少）；节点满后拒绝 Pod（`Too many pods`）。扩容节点，或在节点和 CNI 能承受的范围内调大 `maxPods`。
- **每个对象 1 MB**（etcd `--max-request-bytes=1.5MiB`，kubernetes/kubernetes#19781）：大型 CRD 定义可能达到这个限制（减少 embed 外部定义，kubernetes/kubernetes#82292）；ConfigMap/Secret 过大建议拆分。
- **所有 annotation KV 加起来不超过 256Kb**（`TotalAnnotationSizeLimitB`）：客户端 `kubectl apply` 会把整个对象写入 `kubectl.kubernetes.io/last-applied-configuration`，超过 256 KiB 的对象会报 `metadata.annotations: Too long`——改用 `kubectl apply --server-side` 或 `kubectl create`/`replace`。
- **DNS LabelName 最长 63 字符**（RFC-1123）：Service、Namespace 名称和 label 值等；名称超过 52 字符的 StatefulSet 无法创建 Pod（其 `controller-revision-hash` 标签超过 63 字符）。
- **etcd** `--quota-backend-bytes`（默认 2GB，建议不超过 8GB）；超出配额后 etcd 报 `mvcc: database space exceeded`：需压缩、碎片整理并解除告警。
- gRPC 通常限制为 4MB。

这些限制导致的错误（事件、日志）在采集前 6 小时内出现才算当前问题，更早的报告为 info。节点 Pod 已满且近期有 Pod 因此被拒绝时为 high。
```
kubectl get nodes -o custom-columns=NAME:.metadata.name,PODS:.status.capacity.pods
kubectl get cm -A -o json | jq -r '.items[] | "\\(.metadata.namespace)/\\(.metadata.name) \\(tostring|length)"' | sort -k2 -n | tail
kubectl apply --server-side -f big-crd.yaml
ETCDCTL_API=3 etcdctl endpoint status -w table
ETCDCTL_API=3 etcdctl defrag && ETCDCTL_API=3 etcdctl alarm disarm
```
"""
[message]
en = """\
{% if kind == 'node' %}node {{ name }} runs {{ pods }} pods of its capacity of {{ cap }} (pods per node limit, maxPods)\
{% elif kind == 'object' %}{{ object_kind }} {{ object }} is {{ kib }} KiB, close to etcd's 1 MiB object limit\
  {% if big_for_apply %}; too big for client-side kubectl apply (last-applied annotation over 256 KiB){% endif %}\
{% elif kind == 'annotations' %}{{ object_kind }} {{ object }} carries {{ kib }} KiB of annotations, \
close to the 256 KiB limit for all annotations together\
{% elif kind == 'statefulset' %}StatefulSet {{ object }} has a {{ name_len }}-character name: \
its pods' controller-revision-hash label exceeds {{ dns_label_max }} characters, so it cannot create pods\
{% elif kind == 'etcd' %}etcd --quota-backend-bytes is {{ quota_gib }} GiB ({{ origin }}), above the recommended maximum of 8 GiB\
{% else %}{{ count }} errors from Kubernetes/etcd size limits (\
  {% for l in limits %}\
    {% if l == 'pods' %}pods per node{% elif l == 'object' %}object size{% elif l == 'annotations' %}annotation size\
    {% elif l == 'label' %}63-character DNS label{% elif l == 'grpc' %}gRPC 4 MB message{% else %}etcd quota exceeded{% endif %}\
    {% if not loop.last %}, {% endif %}\
  {% endfor %})\
{% endif %}"""
zh = """\
{% if kind == 'node' %}节点 {{ name }} 运行了 {{ pods }} 个 Pod，容量为 {{ cap }}（每节点 Pod 数上限，maxPods）\
{% elif kind == 'object' %}{{ object_kind }} {{ object }} 大小为 {{ kib }} KiB，接近 etcd 的 1 MiB 对象大小限制\
  {% if big_for_apply %}；对客户端 kubectl apply 来说过大（last-applied annotation 超过 256 KiB）{% endif %}\
{% elif kind == 'annotations' %}{{ object_kind }} {{ object }} 的 annotation 共 {{ kib }} KiB，\
接近所有 annotation 合计 256 KiB 的限制\
{% elif kind == 'statefulset' %}StatefulSet {{ object }} 的名称长度为 {{ name_len }} 个字符：\
其 Pod 的 controller-revision-hash 标签超过 {{ dns_label_max }} 个字符，因此无法创建 Pod\
{% elif kind == 'etcd' %}etcd --quota-backend-bytes 为 {{ quota_gib }} GiB（{{ origin }}），超过建议的最大值 8 GiB\
{% else %}{{ count }} 个错误来自 Kubernetes/etcd 的大小限制（\
  {% for l in limits %}\
    {% if l == 'pods' %}每节点 Pod 数{% elif l == 'object' %}对象大小{% elif l == 'annotations' %}annotation 大小\
    {% elif l == 'label' %}63 字符的 DNS label{% elif l == 'grpc' %}gRPC 4 MB 消息{% else %}etcd 配额超限{% endif %}\
    {% if not loop.last %}、{% endif %}\
  {% endfor %}）\
{% endif %}"""
[thresholds]
# Share of a node's pod capacity in use before it is reported.
pod_capacity_ratio = 0.95
# Objects (as stored, without managedFields) above this size are close to etcd's limit, and
# above object_limit_bytes at it.
object_warn_bytes = 819200
object_limit_bytes = 1048576
annotation_warn_bytes = 204800
annotation_limit_bytes = 262144
dns_label_max = 63
statefulset_name_max = 52
etcd_quota_max_bytes = 8589934592
--- */
WITH live_pods AS (
    -- Counted per node first: one row per node to join, not one per pod.
    SELECT bundle_id, node, count(*) AS n FROM pods
    WHERE coalesce(phase, '') NOT IN ('Succeeded', 'Failed') AND deleted_at IS NULL AND node IS NOT NULL
    GROUP BY bundle_id, node
),
full_nodes AS (
    SELECT n.bundle_id, n.name, p.n AS pods, TRY_CAST(n.capacity_pods AS BIGINT) AS cap
    FROM nodes n JOIN live_pods p ON p.bundle_id = n.bundle_id AND p.node = n.name
    WHERE n.capacity_pods > 0 AND p.n >= n.capacity_pods * ${pod_capacity_ratio}
),
errors AS (
    SELECT e.bundle_id, coalesce(e.object_kind || ' ' || coalesce(e.object_namespace || '/', '') || e.object_name, '') AS origin,
        e.message AS line, e.count AS n,
        CAST(e.last_seen AS TIMESTAMPTZ) AS ts, b.collected_at - e.last_seen AS age, CAST(e.first_seen AS TIMESTAMPTZ) AS first_ts
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, 'request is too large') OR contains(e.message, 'Request entity too large')
       OR contains(e.message, 'Too long: must have at most') OR contains(e.message, 'must be no more than 63 characters')
       OR contains(e.message, 'message larger than max') OR contains(e.message, 'database space exceeded')
       OR (e.reason = 'FailedScheduling' AND contains(e.message, 'Too many pods')) OR e.reason = 'OutOfpods'
    UNION ALL
    -- A pod rejected for a full node (OutOfpods) is current as long as it exists.
    SELECT bundle_id, 'Pod ' || namespace || '/' || name, coalesce(message, reason), 1, NULL, NULL, NULL
    FROM pods WHERE reason = 'OutOfpods'
    UNION ALL
    SELECT bundle_id, source || ' log ' || coalesce(namespace || '/' || pod || '/' || container, service, ''), line, 1, ts, age, ts
    FROM log_lines
    WHERE contains(line, 'request is too large') OR contains(line, 'Request entity too large')
       OR contains(line, 'Too long: must have at most') OR contains(line, 'must be no more than 63 characters')
       OR contains(line, 'message larger than max') OR contains(line, 'database space exceeded')
),
-- Nodes are full in fact when pods were turned away lately for it.
pods_turned_away AS (
    SELECT DISTINCT bundle_id FROM errors
    WHERE (contains(line, 'Too many pods') OR contains(line, 'OutOfpods') OR contains(line, 'resource: pods'))
      AND in_window(age, ${recent})
),
etcd_quota_src AS (
    SELECT bundle_id, node, 'pod ' || namespace || '/' || pod AS origin,
        TRY_CAST(regexp_extract(coalesce(CAST(command AS VARCHAR), '') || ' ' || coalesce(CAST(args AS VARCHAR), ''), 'quota-backend-bytes[= ]+"?([0-9]+)', 1) AS HUGEINT) AS bytes
    FROM containers
    WHERE contains(coalesce(CAST(command AS VARCHAR), '') || ' ' || coalesce(CAST(args AS VARCHAR), ''), 'quota-backend-bytes')
    UNION ALL
    SELECT bundle_id, node, 'file ' || path,
        TRY_CAST(regexp_extract(content, 'quota-backend-bytes[= :]+"?([0-9]+)', 1) AS HUGEINT)
    FROM host_files
    WHERE contains(content, 'quota-backend-bytes')
),
etcd_quota AS (
    SELECT node, bytes, any_value(bundle_id) AS bundle_id, string_agg(DISTINCT origin, ', ' ORDER BY origin) AS origin
    FROM etcd_quota_src WHERE bytes IS NOT NULL GROUP BY node, bytes
),
rows AS (
    SELECT 'node/' || name AS resource, NULL AS namespace, name, name AS node, bundle_id,
        'node' AS kind, pods, cap, NULL AS object_kind, NULL AS object, NULL::BIGINT AS kib, NULL::BOOLEAN AS big_for_apply,
        NULL::BIGINT AS name_len, NULL AS quota_gib, NULL AS origin, NULL::VARCHAR[] AS limits,
        ['pods: ' || pods || ' / ' || cap] AS evidence,
        CASE WHEN pods >= cap AND bundle_id IN (SELECT bundle_id FROM pods_turned_away) THEN 'high' ELSE 'medium' END AS severity,
        NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen, NULL::BIGINT AS recent_count, NULL::BIGINT AS count
    FROM full_nodes
    UNION ALL
    SELECT lower(kind) || '/' || CASE WHEN namespace = '' THEN '' ELSE namespace || '/' END || name, namespace, name, NULL, bundle_id,
        'object', NULL, NULL, kind, CASE WHEN namespace = '' THEN '' ELSE namespace || '/' END || name, CAST(round(doc_bytes / 1024.0) AS BIGINT),
        doc_bytes > ${annotation_limit_bytes}, NULL, NULL, NULL, NULL,
        ['size: ' || doc_bytes || ' bytes (without managedFields)'],
        CASE WHEN doc_bytes >= ${object_limit_bytes} THEN 'medium' ELSE 'low' END,
        NULL, NULL, NULL, NULL
    FROM objects
    WHERE doc_bytes >= ${object_warn_bytes} AND resource <> 'events'
    UNION ALL
    SELECT lower(kind) || '/' || CASE WHEN namespace = '' THEN '' ELSE namespace || '/' END || name, namespace, name, NULL, bundle_id,
        'annotations', NULL, NULL, kind, name, CAST(round(strlen(CAST(annotations AS VARCHAR)) / 1024.0) AS BIGINT),
        NULL, NULL, NULL, NULL, NULL,
        list_transform(list_filter(json_keys(annotations), lambda k: strlen(CAST(json_extract(annotations, json_pointer(k)) AS VARCHAR)) > 10240),
            lambda k: 'annotation ' || k),
        'medium',
        NULL, NULL, NULL, NULL
    FROM objects
    -- The annotations are part of the document: only large documents can carry that much.
    WHERE doc_bytes >= ${annotation_warn_bytes} AND strlen(CAST(annotations AS VARCHAR)) >= ${annotation_warn_bytes} AND resource <> 'events'
    UNION ALL
    SELECT 'statefulset/' || namespace || '/' || name, namespace, name, NULL, bundle_id,
        'statefulset', NULL, NULL, NULL, namespace || '/' || name, NULL, NULL, strlen(name), NULL, NULL, NULL,
        ['name length ' || strlen(name) || ' > ' || ${statefulset_name_max}],
        'high',
        NULL, NULL, NULL, NULL
    FROM workloads
    WHERE kind = 'StatefulSet' AND strlen(name) > ${statefulset_name_max}
    UNION ALL
    SELECT 'etcd/' || coalesce(node, 'cluster'), NULL, NULL, node, bundle_id,
        'etcd', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        -- DuckDB's text of the rounded number (12.0, 9.5).
        CAST(round(bytes / 1073741824.0, 1) AS VARCHAR), origin, NULL,
        ['quota-backend-bytes=' || bytes],
        -- A recommendation (keep it at most 8 GB), not a failure.
        'low',
        NULL, NULL, NULL, NULL
    FROM etcd_quota
    WHERE bytes > ${etcd_quota_max_bytes}
    UNION ALL
    SELECT 'cluster', NULL, NULL, NULL, bundle_id,
        'errors', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        list_filter([
            CASE WHEN bool_or(contains(line, 'Too many pods') OR contains(line, 'OutOfpods') OR contains(line, 'resource: pods')) THEN 'pods' END,
            CASE WHEN bool_or(contains(line, 'request is too large') OR contains(line, 'Request entity too large')) THEN 'object' END,
            CASE WHEN bool_or(contains(line, 'Too long: must have at most')) THEN 'annotations' END,
            CASE WHEN bool_or(contains(line, 'must be no more than 63 characters')) THEN 'label' END,
            CASE WHEN bool_or(contains(line, 'message larger than max')) THEN 'grpc' END,
            CASE WHEN bool_or(contains(line, 'database space exceeded')) THEN 'quota' END], lambda x: x IS NOT NULL),
        list(DISTINCT origin || ': ' || line)[1:4],
        -- etcd past its quota refuses every write: an outage while it is current. The other
        -- limits fail the requests that hit them.
        CASE WHEN bool_or(contains(line, 'database space exceeded') AND in_window(age, ${recent})) THEN 'critical' ELSE 'medium' END,
        min(first_ts), max(ts),
        CAST(coalesce(sum(n) FILTER (WHERE in_window(age, ${recent})), 0) AS BIGINT),
        CAST(sum(n) AS BIGINT)
    FROM errors
    GROUP BY bundle_id
    HAVING count(*) > 0
)
SELECT resource, namespace, name, node, bundle_id, kind, pods, cap, object_kind, object, kib, big_for_apply, name_len,
    quota_gib, origin, limits, evidence, severity, first_seen, last_seen, recent_count, count
FROM rows
ORDER BY resource
