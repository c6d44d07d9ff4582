#!/usr/bin/env bash
# make image: builds the corral-shop image with the engine that works here
# (scripts/engine.sh; podman: with the local Debian base images, see
# base-image.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${IMAGE:-localhost/corral-shop:0.1.0}
source scripts/engine.sh
engine_setup
if [ "$ENGINE" = podman ]; then
  scripts/base-image.sh
  podman build --format docker -t "$tag" .
else
  docker build -t "$tag" .
fi
