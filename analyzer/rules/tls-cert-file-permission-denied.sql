/* ---
id = "tls-cert-file-permission-denied"
severity = "high"
faq = ["WNR-41"]
category = "workloads"
# The server exits at start with this: one line per (re)start of a crash-looping container.
recent = "6h"
patterns = [
  "could not load server certificate file .*Permission denied",
  "could not load private key file .*Permission denied",
  "could not access private key file .*Permission denied",
  "private key file .* has group or world access",
  "cannot load certificate( key)? .*Permission denied",
  "open \\S+\\.(crt|key|pem): permission denied",
]
[title]
en = "Server cannot read its TLS certificate/key file: Permission denied"
zh = "服务无法读取 TLS 证书/私钥文件：Permission denied"
[remediation]
en = """
The process runs as a non-root user (PostgreSQL as 999/`postgres`, nginx workers, ...) but the
certificate or key file it loads is owned by root with a mode it cannot read, e.g. a Secret
volume mounted with `defaultMode: 0400`. Kubernetes does not support changing the owner of
Secret/ConfigMap volume files (kubernetes#81089); PostgreSQL additionally refuses a key with
group or world access (docker-library/postgres#777). Options:

- Give the files to the process's group: set the pod's `securityContext.fsGroup` to the
  process's group and the volume's `defaultMode` to `0640` (PostgreSQL accepts `u=rw,g=r`
  when the file is owned by root):
  ```yaml
  securityContext:
    fsGroup: 999
  volumes:
  - name: certs
    secret:
      secretName: pg-tls
      defaultMode: 0640
  ```
- Or copy the files in an initContainer to an `emptyDir`, then `chown`/`chmod 600` them there.
- For host services, fix the owner/mode of the file on the node (`ls -l <file>`; `chmod 600`,
  `chown <user> <file>`).
"""
zh = """
进程以非 root 用户运行（PostgreSQL 为 999/`postgres`、nginx worker 等），而它加载的证书或私钥文件属于 root 且权限不允许其读取，
例如以 `defaultMode: 0400` 挂载的 Secret 卷。Kubernetes 不支持修改 Secret/ConfigMap 卷中文件的 owner（kubernetes#81089）；
PostgreSQL 还会拒绝组或其他用户可访问的私钥（docker-library/postgres#777）。可选方案：

- 把文件交给进程所在的组：Pod 设置 `securityContext.fsGroup` 为进程的组，卷的 `defaultMode` 设为 `0640`
  （文件属于 root 时 PostgreSQL 接受 `u=rw,g=r`）：
  ```yaml
  securityContext:
    fsGroup: 999
  volumes:
  - name: certs
    secret:
      secretName: pg-tls
      defaultMode: 0640
  ```
- 或在 initContainer 中把文件复制到 `emptyDir`，再在其中 `chown`/`chmod 600`。
- 主机上的服务：在节点上修正文件的 owner/权限（`ls -l <file>`；`chmod 600`、`chown <user> <file>`）。
"""
[message]
en = """\
{% if source == 'container' %}container {{ container }}\
{% else %}{{ service if service is not none else 'service' }} on {{ node if node is not none else '?' }}{% endif %}\
{% if kind == 'too open' %} refuses its private key: group or world access\
{% else %} cannot read its TLS certificate/key: Permission denied{% endif %}\
{% if files %} ({{ files | join(', ') }}){% endif %} ({{ logged }} log lines)\
{% if vols %}; file from \
{% for v in vols %}{{ v.type }} volume {{ v.vol }} ({{ v.source }}) at {{ v.path }} with mode 0{{ v.mode }}{% if not loop.last %}; {% endif %}{% endfor %}\
{% endif %}\
{% if source == 'container' %}\
  {% if run_as_user is not none %}; pod runs as uid {{ run_as_user }}{% endif %}\
  {% if fs_group is none %}; no fsGroup set: Secret files stay owned by root{% else %}; fsGroup {{ fs_group }}{% endif %}\
{% elif host_files %}; on the node: \
{% for f in host_files %}{{ f.file }} mode {{ f.mode }} uid {{ f.uid }} gid {{ f.gid }}{% if not loop.last %}, {% endif %}{% endfor %}\
{% endif %}\
{% if down %}; the container is {{ state if state is not none else 'not ready' }} ({{ restart_count }} restarts)\
{% elif recovered %}; the container has run ready since (the error is from its previous instance){% endif %}"""
zh = """\
{% if source == 'container' %}容器 {{ container }}\
{% else %}节点 {{ node if node is not none else '?' }} 上的 {{ service if service is not none else 'service' }}{% endif %}\
{% if kind == 'too open' %} 拒绝使用其私钥：私钥文件允许组或其他用户访问（group or world access）\
{% else %} 无法读取其 TLS 证书/私钥：Permission denied{% endif %}\
{% if files %}（{{ files | join(', ') }}）{% endif %}（{{ logged }} 行日志）\
{% if vols %}；文件来自 \
{% for v in vols %}{{ v.type }} 卷 {{ v.vol }}（{{ v.source }}），挂载于 {{ v.path }}，权限 0{{ v.mode }}{% if not loop.last %}；{% endif %}{% endfor %}\
{% endif %}\
{% if source == 'container' %}\
  {% if run_as_user is not none %}；Pod 以 uid {{ run_as_user }} 运行{% endif %}\
  {% if fs_group is none %}；未设置 fsGroup：Secret 文件的属主仍为 root{% else %}；fsGroup 为 {{ fs_group }}{% endif %}\
{% elif host_files %}；节点上的文件：\
{% for f in host_files %}{{ f.file }} 权限 {{ f.mode }} uid {{ f.uid }} gid {{ f.gid }}{% if not loop.last %}，{% endif %}{% endfor %}\
{% endif %}\
{% if down %}；容器当前处于 {{ state if state is not none else '未就绪' }}（已重启 {{ restart_count }} 次）\
{% elif recovered %}；容器此后已正常运行并就绪（错误来自上一个实例）{% endif %}"""
--- */
WITH hits AS (
    SELECT bundle_id, source, namespace, pod, container, node, service, line, previous, ts, age,
        coalesce(nullif(regexp_extract(line, '(?:certificate file|private key file|certificate key|certificate|open) \\?"?([^"\\:\s]+\.(?:crt|key|pem|cert))', 1), ''), '') AS file,
        CASE WHEN regexp_matches(line, 'has group or world access') THEN 'too open' ELSE 'denied' END AS kind
    FROM log_lines
    -- A cheap test first: every line the pattern matches holds one of these words, in any case.
    WHERE (contains(lower(line), 'denied') OR contains(lower(line), 'world acce'))
      AND regexp_matches(line, '(?i)(could not (load|access) (server certificate|private key) file .*permission denied|private key file .* has group or world access|cannot load certificate( key)? .*permission denied|open \S+\.(crt|key|pem|cert): permission denied)')
),
grouped AS (
    SELECT bundle_id, source, namespace, pod, container, service, any_value(node) AS node, kind,
        count(*) AS n, list(DISTINCT file) FILTER (WHERE file <> '') AS files, list(DISTINCT line)[1:3] AS lines,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent, min(ts) AS first_seen, max(ts) AS last_seen,
        -- only the previous instance complained: the running one started without the error
        coalesce(bool_and(previous), false) AS only_previous
    FROM hits GROUP BY bundle_id, source, namespace, pod, container, service, kind
),
-- Only the pods and containers that logged a hit are looked at below, picked by row id so that
-- the JSON of the others is not read.
hit_pod_rows AS (
    SELECT p.rowid AS pod_row FROM pods p
    WHERE EXISTS (SELECT 1 FROM grouped g WHERE g.bundle_id = p.bundle_id AND g.namespace = p.namespace AND g.pod = p.name)
),
hit_containers AS (
    SELECT DISTINCT bundle_id, namespace, pod, container FROM grouped
),
-- Secret / ConfigMap volumes of the pods, with their modes (decimal in the API) and mounts.
vols AS (
    SELECT bundle_id, namespace, pod, (v->>'$.name') AS vol,
        coalesce(v->>'$.secret.secretName', v->>'$.configMap.name', 'projected') AS source_name,
        CASE WHEN (v->'$.secret') IS NOT NULL THEN 'secret' WHEN (v->'$.configMap') IS NOT NULL THEN 'configMap' ELSE 'projected' END AS vtype,
        coalesce(TRY_CAST(coalesce(v->>'$.secret.defaultMode', v->>'$.configMap.defaultMode', v->>'$.projected.defaultMode') AS INTEGER), 420) AS mode
    FROM (SELECT bundle_id, namespace, name AS pod, unnest(coalesce(from_json(volumes, '["JSON"]'), [])) AS v
          FROM pods WHERE rowid IN (SELECT pod_row FROM hit_pod_rows))
    WHERE (v->'$.secret') IS NOT NULL OR (v->'$.configMap') IS NOT NULL OR (v->'$.projected') IS NOT NULL
),
mounts AS (
    SELECT c.bundle_id, c.namespace, c.pod, c.name AS container, (m->>'$.name') AS vol, (m->>'$.mountPath') AS path,
        (c.spec->>'$.securityContext.runAsUser') AS run_as_user
    FROM (SELECT *, unnest(coalesce(from_json(spec->'$.volumeMounts', '["JSON"]'), [])) AS m
          FROM containers
          WHERE rowid IN (SELECT c.rowid FROM containers c
                          JOIN hit_containers h ON h.bundle_id = c.bundle_id AND h.namespace = c.namespace AND h.pod = c.pod AND h.container = c.name)) c
),
pod_ctx AS (
    SELECT bundle_id, namespace, name AS pod,
        (security_context->>'$.runAsUser') AS run_as_user,
        (security_context->>'$.fsGroup') AS fs_group
    FROM pods WHERE rowid IN (SELECT pod_row FROM hit_pod_rows)
),
-- The volume each logged file lives in (longest mount path that prefixes it).
file_vol AS (
    SELECT g.bundle_id, g.namespace, g.pod, g.container, f AS file,
        arg_max({'type': v.vtype, 'vol': v.vol, 'source': v.source_name, 'path': m.path,
                 'mode': CAST(v.mode // 64 % 8 AS VARCHAR) || CAST(v.mode // 8 % 8 AS VARCHAR) || CAST(v.mode % 8 AS VARCHAR)},
                length(m.path)) AS vol
    FROM (SELECT *, unnest(files) AS f FROM grouped WHERE source = 'container') g
    JOIN mounts m ON m.bundle_id = g.bundle_id AND m.namespace = g.namespace AND m.pod = g.pod AND m.container = g.container
        AND (starts_with(f, rtrim(m.path, '/') || '/') OR f = m.path)
    JOIN vols v ON v.bundle_id = m.bundle_id AND v.namespace = m.namespace AND v.pod = m.pod AND v.vol = m.vol
    GROUP BY ALL
),
-- Host files: owner and mode as node mode saw them, from the node bundle of the same node
-- (host logs are in it; node logs through the API belong to its cluster).
host_keys AS (
    SELECT g.bundle_id, g.node, f AS file, k.mode, k.uid, k.gid
    FROM (SELECT *, unnest(files) AS f FROM grouped WHERE source <> 'container') g
    JOIN key_files k ON k.path = f
        AND (k.bundle_id = g.bundle_id
             OR EXISTS (SELECT 1 FROM host_nodes h WHERE h.bundle_id = k.bundle_id
                        AND h.cluster_bundle_id = g.bundle_id AND h.node = g.node))
),
-- The container now: not running ready proves the server is down.
cstate AS (
    SELECT c.bundle_id, c.namespace, c.pod, c.name AS container,
        c.status IS NOT NULL AND (c.state IN ('waiting', 'terminated') OR NOT c.ready) AS down,
        c.status IS NOT NULL AND c.state = 'running' AND c.ready AS up,
        c.state, c.state_reason, c.restart_count
    FROM containers c JOIN hit_containers h ON h.bundle_id = c.bundle_id AND h.namespace = c.namespace
        AND h.pod = c.pod AND h.container = c.name
)
SELECT
    CASE WHEN g.source = 'container' THEN 'pod/' || g.namespace || '/' || g.pod ELSE 'node/' || coalesce(g.node, '?') END AS resource,
    g.namespace, coalesce(g.pod, g.service) AS name, g.node, g.container, g.bundle_id,
    g.source, g.service, g.kind, coalesce(g.files, []) AS files, g.n AS logged, fa.vols,
    coalesce(mu.run_as_user, pc.run_as_user) AS run_as_user, pc.fs_group, hk.host_files,
    st.down, coalesce(st.state_reason, st.state) AS state, st.restart_count, coalesce(st.up AND g.only_previous, false) AS recovered,
    g.lines AS evidence,
    -- The message says the server could not start; the container's state says whether it still cannot.
    -- Only the previous instance failed and the running one is ready: the server loaded its
    -- certificate since (the Secret's mode or the pod's fsGroup was fixed), nothing fails now.
    CASE WHEN st.down THEN 'high'
         WHEN st.up AND g.only_previous THEN 'info'
         ELSE 'medium' END AS severity,
    g.first_seen, g.last_seen, g.n_recent AS recent_count,
    g.n AS count
FROM grouped g
LEFT JOIN (SELECT bundle_id, namespace, pod, container, list(DISTINCT vol ORDER BY vol) AS vols
           FROM file_vol GROUP BY ALL) fa
    ON fa.bundle_id = g.bundle_id AND fa.namespace = g.namespace AND fa.pod = g.pod AND fa.container = g.container
LEFT JOIN (SELECT bundle_id, namespace, pod, container, any_value(run_as_user) AS run_as_user
           FROM mounts WHERE run_as_user IS NOT NULL GROUP BY ALL) mu
    ON mu.bundle_id = g.bundle_id AND mu.namespace = g.namespace AND mu.pod = g.pod AND mu.container = g.container
LEFT JOIN (SELECT bundle_id, node, list({'file': file, 'mode': mode, 'uid': uid, 'gid': gid}) AS host_files
           FROM host_keys GROUP BY ALL) hk
    ON hk.bundle_id = g.bundle_id AND hk.node IS NOT DISTINCT FROM g.node
LEFT JOIN pod_ctx pc ON pc.bundle_id = g.bundle_id AND pc.namespace = g.namespace AND pc.pod = g.pod
LEFT JOIN cstate st ON st.bundle_id = g.bundle_id AND st.namespace = g.namespace AND st.pod = g.pod AND st.container = g.container
ORDER BY 1, g.container
