"""``strata build`` of one template file: its build targets (cached by the template's stat, so a no-op build parses
nothing: ``targets_cache``) built into the store. No network calls beyond ``builder``'s."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from strata.artifacts.builder import build_targets
from strata.artifacts.targets_cache import cached_targets


def load_template_data(path: Path) -> dict[str, Any]:
    """The template as a plain dict (intrinsics in long form); one place to change how templates are read."""
    from strata.template.load import load_template

    return load_template(path).data


def build_template(template_path: Path, home: Path, *, level: int = 6, progress: bool = True) -> list[Any]:
    """Build every local code and layer folder of the template; the built items in target order."""
    if not template_path.is_file():
        load_template_data(template_path)  # raises the loader's own "cannot read template" error
    targets = cached_targets(template_path, home, load_template_data)
    return build_targets(targets, home, progress=progress, level=level)
