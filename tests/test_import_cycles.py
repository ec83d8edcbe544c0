"""No import loop among ita_bot's modules, checked by parsing (no import runs): the layers stop loops between
components, this stops them inside one (plan / plan_reader / milestones, the chat's commands and menus)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_architecture import imported_from, module_name

PACKAGE = Path(__file__).resolve().parent.parent / "ita_bot"

#: Imports made inside a function that close a loop today. Each is a deliberate late binding of a rarely used
#: path; remove an entry as soon as its import is gone (the test fails while a listed edge no longer exists).
LATE_EDGES: frozenset[tuple[str, str]] = frozenset({
    # Store.backup()/restore() are thin doors to the archive module, which is built on the Store.
    ("ita_bot.store.database", "ita_bot.store.backup"),
    # The job runner starts the milestone reminders and the plan job, which reuse its result types.
    ("ita_bot.schedule.jobs", "ita_bot.schedule.milestones"),
    ("ita_bot.schedule.jobs", "ita_bot.schedule.plan_job"),
    # The console's clock key lives with the blueprint's factory, which imports the pages.
    ("ita_bot.console.base", "ita_bot.console"),
})


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements a module runs or type-checks at import: `if TYPE_CHECKING:` and `try:` blocks count."""
    found: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            found += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            found += _top_level(node.body) + _top_level(node.orelse) + _top_level(node.finalbody)
            for handler in node.handlers:
                found += _top_level(handler.body)
    return found


def import_graph(root: Path, *, late: bool) -> dict[str, set[str]]:
    """Module → the modules of ``root`` it imports; ``late`` adds the imports made inside functions."""
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        nodes = list(ast.walk(tree)) if late else _top_level(tree.body)
        deps: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                target = imported_from(package, node)
                subs = {f"{target}.{a.name}" for a in node.names} & paths.keys()
                # `from package import module` depends on the module, not on the package's __init__.
                deps |= subs or {target}
        graph[name] = (deps & paths.keys()) - {name}
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


def test_no_loop_among_the_imports_a_module_makes_when_loaded() -> None:
    graph = import_graph(PACKAGE, late=False)
    assert "ita_bot.domain.milestones" in graph["ita_bot.domain.plan"]  # the right tree, read: Plan holds Milestones
    assert cycles(graph) == []


def test_no_loop_even_through_imports_inside_functions() -> None:
    graph = import_graph(PACKAGE, late=True)
    for source, target in LATE_EDGES:
        assert target in graph[source], f"{source} no longer imports {target}: remove it from LATE_EDGES"
        graph[source] = graph[source] - {target}
    assert cycles(graph) == []


# ------------------------------------------------------------------ the checker itself finds a loop


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ita_bot"
    for rel, text in {"__init__.py": "", "domain/__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_a_loop_through_type_checking_and_relative_imports_is_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "domain/a.py": "from ita_bot.domain.b import x\n",
        "domain/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n",
        "domain/c.py": "from ita_bot.domain import a\n",
    })
    assert cycles(import_graph(root, late=False)) == [
        ["ita_bot.domain.a", "ita_bot.domain.b", "ita_bot.domain.c", "ita_bot.domain.a"]]


def test_imports_inside_functions_count_only_when_asked(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "domain/a.py": "import ita_bot.domain.b\n",
        "domain/b.py": "def late():\n    from ita_bot.domain import a\n\nfrom ita_bot.store.a import y\n",
    })
    assert import_graph(root, late=False)["ita_bot.domain.a"] == {"ita_bot.domain.b"}
    assert cycles(import_graph(root, late=False)) == []
    assert cycles(import_graph(root, late=True)) == [["ita_bot.domain.a", "ita_bot.domain.b", "ita_bot.domain.a"]]
