"""Chat commands that change who may manage go through the domain's actions: claiming a role, a console sign-in link."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.actions import VIA_CHAT, VIA_CLI, ActionRefused, Actor, ManagerActions
from ita_bot.domain.signin import SignIn
from ita_bot.domain.thai import BANGKOK
from tests.conftest import MEMBER, ROOT, SECRETARY, STAFF_SP

pytestmark = pytest.mark.backends("tinydb", "postgresql")

NOW = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
COMMANDS = ROOT / "ita_bot" / "chat" / "commands"


def names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names
    }


def acting(office: Any, user_id: str | None, hook: list[str] | None = None) -> ManagerActions:
    fired = (lambda _office: hook.append("roles changed")) if hook is not None else None
    return ManagerActions(office, Actor.of(office, user_id, VIA_CHAT if user_id else VIA_CLI), NOW, fired)


def test_claiming_a_role_fires_the_roles_changed_hook_once(office: Any) -> None:
    code = acting(office, SECRETARY).issue_code("member")
    fired: list[str] = []
    assert acting(office, MEMBER, fired).claim_role(code) == "member"
    assert fired == ["roles changed"]
    assert "member" in office.roles_of(MEMBER)
    with pytest.raises(ActionRefused, match="ถูกใช้ไปแล้ว"):  # the code works once; a refusal changes no menu
        acting(office, STAFF_SP, fired).claim_role(code)
    assert fired == ["roles changed"]


def test_the_claim_command_leaves_the_hook_to_the_action() -> None:
    """`/รหัส` calls the action, which fires the hook: a second call in the command would sync menus twice."""
    assert "roles_changed" not in names_used(COMMANDS / "info.py")
    assert "claim_code" not in (COMMANDS / "info.py").read_text(encoding="utf-8")


def test_a_sign_in_link_is_issued_by_the_action_and_recorded_without_the_token(office: Any) -> None:
    token = acting(office, SECRETARY).sign_in_link()
    assert SignIn(office.repositories.signin).redeem(token, NOW) == SECRETARY
    [entry] = office.audit.entries()
    assert (entry.section, entry.via) == ("การเข้าระบบจัดการ", VIA_CHAT)
    assert "ขอลิงก์เข้าระบบจัดการ" in entry.summary and token not in str(entry)


@pytest.mark.parametrize("who", [STAFF_SP, None], ids=["staff", "administrator"])
def test_a_sign_in_link_is_only_for_a_manager(office: Any, who: str | None) -> None:
    with pytest.raises(ActionRefused):
        acting(office, who).sign_in_link()
    assert office.audit.entries() == []


def test_the_console_command_issues_links_only_through_the_action() -> None:
    for path in COMMANDS.glob("*.py"):
        assert "SignIn" not in names_used(path), f"{path.name} issues a sign-in link itself"


def test_asking_for_a_link_in_chat_is_in_the_history(bot: Any) -> None:
    assert "/admin/login/" in bot.send("/จัดการ", user=SECRETARY).text
    [entry] = bot.office.audit.entries()
    assert entry.section == "การเข้าระบบจัดการ" and entry.via == VIA_CHAT
