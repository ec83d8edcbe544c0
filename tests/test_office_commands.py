"""The hosted service's operator commands as the operator runs them (`python bot.py office …`), on both backends."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ita_bot.cli import main
from ita_bot.domain.config import Config, load_config
from ita_bot.domain.office import Office
from ita_bot.domain.offices import OfficeRecord, OfficeRegistry, token_hash
from ita_bot.domain.people import CodeError
from ita_bot.domain.progress import Report
from ita_bot.domain.sealing import SealError, ServiceKey
from ita_bot.domain.thai import BANGKOK
from ita_bot.store import office_folder, open_office, open_registry
from tests.conftest import GROUP, ROOT, write_config

KEY = "service-key-" + "k" * 40
NEW_KEY = "service-key-" + "n" * 40
SECRET = "office-channel-secret-0123456789"
TOKEN = "office-access-token-abcdefghijklmnop"
BOT_ID = "U" + "0123456789abcdef" * 2
LINE_ID = re.compile(r"[UCR][0-9a-f]{32}")


def invoke(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The command line in this process (what `python bot.py ARGS` runs, without the start-up of a process)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(sys, "stdin", io.StringIO(stdin))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@dataclass
class Hosted:
    """A hosted service of the test's own: its config file, environment and backend."""

    env: dict[str, str]
    config: Config
    backend: str
    folder: Path

    def process(self, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        """`python bot.py ARGS` as the operator runs it: a process of its own."""
        return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, env={**os.environ, **self.env, **env},
                              input=stdin, capture_output=True, text=True, timeout=120, check=False)

    def run(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        return invoke(list(args), {**self.env, **env}, stdin)

    def registry(self) -> OfficeRegistry:
        return open_registry(self.config)

    def office(self, slug: str) -> Office:
        """The office's own store, opened as the service opens it (its folder or its rows), with a plan file."""
        config = dataclasses.replace(self.config, office=slug, hosted=False,
                                     db_path=office_folder(self.config, slug) / "ita-bot.json")
        return open_office(config)

    def join(self, slug: str, key: str = KEY, secret: str = SECRET, token: str = TOKEN) -> OfficeRecord:
        """What the onboarding wizard leaves behind: the channel verified, its credentials sealed."""
        sealing = ServiceKey(key)
        return self.registry().update(slug, channel_id="1234567890", sealed_secret=sealing.seal(secret),
                                      sealed_token=sealing.seal(token) if token else "", bot_user_id=BOT_ID,
                                      bot_name="อบต.ทดสอบ", joined_at=datetime.now(BANGKOK), onboarding_hash="",
                                      onboarding_expires=None)


@pytest.fixture(params=("tinydb", "postgresql"))
def hosted(request: pytest.FixtureRequest, tmp_path: Path, standin: Any) -> Iterator[Hosted]:
    path = write_config(tmp_path, {"service": {"hosted": True}})
    # LINE is the stand-in: `office list` reads each joined office's quota there.
    env = {"ITA_BOT_CONFIG": str(path), "ITA_BOT_DB": str(tmp_path / "data" / "ita-bot.json"),
           "ITA_BOT_SECRET_KEY": KEY, "LINE_API_ENDPOINT": standin.url, "LINE_DATA_API_ENDPOINT": standin.url}
    if request.param == "postgresql":
        env["ITA_BOT_DATABASE_URL"] = request.getfixturevalue("fresh_postgres_database")
    yield Hosted(env, load_config(path, env), request.param, tmp_path)
    if request.param == "postgresql":
        from ita_bot.store.pg import Database

        Database.shared(env["ITA_BOT_DATABASE_URL"]).close()


def _link_token(out: str) -> str:
    match = re.search(r"https://ita\.example\.go\.th/onboard/([A-Za-z0-9_-]+)", out)
    assert match, out
    return match.group(1)


def _stored_registry(hosted: Hosted) -> str:
    """Everything the registry holds, as stored (the file, or the rows' JSON)."""
    if hosted.backend == "tinydb":
        return (hosted.config.db_path.parent / "offices.json").read_text(encoding="utf-8")
    with psycopg.connect(hosted.env["ITA_BOT_DATABASE_URL"]) as conn:
        return "\n".join(str(r[0]) for r in conn.execute("SELECT data::text FROM offices").fetchall())


def _seed(office: Office, when: datetime) -> None:
    """A report, the staff group, a push LINE accepted this month and a finished job run."""
    office.reports.add(Report(2564, 1, "sp", "doing", 50, "ส่งออกแล้ว", when, when))
    office.set_setting("group_id", GROUP)
    now = datetime.now(BANGKOK).isoformat()
    with office.repositories.sent_log.hold("reminder/2026-12/3/" + GROUP + "/0") as held:
        held.put({"state": "done", "updated_at": now, "recipient": GROUP})
    with office.repositories.slots.hold("reminder/2026-12/3") as held:
        held.put({"ran_at": now, "error": None})


# --- add, link, disable, enable ------------------------------------------------------------------


def test_add_prints_a_one_time_link_and_the_registry_keeps_only_its_hash(hosted: Hosted) -> None:
    before = datetime.now(BANGKOK)
    result = hosted.run("office", "add", "nongmuang", "--name", "องค์การบริหารส่วนตำบลหนองเมือง")
    assert result.returncode == 0, result.stderr
    token = _link_token(result.stdout)
    record = hosted.registry().get("nongmuang")
    assert record is not None and record.name == "องค์การบริหารส่วนตำบลหนองเมือง" and not record.joined
    assert record.onboarding_hash == token_hash(token) and record.onboarding_open(datetime.now(BANGKOK))
    assert record.onboarding_expires is not None and record.onboarding_expires.isoformat(timespec="minutes") in \
        result.stdout
    assert 71.9 * 3600 <= (record.onboarding_expires - before).total_seconds() <= 72.1 * 3600
    assert "2569" in result.stdout or "2570" in result.stdout  # the Buddhist-era date beside the ISO one
    assert token not in _stored_registry(hosted)

    again = hosted.run("office", "add", "nongmuang", "--name", "อื่น")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert hosted.registry().get("nongmuang") == record
    bad = hosted.run("office", "add", "Bad_Slug", "--name", "x")
    assert bad.returncode == 2 and "slug" in bad.stderr and hosted.registry().get("Bad_Slug") is None

    relinked = hosted.run("office", "link", "nongmuang")
    assert relinked.returncode == 0, relinked.stderr
    new_token = _link_token(relinked.stdout)
    fresh = hosted.registry().get("nongmuang")
    assert new_token != token and fresh is not None and fresh.onboarding_hash == token_hash(new_token)

    assert hosted.run("office", "disable", "nongmuang").returncode == 0
    assert hosted.registry().get("nongmuang").disabled  # type: ignore[union-attr]
    assert hosted.run("office", "enable", "nongmuang").returncode == 0
    assert not hosted.registry().get("nongmuang").disabled  # type: ignore[union-attr]
    assert hosted.run("office", "disable", "nowhere").returncode == 2

    hosted.join("nongmuang")
    refused = hosted.run("office", "link", "nongmuang")
    assert refused.returncode == 2 and "already joined" in refused.stderr


def test_office_commands_are_refused_in_a_single_office_deployment(tmp_path: Path) -> None:
    path = write_config(tmp_path, {})
    env = {"ITA_BOT_CONFIG": str(path), "ITA_BOT_DB": str(tmp_path / "data" / "ita-bot.json")}
    result = invoke(["office", "list"], env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "[service] hosted" in result.stderr
    refused = invoke(["check", "--office", "nongmuang"], env)
    assert refused.returncode == 2 and "--office" in refused.stderr and "Traceback" not in refused.stderr


# --- --office ------------------------------------------------------------------------------------------


def test_office_level_commands_need_office_in_hosted_mode(hosted: Hosted) -> None:
    for args in (["check"], ["invite", "secretary"], ["backup"], ["restore", "x.tar.gz"], ["job", "reminder"],
                 ["richmenu"], ["plan", "new", "2570"]):
        result = hosted.run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "--office SLUG is required" in result.stderr and "Traceback" not in result.stderr, args
    unknown = hosted.run("invite", "secretary", "--office", "nowhere")
    assert unknown.returncode == 2 and "no office 'nowhere'" in unknown.stderr


# --- list -----------------------------------------------------------------------------------------------


@pytest.mark.skipif("organization_name" not in {f.name for f in dataclasses.fields(Config)},
                    reason="opening a hosted office needs Config.organization_name (an office without a plan file)")
def test_list_shows_each_office_state_and_never_an_id_or_a_secret(hosted: Hosted, standin: Any) -> None:
    assert hosted.run("office", "add", "joined-one", "--name", "อบต.เชื่อมแล้ว").returncode == 0
    assert hosted.run("office", "add", "waiting-one", "--name", "อบต.รอเชื่อม").returncode == 0
    record = hosted.join("joined-one")
    channel = standin.add_channel(access_token=TOKEN)
    standin.set_quota(200, channel=channel)
    hosted.registry().update("joined-one", line_problem="LINE 401: the access token was revoked",
                             line_problem_at=datetime.now(BANGKOK))
    _seed(hosted.office("joined-one"), datetime.now(BANGKOK))

    result = hosted.run("office", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    joined, waiting = lines
    assert joined.startswith("joined-one | อบต.เชื่อมแล้ว | joined |"), joined
    assert "group: yes" in joined and "last job: reminder" in joined
    assert "pushes this month: 1 (0 of 200 messages used)" in joined  # LINE's count, against the office's quota
    assert "ok" in joined and "last event: none" in joined and re.search(r"plan 25\d\d: no", joined)
    assert "LINE problem" in joined and "revoked" in joined
    assert waiting.startswith("waiting-one | อบต.รอเชื่อม | waiting for LINE"), waiting
    assert "group:" not in waiting  # its store is not opened
    if hosted.backend == "tinydb":
        assert not office_folder(hosted.config, "waiting-one").exists()
    out = result.stdout + result.stderr
    for secret in (record.sealed_secret, record.sealed_token, SECRET, TOKEN, BOT_ID, GROUP, KEY, "1234567890"):
        assert secret not in out
    assert not LINE_ID.search(out)


# --- export and remove --------------------------------------------------------------------------------


def _reports(office: Office) -> list[tuple[int, str, int | None, str]]:
    return [(r.measure, r.status, r.percent, r.details) for r in office.reports.all(2564)]


def test_export_restores_into_a_single_office_deployment_without_credentials(hosted: Hosted, tmp_path: Path) -> None:
    assert hosted.run("office", "add", "nongmuang", "--name", "อบต.หนองเมือง").returncode == 0
    record = hosted.join("nongmuang")
    when = datetime(2021, 2, 10, 10, tzinfo=BANGKOK)
    office = hosted.office("nongmuang")
    _seed(office, when)
    office.reports.add(Report(2564, 4, "klang", "done", 100, "เสร็จ", when, when))
    expected = _reports(office)
    assert len(expected) == 2

    archive = tmp_path / "nongmuang.tar.gz"
    result = hosted.run("office", "export", "nongmuang", str(archive))
    assert result.returncode == 0, result.stderr
    exported = hosted.registry().get("nongmuang")
    assert exported is not None and exported.exported_on == datetime.now(BANGKOK).date()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        contents = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert not [n for n in names if "secret" in n or "offices" in n], names
    for secret in (record.sealed_secret, record.sealed_token, SECRET, TOKEN, KEY):
        assert secret.encode() not in contents

    single = tmp_path / "single"
    single.mkdir()
    config = write_config(single, {})
    env = {"ITA_BOT_CONFIG": str(config), "ITA_BOT_DB": str(single / "data" / "ita-bot.json")}
    restored = invoke(["restore", str(archive)], env)
    assert restored.returncode == 0, restored.stderr
    there = open_office(load_config(config, env))
    assert _reports(there) == expected
    assert there.setting("group_id") == GROUP


def _office_rows(url: str, slug: str) -> int:
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'office' "
            "AND table_schema = 'public'").fetchall()]
        rows = sum(conn.execute(f'SELECT count(*) FROM "{t}" WHERE office = %s', (slug,)).fetchone()[0]  # type: ignore[index]
                   for t in tables)
        rows += conn.execute("SELECT count(*) FROM offices WHERE slug = %s", (slug,)).fetchone()[0]  # type: ignore[index]
    return rows


def test_remove_needs_an_export_the_same_day_and_the_typed_slug(hosted: Hosted, tmp_path: Path) -> None:
    assert hosted.run("office", "add", "nongmuang", "--name", "อบต.หนองเมือง").returncode == 0
    assert hosted.run("office", "add", "keeper", "--name", "อบต.อยู่ต่อ").returncode == 0
    hosted.join("nongmuang")
    hosted.join("keeper")
    when = datetime(2021, 2, 10, 10, tzinfo=BANGKOK)
    _seed(hosted.office("nongmuang"), when)
    _seed(hosted.office("keeper"), when)

    def still_there() -> bool:
        return hosted.registry().get("nongmuang") is not None and len(hosted.office("nongmuang").reports.all(2564)) == 1

    unexported = hosted.run("office", "remove", "nongmuang", stdin="nongmuang\n")
    assert unexported.returncode == 2 and "export" in unexported.stderr and still_there()
    yesterday = datetime.now(BANGKOK).date().replace(day=1)
    if yesterday != datetime.now(BANGKOK).date():
        hosted.registry().update("nongmuang", exported_on=yesterday)
        stale = hosted.run("office", "remove", "nongmuang", stdin="nongmuang\n")
        assert stale.returncode == 2 and "not exported today" in stale.stderr and still_there()

    assert hosted.run("office", "export", "nongmuang", str(tmp_path / "backup.tar.gz")).returncode == 0
    for typed in ("", "keeper\n", "NONGMUANG\n"):
        wrong = hosted.run("office", "remove", "nongmuang", stdin=typed)
        assert wrong.returncode == 2 and "nothing was removed" in wrong.stderr and still_there()

    done = hosted.run("office", "remove", "nongmuang", stdin="nongmuang\n")
    assert done.returncode == 0, done.stderr
    assert hosted.registry().get("nongmuang") is None
    if hosted.backend == "tinydb":
        assert not office_folder(hosted.config, "nongmuang").exists()
    else:
        assert _office_rows(hosted.env["ITA_BOT_DATABASE_URL"], "nongmuang") == 0
    assert len(hosted.office("keeper").reports.all(2564)) == 1  # the other office is untouched


# --- the service key -------------------------------------------------------------------------------------


def test_rotate_key_leaves_every_credential_openable_with_the_new_key_alone(hosted: Hosted) -> None:
    for slug in ("first", "second", "waiting"):
        assert hosted.run("office", "add", slug, "--name", f"อบต.{slug}").returncode == 0
    hosted.join("first", secret="secret-of-first-" + "1" * 20, token="token-of-first")
    hosted.join("second", secret="secret-of-second-" + "2" * 20, token="")  # a channel on stateless tokens

    single = hosted.run("office", "rotate-key")
    assert single.returncode == 2 and "NEW,OLD" in single.stderr

    result = hosted.run("office", "rotate-key", ITA_BOT_SECRET_KEY=f"{NEW_KEY},{KEY}")
    assert result.returncode == 0, result.stderr
    assert "2 office(s)" in result.stdout
    new, old = ServiceKey(NEW_KEY), ServiceKey(KEY)
    first, second = hosted.registry().get("first"), hosted.registry().get("second")
    assert first is not None and second is not None
    assert new.open(first.sealed_secret) == "secret-of-first-" + "1" * 20
    assert new.open(first.sealed_token) == "token-of-first"
    assert new.open(second.sealed_secret) == "secret-of-second-" + "2" * 20 and second.sealed_token == ""
    with pytest.raises(SealError):
        old.open(first.sealed_secret)
    listed = hosted.run("office", "list", ITA_BOT_SECRET_KEY=NEW_KEY)
    assert listed.returncode == 0 and "cannot be opened" not in listed.stdout


# --- each command as the operator runs it: a process of its own -----------------------------------------


@pytest.mark.slow
def test_each_office_command_runs_as_a_process(hosted: Hosted, tmp_path: Path) -> None:
    added = hosted.process("office", "add", "nongmuang", "--name", "อบต.หนองเมือง")
    assert added.returncode == 0, added.stderr
    assert hosted.registry().get("nongmuang").onboarding_hash == token_hash(_link_token(added.stdout))  # type: ignore[union-attr]
    linked = hosted.process("office", "link", "nongmuang")
    assert hosted.registry().get("nongmuang").onboarding_hash == token_hash(_link_token(linked.stdout))  # type: ignore[union-attr]
    record = hosted.join("nongmuang")
    _seed(hosted.office("nongmuang"), datetime(2021, 2, 10, 10, tzinfo=BANGKOK))
    assert hosted.process("office", "disable", "nongmuang").returncode == 0
    assert hosted.process("office", "enable", "nongmuang").returncode == 0
    listed = hosted.process("office", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("nongmuang | อบต.หนองเมือง | joined"), listed.stdout
    for secret in (record.sealed_secret, record.sealed_token, SECRET, TOKEN, BOT_ID, GROUP):
        assert secret not in listed.stdout + listed.stderr
    assert not LINE_ID.search(listed.stdout + listed.stderr)
    needs = hosted.process("check")
    assert needs.returncode == 2 and "--office SLUG is required" in needs.stderr
    rotated = hosted.process("office", "rotate-key", ITA_BOT_SECRET_KEY=f"{NEW_KEY},{KEY}")
    assert rotated.returncode == 0 and "1 office(s)" in rotated.stdout, rotated.stderr
    assert ServiceKey(NEW_KEY).open(hosted.registry().get("nongmuang").sealed_secret) == SECRET  # type: ignore[union-attr]

    archive = tmp_path / "nongmuang.tar.gz"
    exported = hosted.process("office", "export", "nongmuang", str(archive), ITA_BOT_SECRET_KEY=NEW_KEY)
    assert exported.returncode == 0, exported.stderr
    single = tmp_path / "single"
    single.mkdir()
    env = {"ITA_BOT_CONFIG": str(write_config(single, {})), "ITA_BOT_DB": str(single / "data" / "ita-bot.json")}
    restored = subprocess.run([sys.executable, "bot.py", "restore", str(archive)], cwd=ROOT, env={**os.environ, **env},
                              capture_output=True, text=True, timeout=120, check=False)
    assert restored.returncode == 0, restored.stderr
    assert _reports(open_office(load_config(env["ITA_BOT_CONFIG"], env))) == [(1, "doing", 50, "ส่งออกแล้ว")]

    refused = hosted.process("office", "remove", "nongmuang", stdin="nongmuan\n", ITA_BOT_SECRET_KEY=NEW_KEY)
    assert refused.returncode == 2 and hosted.registry().get("nongmuang") is not None
    removed = hosted.process("office", "remove", "nongmuang", stdin="nongmuang\n", ITA_BOT_SECRET_KEY=NEW_KEY)
    assert removed.returncode == 0, removed.stderr
    assert hosted.registry().get("nongmuang") is None


def test_office_names_the_office_an_office_command_acts_on(hosted: Hosted, tmp_path: Path) -> None:
    assert hosted.run("office", "add", "nongmuang", "--name", "อบต.หนองเมือง").returncode == 0
    assert hosted.run("office", "add", "other", "--name", "อบต.อื่น").returncode == 0
    hosted.join("nongmuang")
    hosted.join("other")
    invited = hosted.run("invite", "secretary", "--office", "nongmuang")
    assert invited.returncode == 0, invited.stderr
    code = invited.stdout.split("/รหัส ")[1].split()[0]
    uid = "U" + "7" * 32
    with pytest.raises(CodeError):  # the other office never issued it
        hosted.office("other").people.claim_code(code, uid, datetime.now(BANGKOK))
    assert hosted.office("nongmuang").people.claim_code(code, uid, datetime.now(BANGKOK)) == "secretary"
    backup = hosted.run("backup", str(tmp_path / "b.tar.gz"), "--office", "nongmuang")
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "b.tar.gz").is_file()


# --- set, unset ----------------------------------------------------------------------------------


def test_an_office_keeps_its_own_schedule_and_numerals_over_the_services_and_a_wrong_one_is_refused(
        hosted: Hosted) -> None:
    from ita_bot.service import Service

    for slug in ("office-a", "office-b"):
        assert hosted.run("office", "add", slug, "--name", f"สำนักงาน {slug}").returncode == 0
        hosted.join(slug)
    assert hosted.run("office", "set", "office-a", "schedule.meeting", '"last thursday"').returncode == 0
    assert hosted.run("office", "set", "office-a", "display.numerals", "thai").returncode == 0
    assert hosted.run("office", "set", "office-a", "schedule.reminder_days_before", "[5, 2]").returncode == 0
    service = Service(hosted.config, hosted.env)
    a, b = (service.office_config(service.registry.get(s)) for s in ("office-a", "office-b"))  # type: ignore[arg-type]
    assert str(a.schedule.meeting) != str(b.schedule.meeting) and a.numerals == "thai" and b.numerals == "arabic"
    assert a.schedule.reminder_days_before == (5, 2) and b.schedule.reminder_days_before == (3, 1)
    assert service.office("office-a").fmt.num(12) == "๑๒"  # every message and page of office a in Thai digits

    before = hosted.registry().get("office-a")
    for key, value in (("schedule.meeting", '"every blue moon"'), ("schedule.reminder_time", '"25:00"'),
                       ("line.channel_secret", '"x"'), ("display.numerals", "roman")):
        refused = hosted.run("office", "set", "office-a", key, value)
        assert refused.returncode == 2 and refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
    assert hosted.registry().get("office-a") == before  # nothing kept of a refused setting

    assert hosted.run("office", "unset", "office-a", "display.numerals").returncode == 0
    again = service.office_config(service.registry.get("office-a"))  # type: ignore[arg-type]
    assert again.numerals == "arabic" and str(again.schedule.meeting) == str(a.schedule.meeting)
