# Sourced by scripts/image.sh and tests/image/run.sh, so the image is built and
# run by the same engine. engine_setup sets ENGINE (and exports it) to the
# first engine that works: docker when `docker info` reaches a daemon, podman
# otherwise, installed first if missing. A docker client without a daemon is
# not an engine. ENGINE set by the caller is kept if it works.
engine_setup() {
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/image/containers.conf}
  if [ -n "${ENGINE:-}" ]; then
    "$ENGINE" info >/dev/null 2>&1 && return 0
    echo "engine: ENGINE=$ENGINE does not work ($ENGINE info failed)" >&2
    return 1
  fi
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    export ENGINE=docker
    return 0
  fi
  scripts/setup.sh podman buildah runc debootstrap >&2 || return 1
  if podman info >/dev/null 2>&1; then
    export ENGINE=podman
    return 0
  fi
  echo "engine: neither docker (no daemon) nor podman works" >&2
  return 1
}
