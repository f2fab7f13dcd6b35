#!/usr/bin/env bash
# Fails when a Linux binary would not start on a node whose glibc is FLOOR (default 2.17, as on
# CentOS 7 / RHEL 7): a versioned glibc symbol newer than FLOOR, or a shared library other than
# the C library's own (a minimal node may lack it).
# Usage: scripts/check-glibc-floor.sh BINARY [FLOOR]
set -euo pipefail
bin="${1:?usage: $0 BINARY [FLOOR]}"
floor="${2:-2.17}"
fail() { echo "check-glibc-floor: $bin: $*" >&2; exit 1; }
for tool in objdump readelf; do
    command -v "$tool" >/dev/null 2>&1 || { echo "check-glibc-floor: '$tool' is missing (apt-get install binutils)" >&2; exit 1; }
done
[ -f "$bin" ] || fail "no such file"

# Every symbol version the binary refers to, from the dynamic symbols and the version needs.
versions="$( (objdump -T "$bin"; readelf -V --wide "$bin") \
    | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/^GLIBC_//' | sort -uV)"
[ -n "$versions" ] || fail "no GLIBC symbol versions: not a dynamically linked glibc binary"
too_new=""
for v in $versions; do
    [ "$(printf '%s\n%s\n' "$v" "$floor" | sort -V | tail -n 1)" = "$floor" ] || too_new="$too_new $v"
done
if [ -n "$too_new" ]; then
    for v in $too_new; do objdump -T "$bin" | grep -F "(GLIBC_$v)" | head -n 3 >&2 || true; done
    fail "needs glibc$too_new (symbols above), newer than the floor $floor"
fi

needed="$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
for lib in $needed; do
    case "$lib" in
        libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | libutil.so.1 | ld-linux-x86-64.so.2 | libgcc_s.so.1) ;;
        *) fail "needs $lib, which a minimal node may not have" ;;
    esac
done
echo "$bin: glibc symbol versions $(tr '\n' ' ' <<<"$versions")(all <= $floor); libraries: $(tr '\n' ' ' <<<"$needed")"
