"""`python bot.py demo`: the whole bot on a built-in LINE stand-in, with personas and a simulated clock."""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from ita_bot.demo.hosted import HostedWorld
from ita_bot.demo.session import Session, clock_text
from ita_bot.demo.world import PERSONAS, START, World
from ita_bot.domain.links import office_url, report_url

__all__ = ["main"]


def _utf8(stream: TextIO) -> TextIO:
    # Thai must survive a pipe on hosts whose default encoding is not UTF-8 (e.g. Windows consoles).
    if isinstance(stream, io.TextIOWrapper) and (stream.encoding or "").lower().replace("-", "") != "utf8":
        stream.reconfigure(encoding="utf-8", errors="replace")
    return stream


def _quiet_logs() -> None:
    # The transcript is the product here; library chatter (and per-request lines) would bury it.
    logging.getLogger().setLevel(logging.ERROR)
    for name in ("werkzeug", "ita_bot", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


def banner(session: Session, world: World, db_path: Path, keep: bool) -> None:
    say = session.say
    fy = world.office.plan.fiscal_year
    say("=" * 72)
    say(f"ITA Bot — เดโม: บอททั้งระบบบน LINE จำลอง ไม่ต้องมีบัญชี LINE  ({world.office.plan.organization.name})")
    say("demo: the whole bot on a built-in LINE stand-in — no LINE channel, no network, no credentials")
    say("=" * 72)
    say(f"แผนปีงบประมาณ {fy} · เวลาจำลอง (simulated clock): {clock_text(START)}")
    say(f"หน้ารายงาน (report page): {report_url(world.base_url, fy)}")
    say(f"webhook จริง (real /callback, signed with a demo secret): {world.webhook_url}")
    where = "เก็บไว้ (kept)" if keep else "ชั่วคราว ลบเมื่อออก (temporary, deleted on exit)"
    say(f"ฐานข้อมูล (database): {db_path} — {where}")
    say("ตัวละคร (personas; :as NAME เพื่อเปลี่ยน):")
    for p in PERSONAS:
        say(f"  {p.key:<9} {p.name} — {p.about}")
    say("มีรายงานตัวอย่างแล้ว (seeded): สป. มาตรการ 1 เสร็จ (ม.ค.), สป. มาตรการ 2 40% (ม.ค.), คลัง มาตรการ 4 30% (10 ก.พ.)")
    say("มีกำหนดการประเมินตัวอย่าง (example milestones, demo only): /ปฏิทิน · เตือนในกลุ่ม :date 2021-02-25 09:00")
    say("ลอง (try): /ช่วยเหลือ  /สถานะ  /ค้าง  /รายงาน  /ปฏิทิน  :date 2021-02-22 09:00  :help  :quit")
    say("ระบบจัดการบนเว็บ (console): :as secretary แล้ว :dm แล้วพิมพ์ /จัดการ — เปิดลิงก์ที่ได้ในเบราว์เซอร์")
    say("-" * 72)


def hosted_banner(session: Session, world: HostedWorld) -> None:
    say = session.say
    say("=" * 72)
    say("ITA Bot — เดโมบริการเดียวหลายหน่วยงาน: แต่ละหน่วยงานมีบัญชี LINE ข้อมูล และบอทของตนเอง")
    say("hosted demo: one service, two offices, each its own LINE channel on the stand-in — no network")
    say("=" * 72)
    say(f"เวลาจำลอง (simulated clock): {clock_text(START)}")
    say("หน่วยงาน (offices; :office KEY เพื่อเปลี่ยน):")
    for i, (slug, name) in enumerate(world.office_names(), start=1):
        say(f"  {i}. {slug:<10} {name} — webhook {office_url(world.service_url, slug)}/callback")
    say("ตัวละคร (personas; :as NAME เพื่อเปลี่ยน): " + " ".join(p.key for p in PERSONAS))
    say("ลอง (try): /สถานะ  /รายงาน 4 กำลังทำ 50%  :office banna  /สถานะ  :help  :quit")
    say("-" * 72)


def main(db: str | None = None, *, hosted: bool = False) -> int:
    """Run the demo until :quit or end of input; 0 on a normal end (``hosted``: two offices on one service)."""
    if hosted and db:
        print("error: --db is for the one-office demo; the hosted demo always starts afresh", file=sys.stderr)
        return 2
    out = _utf8(sys.stdout)
    stdin = _utf8(sys.stdin)
    _quiet_logs()
    tty = stdin.isatty()
    temp = None if db else Path(tempfile.mkdtemp(prefix="ita-bot-demo-"))
    db_path = Path(db).expanduser().resolve() if db else (temp / "ita-bot.json")  # type: ignore[operator]
    db_path.parent.mkdir(parents=True, exist_ok=True)
    world = HostedWorld(db_path) if hosted else World(db_path)
    try:
        try:
            world.start()
        except Exception as e:  # a start-up failure is a short message, not a traceback
            print(f"error: the demo could not start: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        session = Session(world, out, echo=not tty)
        if isinstance(world, HostedWorld):
            hosted_banner(session, world)
        else:
            banner(session, world, db_path, keep=bool(db))
        if tty:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  # line editing and history at the prompt
        while True:
            try:
                line = input(session.prompt()) if tty else stdin.readline()
            except EOFError:
                break
            except KeyboardInterrupt:
                if not tty:
                    raise
                # As in Python's own prompt: Ctrl-C drops the line, Ctrl-D (or :quit) leaves.
                session.say("\n  (:quit หรือ Ctrl-D เพื่อออก / to exit)")
                continue
            if not tty and line == "":
                break  # end of piped input
            if not session.handle(line):
                break
        if tty:
            session.say("")
        session.say("จบการสาธิต (demo ended)")
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        world.stop()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
