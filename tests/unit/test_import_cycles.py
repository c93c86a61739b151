"""No import cycles between kizuna's modules (lint-imports checks the layers, not cycles).

Read with `ast`, nothing imported: an import at module level (also under `if`/`try`) runs
when the module loads; one inside a function runs when it is called, so it is no edge.
Imports under `if TYPE_CHECKING:` never run; they are a graph of their own, checked apart.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "kizuna"

Graph = dict[str, set[str]]


def module_files() -> dict[str, Path]:
    modules = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _top_level(body: list[ast.stmt], *, typing_only: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Statements that run at import (typing_only: under `if TYPE_CHECKING:`)."""
    for node in body:
        if isinstance(node, ast.If):
            test = node.test
            guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            )
            yield from _top_level(node.body, typing_only=typing_only or guarded)
            yield from _top_level(node.orelse, typing_only=typing_only)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level(block, typing_only=typing_only)
            for handler in node.handlers:
                yield from _top_level(handler.body, typing_only=typing_only)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from _top_level(node.body, typing_only=typing_only)
        else:
            yield node, typing_only


def _resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module `name` lands in: itself, or (for a name inside a module) its module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.stmt, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            yield f"{base}.{alias.name}"  # a submodule, or a name that resolves to `base`


def import_graphs() -> tuple[Graph, Graph]:
    """(imports that run at module load, imports only the type checker reads)."""
    modules = module_files()
    runtime: Graph = {name: set() for name in modules}
    typing: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node, typing_only in _top_level(tree.body, typing_only=False):
            for target in _targets(node, name, is_package):
                found = _resolve(target, modules)
                # A module's own packages are loaded before it; naming them is no edge.
                if found is None or found == name or name.startswith(found + "."):
                    continue
                (typing if typing_only else runtime)[name].add(found)
    return runtime, typing


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_the_imports_it_should() -> None:
    runtime, typing = import_graphs()

    assert "kizuna.container" in runtime["kizuna.app"]
    assert "kizuna.storage.repo" in runtime["kizuna.actors.documents"]  # from pkg import module
    assert "kizuna.container" in typing["kizuna.server.context"]
    assert "kizuna.container" not in runtime["kizuna.server.context"]
    assert "kizuna.realtime.pg_bridge" not in runtime["kizuna.container"]  # inside a function


def test_no_import_cycle_at_run_time() -> None:
    runtime, _ = import_graphs()

    assert cycles(runtime) == []


def test_no_import_cycle_with_type_checking_imports() -> None:
    runtime, typing = import_graphs()
    both = {name: runtime[name] | typing[name] for name in runtime}

    assert cycles(both) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "b", "c"]]),
    ],
)
def test_cycles_finds_only_strongly_connected_modules(
    graph: Graph, expected: list[list[str]]
) -> None:
    assert cycles(graph) == expected
