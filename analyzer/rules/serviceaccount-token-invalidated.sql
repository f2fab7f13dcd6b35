/* ---
id = "serviceaccount-token-invalidated"
severity = "medium"
faq = ["WNR-37"]
category = "auth"
# A client with an invalidated token fails every request and retries: several rejections in 2 hours.
recent = "2h"
min_count = 3
patterns = [
  "invalid bearer token, Token has been invalidated",
  "invalid bearer token, service account token has been invalidated",
  "kubernetes\\.io/legacy-token-invalid-since",
]
[title]
en = "Clients present invalidated ServiceAccount tokens (\"invalid bearer token, Token has been invalidated\")"
zh = "客户端使用了已失效的 ServiceAccount token（\"invalid bearer token, Token has been invalidated\"）"
[remediation]
en = """
The API server rejects a ServiceAccount token whose ServiceAccount, token Secret or pod no
longer matches what the token names: the ServiceAccount or the namespace was deleted and
re-created (new UID), the legacy token Secret was deleted or regenerated, or (v1.29+) the
legacy token cleaner labelled an unused token Secret `kubernetes.io/legacy-token-invalid-since`.
Every request of that client then fails with `401 Unauthorized` and the API server logs
`Unable to authenticate the request ... [invalid bearer token, Token has been invalidated]`.

- Pods keep the token they started with: restart the pods of the ServiceAccount so the kubelet
  mounts a fresh one: `kubectl -n <ns> rollout restart deploy/<name>`.
- External clients (CI, kubeconfigs, other clusters) with a copied token: issue a new one
  (`kubectl -n <ns> create token <sa>`, or a new `kubernetes.io/service-account-token` Secret)
  and replace it where it is configured.
- A Secret labelled `kubernetes.io/legacy-token-invalid-since` can be revived by removing the
  label, but prefer moving the client to a bound token.
```
kubectl get secrets -A -l kubernetes.io/legacy-token-invalid-since
kubectl -n <ns> get sa <sa> -o jsonpath='{.metadata.uid} {.metadata.creationTimestamp}'
```
"""
zh = """
当 token 中记录的 ServiceAccount、token Secret 或 Pod 与现状不符时，API Server 会拒绝该 token：ServiceAccount 或命名空间被删除后重建
（UID 变化）、legacy token Secret 被删除或重新生成，或（v1.29+）legacy token 清理器给长期未使用的 token Secret 打上了
`kubernetes.io/legacy-token-invalid-since` 标签。该客户端的所有请求都会返回 `401 Unauthorized`，API Server 日志中出现
`Unable to authenticate the request ... [invalid bearer token, Token has been invalidated]`。

- Pod 会一直使用启动时挂载的 token：重启该 ServiceAccount 的 Pod 让 kubelet 挂载新 token：`kubectl -n <ns> rollout restart deploy/<name>`。
- 复制了 token 的外部客户端（CI、kubeconfig、其他集群）：签发新 token（`kubectl -n <ns> create token <sa>`，或新建
  `kubernetes.io/service-account-token` 类型的 Secret）并替换原配置。
- 带 `kubernetes.io/legacy-token-invalid-since` 标签的 Secret 删除该标签即可恢复，但更推荐让客户端改用 bound token。
```
kubectl get secrets -A -l kubernetes.io/legacy-token-invalid-since
kubectl -n <ns> get sa <sa> -o jsonpath='{.metadata.uid} {.metadata.creationTimestamp}'
```
"""
[message]
en = """\
{% if kind == 'component' %}\
  {{ component }} rejected {{ rejected }} requests with "invalid bearer token, ... has been invalidated"\
  {% if nodes %} (nodes: {{ nodes | join(', ') }}){% endif %}\
  {% if has_clients %}; likely clients: \
{% if clients %}{% for c in clients %}{{ c.owner }} (ServiceAccount {{ c.sa }} re-created){% if not loop.last %}, {% endif %}{% endfor %}{% endif %}\
{% if clients and secrets %}, {% endif %}\
{% if secrets %}{% for s in secrets %}users of Secret {{ s }}{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}\
  {% else %}; restart the pods or replace the copied tokens of the clients using them{% endif %}\
{% else %}\
  {{ pods }} pod(s) of {{ owner }} started {{ started }} with a token of ServiceAccount {{ sa }}, \
which was re-created {{ sa_created }} (new UID)\
{% if apiserver_quiet %}; the API server's log shows no such rejection lately: the kubelet has refreshed their projected token, or they do not use it\
{% else %}: their token is invalidated; restart them{% endif %}\
{% endif %}"""
zh = """\
{% if kind == 'component' %}\
  {{ component }} 以 "invalid bearer token, ... has been invalidated" 拒绝了 {{ rejected }} 个请求\
  {% if nodes %}（节点：{{ nodes | join('、') }}）{% endif %}\
  {% if has_clients %}；可能的客户端：\
{% if clients %}{% for c in clients %}{{ c.owner }}（ServiceAccount {{ c.sa }} 已重建）{% if not loop.last %}、{% endif %}{% endfor %}{% endif %}\
{% if clients and secrets %}、{% endif %}\
{% if secrets %}{% for s in secrets %}Secret {{ s }} 的使用者{% if not loop.last %}、{% endif %}{% endfor %}{% endif %}\
  {% else %}；请重启使用这些 token 的 Pod，或替换客户端中复制的 token{% endif %}\
{% else %}\
  {{ owner }} 的 {{ pods }} 个 Pod 于 {{ started }} 启动，使用的是 ServiceAccount {{ sa }} 的 token，\
而该 ServiceAccount 已于 {{ sa_created }} 重建（新 UID）\
{% if apiserver_quiet %}；API Server 日志近期没有此类拒绝：kubelet 已刷新其 projected token，或这些 Pod 并不使用它\
{% else %}：这些 Pod 的 token 已失效，请重启它们{% endif %}\
{% endif %}"""
--- */
-- The API server's rejection, as it logs it ("Unable to authenticate the request" err="[invalid
-- bearer token, Token has been invalidated]", "service account token has been invalidated" since
-- v1.2x), and as components that delegate authentication to it (kubelets, aggregated API
-- servers) relay it. An application's own "token has been invalidated" (OAuth, sessions) is not it.
WITH log_hits AS (
    SELECT bundle_id, node, source,
        CASE WHEN source = 'container' THEN container ELSE coalesce(service, source) END AS component,
        line, ts, age
    FROM log_lines
    WHERE contains(line, 'invalid bearer token')
      AND regexp_matches(line, 'invalid bearer token, (service account token|Token) has been invalidated')
),
by_component AS (
    SELECT bundle_id, component, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS n_recent,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT node) FILTER (WHERE node IS NOT NULL) AS nodes,
        list(DISTINCT line)[1:3] AS lines
    FROM log_hits GROUP BY bundle_id, component
),
-- Legacy token Secrets the token cleaner (v1.29+) marked invalid.
invalid_secrets AS (
    SELECT bundle_id, namespace, name,
        json_extract_string(labels, '$."kubernetes.io/legacy-token-invalid-since"') AS since,
        json_extract_string(annotations, '$."kubernetes.io/service-account.name"') AS sa
    FROM objects
    WHERE api_group = '' AND resource = 'secrets'
      AND json_extract_string(labels, '$."kubernetes.io/legacy-token-invalid-since"') IS NOT NULL
),
-- Pods still running with a token of an earlier incarnation of their ServiceAccount.
sas AS (
    SELECT bundle_id, namespace, name, uid, created_at FROM objects WHERE api_group = '' AND resource = 'serviceaccounts'
),
stale_pods AS MATERIALIZED (
    SELECT p.bundle_id, p.namespace, coalesce(p.owner_name, p.name) AS owner, coalesce(p.service_account, 'default') AS sa, s.created_at AS sa_created,
        list(p.name ORDER BY p.name) AS pods, min(coalesce(p.started_at, p.created_at)) AS started
    FROM pods p
    JOIN sas s ON s.bundle_id = p.bundle_id AND s.namespace = p.namespace AND s.name = coalesce(p.service_account, 'default')
    WHERE p.deleted_at IS NULL AND p.phase = 'Running'
      AND coalesce(p.started_at, p.created_at) < s.created_at
      AND (contains(CAST(p.volumes AS VARCHAR), 'serviceAccountToken') OR regexp_matches(CAST(p.volumes AS VARCHAR), '-token-[a-z0-9]{5}'))
    GROUP BY ALL
),
-- The likely clients, aggregated once for the per-component findings.
stale_clients AS (
    SELECT bundle_id, count(*) AS n_clients,
        list({'owner': namespace || '/' || owner, 'sa': sa}) AS clients
    FROM stale_pods GROUP BY bundle_id
),
-- API servers whose log reaches into the window: there, fewer than min_count current
-- rejections mean no client presents an invalidated token now.
apiserver_logged AS (
    SELECT DISTINCT bundle_id FROM log_lines
    WHERE in_window(age, ${recent}) AND age IS NOT NULL
      AND ((source = 'container' AND container = 'kube-apiserver')
           OR (source IN ('host', 'node') AND service IN ('kube-apiserver', 'k3s', 'rke2-server')))
),
secret_clients AS (
    SELECT bundle_id, count(*) AS n_clients,
        list(namespace || '/' || name) AS secrets,
        list('Secret ' || namespace || '/' || name || ' kubernetes.io/legacy-token-invalid-since=' || since) AS secret_lines
    FROM invalid_secrets GROUP BY bundle_id
)
SELECT 'component/' || component AS resource, NULL AS namespace, component AS name, nodes[1] AS node, c.bundle_id,
    'component' AS kind, component, n AS rejected, nodes, sp.clients, ss.secrets,
    coalesce(sp.n_clients, 0) + coalesce(ss.n_clients, 0) > 0 AS has_clients,
    NULL::BIGINT AS pods, NULL AS owner, NULL AS started, NULL AS sa, NULL AS sa_created, NULL::BOOLEAN AS apiserver_quiet,
    list_concat(lines, coalesce(ss.secret_lines, [])) AS evidence,
    n AS count, NULL AS severity,
    first_seen, last_seen, n_recent AS recent_count
