#!/usr/bin/env bash
# The README demo, end to end on the local engine: copies examples/layered-app to a temp folder and walks through
# the seed's scenario (a layer content change republishes exactly the functions that use it; a tag change does not).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/dev-env.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp -r "$ROOT/examples/layered-app" "$WORK/app"
cd "$WORK/app"
export STRATA_HOME="$WORK/app/.strata"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "strata validate"
strata validate -t template.yaml

step "strata build (deterministic, cached zips)"
strata build -t template.yaml

step "strata transform --explain: each function's version fingerprint"
strata transform -t template.yaml --explain

step "change the layer's content, explain again: only HelloFunction gets a new Version id"
sed -i 's/LAYER_REVISION = 1/LAYER_REVISION = 2/' layers/shared/python/shared_greeting.py
strata transform -t template.yaml --explain

step "a tag-only change: no Version id changes"
sed -i 's/app: layered-app/app: layered-app\n      team: blue/' template.yaml
strata transform -t template.yaml --explain
