/* ---
id = "registry-tls-not-configured-in-runtime"
severity = "high"
faq = ["DCE-12"]
category = "images"
patterns = [
  "http: server gave HTTP response to HTTPS client",
  "x509: certificate signed by unknown authority",
  "tls: failed to verify certificate: x509",
  "x509: certificate is valid for .*, not ",
  "x509: cannot validate certificate for .* because it doesn't contain any IP SANs",
  "insecure-registries",
  "insecure_skip_verify",
]
# The kubelet retries a failing pull with a back-off of at most 5 minutes: a registry still
# refused shows in the runtime/kubelet logs at least twice in the hour before collection.
recent = "1h"
min_count = 2
[title]
en = "Image pulls from a private registry fail on TLS: the node's container runtime has no insecure/mirror setting for it"
zh = "从私有仓库拉取镜像因 TLS 失败：节点容器运行时未为该仓库配置 insecure/镜像代理"
[remediation]
en = """
The registry serves plain HTTP or a certificate the node does not trust, so the runtime refuses
it (`http: server gave HTTP response to HTTPS client`, `x509: ...`). Clusters attached in an
offline environment need the CRI proxy registry configured to skip TLS verification **on every
node** before installing plug-ins.

Docker: add the registries to `/etc/docker/daemon.json`, e.g.
`"insecure-registries": ["172.30.120.243","temp-registry.daocloud.io"]`, then
```
systemctl daemon-reload
systemctl restart docker
```
containerd: edit `/etc/containerd/config.toml` (mind spaces and line breaks):
```
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://registry-1.docker.io"]
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."temp-registry.daocloud.io"]
  endpoint = ["http://temp-registry.daocloud.io"]
[plugins."io.containerd.grpc.v1.cri".registry.configs."http://temp-registry.daocloud.io".tls]
  insecure_skip_verify = true
```
then `systemctl restart containerd`. When `config_path` is set, use
`/etc/containerd/certs.d/<registry>/hosts.toml` instead (`skip_verify = true`).
"""
zh = """
仓库使用 HTTP 或节点不信任的证书，运行时拒绝访问（`http: server gave HTTP response to HTTPS client`、`x509: ...`）。
离线环境接入的集群，在安装插件之前，需要先配置 CRI 代理仓库以忽略 TLS 验证（**所有节点都需要执行**）。

Docker：修改 `/etc/docker/daemon.json`，加入
`"insecure-registries": ["172.30.120.243","temp-registry.daocloud.io"]`，然后
```
systemctl daemon-reload
systemctl restart docker
```
containerd：修改 `/etc/containerd/config.toml`（注意空格和换行符，确保配置正确）：
```
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://registry-1.docker.io"]
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."temp-registry.daocloud.io"]
  endpoint = ["http://temp-registry.daocloud.io"]
[plugins."io.containerd.grpc.v1.cri".registry.configs."http://temp-registry.daocloud.io".tls]
  insecure_skip_verify = true
```
修改完成之后执行 `systemctl restart containerd`。若设置了 `config_path`，请改用
`/etc/containerd/certs.d/<仓库地址>/hosts.toml`（`skip_verify = true`）。
"""
[message]
en = """\
pulls from {{ registry }}{% if pulled_after %} failed ({% else %} fail ({% endif %}\
{% if cause.plain_http %}registry speaks plain HTTP{% else %}certificate not trusted: {{ cause.x509 }}{% endif %}; \
{{ seen | join(', ') }})\
{% if not node_collected %}{% if node is not none %}; runtime configuration of node {{ node }} not collected{% endif %}\
{% elif configured_in %}; node {{ node }} names it in {{ configured_in | join(', ') }} but pulls still fail: \
check the syntax and restart the runtime\
{% else %}; node {{ node }} has no mirror/insecure setting for {{ registry }}\
{% if files %} in {{ files | join(', ') }}{% else %} (no containerd/docker registry configuration found){% endif %}\
{% endif %}\
{% if pulled_after %}; images from {{ registry }} were pulled on the node since{% endif %}"""
zh = """\
从 {{ registry }} 拉取镜像失败（\
{% if cause.plain_http %}仓库使用明文 HTTP{% else %}证书不受信任：{{ cause.x509 }}{% endif %}；\
{% for x in seen %}\
  {% if x == 'container status' %}容器状态{% elif x is startingwith('event ') %}事件 {{ x[6:] }}\
  {% elif x is endingwith(' log') %}{{ x[:-4] }} 日志{% else %}{{ x }}{% endif %}\
  {% if not loop.last %}、{% endif %}\
{% endfor %}）\
{% if not node_collected %}{% if node is not none %}；未收集节点 {{ node }} 的运行时配置{% endif %}\
{% elif configured_in %}；节点 {{ node }} 已在 {{ configured_in | join('、') }} 中配置了该仓库，但拉取仍然失败：\
请检查配置语法并重启运行时\
{% else %}；节点 {{ node }}\
{% if files %} 的 {{ files | join('、') }} 中没有 {{ registry }} 的 mirror/insecure 配置\
{% else %} 没有 {{ registry }} 的 mirror/insecure 配置（未找到 containerd/docker 仓库配置）{% endif %}\
{% endif %}\
{% if pulled_after %}；此后该节点已成功从 {{ registry }} 拉取镜像{% endif %}"""
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster, node FROM host_nodes
),
texts AS (
    -- Containers waiting on the pull now.
    SELECT bundle_id AS cluster, node, 'container status' AS seen, state_message AS text, image,
        NULL::TIMESTAMPTZ AS ts_first, NULL::TIMESTAMPTZ AS ts_last, INTERVAL 0 SECOND AS age, 1 AS n, true AS waiting
    FROM containers
    WHERE state_reason IN ('ErrImagePull', 'ImagePullBackOff') AND state_message IS NOT NULL
    UNION ALL
    -- Events of pods that are still waiting (a pod running now pulled its image in the end), or
    -- of pods gone since (history, judged like log lines).
    SELECT e.bundle_id, coalesce(e.source_host, p.node), 'event ' || e.reason, e.message, NULL,
        CAST(e.first_seen AS TIMESTAMPTZ), CAST(e.last_seen AS TIMESTAMPTZ), b.collected_at - e.last_seen, e.count,
        p.name IS NOT NULL
    FROM events e
    JOIN bundles b ON b.bundle_id = e.bundle_id
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE e.reason IN ('Failed', 'ErrImagePull', 'FailedCreatePodSandBox')
      AND (p.name IS NULL OR (p.phase = 'Pending' AND NOT EXISTS (
            SELECT 1 FROM containers c WHERE c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name AND c.state = 'running')))
    UNION ALL
    SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END, l.node, coalesce(l.service, l.container, l.source) || ' log', l.line, NULL,
        l.ts, l.ts, l.age, 1, false
    FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
    WHERE l.source IN ('node', 'host') AND regexp_matches(l.line, '(?i)(pull|image|/v2/)')
      AND (contains(l.line, 'server gave HTTP response to HTTPS client') OR contains(l.line, 'x509: '))
),
errors AS (
    SELECT cluster, node, seen, text, ts_first, ts_last, age, n, waiting,
        coalesce(nullif(regexp_extract(text, 'https://([^/"\\\s]+)/v2/', 1), ''),
                 CASE WHEN img IS NOT NULL THEN image_registry(img) END) AS registry,
        {'plain_http': contains(text, 'server gave HTTP response to HTTPS client'),
         'x509': regexp_extract(text, '(x509: [^":]+)', 1)} AS cause
    FROM (SELECT *, coalesce(image, nullif(regexp_extract(text, '(?:pull(?:ing)?(?: and unpack)? image|sandbox image|PullImage) \\?"([^"\\]+)', 1), '')) AS img
          FROM texts)
    WHERE contains(text, 'server gave HTTP response to HTTPS client') OR regexp_matches(text, 'x509: ')
),
per_node AS (
    SELECT registry, cluster, node, any_value(cause) AS cause,
        list(DISTINCT seen) AS seen, list(DISTINCT text)[1:2] AS lines, sum(n) AS n,
        bool_or(waiting) AS from_objects,
        -- Log lines and events of gone pods in the window: a pod waiting now is judged on its own.
        coalesce(sum(n) FILTER (WHERE NOT waiting AND in_window(age, ${recent})), 0) AS log_recent,
        min(ts_first) AS first_seen, max(ts_last) AS last_seen, min(age) AS age
    FROM errors WHERE registry IS NOT NULL
    GROUP BY registry, cluster, node
),
-- Pulls from the registry that worked on the node since: an image of it running there now, a
-- Pulled event, or the runtime returning an image of it. Only the registries and nodes with
-- failures are looked at.
pulled AS (
    SELECT cluster, node, registry, bool_or(running) AS running, min(age) AS age FROM (
        SELECT bundle_id AS cluster, node, registry, NULL::INTERVAL AS age, true AS running
        FROM containers WHERE state = 'running' AND registry IN (SELECT registry FROM per_node)
        UNION ALL
        SELECT e.bundle_id, e.source_host, image_registry(regexp_extract(e.message, 'image \\?"([^"\\]+)', 1)),
            b.collected_at - e.last_seen, false
        FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
        WHERE e.reason = 'Pulled' AND e.source_host IN (SELECT node FROM per_node) AND starts_with(e.message, 'Successfully pulled image')
        UNION ALL
        SELECT CASE WHEN l.source = 'host' THEN h.cluster ELSE l.bundle_id END, l.node,
            image_registry(regexp_extract(l.line, 'PullImage \\?"([^"\\]+)\\?" returns image reference', 1)), l.age, false
        FROM log_lines l LEFT JOIN hn h ON l.source = 'host' AND h.host_bundle = l.bundle_id
        WHERE l.source IN ('node', 'host') AND contains(l.line, 'returns image reference')
    ) GROUP BY ALL
),
-- Runtime registry settings collected from the nodes, per node.
runtime_files AS (
    SELECT h.cluster, h.node, list(f ORDER BY f.path) FILTER (WHERE f.path IS NOT NULL) AS files
    FROM hn h LEFT JOIN (
        SELECT bundle_id, path, content FROM host_files
        WHERE path IN ('/etc/containerd/config.toml', '/etc/docker/daemon.json', '/etc/rancher/k3s/registries.yaml', '/etc/rancher/rke2/registries.yaml')
           OR path LIKE '/etc/containerd/conf.d/%' OR path LIKE '/etc/containerd/certs.d/%/hosts.toml') f ON f.bundle_id = h.host_bundle
    GROUP BY h.cluster, h.node
),
judged AS (
    SELECT p.*, f.cluster IS NOT NULL AS node_collected,
        list_transform(f.files, lambda x: x.path) AS files,
        list_transform(list_filter(f.files, lambda x:
               -- containerd: registry.mirrors."<r>" / registry.configs."<r>" (or "http://<r>")
               ((x.path = '/etc/containerd/config.toml' OR x.path LIKE '/etc/containerd/conf.d/%')
                 AND regexp_matches(x.content, '(mirrors|configs)\."(https?://)?' || p.re || '"'))
               -- containerd config_path: certs.d/<r>/hosts.toml
            OR x.path = '/etc/containerd/certs.d/' || p.registry || '/hosts.toml'
               -- docker: "insecure-registries" / "registry-mirrors" entries
            OR (x.path = '/etc/docker/daemon.json' AND regexp_matches(x.content, '"(https?://)?' || p.re || '/?"'))
               -- k3s / RKE2 registries.yaml: mirrors/configs keys
            OR (x.path LIKE '/etc/rancher/%/registries.yaml' AND regexp_matches(x.content, '(?m)^\s+["'']?' || p.re || '["'']?\s*:'))),
            lambda x: x.path) AS configured_in,
        coalesce(pl.running OR pl.age <= p.age, false) AS pulled_since
    FROM (SELECT *, regex_escape(registry) AS re FROM per_node) p
    LEFT JOIN runtime_files f ON f.cluster = p.cluster AND f.node = p.node
    LEFT JOIN pulled pl ON pl.cluster = p.cluster AND pl.node = p.node AND pl.registry = p.registry
)
SELECT 'registry/' || registry || coalesce('@' || node, '') AS resource, node, cluster AS bundle_id,
    registry, cause, seen, node_collected, configured_in, files, pulled_since AND NOT from_objects AS pulled_after,
    lines AS evidence,
    n AS count, first_seen, last_seen,
    -- A pod waiting on the pull now proves the failure; logs alone are judged by their window.
    CASE WHEN NOT from_objects THEN log_recent END AS recent_count,
    CASE WHEN from_objects AND list_has_any(seen, ['container status']) THEN NULL
         WHEN from_objects AND in_window(age, ${recent}) THEN NULL
         WHEN from_objects THEN 'info'
         WHEN pulled_since THEN 'info'
         ELSE 'medium' END AS severity,
    -- image-pull-unreachable-registry's failures from this registry are symptoms of this one.
    'registry ' || registry AS symptom_key
FROM judged
-- Runtime logs keep old failures: alone, they count only while the node still lacks the setting.
WHERE from_objects OR coalesce(len(configured_in), 0) = 0
ORDER BY 1
