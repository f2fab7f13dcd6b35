-- Events from core/v1 and events.k8s.io/v1 in one shape; the same event served by both APIs
-- (same uid) appears once.
CREATE TABLE events AS
WITH core AS (
    SELECT o.bundle_id, o.namespace, o.name, o.uid,
        from_json(doc, '{"type":"VARCHAR","reason":"VARCHAR","message":"VARCHAR","count":"BIGINT","firstTimestamp":"VARCHAR","lastTimestamp":"VARCHAR","eventTime":"VARCHAR","involvedObject":{"kind":"VARCHAR","namespace":"VARCHAR","name":"VARCHAR","uid":"VARCHAR","fieldPath":"VARCHAR"},"source":{"component":"VARCHAR","host":"VARCHAR"},"reportingComponent":"VARCHAR","reportingInstance":"VARCHAR","series":{"count":"BIGINT","lastObservedTime":"VARCHAR"}}') AS e,
        o.created_at
    FROM objects o WHERE api_group = '' AND resource = 'events'
),
new AS (
    SELECT o.bundle_id, o.namespace, o.name, o.uid,
        from_json(doc, '{"type":"VARCHAR","reason":"VARCHAR","note":"VARCHAR","deprecatedCount":"BIGINT","deprecatedFirstTimestamp":"VARCHAR","deprecatedLastTimestamp":"VARCHAR","eventTime":"VARCHAR","regarding":{"kind":"VARCHAR","namespace":"VARCHAR","name":"VARCHAR","uid":"VARCHAR","fieldPath":"VARCHAR"},"deprecatedSource":{"component":"VARCHAR","host":"VARCHAR"},"reportingController":"VARCHAR","reportingInstance":"VARCHAR","series":{"count":"BIGINT","lastObservedTime":"VARCHAR"}}') AS e,
        o.created_at
    FROM objects o WHERE api_group = 'events.k8s.io' AND resource = 'events'
)
SELECT bundle_id, namespace, name, uid, e.type AS type, e.reason AS reason, e.message AS message,
    coalesce(e.series.count, e.count, 1) AS count,
    e.involvedObject.kind AS object_kind, e.involvedObject.namespace AS object_namespace,
    e.involvedObject.name AS object_name, e.involvedObject.uid AS object_uid,
    e.involvedObject.fieldPath AS field_path,
    coalesce(e.source.component, e.reportingComponent) AS source_component,
    e.source.host AS source_host,
    coalesce(k8s_ts(e.firstTimestamp), k8s_ts(e.eventTime), created_at) AS first_seen,
    coalesce(k8s_ts(e.series.lastObservedTime), k8s_ts(e.lastTimestamp), k8s_ts(e.eventTime), created_at) AS last_seen
FROM core
UNION ALL
SELECT bundle_id, namespace, name, uid, e.type, e.reason, e.note,
    coalesce(e.series.count, e.deprecatedCount, 1),
    e.regarding.kind, e.regarding.namespace, e.regarding.name, e.regarding.uid, e.regarding.fieldPath,
    coalesce(e.deprecatedSource.component, e.reportingController),
    e.deprecatedSource.host,
    coalesce(k8s_ts(e.deprecatedFirstTimestamp), k8s_ts(e.eventTime), created_at),
    coalesce(k8s_ts(e.series.lastObservedTime), k8s_ts(e.deprecatedLastTimestamp), k8s_ts(e.eventTime), created_at)
FROM new
WHERE uid IS NULL OR uid NOT IN (SELECT uid FROM core WHERE uid IS NOT NULL);

