"""Remember a template's build targets, so a no-op ``strata build`` neither imports a YAML parser nor parses.

The targets depend only on the template's bytes and folder, so they are cached under the template's stat key with
the same racily-clean rule as source files (``strata.artifacts.cache``). A cached target whose folder has since gone is
still caught: the builder's walk fails naming the resource and property.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from strata.artifacts import cache
from strata.artifacts.targets import BuildTarget, find_build_targets
from strata.paths import cache_dir

ROWS_FORMAT = 4  # bump when a target's row changes shape (2: the project files a code folder excludes; 3: architecture;
#                  4: build properties)


def cached_targets(template_path: Path, home: Path, load: Callable[[Path], dict],
                   clock: Callable[[], int] = time.time_ns) -> list[BuildTarget]:
    """``find_build_targets`` for a template file, from the cache when the file is provably unchanged."""
    start_ns = clock()
    template = os.path.abspath(template_path)
    s = os.stat(template)
    key = [ROWS_FORMAT, template, s.st_mode, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino]
    name = hashlib.sha256(template.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    path = os.path.join(cache_dir(home), "build", f"targets-{name}.marshal")
    record = cache.load(path)
    if record is not None and record["key"] == key:
        return [BuildTarget(t[0], t[1], Path(t[2]), t[3], t[4], t[5], tuple(t[6]), t[7], t[8])
                for t in record.content["targets"]]
    targets = find_build_targets(load(Path(template)), Path(template).parent, template_file=Path(template))
    if not cache.is_racy(s.st_ctime_ns, start_ns):
        rows = [(t.logical_id, t.property, str(t.source), t.kind, t.runtime, t.build_method, list(t.excludes),
                 t.architecture, t.build_properties)
                for t in targets]
        cache.save(path, {"key": key}, {"targets": rows})
    return targets
