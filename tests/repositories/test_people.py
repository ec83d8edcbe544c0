"""The PeopleRepository contract: people, role codes and failed claims, in transactions, on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ita_bot.domain.people import Person, RoleCode
from ita_bot.domain.repositories import Repositories


def code(hash_: str = "h1", role: str = "committee", expires_at: str = "2021-02-13T09:00:00+07:00") -> RoleCode:
    return RoleCode(hash_, role, "U-secretary", "2021-02-10T09:00:00+07:00", expires_at)


def test_a_person_put_is_got_back_with_a_handle(repositories: Repositories) -> None:
    with repositories.people.write() as db:
        stored = db.put(Person("U1", "สมชาย", "sp", roles=["committee"]))
    assert stored.handle == 1
    with repositories.people.read() as db:
        assert db.get("U1") == stored
        assert db.get("U2") is None
        assert db.all() == [stored]


def test_handles_grow_and_are_never_given_again(repositories: Repositories) -> None:
    with repositories.people.write() as db:
        handles = [db.put(Person(f"U{n}")).handle for n in range(1, 4)]
        assert handles == [1, 2, 3]
        assert db.remove("U3") is not None
        assert db.put(Person("U4")).handle == 4  # #3 belonged to someone removed: never reused
        kept = db.put(Person("U1", "ชื่อใหม่", handle=1))
        assert kept.handle == 1  # a person keeps their handle when changed
    with repositories.people.read() as db:
        assert [(p.user_id, p.handle, p.name) for p in db.all()] == [("U1", 1, "ชื่อใหม่"), ("U2", 2, ""),
                                                                    ("U4", 4, "")]


def test_put_replaces_by_user_id_and_remove_returns_the_record(repositories: Repositories) -> None:
    with repositories.people.write() as db:
        first = db.put(Person("U1", "ก", "sp"))
        db.put(Person("U1", "ข", "chang", approved=False, handle=first.handle))
    with repositories.people.write() as db:
        assert [(p.name, p.division, p.approved) for p in db.all()] == [("ข", "chang", False)]
        removed = db.remove("U1")
        assert removed is not None and removed.name == "ข"
        assert db.remove("U1") is None
    with repositories.people.read() as db:
        assert db.all() == []


def test_a_write_that_raises_keeps_nothing(repositories: Repositories) -> None:
    with pytest.raises(RuntimeError), repositories.people.write() as db:
        db.put(Person("U1"))
        db.add_code(code())
        db.add_failed_claim("U1", "2021-02-10T09:00:00+07:00")
        raise RuntimeError("roll back")
    with repositories.people.read() as db:
        assert db.all() == [] and db.codes() == [] and db.failed_claims("U1") == []


def test_people_handed_out_are_copies(repositories: Repositories) -> None:
    with repositories.people.write() as db:
        put = db.put(Person("U1", "สมชาย", roles=["committee"]))
    put.roles.append("chair")
    with repositories.people.read() as db:
        mine = db.get("U1")
        assert mine is not None and mine.roles == ["committee"]
        mine.roles.append("chair")
        mine.name = "คนอื่น"
        db.all()[0].roles.append("secretary")
    with repositories.people.read() as db:
        again = db.get("U1")
        assert again is not None and again.roles == ["committee"] and again.name == "สมชาย"


def test_codes_are_numbered_found_by_hash_used_and_removed(repositories: Repositories) -> None:
    with repositories.people.write() as db:
        first, second = db.add_code(code("h1")), db.add_code(code("h2", "secretary"))
    assert first < second
    with repositories.people.read() as db:
        assert [(c.number, c.hash, c.role) for c in db.codes()] == [(first, "h1", "committee"),
                                                                    (second, "h2", "secretary")]
        found = db.code_by_hash("h2")
        assert found is not None and found.number == second and found.used_by is None
        assert db.code_by_hash("nope") is None and db.code(second + 10) is None
    with repositories.people.write() as db:
        db.mark_used(first, "U7", "2021-02-11T10:00:00+07:00")
        db.remove_code(second)
    with repositories.people.read() as db:
        used = db.code(first)
        assert used is not None and (used.used_by, used.used_at) == ("U7", "2021-02-11T10:00:00+07:00")
        assert db.code(second) is None and [c.number for c in db.codes()] == [first]


def test_code_numbers_grow_and_are_never_given_again(open_repositories: Callable[[], Repositories]) -> None:
    repositories = open_repositories()
    with repositories.people.write() as db:
        assert [db.add_code(code("h1")), db.add_code(code("h2"))] == [1, 2]
    with repositories.people.write() as db:
        db.remove_code(2)  # the newest, revoked
    with repositories.people.write() as db:
        assert db.add_code(code("h3")) == 3  # #2 was a revoked code's: never given again
    with repositories.people.write() as db:
        db.remove_code(3)
    with open_repositories().people.write() as db:  # another process counts on from the same place
        assert db.add_code(code("h4")) == 4
    with repositories.people.read() as db:
        assert [(c.number, c.hash) for c in db.codes()] == [(1, "h1"), (4, "h4")]


def test_codes_stored_before_the_counter_are_counted_on_from(repositories: Repositories) -> None:
    """Data written before code numbers had a counter: the next number is one more than the highest stored."""
    with repositories.people.write() as db:
        assert [db.add_code(code(f"h{n}")) for n in range(1, 4)] == [1, 2, 3]
    _forget_counter(repositories, "code_number")
    with repositories.people.write() as db:
        db.remove_code(1)
        assert db.add_code(code("h4")) == 4


def _forget_counter(repositories: Repositories, name: str) -> None:
    """Remove a counter as if the data predated it (each backend's own way: no repository forgets one)."""
    from tinydb import Query

    from ita_bot.store.pg.people import PgPeople
    from ita_bot.store.tiny.people import TinyPeople

    people = repositories.people
    if isinstance(people, TinyPeople):
        with people.store.write() as tiny:
            assert tiny.table("counters").remove(Query().name == name)
    else:
        assert isinstance(people, PgPeople), type(people)
        with people.db.transaction() as conn:
            assert conn.execute("DELETE FROM counters WHERE office = %s AND name = %s",
                                (people.office, name)).rowcount == 1


def test_failed_claims_are_kept_per_person(repositories: Repositories) -> None:
    with repositories.people.write() as db:
        db.add_failed_claim("U1", "2021-02-10T09:00:00+07:00")
        db.add_failed_claim("U1", "2021-02-10T09:01:00+07:00")
        db.add_failed_claim("U2", "2021-02-10T09:02:00+07:00")
    with repositories.people.read() as db:
        assert sorted(db.failed_claims("U1")) == ["2021-02-10T09:00:00+07:00", "2021-02-10T09:01:00+07:00"]
        assert db.failed_claims("U3") == []


def test_a_second_opening_sees_the_first_ones_writes(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories().people, open_repositories().people
    with second.read() as db:
        assert db.all() == []
    with first.write() as db:
        db.put(Person("U1", "สมชาย"))
        number = db.add_code(code())
    with second.write() as db:
        person = db.get("U1")
        assert person is not None and person.name == "สมชาย"
        assert db.put(Person("U2")).handle == person.handle + 1  # handles continue across openings
        assert db.code(number) is not None
