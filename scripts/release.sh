#!/usr/bin/env bash
# Builds the release artifacts into dist/:
#   dist/ktriage-collect           x86_64 Linux, glibc 2.17 or later (CentOS 7 and newer nodes),
#                                  rustls only; checked, then run against `ktriage serve`
#   dist/ktriage, dist/libduckdb.so the analyzer (thin LTO) and the prebuilt DuckDB it links
#                                  with an $ORIGIN rpath (skipped with --collector-only)
#   dist/man/*.1                   man pages of both binaries, every subcommand
#   dist/completions/              bash, zsh, fish, PowerShell and elvish completions
#   dist/SHA256SUMS                `sha256sum -c SHA256SUMS` from inside dist/
#
# Usage: scripts/release.sh [--collector-only]
# Release builds go to $KTRIAGE_RELEASE_TARGET (default ~/.cache/ktriage-release), never to the
# development build directory; the development `ktriage` (for `serve`, man pages and
# completions) builds where CARGO_TARGET_DIR says (default ~/.cache/ktriage-target, like
# scripts/demo.sh). Tools: scripts/install-release-tools.sh (cargo-zigbuild, Zig), run here.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

analyzer=true
for arg in "$@"; do
    case "$arg" in
        --collector-only) analyzer=false ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "release: unknown argument $arg (see --help)" >&2; exit 2 ;;
    esac
done

# The oldest glibc the collector may need: CentOS 7 / RHEL 7 ship 2.17.
glibc_floor="2.17"
target="x86_64-unknown-linux-gnu"
release_dir="${KTRIAGE_RELEASE_TARGET:-$HOME/.cache/ktriage-release}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ktriage-target}"
dist="$root/dist"

fail() { echo "release: $*" >&2; exit 1; }
# shellcheck source=scripts/serve-sample.sh
. "$root/scripts/serve-sample.sh"
step() { echo "== $*" >&2; }
for tool in cargo python3 objdump readelf sha256sum; do
    command -v "$tool" >/dev/null 2>&1 \
        || fail "'$tool' is missing (objdump and readelf: apt-get install binutils)"
done

# Both release builds use their own target and build directories: the development build
# directory holds a dev-profile DuckDB that must not be disturbed.
release_cargo() {
    CARGO_BUILD_BUILD_DIR="$release_dir" cargo "$@" --release --target-dir "$release_dir"
}

