"""The operator's commands for the hosted service (`python bot.py office …`) and ``--office`` for office commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ita_bot.domain.config import Config, ConfigError
from ita_bot.domain.links import onboarding_url
from ita_bot.domain.offices import ONBOARDING_TTL, OfficeExists, OfficeRecord, check_slug, onboarding_token, token_hash
from ita_bot.domain.sealing import SERVICE_KEY_ENV, SealError
from ita_bot.domain.thai import BANGKOK, fiscal_year_of, format_datetime

if TYPE_CHECKING:
    from ita_bot.domain.office import Office
    from ita_bot.line.client import LineClient
    from ita_bot.service import Service

__all__ = ["KEY_ENV", "office_scope", "office_status", "run_office", "serve_hosted"]

#: Where the service key comes from (see ita_bot.domain.sealing).
KEY_ENV = SERVICE_KEY_ENV


class CommandError(ValueError):
    """An operator's mistake or a refused action, in one line (the command line prints it and exits 2)."""


def office_scope(config: Config, command: str, slug: str | None) -> Config:
    """The config an office command runs with: the deployment's own, or in hosted mode that of the office named
    with --office (ConfigError, one line, when --office is missing in hosted mode or given in single-office mode)."""
    if not config.hosted:
        if slug is not None:
            raise ConfigError(f"{command}: --office is for a hosted service ([service] hosted = true); this "
                              "deployment has one office: leave --office out")
        return config
    if slug is None:
        raise ConfigError(f"{command}: this is a hosted service ([service] hosted = true): --office SLUG is "
                          "required to name the office (see `python bot.py office list`)")
    service = _service(config)
    return service.office_config(_record(service, slug))


def run_office(config: Config, args: argparse.Namespace, *, stdin: IO[str] | None = None,
               now: Callable[[], datetime] | None = None) -> int:
    """`python bot.py office ACTION …`: exit 0 when done, 2 on a refused or mistaken request (one line)."""
    if not config.hosted:
        print("error: `office` manages the offices of a hosted service: set [service] hosted = true in "
              f"{config.path} (or ITA_BOT_HOSTED=1); this deployment has one office", file=sys.stderr)
        return 2
    clock = now or (lambda: datetime.now(BANGKOK))
    try:
        service = _service(config)
        action = args.office_command
        if action == "add":
            return _add(service, args.slug, args.name, clock())
        if action == "link":
            return _link(service, args.slug, clock())
        if action == "list":
            return _list(service, clock())
        if action in ("disable", "enable"):
            return _set_disabled(service, args.slug, action == "disable")
        if action == "export":
            return _export(service, args.slug, Path(args.path), clock())
        if action == "remove":
            return _remove(service, args.slug, clock(), stdin or sys.stdin)
        if action == "rotate-key":
            return _rotate_key(service)
        if action in ("set", "unset"):
            return _set_setting(service, args.slug, args.key, args.value if action == "set" else None)
    except (CommandError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 1


def _service(config: Config) -> Service:
    from ita_bot.service import Service

    try:
        return Service(config)
    except SealError as e:
        raise ConfigError(str(e)) from None


def _record(service: Service, slug: str) -> OfficeRecord:
    record = service.registry.get(slug)
    if record is None:
        raise CommandError(f"no office {slug!r} in this service (see `python bot.py office list`)")
    return record


def _set_setting(service: Service, slug: str, key: str, text: str | None) -> int:
    """Keep (or drop, ``text`` None) one of the office's settings, checked as the config file's would be."""
    from ita_bot.domain.config import office_setting, with_office_settings

    record = _record(service, slug)
    section, name, value = office_setting(key, text if text is not None else '""')
    settings = {s: dict(v) for s, v in record.settings.items()}
    if text is None:
        settings.get(section, {}).pop(name, None)
    else:
        settings.setdefault(section, {})[name] = value
    settings = {s: v for s, v in settings.items() if v}
    with_office_settings(service.config, settings, f"office {slug}")  # refused here, never when the office opens
    service.registry.update(slug, settings=settings)
    shown = "the service's default" if text is None else repr(value)
    print(f"office {slug}: {section}.{name} is now {shown} (the web and clock processes take it on their next "
          "request or tick)")
    return 0


# --- add, link, disable, enable -------------------------------------------------------------------


def _print_link(service: Service, slug: str, token: str, expires: datetime) -> None:
    # The token exists only in this output: the registry keeps its hash.
    print(f"onboarding link for {slug} (give it to the office only; it works once): "
          f"{onboarding_url(service.config.web.base_url, token)}")
    print(f"valid until {format_datetime(expires)} ({expires.isoformat(timespec='minutes')}); "
          f"after that: `python bot.py office link {slug}`")


def _add(service: Service, slug: str, name: str, now: datetime) -> int:
    check_slug(slug)
    if not name.strip():
        raise CommandError("--name: the office's name is empty")
    token, expires = onboarding_token(), now + ONBOARDING_TTL
    record = OfficeRecord(slug=slug, name=name.strip(), created_at=now, onboarding_hash=token_hash(token),
                          onboarding_expires=expires)
    try:
        service.registry.add(record)
    except OfficeExists:
        raise CommandError(f"office {slug!r} already exists (see `python bot.py office list`); nothing changed; "
                           f"a new onboarding link: `python bot.py office link {slug}`") from None
    print(f"office {slug} added: {record.name}")
    _print_link(service, slug, token, expires)
    return 0


def _link(service: Service, slug: str, now: datetime) -> int:
    record = _record(service, slug)
    if record.joined:
        raise CommandError(f"office {slug!r} has already joined with its LINE channel; no link was issued")
    token, expires = onboarding_token(), now + ONBOARDING_TTL
    service.registry.update(slug, onboarding_hash=token_hash(token), onboarding_expires=expires)
    print(f"new onboarding link for {slug}; any earlier link no longer works")
    _print_link(service, slug, token, expires)
    return 0


def _set_disabled(service: Service, slug: str, disabled: bool) -> int:
    _record(service, slug)
    service.registry.update(slug, disabled=disabled)
    if disabled:
        print(f"office {slug} disabled: its webhook, pages and jobs stop; its data stays "
              f"(`python bot.py office enable {slug}` serves it again)")
    else:
        print(f"office {slug} enabled")
    return 0


# --- list -------------------------------------------------------------------------------------------


def _month(now: datetime) -> tuple[datetime, datetime]:
    """This Bangkok calendar month: [first day 00:00, next month's first day 00:00)."""
    local = now.astimezone(BANGKOK)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=32)).replace(day=1)


