/* ---
id = "control-plane-flag-repeated"
severity = "medium"
faq = ["KADM-15"]
category = "control-plane"
patterns = [
  "flag: malformed pair, expect string=string",
  "--(apiserver|controller-manager|scheduler)-extra-args",
  "invalid argument \"[^\"]*\" for \"--(apiserver|controller-manager|scheduler)-extra-args\" flag",
]
# What this rule can and cannot see. The FAQ's own case, `kubeadm init --apiserver-extra-args
# "enable-admission-plugins=LimitRanger,enable-admission-plugins=NamespaceExists"`, leaves no
# trace: kubeadm keeps one value of the repeated key and writes only that one into the static
# pod manifest, so the lost value appears in no file, Pod or ConfigMap a bundle holds. What can be
# seen is a single-valued flag written twice where the component reads it: in a static pod
# manifest's command list (host_files), in the Pod spec the API serves, or in a kubeadm v1beta4
# ClusterConfiguration whose extraArgs list names it twice.
[title]
en = "Control-plane flag given more than once: only the last value takes effect"
zh = "控制平面组件的参数被重复传递：只有最后一个值生效"
[remediation]
en = """
`kubeadm init` flags such as `--apiserver-extra-args` are parsed as `mapStringString`
(`key=value` pairs). A comma-separated value, e.g.
`--apiserver-extra-args "enable-admission-plugins=LimitRanger,NamespaceExists"`, fails with
`flag: malformed pair, expect string=string` (`NamespaceExists` is taken as a key without a
value). Splitting it, `--apiserver-extra-args "enable-admission-plugins=LimitRanger,enable-admission-plugins=NamespaceExists"`,
leaves `enable-admission-plugins` with only `NamespaceExists`. Likewise, a single-valued flag
passed twice to a component keeps only its last value. The value kubeadm dropped in the first
case leaves no trace in the cluster: compare the manifest with what you meant to pass. This rule
reports the flags it can see repeated (manifests, control-plane Pods, a v1beta4 `extraArgs`
list). Pass component arguments with a kubeadm configuration file instead, one flag with the full
comma-separated value:
```yaml
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  extraArgs:
    enable-admission-plugins: "LimitRanger,NamespaceExists"
```
```
kubeadm init --config kubeadm-config.yaml
grep -- '--enable-admission-plugins' /etc/kubernetes/manifests/kube-apiserver.yaml
```
"""
zh = """
`kubeadm init` 的 `--apiserver-extra-args` 等参数按 `mapStringString`（`key=value` 对）解析。传入逗号分隔的值，如
`--apiserver-extra-args "enable-admission-plugins=LimitRanger,NamespaceExists"`，会报 `flag: malformed pair, expect string=string`
（`NamespaceExists` 被当作缺少取值的键名）。拆分为
`--apiserver-extra-args "enable-admission-plugins=LimitRanger,enable-admission-plugins=NamespaceExists"`
则 `enable-admission-plugins` 只剩 `NamespaceExists`。同样，单值参数被重复传给组件时也只有最后一个值生效。
第一种情况中被 kubeadm 丢弃的值不会在集群中留下任何痕迹：请将清单与预期传入的参数进行对比。本规则报告能看到的重复参数
（静态 Pod 清单、控制平面 Pod、v1beta4 的 `extraArgs` 列表）。请改用 kubeadm 配置文件传递组件参数，一个参数写完整的逗号分隔值：
```yaml
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  extraArgs:
    enable-admission-plugins: "LimitRanger,NamespaceExists"
```
```
kubeadm init --config kubeadm-config.yaml
grep -- '--enable-admission-plugins' /etc/kubernetes/manifests/kube-apiserver.yaml
```
"""
[message]
en = """\
{{ component }} flag --{{ flag }} is given {{ n }} times in {{ src }} \
({% for v in vals %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}): \
only the last value "{{ vals[-1] }}" takes effect"""
zh = """\
{{ component }} 的参数 --{{ flag }} 在 {% if src is startingwith('pod ') %}Pod {{ src[4:] }}{% else %}{{ src }}{% endif %} \
中出现了 {{ n }} 次（{% for v in vals %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}）：\
只有最后一个值 "{{ vals[-1] }}" 生效"""
[thresholds]
# List- and map-valued flags: repeating them adds values, nothing is lost.
accumulating_flags = "enable-admission-plugins|disable-admission-plugins|admission-control|service-account-issuer|service-account-key-file|api-audiences|authorization-mode|cors-allowed-origins|etcd-servers|etcd-servers-overrides|feature-gates|runtime-config|tls-cipher-suites|tls-sni-cert-key|requestheader-allowed-names|requestheader-group-headers|requestheader-username-headers|requestheader-uid-headers|requestheader-extra-headers-prefix|oidc-required-claim|oidc-signing-algs|kubelet-preferred-address-types|controllers|allow-metric-labels|disabled-metrics|watch-cache-sizes|vmodule|audit-log-batch-throttle-enable"
--- */
WITH argv AS (
    -- Control-plane static pods as the API serves them.
    SELECT c.bundle_id, c.node, 'pod kube-system/' || c.pod AS src, c.name AS component,
        list_concat(coalesce(from_json(c.command, '["VARCHAR"]'), []), coalesce(from_json(c.args, '["VARCHAR"]'), [])) AS tokens
    FROM containers c
    WHERE c.namespace = 'kube-system' AND c.name IN ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd')
    UNION ALL
    -- Static pod manifests on the node.
    SELECT f.bundle_id, f.node, f.path, ct->>'$.name',
        list_concat(coalesce(from_json(ct->'$.command', '["VARCHAR"]'), []), coalesce(from_json(ct->'$.args', '["VARCHAR"]'), []))
    FROM (SELECT bundle_id, node, path, unnest(from_json(parsed->'$.spec.containers', '["JSON"]')) AS ct
          FROM host_files WHERE path LIKE '/etc/kubernetes/manifests/%' AND parsed IS NOT NULL) f
),
flags AS (
    -- `--flag=value`, or `--flag value` (the next token, when it is no flag itself).
    SELECT bundle_id, node, src, component, pos,
        regexp_extract(tok, '^--([A-Za-z0-9-]+)', 1) AS flag,
        CASE WHEN contains(tok, '=') THEN substr(tok, strpos(tok, '=') + 1)
             WHEN nxt IS NOT NULL AND NOT starts_with(nxt, '-') THEN nxt
             ELSE '' END AS value
    FROM (SELECT bundle_id, node, src, component, pos, tokens[pos] AS tok, tokens[pos + 1] AS nxt
          FROM (SELECT *, unnest(generate_series(1, len(tokens))) AS pos FROM argv))
    WHERE regexp_matches(tok, '^--[A-Za-z0-9-]+')
),
-- kubeadm v1beta4 ClusterConfiguration: extraArgs is a list of name/value pairs, per component.
kubeadm_cfg AS (
    SELECT bundle_id, (doc->>'$.data.ClusterConfiguration') AS cfg FROM objects
    WHERE resource = 'configmaps' AND namespace = 'kube-system' AND name = 'kubeadm-config'
),
cfg_blocks AS (
    SELECT bundle_id, comp.c AS component,
        regexp_extract(cfg, '(?s)(?:^|\n)' || comp.k || ':\n(.*?)(?:\n[A-Za-z]|$)', 1) AS block
    FROM kubeadm_cfg, (VALUES ('apiServer', 'kube-apiserver'), ('controllerManager', 'kube-controller-manager'),
                               ('scheduler', 'kube-scheduler'), ('etcd', 'etcd')) AS comp(k, c)
),
-- Only the items of the component's extraArgs list (extraEnvs has name/value items too).
cfg_args AS (
    SELECT bundle_id, component,
        regexp_extract(block, 'extraArgs:\n((?:[ ]*- name:[^\n]*\n[ ]+value:[^\n]*(?:\n|$))+)', 1) AS args
    FROM cfg_blocks WHERE block IS NOT NULL AND block <> ''
),
cfg_flags AS (
    SELECT bundle_id, NULL::VARCHAR AS node, 'ConfigMap kube-system/kubeadm-config' AS src, component, pos,
        regexp_extract(item, 'name:\s*"?([A-Za-z0-9-]+)', 1) AS flag,
        regexp_extract(item, 'value:\s*"?([^"\n]*)', 1) AS value
    FROM (SELECT bundle_id, component,
              unnest(regexp_extract_all(args, '-\s*name:\s*"?[A-Za-z0-9-]+"?\s*\n\s*value:\s*[^\n]*')) AS item,
              generate_subscripts(regexp_extract_all(args, '-\s*name:\s*"?[A-Za-z0-9-]+"?\s*\n\s*value:\s*[^\n]*'), 1) AS pos
          FROM cfg_args WHERE args IS NOT NULL AND args <> '')
),
all_flags AS (SELECT * FROM flags UNION ALL SELECT * FROM cfg_flags),
repeated AS (
    SELECT bundle_id, node, src, component, flag,
        list(value ORDER BY pos) AS vals, count(*) AS n
    FROM all_flags
    WHERE flag <> '' AND NOT list_contains(string_split(${accumulating_flags}, '|'), flag)
    GROUP BY ALL
    HAVING count(*) > 1 AND count(DISTINCT value) > 1
)
SELECT
    CASE WHEN src LIKE 'pod %' THEN 'pod/' || replace(src, 'pod ', '')
         WHEN src LIKE 'ConfigMap %' THEN 'configmap/kube-system/kubeadm-config'
         ELSE 'file/' || coalesce(node, '') || ':' || src END AS resource,
    node, bundle_id, component AS container,
    component, flag, n, src, vals,
    list_transform(vals, lambda v: '--' || flag || '=' || v) AS evidence
FROM repeated
ORDER BY 1, flag
