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
--- */
WITH texts AS (
    SELECT bundle_id, node, 'container status' AS seen, state_message AS text, image
    FROM containers
    WHERE state_reason IN ('ErrImagePull', 'ImagePullBackOff') AND state_message IS NOT NULL
    UNION ALL
    -- Events of pods that are still waiting (a pod running now pulled its image in the end).
    SELECT e.bundle_id, coalesce(e.source_host, p.node), 'event ' || e.reason, e.message, NULL
    FROM events e
    LEFT JOIN pods p ON p.bundle_id = e.bundle_id AND p.namespace = e.object_namespace AND p.name = e.object_name
    WHERE e.reason IN ('Failed', 'ErrImagePull', 'FailedCreatePodSandBox')
      AND (p.name IS NULL OR (p.phase = 'Pending' AND NOT EXISTS (
            SELECT 1 FROM containers c WHERE c.bundle_id = p.bundle_id AND c.namespace = p.namespace AND c.pod = p.name AND c.state = 'running')))
    UNION ALL
    SELECT bundle_id, node, coalesce(service, container, source) || ' log', line, NULL
    FROM log_lines
    WHERE source IN ('node', 'host') AND regexp_matches(line, '(?i)(pull|image|/v2/)')
),
errors AS (
    SELECT bundle_id, node, seen, text,
        coalesce(nullif(regexp_extract(text, 'https://([^/"\\\s]+)/v2/', 1), ''),
                 CASE WHEN img IS NOT NULL THEN image_registry(img) END) AS registry,
        CASE WHEN contains(text, 'server gave HTTP response to HTTPS client') THEN 'registry speaks plain HTTP'
             ELSE 'certificate not trusted: ' || regexp_extract(text, '(x509: [^":]+)', 1) END AS cause
    FROM (SELECT *, coalesce(image, nullif(regexp_extract(text, '(?:pull(?:ing)?(?: and unpack)? image|sandbox image|PullImage) \\?"([^"\\]+)', 1), '')) AS img
          FROM texts)
    WHERE contains(text, 'server gave HTTP response to HTTPS client') OR regexp_matches(text, 'x509: ')
),
per_node AS (
    SELECT registry, node, any_value(bundle_id) AS bundle_id, any_value(cause) AS cause,
        list(DISTINCT seen) AS seen, list(DISTINCT text)[1:2] AS lines, count(*) AS n
    FROM errors WHERE registry IS NOT NULL
    GROUP BY registry, node
),
-- Runtime registry settings collected from the nodes.
runtime_files AS (
    SELECT node, path, content FROM host_files
    WHERE path IN ('/etc/containerd/config.toml', '/etc/docker/daemon.json', '/etc/rancher/k3s/registries.yaml', '/etc/rancher/rke2/registries.yaml')
       OR path LIKE '/etc/containerd/conf.d/%' OR path LIKE '/etc/containerd/certs.d/%/hosts.toml'
),
judged AS (
    SELECT p.*,
        EXISTS (SELECT 1 FROM host_nodes h WHERE h.node = p.node) AS node_collected,
        (SELECT list(f.path ORDER BY f.path) FROM runtime_files f WHERE f.node = p.node) AS files,
        (SELECT list(f.path ORDER BY f.path) FROM runtime_files f
         WHERE f.node = p.node AND (
               -- containerd: registry.mirrors."<r>" / registry.configs."<r>" (or "http://<r>")
               ((f.path = '/etc/containerd/config.toml' OR f.path LIKE '/etc/containerd/conf.d/%')
                 AND regexp_matches(f.content, '(mirrors|configs)\."(https?://)?' || p.re || '"'))
               -- containerd config_path: certs.d/<r>/hosts.toml
            OR f.path = '/etc/containerd/certs.d/' || p.registry || '/hosts.toml'
               -- docker: "insecure-registries" / "registry-mirrors" entries
            OR (f.path = '/etc/docker/daemon.json' AND regexp_matches(f.content, '"(https?://)?' || p.re || '/?"'))
               -- k3s / RKE2 registries.yaml: mirrors/configs keys
            OR (f.path LIKE '/etc/rancher/%/registries.yaml' AND regexp_matches(f.content, '(?m)^\s+["'']?' || p.re || '["'']?\s*:'))
         )) AS configured_in
    FROM (SELECT *, replace(registry, '.', '\.') AS re FROM per_node) p
)
SELECT 'registry/' || registry || coalesce('@' || node, '') AS resource, node, bundle_id,
    'pulls from ' || registry || ' fail (' || cause || '; ' || array_to_string(seen, ', ') || ')'
        || CASE WHEN NOT node_collected THEN coalesce('; runtime configuration of node ' || node || ' not collected', '')
                WHEN len(configured_in) > 0 THEN '; node ' || node || ' names it in ' || array_to_string(configured_in, ', ')
                    || ' but pulls still fail: check the syntax and restart the runtime'
                ELSE '; node ' || node || ' has no mirror/insecure setting for ' || registry
                    || CASE WHEN len(files) > 0 THEN ' in ' || array_to_string(files, ', ') ELSE ' (no containerd/docker registry configuration found)' END END AS message,
    '从 ' || registry || ' 拉取镜像失败（'
        || CASE WHEN cause = 'registry speaks plain HTTP' THEN '仓库使用明文 HTTP'
                ELSE '证书不受信任：' || substr(cause, length('certificate not trusted: ') + 1) END
        || '；' || array_to_string(list_transform(seen, lambda x:
                CASE WHEN x = 'container status' THEN '容器状态'
                     WHEN x LIKE 'event %' THEN '事件 ' || substr(x, 7)
                     WHEN x LIKE '% log' THEN substr(x, 1, length(x) - 4) || ' 日志'
                     ELSE x END), '、') || '）'
        || CASE WHEN NOT node_collected THEN coalesce('；未收集节点 ' || node || ' 的运行时配置', '')
                WHEN len(configured_in) > 0 THEN '；节点 ' || node || ' 已在 ' || array_to_string(configured_in, '、')
                    || ' 中配置了该仓库，但拉取仍然失败：请检查配置语法并重启运行时'
                ELSE '；节点 ' || node
                    || CASE WHEN len(files) > 0 THEN ' 的 ' || array_to_string(files, '、') || ' 中没有 ' || registry || ' 的 mirror/insecure 配置'
                            ELSE ' 没有 ' || registry || ' 的 mirror/insecure 配置（未找到 containerd/docker 仓库配置）' END END AS message_zh,
    lines AS evidence,
    n AS count
FROM judged
-- Runtime logs keep old failures: alone, they count only while the node still lacks the setting.
WHERE list_has_any(seen, ['container status']) OR list_filter(seen, lambda x: x LIKE 'event %') <> [] OR coalesce(len(configured_in), 0) = 0
ORDER BY 1