FROM by_component c
LEFT JOIN stale_clients sp ON sp.bundle_id = c.bundle_id
LEFT JOIN secret_clients ss ON ss.bundle_id = c.bundle_id
UNION ALL
SELECT 'pod/' || namespace || '/' || pods[1], namespace, owner, NULL, bundle_id,
    'pods', NULL, NULL, NULL, NULL, NULL, NULL, len(pods), owner, strftime(started, '%Y-%m-%dT%H:%M:%SZ'), sa,
    strftime(sa_created, '%Y-%m-%dT%H:%M:%SZ'),
    bundle_id IN (SELECT bundle_id FROM apiserver_logged) AND NOT EXISTS (
        SELECT 1 FROM by_component c WHERE c.bundle_id = stale_pods.bundle_id AND c.n_recent >= ${min_count}),
    pods[1:5], len(pods),
    -- Without current rejected requests in the logs the pods may not use their token at all;
    -- an API server logging up to now without them says no client presents one.
    CASE WHEN EXISTS (SELECT 1 FROM by_component c WHERE c.bundle_id = stale_pods.bundle_id
                      AND c.n_recent >= ${min_count}) THEN NULL
         WHEN bundle_id IN (SELECT bundle_id FROM apiserver_logged) THEN 'info'
         ELSE 'low' END,
    NULL, NULL, NULL
FROM stale_pods
ORDER BY 1
