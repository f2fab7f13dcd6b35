-- Helpers shared by the loader, views and rules. Created before loading.

-- Kubernetes timestamps are RFC 3339 in UTC ('2026-01-15T12:00:00Z'), parsed as plain TIMESTAMP
-- (UTC) without ICU. DuckDB's cast takes that form directly; the rewrite after it only runs
-- for the rows the cast refused (forms such as '2026-01-15T12:00Z'), so the common case
-- costs one cast instead of three replaces and a cast.
CREATE MACRO k8s_ts(s) AS
    coalesce(TRY_CAST(CAST(s AS VARCHAR) AS TIMESTAMP),
        TRY_CAST(replace(replace(replace(CAST(s AS VARCHAR), 'T', ' '), 'Z', ''), '+00:00', '') AS TIMESTAMP));

-- A Kubernetes quantity ('128Mi', '0.5', '250m', '1e3', '2G') as a number of base units. One
-- regular expression gives number and suffix; a value it does not match whole (' 12 Mi') keeps
-- the number it starts with, as before.
CREATE MACRO k8s_quantity(q) AS (
    CASE WHEN q IS NULL OR trim(CAST(q AS VARCHAR)) = '' THEN NULL ELSE
        list_transform(
            [regexp_extract(trim(CAST(q AS VARCHAR)),
                '^([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)$', ['number', 'suffix'])],
            lambda m: CASE WHEN m.number = '' THEN
                TRY_CAST(regexp_extract(trim(CAST(q AS VARCHAR)), '^([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)', 1) AS DOUBLE)
            ELSE TRY_CAST(m.number AS DOUBLE) * CASE m.suffix
                WHEN '' THEN 1.0 WHEN 'n' THEN 1e-9 WHEN 'u' THEN 1e-6 WHEN 'm' THEN 1e-3
                WHEN 'k' THEN 1e3 WHEN 'K' THEN 1e3 WHEN 'M' THEN 1e6 WHEN 'G' THEN 1e9
                WHEN 'T' THEN 1e12 WHEN 'P' THEN 1e15 WHEN 'E' THEN 1e18
                WHEN 'Ki' THEN 1024.0 WHEN 'Mi' THEN 1048576.0 WHEN 'Gi' THEN 1073741824.0
                WHEN 'Ti' THEN 1099511627776.0 WHEN 'Pi' THEN 1125899906842624.0
                WHEN 'Ei' THEN 1152921504606846976.0
                ELSE NULL END END)[1]
    END
);

-- The unit suffix of a quantity ('' when none).
CREATE MACRO k8s_quantity_suffix(q) AS
    regexp_extract(trim(CAST(q AS VARCHAR)), '^[+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?([A-Za-z]*)$', 1);

-- The registry host of an image reference ('docker.io' when none is named).
CREATE MACRO image_registry(img) AS (
    CASE WHEN strpos(img, '/') = 0 THEN 'docker.io'
         WHEN regexp_matches(split_part(img, '/', 1), '[.:]') OR split_part(img, '/', 1) = 'localhost'
             THEN lower(split_part(img, '/', 1))
         ELSE 'docker.io' END
);

