"""Configuration: the example is complete and valid, env overrides, and clear errors naming file and key."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from ita_bot.domain.config import ConfigError, load_config, office_setting, with_office_settings
from tests.conftest import PLAN_2564, ROOT, write_config


def test_example_config_loads_with_defaults() -> None:
    cfg = load_config(ROOT / "config.example.toml", env={})
    assert cfg.plan_path == PLAN_2564
    assert str(cfg.schedule.meeting) == "last friday"
    assert cfg.schedule.reminder_days_before == (3, 1)
    assert cfg.schedule.reminder_time == time(9, 0)
    assert cfg.schedule.digest_days_before == 1
    assert cfg.schedule.digest_time == time(16, 0)
    assert cfg.schedule.summary_time == time(8, 0)
    assert cfg.numerals == "arabic"
    assert cfg.registration_mode == "open"
    assert not cfg.web.show_names and not cfg.web.public_evidence
    assert cfg.db_path == ROOT / "storage" / "ita-bot.json"
    assert cfg.line.api_endpoint == "https://api.line.me"
    assert cfg.line.data_api_endpoint == "https://api-data.line.me"
    # The example's placeholder is not a usable secret: serving real traffic refuses to start.
    assert not cfg.line.has_credentials
    with pytest.raises(ConfigError, match="placeholder"):
        cfg.require_line_credentials()


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "LINE_CHANNEL_SECRET": "s3cret",
        "LINE_CHANNEL_ACCESS_TOKEN": "t0ken",
        "LINE_API_ENDPOINT": "http://127.0.0.1:9/",
        "LINE_DATA_API_ENDPOINT": "http://127.0.0.1:10",
        "ITA_BOT_DB": str(tmp_path / "x" / "db.json"),
        "PORT": "8123",
        "ITA_BOT_CONFIG": str(ROOT / "config.example.toml"),
    }
    cfg = load_config(env=env)
    assert cfg.line.channel_secret == "s3cret" and cfg.line.has_credentials
    assert cfg.line.api_endpoint == "http://127.0.0.1:9"
    assert cfg.line.data_api_endpoint == "http://127.0.0.1:10"
    assert cfg.db_path == tmp_path / "x" / "db.json"
    assert cfg.port == 8123


def test_the_office_slug_comes_from_the_environment_or_storage_office(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path, {}), env={}).office == "default"
    path = write_config(tmp_path, {"storage": {"office": "nong-mueang"}})
    assert load_config(path, env={}).office == "nong-mueang"
    assert load_config(path, env={"ITA_BOT_OFFICE": "t-0a1b2c"}).office == "t-0a1b2c"  # the environment wins
    for bad in ("ab", "Nong", "nong mueang", "x" * 41, "../x", "defaults!"):
        with pytest.raises(ConfigError, match="ITA_BOT_OFFICE: expected"):
            load_config(path, env={"ITA_BOT_OFFICE": bad})
    with pytest.raises(ConfigError, match=r"\[storage\] office"):
        load_config(write_config(tmp_path, {"storage": {"office": "หนองเมือง"}}), env={})


def test_relative_plan_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "2564.toml").write_bytes(PLAN_2564.read_bytes())
    path = write_config(tmp_path, {"organization": {"plan": "plans/2564.toml"}})
    assert load_config(path, env={}).plan_path == (tmp_path / "plans" / "2564.toml")


@pytest.mark.parametrize(
    ("sections", "needle"),
    [
        ({"schedule": {"reminder_time": "9am"}}, "[schedule] reminder_time"),
        ({"schedule": {"digest_time": "25:00"}}, "[schedule] digest_time"),
        ({"schedule": {"meeting": "every day"}}, "[schedule] meeting"),
        ({"schedule": {"reminder_days_before": [3, -1]}}, "[schedule] reminder_days_before"),
        ({"schedule": {"digest_days_before": [1, 2]}}, "[schedule] digest_days_before"),
        ({"schedule": {"reminder_to": "everyone"}}, "[schedule] reminder_to"),
        ({"roles": {"chair": ["somchai"]}}, "[roles] chair"),
        ({"roles": {"secretary": "U" + "1" * 32}}, "[roles] secretary"),
        ({"registration": {"mode": "closed"}}, "[registration] mode"),
        ({"display": {"numerals": "roman"}}, "[display] numerals"),
        ({"web": {"base_url": "ita.example"}}, "[web] base_url"),
        ({"web": {"show_names": "yes"}}, "[web] show_names"),
        ({"web": {"office_site": "www.nongmuang.go.th"}}, "[web] office_site"),
        ({"web": {"office_site": "ftp://nongmuang.go.th"}}, "[web] office_site"),
        ({"web": {"office_site": 1}}, "[web] office_site"),
        ({"line": {"group_id": "my-group"}}, "[line] group_id"),
        ({"organization": {"plan": "nowhere/2564.toml"}}, "[organization] plan"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, sections: dict, needle: str) -> None:
    path = write_config(tmp_path, sections)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[line\nchannel_secret = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, env={})


def test_the_office_site_is_optional_and_each_hosted_office_sets_its_own(tmp_path: Path) -> None:
    """[web] office_site: unset by default; a hosted office overrides the service's with `office set`, checked."""
    assert load_config(write_config(tmp_path, {}), env={}).web.office_site == ""
    config = load_config(write_config(tmp_path, {"web": {"office_site": "https://www.service.example"}}), env={})
    assert config.web.office_site == "https://www.service.example"
    section, key, value = office_setting("web.office_site", "https://www.nongmuang.go.th")
    assert (section, key, value) == ("web", "office_site", "https://www.nongmuang.go.th")
    own = with_office_settings(config, {"web": {"office_site": value}}, "office alpha")
    assert own.web.office_site == "https://www.nongmuang.go.th" and own.web.base_url == config.web.base_url
    with pytest.raises(ConfigError, match=r"office alpha: \[web\] office_site"):
        with_office_settings(config, {"web": {"office_site": "nongmuang.go.th"}}, "office alpha")
