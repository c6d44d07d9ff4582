#!/usr/bin/env bash
# make bench-leak: an app that leaks 256 KiB per request, 2 processes in a
# cgroup v1 memory cgroup of 300 MiB, under the same steady load for 60 s
# (wrk -c50, every request answered after 100 ms: at most 500 requests and
# 125 MiB of leak a second), once per runner, each in a memory cgroup of its
# own:
#   corral           corral --listen --ready=pipe -- node leaky_app.js, its
#                    defaults otherwise (the memory guard at 0.8 of the limit)
#   corral-noguard   the same with --memory-guard=off: the baseline
#   corral-proxy     corral --proxy -- node leaky_app.js, its defaults but
#                    for unix sockets to the app processes (below)
#   pm2              pm2 cluster mode, 2 instances, --max-memory-restart at
#                    0.8 of the limit shared by the 2 (pm2 checks every 30 s)
#   pm2-1s           the same with PM2_WORKER_INTERVAL=1000 (a check a second)
#   gunicorn         the Python example made to leak (bench/leaky_store.py),
#                    2 gthread workers, --max-requests (+ jitter) sized so
#                    that 2 workers at their last request fit in 0.8 of the
#                    limit
# Per runner: requests answered, failed (wrk's socket errors plus non-2xx),
# the cgroup's OOM kills (memory.oom_control's oom_kill, before and after),
# recycles and restarts (corral's metrics, pm2's restart count and log,
# gunicorn's log), throughput and the cgroup's peak (memory.max_usage_in_bytes).
# Writes bench/results/leak.md (and stdout), wrk's output to
# bench/results/leak-wrk.log. Run alone, or from bench/run.sh. Needs root
# and a writable cgroup v1 memory controller (it says so and stops if not).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_LEAK_DURATION:-60}            # seconds of load per runner
CONNECTIONS=${BENCH_LEAK_CONNECTIONS:-50}
LEAK_MS=${BENCH_LEAK_MS:-100}                  # each request's wait in the app
LEAK_KB=${BENCH_LEAK_KB:-256}                  # leaked per request
LIMIT_MIB=${BENCH_LEAK_LIMIT_MIB:-300}         # each runner's memory cgroup
PROCESSES=2
RUNNERS=${BENCH_LEAK_RUNNERS:-"corral corral-noguard corral-proxy pm2 pm2-1s gunicorn"}
# pm2 and gunicorn get the share of the limit corral's guard acts at (0.8),
# split between the processes.
SHARE_MIB=$((LIMIT_MIB * 8 / 10 / PROCESSES))
PM2_MAX_MEMORY=${BENCH_LEAK_PM2_MAX_MEMORY:-${SHARE_MIB}M}
# A fresh gunicorn worker of the store holds about 30 MiB (resident here:
# the master 28 MiB, a worker 40-42 MiB after about 60 requests of 256 KiB);
# that plus max_requests + jitter leaks fits in the share.
GUNICORN_FRESH_MIB=30
GUNICORN_MAX_REQUESTS=${BENCH_LEAK_MAX_REQUESTS:-$(((SHARE_MIB - GUNICORN_FRESH_MIB) * 1024 / LEAK_KB * 9 / 10))}
GUNICORN_JITTER=${BENCH_LEAK_MAX_REQUESTS_JITTER:-$((GUNICORN_MAX_REQUESTS / 10))}
APP=e2e/apps/leaky_app.js
RESULTS=bench/results
OWN_WORK=
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/corral-leak.XXXXXX)
  OWN_WORK=1
fi
pids=()
CGROUP=

# Memory cgroups are made below the one this script runs in, so they never
# leave its limits.
PARENT=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
CGROUP_ROOT=/sys/fs/cgroup/memory$PARENT