-- Nodes with their status flattened.
CREATE TABLE nodes AS
WITH n AS (
    SELECT o.*, from_json(doc, '{"spec":{"podCIDR":"VARCHAR","unschedulable":"BOOLEAN","taints":[{"key":"VARCHAR","value":"VARCHAR","effect":"VARCHAR"}],"providerID":"VARCHAR"},"status":{"capacity":"MAP(VARCHAR, VARCHAR)","allocatable":"MAP(VARCHAR, VARCHAR)","addresses":[{"type":"VARCHAR","address":"VARCHAR"}],"nodeInfo":{"kubeletVersion":"VARCHAR","kubeProxyVersion":"VARCHAR","kernelVersion":"VARCHAR","osImage":"VARCHAR","containerRuntimeVersion":"VARCHAR","operatingSystem":"VARCHAR","architecture":"VARCHAR"},"conditions":[{"type":"VARCHAR","status":"VARCHAR","reason":"VARCHAR","message":"VARCHAR"}],"images":"JSON"}}') AS s
    FROM objects o WHERE api_group = '' AND resource = 'nodes'
)
SELECT bundle_id, name, uid, labels, annotations, created_at, deleted_at,
    list_sort(list_transform(
        list_filter(json_keys(labels), lambda k: k LIKE 'node-role.kubernetes.io/%'),
        lambda k: replace(k, 'node-role.kubernetes.io/', ''))) AS roles,
    list_filter(s.status.addresses, lambda a: a.type = 'InternalIP')[1].address AS internal_ip,
    list_filter(s.status.addresses, lambda a: a.type = 'ExternalIP')[1].address AS external_ip,
    list_filter(s.status.addresses, lambda a: a.type = 'Hostname')[1].address AS hostname,
    s.status.nodeInfo.kubeletVersion AS kubelet_version,
    s.status.nodeInfo.kubeProxyVersion AS kube_proxy_version,
    s.status.nodeInfo.kernelVersion AS kernel_version,
    s.status.nodeInfo.osImage AS os_image,
    s.status.nodeInfo.containerRuntimeVersion AS container_runtime_version,
    s.status.nodeInfo.operatingSystem AS os,
    s.status.nodeInfo.architecture AS arch,
    s.spec.podCIDR AS pod_cidr,
    coalesce(s.spec.unschedulable, false) AS unschedulable,
    coalesce(s.spec.taints, []) AS taints,
    k8s_quantity(s.status.capacity['cpu']) AS capacity_cpu,
    k8s_quantity(s.status.capacity['memory']) AS capacity_memory_bytes,
    k8s_quantity(s.status.capacity['pods']) AS capacity_pods,
    k8s_quantity(s.status.capacity['ephemeral-storage']) AS capacity_ephemeral_bytes,
    k8s_quantity(s.status.allocatable['cpu']) AS allocatable_cpu,
    k8s_quantity(s.status.allocatable['memory']) AS allocatable_memory_bytes,
    k8s_quantity(s.status.allocatable['pods']) AS allocatable_pods,
    k8s_quantity(s.status.allocatable['ephemeral-storage']) AS allocatable_ephemeral_bytes,
    coalesce(list_filter(s.status.conditions, lambda c: c.type = 'Ready')[1].status = 'True', false) AS ready,
    list_filter(s.status.conditions, lambda c: c.type = 'Ready')[1].reason AS ready_reason,
    list_filter(s.status.conditions, lambda c: c.type = 'Ready')[1].message AS ready_message,
    s.status.addresses AS addresses,
    doc
FROM n;

CREATE TABLE node_conditions AS
SELECT bundle_id, name AS node, type, status, reason, message, last_transition, last_heartbeat
FROM object_conditions WHERE api_group = '' AND resource = 'nodes';

CREATE VIEW node_taints AS
SELECT bundle_id, name AS node, t.key AS key, t.value AS value, t.effect AS effect
FROM (SELECT bundle_id, name, unnest(taints) AS t FROM nodes);

CREATE VIEW node_addresses AS
SELECT bundle_id, name AS node, a.type AS type, a.address AS address
FROM (SELECT bundle_id, name, unnest(addresses) AS a FROM nodes);

CREATE TABLE namespaces AS
SELECT bundle_id, name, uid, labels, annotations, created_at, deleted_at, finalizers,
    coalesce(doc->>'$.status.phase', 'Active') AS phase,
    from_json(doc->'$.spec.finalizers', '["VARCHAR"]') AS spec_finalizers,
    (doc->'$.status.conditions') AS conditions,
    doc
FROM objects WHERE api_group = '' AND resource = 'namespaces';

CREATE TABLE services AS
SELECT bundle_id, namespace, name, uid, labels, created_at,
    coalesce(doc->>'$.spec.type', 'ClusterIP') AS type,
    (doc->>'$.spec.clusterIP') AS cluster_ip,
    (doc->'$.spec.selector') AS selector,
    (doc->'$.spec.ports') AS ports,
    (doc->'$.status.loadBalancer.ingress') AS load_balancer_ingress,
    doc
