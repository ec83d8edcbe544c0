"""The command line: web, serve, clock, job, invite, demo, check, plan, backup, restore, richmenu, migrate, office."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ita_bot.domain.config import Config, ConfigError, load_config
from ita_bot.domain.inbox import StorageError
from ita_bot.domain.job_slots import JOBS
from ita_bot.domain.plan import PlanError
from ita_bot.domain.roles import COMMITTEE
from ita_bot.domain.thai import BANGKOK, fiscal_year_of, format_date, parse_datetime

if TYPE_CHECKING:
    from ita_bot.domain.office import Office

__all__ = ["main"]

log = logging.getLogger("ita_bot")

#: The commands that act on one office: in hosted mode each names it with --office SLUG.
OFFICE_COMMANDS = ("check", "job", "invite", "richmenu", "plan", "backup", "restore")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python bot.py", description="ITA follow-up LINE bot")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="webhook and pages on $PORT (development; production is gunicorn)")
    sub.add_parser("web", help="production: check the settings, then run gunicorn -c gunicorn.conf.py bot:app")
    sub.add_parser("clock", help="the scheduler process: runs the jobs on time")
    job = sub.add_parser("job", help="run one job as of a moment: reminder, digest, summary, plan or milestone")
    job.add_argument("name", choices=JOBS)
    job.add_argument("--now", help="ISO 8601 date-time (Bangkok time when no offset); default: now")
    add_office_option(job)
    inv = sub.add_parser("invite", help="print a one-time code for a role")
    inv.add_argument("role", choices=[r.value for r in COMMITTEE])
    add_office_option(inv)
    demo = sub.add_parser("demo", help="the whole bot on a built-in LINE stand-in; type as different staff")
    demo.add_argument("--db", help="keep the demo database at this path (default: a temporary folder)")
    demo.add_argument("--hosted", action="store_true",
                      help="the hosted service with two offices, each its own LINE channel (:office switches)")
    chk = sub.add_parser("check", help="pre-flight: validate config and plans, print the next meetings and job "
                                       "times; exit 1 naming each problem to fix before going live")
    chk.add_argument("--now", help="ISO 8601 date-time to check as of (Bangkok time when no offset); default: now")
    add_office_option(chk)
    plan = sub.add_parser("plan", help="plans: draft a new fiscal year's plan, or check a plan file")
    plan_sub = plan.add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    new = plan_sub.add_parser("new", help="draft plan FY into the data folder (never overwrites)")
    new.add_argument("fy", type=_fiscal_year, metavar="FY", help="the BE fiscal year, e.g. 2570")
    new.add_argument("--from", dest="from_fy", type=_fiscal_year, metavar="FY0",
                     help="the plan to start from (default: the latest before FY)")
    add_office_option(new)
    pc = plan_sub.add_parser("check", help="validate a plan file; print its year, measures and divisions")
    pc.add_argument("path")
    bk = sub.add_parser("backup", help="a consistent copy of all stored data")
    bk.add_argument("path", nargs="?", help="where to write it (default: the backups folder beside the database)")
    bk.add_argument("--force", action="store_true", help="replace PATH if it exists (never the bot's own files)")
    add_office_option(bk)
    rs = sub.add_parser("restore", help="replace all stored data by a backup")
    rs.add_argument("path")
    add_office_option(rs)
    add_office_option(sub.add_parser("richmenu", help="create or replace the rich menus (staff default, managers "
                                                      "linked)"))
    mg = sub.add_parser("migrate", help="PostgreSQL: bring the database's schema up to this program's (idempotent); "
                                        "with --from/--to: move an office between a TinyDB data folder and PostgreSQL")
    mg.add_argument("--from", dest="source", metavar="PATH-OR-URL",
                    help="move an office from this TinyDB data folder (or its .json file) or postgresql:// URL")
    mg.add_argument("--to", dest="target", metavar="URL-OR-PATH",
                    help="... into this postgresql:// URL or new, empty TinyDB data folder")
    mg.add_argument("--office", default=None, metavar="SLUG",
                    help="the office on the PostgreSQL side (default: the configured one, 'default')")
    _office_parser(sub)
    return p


def add_office_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--office", default=None, metavar="SLUG",
                        help="hosted service: the office to act on (required there; refused in a single-office one)")


def _office_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`office ACTION`: the hosted service's offices (ita_bot.service.commands runs them)."""
    office = sub.add_parser("office", help="hosted service: add, link, list, disable, enable, set, export or "
                                           "remove offices; rotate-key")
    act = office.add_subparsers(dest="office_command", required=True, metavar="ACTION")
    add = act.add_parser("add", help="register an office and print its one-time onboarding link")
    add.add_argument("slug", metavar="SLUG", help="the office's short name in URLs, e.g. nongmuang")
    add.add_argument("--name", required=True, help="the office's full name, e.g. องค์การบริหารส่วนตำบลหนองเมือง")
    for name, text in (("link", "a new onboarding link for an office that has not joined (the old one stops)"),
                       ("disable", "stop serving an office (its data stays)"), ("enable", "serve it again"),
                       ("remove", "delete an office and all its data (after its export the same day; asks you "
                                  "to type the slug)")):
        act.add_parser(name, help=text).add_argument("slug", metavar="SLUG")
    act.add_parser("list", help="one line per office: state, plan, group, last event, pushes, last job")
    export = act.add_parser("export", help="all of an office's data as a backup archive (restorable with "
                                           "`python bot.py restore` in a single-office deployment)")
    export.add_argument("slug", metavar="SLUG")
    export.add_argument("path", metavar="PATH", help="the archive to write, or a folder to put it in")
    act.add_parser("rotate-key", help="with ITA_BOT_SECRET_KEY=NEW,OLD: re-seal every office's credentials with NEW")
    setting = act.add_parser("set", help="an office's own setting over the service's default, e.g. "
                                         "`office set nongmuang schedule.meeting \"last thursday\"`")
    setting.add_argument("slug", metavar="SLUG")
    setting.add_argument("key", metavar="KEY", help="schedule.*, display.numerals, registration.mode, "
                                                    "web.show_names, web.public_evidence or documents.*")
    setting.add_argument("value", metavar="VALUE", help="as in config.toml: text, a number, [3, 1], true")
    unset = act.add_parser("unset", help="back to the service's default for one of an office's settings")
    unset.add_argument("slug", metavar="SLUG")
    unset.add_argument("key", metavar="KEY")


