# Sourced by bench/run.sh, bench/any_app.sh, bench/proxy.sh,
# bench/shoppers.sh, bench/leak.sh and bench/roll_cost.sh: the load
# generators, their merged results, the Node store's front ends, the
# servers' CPU time and CPU groups. Expects WORK (a scratch
# directory), DURATION (seconds), CONN_STATS (the built bench/conn_stats.cc)
# and CORRAL (the corral binary) where they are used.

# pm2 from npm, fetched once into .tools/ (ignored by git); sets PM2.
ensure_pm2() {
  PM2=.tools/pm2/node_modules/.bin/pm2
  if [ ! -x "$PM2" ]; then
    mkdir -p .tools/pm2
    npm install --silent --no-audit --no-fund --prefix .tools/pm2 pm2@5 >&2
  fi
}

# One process stops at 20,000 descriptors: above this many connections the
# load is split over two processes, one to 127.0.0.1 and one to 127.0.0.2
# (the servers listen on every address), which also doubles the ephemeral
# ports available.
SPLIT_ABOVE=10000

# Polls a URL until it answers 200 (bounded).
wait_http() {
  for _ in $(seq 1 500); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
    sleep 0.02
  done
  echo "bench: $1 never answered 200" >&2
  return 1
}

# Sleeps until SECONDS reaches $1.
sleep_until() {
  while [ "$SECONDS" -lt "$1" ]; do sleep 0.1; done
}

# Waits (at most 60 s) until the file has at least n lines matching pattern:
# how the bench sees a roll finish in a runner's log.
wait_lines() {
  local file=$1 pattern=$2 n=$3
  for _ in $(seq 1 6000); do
    [ "$(grep -c "$pattern" "$file" 2>/dev/null || true)" -ge "$n" ] && return 0
    sleep 0.01
  done
  return 1
}

# Starts a runner of the Node store in the background, its output in $1 (the
# rest is its command); sets RUNNER_PID, adds it to pids (the caller's
# cleanup list) and waits until the store answers on 127.0.0.1:$PORT.
start_runner() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  RUNNER_PID=$!
  pids+=("$RUNNER_PID")
  wait_http "http://127.0.0.1:$PORT/products/1"
}

# Rolls a runner by SIGHUP: returns once its log ($2) has n ($4) lines
# matching the pattern ($3) that says a roll finished.
roll_by_sighup() {
  kill -HUP "$1"
  wait_lines "$2" "$3" "$4"
}

# The Node store's front ends, shared by bench/proxy.sh and bench/shoppers.sh.
# Each listens on every address (for a second load process on 127.0.0.2)
# and on $PORT; each expects the caller's pids array (its cleanup list).

# corral's proxy mode in front of `nodes` copies of the store it starts, each
# on a port of its own; log in $1, admin port $2, then the copies, then
# flags added to the command line. Sets RUNNER_PID.
start_corral_proxy() {
  local log=$1 admin=$2 nodes=$3
  shift 3
  start_runner "$log" "$CORRAL" --listen=0.0.0.0:"$PORT" \
    --admin=127.0.0.1:"$admin" --proxy --workers="$nodes" --drain-delay=0s \
    --log-level=info "$@" -- node examples/node-store/server.js
}

