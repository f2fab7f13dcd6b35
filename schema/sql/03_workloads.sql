-- Every pod document parsed once, for pods and containers: each parse of the documents reads
-- them whole, and pods are most of a cluster's bytes.
CREATE TEMP TABLE pod_docs AS
SELECT o.bundle_id, o.namespace, o.name, o.uid, o.labels, o.annotations, o.created_at,
    o.deleted_at, o.finalizers, o.owner_kind, o.owner_name, o.owner_uid,
    from_json(doc, '{"spec":{"nodeName":"VARCHAR","serviceAccountName":"VARCHAR","hostNetwork":"BOOLEAN","dnsPolicy":"VARCHAR","dnsConfig":"JSON","priorityClassName":"VARCHAR","schedulerName":"VARCHAR","nodeSelector":"JSON","affinity":"JSON","tolerations":"JSON","volumes":"JSON","securityContext":"JSON","initContainers":["JSON"],"containers":["JSON"],"ephemeralContainers":["JSON"]},"status":{"phase":"VARCHAR","reason":"VARCHAR","message":"VARCHAR","qosClass":"VARCHAR","podIP":"VARCHAR","hostIP":"VARCHAR","startTime":"VARCHAR","nominatedNodeName":"VARCHAR","conditions":[{"type":"VARCHAR","status":"VARCHAR","reason":"VARCHAR","message":"VARCHAR","lastTransitionTime":"VARCHAR"}],"initContainerStatuses":["JSON"],"containerStatuses":["JSON"],"ephemeralContainerStatuses":["JSON"]}}') AS s
FROM objects o
WHERE o.api_group = '' AND o.resource = 'pods';

-- Pods, with the fields rules ask about most.
CREATE TABLE pods AS
SELECT bundle_id, namespace, name, uid, labels, annotations, created_at, deleted_at, finalizers,
    owner_kind, owner_name, owner_uid,
    s.spec.nodeName AS node,
    s.spec.serviceAccountName AS service_account,
    coalesce(s.spec.hostNetwork, false) AS host_network,
    s.spec.priorityClassName AS priority_class,
    s.spec.schedulerName AS scheduler_name,
    s.spec.nodeSelector AS node_selector,
    s.spec.affinity AS affinity,
    s.spec.tolerations AS tolerations,
    s.spec.volumes AS volumes,
    s.spec.securityContext AS security_context,
    s.spec.dnsPolicy AS dns_policy,
    s.spec.dnsConfig AS dns_config,
    s.status.phase AS phase,
    s.status.reason AS reason,
    s.status.message AS message,
    s.status.qosClass AS qos_class,
    s.status.podIP AS pod_ip,
    s.status.hostIP AS host_ip,
    k8s_ts(s.status.startTime) AS started_at,
    coalesce(list_filter(s.status.conditions, lambda c: c.type = 'Ready')[1].status = 'True', false) AS ready,
    list_filter(s.status.conditions, lambda c: c.type = 'PodScheduled')[1].reason AS scheduled_reason,
    list_filter(s.status.conditions, lambda c: c.type = 'PodScheduled')[1].message AS scheduled_message,
    s.status.conditions AS conditions
FROM pod_docs;