FROM objects WHERE api_group = '' AND resource = 'services';

-- Endpoints addresses, ready and not ready, one row per address.
CREATE TABLE endpoint_addresses AS
WITH subsets AS (
    SELECT bundle_id, namespace, name,
        unnest(from_json(doc->'$.subsets', '[{"addresses":[{"ip":"VARCHAR","nodeName":"VARCHAR","targetRef":{"kind":"VARCHAR","name":"VARCHAR","namespace":"VARCHAR"}}],"notReadyAddresses":[{"ip":"VARCHAR","nodeName":"VARCHAR","targetRef":{"kind":"VARCHAR","name":"VARCHAR","namespace":"VARCHAR"}}]}]')) AS s
    FROM objects WHERE api_group = '' AND resource = 'endpoints'
)
SELECT bundle_id, namespace, name, true AS ready, a.ip AS ip, a.nodeName AS node,
    a.targetRef.kind AS target_kind, a.targetRef.name AS target_name
FROM (SELECT bundle_id, namespace, name, unnest(coalesce(s.addresses, [])) AS a FROM subsets)
UNION ALL
SELECT bundle_id, namespace, name, false, a.ip, a.nodeName, a.targetRef.kind, a.targetRef.name
FROM (SELECT bundle_id, namespace, name, unnest(coalesce(s.notReadyAddresses, [])) AS a FROM subsets);

-- Endpoints objects with address counts (0 when the object has no subsets).
CREATE TABLE endpoints AS
SELECT o.bundle_id, o.namespace, o.name,
    count(a.ip) FILTER (WHERE a.ready) AS ready_addresses,
    count(a.ip) FILTER (WHERE NOT a.ready) AS not_ready_addresses,
    any_value(o.doc) AS doc
FROM objects o
LEFT JOIN endpoint_addresses a USING (bundle_id, namespace, name)
WHERE o.api_group = '' AND o.resource = 'endpoints'
GROUP BY ALL;

CREATE TABLE apiservices AS
SELECT o.bundle_id, o.name,
    (doc->>'$.spec.service.namespace') AS service_namespace,
    (doc->>'$.spec.service.name') AS service_name,
    (doc->>'$.spec.group') AS "group",
    (doc->>'$.spec.version') AS version,
    c.status AS available, c.reason AS reason, c.message AS message, c.last_transition AS last_transition,
    o.doc
FROM objects o
LEFT JOIN object_conditions c
    ON c.bundle_id = o.bundle_id AND c.resource = 'apiservices' AND c.name = o.name AND c.type = 'Available'
WHERE o.api_group = 'apiregistration.k8s.io' AND o.resource = 'apiservices';

CREATE TABLE crds AS
SELECT bundle_id, name, created_at, deleted_at,
    (doc->>'$.spec.group') AS "group",
    (doc->>'$.spec.names.kind') AS crd_kind,
    (doc->>'$.spec.names.plural') AS plural,
    (doc->>'$.spec.scope') AS scope,
    doc
FROM objects WHERE api_group = 'apiextensions.k8s.io' AND resource = 'customresourcedefinitions';

CREATE TABLE pvcs AS
SELECT bundle_id, namespace, name, created_at, deleted_at,
    (doc->>'$.spec.storageClassName') AS storage_class,
    (doc->>'$.spec.volumeName') AS volume_name,
    (doc->>'$.status.phase') AS phase,
    doc
FROM objects WHERE api_group = '' AND resource = 'persistentvolumeclaims';

CREATE TABLE storage_classes AS
SELECT bundle_id, name,
    (doc->>'$.provisioner') AS provisioner,
    coalesce(doc->>'$.volumeBindingMode', 'Immediate') AS binding_mode,
    coalesce(json_extract_string(annotations, '$."storageclass.kubernetes.io/is-default-class"'),
             json_extract_string(annotations, '$."storageclass.beta.kubernetes.io/is-default-class"')) = 'true' AS is_default,
    doc
FROM objects WHERE api_group = 'storage.k8s.io' AND resource = 'storageclasses';
