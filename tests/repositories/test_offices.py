"""The office registry's contract, on both backends: add, read, update, remove, and one slug once."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from ita_bot.domain.offices import OfficeExists, OfficeRecord, OfficeRegistry
from ita_bot.domain.sealing import SealError, ServiceKey
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.pg import Database
from ita_bot.store.pg.offices import PgOfficeRegistry
from ita_bot.store.tiny.offices import TinyOfficeRegistry
from tests.races import outcomes_at_once

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=BANGKOK)


@pytest.fixture(params=("tinydb", "postgresql"))
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OfficeRegistry]:
    if request.param == "tinydb":
        yield TinyOfficeRegistry(tmp_path)
        return
    db = Database(request.getfixturevalue("fresh_postgres_database"), max_size=4)
    try:
        yield PgOfficeRegistry(db)
    finally:
        db.close()


def _slug() -> str:
    return f"office-{secrets.token_hex(4)}"


def test_an_added_office_reads_back_whole(registry: OfficeRegistry) -> None:
    slug = _slug()
    record = OfficeRecord(slug=slug, name="เทศบาลตำบลทดลอง", created_at=NOW, onboarding_hash="ab" * 32,
                          onboarding_expires=NOW, exported_on=date(2026, 12, 6),
                          settings={"display": {"numerals": "thai"}})
    registry.add(record)
    assert registry.get(slug) == record
    assert [r.slug for r in registry.all()] == [slug]
    assert registry.get("nobody-here") is None


def test_a_slug_is_registered_once_even_when_two_add_it_at_once(registry: OfficeRegistry) -> None:
    slug = _slug()
    def add() -> None:
        registry.add(OfficeRecord(slug=slug, name="ก", created_at=NOW))

    results = outcomes_at_once(add, add, add, add)
    assert sum(1 for r in results if isinstance(r, OfficeExists)) == 3
    assert len(registry.all()) == 1


def test_update_changes_only_what_it_names_and_remove_forgets(registry: OfficeRegistry) -> None:
    slug = _slug()
    registry.add(OfficeRecord(slug=slug, name="ก", created_at=NOW))
    changed = registry.update(slug, disabled=True, channel_id="1234567890")
    assert changed.disabled and changed.channel_id == "1234567890" and changed.name == "ก"
    assert registry.get(slug) == changed
    with pytest.raises(KeyError):
        registry.update("nobody-here", disabled=True)
    registry.remove(slug)
    assert registry.get(slug) is None and registry.all() == []


def test_credentials_are_sealed_and_open_only_with_the_service_key() -> None:
    key = ServiceKey("k" * 40)
    sealed = key.seal("channel-secret-value")
    assert "channel-secret-value" not in sealed
    assert key.open(sealed) == "channel-secret-value"
    with pytest.raises(SealError) as refused:
        ServiceKey("x" * 40).open(sealed)
    assert "channel-secret-value" not in str(refused.value)
    rotated = ServiceKey("n" * 40 + "," + "k" * 40)  # the new key first, the old one while rotating
    resealed = rotated.reseal(sealed)
    assert ServiceKey("n" * 40).open(resealed) == "channel-secret-value"
    with pytest.raises(SealError):
        ServiceKey("short")
    with pytest.raises(SealError):
        ServiceKey("")


def test_change_reads_and_writes_in_one_step_so_no_concurrent_change_is_lost(registry: OfficeRegistry) -> None:
    slug = _slug()
    registry.add(OfficeRecord(slug=slug, name="", created_at=NOW))

    def append(mark: str) -> Callable[[], OfficeRecord]:
        return lambda: registry.change(slug, lambda record: {"name": record.name + mark})

    outcomes_at_once(*(append(m) for m in "abcd"))
    final = registry.get(slug)
    assert final is not None and sorted(final.name) == list("abcd")  # each edit saw the one before it
    with pytest.raises(KeyError):
        registry.change("nobody-here", lambda record: {"disabled": True})

    def refuse(record: OfficeRecord) -> dict[str, object]:
        raise ValueError("refused")

    with pytest.raises(ValueError):
        registry.change(slug, refuse)
    assert registry.get(slug) == final  # an edit that raised changed nothing