remove_cgroup() {
  [ -n "$CGROUP" ] && [ -d "$CGROUP" ] || return 0
  for _ in $(seq 1 500); do
    [ -z "$(cat "$CGROUP/cgroup.procs" 2>/dev/null)" ] && break
    sleep 0.02
  done
  rmdir "$CGROUP" 2>/dev/null || echo "leak: $CGROUP still has processes" >&2
  CGROUP=
}

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for home in "$WORK"/pm2-*; do
    [ -d "$home" ] && PM2_HOME=$home "$PM2" kill >/dev/null 2>&1 || true
  done
  if [ -n "$CGROUP" ] && [ -d "$CGROUP" ]; then
    xargs -r kill -KILL <"$CGROUP/cgroup.procs" 2>/dev/null || true
    remove_cgroup
  fi
  if [ -n "$OWN_WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ ! -w "$CGROUP_ROOT" ] || [ ! -e "$CGROUP_ROOT/memory.limit_in_bytes" ]; then
  echo "leak: no writable cgroup v1 memory controller at $CGROUP_ROOT (root on a cgroup v1 host is needed)" >&2
  exit 1
fi

# Node and Debian's gunicorn (setup.sh installs both); npm may come with the
# machine's Node.js, Debian's npm otherwise.
if command -v npm >/dev/null; then
  scripts/setup.sh wrk >/dev/null
else
  scripts/setup.sh wrk npm >/dev/null
fi
CORRAL=${BENCH_LEAK_CORRAL:-}  # a corral binary to use instead of building one
if [ -z "$CORRAL" ]; then
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j "$(nproc)" --target corral >/dev/null
  CORRAL=build-release/bin/corral
fi

touch "$WORK/wrk.log"
WRK_LOG_FROM=$(($(wc -l <"$WORK/wrk.log") + 1))
source scripts/ports.sh
source bench/lib.sh
ensure_pm2

# A fresh memory cgroup for runner $1 with the limit and no swap; sets CGROUP.
make_cgroup() {
  CGROUP=$CGROUP_ROOT/corral-bench-leak-$$-$1
  mkdir "$CGROUP"
  echo $((LIMIT_MIB * 1024 * 1024)) >"$CGROUP/memory.limit_in_bytes"
  echo 0 >"$CGROUP/memory.swappiness"
}

# Runs the rest of the line inside $CGROUP: the (sub)shell moves itself in,
# then becomes the command, so the runner and everything it starts is charged
# there. Only in a subshell or a background job, never the script's own shell.
in_cgroup() {
  echo "$BASHPID" >"$CGROUP/cgroup.procs"
  exec "$@"
}

oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$CGROUP/memory.oom_control"; }

# The runner's memory in the cgroup once a second, for the log: seconds,
# usage MiB, the cgroup's OOM kills so far.
sample_memory() {
  local start=$SECONDS
  while [ -d "$CGROUP" ]; do
    echo "$((SECONDS - start)) $(($(cat "$CGROUP/memory.usage_in_bytes" 2>/dev/null || echo 0) / 1048576)) $(oom_kills 2>/dev/null)"
    sleep 1
  done
}

# The load: wrk for DURATION s. Sets LOAD: the merged report line
# (rps p50 p99 max errors non2xx requests c/r/w/t, see lib.sh).
steady_load() {
  local name=$1
  echo "== leak: $name: wrk -c$CONNECTIONS -d${DURATION}s GET /?ms=$LEAK_MS" >>"$WORK/wrk.log"
  LEAK_MS=$LEAK_MS WRK_REPORT="$WORK/leak.report" wrk -t2 -c"$CONNECTIONS" \
    -d"${DURATION}s" --timeout 10s --latency -s bench/leak.lua \
    "http://127.0.0.1:$PORT" >>"$WORK/wrk.log" 2>&1 || true
  LOAD=$(merge_wrk_reports "$WORK/leak.report")
  rm -f "$WORK/leak.report"
}

# corral's replacements by reason from its /metrics, summed over pools:
# "reason=n,..." of the non-zero ones, or "none".
corral_restarts() {
  curl -s "http://127.0.0.1:$1/metrics" | awk '
    /^corral_worker_restarts_total\{/ {
      match($0, /reason="[^"]*"/)
      r = substr($0, RSTART + 8, RLENGTH - 9)
      n[r] += $NF
    }
    END {
      for (r in n) if (n[r] > 0) { printf "%s%s=%d", sep, r, n[r]; sep = "," }
      if (sep == "") printf "none"
      print ""
    }'
}

rows=()

# One runner, start to finish: cgroup, start (a function that starts it in
# the cgroup and waits until it answers), load, figures, stop.
# Adds a row: name rps p50 p99 max errors non2xx requests kinds oom peak_mib
# recycles load_average
measure() {
  local name=$1 start_fn=$2 recycles_fn=$3 stop_fn=$4 load sampler oom0 oom1 peak recycles
  make_cgroup "$name"
  PORT=$(free_port)
  "$start_fn"
  load=$(cut -d' ' -f1 /proc/loadavg)
  oom0=$(oom_kills)
  sample_memory >"$WORK/$name-memory.log" &
  sampler=$!
  steady_load "$name"
  oom1=$(oom_kills)
  peak=$(($(cat "$CGROUP/memory.max_usage_in_bytes") / 1048576))
  recycles=$("$recycles_fn")
  "$stop_fn"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  remove_cgroup
  rows+=("$name $LOAD $((oom1 - oom0)) $peak $recycles $load")
  echo "leak: $name: $LOAD oom=$((oom1 - oom0)) peak=${peak}MiB recycles=$recycles" >&2
}

# corral, socket mode and proxy mode: its defaults but for what the bench
# needs (an admin port for the metrics, no drain delay, info logs); in socket
# mode the app says when it is ready (--ready=pipe: leaky_app.js writes
# READY=1 once it listens), as bench/any_app.sh runs the Node store. In
# proxy mode the app processes listen on unix sockets (--app-socket-dir), as
# the e2e tests run them: corral's loopback ports count down from the
# ephemeral range, and on a machine shared with other corral proxies (other
# test runs) a port it picked can be taken before its process binds it,
# which that process's readiness probe then mistakes for its own (seen
# here: EADDRINUSE after "worker ready"). A pod has its ports to itself.
CORRAL_FLAGS=()
start_corral_leaky() {
  ADMIN=$(free_port)
  CORRAL_LOG=$WORK/$name.log
  in_cgroup env LEAK_KB="$LEAK_KB" "$CORRAL" --listen=0.0.0.0:"$PORT" \
    --admin=127.0.0.1:"$ADMIN" --workers=$PROCESSES --drain-delay=0s \
    --log-level=info "${CORRAL_FLAGS[@]}" -- node "$APP" >"$CORRAL_LOG" 2>&1 &
  RUNNER_PID=$!
  pids+=("$RUNNER_PID")
  wait_http "http://127.0.0.1:$PORT/?ms=0"
}
recycles_corral() { corral_restarts "$ADMIN"; }
stop_corral_leaky() { stop_server "$RUNNER_PID"; }

# pm2 cluster mode, 2 instances, stopped with SIGTERM (the app drains on it,
# as under Kubernetes); a PM2_HOME of its own, so a daemon of its own, started
# from inside the cgroup.
PM2_ENV=()
start_pm2_leaky() {
  export PM2_HOME=$WORK/pm2-$name
  (in_cgroup env PORT="$PORT" LEAK_KB="$LEAK_KB" PM2_KILL_SIGNAL=SIGTERM \
    "${PM2_ENV[@]}" "$PM2" start "$APP" -i $PROCESSES --name leaky \
    --max-memory-restart "$PM2_MAX_MEMORY") >"$WORK/$name.log" 2>&1
  wait_http "http://127.0.0.1:$PORT/?ms=0"
}
# From pm2's own log (asking the daemon would start a new one, outside the
# cgroup, if the OOM killer took it): restarts=N (instances started after
# the first 2), memory=N (restarts pm2 made for max_memory_restart), and
# daemon=killed when pm2's daemon itself is gone: it is in the cgroup too,
# as in a container, and then nothing serves or restarts the app.
recycles_pm2() {
  local starts memory daemon=''
  starts=$(grep -c 'starting in -cluster mode-' "$PM2_HOME/pm2.log" || true)
  memory=$(grep -c 'exceeds --max-memory-restart' "$PM2_HOME/pm2.log" || true)
  kill -0 "$(cat "$PM2_HOME/pm2.pid" 2>/dev/null)" 2>/dev/null || daemon=',daemon=killed'
  echo "restarts=$((starts - PROCESSES)),memory=$memory$daemon"
}
stop_pm2_leaky() {
  cp "$PM2_HOME/pm2.log" "$WORK/$name-daemon.log" 2>/dev/null || true
  "$PM2" kill >>"$WORK/$name.log" 2>&1 || true
  unset PM2_HOME
}

# gunicorn: Debian's, 2 gthread workers with a thread per connection (so
# threads never cap the rate), max_requests and its jitter.
start_gunicorn_leaky() {
  GUNICORN_LOG=$WORK/$name.log
  in_cgroup env LEAK_KB="$LEAK_KB" /usr/bin/python3 -m gunicorn \
    --pythonpath examples/python-store,bench --bind 0.0.0.0:"$PORT" \
    --workers $PROCESSES --worker-class gthread --threads "$CONNECTIONS" \
    --max-requests "$GUNICORN_MAX_REQUESTS" \
    --max-requests-jitter "$GUNICORN_JITTER" --log-level info \
    leaky_store:application >"$GUNICORN_LOG" 2>&1 &
  RUNNER_PID=$!
  pids+=("$RUNNER_PID")
  wait_http "http://127.0.0.1:$PORT/?ms=0"
}
# max_requests=N (its "Autorestarting" lines) and killed=N (workers ended by
# a signal: the OOM killer's SIGKILL).
recycles_gunicorn() {
  echo "max_requests=$(grep -c 'Autorestarting worker' "$GUNICORN_LOG" || true),killed=$(grep -c 'was terminated due to signal' "$GUNICORN_LOG" || true)"
}
stop_gunicorn_leaky() { stop_server "$RUNNER_PID"; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for name in $RUNNERS; do
  case $name in
    corral) CORRAL_FLAGS=(--ready=pipe); measure "$name" start_corral_leaky recycles_corral stop_corral_leaky ;;
    corral-noguard) CORRAL_FLAGS=(--ready=pipe --memory-guard=off); measure "$name" start_corral_leaky recycles_corral stop_corral_leaky ;;
    corral-proxy) CORRAL_FLAGS=(--proxy --app-socket-dir="$WORK"); measure "$name" start_corral_leaky recycles_corral stop_corral_leaky ;;
    pm2) PM2_ENV=(); measure "$name" start_pm2_leaky recycles_pm2 stop_pm2_leaky ;;
    pm2-1s) PM2_ENV=(PM2_WORKER_INTERVAL=1000); measure "$name" start_pm2_leaky recycles_pm2 stop_pm2_leaky ;;
    gunicorn) measure "$name" start_gunicorn_leaky recycles_gunicorn stop_gunicorn_leaky ;;
    *) echo "leak: unknown runner $name" >&2; exit 1 ;;
  esac
