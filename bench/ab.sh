#!/usr/bin/env bash
# make bench-ab REF=<commit>: this tree against a reference commit, both
# built the same way (Release) in the same run, for a change that must not
# cost speed. At BENCH_AB_CONNECTIONS (1,000) connections: corral-shop
# (GET /products/1), and corral --proxy in front of the Node store
# (examples/node-store/server.js). BENCH_AB_PAIRS pairs of BENCH_DURATION-
# second wrk runs, reference and this tree back to back, the order swapped
# between pairs. Per run: requests per second, and the send-class system
# calls (send, sendto, sendmsg, write, writev) corral's workers made per
# request, counted by perf. Prints one line per run and the median ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

REF=${REF:?usage: make bench-ab REF=<commit>}
DURATION=${BENCH_DURATION:-10}
PAIRS=${BENCH_AB_PAIRS:-3}
CONNS=${BENCH_AB_CONNECTIONS:-1000}
WORK=$(mktemp -d /tmp/corral-ab.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  git worktree remove --force "$WORK/ref" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

scripts/setup.sh wrk linux-perf >/dev/null
ulimit -n "$(ulimit -Hn)"
source scripts/ports.sh
source bench/lib.sh

build() {  # source dir, build dir
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    >/dev/null
  cmake --build "$2" -j "$(nproc)" --target corral corral-shop >/dev/null
}
git worktree add --detach "$WORK/ref" "$REF" >/dev/null 2>&1
echo "bench-ab: building $REF and this tree (Release)" >&2
build "$WORK/ref" "$WORK/ref-build"
build . build-release

# Send-class system calls of the master's children named $2, for the whole
# load run and a second after it (an idle server makes none): perf stat
# over their pids.
SENDS='syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_writev,syscalls:sys_enter_write'
count_sends() {
  local master=$1 comm=$2 pids
  pids=$(for c in $(cat /proc/"$master"/task/*/children); do
    [ "$(cat /proc/"$c"/comm 2>/dev/null)" = "$comm" ] && echo "$c"
  done | paste -sd,)
  perf stat -x, -e "$SENDS" -p "$pids" -- sleep "$((DURATION + 1))" 2>&1 |
    awk -F, '{ n += $1 } END { print n + 0 }'
}

# One run: starts the server from bin dir $2 in shape $1, loads it, prints
# "rps sends_per_request".
run() {
  local shape=$1 bin=$2 port admin log wrk sends requests
  port=$(free_port)
  admin=$(free_port)
  log="$WORK/$shape-$port.log"
  case $shape in
    shop)
      "$bin/corral-shop" --workers=2 --listen=0.0.0.0:"$port" \
        --admin=127.0.0.1:"$admin" --drain-delay=0s --log-level=warn \
        >"$log" 2>&1 &
      ;;
    proxy)
      "$bin/corral" --proxy --workers=2 --listen=0.0.0.0:"$port" \
        --admin=127.0.0.1:"$admin" --drain-delay=0s --log-level=warn \
        -- node examples/node-store/server.js >"$log" 2>&1 &
      ;;
  esac
  local master=$!
  pids+=("$master")
  wait_http "http://127.0.0.1:$port/products/1"
  local comm=corral-shop
  [ "$shape" = proxy ] && comm=corral
  count_sends "$master" "$comm" >"$WORK/sends" &
  local counter=$!
  sleep 0.3  # perf attaches before the load starts
  wrk=$(run_wrk "$CONNS" "$port" bench/products.lua "ab $shape $bin")
  wait "$counter"
  sends=$(cat "$WORK/sends")
  kill -TERM "$master"
  wait "$master" || true
  requests=$(echo "$wrk" | cut -d' ' -f7)
  awk -v rps="$(echo "$wrk" | cut -d' ' -f1)" -v s="$sends" -v n="$requests" \
    'BEGIN { printf "%.0f %.2f\n", rps, n ? s / n : 0 }'
}

echo "bench-ab: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $CONNS connections, ${DURATION}s runs, $PAIRS pairs; reference $(git rev-parse --short "$REF"), this tree $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
for shape in shop proxy; do
  ratios=()
  for pair in $(seq 1 "$PAIRS"); do
    if ((pair % 2)); then order="ref new"; else order="new ref"; fi
    for side in $order; do
      bin=build-release/bin
      [ "$side" = ref ] && bin="$WORK/ref-build/bin"
      read -r rps sends <<<"$(run "$shape" "$bin")"
      echo "$shape pair $pair $side: $rps rps, $sends sends per request"
      eval "${side}_rps=$rps"
    done
    ratios+=("$(awk -v a="$new_rps" -v b="$ref_rps" 'BEGIN { printf "%.3f", a / b }')")
  done
  printf '%s\n' "${ratios[@]}" | sort -n |
    awk -v shape="$shape" '{ r[NR] = $1 }
      END { printf "%s: throughput this/reference, median of %d pairs: %s (pairs: ", shape, NR, r[int((NR + 1) / 2)];
            for (i = 1; i <= NR; i++) printf "%s%s", r[i], i < NR ? " " : ")\n" }'
done
