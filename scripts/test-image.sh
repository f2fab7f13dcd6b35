#!/usr/bin/env bash
# Builds the collector image (collector/Dockerfile) and tests it as the deploy/ manifests run it:
#   1. the image runs as the non-root user 65532;
#   2. `--version` works with a read-only root file system and no network, and names this
#      crate version and the binary's commit; journalctl, tar and sleep (node mode, `kubectl cp`, the
#      manifests' holding container) are there;
#   3. a collection from inside the container (read-only root, host network) against
#      `ktriage serve` of the sample bundle, written to a mounted volume: the bundle opens in
#      `ktriage analyze`, holds every pod of the sample, and nothing else is left in the volume;
#   4. node mode as root on this machine's root file system mounted read-only at /host (as
#      deploy/node-pod.yaml runs it), the node bundle analyzed with the cluster bundle.
# Prints the build time and the image size.
#
# Usage: scripts/test-image.sh [--from-source] [--no-cache] [--tag TAG]
#   default: package dist/ktriage-collect (scripts/release.sh --collector-only builds it);
#   --from-source: build the collector in the image's Rust stage (minutes, needs RUST_IMAGE).
# Env:
#   BASE_IMAGE  the runtime base (default debian:bookworm-slim when it is local or can be pulled,
#               else built here from Debian packages by scripts/image-base.sh)
#   RUST_IMAGE  the Rust build stage's base (default rust:1-bookworm)
#   KTRIAGE     the analyzer that serves and checks (default $CARGO_TARGET_DIR/debug/ktriage,
#               built with `cargo build -p ktriage` when missing)
# A Docker daemon is started when none answers (scripts/image-dockerd.sh). Builds use
# `--network host`: the daemon may have no bridge network.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

tag="ktriage-collect:test"
binary="dist"
no_cache=()
while [ $# -gt 0 ]; do
    case "$1" in
        --from-source) binary="source" ;;
        --no-cache) no_cache=(--no-cache) ;;
        --tag) tag="${2:?--tag needs a value}"; shift ;;
        -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "test-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

