#!/usr/bin/env bash
# The container image as a runtime would run it: read-only root, every
# capability dropped, a numeric non-root user. Probes answer, a request is
# served, the healthcheck subcommand works, and `podman stop` drains to exit 0.
# Then corral's /opt/corral, COPYed from that image into the Node example's
# Debian image (nodejs only, none of corral's libraries), runs Node there.
set -uo pipefail
cd "$(dirname "$0")/../.."
# The engine is chosen once, after set-up, by whether it works; the build
# (scripts/image.sh) inherits the choice through ENGINE.
source scripts/engine.sh
if ! engine_setup; then
  echo "0 passed, 1 failed (no container engine works)"
  exit 1
fi
engine=$ENGINE
echo "engine: $engine"
image=localhost/corral-shop:test
name=corral-image-test-$$
passed=0
failed=0
check() {  # description, then the command
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok   $what"
  else
    failed=$((failed + 1))
    echo "FAIL $what"
  fi
}
cleanup() {
  "$engine" rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "${pod_config:-}"
}
trap cleanup EXIT

source scripts/ports.sh
status_of() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
poll() {  # url, wanted status: up to 60 s
  for _ in $(seq 1 600); do
    [ "$(status_of "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

poll_until() {  # a command: up to 60 s
  for _ in $(seq 1 600); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
# Runs IMAGE as container NAME the way the chart's pod would: read-only root
# (and no writable /tmp of podman's own: a kubelet adds none), every
# capability dropped, a numeric non-root user, the chart's emptyDir at /tmp
# and its ConfigMap mounted at /config. Sets port and admin. A port can be
# taken between the check and the run: try fresh ones.
pod_config=$(mktemp -d)
# The chart's default ConfigMap.
echo '{"discount_percent": 0, "tax_rate_percent": 8.25, "payment_latency_ms": 50}' \
  >"$pod_config/sale.json"
echo "Welcome to corral-shop" >"$pod_config/banner"
chmod -R a+rX "$pod_config"
no_engine_tmpfs=()
[ "$engine" = podman ] && no_engine_tmpfs=(--read-only-tmpfs=false)
run_like_a_pod() {  # name, image
  for attempt in 1 2 3; do
    port=$(free_port)
    admin=$(free_port)
    "$engine" rm -f "$1" >/dev/null 2>&1
    "$engine" run -d --name "$1" --read-only "${no_engine_tmpfs[@]}" \
      --tmpfs /tmp --cap-drop=all --user 10001:10001 \
      --security-opt no-new-privileges -v "$pod_config:/config:ro" \
      -e CORRAL_CONFIG_DIR=/config -e CORRAL_DRAIN_DELAY=1s -e CORRAL_WORKERS=2 \
      -p "127.0.0.1:$port:8080" -p "127.0.0.1:$admin:9901" "$2" >/dev/null && return 0
    echo "$engine run failed (attempt $attempt); trying other ports"
  done
  return 1
}

# Other runs may build to the same tag meanwhile: use this build's ID.
iidfile=$(mktemp)
if ! IMAGE=$image IIDFILE=$iidfile scripts/image.sh >/tmp/corral-image-build.log 2>&1; then
  tail -30 /tmp/corral-image-build.log
  echo "0 passed, 1 failed"
  exit 1
fi
image_id=$(cat "$iidfile")
rm -f "$iidfile"
run_like_a_pod "$name" "$image_id"

check "readiness turns 200" poll "http://127.0.0.1:$admin/readyz" 200
check "liveness answers 200" test "$(status_of "http://127.0.0.1:$admin/livez")" = 200
check "a product is served" test "$(status_of "http://127.0.0.1:$port/products/1")" = 200
check "the master is PID 1 with 2 workers" bash -c \
  "'$engine' logs '$name' 2>&1 | grep -q '\"msg\":\"listening\",\"pid\":1,.*\"pid1\":true' &&
   [ \$('$engine' logs '$name' 2>&1 | grep -c '\"msg\":\"worker started serving\"') -eq 2 ]"
check "the healthcheck subcommand passes inside the image" \
  "$engine" exec "$name" /usr/local/bin/corral-shop healthcheck
# The image has no cat: read the container's PID 1 from the host.
check "runs as uid 10001" bash -c \
  "grep -q '^Uid:[[:space:]]*10001' /proc/\$('$engine' inspect -f '{{.State.Pid}}' '$name')/status"
check "there is no shell in the image" bash -c "! '$engine' exec '$name' /bin/sh -c true 2>/dev/null"
"$engine" stop -t 30 "$name" >/dev/null
code=$("$engine" inspect -f '{{.State.ExitCode}}' "$name")
check "$engine stop drains and the container exits 0 (got $code)" test "$code" = 0
check "the log shows the drain" bash -c \
  "'$engine' logs '$name' 2>&1 | grep -q 'worker drained, exiting'"

# What the image holds: the binary and the libraries it links, nothing to
# install or run anything else with. The engine adds /dev, /proc, /sys, /run
# and /etc/{hosts,hostname,resolv.conf,passwd,group,mtab} to every container.
files=$("$engine" export "$name" | tar -t | sed 's#^\./##')
unexpected_files() {
  grep -v -E '/$|^usr/local/bin/corral-shop$|^(usr/bin|sbin)/(tini|dumb-init)$|^(usr/)?lib(64)?/.+\.so(\.[0-9]+)*$|^opt/corral/bin/corral(-shop)?$|^opt/corral/lib/[^/]+\.so(\.[0-9]+)*$|^etc/(hosts|hostname|resolv\.conf|passwd|group|mtab)$|^(dev|run)/' <<<"$files"
}
check "only the binary, the loader, shared libraries and /opt/corral are in the image" \
  bash -c "[ -z \"\$1\" ]" _ "$(unexpected_files)"
check "no shell, apt, dpkg, .deb files or apt lists" \
  bash -c "! grep -E '(^|/)(sh|bash|dash|apt|apt-get|dpkg)$|\.deb$|var/lib/apt|var/cache/apt' <<<\"\$1\"" _ "$files"
# ENTRYPOINT ["tini", "--"] and ["dumb-init", "--"] work unchanged: corral
# under both names, in both directories. dumb-init with no program exits 1
# with its usage, which tini -e 1 turns into 0.
check "tini and dumb-init in /usr/bin and /sbin are corral under those names" \
  bash -c 'out=$("$1" run --rm --read-only --user 10001:10001 --entrypoint /sbin/tini "$2" \
      -e 1 -- /usr/bin/dumb-init 2>&1) &&
    grep -q "Usage: /usr/bin/dumb-init" <<<"$out" &&
    "$1" run --rm --read-only --user 10001:10001 --entrypoint /usr/bin/tini "$2" \
      --version | grep -q "tini version (corral" &&
    "$1" run --rm --read-only --user 10001:10001 --entrypoint /sbin/dumb-init "$2" \
      -V 2>&1 | grep -q "dumb-init (corral"' _ "$engine" "$image"
check "the binary and the dynamic loader are there" \
  bash -c "grep -qx usr/local/bin/corral-shop <<<\"\$1\" && grep -q 'ld-linux' <<<\"\$1\"" _ "$files"
label() {
  "$engine" image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" "$image"
}
check "OCI labels: title, version, revision, created" bash -c \
  '[ "$1" = corral-shop ] && [ -n "$2" ] && [ -n "$3" ] && [ -n "$4" ]' _ \
  "$(label title)" "$(label version)" "$(label revision)" "$(label created)"
check "the HEALTHCHECK runs the healthcheck subcommand" bash -c \
  'grep -q "corral-shop\",\"healthcheck" <<<"$1"' _ \
  "$("$engine" image inspect -f '{{json .Config.Healthcheck}}' "$image")"
unexpected=$(unexpected_files)
[ -z "$unexpected" ] || echo "unexpected files: $unexpected" | head -20

# /opt/corral as a user copies it: RUNPATH on the binary and on every library,
# so nothing is looked up outside the directory but glibc.
packed=$(mktemp -d)
"$engine" cp "$name:/opt/corral" "$packed/" 2>/dev/null
runpath() { readelf -d "$1" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p'; }
check "/opt/corral/bin/corral has RUNPATH \$ORIGIN/../lib" \
  test "$(runpath "$packed/corral/bin/corral")" = '$ORIGIN/../lib'
libs_without_origin() {
  local lib n=0
  for lib in "$packed"/corral/lib/*.so*; do
    [ "$(runpath "$lib")" = '$ORIGIN' ] || { echo "no RUNPATH \$ORIGIN: $lib"; n=$((n + 1)); }
  done
  [ "$n" -eq 0 ] && [ -e "$packed/corral/lib/libstdc++.so.6" ]
}
check "every library in /opt/corral/lib has RUNPATH \$ORIGIN (libstdc++ too)" libs_without_origin
echo "/opt/corral: $(du -sh "$packed/corral" | cut -f1), $(ls "$packed/corral/lib" | wc -l) libraries"
rm -rf "$packed"

# corral copied with one COPY into a Debian image that has only nodejs added,
# running the Node example (examples/node-store/Dockerfile) under it.
node_image=localhost/corral-node-store:test
node_name=corral-node-test-$$
cleanup() {
  "$engine" rm -f "$name" "$node_name" >/dev/null 2>&1 || true
  rm -rf "$pod_config"
}
iidfile=$(mktemp)
if "$engine" build --build-arg "CORRAL_IMAGE=$image_id" --iidfile "$iidfile" \
  -t "$node_image" examples/node-store >/tmp/corral-node-image-build.log 2>&1; then
  node_id=$(cat "$iidfile")
  check "the Node example image builds FROM bookworm-slim with corral COPYed in" true
else
  tail -30 /tmp/corral-node-image-build.log
  check "the Node example image builds FROM bookworm-slim with corral COPYed in" false
  node_id=
fi
rm -f "$iidfile"
in_node_image() { "$engine" run --rm --entrypoint "$1" "$node_id" "${@:2}"; }
check "the Node image has none of corral's libraries outside /opt/corral" \
  in_node_image /bin/sh -c \
  '! ls /lib /usr/lib /lib/*-linux-gnu /usr/lib/*-linux-gnu | grep -E "^lib(absl|prometheus-cpp|cpp-httplib)"'
# ldd inside the image: every library from /opt/corral/lib, or glibc's.
foreign_libs() {
  in_node_image ldd /opt/corral/bin/corral | awk '
    /not found/ { print; next }
    $2 == "=>" && $3 !~ /^\/opt\/corral\/(bin\/\.\.\/)?lib\// &&
      $1 !~ /^(libc|libm|libpthread|libdl|librt)\.so/ { print }'
}
check "ldd in the Node image finds corral's libraries in /opt/corral only" \
  bash -c '[ -n "$1" ] && [ -z "$2" ]' _ "$(in_node_image ldd /opt/corral/bin/corral)" "$(foreign_libs)"
run_like_a_pod "$node_name" "$node_id"
check "node-store: readiness turns 200 on corral's admin port" \
  poll "http://127.0.0.1:$admin/readyz" 200
check "node-store: a product is served by Node through corral" bash -c \
  'curl -sf "$1" | grep -q "\"id\":1,"' _ "http://127.0.0.1:$port/products/1"
roll_succeeded() {
  curl -s "http://127.0.0.1:$admin/status" | python3 -c \
    'import json, sys; sys.exit((json.load(sys.stdin).get("last_roll") or {}).get("result") != "success")' 2>/dev/null
}
"$engine" kill --signal HUP "$node_name" >/dev/null
check "node-store: SIGHUP rolls the copies (last_roll.result success)" poll_until roll_succeeded
check "node-store: a product is served after the roll" \
  test "$(status_of "http://127.0.0.1:$port/products/1")" = 200
"$engine" stop -t 30 "$node_name" >/dev/null
code=$("$engine" inspect -f '{{.State.ExitCode}}' "$node_name")
check "node-store: $engine stop drains and the container exits 0 (got $code)" test "$code" = 0
"$engine" image ls "$image"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
