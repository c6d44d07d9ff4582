#!/usr/bin/env bash
# The proxy bench: the Node store (examples/node-store/server.js, unmodified,
# 2 copies) behind three front ends, one after the other in the same run:
#   corral --proxy --workers=2 -- node server.js   SIGHUP rolls the copies;
#                                                   corral's proxy workers keep
#                                                   the client connections
#   nginx, 2 workers, reverse proxy to 2 copies    `nginx -s reload`
#   Node's cluster module (bench/node-cluster.js)  SIGHUP rolls the copies
# Each gets one wrk run (bench/mix.lua: 3 GETs : 1 checkout) without rolls,
# for throughput, then one with ROLLS rolls spread through it: roll N starts
# N * DURATION / (ROLLS + 1) s in (or when roll N-1 finished, if later).
# Writes the section to
# bench/results/proxy.md (and stdout), wrk's output to
# bench/results/proxy-wrk.log. Run alone, or from bench/run.sh.
#
# Environment (defaults in brackets):
#   BENCH_PROXY_CONNECTIONS  [1000] wrk connections; above 10000, two wrk
#                            processes (to 127.0.0.1 and 127.0.0.2)
#   BENCH_PROXY_DURATION     [20] seconds of load per wrk run
#   BENCH_PROXY_ROLLS        [3] rolls during the second run of each runner
#   BENCH_PROXY_NODES        [2] Node processes behind every front end
#                            (corral's --workers)
#   BENCH_PROXY_CORRAL_FLAGS [empty] extra flags appended to corral's command
#                            line before the `--`, split on spaces, e.g.
#                            "--proxy-workers=1"
#   BENCH_PROXY_RUNNERS      ["corral-proxy nginx node-cluster"] the runners
#                            to run, in that order; leave some out to compare
#                            variants of one runner faster
#   WORK                     [a temporary directory, removed at exit] scratch
#                            directory with the runners' logs; kept if given
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${BENCH_PROXY_CONNECTIONS:-1000}
DURATION=${BENCH_PROXY_DURATION:-20}  # seconds of load per run; "20s" works too
DURATION=${DURATION%s}
ROLLS=${BENCH_PROXY_ROLLS:-3}
NODES=${BENCH_PROXY_NODES:-2}         # Node processes behind every front end
read -ra CORRAL_FLAGS <<<"${BENCH_PROXY_CORRAL_FLAGS:-}"
RUNNERS=${BENCH_PROXY_RUNNERS:-corral-proxy nginx node-cluster}
for r in $RUNNERS; do
  case $r in
    corral-proxy | nginx | node-cluster) ;;
    *) echo "bench/proxy.sh: unknown runner in BENCH_PROXY_RUNNERS: $r" >&2; exit 2 ;;
  esac
done
# Whether a runner is in RUNNERS.
wanted() { [[ " $RUNNERS " == *" $1 "* ]]; }
RESULTS=bench/results
OWN_WORK=
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/corral-proxy.XXXXXX)
  OWN_WORK=1
fi
NGINX=(nginx -p "$WORK/proxy-nginx" -c "$WORK/proxy-nginx/nginx.conf")
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$OWN_WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

scripts/setup.sh wrk nginx-light >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$(nproc)" --target corral >/dev/null
CORRAL=build-release/bin/corral

ulimit -n "$(ulimit -Hn)"
touch "$WORK/wrk.log"
WRK_LOG_FROM=$(($(wc -l <"$WORK/wrk.log") + 1))
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
source scripts/ports.sh
source bench/lib.sh

# One run of DURATION s (run_wrk: two wrk processes above SPLIT_ABOVE
# connections) while roll_fn does `rolls` rolls; roll_fn N returns once roll
# N finished. Appends to rows: name rolls rps p50 p99 max errors non2xx
# requests c/r/w/t rolled
measure() {
  local name=$1 port=$2 rolls=$3 roll_fn=${4:-} start loader rolled=0 began result
  start=$SECONDS
  run_wrk "$CONNECTIONS" "$port" bench/mix.lua "proxy: $name, $rolls rolls" \
    >"$WORK/proxy.result" &
  loader=$!
  for n in $(seq 1 "$rolls"); do
    sleep_until "$((start + n * DURATION / (rolls + 1)))"
    kill -0 "$loader" 2>/dev/null || break
    began=$(date +%s.%N)
    "$roll_fn" "$n" || { echo "proxy: $name: roll $n did not finish" >&2; break; }
    awk -v a="$began" -v b="$(date +%s.%N)" -v what="proxy: $name: roll $n" \
      'BEGIN { printf "%s took %.1f s\n", what, b - a }' >&2
    rolled=$n
  done
  wait "$loader"
  result=$(cat "$WORK/proxy.result")
  rows+=("$name $rolls $result $rolled")
  echo "proxy: $name, $rolls rolls: $result, $rolled rolled" >&2
}

rows=()

