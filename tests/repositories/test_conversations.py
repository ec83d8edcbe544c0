"""Contract of the conversation repository: one draft per (chat, person), replaced, removed, swept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ita_bot.domain.conversations import Draft
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

NOW = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)


def draft(chat: str, user: str, at: datetime = NOW, **kw: object) -> Draft:
    return Draft(chat, user, "measure", at.isoformat(), at.isoformat(), id=f"{chat}-{user}", **kw)  # type: ignore[arg-type]


def test_a_draft_per_chat_and_person_seen_by_another_process(open_repositories: Callable[[], Repositories]) -> None:
    first = open_repositories().conversations
    first.put(draft("C1", "U1"))
    first.put(draft("C1", "U2"))
    first.put(draft("C2", "U1"))
    other = open_repositories().conversations
    assert other.get("C1", "U1") == draft("C1", "U1")
    assert other.get("C1", "U2") == draft("C1", "U2") and other.get("C2", "U1") == draft("C2", "U1")
    assert other.get("C2", "U2") is None


def test_put_replaces_the_persons_draft_in_that_chat(repositories: Repositories) -> None:
    drafts = repositories.conversations
    drafts.put(draft("C1", "U1"))
    newer = Draft("C1", "U1", "details", NOW.isoformat(), (NOW + timedelta(minutes=1)).isoformat(), measure=2,
                  status="doing", percent=40, id="x")
    drafts.put(newer)
    assert drafts.get("C1", "U1") == newer


def test_remove_says_whether_there_was_one(repositories: Repositories) -> None:
    drafts = repositories.conversations
    drafts.put(draft("C1", "U1"))
    assert drafts.remove("C1", "U1") is True
    assert drafts.remove("C1", "U1") is False
    assert drafts.get("C1", "U1") is None
