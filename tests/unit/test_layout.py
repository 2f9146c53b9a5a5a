"""The package's shape: the packages follow the data's path and imports point one way along it,
back to the shared floor, never forward (lazy imports included); no module cycles; every module
imports on its own in any order; no module grows past 300 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 300
# The data's path. A package may import the shared floor (the loose modules at the top) and the
# packages before it, never one after it. value and registry come before training: training fits
# and backtests CLV in its run and ends by registering the model it made.
PATH = (
    "simulate",
    "validate",
    "features",
    "snapshot",
    "dataset",
    "value",
    "registry",
    "training",
    "explain",
    "scoring",
    "uplift",
    "outcomes",
    "report",
)
ON_TOP = ("cli", "schemas")  # the `churn` command and the configs it registers: they see it all


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / "churn").rglob("*.py"))}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """churn modules `path` imports anywhere in its body (a lazy import is still a dependency)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n in known}
    return found - {name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imported(path, name, known) for name, path in found.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A module importing its own package (whose __init__ may import it back) is Python's usual
    shape, not a cycle; anything else that comes back around is."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if node.startswith(nxt + "."):
                continue  # a module and the package it lives in
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def stage(module: str) -> int:
    """0 for the shared floor, then the place on the path, then the command on top."""
    parts = module.split(".")
    if len(parts) < 2:
        return 0
    if parts[1] in PATH:
        return 1 + PATH.index(parts[1])
    return 1 + len(PATH) if parts[1] in ON_TOP else 0


def forward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import from one stage into a later one (the floor importing a package included)."""
    return sorted(f"{a} -> {b}" for a, deps in graph.items() for b in deps if stage(b) > stage(a))


def test_every_package_has_its_place_on_the_path():
    packages = {p.parent.name for p in (SRC / "churn").glob("*/__init__.py")}
    assert packages == set(PATH)
    loose = {p.stem for p in (SRC / "churn").glob("*.py")} - {"__init__"}
    assert set(ON_TOP) <= loose


def test_the_path_check_sees_a_planted_back_import():
    graph = import_graph()
    assert forward_imports(graph) == []
    planted = {**graph, "churn.features.base": graph["churn.features.base"] | {"churn.report.page"}}
    assert forward_imports(planted) == ["churn.features.base -> churn.report.page"]
    floor = {**graph, "churn.store": graph["churn.store"] | {"churn.dataset.build"}}
    assert forward_imports(floor) == ["churn.store -> churn.dataset.build"]
    assert (
        forward_imports({"churn.cli": {"churn.report.page"}, "churn.report.page": {"churn.store"}})
        == []
    )


def test_packages_import_only_back_along_the_path():
    assert forward_imports(import_graph()) == []


def test_the_walk_sees_a_cycle_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a.x"}, "a.x": {"a"}}) is None
    assert find_cycle({"a": {"a.x"}, "a.x": {"b"}, "b": {"a"}}) == ["a", "a.x", "b", "a"]


def test_imports_point_one_way():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_every_module_imports_in_any_order(order):
    names = sorted(modules())
    names = names if order == "sorted" else names[::-1]
    code = "import importlib\n" + "".join(f"importlib.import_module({n!r})\n" for n in names)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def test_no_module_is_over_300_lines():
    long = {n: len(p.read_text().splitlines()) for n, p in modules().items()}
    assert {n: k for n, k in long.items() if k > MAX_LINES} == {}
