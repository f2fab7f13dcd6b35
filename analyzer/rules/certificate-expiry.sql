/* ---
id = "certificate-expiry"
severity = "high"
faq = ["WNR-39"]
category = "certificates"
patterns = ["certificate has expired or is not yet valid", "x509: certificate has expired"]
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
```
kubeadm certs check-expiration
kubeadm certs renew all
openssl x509 -noout -enddate -in /etc/kubernetes/pki/apiserver.crt
```
"""
[thresholds]
warn_days = 30
--- */
SELECT
    'certificate/' || node || ':' || path || CASE WHEN idx > 0 THEN '#' || idx ELSE '' END AS resource,
    node, bundle_id,
    CASE WHEN days_left < 0 THEN path || ' expired ' || CAST(floor(-days_left) AS BIGINT) || ' days ago'
         ELSE path || ' expires in ' || CAST(floor(days_left) AS BIGINT) || ' days' END
        || ' (' || subject || ')' AS message,
    ['subject: ' || subject, 'issuer: ' || coalesce(issuer, ''), 'notAfter: ' || strftime(not_after, '%Y-%m-%dT%H:%M:%SZ'),
     'sans: ' || array_to_string(sans, ', ')] AS evidence,
    CASE WHEN days_left < 0 THEN 'critical' WHEN days_left < 7 THEN 'high' ELSE 'medium' END AS severity
FROM certificates
WHERE days_left < ${warn_days}
ORDER BY days_left
