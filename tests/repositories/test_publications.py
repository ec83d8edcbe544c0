"""Contract of the publication repository: approvals, ITAS snapshots and link checks per fiscal year, every backend."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from ita_bot.domain.inbox import StorageError
from ita_bot.domain.publication import Approval, LinkCheck, SnapshotInfo, SnapshotTaken
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.pg import Database, postgresql_repositories
from ita_bot.store.tiny import tinydb_repositories
from tests.postgres import new_office
from tests.races import at_once

AT = datetime(2025, 9, 30, 16, 45, 12, 345678, tzinfo=BANGKOK)
HTML = "<!doctype html><title>รายงานผลการดำเนินการ ปีงบประมาณ 2568</title>".encode() + bytes(range(256))
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"


def approval(name: str = "นายสมชาย ใจดี", on: date = date(2025, 10, 1)) -> Approval:
    return Approval(name, "นายกองค์การบริหารส่วนตำบลหนองเมือง", on, "#1 สมศรี (เลขานุการ)", AT)


def same_moment(a: datetime, b: datetime) -> bool:
    """The same instant shown at the same offset (Bangkok's +07:00), not merely equal."""
    return a == b and a.utcoffset() == b.utcoffset() and a.tzinfo is not None and b.tzinfo is not None


# -- the approval -------------------------------------------------------------------------------------------------


def test_an_approval_is_set_replaced_and_withdrawn_per_fiscal_year(
        open_repositories: Callable[[], Repositories]) -> None:
    pubs = open_repositories().publications
    assert pubs.approval(2568) is None
    pubs.set_approval(2568, approval())
    pubs.set_approval(2567, approval("นางสาวใจดี มีสุข", date(2024, 10, 3)))
    kept = open_repositories().publications.approval(2568)  # another process's view
    assert kept == approval() and kept is not None and same_moment(kept.recorded_at, AT)
    assert pubs.approval(2567) == approval("นางสาวใจดี มีสุข", date(2024, 10, 3))

    pubs.set_approval(2568, approval("นายใหม่ แทนที่", date(2025, 10, 15)))
    assert open_repositories().publications.approval(2568) == approval("นายใหม่ แทนที่", date(2025, 10, 15))
    pubs.set_approval(2568, None)
    assert open_repositories().publications.approval(2568) is None
    assert pubs.approval(2567) is not None  # another year's is untouched
    pubs.set_approval(2568, None)  # withdrawing what is not there is no error
    assert pubs.approval(2568) is None


def test_a_time_without_its_zone_is_refused_and_nothing_kept(repositories: Repositories) -> None:
    pubs = repositories.publications
    naive = AT.replace(tzinfo=None)
    with pytest.raises(ValueError):
        pubs.set_approval(2568, Approval("ก", "ข", date(2025, 10, 1), "ค", naive))
    with pytest.raises(ValueError):
        pubs.add_snapshot(2568, taken_at=naive, taken_by="ค", html=HTML, pdf=PDF)
    with pytest.raises(ValueError):
        pubs.set_link_check(2568, LinkCheck(naive, "https://a.example", "https://b.example", False))
    assert pubs.approval(2568) is None and pubs.snapshots(2568) == [] and pubs.link_check(2568) is None


# -- snapshots ----------------------------------------------------------------------------------------------------


def test_snapshots_are_numbered_per_year_listed_oldest_first_and_kept_byte_exact(
        open_repositories: Callable[[], Repositories]) -> None:
    pubs = open_repositories().publications
    assert pubs.snapshots(2568) == []
    first = pubs.add_snapshot(2568, taken_at=AT, taken_by="#1 สมศรี", html=HTML, pdf=PDF)
    second = pubs.add_snapshot(2568, taken_at=AT.replace(day=29), taken_by="#2 สมชาย", html=HTML + b"2",
                               pdf=PDF + b"2")
    other_year = pubs.add_snapshot(2567, taken_at=AT, taken_by="#1 สมศรี", html=b"<p>2567</p>", pdf=b"%PDF 2567")
    assert (first.number, second.number, other_year.number) == (1, 2, 1)
    assert first.fiscal_year == 2568 and first.taken_by == "#1 สมศรี"
    assert first.sha256 == hashlib.sha256(HTML).hexdigest()  # of the HTML, so a copy can be checked

    again = open_repositories().publications
    listed = again.snapshots(2568)
    assert listed == [first, second]  # oldest first, exactly as returned when taken
    assert all(same_moment(a.taken_at, b.taken_at) for a, b in zip(listed, [first, second], strict=True))
    assert again.snapshots(2567) == [other_year] and again.snapshots(2566) == []
    assert again.snapshot_file(2568, 1, "html") == HTML and again.snapshot_file(2568, 1, "pdf") == PDF
    assert again.snapshot_file(2568, 2, "html") == HTML + b"2" and again.snapshot_file(2568, 2, "pdf") == PDF + b"2"
    assert again.snapshot_file(2567, 1, "pdf") == b"%PDF 2567"


def test_a_snapshot_rendered_for_a_number_taken_meanwhile_is_refused_and_nothing_kept(
        repositories: Repositories) -> None:
    # The frozen page links to its own PDF by number: kept under any other number, that link would be wrong.
    pubs = repositories.publications
    first = pubs.add_snapshot(2568, taken_at=AT, taken_by="#1 สมศรี", html=HTML, pdf=PDF, number=1)
    with pytest.raises(SnapshotTaken):
        pubs.add_snapshot(2568, taken_at=AT, taken_by="#2 สมชาย", html=HTML + b"late", pdf=PDF, number=1)
    assert pubs.snapshots(2568) == [first] and pubs.snapshot_file(2568, 1, "html") == HTML
    assert pubs.add_snapshot(2568, taken_at=AT, taken_by="#2 สมชาย", html=HTML, pdf=PDF, number=2).number == 2


@pytest.mark.parametrize("year, number", [(2568, 3), (2568, 0), (2568, -1), (2566, 1), (2568, 2**40),
                                          (2568, True), (2568, "1"), (2568, "../1"), ("2568", 1)])
def test_an_unknown_snapshot_is_none(repositories: Repositories, year: object, number: object) -> None:
    pubs = repositories.publications
    pubs.add_snapshot(2568, taken_at=AT, taken_by="ก", html=HTML, pdf=PDF)
    pubs.add_snapshot(2568, taken_at=AT, taken_by="ก", html=HTML, pdf=PDF)
    for kind in ("html", "pdf"):
        assert pubs.snapshot_file(year, number, kind) is None  # type: ignore[arg-type]


def test_a_snapshot_file_kind_other_than_html_or_pdf_is_refused(repositories: Repositories) -> None:
    pubs = repositories.publications
    pubs.add_snapshot(2568, taken_at=AT, taken_by="ก", html=HTML, pdf=PDF)
    with pytest.raises(ValueError):
        pubs.snapshot_file(2568, 1, "json")  # type: ignore[arg-type]


def test_two_managers_freezing_at_once_get_two_numbers_and_both_are_kept(
        open_repositories: Callable[[], Repositories]) -> None:
    """Each freeze from its own process's view (its own Store; its own pool), all released together."""
    views = [open_repositories().publications for _ in range(4)]
    made = at_once(*(lambda v=v, i=i: v.add_snapshot(2568, taken_at=AT, taken_by=f"#{i}", html=HTML + bytes([i]),
                                                     pdf=PDF + bytes([i]))
                     for i, v in enumerate(views)))
    assert sorted(s.number for s in made) == [1, 2, 3, 4]
    listed = open_repositories().publications.snapshots(2568)
    assert listed == sorted(made, key=lambda s: s.number)
    reader = open_repositories().publications
    for s in made:
        i = int(s.taken_by[1:])
        assert reader.snapshot_file(2568, s.number, "html") == HTML + bytes([i])
        assert reader.snapshot_file(2568, s.number, "pdf") == PDF + bytes([i])


def test_a_snapshot_is_never_changed_by_later_ones_or_by_other_records(repositories: Repositories) -> None:
    pubs = repositories.publications
    first = pubs.add_snapshot(2568, taken_at=AT, taken_by="ก", html=HTML, pdf=PDF)
    for i in range(3):
        pubs.add_snapshot(2568, taken_at=AT, taken_by="ข", html=b"<p>later %d</p>" % i, pdf=b"%%PDF later %d" % i)
    pubs.set_approval(2568, approval())
    pubs.set_link_check(2568, LinkCheck(AT, "https://nongmuang.go.th", "https://ita.example/reports/2568", True))
    assert pubs.snapshots(2568)[0] == first
    assert pubs.snapshot_file(2568, 1, "html") == HTML and pubs.snapshot_file(2568, 1, "pdf") == PDF
    assert [s.number for s in pubs.snapshots(2568)] == [1, 2, 3, 4]


# -- the link check -----------------------------------------------------------------------------------------------


def test_the_last_link_check_is_kept_per_year_and_replaced(open_repositories: Callable[[], Repositories]) -> None:
    pubs = open_repositories().publications
    assert pubs.link_check(2568) is None
    failed = LinkCheck(AT, "https://nongmuang.go.th", "https://ita.example/reports/2568", False,
                       problem="อ่านหน้าเว็บไซต์หลักไม่ได้ (หมดเวลารอ)")
    pubs.set_link_check(2568, failed)
    kept = open_repositories().publications.link_check(2568)
    assert kept == failed and kept is not None and same_moment(kept.checked_at, AT)
    found = LinkCheck(AT.replace(hour=17), "https://nongmuang.go.th", "https://ita.example/reports/2568", True,
                      path=("ข้อมูลสาธารณะ (OIT)", "O43 การดำเนินการตามมาตรการ"))
    pubs.set_link_check(2568, found)
    assert open_repositories().publications.link_check(2568) == found
    assert pubs.link_check(2567) is None


# -- offices apart --------------------------------------------------------------------------------------------------


def fill(repos: Repositories, who: str) -> None:
    repos.publications.set_approval(2568, approval(who))
    repos.publications.add_snapshot(2568, taken_at=AT, taken_by=who, html=who.encode(), pdf=who.encode())
    repos.publications.set_link_check(2568, LinkCheck(AT, f"https://{who}.example", "t", True))


def test_two_offices_in_one_database_never_see_each_others_records(postgres_database: str) -> None:
    db = Database(postgres_database, max_size=2)
    try:
        a, b = (postgresql_repositories(db, new_office(postgres_database)) for _ in range(2))
        fill(a, "a")
        assert b.publications.approval(2568) is None and b.publications.snapshots(2568) == []
        assert b.publications.snapshot_file(2568, 1, "html") is None and b.publications.link_check(2568) is None
        fill(b, "b")  # b's own snapshot is its number 1 too
        for repos, who in ((a, "a"), (b, "b")):
            assert repos.publications.approval(2568) == approval(who)
            assert [s.taken_by for s in repos.publications.snapshots(2568)] == [who]
            assert repos.publications.snapshot_file(2568, 1, "pdf") == who.encode()
            assert repos.publications.link_check(2568).site == f"https://{who}.example"  # type: ignore[union-attr]
    finally:
        db.close()


def test_on_tinydb_each_office_keeps_its_records_in_its_own_folder(tmp_path: Path) -> None:
    a, b = tinydb_repositories(tmp_path / "a"), tinydb_repositories(tmp_path / "b")
    fill(a, "a")
    assert b.publications.approval(2568) is None and b.publications.snapshots(2568) == []
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")) == ["a/snapshots/2568/1.html"]
    fill(b, "b")
    assert a.publications.snapshot_file(2568, 1, "html") == b"a"
    assert b.publications.snapshot_file(2568, 1, "html") == b"b"


# -- TinyDB: files before their row --------------------------------------------------------------------------------


def test_on_tinydb_a_failed_commit_lists_nothing_and_the_next_snapshot_takes_its_number(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are written before the row; a commit that fails leaves files no row names, which nobody can read
    and the next snapshot replaces whole."""
    import ita_bot.store.database as database

    pubs = tinydb_repositories(tmp_path).publications
    real = database.write_atomic

    def refuse_the_database(target: Path, data: object, **kw: object) -> object:
        if target.suffix == ".json":
            raise OSError(28, "No space left on device")
        return real(target, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(database, "write_atomic", refuse_the_database)
    with pytest.raises(StorageError, match="could not be written"):
        pubs.add_snapshot(2568, taken_at=AT, taken_by="ก", html=b"lost", pdf=b"lost")
    assert (tmp_path / "snapshots" / "2568" / "1.html").read_bytes() == b"lost"  # the files went first
    assert pubs.snapshots(2568) == [] and pubs.snapshot_file(2568, 1, "html") is None
    monkeypatch.setattr(database, "write_atomic", real)

    info = pubs.add_snapshot(2568, taken_at=AT, taken_by="ข", html=HTML, pdf=PDF)
    assert info.number == 1
    assert pubs.snapshot_file(2568, 1, "html") == HTML and pubs.snapshot_file(2568, 1, "pdf") == PDF


def test_on_tinydb_a_snapshot_file_gone_or_changed_is_reported_not_served(tmp_path: Path) -> None:
    pubs = tinydb_repositories(tmp_path).publications
    pubs.add_snapshot(2568, taken_at=AT, taken_by="ก", html=HTML, pdf=PDF)
    (tmp_path / "snapshots" / "2568" / "1.pdf").write_bytes(b"edited by hand")
    os.unlink(tmp_path / "snapshots" / "2568" / "1.html")
    for kind in ("html", "pdf"):
        with pytest.raises(StorageError):
            pubs.snapshot_file(2568, 1, kind)


def test_snapshot_info_is_the_protocols_dataclass(repositories: Repositories) -> None:
    made = repositories.publications.add_snapshot(2568, taken_at=AT, taken_by="ก", html=HTML, pdf=PDF)
    assert isinstance(made, SnapshotInfo) and made == repositories.publications.snapshots(2568)[0]