# 1. corral's proxy mode: it starts the copies, each on its own port. Every
# front end listens on every address, for the second wrk process (127.0.0.2).
if wanted corral-proxy; then
PORT=$(free_port)
ADMIN=$(free_port)
CORRAL_LOG=$WORK/proxy-corral.log
start_corral_proxy "$CORRAL_LOG" "$ADMIN" "$NODES" "${CORRAL_FLAGS[@]}"
CORRAL_PID=$RUNNER_PID
corral_roll() {
  roll_by_sighup "$CORRAL_PID" "$CORRAL_LOG" '"msg":"roll finished"' "$1"
}
measure corral-proxy "$PORT" 0
measure corral-proxy "$PORT" "$ROLLS" corral_roll
stop_server "$CORRAL_PID"
fi

# 2. nginx in front of copies it does not start: one Node process per port.
if wanted nginx; then
PORT=$(free_port)
start_nginx_proxy "$WORK/proxy-nginx" "$NODES"
# A reload is finished once the old workers have exited: they close their
# idle keep-alive client connections, and the busy ones after the answer.
any_alive() {
  for p in "$@"; do [ -e "/proc/$p" ] && return 0; done
  return 1
}
nginx_roll() {
  local old
  read -ra old <<<"$(cat /proc/"$NGINX_PID"/task/*/children | tr '\n' ' ')"
  "${NGINX[@]}" -s reload 2>>"$WORK/proxy-nginx/logs/reload.log"
  for _ in $(seq 1 6000); do
    any_alive "${old[@]}" || return 0
    sleep 0.01
  done
  return 1
}
measure nginx "$PORT" 0
measure nginx "$PORT" "$ROLLS" nginx_roll
stop_server "$NGINX_PID"
for pid in "${NGINX_COPIES[@]}"; do stop_server "$pid"; done
fi

# 3. Node's cluster module, the tutorial launcher.
if wanted node-cluster; then
PORT=$(free_port)
CLUSTER_LOG=$WORK/proxy-cluster.log
start_runner "$CLUSTER_LOG" env PORT="$PORT" WORKERS="$NODES" node bench/node-cluster.js
CLUSTER_PID=$RUNNER_PID
cluster_roll() {
  roll_by_sighup "$CLUSTER_PID" "$CLUSTER_LOG" '^roll finished' "$1"
}
measure node-cluster "$PORT" 0
measure node-cluster "$PORT" "$ROLLS" cluster_roll
stop_server "$CLUSTER_PID"
fi

{
  echo "## Proxy: the Node store behind corral's proxy mode, nginx and Node's cluster module"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, Node $(node --version), nginx $(nginx -v 2>&1 | cut -d/ -f2)."
  echo "Command: \`bench/proxy.sh\` (or \`make bench\`), BENCH_PROXY_CONNECTIONS=$CONNECTIONS BENCH_PROXY_DURATION=${DURATION}s"
  echo "BENCH_PROXY_ROLLS=$ROLLS BENCH_PROXY_NODES=$NODES: examples/node-store/server.js, $NODES Node processes per runner;"
  echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s --timeout 10s (above $SPLIT_ABOVE connections two wrk processes, to 127.0.0.1 and"
  echo "127.0.0.2), 3 GETs of /products/{id} : 1 POST /checkout (bench/mix.lua). Each runner: one run without rolls,"
  echo "then one with $ROLLS rolls, roll N starting N * ${DURATION} / $((ROLLS + 1)) s in (or when roll N-1 finished, if later):"
  echo
  echo "Runners: $RUNNERS."
  echo
  echo "- corral-proxy: \`corral --listen=0.0.0.0:PORT --admin=127.0.0.1:ADMIN --proxy --workers=$NODES --drain-delay=0s${CORRAL_FLAGS[*]:+ ${CORRAL_FLAGS[*]}} -- node server.js\`"
  echo "  (each copy on its own port; corral's proxy workers hold the client connections); roll: SIGHUP, finished at"
  echo "  corral's \"roll finished\" log line;"
  echo "- nginx: 2 workers, \`upstream { least_conn; keepalive 64; }\` over $NODES copies started with PORT=...,"
  echo "  \`proxy_http_version 1.1; proxy_set_header Connection \"\";\`; roll: \`nginx -s reload\` (new nginx workers; the"
  echo "  old ones close their kept-alive client connections; the copies stay), finished when the old workers exited;"
  echo "- node-cluster: \`bench/node-cluster.js\` (fork the new copy, disconnect the old one once the new one listens,"
  echo "  kill it 5 s later if still there); roll: SIGHUP, finished at its \"roll finished\" line."
  echo
  echo "Failed: wrk's socket errors (connect/read/write/timeout) plus non-2xx answers; total: answers plus"
  echo "socket errors. Load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| runner | connections | rolls | rps | p50 ms | p99 ms | socket errors (c/r/w/t) | non-2xx | failed / total |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r name rolls rps p50 p99 _ err non req kinds rolled <<<"$row"
    [ "$rolls" = 0 ] || rolls="$rolled of $rolls"
    echo "| $name | $CONNECTIONS | $rolls | $rps | $p50 | $p99 | $err ($kinds) | $non | $((err + non)) / $((req + err)) |"
  done
  echo
} | tee "$RESULTS/proxy.md"
tail -n +"$WRK_LOG_FROM" "$WORK/wrk.log" >"$RESULTS/proxy-wrk.log"
