#!/usr/bin/env bash
# The "any app" bench: the Node store (examples/node-store/server.js, 2
# copies) under three runners, one after the other in the same run, each
# under 200 keep-alive connections of 3 GETs : 1 checkout (bench/mix.lua)
# while it replaces its copies 5 times:
#   corral --workers=2 --ready=pipe -- node server.js   5 SIGHUP rolls
#   Node's cluster module (bench/node-cluster.js)       5 SIGHUP rolls
#   pm2 cluster mode (pm2 start server.js -i 2)         5 `pm2 reload`
# Roll N starts 2 + 10 * (N-1) s into the load (or 1 s after the previous one
# finished, if later); the load stops 1 s after the last one finished. Failed requests: wrk's socket errors plus non-2xx answers.
# Writes the section to bench/results/any-app.md (and stdout), wrk's output
# to bench/results/any-app-wrk.log. Run alone, or from bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_DURATION=${BENCH_ANY_APP_MAX_DURATION:-120}  # seconds of load per runner, at most
CONNECTIONS=${BENCH_ANY_APP_CONNECTIONS:-200}
ROLLS=5
ROLL_EVERY=${BENCH_ANY_APP_ROLL_EVERY:-10}       # seconds from one roll's start to the next
RESULTS=bench/results
OWN_WORK=
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/corral-any-app.XXXXXX)
  OWN_WORK=1
