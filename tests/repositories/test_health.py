"""Contract of the pre-flight check: a backend in use reads back whole."""

from __future__ import annotations

from datetime import datetime

from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK


def test_an_empty_and_a_used_backend_both_pass(repositories: Repositories) -> None:
    repositories.health.check()
    now = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
    repositories.heartbeats.beat(Heartbeat("clock", now))
    repositories.evidence.save("2564/r1/1.jpg", b"\xff\xd8\xff")
    repositories.health.check()


def test_publication_records_and_snapshot_files_are_checked(repositories: Repositories) -> None:
    from datetime import date

    from ita_bot.domain.publication import Approval, LinkCheck

    now = datetime(2025, 10, 1, 9, 0, tzinfo=BANGKOK)
    pubs = repositories.publications
    pubs.set_approval(2568, Approval("นายสมชาย ใจดี", "นายก อบต.", date(2025, 10, 1), "#1", now))
    pubs.set_link_check(2568, LinkCheck(now, "https://a.example", "https://b.example", False, problem="อ่านไม่ได้"))
    pubs.add_snapshot(2568, taken_at=now, taken_by="#1", html=b"<p>1</p>", pdf=b"%PDF-1")
    repositories.health.check()
