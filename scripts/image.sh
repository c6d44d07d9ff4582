#!/usr/bin/env bash
# make image: builds the corral-shop image with the engine that works here
# (scripts/engine.sh; podman: with the local Debian base images, see
# base-image.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${IMAGE:-localhost/corral-shop:0.1.0}
source scripts/engine.sh
engine_setup
# The OCI labels: version from CMakeLists.txt, the commit, the build time.
version=$(sed -n 's/^project(corral VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
build_args=(--build-arg "VERSION=${version:-unknown}"
  --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  --build-arg "SOURCE=$(git remote get-url origin 2>/dev/null || true)")
# IIDFILE: where to write the built image's ID, for callers that must not
# race another build to the same tag.
[ -z "${IIDFILE:-}" ] || build_args+=(--iidfile "$IIDFILE")
if [ "$ENGINE" = podman ]; then
  scripts/base-image.sh
  # docker format: OCI image configs have no HEALTHCHECK.
  podman build --format docker "${build_args[@]}" -t "$tag" .
else
  docker build "${build_args[@]}" -t "$tag" .
fi
