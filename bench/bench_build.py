"""Benchmark ``strata build`` against the floors of performance-floors.md section (b), in one run.

Tree: a copy of this venv's site-packages trimmed/padded to ~8k files / ~190 MB (``--quick``: ~2k files / ~40 MB),
as one layer, plus three small functions. Floors and strata run alternately in the same session:
- no-op, whole process: ``python -I -S build_fingerprint.py`` (walk + lstat fold) vs ``strata build -t ...``;
- no-op in process: walk + lstat fold vs ``build_targets`` on a warm cache;
- touched (``os.utime`` on every file, contents unchanged): walk + read + sha256 vs ``build_targets``;
- full rebuild, fresh store: 2-thread raw deflate level 6 (``build_floors.rawzip``) vs ``build_targets``
  (also: level 1 vs rawzip level 1, and level 6 with the "store precompressed suffixes" shortcut turned off).
The rebuilt zip must be byte-identical across rebuilds and pass ``unzip -t``. Prints medians, ratios and a markdown
table. Usage: ``.venv/bin/python bench/bench_build.py [--quick] [--reps N] [--keep DIR]``.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_floors import rawzip, walk_lstat, walk_read_sha256  # noqa: E402
from build_tree import make_tree  # noqa: E402

from strata.artifacts import archive, build_targets, find_build_targets  # noqa: E402
from strata.artifacts.project import load_template_data  # noqa: E402

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Layers: [!Ref Deps]
Resources:
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
{functions}"""
FUNCTION = """\
  Fn{i}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn{i}
      Handler: app.handler
"""
N_FUNCTIONS = 3


def _clock() -> tuple[float, float]:
    """(wall, CPU of this process and its finished children), so whole-process rows get a CPU figure too."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def alternate(a, b, reps: int, before=None) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, CPU) of ``a`` and of ``b``, run pair by pair so machine noise hits both alike."""
    samples: tuple[list, list] = ([], [])
    for _ in range(reps):
        for fn, out in zip((a, b), samples):
            if before is not None:
                before()
            w0, c0 = _clock()
            fn()
            w1, c1 = _clock()
            out.append((w1 - w0, c1 - c0))
    return tuple((statistics.median(w for w, _ in out), statistics.median(c for _, c in out))  # type: ignore
                 for out in samples)


def run_quiet(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=_env())


def _env(daemon: bool = False) -> dict:
    env = dict(os.environ)
    env.pop("STRATA_HOME", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # installed code has its bytecode cached
    env["XDG_RUNTIME_DIR"] = DAEMON_DIR  # a private daemon socket folder for this bench
    if not daemon:
        env["STRATA_NO_DAEMON"] = "1"
    return env


DAEMON_DIR = tempfile.mkdtemp(prefix="sbb-", dir="/tmp")


def touch_all(root: Path) -> None:
    now = time.time()
    for folder, _dirs, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(folder, name), (now, now))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~2k files / ~40 MB instead of ~8k / ~190 MB")
    parser.add_argument("--reps", type=int, default=0, help="repetitions for the slow rows (default 3, quick 3)")
    parser.add_argument("--keep", default=None, help="work folder to use and keep (default: a temp folder)")
    args = parser.parse_args()
    os.environ.pop("STRATA_HOME", None)
    fast_reps = 21
    slow_reps = args.reps or 3
    work = Path(args.keep or tempfile.mkdtemp(prefix="strata-bench-build-"))
    try:
        rows = run(work, args.quick, fast_reps, slow_reps)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows, args)


def run(work: Path, quick: bool, fast_reps: int, slow_reps: int) -> list[tuple]:
    project = work / "project"
    layer = project / "layer"
    if not layer.is_dir():
        files, size = make_tree(str(layer), 2000 if quick else 8000, (40 if quick else 190) << 20)
    else:
        files = sum(len(n) for _f, _d, n in os.walk(layer))
        size = sum(os.path.getsize(os.path.join(f, x)) for f, _d, n in os.walk(layer) for x in n)
    for i in range(N_FUNCTIONS):
        fn = project / "functions" / f"fn{i}"
        fn.mkdir(parents=True, exist_ok=True)
        (fn / "app.py").write_text(f"def handler(event, context):\n    return {i}\n")
        (fn / "util.py").write_text("X = 1\n" * 100)
    (project / "template.yaml").write_text(
        TEMPLATE.format(functions="".join(FUNCTION.format(i=i) for i in range(N_FUNCTIONS))))
    template = project / "template.yaml"
    targets = find_build_targets(load_template_data(template), project)
    home = project / ".strata"
    roots = [layer, project / "functions"]  # what the floors walk: exactly the sources strata builds
    print(f"tree: {files} files, {size / 2**20:.1f} MiB, in {layer}", file=sys.stderr)
    rows = []

    # Full rebuild first (fresh stores), then the cache-based rows.
    zips = work / "zips"
    zips.mkdir(exist_ok=True)
    digests = set()

    def strata_full(level: int = 6) -> str:
        fresh = Path(tempfile.mkdtemp(dir=work, prefix="home-"))
        try:
            built = build_targets(targets[:1], fresh, level=level)
            return built[0].artifact.sha256
        finally:
            shutil.rmtree(fresh, ignore_errors=True)

    digests_seen = []

    def strata_full_checked() -> None:
        digests_seen.append(strata_full())

    floor, strata = alternate(lambda: rawzip(str(layer), str(zips / "raw.zip"), 6, 2), strata_full_checked,
                              slow_reps)
    rows.append(("full rebuild, level 6", "2-thread raw deflate level 6", floor, strata, 1.15))
    print(f"  full rebuild: floor {floor[0]:.2f} s, strata {strata[0]:.2f} s", file=sys.stderr)
    digests.update(digests_seen)
    identical = len(digests) == 1

    saved = archive.PRECOMPRESSED_SUFFIXES
    archive.PRECOMPRESSED_SUFFIXES = ("\0never",)
    try:
        floor, no_skip = alternate(lambda: rawzip(str(layer), str(zips / "raw.zip"), 6, 2), strata_full,
                                   max(1, slow_reps - 1))
    finally:
        archive.PRECOMPRESSED_SUFFIXES = saved
    rows.append(("full rebuild, level 6, deflate tried on .gz/.zip/.png too", "2-thread raw deflate level 6",
                 floor, no_skip, None))

    floor, strata = alternate(lambda: rawzip(str(layer), str(zips / "raw1.zip"), 1, 2), lambda: strata_full(1),
                              max(1, slow_reps - 1))
    rows.append(("full rebuild, level 1 (--fast)", "2-thread raw deflate level 1", floor, strata, 1.15))

    # Build once into the project's store, let the racy window pass, then warm the stat cache.
    built = build_targets(targets, home)
    time.sleep(2.2)
    build_targets(targets, home)
    check = build_targets(targets, home)
    assert all(b.cached for b in check), "warm no-op build was not cached"
    identical = identical and check[0].artifact.sha256 in digests
    unzip_ok = None
    if shutil.which("unzip"):
        unzip_ok = subprocess.run(["unzip", "-tq", str(built[0].artifact.path)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode == 0

    fingerprint = [sys.executable, "-I", "-S", str(HERE / "build_fingerprint.py"), str(layer),
                   str(project / "functions")]
    strata_cmd = [str(Path(sys.executable).parent / "strata"), "build", "-t", str(template)]
    run_quiet(strata_cmd, project)
    floor, strata = alternate(lambda: run_quiet(fingerprint, project), lambda: run_quiet(strata_cmd, project),
                              fast_reps)
    rows.append(("no-op build, whole process", "`python -I -S` walk+lstat fingerprint", floor, strata, 1.5))
    daemon_env = _env(daemon=True)
    subprocess.run([strata_cmd[0], "daemon", "start"], env=daemon_env, check=True, stdout=subprocess.DEVNULL)
    try:
        def through_daemon() -> None:
            subprocess.run(strata_cmd, cwd=project, check=True, stdout=subprocess.DEVNULL, env=daemon_env)

        floor, strata = alternate(lambda: run_quiet(fingerprint, project), through_daemon, fast_reps)
        alive = subprocess.run([strata_cmd[0], "daemon", "status"], env=daemon_env,
                               stdout=subprocess.DEVNULL).returncode == 0
        rows.append(("no-op build, whole process, through `strata daemon`" + ("" if alive else " (DAEMON DIED)"),
                     "`python -I -S` walk+lstat fingerprint", floor, strata, 1.5))
    finally:
        subprocess.run([strata_cmd[0], "daemon", "stop"], env=daemon_env, stdout=subprocess.DEVNULL)
        shutil.rmtree(DAEMON_DIR, ignore_errors=True)

    floor, strata = alternate(lambda: [walk_lstat(str(r)) for r in roots], lambda: build_targets(targets, home),
                              fast_reps)
    rows.append(("no-op build, in process", "walk+lstat fold", floor, strata, 1.5))

    def touched() -> None:
        results = build_targets(targets, home)
        assert all(r.cached for r in results), "touched build re-zipped"

    floor, strata = alternate(lambda: [walk_read_sha256(str(r)) for r in roots], touched, max(3, slow_reps),
                              before=lambda: [touch_all(r) for r in roots])
    rows.append(("touched, contents unchanged (no re-zip)", "walk+read+sha256", floor, strata, 1.3))
    rows.append(("byte-identical rebuilds", "", None, None, None,
                 f"{'yes' if identical else 'NO'} ({len(digests)} distinct sha256 over {slow_reps} rebuilds)"
                 + ("" if unzip_ok is None else f"; unzip -t {'ok' if unzip_ok else 'FAILED'}")))
    rows.insert(0, ("tree", "", None, None, None, f"{files} files, {size / 2**20:.1f} MiB (+{N_FUNCTIONS} "
                                                  f"small functions), zip {built[0].artifact.size / 2**20:.1f} MiB"))
    return rows


def print_table(rows: list[tuple], args) -> None:
    cmd = ".venv/bin/python bench/bench_build.py" + (" --quick" if args.quick else "")
    load = os.getloadavg()[0]
    print(f"\n`{cmd}` ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {load:.1f}). Medians; wall ratio is the target's measure, CPU ratio is the noise-robust "
          "cross-check (CPU = all threads + child processes).\n")
    print("| operation | floor | floor wall | strata wall | wall ratio | CPU ratio | target |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        if len(row) == 6:
            print(f"| {row[0]} | {row[5]} | | | | | |")
            continue
        name, floor_name, floor, strata, target = row
        ratio = strata[0] / floor[0]
        cpu = f"{strata[1] / floor[1]:.2f}x" if floor[1] > 0 else "-"
        verdict = "" if target is None else (f"≤ {target}x " + ("ok" if ratio <= target else "MISSED"))
        print(f"| {name} | {floor_name} | {_fmt(floor[0])} | {_fmt(strata[0])} | {ratio:.2f}x | {cpu} | {verdict} |")


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