def _fiscal_year(text: str) -> int:
    from ita_bot.domain.thai import BE_YEAR_MAX, BE_YEAR_MIN, to_arabic_digits

    digits = to_arabic_digits(text.strip())
    if not digits.isdigit() or not BE_YEAR_MIN <= int(digits) <= BE_YEAR_MAX:
        raise argparse.ArgumentTypeError(f"expected a Buddhist-era fiscal year such as 2570, got {text!r}")
    return int(digits)


def _now(text: str | None) -> datetime:
    return parse_datetime(text) if text else datetime.now(BANGKOK)


#: The checkout this code runs from: the data folder belongs outside it (an upgrade must never touch data).
CHECKOUT = Path(__file__).resolve().parent.parent


def cmd_check(config: Config, now: datetime) -> int:
    """The pre-flight: what the bot will do, then each problem that must be fixed before going live (exit 1)."""
    from ita_bot.store import open_office

    if config.database_url and (problem := database_problem(config.database_url)) is not None:
        print(f"problem: {problem}", file=sys.stderr)
        print("check: 1 problem(s) to fix before going live", file=sys.stderr)
        return 1
    office = open_office(config)
    office.repositories.health.check()
    cal, s = office.calendar(), config.schedule
    today = now.astimezone(BANGKOK).date()
    print(f"config: {config.path}")
    for line in plan_status_lines(office, today):
        print(line)
    if config.database_url:
        from ita_bot.store.pg.database import redact_url
        from ita_bot.store.pg.schema import LATEST

        print(f"store:  postgresql {redact_url(config.database_url)}, office {config.office}")
        print("database: reachable")
        print(f"schema: version {LATEST}, current")
    else:
        print(f"store:  {config.db_path}")
    print(f"meeting rule: {s.meeting}; LINE credentials: {'set' if config.line.has_credentials else 'NOT SET'}")
    from ita_bot.schedule.slots import MEETING_JOBS, job_slots

    # The clock's own slot plan, through the end of next year (job plan's next two days lie within it).
    slots = job_slots(office, cal, today, date(today.year + 1, 12, 31))
    print("next meetings (Asia/Bangkok):")
    for cycle in cal.next_meetings(today, 3):
        flag = " (set by /ประชุม)" if cycle.overridden else ""
        print(f"  cycle {cycle.id}: meeting {format_date(cycle.meeting)} ({cycle.meeting.isoformat()}){flag}")
        for slot in (x for x in slots if x.job in MEETING_JOBS and x.cycle.id == cycle.id):
            n = slot.days_before
            when = "meeting day" if slot.job == "summary" else f"{n} working day{'s' if n != 1 else ''} before"
            print(f"    {slot.job:<10}{slot.at:%Y-%m-%d %H:%M}  ({when})")
    _print_milestones(office, today)
    days = [x.at for x in slots if x.job == "plan" and x.at.date() >= today]
    print(f"job plan (first working day of September and October; managers are told only when a year has no plan): "
          f"{', '.join(f'{at:%Y-%m-%d %H:%M}' for at in days[:2])}")
    # Last, on stderr, so that they are what the operator reads at the end of the listing.
    for warning in preflight_warnings(config):
        print(f"warning: {warning}", file=sys.stderr)
    problems = preflight_problems(office, today)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        print(f"check: {len(problems)} problem(s) to fix before going live", file=sys.stderr)
        return 1
    return 0


