/* ---
id = "certificate-expiry"
severity = "high"
faq = ["WNR-39"]
category = "certificates"
patterns = [
  "certificate has expired or is not yet valid",
  "x509: certificate has expired",
  "kubeadm certs check-expiration",
  "certificate rotat",
]
[title]
en = "Certificates expired or expiring soon"
zh = "证书已过期或即将过期"
[remediation]
en = """
Renew before expiry. kubeadm clusters: `kubeadm certs check-expiration`, then
`kubeadm certs renew all` on each control-plane node and restart the control-plane static pods
(move the manifests out of `/etc/kubernetes/manifests` and back) and the kubelet. The kubelet
client certificate rotates by itself when `rotateCertificates: true`. k3s/k0s rotate
certificates that expire within 90 days on restart (`systemctl restart k3s`); RKE2 likewise.
RKE1 keeps its certificates in `/etc/kubernetes/ssl`: renew them with `rke cert rotate` (or
Rotate Certificates in Rancher), not kubeadm.
The kubelet's self-signed serving certificate (`/var/lib/kubelet/pki/kubelet.crt`, used while
`serverTLSBootstrap` is off) is never renewed and not verified by its clients: it is listed as
info only; with `serverTLSBootstrap: true` the kubelet serves `kubelet-server-current.pem`, which
it rotates through CSRs.
```
kubeadm certs check-expiration
kubeadm certs renew all
openssl x509 -noout -enddate -in /etc/kubernetes/pki/apiserver.crt
```
"""
zh = """
请在过期前轮换证书。kubeadm 集群：先执行 `kubeadm certs check-expiration`，再在每个控制面节点执行
`kubeadm certs renew all`，并重启控制面静态 Pod（将清单移出 `/etc/kubernetes/manifests` 再移回）和 kubelet。
kubelet 客户端证书在 `rotateCertificates: true` 时会自动轮换。k3s/k0s 在重启时轮换 90 天内到期的证书
（`systemctl restart k3s`），RKE2 同理。
RKE1 的证书位于 `/etc/kubernetes/ssl`：使用 `rke cert rotate`（或 Rancher 中的 Rotate Certificates）续期，而不是 kubeadm。
kubelet 自签名的服务证书（`/var/lib/kubelet/pki/kubelet.crt`，未开启 `serverTLSBootstrap` 时使用）不会被续期，
其客户端也不校验它：仅作为 info 列出；开启 `serverTLSBootstrap: true` 后 kubelet 使用 `kubelet-server-current.pem`，
并通过 CSR 自动轮换。
```
kubeadm certs check-expiration
kubeadm certs renew all
openssl x509 -noout -enddate -in /etc/kubernetes/pki/apiserver.crt
```
"""
[message]
en = """\
{% if n == 1 %}{{ first_path }}{% else %}{{ n }} \
  {% if flavour == 'kubeadm' %}kubeadm certificates (/etc/kubernetes){% elif flavour == 'k3s' %}k3s certificates\
  {% elif flavour == 'rke2' %}RKE2 certificates{% elif flavour == 'k0s' %}k0s certificates\
  {% elif flavour == 'rke' %}RKE certificates (/etc/kubernetes/ssl)\
  {% else %}certificates in {{ dir }}{% endif %}\
{% endif %} on {{ host }}\
{% if expired %} expired {{ days }} days ago{% else %} expire{% if n == 1 %}s{% endif %} in {{ days }} days{% endif %} \
({{ expiry }}): \
{% for x in names[:8] | reject('none') %}{{ x.file }}{% if x.user is not none %} (embedded, user {{ x.user }}){% endif %}\
  {% if not x.client %} ({{ x.subject }}{% if x.is_ca %}, CA{% endif %}){% endif %}{% if not loop.last %}, {% endif %}\
{% endfor %}\
{% if n > 8 %} and {{ n - 8 }} more{% endif %}; \
{% if flavour == 'kubeadm' %}\
  {% if has_ca %}a CA is among them: kubeadm certs renew does not renew CAs, plan a CA rotation\
  {% else %}renew with kubeadm certs renew all and restart the control-plane static pods{% endif %}\
{% elif flavour == 'kubelet' %}the kubelet rotates these itself when rotateCertificates is on: check its CSRs and rotation\
{% elif flavour == 'kubelet-serving-unused' %}left from a time serverTLSBootstrap was on: it is off now, so the kubelet \
serves its own kubelet.crt and never reads this file; it can be deleted\
{% elif flavour == 'backup' %}a backup copy that no component reads (the certificates in use are checked \
where they are): nothing to renew, delete it when no longer needed\
{% elif flavour == 'rke' %}RKE1 certificates: renew them with rke cert rotate (the RKE CLI with the cluster's cluster.yml), \
or Rotate Certificates in Rancher\
  {% if has_ca %}; a CA is among them: rke cert rotate --rotate-ca{% endif %}\
{% elif flavour == 'kubelet-serving-selfsigned' %}\
  {% if server_tls_bootstrap %}the kubelet's old self-signed serving certificate, not in use: serverTLSBootstrap is on \
and the kubelet serves kubelet-server-current.pem; the file can be deleted\
  {% else %}the kubelet's self-signed serving certificate: the kubelet never renews it, and the API server and \
metrics-server (with --kubelet-insecure-tls) do not verify it, so nothing breaks; to renew it delete kubelet.crt/kubelet.key \
and restart the kubelet, or enable serverTLSBootstrap for CA-signed, rotated serving certificates{% endif %}\
{% elif flavour == 'k3s' %}k3s renews certificates that expire within 90 days when it starts: systemctl restart k3s (or k3s certificate rotate)\
{% elif flavour == 'rke2' %}RKE2 renews them when it starts: systemctl restart rke2-server (or rke2 certificate rotate)\
{% elif flavour == 'k0s' %}k0s renews them when it restarts: restart the k0s service\
{% elif flavour == 'kubeconfig' %}re-issue this kubeconfig (a copy of a kubeadm admin.conf: copy /etc/kubernetes/admin.conf \
again after kubeadm certs renew)\
{% else %}renew them with the tool that issued them{% endif %}"""
zh = """\
节点 {{ host }} 上的 \
{% if n == 1 %}{{ first_path }} {% else %}{{ n }} 个 \
  {% if flavour == 'kubeadm' %}kubeadm 证书（/etc/kubernetes）{% elif flavour == 'k3s' %}k3s 证书\
  {% elif flavour == 'rke2' %}RKE2 证书{% elif flavour == 'k0s' %}k0s 证书\
  {% elif flavour == 'rke' %}RKE 证书（/etc/kubernetes/ssl）\
  {% else %}{{ dir }} 中的证书{% endif %}\
{% endif %}\
{% if expired %}已过期 {{ days }} 天{% else %}将在 {{ days }} 天后过期{% endif %}\
（{{ expiry }}）：\
{% for x in names[:8] | reject('none') %}{{ x.file }}{% if x.user is not none %}（内嵌，用户 {{ x.user }}）{% endif %}\
  {% if not x.client %} ({{ x.subject }}{% if x.is_ca %}, CA{% endif %}){% endif %}{% if not loop.last %}, {% endif %}\
{% endfor %}\
{% if n > 8 %} 等，另有 {{ n - 8 }} 个{% endif %}；\
{% if flavour == 'kubeadm' %}\
  {% if has_ca %}其中包含 CA：kubeadm certs renew 不会续期 CA，请规划 CA 轮换\
  {% else %}使用 kubeadm certs renew all 续期，并重启控制面静态 Pod{% endif %}\
{% elif flavour == 'kubelet' %}开启 rotateCertificates 时 kubelet 会自行轮换这些证书：检查其 CSR 和证书轮换情况\
{% elif flavour == 'kubelet-serving-unused' %}这是曾开启 serverTLSBootstrap 时留下的证书：现已关闭，kubelet 使用自己的 \
kubelet.crt，不再读取该文件；可以删除\
{% elif flavour == 'backup' %}这是备份副本，没有组件读取它（正在使用的证书在其原位置检查）：无需续期，不再需要时可删除\
{% elif flavour == 'rke' %}RKE1 证书：使用 rke cert rotate（RKE CLI 配合集群的 cluster.yml）续期，\
或在 Rancher 中执行 Rotate Certificates\
  {% if has_ca %}；其中包含 CA：使用 rke cert rotate --rotate-ca{% endif %}\
{% elif flavour == 'kubelet-serving-selfsigned' %}\
  {% if server_tls_bootstrap %}kubelet 旧的自签名服务证书，未在使用：已开启 serverTLSBootstrap，\
kubelet 使用的是 kubelet-server-current.pem；该文件可以删除\
  {% else %}kubelet 自签名的服务证书：kubelet 从不续期它，API Server 和 metrics-server（使用 --kubelet-insecure-tls 时）\
也不校验它，因此不影响使用；如需更新，删除 kubelet.crt/kubelet.key 并重启 kubelet，\
或开启 serverTLSBootstrap 以使用 CA 签发并自动轮换的服务证书{% endif %}\
{% elif flavour == 'k3s' %}k3s 启动时会续期 90 天内到期的证书：systemctl restart k3s（或 k3s certificate rotate）\
{% elif flavour == 'rke2' %}RKE2 启动时会续期这些证书：systemctl restart rke2-server（或 rke2 certificate rotate）\
{% elif flavour == 'k0s' %}k0s 重启时会续期这些证书：重启 k0s 服务\
{% elif flavour == 'kubeconfig' %}重新签发该 kubeconfig（若是 kubeadm admin.conf 的副本：\
在 kubeadm certs renew 之后重新复制 /etc/kubernetes/admin.conf）\
{% else %}使用签发这些证书的工具续期{% endif %}"""
[thresholds]
warn_days = 30
# Below this many days left, a certificate that has not expired yet is high.
urgent_days = 14
--- */
-- Certificate files on the nodes (kubeadm, kubelet, etcd, k3s/RKE2 directories).
WITH
-- The kubelet's own serving certificate (kubelet.crt, written when no --tls-cert-file is given
-- and serverTLSBootstrap is off): self-signed, or signed by the "<host>-ca@<time>" CA embedded
-- in the same file. The kubelet never renews it and its clients (the API server, metrics-server)
-- do not verify it by default, so its expiry is not an outage.
selfsigned_serving AS (
    SELECT DISTINCT l.bundle_id, l.path FROM certificates l
    WHERE regexp_matches(l.path, '/kubelet\.crt$') AND coalesce(l.idx, 0) = 0
      AND (l.issuer = l.subject
           OR EXISTS (SELECT 1 FROM certificates ca WHERE ca.bundle_id = l.bundle_id AND ca.path = l.path
                      AND ca.idx > 0 AND ca.subject = l.issuer))
),
-- Nodes whose kubelet requests its serving certificate from the cluster (serverTLSBootstrap /
-- --rotate-server-certificates): there kubelet-server-current.pem is in use, kubelet.crt is not.
-- NULL when neither the configuration nor the flags could be read.
server_tls_bootstrap AS (
    SELECT h.bundle_id,
        bool_or(coalesce(k.config->>'$.serverTLSBootstrap', 'false') = 'true') FILTER (WHERE k.config IS NOT NULL)
            OR coalesce(bool_or(regexp_matches(f.content, '--rotate-server-certificates(=true)?([\s"'']|$)')), false) AS enabled
    FROM host_nodes h
    LEFT JOIN kubelet_configs k
        ON (k.source = 'file' AND k.bundle_id = h.bundle_id)
        OR (k.source = 'configz' AND k.bundle_id = h.cluster_bundle_id AND k.node = h.node)
    LEFT JOIN host_files f ON f.bundle_id = h.bundle_id
        AND (f.path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet')
             OR f.path LIKE '%/kubelet.service.d/%')
        AND contains(f.content, '--rotate-server-certificates')
    GROUP BY h.bundle_id
),
files AS (
    SELECT c.bundle_id, c.node, c.path,
        regexp_replace(c.path, '^.*/', '') || CASE WHEN c.idx > 0 THEN '#' || c.idx ELSE '' END AS file,
        NULL::VARCHAR AS embedded_user,
        c.idx, c.subject, c.issuer, c.not_after, c.days_left, c.is_ca, c.sans,
        EXISTS (SELECT 1 FROM selfsigned_serving s WHERE s.bundle_id = c.bundle_id AND s.path = c.path) AS selfsigned_serving
    FROM certificates c
    -- A dated kubelet certificate the kubelet rotated away from (the -current.pem link points
    -- at a newer one) is history, not in use.
    WHERE NOT (regexp_matches(c.path, '/kubelet-(client|server)-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.pem$')
               AND EXISTS (SELECT 1 FROM certificates cur WHERE cur.bundle_id = c.bundle_id
                           AND cur.path = regexp_replace(c.path, '-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.pem$', '-current.pem')))
),
-- Client certificates embedded in kubeconfigs (admin.conf, controller-manager.conf,
-- scheduler.conf, k3s/RKE2 kubeconfigs): `kubeadm certs check-expiration` lists them too.
embedded AS (
    SELECT u.bundle_id, u.node, u.path, regexp_replace(u.path, '^.*/', '') AS file, u.name AS embedded_user,
        0 AS idx, 'client certificate of user ' || u.name AS subject,
        NULL AS issuer, u.client_certificate_not_after AS not_after,
        days_between(b.collected_at, u.client_certificate_not_after) AS days_left, false AS is_ca, [] AS sans,
        false AS selfsigned_serving
    FROM kubeconfig_users u JOIN bundles b ON b.bundle_id = u.bundle_id
    WHERE u.client_certificate_not_after IS NOT NULL AND u.auth = 'client-certificate-data'
),
due AS (
    SELECT *,
        -- A distribution's files are renewed together: one group for all of them.
        CASE WHEN flavour NOT IN ('kubeadm', 'k3s', 'rke2', 'k0s', 'rke') THEN regexp_replace(path, '/[^/]+$', '') END AS dir,
        -- Control-plane material: its expiry stops the cluster, not one node.
        flavour IN ('kubeadm', 'k3s', 'rke2', 'k0s', 'rke') AND path <> '/etc/kubernetes/kubelet.conf'
            AND NOT regexp_matches(path, '^/var/lib/rancher/(k3s|rke2)/agent/') AS control_plane
    FROM (
        SELECT *,
            -- The kubelet's self-signed serving certificate first, in whatever cert dir
            -- (k0s: /var/lib/k0s/kubelet/pki): no distribution renews it.
            CASE WHEN selfsigned_serving THEN 'kubelet-serving-selfsigned'
                 -- A backup copy (pki.bak, pki-backup, *.crt.old, kubeadm upgrade's
                 -- /etc/kubernetes/tmp/kubeadm-backup-*, k3s's tls-<time> kept by certificate
                 -- rotate): no component reads it.
                 WHEN regexp_matches(path, '(?i)(/|[._-])(bak|old|orig|backup|backups|bk)([._-]|\d|/|$)')
                      OR path LIKE '/etc/kubernetes/tmp/%'
                      OR regexp_matches(path, '^/var/lib/rancher/(k3s|rke2)/server/tls-\d+/') THEN 'backup'
                 -- The CA-signed serving certificate left from a time serverTLSBootstrap was on:
                 -- with it off (known) the kubelet serves kubelet.crt and never reads this file.
                 WHEN regexp_matches(path, '/kubelet-server-[^/]*\.pem$')
                      AND (SELECT t.enabled FROM server_tls_bootstrap t WHERE t.bundle_id = x.bundle_id) = false
                      THEN 'kubelet-serving-unused'
                 WHEN path LIKE '/var/lib/rancher/k3s/%' OR path LIKE '/etc/rancher/k3s/%' THEN 'k3s'
                 WHEN path LIKE '/var/lib/rancher/rke2/%' OR path LIKE '/etc/rancher/rke2/%' THEN 'rke2'
                 -- A k0s node's kubelet certificates: the kubelet's own, rotated by it.
                 WHEN path LIKE '/var/lib/k0s/kubelet/pki/%' THEN 'kubelet'
                 WHEN path LIKE '/var/lib/k0s/%' THEN 'k0s'
                 WHEN path LIKE '/var/lib/kubelet/pki/%' THEN 'kubelet'
                 -- RKE1 (Rancher Kubernetes Engine): every component's certificate in
                 -- /etc/kubernetes/ssl, renewed by `rke cert rotate`, not kubeadm.
                 WHEN path LIKE '/etc/kubernetes/ssl/%' THEN 'rke'
                 WHEN path LIKE '/etc/kubernetes/%' THEN 'kubeadm'
                 WHEN embedded_user IS NOT NULL THEN 'kubeconfig'
                 ELSE 'other' END AS flavour
        FROM (SELECT * FROM files UNION ALL SELECT * FROM embedded) x
        WHERE days_left < ${warn_days}
    )
),
grouped AS (
    SELECT bundle_id, node, dir, flavour, CAST(not_after AS DATE) AS day, min(days_left) AS days_left, min(not_after) AS not_after,
        count(*) AS n, bool_or(is_ca) AS has_ca, bool_or(control_plane) AS control_plane,
        -- NULL for a certificate without a subject: not named.
        list(CASE WHEN subject IS NOT NULL THEN {'file': file, 'user': embedded_user, 'subject': subject, 'is_ca': is_ca,
                                                 'client': starts_with(subject, 'client certificate of')} END
             ORDER BY starts_with(subject, 'client certificate of'), path, idx) AS names,
        list(path || CASE WHEN idx > 0 THEN '#' || idx ELSE '' END || ': notAfter ' || strftime(not_after, '%Y-%m-%dT%H:%M:%SZ')
             || ', subject ' || subject || coalesce(', issuer ' || issuer, '')
             || CASE WHEN len(sans) > 0 THEN ', sans ' || array_to_string(sans, ', ') ELSE '' END ORDER BY path, idx) AS lines,
        min(path) AS first_path
    FROM due GROUP BY bundle_id, node, dir, flavour, CAST(not_after AS DATE)
),
judged AS (
    SELECT g.*, t.enabled AS server_tls_bootstrap
    FROM grouped g LEFT JOIN server_tls_bootstrap t ON t.bundle_id = g.bundle_id
)
SELECT
    'certificate/' || coalesce(node, '?') || ':' || CASE WHEN n = 1 THEN first_path ELSE flavour || ':' || strftime(day, '%Y-%m-%d') END AS resource,
    node, bundle_id,
    coalesce(node, '?') AS host, n, first_path, dir, flavour, has_ca, server_tls_bootstrap, names,
    days_left < 0 AS expired, CAST(floor(abs(days_left)) AS BIGINT) AS days,
    strftime(not_after, '%Y-%m-%dT%H:%M:%SZ') AS expiry,
    lines AS evidence,
    n AS count,
    -- Nothing verifies the kubelet's self-signed serving certificate: its expiry is a note.
    CASE WHEN flavour IN ('kubelet-serving-selfsigned', 'kubelet-serving-unused', 'backup') THEN 'info'
         WHEN days_left < 0 AND control_plane THEN 'critical'
         WHEN days_left < 0 THEN 'high'
         WHEN days_left < ${urgent_days} OR has_ca THEN 'high'
         ELSE 'medium' END AS severity
FROM judged
ORDER BY days_left, resource