def _when(at: datetime) -> str:
    return f"{at.astimezone(BANGKOK):%Y-%m-%d %H:%M}"


def _state(record: OfficeRecord, now: datetime) -> str:
    if record.disabled:
        return "disabled" + ("" if record.joined else " (not joined)")
    if record.joined:
        return "joined"
    if record.onboarding_open(now) and record.onboarding_expires is not None:
        return f"waiting for LINE (link valid until {_when(record.onboarding_expires)})"
    return f"waiting for LINE (no valid link: `python bot.py office link {record.slug}`)"


def _quota(line: LineClient | None) -> str:
    """The office's messages used this month against its LINE quota, as LINE counts them."""
    from ita_bot.line.client import LineApiError

    if line is None:
        return "quota not read"
    try:
        quota = line.quota()
        used = line.consumption()
    except LineApiError as e:
        return f"quota unknown: LINE {e.status}"
    return f"{used} messages used, no monthly limit" if quota is None else f"{used} of {quota} messages used"


def office_status(office: Office, now: datetime, line: LineClient | None = None) -> list[str]:
    """What the operator reads of a joined office: plan, group, last event, pushes this month against its quota
    (read from LINE, as the sends check it: a group push costs one message per member), last job."""
    from ita_bot.schedule.clock import last_runs

    repos = office.repositories
    fy = fiscal_year_of(now.astimezone(BANGKOK).date())
    newest = repos.inbox.newest()
    last_event = _when(datetime.fromtimestamp(newest / 1000, BANGKOK)) if newest else "none"
    runs = last_runs(repos.slots)
    if runs:
        job, run = max(runs.items(), key=lambda item: item[1].at)
        last_job = f"{job} {_when(run.at)} {'FAILED' if run.failed else 'ok'}"
    else:
        last_job = "none"
    pushes = repos.sent_log.count_sent(*_month(now))
    return [f"plan {fy}: {'yes' if office.plan_for(fy) is not None else 'no'}",
            f"group: {'yes' if office.staff_group_id() else 'no'}",
            f"last event: {last_event}",
            f"pushes this month: {pushes} ({_quota(line)})",
            f"last job: {last_job}"]


def _list(service: Service, now: datetime) -> int:
    from ita_bot.line.client import LineClient
    from ita_bot.store import open_office

    records = service.registry.all()
    if not records:
        print("no offices yet: `python bot.py office add SLUG --name NAME`")
        return 0
    for record in records:
        parts = [record.slug, record.name, _state(record, now)]
        if record.joined:
            try:
                # Read directly (not Service.office): a disabled office is listed too, and nothing is kept open.
                config = service.office_config(record)
                parts += office_status(open_office(config), now, LineClient.from_config(config))
            except SealError:
                parts.append("credentials: cannot be opened with the service key")
            except Exception as e:  # one office's unreadable store must not hide the others
                parts.append(f"store: unreadable ({type(e).__name__})")
        if record.line_problem:
            at = f" since {_when(record.line_problem_at)}" if record.line_problem_at else ""
            parts.append(f"LINE problem{at}: {record.line_problem}")
        if record.exported_on is not None:
            parts.append(f"exported {record.exported_on.isoformat()}")
        print(" | ".join(parts))
    return 0


