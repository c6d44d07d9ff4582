#!/usr/bin/env bash
# make bench: corral-shop against nginx serving the same JSON (the reference
# for the limit on this machine) at several connection counts up to the
# 28,000-connection store, with the Black Friday targets per row; the spread
# of requests and the worst wait per connection; server CPU per request; rolls
# and a SIGTERM drain under 28,000 connections; the cost of a /metrics scrape
# at 64 workers; the Node store under corral, Node's cluster module and pm2
# across 5 rolls each (bench/any_app.sh); and the same store behind corral's
# proxy mode, nginx and Node's cluster module (bench/proxy.sh); and the
# shoppers: that store behind five front ends under users who think, at 0.5x
# to 4x of its capacity, and the midnight onset (bench/shoppers.sh); and a
# leaky app in a memory limit under corral, pm2 and gunicorn (bench/leak.sh). Writes
# the tables to stdout and bench/results/latest.md, the chart (throughput and p99)
# to bench/results/throughput.png.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-10}           # seconds per load run
TRIALS=${BENCH_TRIALS:-5}                # corral/nginx pairs per connection count
CONNECTIONS=${BENCH_CONNECTIONS:-"50 1000 5000 28000"}
ROLL_CONNECTIONS=${BENCH_ROLL_CONNECTIONS:-1000}
STORE_CONNECTIONS=${BENCH_STORE_CONNECTIONS:-28000}  # rolls and drain, 3 GET : 1 checkout
SCRAPE_WORKERS=64
SCRAPES=200
# The Black Friday targets, per connection count, against nginx in the same run.
MIN_RPS_RATIO=0.9
MAX_P99_RATIO=1.5
RESULTS=bench/results
WORK=$(mktemp -d /tmp/corral-bench.XXXXXX)
pids=()
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

scripts/setup.sh wrk nginx-light gnuplot-nox >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$(nproc)" --target corral-shop >/dev/null
BIN=build-release/bin/corral-shop
CONN_STATS=$WORK/conn_stats
g++ -O2 -std=c++20 -Wall -Wextra -Werror bench/conn_stats.cc -o "$CONN_STATS"

# Thousands of connections need descriptors on both ends: take the hard limit.
ulimit -n "$(ulimit -Hn)"

source scripts/ports.sh
source bench/lib.sh

start_corral() {  # workers, then extra flags; sets CORRAL_PORT ADMIN_PORT CORRAL_PID
  CORRAL_PORT=$(free_port)
  ADMIN_PORT=$(free_port)
  CORRAL_LOG="$WORK/corral-$CORRAL_PORT.log"
  "$BIN" --workers="$1" --listen=0.0.0.0:"$CORRAL_PORT" \
    --admin=127.0.0.1:"$ADMIN_PORT" --drain-delay=0s --log-level=warn "${@:2}" \
    >"$CORRAL_LOG" 2>&1 &
  CORRAL_PID=$!
  pids+=("$CORRAL_PID")
  wait_http "http://127.0.0.1:$ADMIN_PORT/readyz"
}

stop_corral() {
  kill -TERM "$CORRAL_PID"
  wait "$CORRAL_PID" || true
}

# Prints "yes" when the awk condition over a and b holds, else "no".
met() { awk -v a="$1" -v b="$2" "BEGIN { print (($3) ? \"yes\" : \"no\") }"; }

# nginx: 2 workers, the same JSON as a static response.
NGINX_PORT=$(free_port)
start_corral 2
JSON=$(curl -s "http://127.0.0.1:$CORRAL_PORT/products/1")
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile 20000;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 19000; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen $NGINX_PORT reuseport backlog=4096;
    location / {
      default_type application/json;
      return 200 '$JSON';
    }
  }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
pids+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_PORT/products/1"

# One wrk run of one server: prints "rps p50 p99 max errors non2xx requests
# user_ticks system_ticks", the last two the server's CPU during the run.
trial() {
  local conns=$1 port=$2 server_pid=$3 label=$4 before after wrk
  before=$(cpu_ticks "$server_pid")
  wrk=$(run_wrk "$conns" "$port" bench/products.lua "$label")
  after=$(cpu_ticks "$server_pid")
  read -r u0 s0 <<<"$before"
  read -r u1 s1 <<<"$after"
  echo "$(echo "$wrk" | cut -d' ' -f1-7) $((u1 - u0)) $((s1 - s0))"
}

