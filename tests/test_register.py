"""Every text the bot shows is polite neutral Thai: no gendered particle (ครับ, ค่ะ, คะ) in a string or template."""

from __future__ import annotations

import ast
import re

from tests.conftest import ROOT

PACKAGE = ROOT / "ita_bot"
# คะ only as the particle: not the first syllable of a word such as คะแนน (score).
GENDERED = re.compile(r"ครับ|ค่ะ|คะ(?![\u0e01-\u0e5b])")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: they document the code for its readers, they are never shown."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def gendered_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal (f-string parts included) with a gendered particle, docstrings aside."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        and GENDERED.search(node.value)
    ]


def test_the_scan_finds_a_particle_in_a_reply_and_passes_a_score() -> None:
    assert gendered_literals('reply = f"บันทึกแล้วครับ {n}"\n') == [(1, "บันทึกแล้วครับ ")]
    assert gendered_literals('x = "ได้ค่ะ"\ny = "จริงหรือคะ?"\n') == [(1, "ได้ค่ะ"), (2, "จริงหรือคะ?")]
    assert gendered_literals('def f():\n    """People add "ครับ"."""\n    return "คะแนนรวม"\n') == []


def test_no_gendered_particle_in_a_python_string() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, text in gendered_literals(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_no_gendered_particle_in_a_template() -> None:
    templates = [p for p in PACKAGE.rglob("*") if p.suffix in (".html", ".js", ".txt")]
    assert templates, "no templates found: the scan would pass for nothing"
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in templates
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if GENDERED.search(line)
    ]
    assert found == []
