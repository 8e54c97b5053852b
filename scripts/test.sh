#!/usr/bin/env bash
# Run the whole test suite (installs strata with its test extras first on a fresh machine). Extra arguments go to
# pytest. Type checks and lint run in .ci/run (and `bash scripts/check.sh`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STRATA_EXTRAS=test source "$ROOT/scripts/dev-env.sh"
cd "$ROOT"
exec python -m pytest -n 2 -q "$@"
