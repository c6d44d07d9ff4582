# Shared by the chart's test scripts (tests/helm/run.sh, tests/alerts/run.sh):
# helm and the Node packages, the chart, a scratch folder, and `run`, which
# runs one named check and counts it. Source it from the repository root.
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
    sed 's/^/     /' "$out/$name.log" | head -60
  fi
}
