"""Races between two web processes' views of one office (two apps, each with its own connection pool on
PostgreSQL or its own view of the folder on TinyDB): two saves of one plan version, and two claims of one role code
through the webhook. Exactly one wins each; the other gets the product's answer for having lost."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from ita_bot.domain.config import load_config
from ita_bot.line_standin import LineStandIn
from ita_bot.store.pg import Database
from tests.chat_harness import ChatBot, Replies
from tests.conftest import MEMBER, SECRETARY, STAFF_CHANG, STAFF_KLANG, STAFF_SP, STAFF_SUKSA, STRANGER, write_config
from tests.console_harness import Browser, form_fields
from tests.races import at_once

ROUNDS = 4
CHANGED_MEANWHILE = "ถูกแก้ไขไปแล้วระหว่างที่ท่านกำลังแก้"


def second_pool_url(url: str) -> str:
    """The same database under another URL: `Database.shared` keys its pools by URL, so this app gets a pool of its
    own, as a second web process would."""
    return url + ("&" if "?" in url else "?") + "application_name=ita-second-web"


@pytest.fixture
def two_webs(tmp_path: Path, standin: LineStandIn, storage_env: dict[str, str]) -> Iterator[tuple[ChatBot, ChatBot]]:
    """Two web apps on one office: on PostgreSQL each with its own connection pool, on TinyDB over one folder."""
    config_path = write_config(tmp_path, {})
    base = {"ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": standin.url,
            "LINE_DATA_API_ENDPOINT": standin.url, **storage_env}
    other = dict(base)
    if "ITA_BOT_DATABASE_URL" in base:
        other["ITA_BOT_DATABASE_URL"] = second_pool_url(base["ITA_BOT_DATABASE_URL"])
    bots: list[ChatBot] = []
    first = ChatBot(standin, load_config(config_path, base), registry=bots)
    second = ChatBot(standin, load_config(config_path, other), registry=bots)
    try:
        yield first, second
    finally:
        for bot in bots:
            bot.close()
        if "ITA_BOT_DATABASE_URL" in other:
            Database.shared(other["ITA_BOT_DATABASE_URL"]).close()



def test_two_saves_of_one_plan_version_one_wins_the_other_is_told_it_changed_meanwhile(
    two_webs: tuple[ChatBot, ChatBot],
) -> None:
    first, second = two_webs
    browsers = [Browser(first), Browser(second)]
    for b in browsers:
        b.sign_in()
    page = "/admin/plans/2564/organization"
    for n in range(ROUNDS):
        version = first.office.plans.version(2564)
        assert second.office.plans.version(2564) == version  # both see the same version before the race
        forms = [form_fields(b.html(page)) for b in browsers]
        names = [f"อบต.หนองเมือง รอบ {n} ฉบับที่ {i}" for i in range(2)]
        for form, name in zip(forms, names, strict=True):
            form.setlist("short_name", [name])

        def save(b: Browser, form: Any) -> Callable[[], TestResponse]:
            return lambda: b.client.post(page, data=form, base_url=b.base, headers={"Referer": b.base + page})

        responses = at_once(*(save(b, form) for b, form in zip(browsers, forms, strict=True)))
        statuses = [r.status_code for r in responses]
        assert sorted(statuses) == [303, 409], statuses
        winner, loser = (0, 1) if statuses[0] == 303 else (1, 0)
        assert CHANGED_MEANWHILE in responses[loser].get_data(as_text=True)
        for bot in (first, second):
            plan = bot.office.plans.get(2564)
            assert plan is not None and plan.organization.short_name == names[winner]
            assert bot.office.plans.version(2564) != version
        assert first.office.plans.version(2564) == second.office.plans.version(2564)
    # One change per round in the history, each the winner's.
    changes = [c for c in first.office.plans.history() if c.section == "organization"]
    assert len(changes) == ROUNDS


def test_two_claims_of_one_role_code_through_the_webhook_one_person_gets_the_role(
    two_webs: tuple[ChatBot, ChatBot],
) -> None:
    first, second = two_webs
    pairs = [(MEMBER, STRANGER), (STAFF_SUKSA, STAFF_CHANG), (STAFF_KLANG, STAFF_SP)][: ROUNDS - 1]
    for claimants in pairs:
        code = first.send("/เชิญ กรรมการ", user=SECRETARY).texts[-1].split()[-1]
        events = [first.text_event(f"/รหัส {code}", user=uid) for uid in claimants]  # one timeline
        # Each web process takes one claim at once; the two are in two chats, which the journals (a pool of chat
        # threads each, in both processes) apply concurrently.
        at_once(*(lambda web=web, event=event: web.post_events([event])
                  for web, event in zip((first, second), events, strict=True)))
        first.wait_idle()
        second.wait_idle()
        replies = [first.replies_to(events[0]), second.replies_to(events[1])]
        assert all(isinstance(r, Replies) and r for r in replies)
        won = [i for i, uid in enumerate(claimants) if "member" in first.office.roles_of(uid)]
        assert len(won) == 1, [r.text for r in replies]
        [i] = won
        assert "member" in second.office.roles_of(claimants[i])
        assert not second.office.roles_of(claimants[1 - i]) and not first.office.roles_of(claimants[1 - i])
        assert "กรรมการ" in replies[i].text and "ถูกใช้ไปแล้ว" not in replies[i].text
        assert "ถูกใช้ไปแล้ว" in replies[1 - i].text