# The median of a[1..n] (sorts a), for awk programs.
AWK_MEDIAN='
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }'

# One server's trials (lines from trial) as one row: the medians of rps, p50
# and p99 over the trials, the worst max, the errors and non-2xx of all
# trials, and CPU per request over all of them. Prints:
#   rps p50 p99 max errors non2xx user_us sys_us
summarize_trials() {
  awk -v hz="$(getconf CLK_TCK)" "$AWK_MEDIAN"'
    { n++; rps[n] = $1; p50[n] = $2; p99[n] = $3; if ($4 > max) max = $4
      err += $5; non += $6; req += $7; ut += $8; st += $9 }
    END {
      printf "%.0f %.2f %.2f %.2f %d %d %.1f %.1f\n", median(rps, n),
        median(p50, n), median(p99, n), max, err, non,
        (req ? ut * 1e6 / hz / req : 0), (req ? st * 1e6 / hz / req : 0)
    }'
}

# corral-shop against nginx at one connection count: TRIALS pairs of wrk
# runs, the two servers back to back in each pair and the order swapped
# from one pair to the next, so that drift in the machine's speed (other
# guests, the client's own state) falls on both alike; then the
# per-connection client against each. Prints the corral-shop row, the nginx
# row (each: summarize_trials, then min med max worst cerr from
# run_conn_stats), then the median over the pairs of corral's rps and p99
# over nginx's, and each pair's ratios ("r1,r2,..." for rps, then for p99).
compare() {
  local conns=$1 t k_trials=() n_trials=() k n
  for t in $(seq 1 "$TRIALS"); do
    if [ $((t % 2)) = 1 ]; then
      n_trials+=("$(trial "$conns" "$NGINX_PORT" "$NGINX_PID" "nginx c=$conns trial $t")")
      k_trials+=("$(trial "$conns" "$CORRAL_PORT" "$CORRAL_PID" "corral-shop c=$conns trial $t")")
    else
      k_trials+=("$(trial "$conns" "$CORRAL_PORT" "$CORRAL_PID" "corral-shop c=$conns trial $t")")
      n_trials+=("$(trial "$conns" "$NGINX_PORT" "$NGINX_PID" "nginx c=$conns trial $t")")
    fi
    echo "bench: c=$conns trial $t corral: ${k_trials[-1]} nginx: ${n_trials[-1]}" >&2
  done
  k="$(printf '%s\n' "${k_trials[@]}" | summarize_trials) $(run_conn_stats "$conns" "$CORRAL_PORT")"
  n="$(printf '%s\n' "${n_trials[@]}" | summarize_trials) $(run_conn_stats "$conns" "$NGINX_PORT")"
  echo "$k $n $(paste -d' ' <(printf '%s\n' "${k_trials[@]}") <(printf '%s\n' "${n_trials[@]}") | awk "$AWK_MEDIAN"'
    { n++; r[n] = $10 > 0 ? $1 / $10 : 0; p[n] = $12 > 0 ? $3 / $12 : 0
      rl = rl (n > 1 ? "," : "") sprintf("%.2f", r[n])
      pl = pl (n > 1 ? "," : "") sprintf("%.2f", p[n]) }
    END { printf "%.2f %.2f %s %s\n", median(r, n), median(p, n), rl, pl }')"
}

rows=()
for c in $CONNECTIONS; do
  rows+=("$c $(compare "$c")")
  echo "bench: c=$c: ${rows[-1]}" >&2
done
stop_corral

