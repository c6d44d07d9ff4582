#!/usr/bin/env bash
# make bench: corral-shop against nginx serving the same JSON (the reference
# for the limit on this machine), at several connection counts, during
# continuous rolls, and the cost of a /metrics scrape at 64 workers.
# Writes the table to stdout and bench/results/latest.md, the chart to
# bench/results/throughput.png.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-5}            # seconds per wrk run
CONNECTIONS=${BENCH_CONNECTIONS:-"50 1000 5000"}
ROLL_CONNECTIONS=${BENCH_ROLL_CONNECTIONS:-1000}
SCRAPE_WORKERS=64
SCRAPES=200
RESULTS=bench/results
WORK=$(mktemp -d /tmp/corral-bench.XXXXXX)
pids=()

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

# 5000 connections need descriptors on both ends: take the hard limit.
ulimit -n "$(ulimit -Hn)"

source scripts/ports.sh

# Polls a URL until it answers 200 (bounded).
wait_http() {
  for _ in $(seq 1 500); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
    sleep 0.02
  done
  echo "bench: $1 never answered 200" >&2
  return 1
}

# Runs wrk and prints: rps p50_ms p99_ms socket_errors non_2xx
run_wrk() {
  local conns=$1 url=$2 out
  out=$(wrk -t2 -c"$conns" -d"${DURATION}s" --timeout 10s --latency \
    -s bench/products.lua "$url" 2>&1)
  echo "$out" >>"$WORK/wrk.log"
  echo "$out" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Socket errors/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    /Non-2xx/ { non2xx = $5 }
    END { printf "%.0f %.2f %.2f %d %d\n", rps, p50, p99, errors + 0, non2xx + 0 }'
}

start_corral() {  # workers, then extra flags; sets CORRAL_PORT ADMIN_PORT CORRAL_PID
  CORRAL_PORT=$(free_port)
  ADMIN_PORT=$(free_port)
  CORRAL_LOG="$WORK/corral-$CORRAL_PORT.log"
  "$BIN" --workers="$1" --listen=127.0.0.1:"$CORRAL_PORT" \
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
events { worker_connections 10000; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport backlog=4096;
    location / {
      default_type application/json;
      return 200 '$JSON';
    }
  }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_http "http://127.0.0.1:$NGINX_PORT/products/1"

rows=()
for c in $CONNECTIONS; do
  read -r n_rps n_p50 n_p99 n_err n_non <<<"$(run_wrk "$c" "http://127.0.0.1:$NGINX_PORT")"
  read -r c_rps c_p50 c_p99 c_err c_non <<<"$(run_wrk "$c" "http://127.0.0.1:$CORRAL_PORT")"
  ratio=$(awk -v a="$c_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  rows+=("$c $c_rps $c_p50 $c_p99 $c_err $c_non $n_rps $n_p50 $n_p99 $n_err $n_non $ratio")
  echo "bench: c=$c corral ${c_rps} rps, nginx ${n_rps} rps, ratio $ratio" >&2
done
stop_corral

# Continuous rolls: SIGHUP, wait for the roll to finish, again, while wrk runs.
start_corral 2 --log-level=info
rolls_file="$WORK/rolls"
(
  n=0
  end=$((SECONDS + DURATION))
  while [ $SECONDS -lt $end ]; do
    kill -HUP "$CORRAL_PID"
    n=$((n + 1))
    for _ in $(seq 1 500); do
      [ "$(grep -c '"msg":"roll finished"' "$CORRAL_LOG")" -ge "$n" ] && break
      sleep 0.01
    done
  done
) &
roller=$!
read -r r_rps r_p50 r_p99 r_err r_non <<<"$(run_wrk "$ROLL_CONNECTIONS" "http://127.0.0.1:$CORRAL_PORT")"
wait "$roller"
rolls=$(grep -c '"msg":"roll finished"' "$CORRAL_LOG" || true)
failed_rolls=$(grep -c '"msg":"roll aborted' "$CORRAL_LOG" || true)
stop_corral

# The cost of a scrape with 64 live workers, each with request series.
start_corral "$SCRAPE_WORKERS"
wrk -t2 -c64 -d2s -s bench/products.lua "http://127.0.0.1:$CORRAL_PORT" >/dev/null
curl -s "http://127.0.0.1:$CORRAL_PORT/nowhere" >/dev/null
series=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -c '^http_server_requests_total' || true)
bytes=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | wc -c)
for _ in $(seq 1 "$SCRAPES"); do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$ADMIN_PORT/metrics"
done | sort -n >"$WORK/scrapes"
scrape_p50=$(awk -v n="$SCRAPES" 'NR == int(n * 0.5) { printf "%.2f", $1 * 1000 }' "$WORK/scrapes")
scrape_p99=$(awk -v n="$SCRAPES" 'NR == int(n * 0.99) { printf "%.2f", $1 * 1000 }' "$WORK/scrapes")
scrape_mean=$(awk '{ s += $1 } END { printf "%.2f", s / NR * 1000 }' "$WORK/scrapes")
stop_corral

# The report.
{
  echo "# corral-shop vs nginx on this machine"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), nginx $(nginx -v 2>&1 | cut -d/ -f2)."
  echo "Command: \`make bench\` (BENCH_DURATION=${DURATION}s per run; wrk -t2 --latency on loopback,"
  echo "GET /products/{random id}; corral-shop --workers=2; nginx 2 workers returning the same JSON)."
  echo
  echo "| connections | corral rps | p50 ms | p99 ms | socket errors | non-2xx | nginx rps | nginx p50 ms | nginx p99 ms | nginx errors | ratio corral/nginx |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r c c_rps c_p50 c_p99 c_err c_non n_rps n_p50 n_p99 n_err n_non ratio <<<"$row"
    echo "| $c | $c_rps | $c_p50 | $c_p99 | $c_err | $c_non | $n_rps | $n_p50 | $n_p99 | $((n_err + n_non)) | $ratio |"
  done
  echo
  echo "During continuous rolls ($ROLL_CONNECTIONS connections, ${DURATION}s, SIGHUP again as soon as each roll finished):"
  echo
  echo "| rolls finished | rolls aborted | corral rps | p50 ms | p99 ms | socket errors | non-2xx |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $rolls | $failed_rolls | $r_rps | $r_p50 | $r_p99 | $r_err | $r_non |"
  echo
  echo "Scrape of /metrics with $SCRAPE_WORKERS live workers ($series request series, $bytes bytes), $SCRAPES sequential scrapes with curl:"
  echo
  echo "| mean ms | p50 ms | p99 ms |"
  echo "|---|---|---|"
  echo "| $scrape_mean | $scrape_p50 | $scrape_p99 |"
} | tee "$RESULTS/latest.md"

# The chart: throughput by connection count.
for row in "${rows[@]}"; do
  read -r c c_rps _ _ _ _ n_rps _ <<<"$row"
  echo "$c $c_rps $n_rps"
done >"$WORK/plot.dat"
gnuplot <<PLOT
set terminal pngcairo size 800,480 noenhanced
set output "$RESULTS/throughput.png"
set title "GET /products/{id}, $(nproc) CPUs, wrk on loopback"
set xlabel "connections"
set ylabel "requests/s"
set yrange [0:*]
set key above
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
plot "$WORK/plot.dat" using 2:xtic(1) title "corral-shop (2 workers)", \
     "" using 3 title "nginx (2 workers, static JSON)"
PLOT
echo "chart: $RESULTS/throughput.png"
