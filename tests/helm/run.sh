#!/usr/bin/env bash
# The Helm chart's tests: helm lint --strict, then helm template over several
# value sets, each rendering validated against the Kubernetes schemas and
# checked for corral's rules (tests/helm/check.mjs).
set -uo pipefail
cd "$(dirname "$0")/../.."
helm=$(scripts/tools.sh) || { echo "cannot get helm"; exit 1; }
(cd tests/helm && npm ci --silent --no-audit --no-fund) || { echo "npm ci failed"; exit 1; }
chart=helm/corral-shop
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
passed=0
failed=0

run() {  # name, then the command
  local name=$1
  shift
  if "$@" >"$out/$name.log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    sed 's/^/     /' "$out/$name.log" | head -40
  fi
}

render_and_check() {  # case, then helm template flags
  local name=$1
  shift
  "$helm" template rel "$chart" "$@" >"$out/$name.yaml" &&
    node tests/helm/check.mjs "$name" "$out/$name.yaml"
}

run lint "$helm" lint --strict "$chart"
run defaults render_and_check defaults
run autoscaling render_and_check autoscaling --set autoscaling.enabled=true
run monitoring-crd render_and_check monitoring-crd --set metrics.serviceMonitor.enabled=true \
  --api-versions monitoring.coreos.com/v1/ServiceMonitor
run monitoring-no-crd render_and_check monitoring-no-crd --set metrics.serviceMonitor.enabled=true
run cpu-1500m render_and_check cpu-1500m --set resources.limits.cpu=1500m
run cpu-500m render_and_check cpu-500m --set resources.limits.cpu=500m
run cpu-none render_and_check cpu-none --set resources.limits.cpu=null
run long-drain render_and_check long-drain --set drainDelaySeconds=10 --set drainTimeoutSeconds=50
run checksum-opt-in render_and_check checksum-opt-in --set restartPodsOnConfigChange=true
# The schema rejects nonsense before anything renders.
run schema-rejects-negative-delay bash -c "! '$helm' template rel '$chart' --set drainDelaySeconds=-1"
run schema-rejects-bad-cpu bash -c "! '$helm' template rel '$chart' --set resources.limits.cpu=lots"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
