#!/usr/bin/env bash
# Runs every test of the workspace, with the real kubectl clients the end-to-end tests need.
#
# One cargo profile (dev) and one target directory outside the clone, shared with
# scripts/demo.sh. The analyzer (which links the bundled DuckDB, a 45-minute C++ build) is
# always built on its own, as `-p ktriage`: cargo unifies dependency features per invocation,
# and building it together with the collector's dependency tree would change the features
# of DuckDB's build-script dependencies and compile DuckDB a second time.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ktriage-target}"
export KTRIAGE_KUBECTL="${KTRIAGE_KUBECTL:-$(bash scripts/install-test-tools.sh)}"
cargo test -p ktriage-schema -p ktriage-redact -p ktriage-import -p ktriage-serve -p ktriage-collect -p ktriage-tests "$@"
cargo test -p ktriage "$@"
