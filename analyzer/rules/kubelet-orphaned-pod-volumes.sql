/* ---
id = "kubelet-orphaned-pod-volumes"
severity = "low"
faq = ["WNR-33"]
category = "storage"
patterns = [
  "orphaned pod .* found, but",
  "orphaned pod found, but error not a directory occurred when trying to remove the volumes dir",
  "found, but volume paths are still present on disk",
  "found, but error occurred when trying to remove the volumes dir",
]
# The kubelet's housekeeping retries every 2 s while the directory is there: a current
# orphan logs many times an hour; lines from before it was cleaned up are history.
recent = "6h"
[title]
en = "kubelet cannot clean up the volume directories of orphaned pods"
zh = "kubelet 无法清理孤儿 Pod 的卷目录（orphaned pod）"
[remediation]
en = """
The pod is gone but `/var/lib/kubelet/pods/<uid>/volumes` is still on disk (a file where a
directory is expected, a mount left behind, a subpath still present). The kubelet retries every
few seconds, floods its log with `orphaned pod "<uid>" found, but ...` and never frees the
space. See kubernetes#105536.

For each pod UID the kubelet names: check that no pod with that UID exists any more and that
nothing is mounted below its directory, then remove the directory:
```
kubectl get pods -A -o custom-columns=UID:.metadata.uid | grep <uid>   # must print nothing
mount | grep <uid>                                                      # unmount what is left: umount <path>
# collect the UIDs from the kubelet log (k0s: /var/log/k0s.log; kubeadm: journalctl -u kubelet)
pods=$(tail -n 1000 /var/log/k0s.log | grep 'orphaned pod' | sed -r 's/.*pod[^"]+"([^\\\\"]+).*/\\1/' | uniq)
for i in $pods; do
  echo "Deleting Orphaned pod id: $i"
  rm -rf /var/lib/kubelet/pods/$i
done
```
"""
zh = """
Pod 已删除，但 `/var/lib/kubelet/pods/<uid>/volumes` 仍留在磁盘上（本应是目录的位置是文件、残留挂载或 subpath）。
kubelet 每隔几秒重试一次，日志中不断出现 `orphaned pod "<uid>" found, but ...`，空间也无法释放。参考 kubernetes#105536。

对 kubelet 报出的每个 Pod UID：确认已不存在该 UID 的 Pod，且其目录下没有挂载，然后删除该目录：
```
kubectl get pods -A -o custom-columns=UID:.metadata.uid | grep <uid>   # 应无输出
mount | grep <uid>                                                      # 如有残留挂载先 umount <path>
# 从 kubelet 日志中提取 UID（k0s：/var/log/k0s.log；kubeadm：journalctl -u kubelet）
pods=$(tail -n 1000 /var/log/k0s.log | grep 'orphaned pod' | sed -r 's/.*pod[^"]+"([^\\\\"]+).*/\\1/' | uniq)
for i in $pods; do
  echo "Deleting Orphaned pod id: $i"
  rm -rf /var/lib/kubelet/pods/$i
