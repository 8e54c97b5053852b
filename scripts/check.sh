#!/usr/bin/env bash
# Static checks: mypy over src/strata and ruff over src, tests and bench (settings in pyproject.toml).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STRATA_EXTRAS=test source "$ROOT/scripts/dev-env.sh"
cd "$ROOT"
echo "== mypy"
python -m mypy
echo "== ruff"
python -m ruff check src tests bench
