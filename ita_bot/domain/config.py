"""Configuration: config.toml (or the example) plus environment overrides, validated into typed settings."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import TypeVar

from ita_bot.domain.line_ids import is_chat_id, is_user_id
from ita_bot.domain.meetings import MeetingRule
from ita_bot.domain.offices import SLUG
from ita_bot.domain.roles import COMMITTEE, Role
from ita_bot.domain.thai import NUMERALS, Numerals, parse_time

__all__ = ["OFFICE_KEYS", "Config", "ConfigError", "load_config", "office_setting", "with_office_settings"]

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "CHANGE-ME"
#: The office slug of a single-office deployment (the hosted service names each office by its own slug).
DEFAULT_OFFICE = "default"
#: An office slug: the default's, or 3 to 40 lower-case letters, digits and hyphens (it names rows, never a path).
OFFICE_SLUG = re.compile(rf"{DEFAULT_OFFICE}|{SLUG.pattern}")


class ConfigError(ValueError):
    """A configuration problem, naming the file and the key."""


@dataclass(frozen=True)
class LineSettings:
    channel_secret: str = ""
    channel_access_token: str = ""
    group_id: str | None = None
    api_endpoint: str = "https://api.line.me"
    data_api_endpoint: str = "https://api-data.line.me"
    # A hosted office's channel: its id (stateless tokens are issued from id and secret) and its bot's user ID,
    # which every webhook's `destination` must name. Empty in a single-office deployment's config.
    channel_id: str = ""
    bot_user_id: str = ""

    @property
    def has_credentials(self) -> bool:
        # A hosted office on stateless tokens has no long-lived token: its client issues them from id and secret.
        token = self.channel_access_token or self.channel_id
        return all(v and PLACEHOLDER not in v for v in (self.channel_secret, token))


@dataclass(frozen=True)
class RoleSettings:
    chair: tuple[str, ...] = ()
    vice_chair: tuple[str, ...] = ()
    secretary: tuple[str, ...] = ()
    assistant_secretary: tuple[str, ...] = ()
    member: tuple[str, ...] = ()

    def roles_of(self, user_id: str) -> frozenset[Role]:
        return frozenset(r for r in COMMITTEE if user_id in getattr(self, r))

    def holders(self, role: str) -> tuple[str, ...]:
        return tuple(getattr(self, role))


@dataclass(frozen=True)
class ScheduleSettings:
    meeting: MeetingRule = field(default_factory=lambda: MeetingRule.parse("last friday"))
    reminder_days_before: tuple[int, ...] = (3, 1)
    reminder_time: time = time(9, 0)
    digest_days_before: int = 1
    digest_time: time = time(16, 0)
    summary_time: time = time(8, 0)
    # "group": one reminder to the staff group; "direct": 1:1 to pending divisions' staff (cheaper
    # in push quota when the group is large and few divisions are pending).
    reminder_to: str = "group"


@dataclass(frozen=True)
class WebSettings:
    base_url: str = "http://localhost:8000"
    show_names: bool = False
    public_evidence: bool = False
    # The office's own main website (its "หน้าแรก"), where the NACC looks for the links to the OIT pages; "" unset.
    office_site: str = ""


@dataclass(frozen=True)
class DocumentSettings:
    office: str = ""
    reference_prefix: str = ""
    signer_name: str = ""
    signer_position: str = ""
    addressee: str = ""


@dataclass(frozen=True)
class Config:
    path: Path
    # The configured plan file; None for an office that has no plan yet (a hosted office makes its first plan in
    # the console). A single-office config file always names one (load_config requires it).
    plan_path: Path | None
    db_path: Path
    port: int = 8000
    line: LineSettings = field(default_factory=LineSettings)
    roles: RoleSettings = field(default_factory=RoleSettings)
    registration_mode: str = "open"
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    numerals: Numerals = "arabic"
    web: WebSettings = field(default_factory=WebSettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    # PostgreSQL (the hosted service's backend) when set; TinyDB files beside ``db_path`` otherwise.
    database_url: str | None = None
    # The office every row of this deployment belongs to on PostgreSQL (a single-office deployment has one).
    office: str = DEFAULT_OFFICE
    # One service for many offices (`[service] hosted = true` or ITA_BOT_HOSTED=1): the app serves /o/<office>/…,
    # the clock runs every office, and each command names its office with --office.
    hosted: bool = False
    # The office's name where no plan gives it (an office with no plan yet); a plan's own name wins.
    organization_name: str = ""
    # The file's tables an office of a hosted service may override (OFFICE_KEYS), as read: its settings go over them.
    sections: Mapping[str, Mapping[str, object]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def plans_dir(self) -> Path | None:
        """The folder of plans shipped with the deployment (beside the configured plan); None without one."""
        return self.plan_path.parent if self.plan_path is not None else None

    def require_line_credentials(self) -> None:
        """Serving real LINE traffic needs a real secret and token (not the example's placeholder)."""
        if not self.line.has_credentials:
            raise ConfigError(
                f"{self.path}: [line] channel_secret / channel_access_token are missing or still the "
                f"example's placeholder; set them in the config or via LINE_CHANNEL_SECRET and "
                f"LINE_CHANNEL_ACCESS_TOKEN"
            )


def default_config_path(env: Mapping[str, str]) -> Path:
    if env.get("ITA_BOT_CONFIG"):
        return Path(env["ITA_BOT_CONFIG"])
    local = ROOT / "config.toml"
    return local if local.exists() else ROOT / "config.example.toml"


C = TypeVar("C", bound=str)

#: What each office of a hosted service may set over the service's defaults (`python bot.py office set`).
OFFICE_KEYS: dict[str, tuple[str, ...]] = {
    "schedule": ("meeting", "reminder_days_before", "reminder_time", "digest_days_before", "digest_time",
                 "summary_time", "reminder_to"),
    "display": ("numerals",),
    "registration": ("mode",),
    "web": ("show_names", "public_evidence", "office_site"),
    "documents": ("office", "reference_prefix", "signer_name", "signer_position", "addressee"),
}


class _Section:
    """Typed access to one TOML table that names file and key in every error."""

    def __init__(self, path: Path, name: str, data: object) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [{name}]: must be a table")
        self.path, self.name, self.data = path, name, data

    def err(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: [{self.name}] {key}: {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], default: object) -> object:
        value = self.data.get(key, default)
        if (value is not None and not isinstance(value, kind)) or (isinstance(value, bool) and kind is int):
            raise self.err(key, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    def text(self, key: str, default: str = "") -> str:
        return str(self.get(key, str, default))

    def flag(self, key: str, default: bool) -> bool:
        return bool(self.get(key, bool, default))

    def clock(self, key: str, default: str) -> time:
        try:
            return parse_time(self.text(key, default))
        except ValueError as e:
            raise self.err(key, str(e)) from None

    def days(self, key: str, default: list[int]) -> tuple[int, ...]:
        value = self.get(key, (list, int), default)
        items = [value] if isinstance(value, int) else value
        if not isinstance(items, list) or not items or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 20 for d in items
        ):
            raise self.err(key, f"expected working-day counts between 0 and 20, got {value!r}")
        return tuple(sorted(set(items), reverse=True))

    def user_ids(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        uids: list[str] = []
        for uid in value if isinstance(value, list) else []:  # get refused any other kind
            if not isinstance(uid, str) or not is_user_id(uid):
                raise self.err(key, f"{uid!r} is not a LINE user ID (U followed by 32 hex digits)")
            uids.append(uid)
        return tuple(uids)

    def choice(self, key: str, options: tuple[C, ...], default: C) -> C:
        value = self.text(key, default)
        for option in options:  # the option itself, so the result has the options' (Literal) type
            if value == option:
                return option
        raise self.err(key, f"must be one of {', '.join(options)}; got {value!r}")


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file, then apply the environment overrides (LINE_*, ITA_BOT_DB,
    ITA_BOT_DATABASE_URL, ITA_BOT_OFFICE, PORT)."""
    env = os.environ if env is None else env
    cfg_path = Path(path) if path else default_config_path(env)
    try:
        raw = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{cfg_path}: config file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{cfg_path}: not valid TOML: {e}") from None
    base = cfg_path.resolve().parent

    def section(name: str) -> _Section:
        return _Section(cfg_path, name, raw.get(name, {}))

    org, line, roles, web = section("organization"), section("line"), section("roles"), section("web")

    hosted_env = env.get("ITA_BOT_HOSTED", "").strip().lower()
    if hosted_env and hosted_env not in ("1", "true", "yes", "0", "false", "no"):
        raise ConfigError(f"ITA_BOT_HOSTED: expected 1 or 0, got {hosted_env!r}")
    hosted = hosted_env in ("1", "true", "yes") if hosted_env else section("service").flag("hosted", False)
    plan_rel = org.text("plan", "")
    plan_path: Path | None = None
    if plan_rel:
        plan_path = (base / plan_rel).resolve()
        if not plan_path.is_file():
            raise org.err("plan", f"plan file not found: {plan_path}")
    elif not hosted:  # each office of a hosted service makes its own plans in its console
        raise org.err("plan", "missing: the plan file of the current fiscal year, e.g. storage/plans/2564.toml")

    group_id = line.text("group_id") or None
    if group_id and not is_chat_id(group_id):
        raise line.err("group_id", f"{group_id!r} is not a LINE group or room ID (C/R followed by 32 hex digits)")

    base_url = web.text("base_url", "http://localhost:8000").rstrip("/")
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise web.err("base_url", f"expected an http(s) URL, got {base_url!r}")

    database_url = env.get("ITA_BOT_DATABASE_URL") or section("storage").text("url") or None
    if database_url and not re.match(r"^postgres(ql)?://", database_url):
        # The URL may hold a password: the error names its scheme only.
        scheme = database_url.split(":", 1)[0] if ":" in database_url else "(none)"
        raise ConfigError(f"{cfg_path}: [storage] url / ITA_BOT_DATABASE_URL: expected a postgresql:// URL, "
                          f"got the scheme {scheme!r}")
    office = env.get("ITA_BOT_OFFICE") or section("storage").text("office") or DEFAULT_OFFICE
    if not OFFICE_SLUG.fullmatch(office):
        raise ConfigError(f"{cfg_path}: [storage] office / ITA_BOT_OFFICE: expected \"default\" or 3 to 40 "
                          f"lower-case letters, digits and hyphens (a-z, 0-9, -), got {office!r}")
    db_env = env.get("ITA_BOT_DB")
    db_path = Path(db_env).resolve() if db_env else (base / "storage" / "ita-bot.json")
    try:
        port = int(env.get("PORT", "8000"))
    except ValueError:
        raise ConfigError(f"PORT: expected a port number, got {env.get('PORT')!r}") from None

    config = Config(
        path=cfg_path,
        plan_path=plan_path,
        db_path=db_path,
        database_url=database_url,
        office=office,
        hosted=hosted,
        port=port,
        line=LineSettings(
            channel_secret=env.get("LINE_CHANNEL_SECRET") or line.text("channel_secret"),
            channel_access_token=env.get("LINE_CHANNEL_ACCESS_TOKEN") or line.text("channel_access_token"),
            group_id=group_id,
            api_endpoint=(env.get("LINE_API_ENDPOINT") or "https://api.line.me").rstrip("/"),
            data_api_endpoint=(env.get("LINE_DATA_API_ENDPOINT") or "https://api-data.line.me").rstrip("/"),
        ),
        roles=RoleSettings(**{r.value: roles.user_ids(r) for r in COMMITTEE}),
        web=WebSettings(base_url=base_url),
        sections={name: dict(raw.get(name) or {}) for name in OFFICE_KEYS},
    )
    return _with_sections(config, section)


def _schedule_settings(sched: _Section) -> ScheduleSettings:
    try:
        meeting = MeetingRule.parse(sched.text("meeting", "last friday"))
    except ValueError as e:
        raise sched.err("meeting", str(e)) from None
    digest_days = sched.days("digest_days_before", [1])
    if len(digest_days) != 1:
        raise sched.err("digest_days_before", "expected a single number of working days")
    return ScheduleSettings(
        meeting=meeting,
        reminder_days_before=sched.days("reminder_days_before", [3, 1]),
        reminder_time=sched.clock("reminder_time", "09:00"),
        digest_days_before=digest_days[0],
        digest_time=sched.clock("digest_time", "16:00"),
        summary_time=sched.clock("summary_time", "08:00"),
        reminder_to=sched.choice("reminder_to", ("group", "direct"), "group"),
    )


def _documents(docs: _Section) -> DocumentSettings:
    return DocumentSettings(
        office=docs.text("office"),
        reference_prefix=docs.text("reference_prefix"),
        signer_name=docs.text("signer_name"),
        signer_position=docs.text("signer_position"),
        addressee=docs.text("addressee"),
    )


def with_office_settings(config: Config, settings: Mapping[str, Mapping[str, object]], source: str) -> Config:
    """The config of one office of a hosted service: the service's defaults with the office's own settings over
    them (keys of OFFICE_KEYS only), validated as the file is; ConfigError names ``source`` and the key."""
    for name, values in settings.items():
        unknown = sorted(set(values) - set(OFFICE_KEYS.get(name, ())))
        if unknown:
            raise ConfigError(f"{source}: [{name}] {unknown[0]}: not a setting an office may change")
    merged = {name: {**config.sections.get(name, {}), **settings.get(name, {})} for name in OFFICE_KEYS}

    return _with_sections(replace(config, sections=merged), lambda name: _Section(Path(source), name, merged[name]))


def _with_sections(config: Config, section: Callable[[str], _Section]) -> Config:
    """``config`` with the settings an office may override (OFFICE_KEYS) read from ``section``: one reading for the
    config file and for each office's settings over it."""
    web = section("web")
    return replace(
        config,
        schedule=_schedule_settings(section("schedule")),
        numerals=section("display").choice("numerals", NUMERALS, "arabic"),
        registration_mode=section("registration").choice("mode", ("open", "approve"), "open"),
        web=replace(config.web, show_names=web.flag("show_names", False),
                    public_evidence=web.flag("public_evidence", False), office_site=_office_site(web)),
        documents=_documents(section("documents")),
    )


def _office_site(web: _Section) -> str:
    """The office's main website: an http(s) address with a host, or "" when not set."""
    site = web.text("office_site").strip()
    if site and not re.match(r"^https?://[^\s/?#]+(/\S*)?$", site, re.IGNORECASE):
        raise web.err("office_site", f"expected the main website's http(s) URL, e.g. \"https://www.example.go.th\", "
                                     f"got {site!r}")
    return site


def office_setting(key: str, text: str) -> tuple[str, str, object]:
    """``section.key`` and a typed value as an operator writes them (TOML: ``"last friday"``, ``[3, 1]``, ``true``;
    bare words are text) → (section, key, value); ConfigError for a key an office may not change."""
    section, _, name = key.partition(".")
    if name not in OFFICE_KEYS.get(section, ()):
        allowed = ", ".join(f"{s}.{k}" for s, keys in OFFICE_KEYS.items() for k in keys)
        raise ConfigError(f"{key}: not a setting an office may change (one of: {allowed})")
    try:
        value: object = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text  # a bare word or sentence: text
    return section, name, value
