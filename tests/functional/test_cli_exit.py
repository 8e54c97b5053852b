"""The console script ends without tearing its heap down (``strata.cli.launch._leave``) and loses nothing for it:
every line of output reaches the pipe, the exit code is the command's, and atexit handlers still run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LAUNCH = ("import atexit, sys\n"
          "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
          "from strata.cli.launch import main\n"
          "main()\n")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRATA_NO_DAEMON": "1", "STRATA_HOME": str(cwd / "home")}
    return subprocess.run([sys.executable, "-c", LAUNCH, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_output_exit_code_and_atexit_survive_the_fast_exit(tmp_path: Path) -> None:
    helped = _run(["--help"], tmp_path)
    assert helped.returncode == 0 and helped.stdout.endswith("\n")
    assert "Usage:" in helped.stdout and len(helped.stdout.splitlines()) > 20
    assert "atexit ran" in helped.stderr
    failed = _run(["deploy", "-t", str(tmp_path / "missing.yaml")], tmp_path)
    assert failed.returncode == 1 and "Error:" in failed.stderr and "atexit ran" in failed.stderr
    usage = _run(["deploy", "--no-such-flag"], tmp_path)
    assert usage.returncode == 2 and "atexit ran" in usage.stderr