fi
APP=examples/node-store/server.js
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${PM2:-}" ]; then PM2_HOME="$WORK/pm2" "$PM2" kill >/dev/null 2>&1 || true; fi
  if [ -n "$OWN_WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Node (setup.sh installs Debian's nodejs); npm may come with the machine's
# Node.js, Debian's npm otherwise.
if command -v npm >/dev/null; then
  scripts/setup.sh wrk >/dev/null
else
  scripts/setup.sh wrk npm >/dev/null
fi
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$(nproc)" --target corral >/dev/null
CORRAL=build-release/bin/corral

ulimit -n "$(ulimit -Hn)"
touch "$WORK/wrk.log"
WRK_LOG_FROM=$(($(wc -l <"$WORK/wrk.log") + 1))
source scripts/ports.sh
source bench/lib.sh
ensure_pm2

# The load, with the rolls running beside it: wrk starts, roll N starts
# 2 + (N-1) * ROLL_EVERY s in (or 1 s after roll N-1 finished, if later), and
# wrk stops (SIGINT: it reports what it has) 1 s after the last roll
# finished, or after MAX_DURATION. $1 is the runner's name, $2 the port, $3 a function that does
# roll number N and returns once it finished.
# Sets RESULT: rps p50 p99 max errors non2xx requests c/r/w/t rolls seconds load
under_rolls() {
  local name=$1 port=$2 roll_fn=$3 load wrk_pid start rolled=0
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "== any app: $name: wrk -c$CONNECTIONS to 127.0.0.1 (bench/mix.lua)" >>"$WORK/wrk.log"
  start=$SECONDS
  WRK_REPORT="$WORK/any-app.report" wrk -t2 -c"$CONNECTIONS" -d"${MAX_DURATION}s" \
    --timeout 10s --latency -s bench/mix.lua "http://127.0.0.1:$port" \
    >>"$WORK/wrk.log" 2>&1 &
  wrk_pid=$!
  for n in $(seq 1 "$ROLLS"); do
    sleep_until "$((start + 2 + (n - 1) * ROLL_EVERY))"
    kill -0 "$wrk_pid" 2>/dev/null || break
    "$roll_fn" "$n" || { echo "any-app: $name: roll $n did not finish" >&2; break; }
    rolled=$n
    sleep 1
  done
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  RESULT="$(merge_wrk_reports "$WORK/any-app.report") $rolled $((SECONDS - start)) $load"
  rm -f "$WORK/any-app.report"
}

rows=()

# 1. corral, 2 copies of the app on corral's socket.
PORT=$(free_port)
CORRAL_LOG=$WORK/corral-node.log
start_runner "$CORRAL_LOG" "$CORRAL" --listen=0.0.0.0:"$PORT" --workers=2 \
  --ready=pipe --drain-delay=0s --log-level=info -- node "$APP"
CORRAL_PID=$RUNNER_PID
corral_roll() {
  roll_by_sighup "$CORRAL_PID" "$CORRAL_LOG" '"msg":"roll finished"' "$1"
}
under_rolls corral "$PORT" corral_roll
rows+=("corral $RESULT")
kill -TERM "$CORRAL_PID"
wait "$CORRAL_PID" || true
echo "any-app: corral: $RESULT" >&2

# 2. Node's cluster module, the tutorial launcher.
PORT=$(free_port)
CLUSTER_LOG=$WORK/node-cluster.log
start_runner "$CLUSTER_LOG" env PORT="$PORT" WORKERS=2 node bench/node-cluster.js
CLUSTER_PID=$RUNNER_PID
cluster_roll() {
  roll_by_sighup "$CLUSTER_PID" "$CLUSTER_LOG" '^roll finished' "$1"
}
under_rolls node-cluster "$PORT" cluster_roll
rows+=("node-cluster $RESULT")
kill -TERM "$CLUSTER_PID"
wait "$CLUSTER_PID" || true
echo "any-app: node cluster: $RESULT" >&2

# 3. pm2 cluster mode. pm2 stops a copy with SIGINT unless told otherwise;
# the app drains on SIGTERM (as under Kubernetes), so pm2 is told SIGTERM.
PORT=$(free_port)
export PM2_HOME=$WORK/pm2 PM2_KILL_SIGNAL=SIGTERM
PORT=$PORT "$PM2" start "$APP" -i 2 --name store >"$WORK/pm2.log" 2>&1
wait_http "http://127.0.0.1:$PORT/products/1"
pm2_roll() { "$PM2" reload store >>"$WORK/pm2.log" 2>&1; }
under_rolls pm2 "$PORT" pm2_roll
rows+=("pm2 $RESULT")
"$PM2" kill >>"$WORK/pm2.log" 2>&1 || true
echo "any-app: pm2: $RESULT" >&2

{
  echo "## Any app: the Node store under corral, Node's cluster module and pm2"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, Node $(node --version), pm2 $("$PM2" --version 2>/dev/null | tail -1)."
  echo "Command: \`make bench\` (or \`bench/any_app.sh\` alone): examples/node-store/server.js, 2 copies per"
  echo "runner; wrk -t2 -c$CONNECTIONS --timeout 10s, 3 GETs of /products/{id} : 1 POST /checkout (bench/mix.lua),"
  echo "while each runner replaces both copies $ROLLS times: replacement N starts 2 + $ROLL_EVERY * (N-1) s into the load (or 1 s"
  echo "after the previous one finished, if later), and wrk is stopped (SIGINT; it reports what it has) 1 s after the last:"
  echo
  echo "- corral: \`corral --listen=0.0.0.0:PORT --workers=2 --ready=pipe --drain-delay=0s -- node server.js\`, $ROLLS SIGHUP rolls;"
  echo "- node-cluster: \`bench/node-cluster.js\` (Node's cluster module as tutorials teach it: fork the new copy,"
  echo "  disconnect the old one once the new one listens, kill it 5 s later if still there), $ROLLS SIGHUPs;"
  echo "- pm2: \`pm2 start server.js -i 2\` (cluster mode, PM2_KILL_SIGNAL=SIGTERM, the signal the app drains on), $ROLLS \`pm2 reload\`."
  echo
  echo "Failed: wrk's socket errors (connect/read/write/timeout) plus non-2xx answers; total: answers plus"
  echo "socket errors. Load average (1 min) is taken as each runner's load starts; the bench itself adds about 4."
  echo
  echo "| runner | rps | p50 ms | p99 ms | max ms | failed / total | socket errors (c/r/w/t) | non-2xx | replacements | load s | load average |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r name rps p50 p99 max err non req kinds rolled secs load <<<"$row"
    echo "| $name | $rps | $p50 | $p99 | $max | $((err + non)) / $((req + err)) | $err ($kinds) | $non | $rolled of $ROLLS | $secs | $load |"
  done
  echo
} | tee "$RESULTS/any-app.md"
tail -n +"$WRK_LOG_FROM" "$WORK/wrk.log" >"$RESULTS/any-app-wrk.log"
