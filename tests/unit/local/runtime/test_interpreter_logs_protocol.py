"""Interpreter choice (and its cache), the log store, the frame format."""
from __future__ import annotations

import json
import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from strata.local.runtime import interpreter
from strata.local.runtime.logs import LogStore, report_line
from strata.local.runtime.protocol import FrameBuffer, frame, read_message
from strata.model.python import PythonSettings


def _script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def fake_path(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_matching_launcher_resolved_to_real_binary_and_cached(tmp_path, fake_path):
    runtime = "python%d.%d" % sys.version_info[:2]
    calls = tmp_path / "calls"
    _script(fake_path, runtime, f'echo x >> "{calls}"\nexec "{sys.executable}" "$@"\n')
    chosen = interpreter.resolve(runtime, tmp_path / "home")
    assert chosen.path == os.path.realpath(sys.executable)
    assert chosen.version == sys.version_info[:2]
    assert f"{runtime} from PATH" in chosen.note
    cache = json.loads((tmp_path / "home/cache/interpreters.json").read_text())
    assert list(cache.values())[0]["executable"] == chosen.path
    interpreter._memo.clear()
    assert interpreter.resolve(runtime, tmp_path / "home") == chosen
    assert calls.read_text().count("x") == 1                  # the launcher ran once: the disk cache answered


def test_broken_launcher_is_skipped_and_said(tmp_path, fake_path):
    _script(fake_path, "python3.99", 'echo "pyenv: python3.99: command not found" >&2\nexit 127\n')
    found = interpreter.choose("python3.99", tmp_path / "home", PythonSettings())
    assert found.interpreter is None
    assert f"PATH {fake_path / 'python3.99'} does not run (pyenv: python3.99: command not found)" in found.problem


def test_wrong_version_and_missing(tmp_path, fake_path):
    _script(fake_path, "python3.98", f'exec "{sys.executable}" "$@"\n')
    assert "is Python %d.%d" % sys.version_info[:2] in interpreter.choose("python3.98", tmp_path / "h",
                                                                          PythonSettings()).problem
    with pytest.raises(interpreter.PythonUnavailable, match="no Python 3.97 found"):
        interpreter.resolve("python3.97", tmp_path / "h")
    with pytest.raises(interpreter.PythonUnavailable, match="'java21' is not pythonX.Y"):
        interpreter.resolve("java21", tmp_path / "h")


def test_interpreter_choice_in_cold_start_log(lab, monkeypatch):
    here = "%d.%d" % sys.version_info[:2]
    monkeypatch.setenv("STRATA_ALLOW_PYTHON_SUBSTITUTE", f"3.97={here}")
    fn = lab.function({"app.py": "def handler(e, c):\n    return 1\n"}, runtime="python3.97")
    lab.invoke(fn)
    first = lab.logs(fn).splitlines()[0]
    assert first.startswith(f"INIT_START Runtime Version: python3.97\tInterpreter: Python {here} ")
    assert f"Python {here} substituted for python3.97, allowed by STRATA_ALLOW_PYTHON_SUBSTITUTE 3.97={here}" in first


def test_log_store_round_trip(tmp_path):
    store = LogStore(tmp_path)
    store.append("fn", "$LATEST", "one\n")
    store.append("fn", "2", "two\n")
    store.append("fn", "10", "ten\n")
    store.append("fn", "$LATEST", "three\n")
    assert store.read("fn") == "one\nthree\n"
    assert store.read("fn", "$LATEST", tail_bytes=6) == "three\n"
    assert store.versions("fn") == ["$LATEST", "2", "10"]
    assert store.functions() == ["fn"]
    text, offset = store.read_from("fn", "$LATEST", 0)
    store.append("fn", "$LATEST", "four\n")
    assert store.read_from("fn", "$LATEST", offset) == ("four\n", offset + 5)
    assert store.read("nope") == ""
    assert store.path_for("fn", "$LATEST").name == "%24LATEST.log"
    store.close()


def test_log_store_concurrent_blocks_do_not_interleave(tmp_path):
    stores = [LogStore(tmp_path) for _ in range(4)]           # separate descriptors, as separate processes have
    block = "".join(f"line {i}\n" for i in range(200))

    def write(store: LogStore, tag: str) -> None:
        for _ in range(50):
            store.append("fn", "1", f"BEGIN {tag}\n{block}END {tag}\n")

    threads = [threading.Thread(target=write, args=(store, str(n))) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stores[0].read("fn", "1").splitlines()
    assert len(lines) == 4 * 50 * 202
    for start in range(0, len(lines), 202):
        tag = lines[start].split()[1]
        assert lines[start + 201] == f"END {tag}"


def test_report_line_format():
    assert report_line("id", 0.3, 128, 40) == ("REPORT RequestId: id\tDuration: 0.30 ms\tBilled Duration: 1 ms\t"
                                               "Memory Size: 128 MB\tMax Memory Used: 40 MB\t\n")
    assert report_line("id", 12.01, 256, 50, 20.5).endswith("Billed Duration: 13 ms\tMemory Size: 256 MB\t"
                                                            "Max Memory Used: 50 MB\tInit Duration: 20.50 ms\t\n")


def test_frames_round_trip_in_pieces():
    messages = [("ready",), ("ok", b"x" * 100_000, 1234), ("id", b"{}", 3000, "arn", None)]
    data = b"".join(frame(m) for m in messages)
    buffer = FrameBuffer()
    got = []
    for i in range(0, len(data), 777):
        buffer.feed(data[i:i + 777])
        while (message := buffer.pop()) is not None:
            got.append(message)
    assert got == messages
    read_end, write_end = os.pipe()
    os.write(write_end, frame(("ok", b"1", 2)))
    os.close(write_end)
    buffer = FrameBuffer()
    assert read_message(read_end, buffer) == ("ok", b"1", 2)
    assert read_message(read_end, buffer) is None
    os.close(read_end)
