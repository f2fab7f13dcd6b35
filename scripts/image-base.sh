#!/usr/bin/env bash
# Builds the collector image's base locally, for a Docker daemon that cannot pull from a
# registry: a minimal Debian bookworm (debootstrap, minbase variant) trimmed like
# debian:bookworm-slim (no documentation, man pages or translations, no apt lists), imported
# as one layer. Needs root, debootstrap (apt-get install debootstrap) and a Debian mirror.
#
# Usage: scripts/image-base.sh [TAG]        (default ktriage-local/debian:bookworm-slim)
# Then: docker build -f collector/Dockerfile --build-arg BASE_IMAGE=TAG ...
# Env: KTRIAGE_DEBIAN_MIRROR (default: the first deb.debian.org-style URI apt uses here,
# else http://deb.debian.org/debian).
set -euo pipefail
tag="${1:-ktriage-local/debian:bookworm-slim}"
suite="bookworm"

fail() { echo "image-base: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "debootstrap needs root"
command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"
command -v docker >/dev/null || fail "docker is missing"
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/image-dockerd.sh starts one)"

if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "image-base: $tag is already there" >&2
    exit 0
fi

mirror="${KTRIAGE_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
    # The mirror this machine's apt already uses (a local mirror on a closed network).
    mirror="$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
        /etc/apt/sources.list.d/*.list | grep -oE 'https?://[^ ]*/debian/?$' | head -n 1 || true)"
    mirror="${mirror:-http://deb.debian.org/debian}"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ktriage-image-base.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
rootfs="$work/rootfs"
mkdir "$rootfs"

# What debian:bookworm-slim leaves out, kept for the packages installed later.
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG

echo "image-base: debootstrap $suite from $mirror (a few minutes)" >&2
debootstrap --variant=minbase --components=main "$suite" "$rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 \
    || fail "debootstrap failed: $(tail -n 3 "$work/debootstrap.log")"

# Inside the image, apt reads the same mirror; no caches or lists are kept.
printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$suite" "$mirror" "$suite" \
    >"$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CFG
printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
# debootstrap unpacks its first packages without dpkg, past the excludes: remove their share.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/usr/share/lintian/* "$rootfs"/tmp/* "$rootfs"/dev/*
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete

tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "debootstrap --variant=minbase $suite" - "$tag" >/dev/null 2>"$work/import.err" \
    || fail "docker import failed: $(tail -n 3 "$work/import.err")"
echo "image-base: $tag, $(docker image inspect -f '{{.Size}}' "$tag") bytes" >&2