fail() { echo "test-image: $*" >&2; exit 1; }
# shellcheck source=scripts/serve-sample.sh
. "$root/scripts/serve-sample.sh"
step() { echo "== $*" >&2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/ktriage-test-image.XXXXXX")"
serve_pid=""
cleanup() {
    if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

step "Docker daemon"
bash scripts/image-dockerd.sh || fail "no Docker daemon"

# BuildKit is needed (COPY --chmod; the stage BINARY does not choose is never built). A client
# of Docker 23 or later has it only through the buildx plugin; older clients have it built in.
client_major() { "$1" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1; }
build=()
if docker buildx version >/dev/null 2>&1; then
    build=(docker buildx build --load)
else
    for client in docker /usr/bin/docker; do
        major="$(client_major "$client" || true)"
        if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -lt 23 ]; then
            build=(env DOCKER_BUILDKIT=1 "$client" build)
            break
        fi
    done
fi
[ ${#build[@]} -gt 0 ] \
    || fail "no BuildKit: install the buildx plugin, or use a docker client older than 23 (Debian's docker.io)"

base="${BASE_IMAGE:-}"
if [ -z "$base" ]; then
    base="debian:bookworm-slim"
    if ! docker image inspect "$base" >/dev/null 2>&1 \
        && ! timeout 60 docker pull -q "$base" >/dev/null 2>&1; then
        step "no registry: the base image from Debian packages"
        base="ktriage-local/debian:bookworm-slim"
        bash scripts/image-base.sh "$base" || fail "building the local base image failed"
    fi
fi
build_args=(--build-arg "BASE_IMAGE=$base" --build-arg "BINARY=$binary")
[ -n "${RUST_IMAGE:-}" ] && build_args+=(--build-arg "RUST_IMAGE=$RUST_IMAGE")
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
build_args+=(--build-arg "KTRIAGE_GIT_COMMIT=$commit")
if [ "$binary" = dist ]; then
    [ -x dist/ktriage-collect ] || fail "dist/ktriage-collect is missing: run scripts/release.sh --collector-only first"
    # dist/ was built from some checkout: its --version names that commit.
    commit="$(dist/ktriage-collect --version | sed -n 's/^commit: //p')"
fi

step "build $tag (base $base, binary from $binary)"
start=$(date +%s%N)
"${build[@]}" "${no_cache[@]}" --network host -f collector/Dockerfile "${build_args[@]}" -t "$tag" . \
    >"$work/build.log" 2>&1 || fail "docker build failed: $(tail -n 5 "$work/build.log")"
build_ms=$(( ($(date +%s%N) - start) / 1000000 ))
size="$(docker image inspect -f '{{.Size}}' "$tag")"

step "1. non-root"
user="$(docker image inspect -f '{{.Config.User}}' "$tag")"
[ "$user" = "65532:65532" ] || fail "the image's user is '$user', not 65532:65532"
uid="$(docker run --rm --read-only --network none --entrypoint id "$tag" -u)" || fail "running id in the image failed"
[ "$uid" = 65532 ] || fail "the container runs as uid $uid, not 65532"

step "2. --version with a read-only root file system"
version_out="$(docker run --rm --read-only --network none "$tag" --version 2>"$work/version.err")" \
    || fail "--version failed in the container: $(tail -n 3 "$work/version.err")"
echo "$version_out" >&2
crate_version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)"
grep -qx "ktriage-collect $crate_version" <<<"$version_out" || fail "--version does not name version $crate_version"
grep -qx "commit: $commit" <<<"$version_out" || fail "--version does not name commit $commit"
for tool in journalctl tar sleep; do
    docker run --rm --read-only --network none --entrypoint "$tool" "$tag" --version >/dev/null 2>&1 \
        || fail "$tool does not run in the image"
done

step "3. a collection from the container against ktriage serve"
ktriage="${KTRIAGE:-${CARGO_TARGET_DIR:-$HOME/.cache/ktriage-target}/debug/ktriage}"
if [ ! -x "$ktriage" ]; then
    [ -z "${KTRIAGE:-}" ] || fail "KTRIAGE=$ktriage is not an executable"
    DUCKDB_LIB_DIR="${DUCKDB_LIB_DIR:-$(bash scripts/duckdb-lib.sh)}" || fail "fetching the prebuilt DuckDB failed"
    export DUCKDB_LIB_DIR
    cargo build -q -p ktriage || fail "building ktriage failed"
fi
sample="tests/fixtures/built/sample/cluster.tar.zst"
[ -f "$sample" ] || fail "$sample is missing (scripts/build-fixtures.sh)"
# The container user reads the kubeconfig and writes the bundle: its own directories.
mkdir -m 0755 "$work/config"
mkdir -m 0777 "$work/bundles"
start_serve "$ktriage" "$sample" "$work/config/kubeconfig" "$work/serve"
chmod 0644 "$work/config/kubeconfig"
status=0
docker run --rm --read-only --network host \
    -v "$work/config:/config:ro" -v "$work/bundles:/bundles" \
    "$tag" -q --kubeconfig /config/kubeconfig --timeout 2m -o /bundles/collected.tar.zst \
    2>"$work/collect.err" || status=$?
# 0: complete. Logs and node data are gaps against serve (it has no kubelet), which is still 0.
[ "$status" -eq 0 ] || fail "the collector exited $status in the container: $(tail -n 3 "$work/collect.err")"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
left="$(cd "$work/bundles" && ls -A)"
[ "$left" = "collected.tar.zst" ] || fail "the output volume holds '$left', not just collected.tar.zst"
bundle="$work/bundles/collected.tar.zst"
owner="$(stat -c %u "$bundle")"
[ "$owner" = 65532 ] || fail "the bundle is owned by uid $owner, not the image's user 65532"
# analyze verifies every entry's SHA-256 on opening and runs the rules.
"$ktriage" analyze -q -o "$work/report" "$bundle" >"$work/analyze.out" 2>&1 \
    || fail "ktriage analyze of the collected bundle failed: $(tail -n 3 "$work/analyze.out")"
[ -n "$(ls -A "$work/report")" ] || fail "ktriage analyze wrote no report"
count_pods() {
    "$ktriage" sql -q --output tsv -c "SELECT count(*) FROM pods" "$1" | tail -n 1
}
want="$(count_pods "$sample")" || fail "cannot count the pods of $sample"
got="$(count_pods "$bundle")" || fail "the collected bundle does not open in ktriage"
[ "$got" = "$want" ] && [ "$got" -gt 0 ] || fail "collected $got pods, the sample has $want"

step "4. node mode as the node manifests run it"
# Root, this machine's root file system read-only at /host, no network, read-only root.
mkdir -m 0777 "$work/node"
docker run --rm --read-only --network none --user 0 \
    -v /:/host:ro -v "$work/node:/bundles" \
    "$tag" node --root /host --since 1h -o /bundles/node.tar.zst >"$work/node.out" 2>"$work/node.err" \
    || fail "node mode failed in the container: $(tail -n 3 "$work/node.err")"
left="$(cd "$work/node" && ls -A)"
[ "$left" = "node.tar.zst" ] || fail "the node output volume holds '$left', not just node.tar.zst"
nodes="$("$ktriage" sql -q --output tsv -c "SELECT count(*) FROM host_nodes WHERE node <> ''" "$work/node/node.tar.zst" | tail -n 1)" \
    || fail "the node bundle does not open in ktriage"
[ "$nodes" = 1 ] || fail "the node bundle describes $nodes hosts, not 1"
# The cluster bundle and the node bundle as one case, as a support case is analyzed.
"$ktriage" analyze -q -o "$work/report-case" "$bundle" "$work/node/node.tar.zst" >"$work/analyze-case.out" 2>&1 \
    || fail "ktriage analyze of the cluster and node bundles failed: $(tail -n 3 "$work/analyze-case.out")"

echo "image $tag: $size bytes ($(( size / 1048576 )) MiB), built in $(( build_ms / 1000 )).$(( build_ms % 1000 / 100 )) s" \
    "(base $base, binary from $binary${no_cache:+, no cache}); bundle $(stat -c %s "$bundle") bytes, $got pods, analyzed with a node bundle of this machine"
