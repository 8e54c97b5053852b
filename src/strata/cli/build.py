"""``strata build``: zip every local code and layer folder of a template into the artifact store.

Prints one row per target (logical id, source, short sha256, size, built/cached). Kept thin: loading is
``strata.template.load``, the work is ``strata.artifacts.project``; errors are ``StrataError``s for the CLI's boundary.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from strata.cli.options import echo_json, output_option, template_option

if TYPE_CHECKING:
    from strata.artifacts.builder import BuiltArtifact


@click.command()
@template_option
@output_option
@click.option("--fast", is_flag=True, help="Deflate level 1: about twice as fast, about 10% bigger zips.")
def build(template_file: str, output: str, fast: bool) -> None:
    """Build code and layer folders into deterministic, cached zips."""
    from strata.artifacts.project import build_template
    from strata.paths import state_home

    template_path = Path(template_file)
    built = build_template(template_path, state_home(template_path), level=1 if fast else 6)
    template_dir = template_path.resolve().parent
    rows = [_row(item, template_dir) for item in built]
    if output == "json":
        echo_json(rows)
        return
    if not rows:
        click.echo("Nothing to build: no local CodeUri, ContentUri, Code or Content in the template.")
        return
    _print_table(rows)


def _row(item: BuiltArtifact, template_dir: Path) -> dict:
    source = item.target.source
    try:
        shown = os.path.relpath(source, template_dir)
    except ValueError:  # another drive (Windows)
        shown = str(source)
    return {
        "logical_id": item.target.logical_id,
        "property": item.target.property,
        "source": shown,
        "sha256": item.artifact.sha256,
        "code_sha256": item.artifact.code_sha256,
        "size": item.artifact.size,
        "path": str(item.artifact.path),
        "status": "cached" if item.cached else "built",
    }


def _print_table(rows: list[dict]) -> None:
    table = [("RESOURCE", "SOURCE", "SHA256", "SIZE", "STATUS")]
    table += [(r["logical_id"], r["source"], r["sha256"][:12], _human(r["size"]), r["status"]) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        click.echo("  ".join(cell.ljust(w) if i < len(widths) - 1 else cell
                             for i, (cell, w) in enumerate(zip(line, widths))).rstrip())


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
