#!/usr/bin/env bash
# Installs what scripts/release.sh needs beyond the Rust toolchain, cached under
# $KTRIAGE_RELEASE_TOOLS (default ~/.cache/ktriage-release-tools), and prints the directory to
# put first on PATH:
#   - cargo-zigbuild (crates.io), which links against an old glibc through Zig;
#   - Zig from the PyPI package `ziglang` (its wheel carries the zig binary), exposed as `zig`;
#   - the Rust target x86_64-unknown-linux-gnu (rustup, when the toolchain lacks it).
# Idempotent: what is already there is kept. Versions are pinned so a release is repeatable.
set -euo pipefail
tools="${KTRIAGE_RELEASE_TOOLS:-$HOME/.cache/ktriage-release-tools}"
zigbuild_version="0.24.1"
ziglang_version="0.15.2"
bin="$tools/bin"
mkdir -p "$bin"

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "install-release-tools: '$1' is needed: $2" >&2; exit 1; }
}
need cargo "install Rust with rustup"
need python3 "apt-get install python3 python3-pip"

if ! "$bin/cargo-zigbuild" --version 2>/dev/null | grep -q "$zigbuild_version"; then
    echo "install-release-tools: cargo-zigbuild $zigbuild_version (a few minutes, once)" >&2
    # Its own target dir under the cache: never the project's shared build dir.
    CARGO_TARGET_DIR="$tools/cargo-target" cargo install -q --locked \
        --version "$zigbuild_version" --root "$tools" cargo-zigbuild >&2
fi

zig_home="$tools/ziglang-$ziglang_version"
if [ ! -x "$zig_home/ziglang/zig" ]; then
    echo "install-release-tools: zig $ziglang_version from PyPI (ziglang)" >&2
    python3 -m pip install -q --disable-pip-version-check --no-deps \
        --target "$zig_home" "ziglang==$ziglang_version" >&2
fi
# cargo-zigbuild runs `zig` from PATH (or $ZIG_COMMAND): a small wrapper keeps the wheel's
# directory layout (zig finds its lib/ beside itself).
cat >"$bin/zig" <<WRAP
#!/bin/sh
exec "$zig_home/ziglang/zig" "\$@"
WRAP
chmod +x "$bin/zig"

if command -v rustup >/dev/null 2>&1; then
    rustup target list --installed | grep -qx x86_64-unknown-linux-gnu \
        || rustup target add x86_64-unknown-linux-gnu >&2
fi

"$bin/zig" version >/dev/null 2>&1 || { echo "install-release-tools: zig at $zig_home does not run" >&2; exit 1; }
"$bin/cargo-zigbuild" --version >/dev/null 2>&1 || { echo "install-release-tools: cargo-zigbuild at $bin does not run" >&2; exit 1; }
echo "$bin"
