-- The timeline: one row per dated fact of the case, for post-mortems ("what happened, in
-- what order, on which node"). Built once, after every other table. The analyzer adds two
-- kinds after the rules have run: `log-burst` (log lines matching a rule's patterns, per
-- node or pod and 10-minute bucket) and `finding` (each finding at its earliest evidence).
--
-- severity uses the findings' scale: info (a normal fact), low, medium, high, critical.
-- resource is spelt as findings spell it (`pod/ns/name`, `node/name`), so a finding can be
-- placed at the time of the facts about its object. evidence_kind/evidence point back:
-- `object` and `event` (uid), `log` (bundle file and line), `certificate` (host path),
-- `bundle` (bundle id), `finding` (rule id and row).
CREATE TABLE timeline (
    bundle_id VARCHAR,
    cluster VARCHAR,           -- label of the cluster bundle (a node bundle: its node's cluster)
    ts TIMESTAMP,              -- when it happened (UTC)
    end_ts TIMESTAMP,          -- intervals: when it was last seen (events), else NULL
    kind VARCHAR,
    severity VARCHAR,
    namespace VARCHAR,
    resource VARCHAR,
    node VARCHAR,              -- NULL: cluster-wide / control plane
    count BIGINT,              -- occurrences a row stands for (events, log bursts)
    summary VARCHAR,
    summary_zh VARCHAR,
    evidence_kind VARCHAR,
    evidence VARCHAR
);

-- The cluster label of every bundle: node bundles take the one of the cluster their node is in.
CREATE TEMP TABLE timeline_clusters AS
SELECT b.bundle_id,
    coalesce(
        (SELECT c.label FROM bundles c WHERE c.bundle_id = h.cluster_bundle_id),
        CASE WHEN b.kind = 'cluster' THEN b.label END,
        (SELECT any_value(c.label) FROM bundles c WHERE c.kind = 'cluster'),
        b.label) AS cluster,
    h.node AS host_node,
    b.collected_at
FROM bundles b LEFT JOIN host_nodes h USING (bundle_id);

CREATE MACRO timeline_resource(kind, ns, name) AS
    lower(coalesce(kind, 'object')) || '/' || CASE WHEN coalesce(ns, '') = '' THEN '' ELSE ns || '/' END || coalesce(name, '');

-- Events, both shapes (firstTimestamp/lastTimestamp/count and eventTime/series), as
-- intervals with their counts: `events` has already unified them.
INSERT INTO timeline
SELECT e.bundle_id, c.cluster, e.first_seen,
    CASE WHEN e.last_seen > e.first_seen THEN e.last_seen END,
    'event',
    CASE WHEN e.type = 'Warning' THEN 'medium' ELSE 'info' END,
    coalesce(e.object_namespace, e.namespace),
    timeline_resource(e.object_kind, e.object_namespace, e.object_name),
    CASE WHEN e.object_kind = 'Node' THEN e.object_name
         ELSE coalesce(CASE WHEN e.object_kind = 'Pod' THEN p.node END, nullif(e.source_host, '')) END,
    e.count,
    coalesce(e.reason, '?') || ': ' || left(coalesce(e.message, ''), 300)
        || CASE WHEN e.count > 1 THEN ' (x' || e.count || ')' ELSE '' END,
    coalesce(e.reason, '?') || '：' || left(coalesce(e.message, ''), 300)
        || CASE WHEN e.count > 1 THEN '（' || e.count || ' 次）' ELSE '' END,
    'event', coalesce(e.uid, e.namespace || '/' || e.name)
FROM events e
JOIN timeline_clusters c USING (bundle_id)
-- Equalities only (the kind is tested above): see log_lines on DuckDB 1.5's nested loops.
LEFT JOIN pods p ON p.bundle_id = e.bundle_id
    AND p.namespace = e.object_namespace AND p.name = e.object_name
WHERE e.first_seen IS NOT NULL;

-- Container starts and terminations, of the current instance (`state`) and the previous one
-- (`lastState`), with reason, exit code and restart count; OOM kills stand out.
INSERT INTO timeline
WITH runs AS (
    SELECT bundle_id, namespace, pod, pod_uid, node, name, restart_count,
        started_at AS started, finished_at AS finished, state_reason AS reason, exit_code, 'current' AS instance
    FROM containers
    UNION ALL
    SELECT bundle_id, namespace, pod, pod_uid, node, name, restart_count,
        last_started_at, last_finished_at, last_reason, last_exit_code, 'previous'
    FROM containers WHERE last_finished_at IS NOT NULL OR last_started_at IS NOT NULL
)
SELECT r.bundle_id, c.cluster, r.started, NULL, 'container-start', 'info', r.namespace,
    'pod/' || r.namespace || '/' || r.pod, r.node, NULL,
    'container ' || r.name || ' started' || CASE WHEN r.instance = 'previous' THEN ' (previous instance)' ELSE '' END,
    '容器 ' || r.name || ' 启动' || CASE WHEN r.instance = 'previous' THEN '（上一个实例）' ELSE '' END,
    'object', r.pod_uid
FROM runs r JOIN timeline_clusters c USING (bundle_id)
WHERE r.started IS NOT NULL
UNION ALL
SELECT r.bundle_id, c.cluster, r.finished, NULL,
    CASE WHEN r.reason = 'OOMKilled' THEN 'oom-kill' ELSE 'container-exit' END,
    CASE WHEN r.reason = 'OOMKilled' THEN 'high'
         WHEN coalesce(r.exit_code, 0) = 0 THEN 'info' ELSE 'medium' END,
    r.namespace, 'pod/' || r.namespace || '/' || r.pod, r.node, NULL,
    'container ' || r.name || ' terminated: ' || coalesce(r.reason, '?') || ', exit code ' || coalesce(CAST(r.exit_code AS VARCHAR), '?')
        || CASE WHEN r.restart_count = 1 THEN ', 1 restart' WHEN r.restart_count > 1 THEN ', ' || r.restart_count || ' restarts' ELSE '' END,
    '容器 ' || r.name || ' 终止：' || coalesce(r.reason, '?') || '，退出码 ' || coalesce(CAST(r.exit_code AS VARCHAR), '?')
        || CASE WHEN r.restart_count > 0 THEN '，已重启 ' || r.restart_count || ' 次' ELSE '' END,
    'object', r.pod_uid
FROM runs r JOIN timeline_clusters c USING (bundle_id)
WHERE r.finished IS NOT NULL;

-- Pods: creation, scheduling, readiness transitions, deletions in progress.
INSERT INTO timeline
WITH cond AS (
    SELECT bundle_id, namespace, name, uid, node, unnest(conditions) AS c
    FROM pods WHERE conditions IS NOT NULL
)
SELECT p.bundle_id, c.cluster, p.created_at, NULL, 'pod-created', 'info', p.namespace,
    'pod/' || p.namespace || '/' || p.name, p.node, NULL,
    'pod created', 'Pod 创建', 'object', p.uid
FROM pods p JOIN timeline_clusters c USING (bundle_id)
WHERE p.created_at IS NOT NULL
UNION ALL
SELECT p.bundle_id, c.cluster, p.deleted_at, NULL, 'pod-deleting', 'low', p.namespace,
    'pod/' || p.namespace || '/' || p.name, p.node, NULL,
    'deletion requested, pod still present at collection'
        || CASE WHEN len(p.finalizers) > 0 THEN ' (finalizers: ' || array_to_string(p.finalizers, ', ') || ')' ELSE '' END,
    '已请求删除，收集时 Pod 仍在'
        || CASE WHEN len(p.finalizers) > 0 THEN '（finalizer：' || array_to_string(p.finalizers, ', ') || '）' ELSE '' END,
    'object', p.uid
FROM pods p JOIN timeline_clusters c USING (bundle_id)
WHERE p.deleted_at IS NOT NULL
UNION ALL
SELECT d.bundle_id, c.cluster, k8s_ts(d.c.lastTransitionTime), NULL,
    CASE WHEN d.c.type = 'PodScheduled' THEN 'pod-scheduled' ELSE 'pod-readiness' END,
    CASE WHEN d.c.status = 'True' THEN 'info' WHEN d.c.type = 'PodScheduled' THEN 'medium' ELSE 'low' END,
    d.namespace, 'pod/' || d.namespace || '/' || d.name, d.node, NULL,
    CASE WHEN d.c.type = 'PodScheduled' AND d.c.status = 'True' THEN 'scheduled to ' || coalesce(d.node, '?')
         WHEN d.c.type = 'PodScheduled' THEN 'not schedulable: ' || coalesce(d.c.reason, '?') || coalesce(' — ' || left(d.c.message, 300), '')
         WHEN d.c.status = 'True' THEN 'became Ready'
         ELSE 'not Ready: ' || coalesce(d.c.reason, '?') || coalesce(' — ' || left(d.c.message, 300), '') END,
    CASE WHEN d.c.type = 'PodScheduled' AND d.c.status = 'True' THEN '调度到 ' || coalesce(d.node, '?')
         WHEN d.c.type = 'PodScheduled' THEN '无法调度：' || coalesce(d.c.reason, '?') || coalesce(' — ' || left(d.c.message, 300), '')
         WHEN d.c.status = 'True' THEN '变为 Ready'
         ELSE '变为未就绪：' || coalesce(d.c.reason, '?') || coalesce(' — ' || left(d.c.message, 300), '') END,
    'object', d.uid
FROM cond d JOIN timeline_clusters c USING (bundle_id)
WHERE d.c.type IN ('PodScheduled', 'Ready') AND k8s_ts(d.c.lastTransitionTime) IS NOT NULL;

-- Nodes: creation and condition transitions.
INSERT INTO timeline
SELECT n.bundle_id, c.cluster, n.created_at, NULL, 'node-created', 'info', NULL,
    'node/' || n.name, n.name, NULL, 'node registered', '节点注册', 'object', n.uid
FROM nodes n JOIN timeline_clusters c USING (bundle_id)
WHERE n.created_at IS NOT NULL
UNION ALL
SELECT n.bundle_id, c.cluster, n.last_transition, NULL, 'node-condition',
    CASE WHEN n.type = 'Ready' AND n.status <> 'True' THEN 'high'
         WHEN n.type = 'NetworkUnavailable' AND n.status = 'True' THEN 'high'
         WHEN n.type <> 'Ready' AND n.status = 'True' THEN 'medium'
         ELSE 'info' END,
    NULL, 'node/' || n.node, n.node, NULL,
    n.type || '=' || coalesce(n.status, '?') || coalesce(' (' || n.reason || ')', '') || coalesce(': ' || left(n.message, 300), ''),
    n.type || '=' || coalesce(n.status, '?') || coalesce('（' || n.reason || '）', '') || coalesce('：' || left(n.message, 300), ''),
    'object', (SELECT any_value(x.uid) FROM nodes x WHERE x.bundle_id = n.bundle_id AND x.name = n.node)
FROM node_conditions n JOIN timeline_clusters c USING (bundle_id)
WHERE n.type IN ('Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable')
  AND n.last_transition IS NOT NULL;

-- Kubelet starts and failures in node service logs: systemd's own lines, or the kubelet's
-- first line ("Kubelet version") when no systemd line came in the two minutes before it.
INSERT INTO timeline
WITH starts AS (
    SELECT l.bundle_id, l.node, l.source, l.service, l.line_no, CAST(l.ts AS TIMESTAMP) AS ts, l.line,
        CASE WHEN regexp_matches(l.line, 'systemd\[[0-9]+\]: (Started|Starting) (kubelet|Kubernetes)') THEN 'systemd'
             WHEN regexp_matches(l.line, 'kubelet\.service: (Main process exited|Failed with result)') THEN 'failed'
             ELSE 'kubelet' END AS how
    FROM log_lines l
    WHERE l.source IN ('host', 'node') AND l.service = 'kubelet' AND l.ts IS NOT NULL
      AND (regexp_matches(l.line, 'systemd\[[0-9]+\]: (Started|Starting) (kubelet|Kubernetes)')
           OR regexp_matches(l.line, 'kubelet\.service: (Main process exited|Failed with result)')
           OR contains(l.line, '"Kubelet version"'))
),
kept AS (
    SELECT s.*, lag(s.ts) OVER (PARTITION BY s.bundle_id, s.node, s.how = 'failed' ORDER BY s.ts, s.line_no) AS before
    FROM starts s
)
SELECT k.bundle_id, c.cluster, k.ts, NULL,
    CASE WHEN k.how = 'failed' THEN 'kubelet-exit' ELSE 'kubelet-start' END,
    CASE WHEN k.how = 'failed' THEN 'medium' ELSE 'low' END,
    NULL, 'node/' || coalesce(k.node, '?'), k.node, NULL,
    CASE WHEN k.how = 'failed' THEN 'kubelet exited: ' || left(k.line, 300) ELSE 'kubelet started' END,
    CASE WHEN k.how = 'failed' THEN 'kubelet 退出：' || left(k.line, 300) ELSE 'kubelet 启动' END,
    'log', k.source || ' ' || k.service || ' log line ' || k.line_no
FROM kept k JOIN timeline_clusters c USING (bundle_id)
WHERE k.how <> 'kubelet' OR k.before IS NULL OR k.ts - k.before > INTERVAL 2 MINUTE;

-- Rollouts (a ReplicaSet per Deployment revision), Deployment conditions (a stuck rollout:
-- Progressing=False), Job starts, completions and failures.
INSERT INTO timeline
SELECT o.bundle_id, c.cluster, o.created_at, NULL, 'rollout', 'info', o.namespace,
    'deployment/' || o.namespace || '/' || o.owner_name, NULL, NULL,
    'rollout: ReplicaSet ' || o.name || ' created'
        || coalesce(' (revision ' || json_extract_string(o.annotations, '$."deployment.kubernetes.io/revision"') || ')', ''),
    '发布：创建 ReplicaSet ' || o.name
        || coalesce('（版本 ' || json_extract_string(o.annotations, '$."deployment.kubernetes.io/revision"') || '）', ''),
    'object', o.uid
FROM objects o JOIN timeline_clusters c USING (bundle_id)
WHERE o.api_group = 'apps' AND o.resource = 'replicasets' AND o.owner_kind = 'Deployment'
  AND o.created_at IS NOT NULL
UNION ALL
SELECT d.bundle_id, c.cluster, d.last_transition, NULL, 'rollout-condition',
    CASE WHEN d.status = 'True' THEN 'info' ELSE 'medium' END,
    d.namespace, 'deployment/' || d.namespace || '/' || d.name, NULL, NULL,
    d.type || '=' || coalesce(d.status, '?') || coalesce(' (' || d.reason || ')', '') || coalesce(': ' || left(d.message, 300), ''),
    d.type || '=' || coalesce(d.status, '?') || coalesce('（' || d.reason || '）', '') || coalesce('：' || left(d.message, 300), ''),
    'object', (SELECT any_value(x.uid) FROM objects x WHERE x.bundle_id = d.bundle_id AND x.resource = 'deployments'
                  AND x.namespace = d.namespace AND x.name = d.name)
FROM object_conditions d JOIN timeline_clusters c USING (bundle_id)
WHERE d.api_group = 'apps' AND d.resource = 'deployments' AND d.last_transition IS NOT NULL
  AND d.type IN ('Progressing', 'Available', 'ReplicaFailure')
UNION ALL
SELECT o.bundle_id, c.cluster, k8s_ts(o.doc->>'$.status.startTime'), NULL, 'job-start', 'info', o.namespace,
    'job/' || o.namespace || '/' || o.name, NULL, NULL, 'job started', 'Job 开始', 'object', o.uid
FROM objects o JOIN timeline_clusters c USING (bundle_id)
WHERE o.api_group = 'batch' AND o.resource = 'jobs' AND k8s_ts(o.doc->>'$.status.startTime') IS NOT NULL
UNION ALL
SELECT j.bundle_id, c.cluster, j.last_transition, NULL,
    CASE WHEN j.type = 'Complete' THEN 'job-complete' ELSE 'job-failed' END,
    CASE WHEN j.type = 'Complete' THEN 'info' ELSE 'medium' END,
    j.namespace, 'job/' || j.namespace || '/' || j.name, NULL, NULL,
    CASE WHEN j.type = 'Complete' THEN 'job completed' ELSE 'job failed' || coalesce(': ' || j.reason, '') || coalesce(' — ' || left(j.message, 300), '') END,
    CASE WHEN j.type = 'Complete' THEN 'Job 完成' ELSE 'Job 失败' || coalesce('：' || j.reason, '') || coalesce(' — ' || left(j.message, 300), '') END,
    'object', (SELECT any_value(x.uid) FROM objects x WHERE x.bundle_id = j.bundle_id AND x.resource = 'jobs'
                  AND x.namespace = j.namespace AND x.name = j.name)
FROM object_conditions j JOIN timeline_clusters c USING (bundle_id)
WHERE j.api_group = 'batch' AND j.resource = 'jobs' AND j.type IN ('Complete', 'Failed')
  AND j.status = 'True' AND j.last_transition IS NOT NULL;

-- Certificates whose validity starts or ends within 30 days of the collection.
INSERT INTO timeline
SELECT x.bundle_id, c.cluster, x.ts, NULL, x.kind, x.severity, NULL, 'node/' || x.node, x.node, NULL,
    x.summary, x.summary_zh, 'certificate', x.path
FROM (
    SELECT bundle_id, node, path, not_before AS ts, 'certificate-valid-from' AS kind, 'info' AS severity,
        'certificate ' || path || ' valid from' AS summary, '证书 ' || path || ' 开始生效' AS summary_zh
    FROM certificates
    UNION ALL
    SELECT t.bundle_id, t.node, t.path, t.not_after, 'certificate-expiry',
        CASE WHEN t.not_after <= b.collected_at THEN 'high' ELSE 'medium' END,
        'certificate ' || t.path || CASE WHEN t.not_after <= b.collected_at THEN ' expired' ELSE ' expires' END,
        '证书 ' || t.path || CASE WHEN t.not_after <= b.collected_at THEN ' 已过期' ELSE ' 到期' END
    FROM certificates t JOIN bundles b USING (bundle_id)
) x
JOIN timeline_clusters c USING (bundle_id)
WHERE x.ts BETWEEN c.collected_at - INTERVAL 30 DAY AND c.collected_at + INTERVAL 30 DAY;

-- The collection itself.
INSERT INTO timeline
SELECT b.bundle_id, c.cluster, b.collected_at, NULL, 'collection', 'info', NULL,
    CASE WHEN b.kind = 'host' THEN 'node/' || coalesce(c.host_node, b.label) ELSE 'cluster' END,
    c.host_node, NULL,
    CASE WHEN b.kind = 'host' THEN 'node bundle collected' ELSE 'cluster bundle collected' END,
    CASE WHEN b.kind = 'host' THEN '节点包收集完成' ELSE '集群包收集完成' END,
    'bundle', b.bundle_id
FROM bundles b JOIN timeline_clusters c USING (bundle_id);

DROP TABLE timeline_clusters;
