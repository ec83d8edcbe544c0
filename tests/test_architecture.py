"""The import rules of the layer packages, checked by parsing every module under ita_bot/ (no import runs)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ita_bot"

#: The layers, bottom first. A component may import its own layer's modules only within itself, and any
#: component of a lower layer; never a higher layer, never a sibling (chat, schedule and publish are
#: independent edges over the same core). A component is a package or a top-level module under ita_bot/.
LAYERS: tuple[frozenset[str], ...] = (
    # The local LINE API stand-in (a tool, own world); the web process settings gunicorn checks
    frozenset({"line_standin", "deploy"}),
    # The pure core: plan, calendar, reports, people, config, and the repository interfaces (Protocols) that
    # say what it needs stored. It imports no backend: the store implements its interfaces, not the reverse.
    frozenset({"domain"}),
    frozenset({"store"}),  # the backends behind the repository interfaces (TinyDB files); open_office wires them
    frozenset({"line"}),  # the only wrapper of line-bot-sdk
    frozenset({"chat", "schedule", "publish"}),  # the edges: webhook + commands, timed pushes, public output
    frozenset({"console"}),  # the managers' console: a Flask blueprint over the core and the public views
    frozenset({"web"}),  # the Flask app factory that wires the edges
    frozenset({"service"}),  # the hosted service: many offices' apps, the clock over them, onboarding
    frozenset({"demo"}),  # the whole bot on the stand-in
    frozenset({"cli"}),  # the command line (bot.py), which can start any of the above
)

#: Frameworks a component may import; any other component importing one of these is a violation.
FRAMEWORKS = ("flask", "werkzeug", "linebot", "apscheduler", "docx", "tinydb", "psycopg", "psycopg_pool")
ALLOWED_FRAMEWORKS: dict[str, frozenset[str]] = {
    # The storage seam: no TinyDB query language and no SQL above it.
    "store": frozenset({"tinydb", "psycopg", "psycopg_pool"}),
    "line": frozenset({"linebot"}),
    # The stand-in validates request bodies with the SDK's own models, as LINE's server would reject them.
    "line_standin": frozenset({"linebot.v3.messaging"}),
    "chat": frozenset({"flask"}),
    "schedule": frozenset({"apscheduler"}),
    "publish": frozenset({"flask", "docx"}),
    "console": frozenset({"flask", "flask_wtf", "wtforms", "werkzeug"}),
    "web": frozenset({"flask", "werkzeug"}),  # werkzeug: the app's URL rule class (routing is werkzeug's)
    "service": frozenset({"flask", "flask_wtf", "wtforms", "werkzeug", "apscheduler"}),
    "demo": frozenset({"werkzeug"}),
}

#: Production code never talks to the stand-in; only the demo wires it in.
STANDIN_USERS = frozenset({"demo", "line_standin"})

#: Known edges that break the rules today, each with the place it is moving to. Remove an entry as soon as
#: its edge is gone; do not add entries to silence a new violation.
# Moving behind the repository interfaces (each repository: a Protocol in domain, its TinyDB implementation
# in store); an entry goes when its module stops importing the backend.
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset({
})


@dataclass(frozen=True)
class Edge:
    """One import statement: who imports what, and where."""

    importer: str  # dotted module name, e.g. ita_bot.chat.dispatch
    imported: str  # dotted module name as written (relative imports resolved)
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def _is_module(root: Path, dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] != root.name or len(parts) < 2:
        return False
    rel = root.joinpath(*parts[1:])
    return rel.with_suffix(".py").is_file() or (rel / "__init__.py").is_file()


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_from(package: str, node: ast.ImportFrom) -> str:
    """The dotted module a `from … import` statement in ``package`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def edges(root: Path) -> list[Edge]:
    """Every import of every module under root, including imports inside functions and TYPE_CHECKING."""
    found: list[Edge] = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                found += [Edge(name, alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = imported_from(package, node)
                found.append(Edge(name, target, node.lineno))
                # `from ita_bot.chat import webhook` imports the submodule ita_bot.chat.webhook as well.
                subs = [f"{target}.{a.name}" for a in node.names]
                found += [Edge(name, sub, node.lineno) for sub in subs if _is_module(root, sub)]
    return found


def component(module: str) -> str | None:
    """The layer component of an ita_bot module (ita_bot.chat.commands.info → chat); None outside ita_bot."""
    parts = module.split(".")
    if parts[0] != "ita_bot":
        return None
    return parts[1] if len(parts) > 1 else ""


def layer_of(comp: str) -> int:
    for level, members in enumerate(LAYERS):
        if comp in members:
            return level
    raise KeyError(comp)


def violations(root: Path) -> list[str]:
    """Every broken import rule under root (an ita_bot/ package directory), as readable lines."""
    problems: list[str] = []
    for edge in edges(root):
        if (edge.importer, edge.imported) in KNOWN_EXCEPTIONS:
            continue
        source = component(edge.importer)
        assert source is not None
        if source == "":
            continue  # ita_bot/__init__.py: the package itself
        top = edge.imported.split(".")[0]
        if top in FRAMEWORKS:
            allowed = ALLOWED_FRAMEWORKS.get(source, frozenset())
            if not any(edge.imported == a or edge.imported.startswith(a + ".") for a in allowed):
                problems.append(f"{edge}: {source} may not import {top}")
            continue
        target = component(edge.imported)
        if target is None or target == source:
            continue
        if target == "":
            continue  # `from ita_bot import web`: the submodule edge that edges() adds is judged instead
        if target == "line_standin" and source not in STANDIN_USERS:
            problems.append(f"{edge}: only the demo may use the LINE stand-in")
            continue
        try:
            src_level, dst_level = layer_of(source), layer_of(target)
        except KeyError as unknown:
            problems.append(f"{edge}: component {unknown} has no layer; add it to LAYERS")
            continue
        if dst_level > src_level:
            problems.append(f"{edge}: {source} (layer {src_level}) may not import upward into {target}")
        elif dst_level == src_level:
            problems.append(f"{edge}: {source} and {target} are siblings and stay independent")
    return problems


def test_every_component_has_a_layer() -> None:
    components = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    components = {c for c in components if c not in {"__init__", "__pycache__"} and not c.startswith(".")}
    components = {c for c in components if (PACKAGE / f"{c}.py").is_file() or (PACKAGE / c / "__init__.py").is_file()}
    layered = set().union(*LAYERS)
    assert components - layered == set(), "a new package or module needs its place in LAYERS"
    assert layered - components == set(), "LAYERS names a component that no longer exists"


def test_imports_follow_the_layers() -> None:
    assert violations(PACKAGE) == []


def test_known_exceptions_name_real_modules() -> None:
    # A misspelt exception would excuse nothing while looking as if it did.
    for importer, imported in KNOWN_EXCEPTIONS:
        assert _is_module(PACKAGE, importer), importer
        assert _is_module(PACKAGE, imported) or imported in FRAMEWORKS, imported


# ------------------------------------------------------------------ the checker itself catches violations


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ita_bot"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"domain/plan.py": "import flask\n"}, "domain may not import flask"),
        ({"domain/plan.py": "from werkzeug.serving import make_server\n"}, "domain may not import werkzeug"),
        ({"domain/plan.py": "def f():\n    from apscheduler.triggers.cron import CronTrigger\n"}, "apscheduler"),
        ({"chat/dispatch.py": "from linebot.v3.messaging import ApiClient\n"}, "chat may not import linebot"),
        ({"line_standin/server.py": "from linebot.v3.webhook import WebhookParser\n"}, "may not import linebot"),
        ({"store/database.py": "import docx\n"}, "store may not import docx"),
        ({"domain/plan.py": "from ita_bot.chat.progress_replies import x\n", "chat/progress_replies.py": ""}, "upward"),
        ({"domain/plan.py": "from ita_bot import web\n", "web.py": ""}, "upward into web"),
        ({"domain/plan.py": "from ita_bot.store.database import Store\n", "store/database.py": ""}, "upward"),
        ({"domain/plan.py": "from tinydb import Query\n"}, "domain may not import tinydb"),
        ({"chat/dispatch.py": "from tinydb import Query\n"}, "chat may not import tinydb"),
        ({"line/client.py": "from ..chat import webhook\n", "chat/webhook.py": ""}, "upward into chat"),
        ({"schedule/jobs.py": "from ita_bot.publish.memo import x\n", "publish/memo.py": ""}, "siblings"),
        ({"web.py": "from ita_bot.line_standin import LineStandIn\n"}, "only the demo"),
        ({"web.py": "from ita_bot.cli import main\n", "cli.py": ""}, "upward into cli"),
        ({"reports/x.py": "from ita_bot.domain import thai\n", "domain/thai.py": ""}, "has no layer"),
    ],
)
def test_the_checker_reports_a_forbidden_import(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    found = violations(_tree(tmp_path, files))
    assert any(expected in line for line in found), found


def test_the_checker_accepts_allowed_imports(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "domain/thai.py": "",
        "domain/office.py": "from ita_bot.domain import thai\n",
        "store/database.py": "import tinydb\n",
        "store/tiny/reports.py": "from ita_bot.domain.office import Office\nfrom ita_bot.store.database import Store\n",
        "line/client.py": "from linebot.v3.messaging import ApiClient\nfrom ita_bot.domain.thai import x\n",
        "chat/webhook.py": "from flask import Blueprint\nfrom .dispatch import handle\n",
        "chat/dispatch.py": "",
        "demo/world.py": "from ita_bot.line_standin import LineStandIn\nfrom ita_bot.web import create_app\n",
        "web.py": "",
    })
    assert violations(root) == []