# Rolls under load: SIGHUP again as soon as each roll finished, while wrk
# runs. Sets ROLLED: rolls aborted rps p50 p99 max errors non2xx user_us sys_us
# errors_by_kind
rolls_under_load() {
  local conns=$1 script=$2 before after wrk roller
  start_corral 2 --log-level=info
  (
    n=0
    end=$((SECONDS + DURATION))
    while [ $SECONDS -lt $end ]; do
      kill -HUP "$CORRAL_PID"
      n=$((n + 1))
      for _ in $(seq 1 3000); do
        [ "$(grep -c '"msg":"roll finished"' "$CORRAL_LOG")" -ge "$n" ] && break
        [ "$(grep -c '"msg":"roll aborted' "$CORRAL_LOG")" -gt 0 ] && break
        sleep 0.01
      done
    done
  ) &
  roller=$!
  before=$(cpu_ticks "$CORRAL_PID")
  wrk=$(run_wrk "$conns" "$CORRAL_PORT" "$script" "corral-shop rolls c=$conns")
  after=$(cpu_ticks "$CORRAL_PID")
  wait "$roller"
  ROLLED="$(grep -c '"msg":"roll finished"' "$CORRAL_LOG" || true)"
  ROLLED+=" $(grep -c '"msg":"roll aborted' "$CORRAL_LOG" || true)"
  ROLLED+=" $(echo "$wrk" | cut -d' ' -f1-6)"
  ROLLED+=" $(cpu_per_request "$before" "$after" "$(echo "$wrk" | cut -d' ' -f7)")"
  ROLLED+=" $(echo "$wrk" | cut -d' ' -f8)"
  stop_corral
}
roll_rows=()
rolls_under_load "$ROLL_CONNECTIONS" bench/products.lua
roll_rows+=("$ROLL_CONNECTIONS GET $ROLLED")
rolls_under_load "$STORE_CONNECTIONS" bench/mix.lua
roll_rows+=("$STORE_CONNECTIONS 3GET:1checkout $ROLLED")
echo "bench: rolls: ${roll_rows[*]}" >&2

# SIGTERM drain under the store's load: SIGTERM 2 s into the run, and a drain
# delay that ends as the load stops (half a second after wrk's end, for the
# start-up jitter of wrk itself), as when the endpoint removal has reached
# every client by then.
DRAIN_AT=2
start_corral 2 --log-level=info --drain-delay="$(((DURATION - DRAIN_AT) * 1000 + 500))ms"
run_wrk "$STORE_CONNECTIONS" "$CORRAL_PORT" bench/mix.lua \
  "corral-shop drain c=$STORE_CONNECTIONS" >"$WORK/drain.wrk" &
drain_load=$!
sleep "$DRAIN_AT"
kill -TERM "$CORRAL_PID"
wait "$drain_load"
drain_exit=0
wait "$CORRAL_PID" || drain_exit=$?
read -r d_rps d_p50 d_p99 d_max d_err d_non _ d_kinds <"$WORK/drain.wrk"
d_drained=$(grep -c '"msg":"worker drained, exiting"' "$CORRAL_LOG" || true)

# The cost of a scrape with 64 live workers, each with request series.
start_corral "$SCRAPE_WORKERS"
wrk -t2 -c64 -d2s -s bench/products.lua "http://127.0.0.1:$CORRAL_PORT" >/dev/null
curl -s "http://127.0.0.1:$CORRAL_PORT/nowhere" >/dev/null
series=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -c '^http_server_request_duration_seconds_count' || true)
bytes=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | wc -c)
for _ in $(seq 1 "$SCRAPES"); do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$ADMIN_PORT/metrics"
done | sort -n >"$WORK/scrapes"
scrape_p50=$(awk -v n="$SCRAPES" 'NR == int(n * 0.5) { printf "%.2f", $1 * 1000 }' "$WORK/scrapes")
scrape_p99=$(awk -v n="$SCRAPES" 'NR == int(n * 0.99) { printf "%.2f", $1 * 1000 }' "$WORK/scrapes")
scrape_mean=$(awk '{ s += $1 } END { printf "%.2f", s / NR * 1000 }' "$WORK/scrapes")
stop_corral

# The Node store under corral, Node's cluster module and pm2, same run.
if ! WORK=$WORK bench/any_app.sh >/dev/null; then
  printf '## Any app\n\nbench/any_app.sh failed in this run.\n\n' >"$RESULTS/any-app.md"
fi

# The same store behind corral's proxy mode, nginx and Node's cluster module.
if ! WORK=$WORK bench/proxy.sh >/dev/null; then
  printf '## Proxy\n\nbench/proxy.sh failed in this run.\n\n' >"$RESULTS/proxy.md"
fi

# The same store under users who think, five front ends, 0.5x to 4x of its
# capacity and the midnight onset.
if ! WORK=$WORK bench/shoppers.sh >/dev/null; then
  printf '## Shoppers\n\nbench/shoppers.sh failed in this run.\n\n' >"$RESULTS/shoppers.md"
