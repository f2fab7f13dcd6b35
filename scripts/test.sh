#!/usr/bin/env bash
# Runs every test of the workspace, with the real kubectl clients the end-to-end tests need.
#
# One cargo profile (dev) and one target directory outside the clone, shared with
# scripts/demo.sh. The analyzer links the prebuilt DuckDB library (scripts/duckdb-lib.sh) and
# is built on its own, as `-p ktriage`: cargo unifies dependency features per invocation, and
# with `--features bundled-duckdb` a build together with the collector's dependency tree
# would change the features of DuckDB's build-script dependencies and compile DuckDB again.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ktriage-target}"
DUCKDB_LIB_DIR="${DUCKDB_LIB_DIR:-$(bash scripts/duckdb-lib.sh)}"
export DUCKDB_LIB_DIR
export KTRIAGE_KUBECTL="${KTRIAGE_KUBECTL:-$(bash scripts/install-test-tools.sh)}"
cargo test -p ktriage-schema -p ktriage-redact -p ktriage-import -p ktriage-reports -p ktriage-serve -p ktriage-collect -p ktriage-tests "$@"
cargo test -p ktriage "$@"
