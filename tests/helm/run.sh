#!/usr/bin/env bash
# The Helm chart's tests: helm lint --strict, then helm template over several
# value sets, each rendering validated against the Kubernetes schemas and
# checked for corral's rules (tests/helm/check.mjs).
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/helm/lib.sh

render_and_check() {  # case, then helm template flags
  local name=$1
  shift
  "$helm" template rel "$chart" "$@" >"$out/$name.yaml" &&
    node tests/helm/check.mjs "$name" "$out/$name.yaml"
}

rejects() {  # what the error must say, then helm template flags
  local want=$1
  shift
  if "$helm" template rel "$chart" "$@" >"$out/rejected.log" 2>&1; then
    echo "rendered, but should have failed with: $want"
    return 1
  fi
  grep -q -- "$want" "$out/rejected.log" || { cat "$out/rejected.log"; return 1; }
}

run lint "$helm" lint --strict "$chart"
run defaults render_and_check defaults
run autoscaling render_and_check autoscaling --set autoscaling.enabled=true
run in-flight render_and_check in-flight --set autoscaling.enabled=true \
  --set autoscaling.targetInFlightRequests=8 --set autoscaling.targetCPUUtilizationPercentage=null \
  --set autoscaling.behavior.scaleDown.stabilizationWindowSeconds=600
run in-flight-and-cpu render_and_check in-flight-and-cpu --set autoscaling.enabled=true \
  --set autoscaling.targetInFlightRequests=12.5 --set autoscaling.targetCPUUtilizationPercentage=80
run keda render_and_check keda --set autoscaling.keda.enabled=true \
  --api-versions keda.sh/v1alpha1/ScaledObject
run monitoring-crd render_and_check monitoring-crd --set metrics.serviceMonitor.enabled=true \
  --set metrics.scrapeAnnotations=false --api-versions monitoring.coreos.com/v1/ServiceMonitor
run monitoring-no-crd render_and_check monitoring-no-crd --set metrics.serviceMonitor.enabled=true
run rules-crd render_and_check rules-crd --set metrics.prometheusRule.enabled=true \
  --api-versions monitoring.coreos.com/v1/PrometheusRule
run rules-no-crd render_and_check rules-no-crd --set metrics.prometheusRule.enabled=true
run dashboard render_and_check dashboard --set metrics.grafanaDashboard.enabled=true \
  --set metrics.grafanaDashboard.annotations.grafana_folder=corral
run all-options render_and_check all-options -f tests/helm/values/all-options.yaml
run any-app render_and_check any-app -f tests/helm/values/any-app.yaml
run proxy render_and_check proxy -f tests/helm/values/proxy.yaml
run name-override render_and_check name-override --set nameOverride=web --set partOf=shop
run cpu-none render_and_check cpu-none --set resources.limits.cpu=null
run workers-pinned render_and_check workers-pinned --set workers=3
run long-drain render_and_check long-drain --set drainDelaySeconds=10 --set drainTimeoutSeconds=50
run checksum-opt-in render_and_check checksum-opt-in --set restartPodsOnConfigChange=true
run no-tmp render_and_check no-tmp --set tmpVolume.enabled=false
# Every flag corral reads from the environment can be set from the chart
# (but the init shape's own, and the chart always listens).
# The flags come from the table itself, as `corral --help` prints it
# (tests/flag_table_test.cc checks values.yaml against the same table).
every_flag_settable() {
  local corral=${CORRAL_BIN:-build/bin/corral} names missing
  names=$("$corral" --help | grep -o 'env CORRAL_[A-Z_]*$' | cut -d' ' -f2 | sort -u) ||
    { echo "cannot run $corral --help"; return 1; }
  [ "$(echo "$names" | wc -w)" -ge 20 ] || { echo "too few flags in --help: $names"; return 1; }
  missing=$(echo "$names" |
    grep -vxE 'CORRAL_(PROCESS_GROUP|SUCCESS_EXIT_CODES|REWRITE_SIGNAL|PARENT_DEATH_SIGNAL)' |
    while read -r name; do
      grep -q "$name" "$chart/templates/deployment.yaml" || echo "$name"
    done)
  [ -z "$missing" ] || { echo "not settable from the chart: $missing"; return 1; }
}
run every-flag-settable every_flag_settable
# The schema (and the templates' own checks) reject nonsense before anything
# renders.
run schema-rejects-negative-delay rejects "drainDelaySeconds: Must be greater than or equal to 0" --set drainDelaySeconds=-1
run schema-rejects-bad-cpu rejects "resources.limits.cpu: Does not match pattern" --set resources.limits.cpu=lots
run schema-rejects-unknown-key rejects "Additional property replicaCont is not allowed" --set replicaCont=3
run schema-rejects-unknown-nested-key rejects "Additional property enabeld is not allowed" --set metrics.serviceMonitor.enabeld=true
run schema-rejects-unknown-corral-flag rejects "Additional property drainDelay is not allowed" --set corral.drainDelay=5s
run schema-rejects-bad-duration rejects "corral.keepaliveTimeout: Does not match pattern" --set corral.keepaliveTimeout=soon
run schema-rejects-bad-ready rejects "corral.ready: corral.ready must be one of" --set corral.ready=soon
run schema-rejects-relative-socket-dir rejects "corral.appSocketDir: Does not match pattern" --set corral.appSocketDir=tmp
run schema-rejects-relative-route rejects "corral.routes.0: Does not match pattern" --set 'corral.routes[0]=products'
run schema-rejects-bad-stop-signal rejects "corral.stopSignal: Does not match pattern" --set corral.stopSignal=term
run schema-rejects-bad-log-level rejects "corral.logLevel: corral.logLevel must be one of" --set corral.logLevel=loud
run schema-rejects-bad-workers rejects "workers: Must validate one and only one schema" --set workers=many
run schema-rejects-zero-in-flight rejects "autoscaling.targetInFlightRequests" --set autoscaling.targetInFlightRequests=0
run schema-rejects-bad-pull-policy rejects "image.pullPolicy: image.pullPolicy must be one of" --set image.pullPolicy=Sometimes
run rejects-autoscaling-without-metric rejects "needs targetCPUUtilizationPercentage, targetInFlightRequests or both" --set autoscaling.enabled=true \
  --set autoscaling.targetCPUUtilizationPercentage=null
run rejects-keda-without-crd rejects "needs KEDA's CRDs" --set autoscaling.keda.enabled=true

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
