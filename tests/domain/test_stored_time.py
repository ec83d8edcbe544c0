"""Times kept as text are read one way: an offset-less one (an old or hand-edited row) is Bangkok time."""

from __future__ import annotations

from datetime import datetime, timedelta

from ita_bot.domain.sent_log import is_interrupted
from ita_bot.domain.thai import BANGKOK, stored_time

NOW = datetime(2021, 2, 22, 9, 30, tzinfo=BANGKOK)


def test_an_offset_less_time_is_bangkok_and_an_aware_one_keeps_its_instant() -> None:
    assert stored_time("2021-02-22T09:00:00") == datetime(2021, 2, 22, 9, 0, tzinfo=BANGKOK)
    assert stored_time("2021-02-22T02:00:00+00:00") == datetime(2021, 2, 22, 9, 0, tzinfo=BANGKOK)


def test_a_sending_entry_with_an_offset_less_lease_is_judged_not_refused() -> None:
    # Comparing a naive lease with an aware now raised TypeError, so the resume stopped at such a row.
    past = {"state": "sending", "lease_until": "2021-02-22T09:00:00"}
    ahead = {"state": "sending", "lease_until": (NOW + timedelta(minutes=5)).replace(tzinfo=None).isoformat()}
    assert is_interrupted(past, NOW) and not is_interrupted(ahead, NOW)
