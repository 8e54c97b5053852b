"""``strata serve`` stops cleanly on SIGINT/SIGTERM from the moment it advertises itself in ``server.json``, also
before its event loop has installed the loop's own handlers (a Ctrl+C right after start used to raise
KeyboardInterrupt: exit status 1 and a traceback; a test of the CLI daemon caught it now and then)."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The signal arrives in ``on_ready``: after server.json is written, before ``HttpServer.run`` starts its loop.
PROGRAM = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from strata.local.server.app import LambdaApp
    from strata.local.server.model import service_spec
    from strata.local.server.runner import serve

    home = Path(sys.argv[1])
    seen = []

    def ready(url):
        seen.append((home / "server.json").exists())
        os.kill(os.getpid(), int(sys.argv[2]))

    serve(LambdaApp(lambda operation, params: {}, service_spec()), home, "127.0.0.1", 0, on_ready=ready)
    print("advertised" if seen == [True] else "not advertised", "stopped cleanly")
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_just_after_start_stops_the_server_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(tmp_path), str(int(sig))], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "advertised stopped cleanly"
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "server.json").exists()


def test_the_previous_handlers_are_back_after_serving(tmp_path: Path) -> None:
    program = PROGRAM.replace('print("advertised"',
                              'print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, '
                              'signal.getsignal(signal.SIGTERM) == signal.SIG_DFL); print("advertised"')
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path), str(int(signal.SIGTERM))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "True True"
