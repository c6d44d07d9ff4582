#!/usr/bin/env bash
# What a roll costs corral-shop at the seed's scale: CONNECTIONS keep-alive
# connections of GET /products/{id} (bench/products.lua), STEADY s without
# rolls, then ROLLING s with 3 SIGHUP rolls spread through it (roll N at
# N * ROLLING / 4 s, or when roll N-1 finished). Prints both wrk lines
# (merged as bench/lib.sh's run_wrk does), the rolling/steady ratios of
# throughput and p99, and the kernel's listen-queue overflows in each phase
# (nstat, machine-wide: run it on a quiet machine). Issue 25's target while
# rolling: p99 <= 1.5x steady, throughput >= 0.8x, 0 errors. corral and wrk
# run in CPU groups of their own where the machine allows
# (bench/lib.sh's setup_cpu_cgroups): a roll's extra worker then takes its
# CPU from corral's share, as in a pod, not from the clients'.
#
#   bench/roll_cost.sh [BIN]   (default: build-release/bin/corral-shop)
# Environment: BENCH_ROLL_CONNECTIONS [28000], BENCH_ROLL_STEADY [12],
# BENCH_ROLL_ROLLING [16].
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${BENCH_ROLL_CONNECTIONS:-28000}
STEADY=${BENCH_ROLL_STEADY:-12}
ROLLING=${BENCH_ROLL_ROLLING:-16}
BIN=${1:-}
if [ -z "$BIN" ]; then
  scripts/setup.sh wrk >/dev/null
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j "$(nproc)" --target corral-shop >/dev/null
  BIN=build-release/bin/corral-shop
fi
WORK=$(mktemp -d /tmp/corral-roll-cost.XXXXXX)
ulimit -n "$(ulimit -Hn)"
source scripts/ports.sh
source bench/lib.sh
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null
  remove_cpu_cgroups; rm -rf "$WORK"' EXIT
setup_cpu_cgroups

# The kernel's count of connections its listen queues had no room for.
overflows() {
  nstat -az TcpExtListenOverflows 2>/dev/null |
    awk '$1 == "TcpExtListenOverflows" { n = $2 } END { print n + 0 }'
}

PORT=$(free_port)
ADMIN=$(free_port)
in_server_cgroup "$BIN" --workers=2 --listen=0.0.0.0:"$PORT" --admin=127.0.0.1:"$ADMIN" \
  --drain-delay=0s >"$WORK/corral.log" 2>&1 &
CORRAL_PID=$!
pids+=("$CORRAL_PID")
wait_http "http://127.0.0.1:$ADMIN/readyz"

before=$(overflows)
DURATION=$STEADY
steady=$(run_wrk "$CONNECTIONS" "$PORT" bench/products.lua "roll cost: steady")
mid=$(overflows)
DURATION=$ROLLING
(
  start=$SECONDS
  for n in 1 2 3; do
    sleep_until $((start + n * ROLLING / 4))
    roll_by_sighup "$CORRAL_PID" "$WORK/corral.log" '"msg":"roll finished"' "$n"
  done
) &
roller=$!
rolling=$(run_wrk "$CONNECTIONS" "$PORT" bench/products.lua "roll cost: rolling")
wait "$roller" || true
after=$(overflows)

echo "steady:  $steady"
echo "rolling: $rolling"
echo "(rps p50_ms p99_ms max_ms socket_errors non_2xx requests c/r/w/t)"
echo "rolls finished: $(grep -c '"msg":"roll finished"' "$WORK/corral.log" || true)"
awk -v s="$steady" -v r="$rolling" 'BEGIN {
  split(s, a, " "); split(r, b, " ");
  printf "rolling/steady: throughput %.2f, p99 %.2f\n", b[1] / a[1], b[3] / a[3] }'
echo "listen-queue overflows: steady $((mid - before)), rolling $((after - mid))"
echo "cpu groups: $CPU_GROUPS"