done

{
  echo "## Leak: an app that leaks under corral, pm2 and gunicorn, in a memory limit"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r), Node $(node --version), pm2 $("$PM2" --version 2>/dev/null | tail -1), gunicorn $(/usr/bin/python3 -c 'import gunicorn; print(gunicorn.__version__)')."
  echo "Command: \`make bench-leak\` (or \`bench/leak.sh\`; also part of \`make bench\`). Each runner in a cgroup v1 memory"
  echo "cgroup of its own, limit $LIMIT_MIB MiB, no swap; $PROCESSES app processes; wrk -t2 -c$CONNECTIONS --timeout 10s for ${DURATION}s of"
  echo "\`GET /?ms=$LEAK_MS\` (answered after $LEAK_MS ms; at most $((CONNECTIONS * 1000 / LEAK_MS)) requests/s), each request leaking $LEAK_KB KiB"
  echo "(at most $((CONNECTIONS * 1000 / LEAK_MS * LEAK_KB / 1024)) MiB/s). The Node runners run e2e/apps/leaky_app.js, gunicorn bench/leaky_store.py"
  echo "(examples/python-store with the same leak)."
  echo
  echo "- corral: \`corral --listen --workers=2 --ready=pipe -- node leaky_app.js\`, the memory guard at its default (0.8 of the limit);"
  echo "- corral-noguard: the same, \`--memory-guard=off\`;"
  echo "- corral-proxy: \`corral --listen --proxy --workers=2 --app-socket-dir=DIR -- node leaky_app.js\`, defaults otherwise;"
  echo "- pm2: \`pm2 start leaky_app.js -i 2 --max-memory-restart $PM2_MAX_MEMORY\` (cluster mode; PM2_KILL_SIGNAL=SIGTERM), pm2 checks every 30 s;"
  echo "- pm2-1s: the same with PM2_WORKER_INTERVAL=1000, a check every second;"
  echo "- gunicorn: \`gunicorn --workers 2 --worker-class gthread --threads $CONNECTIONS --max-requests $GUNICORN_MAX_REQUESTS --max-requests-jitter $GUNICORN_JITTER\`."
  echo
  echo "Failed: wrk's socket errors (connect/read/write/timeout) plus non-2xx. OOM kills: the cgroup's"
  echo "\`oom_kill\` count (memory.oom_control) after the load less before. Recycles: corral's"
  echo "\`corral_worker_restarts_total\` by reason; pm2's restart count (and how many its log says were for"
  echo "memory); gunicorn's \`Autorestarting worker\` lines (and workers ended by a signal). Peak: the cgroup's"
  echo "memory.max_usage_in_bytes (page cache included). When nothing listens any more (pm2's daemon gone), wrk"
  echo "counts every failed reconnect as a write error, thousands a second: those are attempts, not requests."
  echo "Load average (1 min) as each runner's load started;"
  echo "before the run: $LOAD_BEFORE. Read throughput as noisy (a shared 2-core machine); the failures and OOM kills are the point."
  echo
  echo "| runner | answered | failed | socket errors (c/r/w/t) | non-2xx | OOM kills | recycles / restarts | rps | p99 ms | peak MiB | load average |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r name rps _ p99 _ err non req kinds oom peak recycles load <<<"$row"
    echo "| $name | $req | $((err + non)) | $err ($kinds) | $non | $oom | ${recycles//,/, } | $rps | $p99 | $peak | $load |"
  done
  echo
} | tee "$RESULTS/leak.md"
tail -n +"$WRK_LOG_FROM" "$WORK/wrk.log" >"$RESULTS/leak-wrk.log"
