"""The CLI stays light where it must: ``strata --help`` imports neither boto3 nor aws-sam-translator, and every verb
is listed without importing its module."""
from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, sys
sys.argv = ["strata", "--help"]
from strata.cli.main import main
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"boto3", "botocore", "samtranslator", "rich", "sqlite3"})
verbs = sorted(m for m in sys.modules
               if m.startswith("strata.cli.") and m not in ("strata.cli.main", "strata.cli.options"))
sys.stderr.write(json.dumps({"heavy": heavy, "verbs": verbs}))
"""


def test_help_imports_no_heavy_dependency() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    found = json.loads(done.stderr.strip().splitlines()[-1])
    assert found == {"heavy": [], "verbs": []}
    for verb in ("deploy", "plan", "transform", "validate", "build", "invoke", "logs", "serve", "verify"):
        assert f"  {verb} " in done.stdout
