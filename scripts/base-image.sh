#!/usr/bin/env bash
# Makes the Debian bookworm base images the Dockerfile starts FROM, locally,
# with debootstrap from the mirror apt already uses (no registry is needed).
# Once per machine: does nothing when the images exist.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${ENGINE:-podman}
have() { "$engine" image exists "$1" 2>/dev/null; }
if have docker.io/library/debian:bookworm && have docker.io/library/debian:bookworm-slim; then
  exit 0
fi
scripts/setup.sh debootstrap >&2
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
rootfs=$(mktemp -d /var/tmp/corral-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "base-image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
# The images' own apt uses the same mirror.
echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | "$engine" import - localhost/debian:bookworm >/dev/null
"$engine" tag localhost/debian:bookworm docker.io/library/debian:bookworm
"$engine" tag localhost/debian:bookworm docker.io/library/debian:bookworm-slim
echo "base-image: docker.io/library/debian:bookworm{,-slim} ready" >&2