work="$(mktemp -d "${TMPDIR:-/tmp}/ktriage-release.XXXXXX")"
serve_pid=""
cleanup() {
    if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

step "tools"
# The analyzer (the development one that serves the sample, and the release one) links the
# prebuilt DuckDB library.
DUCKDB_LIB_DIR="${DUCKDB_LIB_DIR:-$(bash scripts/duckdb-lib.sh)}" || fail "fetching the prebuilt DuckDB failed"
export DUCKDB_LIB_DIR
tools_bin="$(bash scripts/install-release-tools.sh)" || fail "installing the release tools failed (see above)"
export PATH="$tools_bin:$PATH"
command -v cargo-zigbuild >/dev/null || fail "cargo-zigbuild is not on PATH after installing it"

rm -rf "$dist"
mkdir -p "$dist/man" "$dist/completions"

step "1. ktriage-collect links no OpenSSL"
# rustls only: a node image without libssl (or with another major version) must run it.
deps="$(cargo tree -p ktriage-collect --target "$target" -e normal,build --prefix none --format '{p}')"
if grep -E '^(openssl-sys|openssl|native-tls) ' <<<"$deps"; then
    fail "ktriage-collect depends on OpenSSL (above): it must use rustls only"
fi

step "2. ktriage-collect for $target, glibc $glibc_floor"
release_cargo zigbuild -p ktriage-collect --target "$target.$glibc_floor"
cp "$release_dir/$target/release/ktriage-collect" "$dist/ktriage-collect"

step "3. glibc floor and libraries of ktriage-collect"
bash scripts/check-glibc-floor.sh "$dist/ktriage-collect" "$glibc_floor" >&2

step "4. the release ktriage-collect runs: --version and a collection from ktriage serve"
version_out="$("$dist/ktriage-collect" --version)" || fail "dist/ktriage-collect --version failed"
echo "$version_out" >&2
crate_version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
grep -qx "ktriage-collect $crate_version" <<<"$version_out" || fail "--version does not name version $crate_version"
grep -qx "commit: $commit" <<<"$version_out" || fail "--version does not name commit $commit"
grep -q '^bundle format: [0-9]' <<<"$version_out" || fail "--version does not name the bundle format"

# The development ktriage serves the sample (and writes man pages and completions below).
cargo build -q -p ktriage
dev_ktriage="$CARGO_TARGET_DIR/debug/ktriage"
sample="tests/fixtures/built/sample/cluster.tar.zst"
start_serve "$dev_ktriage" "$sample" "$work/kubeconfig" "$work/serve"
status=0
"$dist/ktriage-collect" -q --kubeconfig "$work/kubeconfig" --timeout 2m -o "$work/collected.tar.zst" \
    2>"$work/collect.err" || status=$?
# 0: complete. Logs and node data are gaps against serve (it has no kubelet), which is still 0.
[ "$status" -eq 0 ] || fail "dist/ktriage-collect exited $status against ktriage serve: $(tail -n 3 "$work/collect.err")"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
# The analyzer verifies every entry's SHA-256 on opening; the pods must all have come back.
count_pods() {
    "$dev_ktriage" sql -q --output tsv -c "SELECT count(*) FROM pods" "$1" | tail -n 1
}
want="$(count_pods "$sample")" || fail "cannot count the pods of $sample"
got="$(count_pods "$work/collected.tar.zst")" || fail "the collected bundle does not open in ktriage"
[ "$got" = "$want" ] && [ "$got" -gt 0 ] || fail "collected $got pods, the sample has $want"
echo "collected bundle verified: $got pods, as in the sample" >&2

step "5. ktriage (analyzer) release build"
# The analyzer links the prebuilt DuckDB library (scripts/duckdb-lib.sh), found at run time
# through an $ORIGIN rpath: libduckdb.so and its license ship beside the binary. (Built with
# `--features bundled-duckdb` instead, DuckDB is linked statically and compiles for about 40
# minutes on 2 cores; this script does not do that.)
if $analyzer; then
    release_cargo build -p ktriage
    cp "$release_dir/release/ktriage" "$dist/ktriage"
    cp "$DUCKDB_LIB_DIR/libduckdb.so" "$dist/libduckdb.so"
    cp "$DUCKDB_LIB_DIR/LICENSE" "$dist/libduckdb.LICENSE"
    readelf -d "$dist/ktriage" | grep -q 'R.*PATH.*\$ORIGIN' \
        || fail "dist/ktriage has no \$ORIGIN rpath: it would not find dist/libduckdb.so"
    # Run from a copy elsewhere, so the library can only have come from beside the binary.
    mkdir "$work/ship" && cp "$dist/ktriage" "$dist/libduckdb.so" "$work/ship/"
    env -u LD_LIBRARY_PATH "$work/ship/ktriage" --version >&2 || fail "dist/ktriage --version failed"
    start=$(date +%s%N)
    "$work/ship/ktriage" rules >/dev/null || fail "dist/ktriage rules failed"
    echo "ktriage: $(stat -c %s "$dist/ktriage") bytes (+ libduckdb.so $(stat -c %s "$dist/libduckdb.so")), \`ktriage rules\` in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
    docs_ktriage="$dist/ktriage"
else
    echo "skipped (--collector-only)" >&2
    docs_ktriage="$dev_ktriage"
fi

step "6. man pages and completions"
"$dist/ktriage-collect" man -o "$dist/man" >/dev/null
"$docs_ktriage" man -o "$dist/man" >/dev/null
if command -v groff >/dev/null 2>&1; then
    for page in "$dist"/man/*.1; do
        groff -k -man -Tutf8 -ww -z "$page" 2>"$work/groff.err" && [ ! -s "$work/groff.err" ] \
            || fail "$page does not render: $(head -n 3 "$work/groff.err")"
    done
fi
for bin in "$dist/ktriage-collect" "$docs_ktriage"; do
    name="$(basename "$bin")"
    "$bin" completions bash >"$dist/completions/$name.bash"
    "$bin" completions zsh >"$dist/completions/_$name"
    "$bin" completions fish >"$dist/completions/$name.fish"
    "$bin" completions powershell >"$dist/completions/_$name.ps1"
    "$bin" completions elvish >"$dist/completions/$name.elv"
done

step "7. checksums"
(cd "$dist" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort \
    | xargs sha256sum >SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
echo "release $crate_version ($commit) in dist/:" >&2
for bin in "$dist/ktriage-collect" "$dist/ktriage"; do
    [ -f "$bin" ] && echo "  $(basename "$bin"): $(stat -c %s "$bin") bytes" >&2
done
echo "  $(ls "$dist/man" | wc -l) man pages, $(ls "$dist/completions" | wc -l) completion scripts, SHA256SUMS" >&2