def database_problem(url: str) -> str | None:
    """What keeps the bot off its PostgreSQL database, in one line: not reachable, or a schema not this program's
    (behind: run `migrate`; ahead: upgrade the program). None when it is ready."""
    from ita_bot.store.pg.database import redact_url
    from ita_bot.store.status import probe_database

    try:
        state = probe_database(url)
    except StorageError as e:
        return f"database: {e}"
    if state.is_newer:
        return (f"schema: the database {redact_url(url)} has schema version {state.current}, newer than this "
                f"program's {state.latest}: upgrade the program")
    if not state.is_current:
        return (f"schema: the database {redact_url(url)} has schema version {state.current}, this program needs "
                f"{state.latest}: run `python bot.py migrate`")
    return None


def preflight_problems(office: Office, today: date) -> list[str]:
    """What would make the bot fail its users once live: each problem in one line, naming what to change."""
    config = office.config
    out = []
    if not config.line.has_credentials:
        out.append(f"LINE credentials: [line] channel_secret / channel_access_token in {config.path} are missing "
                   "or still the example's placeholder; set them there or as LINE_CHANNEL_SECRET and "
                   "LINE_CHANNEL_ACCESS_TOKEN in the environment (file)")
    if not config.web.base_url.lower().startswith("https://"):
        out.append(f"[web] base_url {config.web.base_url!r} is not https: the links in chat and the managers' "
                   "console sign-in must use this server's public https:// address (the console's cookie is "
                   "Secure only then)")
    current = fiscal_year_of(today)
    if office.plan_for(current) is None:
        out.append(f"fiscal year {current} (now) has no plan: staff cannot report until one is made — "
                   f"run `python bot.py plan new {current}` or use the managers' console (/admin)")
    return out


def preflight_warnings(config: Config) -> list[str]:
    """What works but is risky: a data folder inside the checkout is touched by upgrades and `git clean`."""
    data = config.db_path.parent.resolve()
    if data.is_relative_to(CHECKOUT):
        return [f"the data folder {data} is inside the checkout {CHECKOUT}: an upgrade (git pull, git clean) can "
                "touch it and plans saved there sit beside the shipped ones; set ITA_BOT_DB to a file outside, "
                "e.g. /var/lib/ita-bot/ita-bot.json"]
    return []


def plan_status_lines(office: Office, today: date) -> list[str]:
    """What `check` says about plans: each year known and where it comes from, and a coming year that has none.

    The current year without a plan is a problem (see `preflight_problems`), not a note.
    """
    out = []
    for plan in office.plans.all():
        where = "shipped with the bot" if office.plans.is_shipped(plan.fiscal_year) else "saved in the data folder"
        out.append(f"plan:   {plan.fiscal_year} — {plan.organization.name}: {len(plan.measures)} measures, "
                   f"{len(plan.divisions)} divisions ({where}: {plan.source})")
        if plan.to_fill:
            out.append(f"        still to fill in: {', '.join(plan.to_fill)}")
    current = fiscal_year_of(today)
    for fy in office.missing_plans(today):
        if fy != current:
            out.append(f"note:   the coming fiscal year {fy} (from 1 October) has no plan yet — "
                       f"run `python bot.py plan new {fy}` or use the managers' console (/admin)")
    return out


