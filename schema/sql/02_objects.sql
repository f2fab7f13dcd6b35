-- `objects` is filled while loading (00_raw.sql, object_meta and object_row in 01_macros.sql):
-- each document is parsed once as it is read, and stored once.

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
