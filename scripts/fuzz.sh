#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang under ASan + UBSan (in
# build-fuzz) and runs each for a bounded time over its seed corpus, then
# prints a summary: executions per second, coverage (libFuzzer's cov: and
# ft:) and any crash, with the input that caused it.
#
#   scripts/fuzz.sh              every target for $FUZZ_SECONDS (600)
#   scripts/fuzz.sh --smoke      every target for $FUZZ_SMOKE_SECONDS (20),
#                                from the seeds alone: the run `make test` has
#   scripts/fuzz.sh session ...  only the targets named
#
# Exits 1 when any target crashed (a seed that crashes counts: crashes found
# are kept as seeds, so a regression fails here). New inputs go to
# build-fuzz/corpus/<target> (kept between long runs, not in the tree); a
# crashing input to build-fuzz/crashes/<target>/. Targets run $FUZZ_JOBS at a
# time (default: the number of cores); each is one process, one core.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_FUZZ:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-$(nproc)}
smoke=false
targets=()
for arg in "$@"; do
  case $arg in
    --smoke) smoke=true; seconds=${FUZZ_SMOKE_SECONDS:-20} ;;
    -*) echo "fuzz.sh: unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done

# clang and LLVM's runtime for -fsanitize=fuzzer, only for this path.
"$root/scripts/setup.sh" clang libclang-rt-14-dev

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCORRAL_FUZZ=ON \
    -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
echo "fuzz: building the targets in $build"
cmake --build "$build" -j "$(nproc)" --target fuzz_targets >"$build/build.log" 2>&1 \
  || { cat "$build/build.log"; exit 1; }

if ((${#targets[@]} == 0)); then
  mapfile -t targets < "$build/fuzz_targets.txt"
fi

run_dir=$build/runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$run_dir"

# Runs one target; its result is a line of key=value in $run_dir/<t>.result.
run_target() {
  local t=$1 bin=$build/bin/fuzz_$1 log=$run_dir/$1.log
  local seeds=$root/fuzz/corpus/$t work crashes=$build/crashes/$t/
  if $smoke; then
    work=$run_dir/corpus-$t  # from the seeds alone, every time
  else
    work=$build/corpus/$t
  fi
  mkdir -p "$work" "$crashes"
  # Each seed once, alone, first: a crash found earlier and kept as a seed
  # fails by name. The fuzzing then starts from the seeds that pass, so one
  # known crash does not stop the search for others.
  local passing=$run_dir/seeds-$t regressions=() seed rc=0
  mkdir -p "$passing"
  for seed in "$seeds"/*; do
    [ -f "$seed" ] || continue
    if "$bin" -timeout=10 "$seed" >"$run_dir/$t.seed.log" 2>&1; then
      ln -s "$seed" "$passing/"
    else
      regressions+=("$seed")
      { echo "=== seed $seed crashes:"; cat "$run_dir/$t.seed.log"; } >>"$run_dir/$t.regressions.log"
    fi
  done
  local args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1
    -artifact_prefix="$crashes")
  [ -f "$root/fuzz/$t.dict" ] && args+=(-dict="$root/fuzz/$t.dict")
  "$bin" "${args[@]}" "$work" "$passing" >"$log" 2>&1 || rc=$?
  local last execs per_sec crash
  last=$(grep -a -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  {
    echo "rc=$rc"
    echo "execs=${execs:-${last%%[[:space:]]*}}"
    echo "per_sec=${per_sec:-$(grep -o 'exec/s: [0-9]*' <<<"$last" | cut -d' ' -f2)}"
    echo "cov=$(grep -o 'cov: [0-9]*' <<<"$last" | cut -d' ' -f2)"
    echo "ft=$(grep -o 'ft: [0-9]*' <<<"$last" | cut -d' ' -f2)"
    echo "corp=$(grep -o 'corp: [^ ]*' <<<"$last" | cut -d' ' -f2)"
    echo "crash=$crash"
    echo "regressions=(${regressions[*]})"
  } >"$run_dir/$t.result"
}

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time; logs in $run_dir"
for t in "${targets[@]}"; do
  if [ ! -x "$build/bin/fuzz_$t" ]; then
    echo "fuzz: no target $t" >&2
    exit 2
  fi
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_target "$t" &
done
wait

failed=0
printf '\n%-16s %-7s %10s %8s %6s %7s %-12s %s\n' target result execs exec/s cov ft corpus crash
for t in "${targets[@]}"; do
  # shellcheck disable=SC1090
  (
    rc=1 execs='' per_sec='' cov='' ft='' corp='' crash='' regressions=()
    source "$run_dir/$t.result"
    result=ok
    [ "$rc" = 0 ] || result=CRASH
    ((${#regressions[@]} == 0)) || result=SEED
    printf '%-16s %-7s %10s %8s %6s %7s %-12s %s\n' "$t" "$result" "$execs" \
      "$per_sec" "$cov" "$ft" "$corp" "${crash:-}${regressions[*]}"
    [ "$result" = ok ]
  ) || failed=1
done
if ((failed)); then
  echo
  echo "fuzz: CRASH: fuzzing found an input that crashes the target; SEED: a"
  echo "seed of fuzz/corpus/<target> (a crash found before) crashes it still."
  echo "Logs are in $run_dir; an input reproduces with"
  echo "  $build/bin/fuzz_<target> <input>"
  for t in "${targets[@]}"; do
    for log in "$run_dir/$t.regressions.log" "$run_dir/$t.log"; do
      [ -f "$log" ] || continue
      first=$(grep -a -m1 -E 'ERROR|terminate called|runtime error|what\(\)' \
        "$log" || true)
      [ -n "$first" ] && echo "--- $t: $first"
    done
  done
  exit 1
fi
