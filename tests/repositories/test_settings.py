"""The SettingsRepository contract: settings by key, moved meetings and the memo header, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from ita_bot.domain.config import DocumentSettings
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

T0 = datetime(2021, 2, 10, 9, 0, tzinfo=BANGKOK)


def test_a_setting_is_set_replaced_and_read_with_a_default(repositories: Repositories) -> None:
    settings = repositories.settings
    assert settings.setting("group_id") is None and settings.setting("group_id", "ไม่มี") == "ไม่มี"
    settings.set_setting("group_id", "C1")
    settings.set_setting("richmenu", {"staff": "m1", "linked": ["U1"]})
    settings.set_setting("group_id", "C2")
    assert settings.setting("group_id") == "C2"
    assert settings.setting("richmenu") == {"staff": "m1", "linked": ["U1"]}
    settings.set_setting("demo_seeded", None)
    assert settings.setting("demo_seeded", "unset") is None  # a value set to None is set


def test_a_setting_read_is_a_copy(repositories: Repositories) -> None:
    settings = repositories.settings
    settings.set_setting("richmenu", {"linked": ["U1"]})
    value = settings.setting("richmenu")
    assert isinstance(value, dict)
    value["linked"].append("U2")
    assert settings.setting("richmenu") == {"linked": ["U1"]}


def test_meetings_are_moved_replaced_and_cleared(repositories: Repositories) -> None:
    settings = repositories.settings
    assert settings.meetings() == {}
    settings.set_meeting("2021-02", date(2021, 2, 19), "U1", T0)
    settings.set_meeting("2021-03", date(2021, 3, 30), None, T0)
    settings.set_meeting("2021-02", date(2021, 2, 22), "U2", T0)
    assert settings.meetings() == {"2021-02": date(2021, 2, 22), "2021-03": date(2021, 3, 30)}
    assert settings.clear_meeting("2021-02") is True
    assert settings.clear_meeting("2021-02") is False
    assert settings.meetings() == {"2021-03": date(2021, 3, 30)}


def test_the_memo_header_is_kept_whole(repositories: Repositories) -> None:
    settings = repositories.settings
    assert dict(settings.memo_header()) == {}
    header = DocumentSettings(office="สำนักปลัด", reference_prefix="ที่ นม 123", signer_name="สมศรี",
                              signer_position="ปลัด", addressee="นายก")
    settings.set_memo_header(header, "U1", T0)
    assert DocumentSettings(**settings.memo_header()) == header
    settings.set_memo_header(DocumentSettings(office="กองคลัง"), "U2", T0)
    assert DocumentSettings(**settings.memo_header()) == DocumentSettings(office="กองคลัง")


def test_a_second_opening_sees_the_first_ones_writes(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories().settings, open_repositories().settings
    assert second.setting("group_id") is None and second.meetings() == {}
    first.set_setting("group_id", "C1")
    first.set_meeting("2021-02", date(2021, 2, 19), "U1", T0)
    first.set_memo_header(DocumentSettings(office="สำนักปลัด"), "U1", T0)
    assert second.setting("group_id") == "C1"
    assert second.meetings() == {"2021-02": date(2021, 2, 19)}
    assert second.memo_header()["office"] == "สำนักปลัด"
