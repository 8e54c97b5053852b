#!/usr/bin/env bash
# The README demo, end to end on the local engine (no Docker, no AWS account). It copies examples/layered-app to a
# temp folder and walks through the seed's scenario: deploy, invoke the alias, change the layer's content, deploy
# again (only the function using the layer publishes, and the plan says why), invoke the alias again (version 2
# serves the new layer), then a tag-only change that deploys without publishing anything. Last, examples/http-api:
# an HTTP API that `strata serve` answers on its own local port, through the function's alias.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/dev-env.sh"
WORK="$(mktemp -d)"
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
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

step "9. an HTTP API: deploy examples/http-api, strata serve answers it on its own port (one HTTP call)"
cp -r "$ROOT/examples/http-api" "$WORK/http-api"
cd "$WORK/http-api"
export STRATA_HOME="$WORK/http-api/.strata"
strata deploy --no-verify
strata serve --port 0 >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 200); do grep -q "HTTP API http-api/HttpApi: " "$WORK/serve.log" && break; sleep 0.05; done
URL="$(grep -o 'HTTP API http-api/HttpApi: http://[0-9.:]*/' "$WORK/serve.log" | grep -o 'http://.*')"
echo "curl ${URL}hello/strata"
curl -s "${URL}hello/strata"; echo
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
