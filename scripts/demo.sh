#!/usr/bin/env bash
# Analyzes the sample bundles shipped in the repo (a small cluster with planted FAQ problems,
# plus node bundles) into ./ktriage-report/{report.html,report.md,findings.json}.
# Extra arguments go to `ktriage analyze` (e.g. --lang en).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ktriage-target}"
DUCKDB_LIB_DIR="${DUCKDB_LIB_DIR:-$(bash scripts/duckdb-lib.sh)}"
export DUCKDB_LIB_DIR
exec cargo run -q -p ktriage -- analyze tests/fixtures/built/sample/*.tar.zst -o ktriage-report "$@"
