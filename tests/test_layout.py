"""The code keeps the shape the design asks for: small functions, no import circles, engine
without textual, dispatch on types rather than type names, torch-free configs and events.

Read from the source with ``ast``, so a change that breaks the shape fails here at once.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "tui", "assets")
MAX_FUNCTION_LINES = 60  # body lines, docstring excluded
LONG_FUNCTIONS: dict[str, str] = {  # "path:function" -> why it is longer
}


def sources(*packages: str) -> dict[str, Path]:
    out = {}
    for package in packages:
        for path in (REPO / package).rglob("*.py"):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    skip = 0
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):  # the docstring
            skip = first.end_lineno - first.lineno + 1
    return node.end_lineno - node.lineno + 1 - skip


def test_no_function_is_longer_than_60_lines():
    long = []
    for path in sources("engine", "tui").values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where = f"{path.relative_to(REPO)}:{node.name}"
                if body_lines(node) > MAX_FUNCTION_LINES and where not in LONG_FUNCTIONS:
                    long.append(f"{where} ({body_lines(node)} lines)")
    assert not long, long


def imports(path: Path, known: set[str]) -> set[str]:
    """Every in-tree module ``path`` imports, lazily inside functions too (not TYPE_CHECKING)."""
    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(a.name for a in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)

    Visitor().visit(ast.parse(path.read_text()))
    return {m for m in found if m in known}


def test_no_import_circle_even_through_lazy_imports():
    modules = sources(*PACKAGES)
    graph = {name: imports(path, set(modules)) - {name} for name, path in modules.items()}
    # a circle exists iff some module reaches itself
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            assert module != start, f"{start} imports itself through {sorted(seen)}"
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])


def test_engine_never_imports_textual_or_the_tui():
    modules = sources("engine")
    for name, path in modules.items():
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) (textual|tui)\b", text, re.M), name


def test_no_dispatch_on_type_names():
    pattern = re.compile(r"(type\([^)]*\)|__class__)\.__name__\s*(==|!=|in\b)")
    offenders = [
        f"{path.relative_to(REPO)}:{i}"
        for path in sources("engine", "tui").values()
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_configs_events_catalog_and_the_app_import_without_torch():
    code = (
        "import sys, engine.catalog, engine.vision.events, engine.words.events, tui.app; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