def cmd_plan_new(config: Config, fy: int, from_fy: int | None) -> int:
    from ita_bot.domain.draft import FILL_IN, draft_plan, save_draft
    from ita_bot.store import open_office

    office = open_office(config)
    if (existing := office.plans.path_of(fy)) is not None:
        print(f"error: fiscal year {fy} already has a plan ({existing}); not overwritten. "
              "Edit it in the managers' console (/admin), or check a file with `python bot.py plan check PATH`.",
              file=sys.stderr)
        return 1
    draft = draft_plan(office.plans, office.reports, fy, from_fy)
    now = datetime.now(BANGKOK)
    # Nobody can choose at a terminal prompt in a script: every suggested measure is kept; managers drop or
    # edit them in the console.
    plan = save_draft(office.plans, draft, draft.suggestions, who="python bot.py plan new", now=now)
    print(f"plan {fy} drafted from plan {draft.from_year}: {plan.source}")
    carried = ", ".join(str(n) for n in draft.carried) or "none"
    print(f"  measures carried over (unfinished in {draft.from_year}): {carried}")
    for s in draft.suggestions:
        print(f"  suggested for {s.instrument} {s.indicator} (score {s.score} < {s.target}): {s.title}")
    print(f"  {len(plan.measures)} measures, {len(plan.divisions)} divisions")
    if plan.to_fill:
        print(f"  to fill in (marked {FILL_IN!r} or a stand-in date): {', '.join(plan.to_fill)}")
    print("The bot follows this plan now. Review and complete it in the managers' console (/admin).")
    return 0


def cmd_plan_check(path: str) -> int:
    from ita_bot.domain.plan import PlanProblems
    from ita_bot.domain.plan_reader import load_plan

    try:
        plan = load_plan(path)
    except PlanProblems as e:
        print(f"{path}: {len(e.problems)} problem(s):", file=sys.stderr)
        for p in e.problems:
            print(f"  {p.field}: {p.in_file}", file=sys.stderr)  # the reader edits the file: its terms
        return 1
    except PlanError as e:
        print(f"{path}: 1 problem(s):", file=sys.stderr)
        print(f"  {e.field}: {e.problem}", file=sys.stderr)
        return 1
    print(f"{path}: OK — fiscal year {plan.fiscal_year} ({plan.start.isoformat()} to {plan.end.isoformat()}), "
          f"{plan.organization.name}")
    if Path(path).suffix == ".toml" and Path(path).stem != str(plan.fiscal_year):
        print(f"  note: save it as {plan.fiscal_year}.toml (one file per year, named after it)")
    a = plan.assessment
    if a is not None:
        below = ", ".join(f"{i.instrument} {i.number}" for i in a.below_target()) or "none"
        print(f"assessment: ITA {a.fiscal_year}: {a.total} ({a.level}); under target {a.target}: {below}")
    else:
        print("assessment: not entered yet")
    print(f"measures ({len(plan.measures)}):")
    for m in plan.measures:
        carried = f" [carried from {m.carried_from}]" if m.carried_from else ""
        print(f"  {m.number}. {m.title} — {', '.join(m.divisions)}{carried}")
    print(f"divisions ({len(plan.divisions)}):")
    for d in plan.divisions:
        print(f"  {d.id}: {d.name} ({', '.join(d.aliases)})")
    print(f"OIT items ({len(plan.oit)}):" if plan.oit else "OIT items: none listed ([[oit]])")
    for o in plan.oit:
        print(f"  {o.code} ({o.covers}, fiscal year {o.fiscal_year}): {o.title}")
    if plan.to_fill:
        print(f"still to fill in: {', '.join(plan.to_fill)}")
    return 0


def _print_milestones(office: Office, today: date) -> None:
    from ita_bot.schedule.milestones import reminder_times

    times = reminder_times(office, office.calendar(), today)
    print(f"next milestone reminders: {'none' if not times else ''}".rstrip())
    for r in times[:3]:
        print(f"  milestone {r.at:%Y-%m-%d %H:%M}  {r.milestone.title} ({r.milestone.date.isoformat()}, "
              f"{r.days_before} working day{'s' if r.days_before != 1 else ''} before)")


