"""Template load benchmark: ``strata.template.load.load_template_text`` on a generated 500-function SAM template
(502 resources, every short tag, file:line:column marks on every node) against its floor, PyYAML's C parser
composing the same text into nodes (what any loader that keeps marks must do at least), in one run, as medians.

This replaces a wall-clock assertion that sat in the test suite (tests assert behaviour; timing lives here).

Usage: python bench/bench_template_load.py [--runs N]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import yaml

from strata.template.load import load_template_text

GENERATOR = Path(__file__).resolve().parents[1] / "tests" / "unit" / "template" / "conftest.py"


def big_template(functions: int) -> str:
    spec = importlib.util.spec_from_file_location("template_fixtures", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.big_template(functions))


def median_ms(work, runs: int) -> float:  # noqa: ANN001 - any zero-argument callable
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    text = big_template(500).encode()
    assert len(load_template_text(text).data["Resources"]) == 502
    floor = median_ms(lambda: yaml.compose(text, Loader=yaml.CSafeLoader), args.runs)
    strata = median_ms(lambda: load_template_text(text), args.runs)
    print(f"template load, 500 functions ({len(text) / 1024:.0f} KiB), median of {args.runs}:")
    print(f"  floor  (PyYAML CSafeLoader compose)  {floor:8.1f} ms")
    print(f"  strata (load_template_text)          {strata:8.1f} ms   {strata / floor:.2f}x of the floor")


if __name__ == "__main__":
    main()
