"""Exactly-once pushes: a sent-log claimed before sending, LINE's retry key, bounded retries and the quota check.

How a scheduled push is made exactly once
-----------------------------------------
Every push has a :class:`SendKey` — (job, cycle, working days before the meeting, recipient, part).
``Delivery.send`` first *claims* the key inside one sent-log transaction (``SentLogRepository.hold``:
a claim and its sent-log entry change together), so of two clocks (or a clock and a manual ``bot.py job``) racing
for the same key only one gets it. The claim stores a fresh UUID that becomes LINE's
``X-Line-Retry-Key``, the exact message payload, and a lease. Only then is LINE called.

Entry states (the sent-log repository's entries; on TinyDB, table "sends" of the "sent-log" database):

- ``sending`` — claimed; LINE may or may not have accepted it. Any later attempt reuses the same
  retry key and payload, so LINE itself drops a duplicate (answering 409, which counts as delivered).
  A ``lease_until`` keeps a second process off an entry while its owner is still working on it; a
  process that died mid-send leaves an expired lease, and the clock's :meth:`Delivery.resume`
  finishes the send with the same key — whichever clock finds it first (``SentLogRepository.hold_interrupted``
  hands each interrupted entry to one caller at a time: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
- ``done`` — LINE accepted it (200, or 409 "retry key already accepted").
- ``failed`` — LINE refused it for good (4xx other than 409/retryable 429, or the monthly limit):
  nothing was delivered, so a later manual run may try again (with a fresh key).
- ``skipped`` — the quota check said it would not fit; nothing was sent; the managers are told.
- ``uncertain`` — still ``sending`` more than 20 hours after the claim. LINE forgets retry keys after
  24 hours, so resending could duplicate; it is never resent automatically and the managers are told.

Retries: 5xx, timeouts/connection errors and a rate-limit 429 are retried with the same key, with
backoff 1, 2, 4, 8 s (or LINE's ``Retry-After``, capped at 60 s), at most 5 attempts and 180 s of
waiting in all. When they run out the entry stays ``sending`` (we cannot know whether a timed-out
request was delivered) with ``next_attempt_at`` set, and the clock resumes it later with the same key.
``sleep`` and the wall clock are injected so tests never wait.

Time: the sent-log's own timestamps (lease, the 20-hour rule) use the injected *wall* clock — real
time in production — not the "as of" time a ``job --now`` run reports for, because LINE's retry-key
window is real time.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ita_bot.domain.office import Office
from ita_bot.domain.sent_log import HeldEntry
from ita_bot.domain.thai import ARABIC, BANGKOK, ThaiFormat
from ita_bot.line.client import LineApiError, LineClient
from ita_bot.line.kit import Message

__all__ = [
    "UNCERTAIN_AFTER",
    "Delivery",
    "RetryPolicy",
    "SendKey",
    "SendOutcome",
    "SendResult",
]

log = logging.getLogger(__name__)

#: After this long in "sending" an entry is uncertain: LINE keeps retry keys for 24 h, so leave a margin.
UNCERTAIN_AFTER = timedelta(hours=20)
#: How long a claim keeps other processes off an entry; longer than one send's retries can take.
LEASE = timedelta(minutes=10)
#: When retries ran out, the clock tries the entry again (same key) after this long.
RESUME_AFTER = timedelta(minutes=5)



class SendOutcome(StrEnum):
    """What one send came to, as the CLI and the clock report it (and the clock stores it)."""

    SENT = "sent"  # LINE accepted it now (or answered 409: an earlier attempt with this key was accepted)
    ALREADY = "already"  # the sent-log says it was sent before: nothing done
    BUSY = "busy"  # another process holds the claim right now: nothing done here
    SKIPPED = "skipped"  # quota would not cover it
    FAILED = "failed"  # LINE refused it (or retries ran out: see SendResult.will_retry)
    UNCERTAIN = "uncertain"  # claimed >20 h ago and never confirmed: not resent


SENT, ALREADY, BUSY = SendOutcome.SENT, SendOutcome.ALREADY, SendOutcome.BUSY
SKIPPED, FAILED, UNCERTAIN = SendOutcome.SKIPPED, SendOutcome.FAILED, SendOutcome.UNCERTAIN

Sleep = Callable[[float], object]
WallClock = Callable[[], datetime]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one send tries before leaving the entry for a later resume."""

    attempts: int = 5
    backoff: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    max_retry_after: float = 60.0
    budget: float = 180.0  # total seconds of waiting across one send's retries

    def wait(self, attempt: int, error: LineApiError) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if error.retry_after is not None:
            return max(0.0, min(error.retry_after, self.max_retry_after))
        return self.backoff[min(attempt - 1, len(self.backoff) - 1)]


