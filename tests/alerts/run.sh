#!/usr/bin/env bash
# The chart's alerts: the PrometheusRule rendered by `helm template`, checked
# with `promtool check rules` and unit-tested with `promtool test rules`
# (corral_test.yaml: every alert firing and not firing).
set -uo pipefail
cd "$(dirname "$0")/../.."
scripts/setup.sh >/dev/null || { echo "setup failed"; exit 1; }  # promtool: the prometheus package
source tests/helm/lib.sh

rules() {  # dir, then helm template flags: renders dir/rules.yaml
  local dir=$1
  shift
  mkdir -p "$dir" &&
    "$helm" template rel "$chart" --namespace default \
      --set metrics.prometheusRule.enabled=true \
      --api-versions monitoring.coreos.com/v1/PrometheusRule "$@" >"$dir/rendered.yaml" &&
    node tests/helm/extract-rules.mjs \
      "$dir/rendered.yaml" "$dir/rules.yaml"
}

run render-default rules "$out/default"
run check-default promtool check rules "$out/default/rules.yaml"
cp tests/alerts/corral_test.yaml "$out/default/"
run test-default promtool test rules "$out/default/corral_test.yaml"
# workers=auto: each pod reports the count it keeps.
run render-auto rules "$out/auto" --set workers=auto
run check-auto promtool check rules "$out/auto/rules.yaml"
cp tests/alerts/workers_auto_test.yaml "$out/auto/"
run test-auto promtool test rules "$out/auto/workers_auto_test.yaml"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
