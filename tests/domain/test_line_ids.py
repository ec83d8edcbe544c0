"""LINE IDs: one pattern recognises them for the config, the journal's logs and the public pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ita_bot.domain.config import Config, ConfigError
from ita_bot.domain.line_ids import hide_ids, is_chat_id, is_user_id
from ita_bot.publish.disclosure import redact

USER = "U" + "0123456789abcdef" * 2
GROUP = "C" + "fedcba9876543210" * 2
ROOM = "R" + "0" * 32


def test_whole_ids_only() -> None:
    assert is_user_id(USER) and not is_chat_id(USER)
    assert is_chat_id(GROUP) and is_chat_id(ROOM) and not is_user_id(GROUP)
    for wrong in (USER + "\n", USER.upper(), USER[:-1], " " + USER, USER + "0", "u" + USER[1:]):
        assert not is_user_id(wrong), wrong


def test_hidden_in_logs_to_their_kind_and_in_public_text_entirely() -> None:
    text = f"from {USER} in {GROUP}, room {ROOM}; not an id: U{'0' * 31}"
    assert hide_ids(text) == f"from U… in C…, room R…; not an id: U{'0' * 31}"
    assert redact(text) == f"from [ซ่อนรหัสผู้ใช้] in [ซ่อนรหัสผู้ใช้], room [ซ่อนรหัสผู้ใช้]; not an id: U{'0' * 31}"


def test_the_config_takes_the_same_ids(make_config: Callable[..., Config]) -> None:
    config = make_config(roles={"chair": [USER]}, line={"group_id": GROUP})
    assert config.line.group_id == GROUP
    with pytest.raises(ConfigError, match="not a LINE user ID"):
        make_config(roles={"chair": [USER.upper()]})
    with pytest.raises(ConfigError, match="not a LINE group or room ID"):
        make_config(line={"group_id": USER})