fi

# A leaky app in a memory limit under corral, pm2 and gunicorn.
if ! WORK=$WORK bench/leak.sh >/dev/null; then
  printf '## Leak\n\nbench/leak.sh failed in this run (it needs root and a cgroup v1 memory controller).\n\n' >"$RESULTS/leak.md"
fi

# The report.
{
  echo "# corral-shop vs nginx on this machine"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), nginx $(nginx -v 2>&1 | cut -d/ -f2)."
  echo "Command: \`make bench\` (BENCH_DURATION=${DURATION}s per run, BENCH_TRIALS=$TRIALS pairs per connection count; wrk -t2 --timeout 10s on loopback,"
  echo "GET /products/{random id}; above $SPLIT_ABOVE connections two wrk processes, one to 127.0.0.1 and"
  echo "one to 127.0.0.2; corral-shop --workers=2; nginx 2 workers returning the same JSON)."
  echo "Client and servers share the machine's cores: read the ratios, not the absolute numbers."
  echo "Load average (1, 5, 15 min) before the run: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Before the run, a load well above 0 means other work (builds) shared the cores and the numbers are"
  echo "noisy; during the run the bench itself adds about 4 (two wrk threads, two workers)."
  echo
  echo "## The targets: throughput >= ${MIN_RPS_RATIO}x nginx, p99 <= ${MAX_P99_RATIO}x nginx, 0 socket errors"
  echo
  echo "At each connection count, $TRIALS pairs of ${DURATION}s wrk runs, corral-shop and nginx back to back in"
  echo "each pair, the order swapped from one pair to the next. A ratio is corral-shop's over nginx's within"
  echo "one pair, so that the machine's drift between pairs (it is shared) falls on both alike; the target"
  echo "is checked on the median pair's ratio. The rps and p99 columns are each server's medians over its runs."
  echo
  echo "| connections | corral rps | nginx rps | rps ratio (>= $MIN_RPS_RATIO) | rps ratio per pair | corral p99 ms | nginx p99 ms | p99 ratio (<= $MAX_P99_RATIO) | p99 ratio per pair | corral socket errors (0) | all met |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r c k_rps _ k_p99 _ k_err _ _ _ _ _ _ _ _ n_rps _ n_p99 _ _ _ _ _ _ _ _ _ _ \
      rps_ratio p99_ratio rps_pairs p99_pairs <<<"$row"
    rps_ok=$(met "$rps_ratio" "$MIN_RPS_RATIO" 'a >= b')
    p99_ok=$(met "$p99_ratio" "$MAX_P99_RATIO" 'a <= b')
    err_ok=$(met "$k_err" 0 'a == b')
    all=$(met "$rps_ok$p99_ok$err_ok" yesyesyes 'a == b')
    echo "| $c | $k_rps | $n_rps | $rps_ratio ($rps_ok) | ${rps_pairs//,/, } | $k_p99 | $n_p99 | $p99_ratio ($p99_ok) | ${p99_pairs//,/, } | $k_err ($err_ok) | $all |"
  done
  echo
  echo "## Latency, errors and server CPU per request"
  echo
  echo "Medians over each server's $TRIALS runs; max ms is the worst of them, and errors and non-2xx their sum."
  echo "CPU: user and system time of the master and its workers (nginx: master and workers) from"
  echo "/proc/PID/stat before and after each wrk run, reaped children included, summed over the runs and"
  echo "divided by the requests wrk counted in them."
  echo
  echo "| connections | server | rps | p50 ms | p99 ms | max ms | socket errors | non-2xx | user us/req | system us/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r c k_rps k_p50 k_p99 k_max k_err k_non k_u k_s _ _ _ _ _ \
      n_rps n_p50 n_p99 n_max n_err n_non n_u n_s _ <<<"$row"
    echo "| $c | corral-shop | $k_rps | $k_p50 | $k_p99 | $k_max | $k_err | $k_non | $k_u | $k_s |"
    echo "| $c | nginx | $n_rps | $n_p50 | $n_p99 | $n_max | $n_err | $n_non | $n_u | $n_s |"
  done
  echo
  echo "## Per connection"
  echo
  echo "bench/conn_stats.cc, after the wrk runs, holds the same number of keep-alive connections for"
  echo "${DURATION}s, one request at a time each (as wrk does), and records every connection's answered"
  echo "requests and the longest it waited for one answer (one still pending at the end included)."
  echo
  echo "| connections | server | requests per connection: min | median | max | worst connection's longest wait ms | client errors |"
  echo "|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r c _ _ _ _ _ _ _ _ k_min k_med k_max k_worst k_cerr \
      _ _ _ _ _ _ _ _ n_min n_med n_max n_worst n_cerr _ <<<"$row"
    echo "| $c | corral-shop | $k_min | $k_med | $k_max | $k_worst | $k_cerr |"
    echo "| $c | nginx | $n_min | $n_med | $n_max | $n_worst | $n_cerr |"
  done
  echo
  echo "## Rolls under load (target: 0 socket errors, 0 non-2xx)"
  echo
  echo "SIGHUP again as soon as each roll finished, for the whole ${DURATION}s run. corral-shop only."
  echo
  echo "| connections | load | rolls finished | rolls aborted | rps | p50 ms | p99 ms | max ms | socket errors (connect/read/write/timeout) | non-2xx | user us/req | system us/req | met |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${roll_rows[@]}"; do
    read -r c load rolls aborted rps p50 p99 max err non u s kinds <<<"$row"
    echo "| $c | $load | $rolls | $aborted | $rps | $p50 | $p99 | $max | $err ($kinds) | $non | $u | $s | $(met "$err$non$aborted" 000 'a == b') |"
  done
  echo
  echo "## SIGTERM drain under load (target: 0 socket errors, 0 non-2xx)"
  echo
  echo "$STORE_CONNECTIONS connections, 3 GETs : 1 checkout for ${DURATION}s; SIGTERM ${DRAIN_AT}s in, --drain-delay"
  echo "ending 0.5 s after the load stops."
  echo
  echo "| rps | p50 ms | p99 ms | max ms | socket errors (connect/read/write/timeout) | non-2xx | workers drained | exit code | met |"
  echo "|---|---|---|---|---|---|---|---|---|"
  echo "| $d_rps | $d_p50 | $d_p99 | $d_max | $d_err ($d_kinds) | $d_non | $d_drained | $drain_exit | $(met "$d_err$d_non$drain_exit" 000 'a == b') |"
  echo
  echo "## Scrape of /metrics with $SCRAPE_WORKERS live workers"
  echo
  echo "$series request series, $bytes bytes, $SCRAPES sequential scrapes with curl:"
  echo
  echo "| mean ms | p50 ms | p99 ms |"
  echo "|---|---|---|"
  echo "| $scrape_mean | $scrape_p50 | $scrape_p99 |"
  echo
  cat "$RESULTS/any-app.md"
  cat "$RESULTS/proxy.md"
  cat "$RESULTS/shoppers.md"
  cat "$RESULTS/leak.md"
  echo "wrk's own output for every run: bench/results/wrk.log."
} | tee "$RESULTS/latest.md"
cp "$WORK/wrk.log" "$RESULTS/wrk.log"

# The chart: throughput and p99 by connection count, side by side.
for row in "${rows[@]}"; do
  read -r c k_rps _ k_p99 _ _ _ _ _ _ _ _ _ _ n_rps _ n_p99 _ <<<"$row"
  echo "$c $k_rps $n_rps $k_p99 $n_p99"
done >"$WORK/plot.dat"
gnuplot <<PLOT
set terminal pngcairo size 1100,480 noenhanced
set output "$RESULTS/throughput.png"
set multiplot layout 1,2 title "GET /products/{id}, $(nproc) CPUs, wrk on loopback; corral-shop (2 workers) vs nginx (2 workers, static JSON)"
set xlabel "connections"
set key top right
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set title "throughput"
set ylabel "requests/s"
set yrange [0:*]
plot "$WORK/plot.dat" using 2:xtic(1) title "corral-shop", "" using 3 title "nginx"
set title "p99 latency"
set ylabel "ms (log scale)"
set logscale y
set yrange [*:*]
plot "$WORK/plot.dat" using 4:xtic(1) title "corral-shop", "" using 5 title "nginx"
unset multiplot
PLOT
echo "chart: $RESULTS/throughput.png"