# --- export and remove --------------------------------------------------------------------------------


def _today(now: datetime) -> date:
    return now.astimezone(BANGKOK).date()


def _export(service: Service, slug: str, path: Path, now: datetime) -> int:
    from ita_bot.store import office_folder

    _record(service, slug)
    config = service.config
    protect = [p for p in (config.path,) if p]
    if config.database_url:
        from ita_bot.store.pg import Database
        from ita_bot.store.transfer import backup_office

        db = Database(config.database_url, max_size=1)
        try:
            written = backup_office(db, slug, path, now=now, protect=protect)
        finally:
            db.close()
    else:
        from ita_bot.store.backup import write_backup
        from ita_bot.store.database import Store

        # The office's own folder only: the registry (offices.json, with the sealed credentials) is the
        # service's, beside the offices' folders, so it is never in the archive.
        written = write_backup(Store(office_folder(config, slug) / "ita-bot.json"), path, now=now, protect=protect)
    service.registry.update(slug, exported_on=_today(now))
    print(f"office {slug} exported: {written}")
    print("restore it into a single-office deployment with `python bot.py restore PATH`; the LINE channel's "
          "credentials are not in it (enter them in that deployment's config)")
    return 0


def _remove(service: Service, slug: str, now: datetime, stdin: IO[str]) -> int:
    from ita_bot.store import remove_office_data

    record = _record(service, slug)
    today = _today(now)
    if record.exported_on != today:
        when = record.exported_on.isoformat() if record.exported_on else "never"
        raise CommandError(f"office {slug!r} was not exported today (last export: {when}); nothing was removed: "
                           f"run `python bot.py office export {slug} PATH` first, then remove it the same day")
    print(f"This deletes office {slug} ({record.name}) and all its data for good.")
    print(f"Type the office's slug ({slug}) to confirm: ", end="", flush=True)
    typed = stdin.readline().strip()
    if typed != slug:
        print()
        raise CommandError(f"the typed text was not {slug!r}; nothing was removed")
    remove_office_data(service.config, slug)
    service.registry.remove(slug)
    print(f"office {slug} removed: its data and its registry entry are gone")
    return 0


# --- the service key ---------------------------------------------------------------------------------


def _rotate_key(service: Service) -> int:
    key = service.key
    if key.count < 2:
        raise CommandError(f"{KEY_ENV} holds one key: set it to NEW,OLD (the new key first, the current one after "
                           "a comma), run rotate-key, then set it to NEW alone")
    done, failed = 0, []

    def resealed(record: OfficeRecord) -> dict[str, str]:
        # The record as it is at this moment (under the registry's lock): an onboarding that finished meanwhile
        # is re-sealed too, never overwritten by what was read before it.
        return {"sealed_secret": key.reseal(record.sealed_secret) if record.sealed_secret else "",
                "sealed_token": key.reseal(record.sealed_token) if record.sealed_token else ""}

    for slug in [r.slug for r in service.registry.all()]:
        try:
            record = service.registry.change(slug, resealed)
        except SealError:
            failed.append(slug)  # the slug only: never what could not be opened
            continue
        except KeyError:
            continue  # removed meanwhile
        if record.sealed_secret or record.sealed_token:
            done += 1
    print(f"re-sealed the LINE credentials of {done} office(s) with the new key")
    if failed:
        print(f"error: {len(failed)} office(s) have credentials no key in {KEY_ENV} opens: {', '.join(failed)} "
              "(they were left as they were); keep the old key until they are fixed", file=sys.stderr)
        return 1
    print(f"now set {KEY_ENV} to the new key alone and restart the service")
    return 0


# --- serving every office -------------------------------------------------------------------------------


def serve_hosted(config: Config) -> int:
    """`python bot.py serve` in hosted mode: every office's app under /o/<slug>/ on 127.0.0.1:$PORT (development)."""
    import logging

    from werkzeug.serving import run_simple

    from ita_bot.service.web import create_hosted_app

    app = create_hosted_app(config, service=_service(config))
    logging.getLogger("ita_bot").info("serving the hosted service on 127.0.0.1 port %d", config.port)
    try:
        run_simple("127.0.0.1", config.port, app, threaded=True, use_reloader=False)
    finally:
        app.close()
    return 0

