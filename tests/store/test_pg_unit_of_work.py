"""On PostgreSQL a manager's change and its audit entry are one transaction: when the entry cannot be written,
the change is not kept either. The audit insert is made to fail by a trigger on this test's own office."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ita_bot.domain.actions import VIA_CONSOLE, Actor, ManagerActions
from ita_bot.domain.config import Config, DocumentSettings
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.pg import Database, postgresql_repositories
from tests.conftest import CHAIR, SECRETARY, STAFF_KLANG, STAFF_SP

NOW = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)


@pytest.fixture
def pg(postgres_office: tuple[str, str], config: Config, tmp_path: Path) -> Iterator[tuple[Office, Database, str]]:
    """An office on PostgreSQL (its records in an office of its own), its pool and its slug."""
    url, slug = postgres_office
    db = Database(url, max_size=4)
    try:
        yield Office(config, postgresql_repositories(db, slug), now=lambda: NOW), db, slug
    finally:
        db.close()


@contextlib.contextmanager
def audit_refused(db: Database, slug: str) -> Iterator[None]:
    """Every audit insert of office ``slug`` fails (a real error from the server) while the block runs; other
    offices sharing the database are not touched."""
    name = sql.Identifier(f"refuse_audit_{slug.replace('-', '_')}")
    with db.transaction() as conn:
        conn.execute(sql.SQL("CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS "
                             "$$ BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$").format(name))
        conn.execute(sql.SQL("CREATE TRIGGER {} BEFORE INSERT ON audit FOR EACH ROW WHEN (NEW.office = {}) "
                             "EXECUTE FUNCTION {}()").format(name, sql.Literal(slug), name))
    try:
        yield
    finally:
        with db.transaction() as conn:
            conn.execute(sql.SQL("DROP TRIGGER {} ON audit").format(name))
            conn.execute(sql.SQL("DROP FUNCTION {}()").format(name))


def acting(office: Office, user_id: str) -> ManagerActions:
    return ManagerActions(office, Actor.of(office, user_id, VIA_CONSOLE), NOW)


def state(office: Office) -> dict[str, Any]:
    """Everything the actions below change, as stored."""
    return {
        "people": [(p.user_id, p.approved, p.division) for p in office.people.all()],
        "codes": office.people.unused_codes(NOW),
        "meetings": office.meeting_overrides(),
        "memo": dict(office.settings.memo_header()),
        "audit": office.audit.entries(),
    }


def test_an_action_whose_audit_entry_fails_is_not_kept(pg: tuple[Office, Database, str]) -> None:
    office, db, slug = pg
    office.people.register(STAFF_SP, "สมชาย สป", "sp", approved=False, now=NOW)
    office.people.register(STAFF_KLANG, "มานี คลัง", "klang", approved=True, now=NOW)
    [sp, klang] = [office.people.get(u) for u in (STAFF_SP, STAFF_KLANG)]
    assert sp is not None and klang is not None
    cycle = office.calendar().cycle("2021-03")
    actions: list[Callable[[], object]] = [
        lambda: acting(office, SECRETARY).approve(sp),
        lambda: acting(office, CHAIR).remove(klang),
        lambda: acting(office, SECRETARY).issue_code("member"),
        lambda: acting(office, SECRETARY).move_meeting(cycle, cycle.meeting - timedelta(days=1)),
        lambda: acting(office, SECRETARY).set_memo_header(DocumentSettings(office="สำนักปลัด"),
                                                          {"office": "ส่วนราชการ"}),
    ]
    before = state(office)
    with audit_refused(db, slug):
        for action in actions:
            with pytest.raises(psycopg.Error, match="audit refused by the test"):
                action()
            assert state(office) == before  # neither the change nor its entry
    # The trigger was the only obstacle: the same actions, now recorded, are kept.
    for action in actions:
        action()
    after = state(office)
    assert [e.summary for e in after["audit"]][-1].startswith("อนุมัติ")  # oldest last: the approval came first
    assert len(after["audit"]) == len(actions)
    assert (STAFF_SP, True, "sp") in after["people"] and all(p[0] != STAFF_KLANG for p in after["people"])
    assert len(after["codes"]) == 1 and after["meetings"] and after["memo"]["office"] == "สำนักปลัด"
