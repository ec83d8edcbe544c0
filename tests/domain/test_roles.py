"""Tests for the committee roles module `ita_bot.domain.roles`."""

from __future__ import annotations

import pytest

from ita_bot.domain.roles import COMMITTEE, MANAGERS, Role, is_manager, managers_thai, thai_title, thai_titles


def test_the_committee_in_its_order() -> None:
    assert [r.value for r in COMMITTEE] == ["chair", "vice_chair", "secretary", "assistant_secretary", "member"]
    assert [r.thai for r in COMMITTEE] == ["ประธาน", "รองประธาน", "เลขานุการ", "ผู้ช่วยเลขานุการ", "กรรมการ"]


def test_managers() -> None:
    assert MANAGERS == (Role.CHAIR, Role.SECRETARY, Role.ASSISTANT_SECRETARY)
    assert set(MANAGERS) < set(COMMITTEE)


def test_roles_are_their_machine_names() -> None:
    # Config, plan files and stored role codes hold plain strings; a Role must compare, hash and print as one.
    assert Role.VICE_CHAIR == "vice_chair"
    assert "secretary" in MANAGERS and "vice_chair" not in MANAGERS
    assert Role.CHAIR in frozenset({"chair"})
    assert f"{Role.ASSISTANT_SECRETARY}" == "assistant_secretary"


@pytest.mark.parametrize(("name", "title"), [("chair", "ประธาน"), ("member", "กรรมการ"), ("scribe", "scribe")])
def test_thai_title(name: str, title: str) -> None:
    assert thai_title(name) == title


def test_thai_titles_in_committee_order() -> None:
    assert thai_titles(["member", "chair", "scribe"]) == "ประธาน, กรรมการ"
    assert thai_titles(frozenset({Role.ASSISTANT_SECRETARY, Role.SECRETARY})) == "เลขานุการ, ผู้ช่วยเลขานุการ"
    assert thai_titles([]) == ""


def test_who_manages_is_one_set_said_one_way() -> None:
    assert all(is_manager([role]) for role in MANAGERS)
    assert not is_manager(["vice_chair", "member"]) and not is_manager([])
    assert is_manager(["member", "assistant_secretary"])
    # Every managing role is named, in the committee's order, joined as Thai lists are.
    assert managers_thai() == "ประธาน เลขานุการ และผู้ช่วยเลขานุการ"
    assert managers_thai("หรือ") == "ประธาน เลขานุการ หรือผู้ช่วยเลขานุการ"
    assert all(role.thai in managers_thai() for role in MANAGERS)
