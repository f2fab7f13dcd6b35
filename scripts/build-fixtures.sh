#!/usr/bin/env bash
# Builds the readable fixture sources under tests/fixtures/ into bundle archives under
# tests/fixtures/built/<fixture>/<source>.tar.zst, with the mkbundle builder.
#
#   scripts/build-fixtures.sh [FIXTURE...]           rebuild (default: every fixture below)
#   scripts/build-fixtures.sh --check [FIXTURE...]   rebuild into a temporary directory and fail
#                                                    when the committed archives differ
#
# Builds are reproducible: the same source gives the same bytes, so --check can run in CI.
set -euo pipefail

FIXTURES=(baseline sample)

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode=build
names=()
for arg in "$@"; do
    case "$arg" in
        --check) mode=check ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "build-fixtures: unknown option $arg" >&2; usage >&2; exit 2 ;;
        *) names+=("$arg") ;;
    esac
done
if [ ${#names[@]} -eq 0 ]; then
    names=("${FIXTURES[@]}")
fi

built="tests/fixtures/built"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ktriage-fixtures.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Compile once, then call the builder per fixture.
cargo build -q -p ktriage-tests --bin mkbundle
mkbundle() {
    cargo run -q -p ktriage-tests --bin mkbundle -- "$@"
}

status=0
for name in "${names[@]}"; do
    src="tests/fixtures/$name"
    if [ ! -d "$src" ]; then
        echo "build-fixtures: no fixture source $src" >&2
        exit 2
    fi
    out="$tmp/$name"
    mkdir -p "$out"
    if [ -f "$src/bundle.yaml" ] || [ -d "$src/objects" ] || [ -d "$src/host" ]; then
        mkbundle "$src" "$out/$name.tar.zst"
    else
        mkbundle "$src" "$out"
    fi
    if [ "$mode" = check ]; then
        if ! diff -r -q "$out" "$built/$name" >"$tmp/$name.diff" 2>&1; then
            echo "build-fixtures: $built/$name is stale:" >&2
            sed 's/^/  /' "$tmp/$name.diff" >&2
            status=1
        else
            echo "ok      $built/$name"
        fi
    else
        rm -rf "${built:?}/$name"
        mkdir -p "$built"
        mv "$out" "$built/$name"
        for f in "$built/$name"/*.tar.zst; do
            echo "built   $f ($(wc -c <"$f") bytes)"
        done
    fi
done

if [ "$status" -ne 0 ]; then
    echo "build-fixtures: run scripts/build-fixtures.sh and commit tests/fixtures/built/" >&2
fi
exit "$status"