@dataclass(frozen=True)
class SendKey:
    """What makes a push unique: (job, cycle, working days before the meeting, recipient[, part])."""

    job: str
    cycle: str
    days_before: int
    recipient: str  # a LINE user, group or room ID — stored, never logged
    part: int = 0  # a reminder too long for one request (5 messages) goes in several parts

    @property
    def id(self) -> str:
        return f"{self.job}/{self.cycle}/{self.days_before}/{self.recipient}/{self.part}"

    @property
    def digest(self) -> str:
        """A short stable token for logs and notice keys (the recipient ID must not reach logs)."""
        return hashlib.sha256(self.id.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SendResult:
    """What happened to one push."""

    key: SendKey
    outcome: SendOutcome
    detail: str = ""
    attempts: int = 0
    will_retry: bool = False  # FAILED with the entry left "sending": the clock resumes it with the same key

    @property
    def ok(self) -> bool:
        return self.outcome in (SENT, ALREADY, BUSY)


@dataclass(frozen=True)
class _Claim:
    outcome: SendOutcome | None  # None: we hold it and must send
    retry_key: str = ""
    resumed: bool = False  # an earlier attempt with this key may have reached LINE
    messages: tuple[Message, ...] = ()
    detail: str = ""


def _iso(dt: datetime) -> str:
    return dt.astimezone(BANGKOK).isoformat()


def _parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Delivery:
    """Pushes through the sent-log: claim, check quota, push with retries, record; and resume leftovers."""

    def __init__(
        self,
        office: Office,
        line: LineClient,
        *,
        sleep: Sleep = time.sleep,
        wall: WallClock | None = None,
        policy: RetryPolicy | None = None,
        fmt: ThaiFormat = ARABIC,
    ) -> None:
        self.sent_log = office.repositories.sent_log
        self.line = line
        self.notices = office.notices
        # sleep(seconds) may return False to say "stop now" (the clock's shutdown): retries end early.
        self.sleep = sleep
        self.wall = wall or (lambda: datetime.now(BANGKOK))
        self.policy = policy or RetryPolicy()
        self.fmt = fmt  # digits of the notices it writes

    # --- the sent-log ---------------------------------------------------------------------------

    def entry(self, key: SendKey) -> dict[str, Any] | None:
        return self.sent_log.entry(key.id)

    def entries(self) -> list[dict[str, Any]]:
        return self.sent_log.entries()

    def _claim(self, key: SendKey, messages: Sequence[Message], label: str, *, resume: bool) -> _Claim:
        """Take the key for sending, in one transaction (this is where racing processes are decided)."""
        now = self.wall()
        with self.sent_log.hold(key.id) as held:
            return self._decide(held, key, messages, label, now, resume=resume)

    def _decide(self, held: HeldEntry, key: SendKey, messages: Sequence[Message], label: str, now: datetime,
                *, resume: bool) -> _Claim:
        """The claim's rules on the held entry (the caller's hold commits what they write)."""
        row = held.row
        if row is None:
            if resume:
                return _Claim(ALREADY)
            retry_key = str(uuid.uuid4())
            held.put(
                {
                    "key": key.id,
                    "job": key.job,
                    "cycle": key.cycle,
                    "days_before": key.days_before,
                    "recipient": key.recipient,
                    "part": key.part,
                    "label": label,
                    "retry_key": retry_key,
                    "state": "sending",
                    "messages": list(messages),
                    "attempts": 0,
                    "created_at": _iso(now),
                    "updated_at": _iso(now),
                    "lease_until": _iso(now + LEASE),
                    "next_attempt_at": None,
                    "error": None,
                }
            )
            return _Claim(None, retry_key, messages=tuple(messages))
        state = row["state"]
        if state == "done":
            return _Claim(ALREADY, detail="sent before")
        if state == "uncertain":
            return _Claim(UNCERTAIN, detail=row.get("error") or "delivery uncertain")
        if state == "sending":
            created = _parse_iso(row["created_at"])
            if created is not None and now - created > UNCERTAIN_AFTER:
                held.put({"state": "uncertain", "updated_at": _iso(now), "messages": []})
                return _Claim(UNCERTAIN, detail="uncertain: claimed over 20 hours ago and never confirmed")
            lease = _parse_iso(row.get("lease_until"))
            if lease is not None and lease > now:
                return _Claim(BUSY, detail="another process is sending it")
            # An expired claim: its owner died or ran out of retries. Same key, same payload,
            # so if LINE did accept the earlier attempt it answers 409 and nothing is duplicated.
            held.put({"lease_until": _iso(now + LEASE), "updated_at": _iso(now)})
            return _Claim(None, row["retry_key"], messages=tuple(row["messages"]), resumed=True)
        # failed / skipped: LINE accepted nothing, so a new attempt is safe; a fresh key keeps it
        # clear of LINE's memory of the old one. A resume never restarts these: a person decides.
        if resume:
            return _Claim(ALREADY)
        retry_key = str(uuid.uuid4())
        held.put(
            {
                "state": "sending",
                "retry_key": retry_key,
                "messages": list(messages),
                "label": label,
                "created_at": _iso(now),
                "updated_at": _iso(now),
                "lease_until": _iso(now + LEASE),
                "next_attempt_at": None,
            }
        )
        return _Claim(None, retry_key, messages=tuple(messages))

    def _finish(self, key: SendKey, **changes: Any) -> None:
        now = self.wall()
        with self.sent_log.hold(key.id) as held:
            row = held.row
            if row is None:
                return
            data = {"updated_at": _iso(now), **changes}
            if changes.get("state") == "done":
                data["messages"] = []  # the payload is only needed while a resend may be due
            if "attempts_add" in data:
                data["attempts"] = int(row.get("attempts", 0)) + data.pop("attempts_add")
            held.put(data)

    # --- sending --------------------------------------------------------------------------------

    def send(
        self,
        key: SendKey,
        messages: Sequence[Message],
        *,
        label: str,
        check_quota: bool = True,
    ) -> SendResult:
        """Push `messages` to `key.recipient` once; `label` is the Thai name of this send for notices."""
        # Messages are JSON data already: the sent-log stores them as they are, and a resend posts exactly that.
        payload = list(messages)
        claim = self._claim(key, payload, label, resume=False)
        if claim.outcome is not None:
            if claim.outcome == UNCERTAIN:
                self._tell_uncertain(key, label)
            return SendResult(key, claim.outcome, claim.detail)
        # A resumed entry skips the quota check: LINE may already have taken (and charged) it.
        if check_quota and not claim.resumed:
            skipped = self._quota_skip(key, label)
            if skipped:
                return skipped
        return self._push(key, claim.retry_key, claim.messages, label)

    def resume(self) -> list[SendResult]:
        """Finish sends left "sending" (a crash, or retries ran out) with their own key; 20 h on: uncertain.

        Any number of clocks may resume at once: each takes the next interrupted entry no other one holds
        (``hold_interrupted``), re-leases it (or marks it uncertain) and commits before it calls LINE, so a
        second clock finds the lease and passes the entry by."""
        now = self.wall()
        out: list[SendResult] = []
        taken: list[str] = []  # each entry once per call, whatever its re-lease says
        while True:
            with self.sent_log.hold_interrupted(now, skip=taken) as held:
                if held is None or held.row is None:
                    break
                row = held.row
                taken.append(row["key"])
                key = SendKey(row["job"], row["cycle"], row["days_before"], row["recipient"], row.get("part", 0))
                label = row.get("label") or key.job
                claim = self._decide(held, key, [], label, self.wall(), resume=True)
            if claim.outcome == UNCERTAIN:
                self._tell_uncertain(key, label)
                out.append(SendResult(key, UNCERTAIN, claim.detail))
            elif claim.outcome is None:
                log.info("resuming send %s (%s) with its retry key", key.digest, key.job)
                # No quota pre-check: LINE may already have taken (and charged) the earlier attempt.
                out.append(self._push(key, claim.retry_key, claim.messages, label))
        return out

    def _push(self, key: SendKey, retry_key: str, messages: Sequence[Message], label: str) -> SendResult:
        waited, attempt, last = 0.0, 0, None
        while attempt < self.policy.attempts:
            attempt += 1
            try:
                sent = self.line.push(key.recipient, messages, retry_key=retry_key)
            except LineApiError as e:
                last = e
                log.warning("push %s (%s) attempt %d: LINE %s %s", key.digest, key.job, attempt, e.status, e.message)
                if not e.retryable:
                    return self._refused(key, e, attempt, label)
                pause = self.policy.wait(attempt, e)
                if attempt >= self.policy.attempts or waited + pause > self.policy.budget:
                    break
                waited += pause
                if self.sleep(pause) is False:  # shutting down: leave it for the next clock
                    break
                continue
            detail = "LINE had already accepted this retry key (409)" if sent.duplicate else "accepted"
            self._finish(key, state="done", attempts_add=attempt, request_id=sent.request_id,
                         duplicate=sent.duplicate, error=None)
            log.info("push %s (%s) delivered after %d attempt(s)%s", key.digest, key.job, attempt,
                     " (409: already accepted)" if sent.duplicate else "")
            return SendResult(key, SENT, detail, attempt)
        # Out of attempts on a retryable error: LINE may or may not have it. Keep "sending" with
        # the same key, release the lease, and let the clock try again later.
        assert last is not None
        now = self.wall()
        error = f"LINE {last.status or 'unreachable'}: {last.message}"
        self._finish(
            key,
            attempts_add=attempt,
            error=error,
            lease_until=_iso(now),
            next_attempt_at=_iso(now + RESUME_AFTER),
        )
        return SendResult(key, FAILED, f"{error} after {attempt} attempt(s); will retry with the same key",
                          attempt, will_retry=True)

    def _refused(self, key: SendKey, e: LineApiError, attempts: int, label: str) -> SendResult:
        """LINE said no for good: record it and tell the managers."""
        monthly = e.status == 429
        self._finish(key, state="failed", attempts_add=attempts, error=f"LINE {e.status}: {e.message}",
                     lease_until=None)
        if monthly:
            text = (f"ส่ง{label}ไม่ได้ เพราะข้อความ LINE ของบัญชีบอทครบโควตาประจำเดือนแล้ว "
                    "กรุณาแจ้งในกลุ่มด้วยตนเอง หรือเพิ่มแพ็กเกจข้อความของบัญชี LINE")
            self.notices.add("quota", text, self.wall(), key=f"quota:{key.recipient}:{key.digest}")
        else:
            text = f"ส่ง{label}ไม่สำเร็จ: LINE ตอบว่า “{e.message}” (รหัส {e.status}) กรุณาตรวจสอบ"
            self.notices.add("failed_send", text, self.wall(), key=f"failed:{key.digest}")
        return SendResult(key, FAILED, f"LINE {e.status}: {e.message}", attempts)

    # --- quota ----------------------------------------------------------------------------------

    def cost(self, recipient: str) -> int:
        """Messages a push to this recipient uses: one per member of a group/room, one for a person."""
        if recipient[:1] in ("C", "R"):
            return self.line.member_count("group" if recipient[0] == "C" else "room", recipient)
        return 1

    def _quota_skip(self, key: SendKey, label: str) -> SendResult | None:
        """Skip the push (and tell the managers) when LINE's monthly quota cannot cover it."""
        try:
            quota = self.line.quota()
            if quota is None:
                return None
            used = self.line.consumption()
            cost = self.cost(key.recipient)
        except LineApiError as e:
            # Could not read the quota: the push itself will find out (a monthly-limit 429 is not retried).
            log.warning("quota check for %s failed (LINE %s); sending anyway", key.digest, e.status)
            return None
        left = max(0, quota - used)
        if cost <= left:
            # Pushes to this recipient fit again (a new month, a bigger plan): its quota warning no longer holds.
            self.notices.resolve("quota", key_prefix=f"quota:{key.recipient}:")
            return None
        detail = f"quota: needs {cost}, {left} of {quota} left this month"
        self._finish(key, state="skipped", error=detail, lease_until=None)
        text = (
            f"ข้ามการส่ง{label} เพราะโควตาข้อความ LINE เดือนนี้ไม่พอ "
            f"(ต้องใช้ {self.fmt.num(cost)} ข้อความ เหลือ {self.fmt.num(left)} "
            f"จาก {self.fmt.num(quota)}) กรุณาแจ้งในกลุ่มด้วยตนเอง หรือเพิ่มแพ็กเกจข้อความ"
        )
        self.notices.add("quota", text, self.wall(), key=f"quota:{key.recipient}:{key.digest}")
        log.warning("push %s (%s) skipped: %s", key.digest, key.job, detail)
        return SendResult(key, SKIPPED, detail)

    def _tell_uncertain(self, key: SendKey, label: str) -> None:
        text = (
            f"ไม่แน่ใจว่า{label}ส่งถึงหรือไม่ (ค้างสถานะกำลังส่งนานเกิน {self.fmt.duration(UNCERTAIN_AFTER)}) "
            "ระบบจะไม่ส่งซ้ำเพื่อไม่ให้ได้รับสองครั้ง กรุณาตรวจสอบในแชต และแจ้งเองหากยังไม่ได้รับ"
        )
        self.notices.add("uncertain_send", text, self.wall(), key=f"uncertain:{key.digest}")