def cmd_invite(config: Config, role: str) -> int:
    from ita_bot.domain.actions import VIA_CLI, Actor, ManagerActions
    from ita_bot.domain.people import CODE_TTL
    from ita_bot.store import open_office

    office = open_office(config)
    now = datetime.now(BANGKOK)
    # Recorded in the change history like a code issued in chat or the console (the code itself never is).
    code = ManagerActions(office, Actor.of(office, None, VIA_CLI), now).issue_code(role)
    until = now + CODE_TTL  # the code's own lifetime, not a second copy of it
    print(f"One-time code for {role}: {code}")
    print(f"The person sends this to the bot in LINE:  /รหัส {code}")
    print(f"Valid once, until {until:%Y-%m-%d %H:%M} (Asia/Bangkok).")
    return 0


def cmd_richmenu(config: Config) -> int:
    from ita_bot.chat.richmenus import install
    from ita_bot.line.client import LineApiError, LineClient
    from ita_bot.store import open_office

    config.require_line_credentials()
    try:
        done = install(open_office(config), LineClient.from_config(config), datetime.now(BANGKOK))
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except LineApiError as e:
        print(f"error: the LINE API refused or failed ({e}); nothing is lost: the menus in use stay and those "
              "this run made were deleted again; run `python bot.py richmenu` again later", file=sys.stderr)
        return 1
    for menu in done.menus:
        print(f"{menu.key} menu {done.ids[menu.key]}: " + " | ".join(b.text for b in menu.buttons))
    print(f"staff menu is the default; managers' menu linked to {done.linked} manager(s); "
          f"{done.deleted} earlier menu(s) of this bot deleted")
    return 0


def cmd_migrate(config: Config) -> int:
    """Apply the PostgreSQL migrations the configured database lacks; TinyDB has nothing to migrate."""
    if not config.database_url:
        print("error: no PostgreSQL database configured: set ITA_BOT_DATABASE_URL or [storage] url "
              "(the embedded TinyDB store needs no migration)", file=sys.stderr)
        return 2
    from ita_bot.store.pg import Database
    from ita_bot.store.pg.database import redact_url
    from ita_bot.store.pg.schema import LATEST, ensure_office, migrate

    db = Database.shared(config.database_url)
    try:
        applied = migrate(db)
        ensure_office(db, config.office)
    finally:
        db.close()
    where = redact_url(config.database_url)
    if applied:
        print(f"{where}: applied {', '.join(f'{m.version:04d}_{m.name}' for m in applied)}; schema version {LATEST}")
    else:
        print(f"{where}: schema version {LATEST} is current; nothing to apply")
    return 0


def cmd_move(source: str, target: str, office: str | None) -> int:
    """`migrate --from --to`: one office's records between a TinyDB data folder and PostgreSQL, verified."""
    from ita_bot.domain.config import DEFAULT_OFFICE
    from ita_bot.store.transfer import move

    for line in move(source, target, office or DEFAULT_OFFICE).lines():
        print(line)
    return 0


def cmd_backup(config: Config, path: str | None, force: bool) -> int:
    from ita_bot.store.database import Store

    protect = [p for p in (config.path, config.plan_path) if p is not None]
    if config.database_url:
        from ita_bot.store.pg import Database
        from ita_bot.store.transfer import backup_office

        dest = Path(path) if path else Path(config.db_path).parent / "backups"
        if not path:
            dest.mkdir(parents=True, exist_ok=True)  # the default is a folder, as on TinyDB
        db = Database(config.database_url, max_size=1)
        try:
            written = backup_office(db, config.office, dest, force=force, protect=protect)
        finally:
            db.close()
        print(f"backup written: {written} (office {config.office}; sign-in sessions, drafts, heartbeats and the "
              "inbox are the processes' own state and not in it)")
        return 0
    written = Store(config.db_path).backup(path, force=force, protect=protect)
    print(f"backup written: {written}")
    return 0


def cmd_restore(config: Config, path: str) -> int:
    from ita_bot.domain.plan_reader import load_plans

    # Every plan in the archive must load as the bot would load it, named after its year.
    if config.database_url:
        from ita_bot.store.pg import Database
        from ita_bot.store.transfer import restore_office

        db = Database(config.database_url, max_size=1)
        try:
            moved = restore_office(db, config.office, Path(path), check_plans=load_plans)
        finally:
            db.close()
        what = ", ".join(f"{s.label} {s.rows}" for s in moved.sums) or "no records"
        print(f"restored office {config.office} from {path}: {what}")
        if moved.dropped:
            print("not restored (the processes' own state): "
                  + ", ".join(f"{label} {n}" for label, n in sorted(moved.dropped.items())))
        return 0
    from ita_bot.store.database import Store

    Store(config.db_path).restore(Path(path), check_plans=load_plans)
    print(f"restored from {path}")
    return 0


