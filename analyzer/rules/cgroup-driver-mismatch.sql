/* ---
id = "cgroup-driver-mismatch"
severity = "high"
faq = ["KADM-03"]
category = "nodes"
patterns = [
  "kubelet cgroup driver: \\\\?\"\\w+\\\\?\" is different from docker cgroup driver: \\\\?\"\\w+",
  "misconfiguration: kubelet cgroup driver",
  "expected cgroupsPath to be of format \\\\?\"slice:prefix:name\\\\?\" for systemd cgroups",
  "\\[apiclient\\] Created API client, waiting for the control plane to become ready",
  "waiting for the kubelet to boot up the control plane as static Pods",
]
# A kubelet that refuses the driver is restarted by systemd every 10 s: a current mismatch
# logs within the hour.
recent = "6h"
[title]
en = "kubelet and container runtime use different cgroup drivers"
zh = "kubelet 与容器运行时使用的 cgroup 驱动不一致"
[remediation]
en = """
When the kubelet's `cgroupDriver` differs from the runtime's, `kubeadm init` hangs after
`[apiclient] Created API client, waiting for the control plane to become ready`: the kubelet
refuses to start (docker: `misconfiguration: kubelet cgroup driver: "systemd" is different from
docker cgroup driver: "cgroupfs"`) or the control-plane containers keep crashing. Use the same
driver on both sides, `systemd` on systemd hosts (the kubeadm default since v1.22):

- kubelet: `cgroupDriver: systemd` in `/var/lib/kubelet/config.yaml` (and no `--cgroup-driver` flag in `/var/lib/kubelet/kubeadm-flags.env`)
- containerd: `SystemdCgroup = true` under `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]` in `/etc/containerd/config.toml`
- docker: `"exec-opts": ["native.cgroupdriver=systemd"]` in `/etc/docker/daemon.json`
- CRI-O: `cgroup_manager = "systemd"` in `/etc/crio/crio.conf`

then restart the runtime and the kubelet. Check the control-plane containers with `docker ps` /
`docker logs`, or `crictl ps -a` / `crictl logs` for other runtimes.
```
grep -i cgroup /var/lib/kubelet/config.yaml /var/lib/kubelet/kubeadm-flags.env
grep SystemdCgroup /etc/containerd/config.toml
systemctl restart containerd && systemctl restart kubelet
crictl ps -a | grep -E 'kube-apiserver|etcd'
```
See https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/configure-cgroup-driver/
"""
zh = """
kubelet 的 `cgroupDriver` 与容器运行时不一致时，`kubeadm init` 会在打印
`[apiclient] Created API client, waiting for the control plane to become ready` 后挂起：kubelet 拒绝启动
（docker：`misconfiguration: kubelet cgroup driver: "systemd" is different from docker cgroup driver: "cgroupfs"`），
或控制平面容器反复崩溃。两侧请使用相同的驱动，systemd 主机上使用 `systemd`（kubeadm 自 v1.22 起的默认值）：

- kubelet：`/var/lib/kubelet/config.yaml` 中 `cgroupDriver: systemd`（且 `/var/lib/kubelet/kubeadm-flags.env` 中没有 `--cgroup-driver` 参数）
- containerd：`/etc/containerd/config.toml` 的 `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]` 下 `SystemdCgroup = true`
- docker：`/etc/docker/daemon.json` 中 `"exec-opts": ["native.cgroupdriver=systemd"]`
- CRI-O：`/etc/crio/crio.conf` 中 `cgroup_manager = "systemd"`

然后重启运行时和 kubelet。可用 `docker ps` / `docker logs`（其他运行时用 `crictl ps -a` / `crictl logs`）检查控制平面容器。
```
grep -i cgroup /var/lib/kubelet/config.yaml /var/lib/kubelet/kubeadm-flags.env
grep SystemdCgroup /etc/containerd/config.toml
systemctl restart containerd && systemctl restart kubelet
crictl ps -a | grep -E 'kube-apiserver|etcd'
```
参见 https://kubernetes.io/zh-cn/docs/tasks/administer-cluster/kubeadm/configure-cgroup-driver/
"""
[message]
en = """\
{% if mismatch %}kubelet cgroupDriver is {{ kubelet_driver }} ({{ kubelet_source }}) but {{ runtime }} uses {{ runtime_driver }} (\
  {% if runtime == 'containerd' %}\
    {% if driver_setting is not none %}SystemdCgroup = {{ driver_setting }} in containerd config\
    {% else %}containerd default (no SystemdCgroup in /etc/containerd/config.toml){% endif %}\
  {% elif runtime == 'docker' %}\
    {% if driver_setting is not none %}native.cgroupdriver={{ driver_setting }} in /etc/docker/daemon.json\
    {% else %}docker default on cgroup v{{ cgroup_version }}{% endif %}\
  {% else %}\
    {% if driver_setting is not none %}cgroup_manager = "{{ driver_setting }}" in CRI-O config{% else %}CRI-O default{% endif %}\
  {% endif %})\
{% endif %}\
{% if log_n > 0 %}{% if mismatch %}; {% endif %}{{ log_n }} cgroup driver mismatch errors in kubelet/runtime logs or events{% endif %}\
{% if crashing is not none %}{% if mismatch or log_n > 0 %}; {% endif %}control-plane static pods crash-looping: \
  {% for p in crashing %}{{ p.pod }} ({{ p.reason }}, restarts {{ p.restarts }}){% if not loop.last %}, {% endif %}{% endfor %}\
{% endif %}\
{% if not mismatch and ready == false %}{% if log_n > 0 or crashing is not none %}; {% endif %}the node is NotReady{% endif %}\
{% if agree_now %}{% if mismatch or log_n > 0 or crashing is not none or ready == false %}; {% endif %}\
  the kubelet and {{ runtime_now }} both use {{ driver_now }} now{% endif %}"""
zh = """\
{% if mismatch %}kubelet 的 cgroupDriver 为 {{ kubelet_driver }}（\
  {% if kubelet_source == 'kubelet --cgroup-driver flag' %}kubelet --cgroup-driver 参数\
  {% elif kubelet_source == 'kubelet default' %}kubelet 默认值{% else %}{{ kubelet_source }}{% endif %}\
  ），但 {{ runtime }} 使用 {{ runtime_driver }}（\
  {% if runtime == 'containerd' %}\
    {% if driver_setting is not none %}containerd 配置中 SystemdCgroup = {{ driver_setting }}\
    {% else %}containerd 默认值（/etc/containerd/config.toml 中没有 SystemdCgroup）{% endif %}\
  {% elif runtime == 'docker' %}\
    {% if driver_setting is not none %}/etc/docker/daemon.json 中 native.cgroupdriver={{ driver_setting }}\
    {% else %}cgroup v{{ cgroup_version }} 上的 docker 默认值{% endif %}\
  {% else %}\
    {% if driver_setting is not none %}CRI-O 配置中 cgroup_manager = "{{ driver_setting }}"{% else %}CRI-O 默认值{% endif %}\
  {% endif %}）\
{% endif %}\
{% if log_n > 0 %}{% if mismatch %}；{% endif %}kubelet/运行时日志或事件中有 {{ log_n }} 条 cgroup driver 不一致的错误{% endif %}\
{% if crashing is not none %}{% if mismatch or log_n > 0 %}；{% endif %}控制面静态 Pod 反复崩溃：\
  {% for p in crashing %}{{ p.pod }}（{{ p.reason }}，已重启 {{ p.restarts }} 次）{% if not loop.last %}、{% endif %}{% endfor %}\
{% endif %}\
{% if not mismatch and ready == false %}{% if log_n > 0 or crashing is not none %}；{% endif %}该节点处于 NotReady{% endif %}\
{% if agree_now %}{% if mismatch or log_n > 0 or crashing is not none or ready == false %}；{% endif %}\
  kubelet 与 {{ runtime_now }} 目前都使用 {{ driver_now }}{% endif %}"""
[thresholds]
# kubelet minor from which the driver is taken from the runtime (KubeletCgroupDriverFromCRI
# on by default) when the runtime reports it (containerd >= 2.0, CRI-O >= 1.28).
cri_driver_kubelet_minor = 31
--- */
WITH hn AS (
    SELECT h.bundle_id, coalesce(h.cluster_bundle_id, h.bundle_id) AS cluster, h.node, n.kubelet_version,
        n.container_runtime_version AS crv, coalesce(hf.cgroup_version, 0) AS cgroup_version
    FROM host_nodes h
    LEFT JOIN nodes n ON n.bundle_id = h.cluster_bundle_id AND n.name = h.node
    LEFT JOIN host_facts hf ON hf.bundle_id = h.bundle_id
),
files AS (
    SELECT h.cluster, f.node, f.path, f.content, f.parsed
    FROM host_files f JOIN hn h ON h.bundle_id = f.bundle_id
),
kubelet_flag AS (
    SELECT cluster, node, max(regexp_extract(content, '--cgroup-driver[= ]"?([a-z]+)', 1)) AS driver
    FROM files
    WHERE (path IN ('/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet')
           OR path LIKE '%/kubelet.service.d/%')
      AND regexp_matches(content, '--cgroup-driver[= ]"?[a-z]+')
    GROUP BY cluster, node
),
kubelet_cfg AS (
    SELECT coalesce(h.cluster, k.bundle_id) AS cluster, k.node, k.source, k.config
    FROM kubelet_configs k LEFT JOIN hn h ON h.bundle_id = k.bundle_id
),
kubelet_driver AS (
    SELECT k.cluster, k.node,
        coalesce(
            max(config->>'$.cgroupDriver') FILTER (WHERE source = 'configz'),
            any_value(f.driver),
            max(config->>'$.cgroupDriver') FILTER (WHERE source = 'file'),
            'cgroupfs') AS driver,
        CASE WHEN count(*) FILTER (WHERE source = 'configz') > 0 THEN 'kubelet configz'
             WHEN any_value(f.driver) IS NOT NULL THEN 'kubelet --cgroup-driver flag'
             WHEN max(config->>'$.cgroupDriver') FILTER (WHERE source = 'file') IS NOT NULL THEN '/var/lib/kubelet/config.yaml'
             ELSE 'kubelet default' END AS source
    FROM kubelet_cfg k
    LEFT JOIN kubelet_flag f ON f.cluster = k.cluster AND f.node = k.node
    GROUP BY k.cluster, k.node
),
containerd AS (
    SELECT cluster, node,
        flatten(list(regexp_extract_all(content, '(?m)^\s*SystemdCgroup\s*=\s*(true|false)', 1))) AS vals,
        bool_or(path = '/etc/containerd/config.toml') AS has_main
    FROM files
    WHERE path = '/etc/containerd/config.toml' OR path LIKE '/etc/containerd/conf.d/%'
    GROUP BY cluster, node
),
docker AS (
    SELECT cluster, node, regexp_extract(CAST((parsed->'$."exec-opts"') AS VARCHAR), 'native\.cgroupdriver=(\w+)', 1) AS driver
    FROM files WHERE path = '/etc/docker/daemon.json'
),
crio AS (
    SELECT cluster, node, max(regexp_extract(content, '(?m)^\s*cgroup_manager\s*=\s*"(\w+)"', 1)) AS driver
    FROM files WHERE path = '/etc/crio/crio.conf' OR path LIKE '/etc/crio/crio.conf.d/%'
    GROUP BY cluster, node
),
runtime AS (
    SELECT hn.bundle_id, hn.cluster, hn.node, hn.kubelet_version, hn.crv,
        CASE WHEN hn.crv LIKE 'containerd://%' THEN 'containerd'
             WHEN hn.crv LIKE 'docker://%' THEN 'docker'
             WHEN hn.crv LIKE 'cri-o://%' THEN 'cri-o'
             WHEN c.node IS NOT NULL AND c.has_main THEN 'containerd'
             WHEN cr.node IS NOT NULL THEN 'cri-o'
             WHEN d.node IS NOT NULL THEN 'docker' END AS runtime,
        c.vals, c.has_main, d.driver AS docker_driver, d.node AS docker_file, cr.driver AS crio_driver, cr.node AS crio_file,
        hn.cgroup_version
    FROM hn
    LEFT JOIN containerd c ON c.cluster = hn.cluster AND c.node = hn.node
    LEFT JOIN docker d ON d.cluster = hn.cluster AND d.node = hn.node
    LEFT JOIN crio cr ON cr.cluster = hn.cluster AND cr.node = hn.node
),
runtime_driver AS (
    SELECT *,
        CASE runtime
            WHEN 'containerd' THEN CASE WHEN list_contains(vals, 'true') THEN 'systemd'
                                        WHEN list_contains(vals, 'false') OR has_main THEN 'cgroupfs' END
            WHEN 'docker' THEN CASE WHEN nullif(docker_driver, '') IS NOT NULL THEN docker_driver
                                    WHEN cgroup_version = 2 THEN 'systemd' WHEN cgroup_version = 1 THEN 'cgroupfs' END
            WHEN 'cri-o' THEN coalesce(nullif(crio_driver, ''), 'systemd') END AS driver,
        CASE runtime
            WHEN 'containerd' THEN CASE WHEN len(vals) > 0 THEN 'SystemdCgroup = ' || vals[1] || ' in containerd config'
                                        ELSE 'containerd default (no SystemdCgroup in /etc/containerd/config.toml)' END
            WHEN 'docker' THEN CASE WHEN nullif(docker_driver, '') IS NOT NULL THEN 'native.cgroupdriver=' || docker_driver || ' in /etc/docker/daemon.json'
                                    ELSE 'docker default on cgroup v' || cgroup_version END
            WHEN 'cri-o' THEN CASE WHEN nullif(crio_driver, '') IS NOT NULL THEN 'cgroup_manager = "' || crio_driver || '" in CRI-O config'
                                   ELSE 'CRI-O default' END END AS driver_source,
        -- What the runtime's configuration sets (NULL: its default).
        CASE runtime WHEN 'containerd' THEN vals[1] WHEN 'docker' THEN nullif(docker_driver, '')
                     WHEN 'cri-o' THEN nullif(crio_driver, '') END AS driver_setting,
        -- The kubelet asks the runtime for its driver and follows it.
        (version_minor(kubelet_version) >= ${cri_driver_kubelet_minor}
         AND ((runtime = 'containerd' AND version_major(regexp_replace(crv, '^[a-z-]+://', '')) >= 2)
              OR (runtime = 'cri-o' AND version_num(regexp_replace(crv, '^[a-z-]+://', '')) >= 1028000))) AS follows_runtime
    FROM runtime
),
config_mismatch AS (
    SELECT r.bundle_id, r.cluster, r.node, k.driver AS kubelet_driver, k.source AS kubelet_source,
        r.runtime, r.driver AS runtime_driver, r.driver_source, r.driver_setting, r.cgroup_version
    FROM runtime_driver r JOIN kubelet_driver k ON k.cluster = r.cluster AND k.node = r.node
    WHERE r.driver IS NOT NULL AND k.driver IS NOT NULL AND r.driver <> k.driver AND NOT coalesce(r.follows_runtime, false)
      -- Docker's driver only guessed from its default (no daemon.json setting: it may come from
      -- the unit file, as in the CentOS/RHEL docker package, or /etc/sysconfig/docker), with a
      -- kubelet before v1.24 whose dockershim refuses to start on a mismatch: a Ready node proves
      -- the two agree.
      AND NOT (r.runtime = 'docker' AND r.driver_setting IS NULL
               AND coalesce(version_minor(r.kubelet_version) < 24, false)
               AND EXISTS (SELECT 1 FROM nodes n WHERE n.bundle_id = r.cluster AND n.name = r.node AND n.ready))
),
config_ok AS (
    SELECT r.cluster, r.node, r.runtime, r.driver
    FROM runtime_driver r JOIN kubelet_driver k ON k.cluster = r.cluster AND k.node = r.node
    WHERE r.driver IS NOT NULL AND (r.driver = k.driver OR coalesce(r.follows_runtime, false))
),
log_hits AS (
    SELECT l.bundle_id, coalesce(h.cluster, l.bundle_id) AS cluster, l.node, l.line AS text, l.ts, l.age, l.line_no
    FROM log_lines l LEFT JOIN hn h ON h.bundle_id = l.bundle_id
    WHERE contains(l.line, 'cgroup')
      AND (contains(l.line, 'is different from docker cgroup driver')
           OR (contains(l.line, 'expected cgroupsPath to be of format') AND contains(l.line, 'for systemd cgroups')))
    UNION ALL
    SELECT e.bundle_id, e.bundle_id, e.source_host, e.message, coalesce(e.last_seen, e.first_seen)::TIMESTAMPTZ,
        b.collected_at - coalesce(e.last_seen, e.first_seen), 0
    FROM events e JOIN bundles b ON b.bundle_id = e.bundle_id
    WHERE contains(e.message, 'is different from docker cgroup driver')
       OR (contains(e.message, 'expected cgroupsPath to be of format') AND contains(e.message, 'for systemd cgroups'))
),
logs AS (
    SELECT cluster, node, any_value(bundle_id) AS bundle_id, count(*) AS n,
        count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_n,
        min(ts) AS first_seen, max(ts) AS last_seen,
        list(DISTINCT text)[1:3] AS lines
    FROM log_hits GROUP BY cluster, node
),
crashing AS (
    SELECT bundle_id, node, list(DISTINCT pod || ' (' || coalesce(state_reason, last_reason, '?') || ', restarts ' || restart_count || ')') AS pods,
        list(DISTINCT {'pod': pod, 'reason': coalesce(state_reason, last_reason, '?'), 'restarts': restart_count}
             ORDER BY {'pod': pod, 'reason': coalesce(state_reason, last_reason, '?'), 'restarts': restart_count}) AS crashing
    FROM containers
    WHERE namespace = 'kube-system'
      AND regexp_matches(pod, '^(kube-apiserver|kube-controller-manager|kube-scheduler|etcd)-')
      AND (state_reason IN ('CrashLoopBackOff', 'RunContainerError', 'CreateContainerError', 'Error') OR restart_count >= 5)
    GROUP BY bundle_id, node
),
keys AS (
    SELECT cluster, node FROM config_mismatch UNION SELECT cluster, node FROM logs
)
SELECT
    coalesce('node/' || k.node, 'cluster') AS resource,
    k.node,
    coalesce(m.bundle_id, l.bundle_id) AS bundle_id,
    m.node IS NOT NULL AS mismatch, m.kubelet_driver, m.kubelet_source, m.runtime, m.runtime_driver, m.driver_setting,
    m.cgroup_version, coalesce(l.n, 0) AS log_n, c.crashing, n.ready, ok.node IS NOT NULL AS agree_now, ok.runtime AS runtime_now,
    ok.driver AS driver_now,
    list_concat(
        CASE WHEN m.node IS NOT NULL THEN ['kubelet: cgroupDriver ' || m.kubelet_driver || ' from ' || m.kubelet_source,
                                           m.runtime || ': ' || m.runtime_driver || ' from ' || m.driver_source] ELSE [] END,
        coalesce(l.lines, []), coalesce(c.pods, [])) AS evidence,
    -- The configurations read now prove the mismatch; errors alone are an outage only with
    -- the node NotReady or its control plane crashing.
    CASE WHEN m.node IS NOT NULL OR c.pods IS NOT NULL OR n.ready = false THEN 'high'
         WHEN ok.node IS NOT NULL THEN 'low' ELSE 'medium' END AS severity,
    l.first_seen, l.last_seen,
    CASE WHEN m.node IS NULL THEN l.recent_n END AS recent_count,
    l.n AS count
FROM keys k
LEFT JOIN config_mismatch m ON m.cluster = k.cluster AND m.node = k.node
LEFT JOIN logs l ON l.cluster = k.cluster AND l.node IS NOT DISTINCT FROM k.node
LEFT JOIN crashing c ON c.bundle_id = k.cluster AND c.node = k.node
LEFT JOIN nodes n ON n.bundle_id = k.cluster AND n.name = k.node
LEFT JOIN config_ok ok ON ok.cluster = k.cluster AND ok.node = k.node
ORDER BY 1