-- The JSON pointer of the member `key` of an object: whatever the key holds (a quote, a `*`,
-- a `.` from a stranger's bundle), it names that one key, never a path that fails to parse
-- or matches other members, as `'$."' || key || '"'` would.
CREATE MACRO json_pointer(key) AS '/' || replace(replace(key, '~', '~0'), '/', '~1');

-- The text of member `key` of the JSON object `obj` (a label's value), NULL when `obj` is not
-- an object.
CREATE MACRO json_member(obj, key) AS
    CASE WHEN json_type(obj) = 'OBJECT' THEN json_extract_string(obj, json_pointer(key)) END;

-- `s` as a regular expression that matches exactly `s`: every character RE2 gives a meaning
-- to is escaped. For patterns that embed a name from a bundle, which may hold any character.
CREATE MACRO regex_escape(s) AS regexp_replace(s, '([\\.^$|?*+()\[\]{}])', '\\\1', 'g');

-- Whether a pod's sandbox exists (its volumes are mounted, its network set up): the
-- PodReadyToStartContainers condition (PodHasNetwork before 1.29) is True, or it has a pod IP
-- off the host network.
CREATE MACRO pod_has_sandbox(conditions, host_network, pod_ip) AS
    len(list_filter(coalesce(conditions, []),
        lambda c: c.type IN ('PodReadyToStartContainers', 'PodHasNetwork') AND c.status = 'True')) > 0
    OR (NOT coalesce(host_network, false) AND coalesce(pod_ip, '') <> '');

-- The node autoscaler an event of a pod says is adding a node for it: cluster-autoscaler's
-- TriggeredScaleUp, Karpenter's Nominated ("Pod should schedule on: nodeclaim/..."); NULL
-- for any other event.
CREATE MACRO node_scaler(reason, message) AS
    CASE WHEN reason = 'TriggeredScaleUp' THEN 'cluster-autoscaler'
         WHEN reason = 'Nominated' AND starts_with(message, 'Pod should schedule on') THEN 'Karpenter' END;

-- Days from a to b (fractional).
CREATE MACRO days_between(a, b) AS (epoch(b) - epoch(a)) / 86400.0;

-- Major.minor of a version string ('v1.29.3-eks-1' -> 1.29 as (1, 29)).
CREATE MACRO version_major(v) AS TRY_CAST(regexp_extract(v, 'v?([0-9]+)\.([0-9]+)', 1) AS INTEGER);
CREATE MACRO version_minor(v) AS TRY_CAST(regexp_extract(v, 'v?([0-9]+)\.([0-9]+)', 2) AS INTEGER);
-- Orderable number for major.minor.patch: 1.29.3 -> 1029003.
CREATE MACRO version_num(v) AS
    TRY_CAST(regexp_extract(v, '([0-9]+)\.([0-9]+)(?:\.([0-9]+))?', 1) AS INTEGER) * 1000000
    + TRY_CAST(regexp_extract(v, '([0-9]+)\.([0-9]+)(?:\.([0-9]+))?', 2) AS INTEGER) * 1000
    + coalesce(TRY_CAST(nullif(regexp_extract(v, '([0-9]+)\.([0-9]+)(?:\.([0-9]+))?', 3), '') AS INTEGER), 0);

-- Whether a log line of `age` (log_lines.age) is inside a rule's `${recent}` window. A line
-- of unknown time counts: bundles of format 1.0 carry no container log times, and their
-- evidence is judged as it always was.
CREATE MACRO in_window(age, win) AS coalesce(age <= win, true);

-- The metadata of an API object's document, parsed once as the loader reads it.
CREATE MACRO object_meta(doc) AS
    from_json(doc, '{"apiVersion":"VARCHAR","kind":"VARCHAR","metadata":{"namespace":"VARCHAR","name":"VARCHAR","uid":"VARCHAR","creationTimestamp":"VARCHAR","deletionTimestamp":"VARCHAR","labels":"JSON","annotations":"JSON","finalizers":"VARCHAR[]","ownerReferences":[{"kind":"VARCHAR","name":"VARCHAR","uid":"VARCHAR","controller":"BOOLEAN"}]}}');

-- The owner reference an object's owner columns name: the controller, else the first.
CREATE MACRO object_owner(refs) AS coalesce(list_filter(refs, lambda o: o.controller)[1], refs[1]);

-- The row of `objects` (00_raw.sql) for a document, its parsed metadata `s` (object_meta) and
-- its owner reference `owner` (object_owner): the loader inserts unnest(object_row(...)) BY
-- NAME. Pass `s` and `owner` as columns, not as calls: a macro argument is repeated wherever
-- the macro uses it.
CREATE MACRO object_row(bundle_id, api_group, version, resource, s, owner, doc) AS {
    'bundle_id': bundle_id,
    'api_group': api_group,
    'version': version,
    'resource': resource,
    'api_version': coalesce(s.apiVersion, CASE WHEN api_group = '' THEN version ELSE api_group || '/' || version END),
    'kind': s.kind,
    'namespace': coalesce(s.metadata.namespace, ''),
    'name': s.metadata.name,
    'uid': s.metadata.uid,
    'labels': coalesce(s.metadata.labels, '{}'),
    'annotations': coalesce(s.metadata.annotations, '{}'),
    'created_at': k8s_ts(s.metadata.creationTimestamp),
    'deleted_at': k8s_ts(s.metadata.deletionTimestamp),
    'finalizers': coalesce(s.metadata.finalizers, []),
    'owner_kind': owner.kind,
    'owner_name': owner.name,
    'owner_uid': owner.uid,
    'doc_bytes': strlen(CAST(doc AS VARCHAR)),
    'doc': doc
};
