# Sourced by scripts that collect from `ktriage serve` (release.sh, test-image.sh).
#
# start_serve KTRIAGE BUNDLE KUBECONFIG_OUT LOG_PREFIX: serves BUNDLE on a free loopback port
# in the background, sets serve_pid, and returns once the kubeconfig is written (at most
# 30 s). Output goes to LOG_PREFIX.out and LOG_PREFIX.err. Needs the caller's `fail`; the
# caller's exit trap stops the server through serve_pid.
start_serve() {
    local ktriage=$1 bundle=$2 kubeconfig=$3 log=$4
    "$ktriage" serve -q --addr 127.0.0.1:0 --kubeconfig-out "$kubeconfig" "$bundle" \
        >"$log.out" 2>"$log.err" &
    serve_pid=$!
    for _ in $(seq 1 300); do
        grep -q '^export KUBECONFIG=' "$log.out" 2>/dev/null && return 0
        kill -0 "$serve_pid" 2>/dev/null || fail "ktriage serve stopped: $(tail -n 3 "$log.err")"
        sleep 0.1
    done
    fail "ktriage serve did not start within 30 s"
}
