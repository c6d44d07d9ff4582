#!/usr/bin/env bash
# Installs the Debian packages corral builds, tests and runs with, only the
# ones missing, so a second run is instant. Usage: scripts/setup.sh [extra...]
set -euo pipefail
packages=(cmake g++ make pkg-config libboost1.74-dev prometheus-cpp-dev
  nlohmann-json3-dev libabsl-dev libcpp-httplib-dev googletest libgtest-dev
  libgmock-dev util-linux curl prometheus nodejs python3-gunicorn golang-go
  "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi
