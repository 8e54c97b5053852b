"""Make the benchmark tree for bench_build.py: a copy of real site-packages, trimmed or padded to a target size.

Whole top-level packages are taken (largest first; awscli is skipped: its 7k doc files are not a layer) while they
fit the file budget; if the bytes fall short, the 64 largest files are copied again under ``_pad/``. ``__pycache__`` and
``*.pyc`` are left out (a build skips them).
"""
from __future__ import annotations

import os
import shutil
import sysconfig


def _files(top: str) -> list[tuple[str, int]]:
    out = []
    if os.path.isfile(top):
        return [(top, os.path.getsize(top))]
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(folder, name)
            if not name.endswith(".pyc") and os.path.isfile(path) and not os.path.islink(path):
                out.append((path, os.path.getsize(path)))
    return out


def make_tree(dest: str, target_files: int, target_bytes: int, source: str | None = None,
              skip: tuple[str, ...] = ("awscli",)) -> tuple[int, int]:
    """Fill ``dest`` (created) with about ``target_files`` files / ``target_bytes`` bytes; return the real counts."""
    source = source or sysconfig.get_paths()["purelib"]
    groups = []
    for name in sorted(set(os.listdir(source)) - set(skip)):
        files = _files(os.path.join(source, name))
        if files:
            groups.append((sum(s for _p, s in files), name, files))
    groups.sort(reverse=True)
    chosen, n_files, n_bytes = [], 0, 0
    for size, _name, files in groups:
        if n_bytes >= target_bytes or n_files >= target_files:
            break
        if n_files + len(files) > target_files * 1.03:
            continue
        chosen.extend(files)
        n_files += len(files)
        n_bytes += size
    for path, _size in chosen:
        rel = os.path.relpath(path, source)
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copyfile(path, out)
        shutil.copymode(path, out)
    pad = sorted(chosen, key=lambda item: -item[1])[:64]
    i = 0
    while n_bytes < target_bytes * 0.98 and pad:
        path, size = pad[i % len(pad)]
        out = os.path.join(dest, "_pad", str(i), os.path.basename(path))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copyfile(path, out)
        n_files += 1
        n_bytes += size
        i += 1
    return n_files, n_bytes
