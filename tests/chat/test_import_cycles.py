"""No import cycle among the chat edge's modules (imports inside functions count: they are dependencies too)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

CHAT = ROOT / "ita_bot" / "chat"

#: Edges that close a cycle today, each with the change that removes it. Remove an entry as soon as its edge is
#: gone (the test fails while a listed edge no longer exists); never add one to silence a new cycle.
# The commands that change roles hand the rich menus' roles-changed hook to the domain's actions
# (chat/commands/acting.py imports chat.richmenus), while richmenus reads the command table through
# menus.available(): commands -> richmenus -> menus -> registry -> commands. It goes when the chat edge hands
# the hook in with the message (a ChatContext field that dispatch fills, as web.py wires the edge), so no
# command module imports richmenus.
KNOWN_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset({
    ("ita_bot.chat.commands.acting", "ita_bot.chat.richmenus"),
})


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The chat modules ``path`` imports anywhere in it (``from package import module`` resolved to the module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & modules
            # `from package import module` depends on the module; the package's __init__ is only its parent.
            found |= submodules or {node.module}
    return found & modules


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in CHAT.rglob("*.py")}
    return {name: imports_of(path, set(paths)) - {name} for name, path in paths.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), as a path back to its start."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    out = []
    for group in groups:
        start = min(group)
        path, seen = [start], {start}
        while True:  # walk inside the group until a module repeats
            step = min(w for w in edges[path[-1]] if w in group)
            if step in seen:
                out.append([*path[path.index(step):], step])
                break
            path.append(step)
            seen.add(step)
    return out


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_imports_inside_functions_and_submodules(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from a import b\n\ndef f():\n    import c\n    from d import e\n", encoding="utf-8")
    assert imports_of(source, {"a", "a.b", "c", "d", "d.x"}) == {"a.b", "c", "d"}
    assert "ita_bot.chat.commands.info" in graph()["ita_bot.chat.commands.registry"]


def test_no_import_cycle_in_the_chat_edge() -> None:
    edges = graph()
    for source, target in KNOWN_CYCLE_EDGES:
        assert target in edges[source], f"{source} no longer imports {target}: remove it from KNOWN_CYCLE_EDGES"
        edges[source] = edges[source] - {target}
    assert cycles(edges) == []
