"""Evidence from chat: images and files sent after a report are checked (domain.evidence) and attached to it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from ita_bot.domain.evidence import evidence_name, evidence_type, file_allowed
from ita_bot.domain.office import Office
from ita_bot.domain.progress import REPORT_EXAMPLE, Report
from ita_bot.domain.reports import EVIDENCE_WINDOW
from ita_bot.domain.text import clean_text
from ita_bot.domain.thai import BANGKOK, fiscal_year_of, fiscal_year_range, format_duration
from ita_bot.line.client import LineApiError, LineClient

__all__ = ["BAD_FILE_TEXT", "EvidenceDesk"]

log = logging.getLogger(__name__)

NO_TARGET_TEXT = (
    "ได้รับไฟล์แล้วแต่ยังไม่พบรายงานที่จะแนบหลักฐาน "
    f"กรุณารายงานก่อน (เช่น {REPORT_EXAMPLE}) แล้วส่งรูปหรือไฟล์ภายใน {format_duration(EVIDENCE_WINDOW)}"
)
BAD_FILE_TEXT = "แนบหลักฐานได้เฉพาะรูปภาพ และไฟล์ PDF, Word (.doc/.docx) หรือ Excel (.xls/.xlsx)"
FETCH_FAILED_TEXT = "ขออภัย ดาวน์โหลดไฟล์จาก LINE ไม่สำเร็จ กรุณาส่งใหม่อีกครั้ง"


class EvidenceDesk:
    """Attaches images and files sent in a chat to the sender's report of the evidence window (EVIDENCE_WINDOW)."""

    def __init__(self, office: Office, line: LineClient) -> None:
        self.office, self.line = office, line

    def _target(self, user_id: str, chat_id: str, now: datetime) -> Report | None:
        fy = fiscal_year_of(now.date())
        target = self.office.reports.evidence_target(fy, user_id, chat_id, now)
        year_began = datetime.combine(fiscal_year_range(fy)[0], time(), tzinfo=BANGKOK)
        if target is None and now - EVIDENCE_WINDOW < year_began <= now:
            # Just after 1 Oct the report may still sit in the previous fiscal year's book.
            target = self.office.reports.evidence_target(fy - 1, user_id, chat_id, now)
        return target

    def receive(self, message: dict[str, Any], *, user_id: str, chat_id: str, now: datetime, private: bool,
                reply: Callable[[str], None]) -> None:
        """Store one image or file message as evidence and answer through ``reply`` (when it should)."""
        message_id = str(message.get("id") or "")
        image_set = message.get("imageSet") if isinstance(message.get("imageSet"), dict) else None
        # An image set arrives as one event per image, each with its own reply token; answering only
        # the last keeps the chat quiet (nicer in 1:1, and groups must never be spammed).
        answer = image_set is None or image_set.get("index") == image_set.get("total")
        kind = "image" if message.get("type") == "image" else "file"
        file_name = clean_text(str(message.get("fileName") or ""))
        if kind == "file" and not file_allowed(file_name):
            if private:
                reply(BAD_FILE_TEXT)
            return
        target = self._target(user_id, chat_id, now)
        if target is None:
            if private and answer:
                reply(self.office.fmt.digits(NO_TARGET_TEXT))
            return
        if not any(e.get("message_id") == message_id for e in target.evidence):  # a re-run attaches once
            try:
                data, _ = self.line.content(message_id)  # LINE's content type is the sender's claim: unused
            except LineApiError as e:
                if e.retryable:
                    from ita_bot.chat.journal import RetryLater

                    raise RetryLater(f"content download: LINE {e.status or 'unreachable'}") from None
                log.warning("evidence content not available: LINE %s", e.status)
                if answer:
                    reply(FETCH_FAILED_TEXT)
                return
            found = evidence_type(kind, data, file_name)
            if found is None:
                log.info("evidence refused: the %s's bytes are not an accepted type", kind)
                if private:
                    reply(BAD_FILE_TEXT)
                return
            name = evidence_name(target.fiscal_year, target.id, f"{message_id}.{found.ext}")
            self.office.repositories.evidence.save(name, data)
            evidence: dict[str, Any] = {
                "file": name,  # its name in the evidence repository
                "kind": kind,
                "name": f"{message_id}.{found.ext}" if kind == "image" else file_name,
                "content_type": found.content_type,
                "size": len(data),
                "message_id": message_id,
                "received_at": now.isoformat(),
            }
            if image_set is not None:
                evidence["image_set"] = str(image_set.get("id") or "")
            target = self.office.reports.attach_evidence(target.fiscal_year, target.id, evidence)
            log.info("evidence (%s) attached to a report", kind)
        if answer:
            reply(self._confirmation(target, kind, file_name, image_set))

    def _confirmation(self, report: Report, kind: str, file_name: str, image_set: dict[str, Any] | None) -> str:
        fmt = self.office.fmt
        division = report.division
        plan = self.office.plan_for(report.fiscal_year) or self.office.plan
        with contextlib.suppress(KeyError):  # a division no longer in the plan: show its id
            division = plan.division_by_id(report.division).name
        where = f"รายงานมาตรการที่ {fmt.num(report.measure)} ({division})"
        total = len(report.evidence)
        if kind == "file":
            what = f"แนบไฟล์ “{file_name}”"
        elif image_set is not None:
            count = sum(1 for e in report.evidence if e.get("image_set") == str(image_set.get("id") or ""))
            what = f"แนบรูปภาพ {fmt.num(count)} รูป"
        else:
            what = "แนบรูปภาพ"
        return f"✅ {what} กับ{where} แล้ว (หลักฐานทั้งหมด {fmt.num(total)} รายการ)"
