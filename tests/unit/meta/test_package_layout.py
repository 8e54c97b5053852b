"""The tree's shape: every test module is collected, and no two packages of strata import each other.

pytest silently skips folders it treats as output (``build``, ``dist``, dot-folders ...): 51 tests once sat unrun in
``tests/unit/build``. A cycle between packages (even through a function-local import) means neither can be read,
tested or moved alone; ``package_of`` groups a module with its top-level package (and, under ``strata.local``, with
its subpackage), because those are the units the layout promises to keep apart.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "src"
TESTS = ROOT / "tests"
SPLIT = {"strata.local"}            # packages whose subpackages are units of their own


def test_every_test_module_under_tests_is_collected() -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", str(TESTS)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    collected = {line.split("::", 1)[0] for line in proc.stdout.splitlines() if "::" in line}
    on_disk = {str(p.relative_to(ROOT)) for p in TESTS.rglob("test_*.py")}
    assert on_disk - collected == set(), "test modules pytest does not collect (a folder it skips, or no tests)"


def package_of(module: str) -> str:
    parts = module.split(".")
    for split in SPLIT:
        depth = split.count(".") + 1
        if parts[:depth] == split.split(".") and len(parts) > depth:
            return ".".join(parts[:depth + 1])
    return ".".join(parts[:2]) if len(parts) > 2 or (SRC.joinpath(*parts) / "__init__.py").exists() else parts[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, module: str) -> set[str]:
    """Every strata module ``path`` imports, at any depth of the file (function-local imports count)."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "strata" or name.startswith("strata.")}


def package_graph() -> dict[str, dict[str, set[str]]]:
    """package -> imported package -> the files that import it."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted((SRC / "strata").rglob("*.py")):
        module = module_name(path)
        source = package_of(module)
        for name in imported_modules(path, module):
            target = package_of(name)
            if target != source and target != "strata":
                graph[source][target].add(str(path.relative_to(ROOT)))
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    assert "strata.local.engine" in graph and "strata.cli" in graph       # the walk saw the tree
    problems = []
    for component in cycles(graph):
        edges = [f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})" for a in component for b in component
                 if b in graph.get(a, {})]
        problems.append("; ".join(edges))
    assert problems == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b": {"x.py"}}, "b": {"c": {"y.py"}}, "c": {"a": {"z.py"}}, "d": {"a": {"w.py"}}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_shared_layers_import_no_target() -> None:
    """``strata.model``, ``strata.template`` and ``strata.artifacts`` sit under both targets: they import neither."""
    graph = package_graph()
    for low in ("strata.model", "strata.template", "strata.artifacts"):
        reached = set(graph.get(low, {}))
        assert not {p for p in reached if p.startswith("strata.local") or p == "strata.aws"}, (low, reached)
