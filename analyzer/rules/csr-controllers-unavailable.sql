/* ---
id = "csr-controllers-unavailable"
severity = "medium"
faq = ["DCE-10"]
category = "control-plane"
# Only k3s's start-up line is read from logs, and only the latest one: it is the configuration in
# force however long ago it was written, so its rows are not judged by age.
recent = "30d"
patterns = [
  "certificatesigningrequests.*(not found|the server could not find the requested resource)",
  "csr.*(请求失败|failed)",
  "--controllers=.*-csr(signing|approving|cleaner)",
]
[title]
en = "Certificate signing (CSR) not available: cluster below v1.18 or CSR controllers disabled"
zh = "证书签发（CSR）不可用：集群版本低于 v1.18 或 CSR 相关控制器未开启"
[message]
en = """\
{% if kind == 'version' %}\
  Kubernetes {{ server_version }} is below v{{ min_version }}: the console cannot get a user certificate through a CSR; \
upgrade the cluster{% if not managed %} (matters when the cluster is managed by DCE / kpanda){% endif %}\
{% elif kind == 'controllers' %}\
  kube-controller-manager ({{ source }}) does not run {{ off | join(', ') }} (--controllers={{ controllers }})\
  {% if unsigned is not none %}; {{ unsigned }} approved CSRs were never signed{% endif %}\
  {% if csr_off %}: CSR-based user certificates (console) fail{% endif %}\
{% else %}\
  {{ unsigned }} CertificateSigningRequests approved more than {{ unsigned_minutes }} minutes ago were never signed: \
the csrsigning controller is not running or has no signing key\
{% endif %}"""
zh = """\
{% if kind == 'version' %}\
  Kubernetes {{ server_version }} 低于 v{{ min_version }}：控制台无法通过 CSR 获取用户证书，请升级集群\
  {% if not managed %}（集群由 DCE / kpanda 管理时才有影响）{% endif %}\
{% elif kind == 'controllers' %}\
  kube-controller-manager（{{ source }}）没有运行 {{ off | join(', ') }}（--controllers={{ controllers }}）\
  {% if unsigned is not none %}；{{ unsigned }} 个已批准的 CSR 一直未签发{% endif %}\
  {% if csr_off %}：基于 CSR 的用户证书（控制台）申请会失败{% endif %}\
{% else %}\
  {{ unsigned }} 个 CertificateSigningRequest 批准已超过 {{ unsigned_minutes }} 分钟仍未签发：\
csrsigning controller 未运行或没有签名密钥\
{% endif %}"""
[thresholds]
min_version = "1.18"
# An approved CSR still without a certificate after this long was never signed.
unsigned_minutes = 10
[remediation]
en = """
Opening the console of a cluster requests a certificate for the logged-in user through a
CertificateSigningRequest in the target cluster. On Kubernetes below v1.18, or when
kube-controller-manager does not run the CSR controllers, the request is never signed and the
console cannot connect. For v1.18 and later make sure kube-controller-manager runs these
controllers (`--controllers` must keep `*` or list them, and must not disable them with `-name`):
```
ttl-after-finished,bootstrapsigner,csrapproving,csrcleaner,csrsigning
```
e.g. `--controllers=*,bootstrapsigner,tokencleaner` (kubeadm's default) in
`/etc/kubernetes/manifests/kube-controller-manager.yaml`, with `--cluster-signing-cert-file` and
`--cluster-signing-key-file` set. See
https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/.
For clusters below v1.18 the only solution is upgrading.
```
kubectl get csr
kubectl -n kube-system get pod -l component=kube-controller-manager -o yaml | grep -- --controllers
```
"""
zh = """
打开集群控制台时，会根据当前登录用户在目标集群中通过 CSR 资源申请证书。Kubernetes 低于 v1.18，或 kube-controller-manager
没有开启 CSR 相关 controller 时，证书申请会失败，从而无法连接到目标集群。集群版本不低于 v1.18 时，请检查
kube-controller-manager 是否开启以下 controller（`--controllers` 需保留 `*` 或显式列出，且不能以 `-名称` 关闭）：
```
ttl-after-finished,bootstrapsigner,csrapproving,csrcleaner,csrsigning
```
例如在 `/etc/kubernetes/manifests/kube-controller-manager.yaml` 中使用 `--controllers=*,bootstrapsigner,tokencleaner`
（kubeadm 默认值），并配置 `--cluster-signing-cert-file` 与 `--cluster-signing-key-file`。申请证书流程参考
https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/ 。低版本集群目前解决方案只有升级版本。
```
kubectl get csr
kubectl -n kube-system get pod -l component=kube-controller-manager -o yaml | grep -- --controllers
```
"""
--- */
WITH args AS (
    -- kube-controller-manager command lines: static pods seen through the API ...
    SELECT bundle_id, 'pod ' || namespace || '/' || pod AS source, node,
        list_concat(coalesce(from_json(command, '["VARCHAR"]'), []), coalesce(from_json(args, '["VARCHAR"]'), [])) AS argv
    FROM containers
    WHERE namespace = 'kube-system' AND (name = 'kube-controller-manager' OR pod LIKE 'kube-controller-manager%')
    UNION ALL
    -- ... their manifests on the nodes ...
    SELECT bundle_id, 'file ' || node || ':' || path, node,
        list_concat(coalesce(from_json(parsed->'$.spec.containers[0].command', '["VARCHAR"]'), []),
                    coalesce(from_json(parsed->'$.spec.containers[0].args', '["VARCHAR"]'), []))
    FROM host_files
    WHERE path = '/etc/kubernetes/manifests/kube-controller-manager.yaml' AND parsed IS NOT NULL
    UNION ALL
    -- ... and k3s / RKE2 configuration (kube-controller-manager-arg: ["controllers=..."]).
    SELECT bundle_id, 'file ' || node || ':' || path, node,
        list_transform(coalesce(from_json(parsed->'$."kube-controller-manager-arg"', '["VARCHAR"]'), []), lambda a: '--' || ltrim(a, '-'))
    FROM host_files
    WHERE regexp_matches(path, '^/etc/rancher/(k3s|rke2)/config\.yaml(\.d/.*)?$') AND parsed IS NOT NULL
    UNION ALL
    -- ... and the command line k3s logs when it starts the embedded controller manager: the
    -- latest start only, earlier ones ran with a configuration since replaced.
    SELECT bundle_id, coalesce(service, 'k3s') || ' log ' || coalesce(node, ''), node,
        regexp_extract_all(line, '--[a-z-]+=[^ "]+')
    FROM log_lines
    WHERE source IN ('node', 'host') AND contains(line, 'Running kube-controller-manager')
    QUALIFY row_number() OVER (PARTITION BY bundle_id, node, service ORDER BY ts DESC NULLS LAST, line_no DESC) = 1
),
flags AS (
    SELECT coalesce((SELECT coalesce(h.cluster_bundle_id, h.bundle_id) FROM host_nodes h WHERE h.bundle_id = args.bundle_id), bundle_id) AS bundle_id,
        source, node,
        coalesce(
            nullif(regexp_extract(list_filter(argv, lambda a: a LIKE '--controllers=%')[1], '^--controllers=(.*)$', 1), ''),
            argv[list_position(argv, '--controllers') + 1]) AS controllers
    FROM args
),
judged AS (
    SELECT f.*, string_split(replace(f.controllers, ' ', ''), ',') AS toks
    FROM flags f WHERE f.controllers IS NOT NULL
),
missing AS (
    SELECT any_value(j.bundle_id) AS bundle_id, string_agg(DISTINCT j.source, ', ' ORDER BY j.source) AS source, j.node, j.controllers,
        list_filter(['csrapproving', 'csrcleaner', 'csrsigning', 'ttl-after-finished', 'bootstrapsigner'],
            lambda c: list_contains(j.toks, '-' || c)
                   OR NOT (list_contains(j.toks, c) OR (list_contains(j.toks, '*') AND c <> 'bootstrapsigner'))) AS off
    FROM judged j
    GROUP BY j.bundle_id, j.node, j.controllers, j.toks
),
unsigned AS (
    -- CSRs approved long ago that never got a certificate: signing does not work.
    SELECT o.bundle_id, count(*) AS n, list(o.name || ' (' || coalesce(o.doc->>'$.spec.signerName', '?') || ')' ORDER BY o.name)[1:3] AS names
    FROM objects o JOIN bundles b USING (bundle_id)
    WHERE o.api_group = 'certificates.k8s.io' AND o.resource = 'certificatesigningrequests'
      AND list_contains(list_transform(coalesce(from_json(o.doc->'$.status.conditions', '[{"type":"VARCHAR"}]'), []), lambda c: c.type), 'Approved')
      -- Refused by the signer (Failed, e.g. SignerValidationFailure): signing runs, the request was bad.
      AND NOT list_contains(list_transform(coalesce(from_json(o.doc->'$.status.conditions', '[{"type":"VARCHAR"}]'), []), lambda c: c.type), 'Failed')
      -- Only the signers the controller manager's csrsigning serves (no signerName: v1beta1's
      -- legacy-unknown); other signers (cert-manager, Istio, a cloud's) sign on their own.
      AND coalesce(o.doc->>'$.spec.signerName', 'kubernetes.io/legacy-unknown') IN ('kubernetes.io/kube-apiserver-client',
          'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown')
      AND coalesce(o.doc->>'$.status.certificate', '') = ''
      AND days_between(o.created_at, b.collected_at) * 1440 > ${unsigned_minutes}
    GROUP BY o.bundle_id
)
SELECT 'cluster' AS resource, b.bundle_id, NULL AS node,
    'version' AS kind, b.server_version, d.bundle_id IS NOT NULL AS managed,
    NULL AS source, NULL::VARCHAR[] AS off, NULL AS controllers, NULL::BIGINT AS unsigned, NULL::BOOLEAN AS csr_off,
    ['serverVersion: ' || b.server_version] AS evidence,
    CASE WHEN d.bundle_id IS NULL THEN 'info' END AS severity
