#!/usr/bin/env bash
# make image: builds the corral-shop image with docker or podman, whichever
# is present (podman: with the local Debian base images, see base-image.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${IMAGE:-localhost/corral-shop:0.1.0}
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  docker build -t "$tag" .
  exit 0
fi
scripts/setup.sh podman buildah runc debootstrap >&2
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/image/containers.conf}
scripts/base-image.sh
podman build --format docker -t "$tag" .
