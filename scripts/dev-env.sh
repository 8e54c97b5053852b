#!/usr/bin/env bash
# Create (or reuse) the project's virtualenv in .venv and install strata into it; sourced by scripts/demo.sh and
# scripts/test.sh. Needs only python3 (>= 3.11) and access to PyPI.
# STRATA_EXTRAS names the extras to install: empty for the demo (strata alone), "test" for the test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${STRATA_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
EXTRAS="${STRATA_EXTRAS:-}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.strata-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
# Node builds in the test suite use strata's pinned esbuild: install it into the suite's user cache now (tests/conftest.py
# names the folder), while the npm registry is reachable, so the tests run offline. Without npm those tests skip.
if [ "$EXTRAS" = test ] && command -v npm >/dev/null 2>&1; then
  STRATA_CACHE_DIR="${STRATA_CACHE_DIR:-$("$VENV/bin/python" -c 'import os, tempfile
print(os.path.join(tempfile.gettempdir(), f"strata-tests-cache-{os.getuid()}"))')}" \
    "$VENV/bin/python" -m strata.artifacts.esbuild >/dev/null || echo "note: esbuild not installed; Node build tests will skip" >&2
fi