FROM bundles b
LEFT JOIN (
    -- Managed by DCE container management (kpanda): its namespace or its API groups are there.
    SELECT DISTINCT bundle_id FROM objects
    WHERE (api_group = '' AND resource = 'namespaces' AND name = 'kpanda-system') OR api_group LIKE '%kpanda.io'
) d ON d.bundle_id = b.bundle_id
WHERE b.kind = 'cluster' AND version_num(b.server_version) < version_num(${min_version})
UNION ALL
SELECT 'kube-controller-manager/' || coalesce(m.node, 'cluster'), m.bundle_id, m.node,
    'controllers', NULL, NULL, m.source, m.off, m.controllers, u.n,
    list_has_any(m.off, ['csrapproving', 'csrsigning', 'csrcleaner']),
    list_concat(['--controllers=' || m.controllers], coalesce(u.names, [])),
    -- bootstrapsigner signs the cluster-info ConfigMap for bootstrap-token joins, not CSRs:
    -- off by default outside kubeadm (k3s, RKE2), it alone is a note.
    CASE WHEN NOT list_has_any(m.off, ['csrapproving', 'csrsigning', 'csrcleaner', 'ttl-after-finished']) THEN 'info'
         WHEN NOT list_has_any(m.off, ['csrapproving', 'csrsigning', 'csrcleaner']) THEN 'low' END
FROM missing m LEFT JOIN unsigned u ON u.bundle_id = m.bundle_id
WHERE len(m.off) > 0
UNION ALL
SELECT 'certificatesigningrequests', u.bundle_id, NULL,
    'unsigned', NULL, NULL, NULL, NULL, NULL, u.n, NULL,
    u.names, NULL
FROM unsigned u
WHERE NOT EXISTS (SELECT 1 FROM missing m WHERE m.bundle_id = u.bundle_id AND len(m.off) > 0)
ORDER BY 1
