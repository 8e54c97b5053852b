"""Handlers cannot harm what they share: the unpacked code and layers every function with the same digest runs, and
the machine (processes a handler starts end with its worker)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from runtime_lab import body, make_zip

from strata.local.runtime import containment
from strata.local.runtime.layers import UnsafeArchiveError
from strata.local.runtime.manifest import check_tree, manifest_path, read_manifest, save_manifest
from strata.paths import runtime_dir

# One handler that can damage its own code folder in several ways, then answers which code runs.
TAMPERING = {"app.py": """
    import os, shutil, sys

    ROOT = os.environ["LAMBDA_TASK_ROOT"]

    def handler(event, context):
        action = event.get("do")
        target = os.path.join(ROOT, "app.py")
        if action == "edit":
            os.chmod(target, 0o644)
            with open(target, "w") as fh:
                fh.write("def handler(event, context):\\n    return 'tampered'\\n")
        elif action == "edit-keep-time":
            info = os.stat(target)
            os.chmod(target, 0o644)
            with open(target, "r+") as fh:        # same size, same mtime afterwards
                text = fh.read()
                fh.seek(0)
                fh.write(text.replace("'original'", "'tampered'"))
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
            os.chmod(target, info.st_mode & 0o777)
        elif action == "add":
            with open(os.path.join(ROOT, "extra.py"), "w") as fh:
                fh.write("VALUE = 'planted'\\n")
        elif action == "delete":
            shutil.rmtree(ROOT)
        elif action == "opt":
            path = os.path.join(next(p for p in sys.path if p.endswith("/python")), "shared.py")
            os.chmod(path, 0o644)
            with open(path, "w") as fh:
                fh.write("VALUE = 'tampered layer'\\n")
        try:
            import extra
            planted = extra.VALUE
        except ImportError:
            planted = None
        return {"code": 'original', "planted": planted, "data": open("data.txt").read()}
    """, "data.txt": "data"}
SHARED_CODE = make_zip(TAMPERING)       # one zip, one digest: every function below shares its unpacked folder


def _answer(lab, fn) -> dict:
    result = lab.invoke(fn)
    assert result.status_code == 200 and result.function_error is None, result.payload
    return body(result)


@pytest.mark.parametrize("action", ["edit", "edit-keep-time", "add", "delete"])
def test_a_damaged_code_folder_is_restored_for_the_next_cold_start(lab, action):
    first = lab.function(SHARED_CODE, name="first")
    other = lab.function(SHARED_CODE, name="other")          # the same zip: the same unpacked folder
    assert first.code_sha256 == other.code_sha256
    assert _answer(lab, first) == {"code": "original", "planted": None, "data": "data"}

    lab.invoke(first, {"do": action})

    # another function with the same code starts cold: it runs the code that was deployed
    assert _answer(lab, other) == {"code": "original", "planted": None, "data": "data"}
    tree = runtime_dir(lab.home) / first.code_sha256
    assert check_tree(tree) == []


def test_a_warm_function_keeps_its_working_folder_through_a_repair(lab):
    warm, tamperer, cold = (lab.function(SHARED_CODE, name=name) for name in ("warm", "tamperer", "cold"))
    assert _answer(lab, warm)["data"] == "data"
    lab.invoke(tamperer, {"do": "add"})
    assert _answer(lab, cold)["planted"] is None            # this cold start repaired the shared folder
    assert _answer(lab, warm) == {"code": "original", "planted": None, "data": "data"}   # reads relative to it


def test_the_tampering_function_itself_gets_its_code_back_after_a_restart(lab):
    fn = lab.function(SHARED_CODE, timeout=1)
    lab.invoke(fn, {"do": "edit"})
    lab.pool.close()                                        # every environment gone: the next invoke is cold
    from strata.local.runtime.pool import WorkerPool

    lab.pool = WorkerPool(lab.home, event_retry_delays=())
    try:
        assert _answer(lab, fn) == {"code": "original", "planted": None, "data": "data"}
    finally:
        lab.pool.close()


def test_a_damaged_layer_is_restored(lab):
    layer = lab.layer({"python/shared.py": "VALUE = 'layer'\n"})
    reader = {"app.py": """
        import shared

        def handler(event, context):
            return shared.VALUE
        """}
    tamperer = lab.function(SHARED_CODE, name="tamperer", layers=(layer,))
    fn = lab.function(reader, name="reader", layers=(layer,))
    assert body(lab.invoke(fn)) == "layer"
    assert lab.invoke(tamperer, {"do": "opt"}).function_error is None
    lab.pool.close()
    from strata.local.runtime.pool import WorkerPool

    lab.pool = WorkerPool(lab.home, event_retry_delays=())
    try:
        assert body(lab.invoke(fn)) == "layer"
    finally:
        lab.pool.close()
    assert check_tree(runtime_dir(lab.home) / layer.sha256) == []


def test_a_corrupted_zip_is_not_unpacked_again(lab):
    fn = lab.function(SHARED_CODE)
    assert _answer(lab, fn)["code"] == "original"
    lab.invoke(fn, {"do": "delete"})
    Path(fn.code_zip).chmod(0o644)
    Path(fn.code_zip).write_bytes(make_zip({"app.py": "def handler(e, c):\n    return 'other bytes'\n"}))
    other = lab.function(SHARED_CODE, name="other")
    with pytest.raises(UnsafeArchiveError, match="no longer has its digest"):
        lab.invoke(other)


def test_check_tree_reports_each_kind_of_damage(tmp_path, monkeypatch):
    from strata.local.runtime import layers
    from strata.local.runtime.layers import unpack

    art = tmp_path / "code.zip"
    art.write_bytes(make_zip({"app.py": "A = 1\n", "pkg/mod.py": "B = 2\n"}, symlinks={"link": "app.py"}))
    import hashlib

    sha = hashlib.sha256(art.read_bytes()).hexdigest()
    tree = unpack(art, sha, tmp_path / "runtime").path
    assert manifest_path(tree).is_file() and not manifest_path(tree).is_relative_to(tree)
    assert check_tree(tree) == []
    os.link(tree / "app.py", tmp_path / "hardlink")         # changes the file's ctime, not its bytes
    assert check_tree(tree) == []
    (tree / "pkg" / "mod.py").chmod(0o644)
    (tree / "pkg" / "mod.py").write_text("B = 3\n")
    (tree / "new.py").write_text("")
    os.unlink(tree / "link")
    before = (tree / "pkg").stat().st_mode & 0o777
    (tree / "pkg").chmod(0o700 if before != 0o700 else 0o750)
    after = (tree / "pkg").stat().st_mode & 0o777
    problems = check_tree(tree)
    assert problems == ["link: missing", f"pkg: mode changed from {before:o} to {after:o}",
                        "pkg/mod.py: mode changed from 444 to 644", "new.py: not in the unpacked archive"]
    # unpack again restores it, in place
    assert unpack(art, sha, tmp_path / "runtime").path == tree
    assert check_tree(tree) == []
    assert (tree / "pkg" / "mod.py").read_text() == "B = 2\n"
    # bytes that differ while every stat hint matches (here: a manifest rewritten behind strata's back) are seen by
    # the full check that verify runs, and unpack(full=True) repairs them
    manifest = read_manifest(tree)
    assert manifest is not None
    manifest.entries["app.py"][3] = "0" * 64
    save_manifest(tree, manifest)
    monkeypatch.delitem(layers._manifests, tree)
    assert check_tree(tree, full=False) == []
    assert check_tree(tree) == ["app.py: content changed"]
    unpack(art, sha, tmp_path / "runtime", full=True)
    assert check_tree(tree) == []


# -- processes a handler starts ---------------------------------------------------------------------------------------

SPAWNER = {"app.py": """
    import os, subprocess, time

    def handler(event, context):
        pids = []
        pids.append(subprocess.Popen(["setsid", "sleep", "1000"]).pid)
        pids.append(subprocess.Popen(["sleep", "1000"], start_new_session=True).pid)
        read, write = os.pipe()
        if os.fork() == 0:                      # a double-forked daemon: its parent exits at once
            os.setsid()
            if os.fork() == 0:
                os.write(write, str(os.getpid()).encode())
                time.sleep(1000)
            os._exit(0)
        pids.append(int(os.read(read, 32)))
        print("PIDS", *pids, flush=True)
        then = event.get("then")
        if then == "sleep":
            time.sleep(10)
        elif then == "exit":
            os._exit(3)
        return pids
    """}


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rpartition(b")")[2].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def _gone(pids: list[int]) -> bool:
    for _ in range(200):                    # SIGKILL is delivered at once; exiting takes a moment
        if not any(_running(pid) for pid in pids):
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(params=["cgroup", "proc-walk"])
def containment_mode(request, monkeypatch):
    if request.param == "cgroup":
        if containment.cgroup_base() is None:
            pytest.skip("cgroup v2 is not writable here")
    else:
        monkeypatch.setitem(containment._bases, os.getpid(), None)
    return request.param


def _pids_from_log(lab, fn) -> list[int]:
    import re

    return [int(pid) for pid in re.findall(r"PIDS (\d+) (\d+) (\d+)", lab.logs(fn))[-1]]


def test_children_end_when_the_pool_closes(lab, containment_mode):
    fn = lab.function(SPAWNER)
    pids = body(lab.invoke(fn))
    assert len(pids) == 3 and all(_running(pid) for pid in pids)     # alive while the environment is warm
    lab.pool.close()
    assert _gone(pids)


def test_children_end_when_the_worker_times_out(lab, containment_mode):
    fn = lab.function(SPAWNER, timeout=1)
    result = lab.invoke(fn, {"then": "sleep"})
    assert b"Task timed out" in result.payload
    assert _gone(_pids_from_log(lab, fn))


def test_children_end_when_the_worker_exits(lab, containment_mode):
    fn = lab.function(SPAWNER)
    result = lab.invoke(fn, {"then": "exit"})
    assert b"Runtime.ExitError" in result.payload
    assert _gone(_pids_from_log(lab, fn))


def test_a_planted_lock_file_does_not_stop_cold_starts(lab, tmp_path):
    fn = lab.function(SHARED_CODE)
    assert _answer(lab, fn)["code"] == "original"
    lock = runtime_dir(lab.home) / ".locks" / f"{fn.code_sha256}.lock"
    lock.unlink()
    lock.symlink_to(tmp_path / "elsewhere")
    other = lab.function(SHARED_CODE, name="other")
    assert _answer(lab, other)["code"] == "original"
    assert not (tmp_path / "elsewhere").exists()
