"""Floor for a no-op build, run as its own process (``python -I -S build_fingerprint.py TREE...``): walk the tree
with ``os.scandir``, ``lstat`` every file and fold (path, size, mtime, mode) into one sha256. Reads no file."""
import hashlib
import os
import sys


def fold(folder: str, digest) -> None:
    with os.scandir(folder) as it:
        for entry in sorted(it, key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                fold(entry.path, digest)
            else:
                s = entry.stat(follow_symlinks=False)
                digest.update(f"{entry.path}\0{s.st_size}\0{s.st_mtime_ns}\0{s.st_mode}\n".encode())


if __name__ == "__main__":
    d = hashlib.sha256()
    for root in sys.argv[1:]:
        fold(root, d)
    print(d.hexdigest())
