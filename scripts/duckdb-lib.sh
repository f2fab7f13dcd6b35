#!/usr/bin/env bash
# Fetches the prebuilt DuckDB library the analyzer links by default and prints the directory
# holding it, for DUCKDB_LIB_DIR:
#
#   export DUCKDB_LIB_DIR="$(bash scripts/duckdb-lib.sh)"
#   cargo build -p ktriage
#
# The library is DuckDB's official linux-x64 build (JSON built in), as shipped in the npm
# package @duckdb/node-bindings-linux-x64; the duckdb crate version in analyzer/Cargo.toml
# (1.10506.x) matches it. The package is checked against a pinned SHA-256 and unpacked once
# into $KTRIAGE_DUCKDB_CACHE (default ~/.cache/ktriage-duckdb)/<version>/; later runs only
# print the directory. Needs npm (or curl) the first time.
set -euo pipefail
version=1.5.6
package=@duckdb/node-bindings-linux-x64
package_version=1.5.6-r.1
tarball=duckdb-node-bindings-linux-x64-$package_version.tgz
sha256=1b9f82478539bb9a1d1df44bd103121a12ae52142c07158dc52b97d2ec1d69ff

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *)
        echo "duckdb-lib.sh: no prebuilt DuckDB for $(uname -s)-$(uname -m); build with" \
            "\`cargo build -p ktriage --features bundled-duckdb\` instead" >&2
        exit 1
        ;;
esac

dir="${KTRIAGE_DUCKDB_CACHE:-$HOME/.cache/ktriage-duckdb}/$version"
if [ -f "$dir/libduckdb.so" ]; then
    echo "$dir"
    exit 0
fi

mkdir -p "$(dirname "$dir")"
work="$(mktemp -d "$(dirname "$dir")/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if command -v npm >/dev/null; then
    (cd "$work" && npm pack --silent "$package@$package_version" >/dev/null)
else
    curl -fsSL -o "$work/$tarball" \
        "https://registry.npmjs.org/$package/-/node-bindings-linux-x64-$package_version.tgz"
fi
echo "$sha256  $work/$tarball" | sha256sum --check --quiet >&2
tar -xzf "$work/$tarball" -C "$work" package/libduckdb.so package/LICENSE
mkdir -p "$work/lib"
mv "$work/package/libduckdb.so" "$work/package/LICENSE" "$work/lib/"
# A concurrent run may have finished first; either copy is the same pinned library.
mv -T "$work/lib" "$dir" 2>/dev/null || [ -f "$dir/libduckdb.so" ]
echo "duckdb-lib.sh: DuckDB $version unpacked into $dir" >&2
echo "$dir"
