#!/usr/bin/env bash
# Runs every test of the workspace, with the real kubectl clients the end-to-end tests need.
# One cargo profile (dev) and one target directory outside the clone, shared with
# scripts/demo.sh, so the bundled DuckDB compiles once.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ktriage-target}"
export KTRIAGE_KUBECTL="${KTRIAGE_KUBECTL:-$(bash scripts/install-test-tools.sh)}"
exec cargo test --workspace "$@"
