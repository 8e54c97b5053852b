#!/usr/bin/env bash
# Run the whole test suite (installs everything first on a fresh machine). Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/dev-env.sh"
cd "$ROOT"
exec python -m pytest -n 2 -q "$@"