# nginx (2 workers, least_conn, keepalive 64 to the copies) in front of
# `nodes` copies of the store it does not start, one per port, with its
# prefix directory in $1 (nginx.conf, logs). Sets NGINX_PID and NGINX_COPIES
# (the copies' pids).
start_nginx_proxy() {
  local dir=$1 nodes=$2 servers='' p
  NGINX_COPIES=()
  for _ in $(seq 1 "$nodes"); do
    p=$(free_port)
    PORT=$p node examples/node-store/server.js >"$dir-node-$p.log" 2>&1 &
    NGINX_COPIES+=($!)
    pids+=($!)
    wait_http "http://127.0.0.1:$p/products/1"
    servers+="    server 127.0.0.1:$p;"$'\n'
  done
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 19000; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream store {
    least_conn;
$servers    keepalive 64;
  }
  server {
    listen $PORT reuseport backlog=4096;
    location / {
      proxy_pass http://store;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  pids+=("$NGINX_PID")
  wait_http "http://127.0.0.1:$PORT/products/1"
}

# Stops a server and waits for it; one that already exited (crashed under
# the load) is not an error, so the table is still written.
stop_server() {
  kill -TERM "$1" 2>/dev/null || echo "bench: pid $1 had already exited" >&2
  wait "$1" || true
}

# The hosts and per-process connection counts for a total: "host conns" lines.
load_split() {
  local conns=$1
  if [ "$conns" -gt "$SPLIT_ABOVE" ]; then
    echo "127.0.0.1 $((conns / 2))"
    echo "127.0.0.2 $((conns - conns / 2))"
  else
    echo "127.0.0.1 $conns"
  fi
}

# Merges wrk reports (bench/report.lua) into one line:
#   rps p50_ms p99_ms max_ms socket_errors non_2xx requests c/r/w/t
# where the last is the socket errors by kind: connect/read/write/timeout.
# Percentiles of the union come from each process's percentile grid,
# weighted by its request count.
merge_wrk_reports() {
  awk '
    FNR == 1 { f++ }
    $1 == "requests" { n[f] = $2; total += $2 }
    $1 == "duration_us" && $2 > dur { dur = $2 }
    $1 == "errors" { ec += $2; er += $3; ew += $4; et += $5 }
    $1 == "status" { non2xx += $2 }
    $1 == "p" { k = ++points[f]; pct[f, k] = $2; us[f, k] = $3; cand[$3] = 1 }
    # The share of all requests answered within x microseconds.
    function cdf(x,   i, k, share, best) {
      share = 0
      for (i = 1; i <= f; i++) {
        best = 0
        for (k = 1; k <= points[i]; k++) if (us[i, k] <= x) best = pct[i, k]
        share += n[i] * best / 100
      }
      return total > 0 ? share / total : 0
    }
    function quantile(q,   x, best) {
      best = -1
      for (x in cand) if ((best < 0 || x + 0 < best) && cdf(x + 0) >= q) best = x + 0
      return best < 0 ? 0 : best
    }
    END {
      printf "%.0f %.2f %.2f %.2f %d %d %d %d/%d/%d/%d\n",
        (dur > 0 ? total / (dur / 1e6) : 0),
        quantile(0.5) / 1000, quantile(0.99) / 1000, quantile(1) / 1000,
        ec + er + ew + et, non2xx, total, ec, er, ew, et
    }' "$@"
}

# Runs wrk with `conns` connections against `port` with a Lua script (its
# done hook writes the report) and prints the merged line (see above).
# wrk's own output goes to $WORK/wrk.log under `label`.
run_wrk() {
  local conns=$1 port=$2 script=$3 label=$4 reports=() loaders=() i=0 host n
  while read -r host n; do
    i=$((i + 1))
    echo "== $label: wrk -c$n to $host ($script)" >>"$WORK/wrk.log"
    WRK_REPORT="$WORK/wrk-$i.report" wrk -t2 -c"$n" -d"${DURATION}s" \
      --timeout 10s --latency -s "$script" "http://$host:$port" \
      >>"$WORK/wrk.log" 2>&1 &
    loaders+=($!)
    reports+=("$WORK/wrk-$i.report")
  done < <(load_split "$conns")
  wait "${loaders[@]}" || true
  merge_wrk_reports "${reports[@]}"
}

# The per-connection view wrk cannot give: bench/conn_stats.cc holds the same
# number of keep-alive connections for the same time and prints
#   min_requests median_requests max_requests worst_wait_ms client_errors
# over all connections (worst wait: the longest any one connection waited
# for an answer, one still pending at the end included).
run_conn_stats() {
  local conns=$1 port=$2 i=0 host n outs=() loaders=()
  while read -r host n; do
    i=$((i + 1))
    "$CONN_STATS" "$host" "$port" "$n" "$DURATION" 10 "$WORK/conns-$i" \
      >"$WORK/conns-$i.summary" &
    loaders+=($!)
    outs+=("$WORK/conns-$i")
  done < <(load_split "$conns")
  wait "${loaders[@]}" || true
  local errors
  errors=$(cat "${outs[@]/%/.summary}" | awk '{ e += $2 + $3 + $4 + $5 } END { print e + 0 }')
  cat "${outs[@]}" | sort -n -k1,1 | awk -v errors="$errors" '
    { req[NR] = $1; if ($2 > worst) worst = $2 }
    END {
      printf "%d %d %d %.1f %d\n", req[1], req[int((NR + 1) / 2)], req[NR],
        worst / 1000, errors
    }'
}

# Clock ticks of CPU a server has used: "user system" for the process, the
# children it has reaped (retired workers) and its live children.
cpu_ticks() {
  local pid=$1 children
  children=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
  for p in "$pid" $children; do
    # Fields after the command name: utime is 14, stime 15, cutime 16,
    # cstime 17 of the whole line.
    sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null || true
  done | awk '
    NR == 1 { u += $12 + $14; s += $13 + $15; next }
    { u += $12; s += $13 }
    END { print u + 0, s + 0 }'
}

# CPU per request in microseconds, "user system", from two cpu_ticks samples.
cpu_per_request() {
  local before=$1 after=$2 requests=$3
  read -r u0 s0 <<<"$before"
  read -r u1 s1 <<<"$after"
  awk -v du=$((u1 - u0)) -v ds=$((s1 - s0)) -v n="$requests" \
    -v hz="$(getconf CLK_TCK)" 'BEGIN {
      if (n == 0) { print "- -"; exit }
      printf "%.1f %.1f\n", du * 1e6 / hz / n, ds * 1e6 / hz / n }'
}

# The server and its load in CPU groups of their own, with equal weights, as
# a server and its clients on two machines: when both are busy each gets
# half the CPUs, however many processes either runs. Without them, the
# scheduler shares the CPUs per process, so a server that starts a third
# process (a roll's new worker beside the old) takes CPU from the load
# generator and the run measures the generator slowing down. Needs root and
# a writable cpu controller (cgroup v1's cpu hierarchy, or v2 with cpu in
# the root's subtree_control). Sets SERVER_CGROUP and LOAD_CGROUP (empty
# when there are none) and CPU_GROUPS (what was done, for the report), and
# moves this shell into the load's: start the server with
# in_server_cgroup. The caller's cleanup calls remove_cpu_cgroups.
setup_cpu_cgroups() {
  SERVER_CGROUP= LOAD_CGROUP=
  local root
  if [ -w /sys/fs/cgroup/cpu/cgroup.procs ]; then
    root=/sys/fs/cgroup/cpu
    CGROUP_BEFORE=$root$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' /proc/self/cgroup)
  elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null &&
    [ -w /sys/fs/cgroup/cgroup.procs ]; then
    root=/sys/fs/cgroup
    CGROUP_BEFORE=$root$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
  else
    CPU_GROUPS="none: server and load share the CPUs process by process"
    return 0
  fi
  SERVER_CGROUP=$root/corral-bench-server.$$
  LOAD_CGROUP=$root/corral-bench-load.$$
  mkdir -p "$SERVER_CGROUP" "$LOAD_CGROUP"
  echo $$ >"$LOAD_CGROUP/cgroup.procs"
  CPU_GROUPS="server and load apart, equal weights ($root)"
}

# Becomes a command run in the server's CPU group (as it is without one).
# Call it in the background, `in_server_cgroup CMD... &`: it execs, so $!
# is the command's PID.
in_server_cgroup() {
  if [ -n "$SERVER_CGROUP" ]; then
    exec sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$SERVER_CGROUP" "$@"
  fi
  exec "$@"
}

# Moves this shell back where it was and removes the groups (their
# processes gone).
remove_cpu_cgroups() {
  [ -n "$LOAD_CGROUP" ] || return 0
  echo $$ >"$CGROUP_BEFORE/cgroup.procs" 2>/dev/null || true
  rmdir "$SERVER_CGROUP" "$LOAD_CGROUP" 2>/dev/null || true
}
