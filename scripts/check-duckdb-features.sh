#!/usr/bin/env bash
# Fails when building the analyzer alone (`-p ktriage`, as the scripts do) and building the
# whole workspace (`cargo build`, `cargo test --workspace`) would give libduckdb-sys's build
# script dependencies different features. Cargo unifies features per invocation, so a
# difference compiles that build script twice, and with `--features bundled-duckdb` DuckDB
# itself (about 45 minutes). The fix is usually a feature in analyzer/Cargo.toml's
# [build-dependencies].
set -euo pipefail
cd "$(dirname "$0")/.."
closure() {
    cargo tree "$@" --features ktriage/bundled-duckdb -e build,normal --prefix depth -f '{p} [{f}]' |
        awk '/^[0-9]+libduckdb-sys /{f=1; match($0,/^[0-9]+/); d=substr($0,1,RLENGTH)+0; next}
             f { match($0,/^[0-9]+/); if (substr($0,1,RLENGTH)+0 <= d) { f=0; next }; print }' |
        sed 's/^[0-9]*//; s/ (\*)$//' | sort -u
}
alone="$(closure -p ktriage)"
workspace="$(closure --workspace)"
[ -n "$alone" ] || { echo "check-duckdb-features: libduckdb-sys not found in the tree" >&2; exit 1; }
if [ "$alone" != "$workspace" ]; then
    echo "check-duckdb-features: libduckdb-sys's build dependencies get other features in a" \
        "workspace build than in \`-p ktriage\` (< alone, > workspace):" >&2
    diff <(echo "$alone") <(echo "$workspace") >&2 || true
    exit 1
fi
echo "libduckdb-sys build dependencies: same features alone and in the workspace"