done
```
"""
[message]
en = """\
{{ services | join('/') }} on {{ node if node is not none else 'an unknown node' }} logged "orphaned pod ... found, but" \
{{ logged }} times for {{ uids | length }} pod UID(s) ({{ whys | join(', ') }})\
{% if uids %}\
  {% if mounted %}: unmount what is left (mount | grep <uid>), then remove /var/lib/kubelet/pods/<uid> for \
  {% else %}: remove /var/lib/kubelet/pods/<uid> for {% endif %}\
  {{ uids[:5] | join(', ') }}{% if uids | length > 5 %} and {{ uids | length - 5 }} more{% endif %}\
{% endif %}\
{% if in_use %}; still used by a listed pod: {{ in_use | join(', ') }}{% endif %}"""
zh = """\
{{ services | join('/') }} 在{% if node is not none %}节点 {{ node }}{% else %}未知节点{% endif %} 上记录 "orphaned pod ... found, but" \
{{ logged }} 次，涉及 {{ uids | length }} 个 Pod UID（{{ whys | join(', ') }}）\
{% if uids %}\
  {% if mounted %}：先卸载残留的挂载（mount | grep <uid>），再删除 /var/lib/kubelet/pods/<uid>，UID：\
  {% else %}：删除 /var/lib/kubelet/pods/<uid>，UID：{% endif %}\
  {{ uids[:5] | join(', ') }}{% if uids | length > 5 %}，另有 {{ uids | length - 5 }} 个{% endif %}\
{% endif %}\
{% if in_use %}；仍被现有 Pod 使用：{{ in_use | join(', ') }}{% endif %}"""
[thresholds]
# The kubelet's housekeeping repeats the error every 2 s while the directory is there: a UID
# its log goes on this long without is cleaned up (after a reboot, by the volume reconciler).
cleared_after_minutes = 10
--- */
WITH hn AS (
    SELECT bundle_id AS host_bundle, coalesce(cluster_bundle_id, bundle_id) AS cluster FROM host_nodes
),
hits AS MATERIALIZED (
    SELECT l.bundle_id, coalesce(h.cluster, l.bundle_id) AS cluster, l.node, coalesce(l.service, l.container, l.source) AS service,
        l.line, l.line_no, l.ts, l.age,
        coalesce(nullif(regexp_extract(line, '[Oo]rphaned pod \\?"([0-9a-fA-F-]{8,})\\?" found', 1), ''),
                 regexp_extract(line, 'pod(?:UID|_uid)=\\?"?([0-9a-fA-F-]{36})', 1)) AS uid,
        CASE WHEN regexp_matches(line, 'not a directory') THEN 'not a directory'
             WHEN contains(line, 'volume paths are still present on disk') THEN 'volume paths still present on disk'
             WHEN contains(line, 'volume subpaths are still present on disk') THEN 'volume subpaths still present on disk'
             WHEN regexp_matches(line, 'failed to rmdir\(\) (volume|subpath)') THEN 'failed to rmdir() a volume'
             WHEN regexp_matches(line, 'device or resource busy') THEN 'device or resource busy'
             ELSE 'cleanup error' END AS why
    FROM log_lines l LEFT JOIN hn h ON h.host_bundle = l.bundle_id
    WHERE contains(l.line, 'rphaned pod ') AND regexp_matches(l.line, '[Oo]rphaned pod (\\?"[^"\\]*\\?" )?found, but')
),
-- Where each log that named an orphan ends, and the UIDs it stopped naming well before that.
log_end AS (
    SELECT l.bundle_id, l.node, coalesce(l.service, l.container, l.source) AS service, max(l.ts) AS end_ts
    FROM log_lines l
    SEMI JOIN (SELECT DISTINCT bundle_id, node, service FROM hits) k
        ON k.bundle_id = l.bundle_id AND k.node IS NOT DISTINCT FROM l.node AND k.service = coalesce(l.service, l.container, l.source)
    GROUP BY ALL
),
cleared AS (
    SELECT h.bundle_id, h.node, h.service, h.uid
    FROM hits h JOIN log_end e ON e.bundle_id = h.bundle_id AND e.node IS NOT DISTINCT FROM h.node AND e.service = h.service
    WHERE h.uid <> ''
    GROUP BY ALL
    HAVING max(h.ts) < any_value(e.end_ts) - INTERVAL (${cleared_after_minutes}) MINUTE
),
per_node AS (
    SELECT h.cluster, h.node, any_value(h.bundle_id) AS bundle_id, count(*) AS n,
        -- Lines of UIDs cleaned up since are history, however recent.
        count(*) FILTER (WHERE in_window(h.age, ${recent}) AND c.uid IS NULL) AS recent_n,
        min(h.ts) AS first_seen, max(h.ts) AS last_seen,
        list(DISTINCT h.service) AS services,
        list(DISTINCT h.uid ORDER BY h.uid) FILTER (WHERE h.uid <> '') AS uids,
        list(DISTINCT h.why ORDER BY h.why) AS whys,
        list(h.line ORDER BY h.ts DESC NULLS LAST, h.line_no DESC)[1:3] AS lines
    FROM hits h
    LEFT JOIN cleared c ON c.bundle_id = h.bundle_id AND c.node IS NOT DISTINCT FROM h.node AND c.service = h.service AND c.uid = h.uid
    GROUP BY h.cluster, h.node
),
-- A UID still used by a pod listed in the node's cluster is not an orphan: say so. Only the
-- UIDs the kubelet named are looked up.
alive AS (
    SELECT bundle_id, list(DISTINCT uid ORDER BY uid) AS uids FROM pods
    WHERE uid IN (SELECT uid FROM hits) GROUP BY bundle_id
)
SELECT 'node/' || coalesce(p.node, '?') AS resource, p.node, p.node AS name, p.bundle_id,
    p.services, p.n AS logged, coalesce(p.uids, []) AS uids, p.whys,
    list_has_any(p.whys, ['volume paths still present on disk', 'volume subpaths still present on disk', 'device or resource busy', 'failed to rmdir() a volume']) AS mounted,
    list_intersect(coalesce(p.uids, []), coalesce(a.uids, [])) AS in_use,
    list_concat(p.lines, list_transform(coalesce(p.uids, [])[1:10], lambda u: '/var/lib/kubelet/pods/' || u)) AS evidence,
    p.n AS count,
    p.first_seen, p.last_seen, p.recent_n AS recent_count
FROM per_node p
LEFT JOIN alive a ON a.bundle_id = p.cluster
ORDER BY 1
