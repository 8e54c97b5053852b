#!/usr/bin/env bash
# The README demo, end to end on the local engine (no Docker, no AWS account). It copies examples/layered-app to a
# temp folder and walks through the seed's scenario: deploy, invoke the alias, change the layer's content, deploy
# again (only the function using the layer publishes, and the plan says why), invoke the alias again (version 2
# serves the new layer), then a tag-only change that deploys without publishing anything.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/dev-env.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp -r "$ROOT/examples/layered-app" "$WORK/layered-app"
cd "$WORK/layered-app"
export STRATA_HOME="$WORK/layered-app/.strata"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. strata validate"
strata validate

step "2. strata deploy (build, transform, plan, apply on the embedded engine)"
strata deploy

step "3. invoke HelloFunction:live"
strata invoke HelloFunction:live --stack-name layered-app --event - <<<'{"name": "strata"}'

step "4. change the shared layer's content; strata plan says who publishes and why"
sed -i 's/LAYER_REVISION = 1/LAYER_REVISION = 2/' layers/shared/python/shared_greeting.py
strata plan

step "5. strata deploy: HelloFunction publishes version 2, PlainFunction keeps version 1"
strata deploy

step "6. invoke HelloFunction:live again: version 2 serves the new layer"
strata invoke HelloFunction:live --stack-name layered-app --event - <<<'{"name": "strata"}'

step "7. a tag-only change: the deploy succeeds and publishes no version"
sed -i 's/      app: layered-app/      app: layered-app\n      team: blue/' template.yaml
strata deploy

step "8. strata describe: versions and aliases"
strata describe
