"""House rules that are checked, not hoped for: import direction, no clinical text in code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "safety": {"companion", "flows", "chainlit", "fastapi", "sqlmodel", "sqlalchemy", "langgraph"},
    "flows": {"companion", "chainlit", "fastapi", "sqlmodel", "sqlalchemy"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_one_way(package: str) -> None:
    bad = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_one_node_per_file_and_wiring_only_in_graph() -> None:
    nodes = ROOT / "flows" / "nodes"
    for path in nodes.glob("*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        public = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
        assert path.stem in public, f"{path.name} defines its node {path.stem}()"
    graph_source = (ROOT / "flows" / "graph.py").read_text(encoding="utf-8")
    assert len(graph_source.splitlines()) < 100


def test_no_bare_except_in_safety() -> None:
    for path in (ROOT / "safety").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler):
                assert node.type is not None, f"bare except in {path.name}:{node.lineno}"
