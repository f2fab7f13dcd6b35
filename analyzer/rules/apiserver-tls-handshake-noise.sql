/* ---
id = "apiserver-tls-handshake-noise"
severity = "info"
benign = true
faq = ["CRN-09"]
category = "noise"
# Known-benign either way; the window only says whether the noise is still going on.
recent = "24h"
patterns = ["http: TLS handshake error from .*: (EOF|read: connection reset by peer|connection reset by peer)"]
[title]
en = "kube-apiserver \"TLS handshake error ... connection reset by peer\": known-benign noise"
zh = "kube-apiserver \"TLS handshake error ... connection reset by peer\"：已知无害的日志"
[remediation]
en = """
These lines come from load balancers and health checks that open a TCP connection to the API
server and close it without finishing TLS. They are harmless and can be ignored.
"""
zh = """
这些日志来自负载均衡器或健康检查：它们与 API Server 建立 TCP 连接后未完成 TLS 握手就断开。无害，可以忽略。
"""
[message]
en = """\
{{ count }} "http: TLS handshake error" lines (connection reset/EOF from health checks or load balancers)"""
zh = """\
{{ count }} 行 "http: TLS handshake error" 日志（健康检查或负载均衡器造成的 connection reset/EOF）"""
--- */
SELECT
    coalesce('pod/' || namespace || '/' || pod, 'node/' || node, 'cluster') AS resource,
    namespace, pod AS name, node, bundle_id,
    count(*) AS count,
    list(line ORDER BY line_no)[1:2] AS evidence,
    min(ts) AS first_seen, max(ts) AS last_seen,
    count(*) FILTER (WHERE in_window(age, ${recent})) AS recent_count
FROM log_lines
WHERE contains(line, 'TLS handshake error from')
  AND (contains(line, 'connection reset by peer') OR regexp_matches(line, ':\s*EOF\s*$'))
  AND (pod LIKE 'kube-apiserver%' OR container = 'kube-apiserver' OR service IN ('kube-apiserver', 'k3s', 'rke2-server'))
GROUP BY ALL
