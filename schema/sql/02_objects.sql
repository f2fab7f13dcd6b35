-- Every API object, its metadata parsed once. Rules that need a kind without a dedicated
-- table filter this by (api_group, resource) or kind.
CREATE TABLE objects AS
WITH p AS (
    SELECT bundle_id, api_group, version, resource, doc,
        from_json(doc, '{"apiVersion":"VARCHAR","kind":"VARCHAR","metadata":{"namespace":"VARCHAR","name":"VARCHAR","uid":"VARCHAR","creationTimestamp":"VARCHAR","deletionTimestamp":"VARCHAR","labels":"JSON","annotations":"JSON","finalizers":"VARCHAR[]","ownerReferences":[{"kind":"VARCHAR","name":"VARCHAR","uid":"VARCHAR","controller":"BOOLEAN"}]}}') AS s
    FROM raw_objects
)
SELECT
    bundle_id,
    api_group,
    version,
    resource,
    coalesce(s.apiVersion, CASE WHEN api_group = '' THEN version ELSE api_group || '/' || version END) AS api_version,
    s.kind AS kind,
    coalesce(s.metadata.namespace, '') AS namespace,
    s.metadata.name AS name,
    s.metadata.uid AS uid,
    coalesce(s.metadata.labels, '{}') AS labels,
    coalesce(s.metadata.annotations, '{}') AS annotations,
    k8s_ts(s.metadata.creationTimestamp) AS created_at,
    k8s_ts(s.metadata.deletionTimestamp) AS deleted_at,
    coalesce(s.metadata.finalizers, []) AS finalizers,
    coalesce(list_filter(s.metadata.ownerReferences, lambda o: o.controller)[1],
             s.metadata.ownerReferences[1]).kind AS owner_kind,
    coalesce(list_filter(s.metadata.ownerReferences, lambda o: o.controller)[1],
             s.metadata.ownerReferences[1]).name AS owner_name,
    coalesce(list_filter(s.metadata.ownerReferences, lambda o: o.controller)[1],
             s.metadata.ownerReferences[1]).uid AS owner_uid,
    strlen(CAST(doc AS VARCHAR)) AS doc_bytes,
    doc
FROM p;

-- objects now holds every document: the raw copy would only double memory from here on.
DROP TABLE raw_objects;

-- status.conditions of every object that has them (APIServices, Karmada clusters,
-- BackupStorageLocations, CRDs, ...). Pods and nodes have their own tables too.
CREATE TABLE object_conditions AS
WITH c AS (
    SELECT bundle_id, api_group, resource, kind, namespace, name,
        unnest(from_json(doc->'$.status.conditions', '[{"type":"VARCHAR","status":"VARCHAR","reason":"VARCHAR","message":"VARCHAR","lastTransitionTime":"VARCHAR","lastHeartbeatTime":"VARCHAR","lastUpdateTime":"VARCHAR","lastProbeTime":"VARCHAR"}]')) AS c
    FROM objects
    WHERE resource NOT IN ('pods', 'events') AND json_type(doc->'$.status.conditions') = 'ARRAY'
)
SELECT bundle_id, api_group, resource, kind, namespace, name,
    c.type AS type, c.status AS status, c.reason AS reason, c.message AS message,
    k8s_ts(c.lastTransitionTime) AS last_transition,
    k8s_ts(coalesce(c.lastHeartbeatTime, c.lastUpdateTime, c.lastProbeTime)) AS last_heartbeat
FROM c;