def cmd_web(config: Config) -> int:
    """gunicorn as the Procfile runs it, after checking the settings: bad ones get one clear line (gunicorn
    itself prints a traceback for a malformed WEB_CONCURRENCY before it reads any config)."""
    from ita_bot.deploy import exec_gunicorn, web_settings
    from ita_bot.domain.plan_reader import load_plan
    from ita_bot.store.database import Store

    web_settings()
    if not config.hosted:  # a hosted service's offices bring their own channels (checked in the wizard)
        config.require_line_credentials()
    if config.plan_path is not None:
        load_plan(config.plan_path)
    Store(config.db_path)
    exec_gunicorn(Path(__file__).resolve().parent.parent)


def cmd_job(config: Config, name: str, now: datetime) -> int:
    """`python bot.py job NAME --now T`: one line per send; exit 0 when all went (or had gone) out, else 1."""
    from ita_bot.line.client import LineApiError, LineClient
    from ita_bot.schedule.jobs import run_job
    from ita_bot.store import open_office

    try:
        config.require_line_credentials()
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    office = open_office(config)
    try:
        result = run_job(office, LineClient.from_config(config), name, now)
    except LineApiError as e:
        print(f"error: {name}: LINE API {e.status or 'unreachable'}: {e.message}", file=sys.stderr)
        return 1
    print(result.headline())
    for entry in result.lines:
        print(f"  {entry.text()}")
    if not result.ok:
        failed = [e for e in result.lines if not e.ok]
        print(f"error: {name}: {len(failed)} send(s) did not go out (see above; the managers were told)",
              file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ita_bot.deploy import LOG_DATEFMT, LOG_FORMAT

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt=LOG_DATEFMT)
    try:
        if args.command == "demo":
            from ita_bot.demo import main as demo_main

            return demo_main(db=args.db, hosted=args.hosted)
        if args.command == "plan" and args.plan_command == "check":
            return cmd_plan_check(args.path)  # a file check needs no configuration
        if args.command == "migrate" and (args.source or args.target):
            if not (args.source and args.target):
                print("error: migrate: --from and --to go together (one a data folder, the other a postgresql:// "
                      "URL)", file=sys.stderr)
                return 2
            return cmd_move(args.source, args.target, args.office)  # both ends are named: no config needed
        config = load_config()
        if args.command == "office":
            from ita_bot.service.commands import run_office

            return run_office(config, args)
        if args.command in OFFICE_COMMANDS:
            from ita_bot.service.commands import office_scope

            config = office_scope(config, args.command, args.office)
        if args.command == "plan":
            return cmd_plan_new(config, args.fy, args.from_fy)
        if args.command == "check":
            return cmd_check(config, _now(args.now))
        if args.command == "invite":
            return cmd_invite(config, args.role)
        if args.command == "richmenu":
            return cmd_richmenu(config)
        if args.command == "web":
            return cmd_web(config)
        if args.command == "serve" and config.hosted:
            from ita_bot.service.commands import serve_hosted

            return serve_hosted(config)
        if args.command == "serve":
            from ita_bot.web import serve

            return serve(config)
        if args.command == "clock" and config.hosted:
            from ita_bot.service.clock import run_hosted_clock

            return run_hosted_clock(config)
        if args.command == "clock":
            from ita_bot.chat.richmenus import sync_links_in_background
            from ita_bot.schedule.clock import run_clock

            # Roles may have changed in config while the bot was down: the managers' menu follows.
            return run_clock(config, on_start=sync_links_in_background)
        if args.command == "job":
            return cmd_job(config, args.name, _now(args.now))
        if args.command == "migrate":
            return cmd_migrate(dataclasses.replace(config, office=args.office) if args.office else config)
        if args.command == "backup":
            return cmd_backup(config, args.path, args.force)
        if args.command == "restore":
            return cmd_restore(config, args.path)
    except (ConfigError, PlanError, StorageError, ValueError) as e:  # StorageError: any backend's
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a path the operator gave that the system refuses: one line, not a traceback
        where = f" {e.filename}" if e.filename else ""
        print(f"error:{where} {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1
