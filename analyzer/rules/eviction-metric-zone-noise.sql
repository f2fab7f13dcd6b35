/* ---
id = "eviction-metric-zone-noise"
severity = "info"
benign = true
faq = ["WNR-07"]
category = "noise"
patterns = ["Initializing eviction metric for zone"]
# Known-benign noise, always info: the window only says whether it is still being logged.
recent = "24h"
[title]
en = "kube-controller-manager \"Initializing eviction metric for zone\": known-benign noise"
zh = "kube-controller-manager \"Initializing eviction metric for zone\"：已知无害的日志"
[remediation]
en = """
The node lifecycle controller logs `node_lifecycle_controller.go:1433] Initializing eviction
metric for zone: <zone>` each time it sees a zone it has no metric for yet (at start-up, and
when nodes with a new `topology.kubernetes.io/zone` label join). An empty zone name just means
the nodes carry no zone label (typical for k3s and bare-metal clusters). It is informational
and needs no action. See the upstream multi-zone guide if zones are intended.
"""
zh = """
节点生命周期控制器在遇到尚无指标的可用区时（启动时，或带有新 `topology.kubernetes.io/zone` 标签的节点加入时）
会输出 `node_lifecycle_controller.go:1433] Initializing eviction metric for zone: <zone>`。
zone 为空只表示节点没有可用区标签（k3s 和裸金属集群常见）。这只是提示信息，无需处理。
如需多可用区，请参考上游的多可用区实践文档。
"""
[message]
en = """\
{{ count }} "Initializing eviction metric for zone" lines from the node lifecycle controller (zones: {{ zones | join(', ') }})"""
zh = """\
{{ count }} 条来自节点生命周期控制器的 "Initializing eviction metric for zone" 日志（可用区：\
{% for z in zones %}{% if z == '<no zone label>' %}<无可用区标签>{% else %}{{ z }}{% endif %}{% if not loop.last %}, {% endif %}{% endfor %}）"""
--- */
WITH hits AS (
    SELECT bundle_id, namespace, pod, node, container, line_no, line, ts, age,
        coalesce(nullif(regexp_extract(line, 'zone="([^"]*)"', 1), ''),
                 nullif(regexp_extract(line, 'for zone:\s*(\S+)', 1), ''),
                 '<no zone label>') AS zone
    FROM log_lines
    WHERE contains(line, 'Initializing eviction metric for zone')
)
SELECT
    coalesce('pod/' || namespace || '/' || pod, 'node/' || node, 'cluster') AS resource,
    namespace, pod AS name, node, container, bundle_id,
    list(DISTINCT zone ORDER BY zone) AS zones,
    count(*) AS count,
    count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_count,
    min(ts) AS first_seen, max(ts) AS last_seen,
    list(line ORDER BY line_no)[1:2] AS evidence
FROM hits
GROUP BY bundle_id, namespace, pod, node, container
ORDER BY 1
