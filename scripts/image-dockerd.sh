#!/usr/bin/env bash
# Makes sure a Docker daemon answers, for scripts/test-image.sh on a machine without one
# running (a container or CI runner with no init): when `docker info` fails, starts dockerd in
# the background with the settings that work without kernel overlay support, iptables or a
# bridge (storage driver vfs, no bridge network: containers use --network host), logging to
# $KTRIAGE_DOCKERD_LOG (default /var/log/ktriage-dockerd.log). Installs Debian's docker.io
# (dockerd, containerd, runc) when dockerd is missing and this is root. Prints nothing on
# success; the daemon is left running for later builds.
set -euo pipefail
log="${KTRIAGE_DOCKERD_LOG:-/var/log/ktriage-dockerd.log}"
fail() { echo "image-dockerd: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 && exit 0

dockerd_bin="$(PATH="$PATH:/usr/sbin:/sbin" command -v dockerd || true)"
if [ -z "$dockerd_bin" ]; then
    [ "$(id -u)" -eq 0 ] || fail "no Docker daemon answers and dockerd is missing (apt-get install docker.io)"
    echo "image-dockerd: installing docker.io (Debian)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends docker.io >/dev/null; } \
        || fail "apt-get install docker.io failed"
    dockerd_bin="$(PATH="$PATH:/usr/sbin:/sbin" command -v dockerd)" || fail "dockerd still missing after installing docker.io"
fi
command -v docker >/dev/null || fail "the docker client is missing (apt-get install docker.io)"

echo "image-dockerd: starting $dockerd_bin (log: $log)" >&2
mkdir -p "$(dirname "$log")"
nohup "$dockerd_bin" --storage-driver=vfs --iptables=false --bridge=none >>"$log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && exit 0
    kill -0 "$pid" 2>/dev/null || fail "dockerd stopped: $(tail -n 3 "$log")"
    sleep 1
done
fail "dockerd did not answer within 60 s: $(tail -n 3 "$log")"