-- Every container of every pod (init, regular, ephemeral) joined with its status.
CREATE TABLE containers AS
-- Not materialized: read three times below, a materialized CTE would be one thread's copy of
-- every parsed pod, and the statement would run on that one thread.
WITH spec AS NOT MATERIALIZED (
    SELECT bundle_id, namespace, name AS pod, uid AS pod_uid, s FROM pod_docs
),
c AS (
    SELECT bundle_id, namespace, pod, pod_uid, s.spec.nodeName AS node, 'init' AS container_type,
        unnest(coalesce(s.spec.initContainers, [])) AS spec, s.status.initContainerStatuses AS statuses,
        generate_subscripts(coalesce(s.spec.initContainers, []), 1) AS position
    FROM spec
    UNION ALL
    SELECT bundle_id, namespace, pod, pod_uid, s.spec.nodeName, 'regular',
        unnest(coalesce(s.spec.containers, [])), s.status.containerStatuses,
        generate_subscripts(coalesce(s.spec.containers, []), 1)
    FROM spec
    UNION ALL
    SELECT bundle_id, namespace, pod, pod_uid, s.spec.nodeName, 'ephemeral',
        unnest(coalesce(s.spec.ephemeralContainers, [])), s.status.ephemeralContainerStatuses,
        generate_subscripts(coalesce(s.spec.ephemeralContainers, []), 1)
    FROM spec
),
typed AS (
    SELECT bundle_id, namespace, pod, pod_uid, node, container_type, position, spec,
        from_json(spec, '{"name":"VARCHAR","image":"VARCHAR","command":"JSON","args":"JSON","env":"JSON","ports":"JSON","resources":{"requests":"MAP(VARCHAR, VARCHAR)","limits":"MAP(VARCHAR, VARCHAR)"},"securityContext":"JSON","volumeMounts":"JSON"}') AS cs,
        statuses
    FROM c
),
joined AS (
    SELECT t.*,
        list_filter(coalesce(t.statuses, []), lambda x: (x->>'name') = t.cs.name)[1] AS status
    FROM typed t
),
st AS (
    SELECT j.*,
        from_json(status, '{"ready":"BOOLEAN","started":"BOOLEAN","restartCount":"BIGINT","image":"VARCHAR","imageID":"VARCHAR","containerID":"VARCHAR","state":{"waiting":{"reason":"VARCHAR","message":"VARCHAR"},"running":{"startedAt":"VARCHAR"},"terminated":{"reason":"VARCHAR","message":"VARCHAR","exitCode":"BIGINT","finishedAt":"VARCHAR","startedAt":"VARCHAR"}},"lastState":{"terminated":{"reason":"VARCHAR","message":"VARCHAR","exitCode":"BIGINT","finishedAt":"VARCHAR","startedAt":"VARCHAR"}}}') AS ss
    FROM joined j
)
SELECT bundle_id, namespace, pod, pod_uid, node, container_type, position,
    cs.name AS name,
    cs.image AS image,
    image_registry(cs.image) AS registry,
    cs.command AS command,
    cs.args AS args,
    cs.env AS env,
    cs.ports AS ports,
    cs.resources.requests AS requests,
    cs.resources.limits AS limits,
    cs.resources.requests['memory'] AS memory_request,
    cs.resources.limits['memory'] AS memory_limit,
    k8s_quantity(cs.resources.limits['memory']) AS memory_limit_bytes,
    k8s_quantity(cs.resources.requests['memory']) AS memory_request_bytes,
    cs.resources.requests['cpu'] AS cpu_request,
    cs.resources.limits['cpu'] AS cpu_limit,
    coalesce(ss.ready, false) AS ready,
    ss.started AS started,
    coalesce(ss.restartCount, 0) AS restart_count,
    ss.imageID AS image_id,
    CASE WHEN ss.state.waiting IS NOT NULL THEN 'waiting'
         WHEN ss.state.terminated IS NOT NULL THEN 'terminated'
         WHEN ss.state.running IS NOT NULL THEN 'running' END AS state,
    coalesce(ss.state.waiting.reason, ss.state.terminated.reason) AS state_reason,
    coalesce(ss.state.waiting.message, ss.state.terminated.message) AS state_message,
    ss.state.terminated.exitCode AS exit_code,
    ss.lastState.terminated.reason AS last_reason,
    ss.lastState.terminated.message AS last_message,
    ss.lastState.terminated.exitCode AS last_exit_code,
    k8s_ts(ss.lastState.terminated.finishedAt) AS last_finished_at,
    -- When the current instance started (running or terminated), when it ended, and when
    -- the previous instance started: the timeline's container starts and terminations.
    k8s_ts(coalesce(ss.state.running.startedAt, ss.state.terminated.startedAt)) AS started_at,
    k8s_ts(ss.state.terminated.finishedAt) AS finished_at,
    k8s_ts(ss.lastState.terminated.startedAt) AS last_started_at,
    spec,
    status
FROM st;

DROP TABLE pod_docs;

-- Pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs in
-- one shape. The template's spec is parsed here, once, for the columns rules test most
-- (host network, volumes) and for workload_containers.
CREATE TABLE workloads AS
WITH t AS (
    -- One parse of each document; the template (a CronJob's is one level deeper) is kept as
    -- JSON for rules and parsed again on its own, for the columns below.
    SELECT o.bundle_id, o.kind, o.namespace, o.name, o.uid, o.labels, o.annotations, o.created_at,
        o.deleted_at, o.owner_kind, o.owner_name, o.owner_uid,
        from_json(doc, '{"spec":{"replicas":"BIGINT","selector":"JSON","strategy":"JSON","updateStrategy":"JSON","schedule":"VARCHAR","suspend":"BOOLEAN","template":"JSON","jobTemplate":{"spec":{"template":"JSON"}}},"status":{"replicas":"BIGINT","readyReplicas":"BIGINT","availableReplicas":"BIGINT","updatedReplicas":"BIGINT","desiredNumberScheduled":"BIGINT","numberReady":"BIGINT","numberAvailable":"BIGINT","currentNumberScheduled":"BIGINT","numberMisscheduled":"BIGINT","active":"BIGINT","succeeded":"BIGINT","failed":"BIGINT"}}') AS s
    FROM objects o
    WHERE (api_group = 'apps' AND resource IN ('deployments', 'statefulsets', 'daemonsets', 'replicasets'))
       OR (api_group = 'batch' AND resource IN ('jobs', 'cronjobs'))
),
w AS (
    SELECT t.*,
        CASE WHEN kind = 'CronJob' THEN s.spec.jobTemplate.spec.template ELSE s.spec.template END AS template
    FROM t
),
wt AS (
    SELECT w.*,
        from_json(template, '{"spec":{"hostNetwork":"BOOLEAN","volumes":"JSON","initContainers":["JSON"],"containers":["JSON"]}}').spec AS ts
    FROM w
)
SELECT bundle_id, kind, namespace, name, uid, labels, annotations, created_at, deleted_at,
    owner_kind, owner_name, owner_uid,
    CASE WHEN kind = 'DaemonSet' THEN s.status.desiredNumberScheduled ELSE s.spec.replicas END AS desired,
    CASE WHEN kind = 'DaemonSet' THEN s.status.numberReady ELSE s.status.readyReplicas END AS ready,
    CASE WHEN kind = 'DaemonSet' THEN s.status.numberAvailable ELSE s.status.availableReplicas END AS available,
    s.status.updatedReplicas AS updated,
    s.spec.selector AS selector,
    coalesce(s.spec.strategy, s.spec.updateStrategy) AS strategy,
    s.spec.schedule AS schedule,
    s.status.active AS active,
    s.status.succeeded AS succeeded,
    s.status.failed AS failed,
    coalesce(ts.hostNetwork, false) AS host_network,
    ts.volumes AS volumes,
    ts.initContainers AS init_container_specs,
    ts.containers AS container_specs,
    template
FROM wt;

-- Containers of workload templates, from the specs workloads parsed.
CREATE TABLE workload_containers AS
WITH c AS (
    SELECT bundle_id, kind, namespace, name AS workload, 'init' AS container_type,
        unnest(init_container_specs) AS spec FROM workloads
    UNION ALL
    SELECT bundle_id, kind, namespace, name, 'regular',
        unnest(container_specs) FROM workloads
),
typed AS (
    SELECT c.*,
        from_json(spec, '{"name":"VARCHAR","image":"VARCHAR","args":"JSON","command":"JSON","ports":"JSON","resources":{"requests":"MAP(VARCHAR, VARCHAR)","limits":"MAP(VARCHAR, VARCHAR)"}}') AS cs
    FROM c
)
SELECT bundle_id, kind, namespace, workload, container_type,
    cs.name AS name,
    cs.image AS image,
    image_registry(cs.image) AS registry,
    cs.args AS args,
    cs.command AS command,
    cs.ports AS ports,
    cs.resources.requests AS requests,
    cs.resources.limits AS limits,
    cs.resources.limits['memory'] AS memory_limit,
    cs.resources.requests['memory'] AS memory_request,
    spec
FROM typed;

-- The container specs now live in workload_containers.
ALTER TABLE workloads DROP COLUMN init_container_specs;
ALTER TABLE workloads DROP COLUMN container_specs;
