"""The demo's chat prompt: typed lines become signed LINE events; what the bot sends prints as bubbles."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from ita_bot.demo.render import Choice, render_messages
from ita_bot.demo.timeline import JOB_THAI, due_slots, job_line_thai, next_slots
from ita_bot.demo.world import PERSONAS, Persona, World
from ita_bot.domain.draft import draft_plan, save_draft
from ita_bot.domain.links import report_url
from ita_bot.domain.plan import PlanError
from ita_bot.domain.thai import (
    BANGKOK,
    WEEKDAYS_ABBR,
    fiscal_year_of,
    format_date,
    parse_date,
    parse_time,
    to_arabic_digits,
)
from ita_bot.line_standin.api import DeliveredRequest
from ita_bot.schedule.clock import Clock, Slot

__all__ = ["HELP", "Session"]

log = logging.getLogger(__name__)

# Each message moves the simulated clock on a little, so reports keep their order and the
# 30-minute evidence window behaves as in real life (a long session reaches 09:00 only after ~180 lines).
TICK = timedelta(seconds=10)
LONG_JUMP = timedelta(days=31)
IDLE_TIMEOUT = 20.0
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_BOT_MENTION = re.compile(r"^@(?:ITA\s*Bot|bot|บอท)\b\s*", re.IGNORECASE)

HELP = """\
คำสั่งของเดโม (demo commands):
  :as NAME        เปลี่ยนคนพิมพ์ (switch persona): secretary chair sp klang chang suksa new
  :who            รายชื่อตัวละคร (personas)
  :group / :dm    คุยในกลุ่มพนักงาน / คุยแชต 1:1 กับบอท (switch chat)
  :date YYYY-MM-DD [HH:MM]
                  เลื่อนเวลาจำลองแล้วรันงานตามกำหนดที่ถึงเวลา (move the simulated clock; due jobs run)
                  เช่น :date 2021-02-22 09:00  (เตือน)  :date 2021-02-24 16:00  (สรุปถึงประธาน)
  :time           เวลาจำลองและงานตามกำหนดถัดไป (simulated time, next jobs)
  :photo / :file  ส่งรูปภาพ / ไฟล์ PDF เป็นหลักฐาน (send an image / a PDF as evidence)
  :N หรือ :press N
                  กดปุ่มตัวเลือก [N] ที่บอทแสดงล่าสุด (press button [N]); ตัวเลขที่พิมพ์เฉย ๆ ส่งเป็นข้อความ
                  เหมือนใน LINE (a bare number is a message, as in LINE)
  :menu [N]       ปุ่มเมนูคำสั่ง (rich menu) ของคนที่พิมพ์ในแชต 1:1 / กดปุ่มที่ N (show the menu / press button N)
  :plan [new [FY]]
                  แผนของแต่ละปี / ร่างแผนปีงบประมาณใหม่จากปีก่อน เหมือน python bot.py plan new FY
                  เช่น :date 2026-12-01 แล้ว :plan new  (plans; draft a new fiscal year's plan)
  :urls           ลิงก์หน้ารายงาน (report page URLs)
  :help           คำสั่งเหล่านี้ · :quit ออก (or end of input)
อย่างอื่นที่พิมพ์ส่งถึงบอทเหมือนพิมพ์ใน LINE เช่น /ช่วยเหลือ /สถานะ /รายงาน
ระบบจัดการบนเว็บ (managers' console): :as secretary → :dm → /จัดการ แล้วเปิดลิงก์ที่ได้ในเบราว์เซอร์
ในกลุ่ม บอทตอบเฉพาะข้อความที่ขึ้นต้นด้วย / หรือ @บอท · ปุ่มตัวเลือก [1] [2] … กดด้วย :1 :2 …"""

HOSTED_HELP = """
หลายหน่วยงาน (hosted demo):
  :office [KEY]   รายชื่อหน่วยงาน / คุยกับบอทของหน่วยงานนั้น (list the offices / talk to that office's bot)"""


def clock_text(moment: datetime) -> str:
    """ศ. 25 ก.พ. 2564 08:00 — what the simulated clock reads."""
    return f"{WEEKDAYS_ABBR[moment.weekday()]} {format_date(moment.date())} {moment:%H:%M}"


class Session:
    """One demo conversation over a started World; `handle(line)` returns False when the user quits."""

    def __init__(self, world: World, out: TextIO, *, echo: bool) -> None:
        self.world = world
        self.out = out
        self.echo = echo  # no terminal: print the typed line after the prompt so a transcript reads well
        self.persona = next(p for p in PERSONAS if p.key == "sp")
        self.in_group = True
        self.choices: dict[str, list[Choice]] = {}  # by chat id: the numbered buttons last shown there
        self._seen = len(world.standin.deliveries)
        # The real scheduler logic on the office's clock (the simulated time): slots run once, pushes go
        # through the sent-log.
        self.clock = Clock(world.office, world.line)

    @property
    def now(self) -> datetime:
        """The simulated time: the world's, which every part of the app reads through the office's clock."""
        return self.world.now

    @now.setter
    def now(self, moment: datetime) -> None:
        self.world.now = moment

    # --- output ---------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    @property
    def chat_id(self) -> str:
        return self.world.group_id if self.in_group else self.persona.user_id

    def chat_label(self, chat_id: str | None = None) -> str:
        chat_id = chat_id or self.chat_id
        if chat_id == self.world.group_id:
            return self.world.group_name
        return f"แชต 1:1 ของ{self.world.name_of(chat_id)}"

    def prompt(self) -> str:
        where = self.world.group_name if self.in_group else "แชต 1:1"
        office = f"{self.world.office_key}: " if self.world.office_key else ""
        return f"[{office}{self.persona.key} @ {where}] > "

    def show_new(self) -> int:
        """Print what the stand-in accepted since last time, as bubbles; how many sends there were."""
        deliveries = self.world.standin.deliveries
        new, self._seen = deliveries[self._seen:], len(deliveries)
        for d in new:
            self._bubble(d)
        return len(new)

    def _bubble(self, d: DeliveredRequest) -> None:
        rendered = render_messages(d.request.get("messages") or [], self.world.name_of)
        chats = d.recipients or (str(d.request.get("to", "")),)
        for chat in chats:
            if d.kind == "reply":
                self.say(f"  🤖 {self.world.bot_label(d.channel_id)} ↩ ตอบใน{self.chat_label(chat)}")
            else:
                kind = "push" if d.kind == "push" else d.kind
                self.say(f"  📣 {self.world.bot_label(d.channel_id)} → ส่งถึง{self.chat_label(chat)} ({kind})")
            for line in rendered.lines:
                self.say(f"     {line}" if line else "")
            if rendered.quick:
                self.say("     ปุ่มตัวเลือก (พิมพ์ :หมายเลข เพื่อกด เช่น :1 / type :N to press):")
                for i, c in enumerate(rendered.quick, start=len(rendered.choices) + 1):
                    self.say(f"       [{i}] {c.label}")
            self.choices[chat] = rendered.all_choices

    # --- input ----------------------------------------------------------------------------------

    def handle(self, raw: str) -> bool:
        line = raw.strip()
        if self.echo:
            self.say(self.prompt() + line)
        if not line:
            return True
        try:
            if line.startswith(":"):
                return self._meta(line)
            # Typed text is a message, as in LINE: "3" after "พิมพ์เลขมาตรการ" means measure 3, not button [3].
            self._send_text(line)
        except Exception as e:  # user input must never end the demo with a traceback
            log.debug("demo line failed", exc_info=True)
            self.say(f"  (เกิดข้อผิดพลาด / error: {type(e).__name__}: {e})")
        return True

    # --- sending events -------------------------------------------------------------------------

    def _where(self) -> dict[str, Any]:
        return {"user_id": self.persona.user_id, "group_id": self.world.group_id if self.in_group else None}

    def _tick(self) -> datetime:
        # Running past a job slot between two messages runs it, as the clock process would.
        before, self.now = self.now, self.now + TICK
        self._run_slots(due_slots(self.world.office, before, self.now))
        return self.now

    def _deliver(self, event: dict[str, Any]) -> int:
        self.choices.pop(self.chat_id, None)  # posting in a chat hides its quick replies, as in LINE
        status = self.world.standin.deliver(self.world.webhook_url, [event], channel=self.world.channel,
                                            timeout=IDLE_TIMEOUT)
        if status != 200:
            self.say(f"  (webhook ตอบ HTTP {status})")
            return 0
        if not self.world.runtime.journal.wait_idle(IDLE_TIMEOUT):
            self.say("  (บอทยังทำงานไม่เสร็จ / the bot is still busy; its answer will show after the next line)")
        return self.show_new()

    def _send_text(self, text: str) -> None:
        mention = bool(_BOT_MENTION.match(text))
        if mention:
            text = _BOT_MENTION.sub("", text)
        at = self._tick()
        event = self.world.standin.text_event(text, timestamp=at, mention_self=mention, **self._where())
        sent = self._deliver(event)
        if not sent and self.in_group and not mention and not text.lstrip().startswith(("/", "／")):
            self.say("  (ในกลุ่ม บอทไม่ตอบข้อความทั่วไป: ขึ้นต้นด้วย / หรือ @บอท เพื่อสั่งบอท)")

    def _pick(self, choice: Choice) -> None:
        action = choice.action
        kind = action.get("type")
        shown = action.get("displayText") or action.get("text") or choice.label
        if kind == "postback":
            self.say(f"  (กดปุ่ม “{choice.label}” → {shown})")
            at = self._tick()
            self._deliver(self.world.standin.postback_event(str(action.get("data", "")), timestamp=at, **self._where()))
        elif kind == "message":
            self.say(f"  (กดปุ่ม “{choice.label}” → ส่งข้อความ {shown})")
            self._send_text(str(action.get("text", "")))
        elif kind == "datetimepicker":
            at = self._tick()
            mode = action.get("mode", "datetime")
            value = {"date": f"{at:%Y-%m-%d}", "time": f"{at:%H:%M}"}.get(mode, f"{at:%Y-%m-%dT%H:%M}")
            self.say(f"  (กดปุ่ม “{choice.label}” → เลือก {value})")
            event = self.world.standin.postback_event(
                str(action.get("data", "")), timestamp=at, params={mode: value}, **self._where()
            )
            self._deliver(event)
        elif kind in ("camera", "cameraRoll"):
            self._photo()
        elif kind == "uri":
            self.say(f"  🔗 {action.get('uri', '')}")
        else:
            self.say(f"  (ปุ่มแบบ {kind} ใช้ในเดโมไม่ได้)")

    def _photo(self) -> None:
        at = self._tick()
        self.say("  (ส่งรูปภาพ 📷)")
        self._deliver(self.world.standin.image_event(timestamp=at, **self._where()))

    def _file(self) -> None:
        at = self._tick()
        self.say("  (ส่งไฟล์ หลักฐาน.pdf 📄)")
        event = self.world.standin.file_event(
            file_name="หลักฐาน.pdf", data=PDF_BYTES, content_type="application/pdf", timestamp=at, **self._where()
        )
        self._deliver(event)

    # --- demo commands --------------------------------------------------------------------------

    def _meta(self, line: str) -> bool:
        word, _, rest = line.partition(" ")
        word, rest = word.lower(), rest.strip()
        commands: dict[str, Callable[[str], None]] = {
            ":as": self._as,
            ":who": lambda _: self._who(),
            ":group": lambda _: self._switch(True),
            ":dm": lambda _: self._switch(False),
            ":date": self._date,
            ":time": lambda _: self._time(),
            ":now": lambda _: self._time(),
            ":photo": lambda _: self._photo(),
            ":file": lambda _: self._file(),
            ":urls": lambda _: self.urls(),
            ":menu": self._menu,
            ":press": self._press,
            ":plan": self._plan,
            ":office": self._office,
            ":help": lambda _: self.say(HELP + (HOSTED_HELP if self.world.office_names() else "")),
        }
        if word in (":quit", ":q", ":exit"):
            return False
        if to_arabic_digits(word[1:]).isdecimal():  # ":3" is short for ":press 3"
            word, rest = ":press", word[1:]
        if word in commands:
            commands[word](rest)
        else:
            offices = " :office" if self.world.office_names() else ""
            self.say(f"  ไม่รู้จักคำสั่ง {word} (unknown demo command) — :as :who :group :dm :date :time :photo "
                     f":file :press :menu :urls :plan{offices} :help :quit")
        return True

    def _press(self, rest: str) -> None:
        """`:press N` (or `:N`): press button [N] of the bubbles last shown in this chat."""
        choices = self.choices.get(self.chat_id) or []
        pick = to_arabic_digits(rest.strip())
        if not choices:
            self.say(f"  ใน{self.chat_label()}ไม่มีปุ่มตัวเลือกให้กด (no buttons to press here)")
        elif not pick.isdecimal() or not 1 <= int(pick) <= len(choices):
            self.say(f"  เลือกปุ่ม 1–{len(choices)} เช่น :1 หรือ :press 1")
        else:
            self._pick(choices[int(pick) - 1])

    def _menu(self, rest: str) -> None:
        """The rich menu LINE shows this persona in a 1:1 chat, as its buttons; `:menu N` presses one."""
        menu = self.world.standin.rich_menu_shown_to(self.persona.user_id)
        if menu is None:
            self.say("  ยังไม่มีเมนูคำสั่ง (no rich menu: run python bot.py richmenu on a real channel)")
            return
        buttons = [area["action"] for area in menu["areas"]]
        pick = to_arabic_digits(rest)
        if not pick:
            self.say(f"  เมนูคำสั่งของ{self.persona.name} ในแชต 1:1 (แถบ “{menu['chatBarText']}”) — :menu N เพื่อกด")
            for i, action in enumerate(buttons, start=1):
                self.say(f"    [{i}] {action.get('label', '')} → {action.get('text', '')}")
            return
        if not pick.isdigit() or not 1 <= int(pick) <= len(buttons):
            self.say(f"  เลือกปุ่ม 1–{len(buttons)} เช่น :menu 1")
            return
        if self.in_group:
            self._switch(False)  # rich menus live in the 1:1 chat
        self._pick(Choice(str(buttons[int(pick) - 1].get("label", "")), buttons[int(pick) - 1]))

    def _find(self, name: str) -> Persona | None:
        key = to_arabic_digits(name.strip()).lower()
        if key.isdecimal() and 1 <= int(key) <= len(PERSONAS):
            return PERSONAS[int(key) - 1]
        for p in PERSONAS:
            if key in (p.key, p.name.lower(), p.name.lower().replace(" ", "")):
                return p
        return None

    def _as(self, name: str) -> None:
        persona = self._find(name)
        if persona is None:
            self.say(f"  ไม่พบตัวละคร “{name}” — ใช้ได้: {' '.join(p.key for p in PERSONAS)}")
            return
        self.persona = persona
        self.say(f"  ตอนนี้คุณคือ {persona.name} ({persona.about}) ใน{self.chat_label()}")

    def _office(self, key: str) -> None:
        """`:office` lists the offices of the hosted demo; `:office KEY` (or its number) talks to that one's bot."""
        offices = self.world.office_names()
        if not offices:
            self.say("  เดโมนี้มีหน่วยงานเดียว (one office) — หลายหน่วยงานบนบริการเดียว: python bot.py demo --hosted")
            return
        pick = to_arabic_digits(key.strip()).lower()
        if pick.isdecimal() and 1 <= int(pick) <= len(offices):
            pick = offices[int(pick) - 1][0]
        if not pick or pick not in dict(offices):
            for i, (slug, name) in enumerate(offices, start=1):
                mark = "→" if slug == self.world.office_key else " "
                self.say(f"  {mark} {i}. {slug:<10} {name}")
            if pick:
                self.say(f"  ไม่พบหน่วยงาน “{key}” — ใช้ได้: {' '.join(slug for slug, _ in offices)}")
            return
        self.world.switch_office(pick)
        # The office's own clock (its slots, sent-log and channel); buttons shown by the other bot no longer apply.
        self.clock = Clock(self.world.office, self.world.line)
        self.choices.clear()
        self.say(f"  ตอนนี้คุยกับบอทของ{dict(offices)[pick]} ใน{self.chat_label()}")

    def _who(self) -> None:
        for i, p in enumerate(PERSONAS, start=1):
            mark = "→" if p == self.persona else " "
            self.say(f"  {mark} {i}. {p.key:<9} {p.name} — {p.about}")

    def _switch(self, group: bool) -> None:
        self.in_group = group
        self.say(f"  ตอนนี้คุยใน{self.chat_label()}")

    def _time(self) -> None:
        self.say(f"  เวลาจำลอง (simulated time): {clock_text(self.now)}")
        for slot in next_slots(self.world.office, self.now):
            about = f"กำหนด {format_date(date.fromisoformat(slot.ref[:10]))}" if slot.ref else \
                f"ประชุม {format_date(slot.cycle.meeting)}"
            self.say(f"    ถัดไป: {clock_text(slot.at)}  {slot.job} — {JOB_THAI[slot.job]} ({about})")

    def _date(self, text: str) -> None:
        try:
            target = self._parse_moment(text)
        except ValueError:
            self.say("  รูปแบบ: :date YYYY-MM-DD [HH:MM] เช่น :date 2021-02-22 09:00 (หรือ :date 22/2/2564 09:00)")
            return
        before = self.now
        if target < before:
            self.now = target
            self.say(f"  ย้อนเวลาไปที่ {clock_text(target)} (ไม่มีงานตามกำหนดที่รัน / no jobs run going back)")
            return
        start = before
        if target - before > LONG_JUMP:
            # Years of monthly jobs would bury the screen: a long jump runs only the last month's.
            start = target - LONG_JUMP
            self.say(f"  (ข้ามงานตามกำหนดก่อน {clock_text(start)} เพราะเลื่อนเวลาไกล / jobs before that are skipped)")
        slots = due_slots(self.world.office, start, target)
        self.say(f"  ⏰ เวลาจำลอง: {clock_text(before)} → {clock_text(target)} "
                 f"({len(slots)} งานตามกำหนด / scheduled job run{'s' if len(slots) != 1 else ''})")
        self._run_slots(slots)
        self.now = target
        self._say_missing_plan()

    def _say_missing_plan(self) -> None:
        fy = fiscal_year_of(self.now.date())
        if self.world.office.plan_for(fy) is None:
            self.say(f"  ⚠️ ปีงบประมาณ {fy} ยังไม่มีแผนมาตรการในระบบ เจ้าหน้าที่จึงยังรายงานผลไม่ได้ — "
                     f"พิมพ์ :plan new เพื่อร่างแผนจากปีก่อน (เหมือน python bot.py plan new {fy})")

    def _plan(self, text: str) -> None:
        """`:plan` lists the plans; `:plan new [FY]` drafts one as `python bot.py plan new FY` does."""
        office = self.world.office
        words = to_arabic_digits(text).split()
        if not words:
            for plan in office.plans.all():
                where = "ในโฟลเดอร์ข้อมูลของเดโม" if not office.plans.is_shipped(plan.fiscal_year) else "มากับระบบ"
                self.say(f"  ปีงบประมาณ {plan.fiscal_year}: มาตรการ {len(plan.measures)} ข้อ ({where})")
            self._say_missing_plan()
            return
        if words[0] != "new" or len(words) > 2 or (len(words) == 2 and not words[1].isdigit()):
            self.say("  รูปแบบ: :plan  หรือ  :plan new [ปีงบประมาณ] เช่น :plan new 2570")
            return
        fy = int(words[1]) if len(words) == 2 else fiscal_year_of(self.now.date())
        if office.plan_for(fy) is not None:
            self.say(f"  ปีงบประมาณ {fy} มีแผนอยู่แล้ว ไม่เขียนทับ")
            return
        try:
            draft = draft_plan(office.plans, office.reports, fy)
            plan = save_draft(office.plans, draft, draft.suggestions, who="เดโม (:plan new)", now=self.now)
        except PlanError as e:
            self.say(f"  ร่างแผนไม่ได้: {e.problem}")
            return
        carried = ", ".join(str(n) for n in draft.carried) or "ไม่มี"
        self.say(f"  ✅ ร่างแผนปีงบประมาณ {fy} จากแผนปี {draft.from_year} แล้ว: มาตรการ {len(plan.measures)} ข้อ "
                 f"(ยกมาจากปี {draft.from_year} ที่ยังไม่เสร็จ: ข้อ {carried})")
        self.say("     บอทใช้แผนนี้ทันที ลองพิมพ์ /มาตรการ หรือ /รายงาน 1 กำลังทำ 10% ได้เลย "
                 f"(ช่องที่ผู้จัดการต้องกรอกเพิ่ม: {', '.join(plan.to_fill) or '-'})")

    def _parse_moment(self, text: str) -> datetime:
        parts = to_arabic_digits(text).replace("T", " ").split()
        if not parts or len(parts) > 2:
            raise ValueError(text)
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            day = parse_date(parts[0])
        at = parse_time(parts[1]) if len(parts) == 2 else self.now.time().replace(tzinfo=None)
        return datetime.combine(day, at, tzinfo=BANGKOK)

    def _run_slots(self, slots: list[Slot]) -> None:
        """Tick the real clock at each slot's moment, as the clock process would have, and show its pushes.

        The clock's own rules apply: each slot runs once (a second pass over the same time sends
        nothing), and its pushes go through the sent-log like in production.
        """
        moment = self.now
        for at in sorted({slot.at for slot in slots}):
            self.now = at  # the clock reads the simulated time through the office's clock
            for slot in (s for s in slots if s.at == at):
                if slot.ref:  # a milestone's reminder: not about the meeting
                    self.say(f"  ⏰ {clock_text(at)} — งาน {slot.job}: {JOB_THAI[slot.job]} "
                             f"({slot.days_before} วันทำการก่อนกำหนด {format_date(date.fromisoformat(slot.ref[:10]))})")
                    continue
                before = "ก่อนประชุม" if slot.days_before else "วันประชุม"
                days = f"{slot.days_before} วันทำการ" if slot.days_before else ""
                self.say(f"  ⏰ {clock_text(at)} — งาน {slot.job}: {JOB_THAI[slot.job]} "
                         f"({days}{before} {format_date(slot.cycle.meeting)})")
            try:
                results = self.clock.tick()
            except Exception as e:
                log.debug("demo clock tick failed", exc_info=True)
                self.say(f"     (งานนี้ทำไม่สำเร็จ เกิดข้อผิดพลาดภายในระบบ: {type(e).__name__})")
                continue
            shown = self.show_new()
            for result in results:
                for line in result.lines:
                    if not shown or line.outcome != "sent":
                        self.say(f"     ({job_line_thai(line)})")
            if not results:
                self.say("     (ทำไปแล้วก่อนหน้านี้ ไม่ส่งซ้ำ)")
        self.now = max(moment, self.now)

    def urls(self) -> None:
        base = self.world.base_url
        fy = self.world.office.latest_plan(self.now.date()).fiscal_year
        cycle = self.world.office.cycle_at(self.now)
        self.say(f"  หน้ารายงาน (report page):   {report_url(base, fy)}")
        if cycle.fiscal_year == fy:  # a cycle of a year without a plan has no page yet
            self.say(f"  รายงานการประชุม (meeting):   {report_url(base, fy, cycle.id)}")
        self.say(f"  สถานะระบบ (health):          {base}/healthz")
        self.say(f"  ระบบจัดการ (console):        {base}/admin  (ลิงก์เข้าระบบ: :as secretary แล้ว :dm แล้วพิมพ์ /จัดการ)")

