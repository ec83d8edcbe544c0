"""No two modules of ita_bot/domain import each other, directly or round a loop (checked by parsing, no import runs)."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "ita_bot" / "domain"


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """The imports a module runs or type-checks at its top level: `if TYPE_CHECKING:` and `try:` blocks count
    (a loop there still ties the modules together for the type checker); imports inside functions do not."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            found += _top_level_imports(node.body) + _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            found += _top_level_imports(node.body) + _top_level_imports(node.orelse)
            for handler in node.handlers:
                found += _top_level_imports(handler.body)
            found += _top_level_imports(node.finalbody)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module name (stem, "__init__" for the package) → the sibling modules it imports at its top level."""
    name = package.name
    modules = {path.stem for path in package.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in sorted(package.glob("*.py")):
        deps: set[str] = set()
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif node.level == 1:  # from . import x / from .x import y
                base = [f"{name}.{node.module}"] if node.module else []
                targets = base or [f"{name}.{alias.name}" for alias in node.names]
            elif node.level:
                continue  # above the package: not a sibling
            else:
                targets = [node.module or ""]
                # `from ita_bot.domain import plan` imports the module ita_bot.domain.plan.
                targets += [f"{node.module}.{alias.name}" for alias in node.names]
            for target in targets:
                parts = target.split(".")
                if len(parts) >= 2 and parts[-2] == name and parts[-1] in modules:
                    deps.add(parts[-1])
        deps.discard(path.stem)
        graph[path.stem] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One loop per strongly connected group of modules, as the path round it (a → b → a)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            if dep in path:
                found.append([*path[path.index(dep):], dep])
            elif dep not in done:
                walk(dep, [*path, dep])
        done.add(node)

    for start in sorted(graph):
        if start not in done:
            walk(start, [start])
    return found


def test_the_domain_has_no_import_cycle() -> None:
    graph = import_graph(DOMAIN)
    assert {"plan", "plan_reader", "milestones"} <= graph.keys()  # the right folder, read
    assert "milestones" in graph["plan"]  # and its edges: Plan holds Milestones
    assert cycles(graph) == []


# ------------------------------------------------------------------ the checker itself finds a loop


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ita_bot" / "domain"
    root.mkdir(parents=True)
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_a_loop_through_type_checking_and_relative_imports_is_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "a.py": "from ita_bot.domain.b import x\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n",
        "c.py": "from ita_bot.domain import a\n",
    })
    assert cycles(import_graph(root)) == [["a", "b", "c", "a"]]


def test_imports_inside_functions_and_outside_the_package_make_no_loop(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "a.py": "import ita_bot.domain.b\n",
        "b.py": "def late():\n    from ita_bot.domain import a\n\nfrom ita_bot.store.a import y\n",
    })
    assert import_graph(root)["a"] == {"b"}
    assert cycles(import_graph(root)) == []
