"""Hostile input at /callback: over 10,000 random, mutated and wrongly signed webhook bodies and chat texts.

Four hypothesis properties, each over one app whose store builds up across its examples as a real one would:

- wrongly signed bodies are 400 and change nothing (a digest of the whole store folder is unchanged);
- random bytes and JSON with a valid signature are 200 or 4xx, never 5xx, and never log an error;
- mutated real webhook events (keys dropped, wrong types, huge strings, nested junk, unknown types, odd
  sources) with a valid signature are never 5xx, and the journal drains every one without dying;
- random chat texts through the real command path (signed text events, journal, commands, and the
  stand-in's LINE validation) are never 5xx, never log an error, and every reply fits LINE's limits.

Texts and event fields include the classes behind past findings: digits that are not decimal digits
(superscripts, circled digits, Ethiopic) and other scripts' decimal digits, control characters, and lone
surrogates (sent JSON-escaped, as a client would; those bodies must be a 400 and store nothing).

Each test counts the examples it ran, so the total of at least 10,000 is checked, not assumed. Examples
are posted without waiting for each to be processed (the journal drains in the background, as in
production); each test waits once at its end, and maps journal errors back to the input that caused them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ita_bot.chat.commands import COMMANDS
from ita_bot.chat.webhook import MAX_BODY
from tests.conftest import CHAIR, GROUP, SECRETARY, STAFF_CHANG, STAFF_KLANG, STAFF_SP, STRANGER
from tests.tiny import tiny_store

if TYPE_CHECKING:
    from tests.chat_harness import ChatBot

REPLY = "/v2/bot/message/reply"
USER_ID = re.compile(r"U[0-9a-f]{32}")
ROOM = "R" + "7" * 32
OTHER_GROUP = "C" + "8" * 32
DRAIN_TIMEOUT = 60.0

# Examples per property: 10,000 together (the number); each test checks its own count.
N_SIGNATURES = 4500
N_RANDOM = 3000
N_MUTATED = 1200
N_TEXTS = 1300
assert N_SIGNATURES + N_RANDOM + N_MUTATED + N_TEXTS >= 10_000


def fuzz(examples: int) -> settings:
    """Hypothesis settings for one property: the conftest profile (derandomized, no database) plus these."""
    return settings(
        max_examples=examples,
        deadline=None,
        # One app per test, shared by its examples on purpose: state builds up as in production.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def store_digest(folder: Path) -> str:
    """A digest of every file (name and bytes) under the store folder."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """ERROR records from the bot (the journal logs a failed event at ERROR, with its masked traceback)."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("ita_bot")]


def failed_event_ids(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [m.group(1) for e in errors(caplog) if (m := re.match(r"event (\S+) \(", e))]


def drain(bot: ChatBot) -> None:
    assert bot.journal.wait_idle(DRAIN_TIMEOUT), f"journal not drained: {bot.journal.pending()} pending"
    assert bot.runtime.journal.running, "the journal worker died"


@pytest.fixture
def tmp_path(tmp_path: Path) -> Iterator[Path]:
    """The store on tmpfs where there is one: fsync is free there, and every example makes several.

    Durability is not what these tests are about (test_store and test_faults cover it); speed buys examples.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="ita-fuzz-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fuzz_bot(bot: ChatBot, caplog: pytest.LogCaptureFixture) -> Iterator[ChatBot]:
    """The chat harness bot with staff registered in the staff group, a room and another group; logs captured."""
    for user, division in ((STAFF_SP, "สป."), (STAFF_KLANG, "คลัง"), (STAFF_CHANG, "ช่าง")):
        bot.send(f"/ลงทะเบียน {division}", user=user, group=True)
    bot.standin.add_room(ROOM, [STAFF_SP, SECRETARY])
    bot.standin.add_group(OTHER_GROUP, "กลุ่มอื่น", [STAFF_SP, STRANGER])
    bot.wait_idle()
    with caplog.at_level(logging.INFO):
        yield bot


# --- strategies ------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and ±Infinity too: Python's json module reads and writes them
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4),
    max_leaves=10,
)


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# Characters behind past findings. Not decimal digits, though str.isdigit() says they are digits:
NOT_DECIMAL = "¹²³⁰⁴⁵⁹₂⑵⒉①፪፩"
# Decimal digits of other scripts (int() reads them): Arabic-Indic, Persian, Devanagari, Bengali, fullwidth, bold.
OTHER_DECIMAL = "٢٣۲۴२३২৩２３𝟐"
CONTROL = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\x7f\x85\u2028\u2029"
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff"]
odd_chars = st.one_of(
    st.sampled_from(list(NOT_DECIMAL + OTHER_DECIMAL + CONTROL + "\ufffe\uffff") + SURROGATES),
    st.characters(categories=["Nd", "No", "Cc", "Cs"]),
)


def has_surrogate(value: Any) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(value, ensure_ascii=False))


def signed_payload(bot: ChatBot, events: list[Any]) -> bytes:
    """The webhook body for these events; lone surrogates JSON-escaped (no UTF-8 can hold them)."""
    payload = {"destination": bot.standin.bot_user_id, "events": events}
    return json.dumps(payload, ensure_ascii=has_surrogate(events)).encode("utf-8")


random_bodies = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    json_values.map(dumps),
    st.dictionaries(st.sampled_from(["events", "destination", "x"]), json_values, max_size=3).map(dumps),
    st.lists(json_values, max_size=4).map(lambda evs: dumps({"destination": "U" + "0" * 32, "events": evs})),
)


def _hmac(secret: bytes, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def wrong_signature(body: bytes, secret: str, other: bytes, choice: int, noise: str) -> str | None:
    """One of ten ways to sign a body wrongly (None: no header at all)."""
    right = _hmac(secret.encode(), body)
    variants: list[str | None] = [
        None,
        "",
        noise,
        _hmac(secret.encode(), other),  # signed, but for other bytes
        _hmac(b"not-the-channel-secret", body),
        right[:-2],  # truncated
        right[:5] + ("A" if right[5] != "A" else "B") + right[6:],  # one character changed
        right.swapcase(),
        base64.b64encode(hashlib.sha256(body).digest()).decode(),  # a plain hash, not an HMAC
        right + "A",
    ]
    return variants[choice % len(variants)]


# --- wrongly signed: 400, nothing changes -------------------------------------------------------------


@pytest.mark.timeout(120)
def test_wrongly_signed_bodies_are_400_and_change_nothing(fuzz_bot: ChatBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = fuzz_bot
    folder = tiny_store(bot.office).folder
    before = store_digest(folder)
    calls_before = len(bot.standin.calls)
    valid_body = bot.standin.webhook_body([bot.text_event("/รายงาน 1 กำลังทำ 10%", user=STAFF_SP)])
    ran = 0

    @fuzz(N_SIGNATURES)
    @given(
        # The signature is checked before anything reads the body, so cheap bodies do: more examples per second.
        body=st.one_of(st.just(valid_body), st.binary(max_size=300),
                       st.binary(max_size=64).map(lambda b: valid_body + b)),
        other=st.binary(max_size=32),
        choice=st.integers(min_value=0, max_value=9),
        # Any header value a client can send (no control characters), never blank (that is "no signature").
        noise=st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=60).filter(str.strip),
    )
    def prop(body: bytes, other: bytes, choice: int, noise: str) -> None:
        nonlocal ran
        ran += 1
        signature = wrong_signature(body, bot.config.line.channel_secret, other + b"!", choice, noise)
        response = bot.post(body, signature=signature)
        assert response.status_code == 400, (response.status_code, body[:80], signature)

    prop()
    assert ran >= N_SIGNATURES
    drain(bot)
    assert store_digest(folder) == before, "a wrongly signed webhook changed the store"
    assert len(bot.standin.calls) == calls_before, "a wrongly signed webhook made the bot call LINE"
    assert errors(caplog) == []


# --- random bodies, valid signature: never 5xx -------------------------------------------------------


@pytest.mark.timeout(120)
def test_random_signed_bodies_are_never_5xx(fuzz_bot: ChatBot, caplog: pytest.LogCaptureFixture) -> None:
    bot = fuzz_bot
    ran = 0
    statuses: dict[int, int] = {}

    @fuzz(N_RANDOM)
    @given(body=random_bodies)
    def prop(body: bytes) -> None:
        nonlocal ran
        ran += 1
        status = bot.post(body).status_code
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (200, 400), (status, body[:120])

    prop()
    assert ran >= N_RANDOM
    assert statuses.get(400, 0) > N_RANDOM // 2 and statuses.get(200, 0) > 0, statuses  # both paths were taken
    drain(bot)
    assert errors(caplog) == []
    assert "มาตรการ" in bot.send("/มาตรการ", user=STAFF_SP).all_text  # still a working bot


# --- mutated real events, valid signature: never 5xx, the journal drains -----------------------------------

KINDS = ("text", "text_group", "text_room", "text_mention", "image", "file", "postback", "join", "leave",
         "follow", "unfollow", "member_joined", "member_left", "standby")


def base_event(bot: ChatBot, kind: str) -> dict[str, Any]:
    """A well-formed event of one kind, as LINE sends it (fresh reply token and webhookEventId).

    Cheap commands on purpose: the views' own limits are the chat-text test's business, and cheap events
    buy more mutations in the time."""
    s, at = bot.standin, bot._at(None)
    if kind == "text":
        return s.text_event("/รายงาน 1 กำลังทำ 20% ทดสอบ", user_id=STAFF_SP, timestamp=at)
    if kind == "text_group":
        return s.text_event("/ฉัน", user_id=STAFF_KLANG, group_id=GROUP, timestamp=at)
    if kind == "text_room":
        return s.text_event("/มาตรการ", user_id=SECRETARY, room_id=ROOM, timestamp=at)
    if kind == "text_mention":
        return s.text_event("ช่วยเหลือ", user_id=CHAIR, group_id=GROUP, timestamp=at, mention_self=True,
                            mentionees=[{"userId": STAFF_SP}])
    if kind == "image":
        return s.image_event(user_id=STAFF_SP, timestamp=at, image_set=("set", 1, 2))
    if kind == "file":
        return s.file_event(user_id=STAFF_SP, file_name="หลักฐาน.pdf", data=b"%PDF-1.4\n", timestamp=at)
    if kind == "postback":
        return s.postback_event("r=measure&n=1", user_id=STAFF_SP, timestamp=at)
    if kind == "join":
        return s.join_event(group_id=OTHER_GROUP, timestamp=at)
    if kind == "leave":
        return s.leave_event(room_id=ROOM, timestamp=at)
    if kind == "follow":
        return s.follow_event(STAFF_SP, timestamp=at)
    if kind == "unfollow":
        return s.unfollow_event(STRANGER, timestamp=at)
    if kind == "member_joined":
        return s.member_joined_event(GROUP, [STRANGER], timestamp=at)
    if kind == "member_left":
        return s.member_left_event(GROUP, [STRANGER], timestamp=at)
    return s.text_event("/ช่วยเหลือ", user_id=STAFF_SP, timestamp=at, mode="standby")


def paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 6) -> Iterator[tuple[Any, ...]]:
    """Paths to the values inside a JSON document, down to `depth` (LINE's events are no deeper; junk is)."""
    if len(prefix) >= depth:
        return
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        yield (*prefix, k)
        yield from paths(v, (*prefix, k), depth)


def nested(depth: int, leaf: Any) -> Any:
    for i in range(depth):
        leaf = [leaf] if i % 2 else {"x": leaf}
    return leaf


weird_values = st.one_of(
    json_values,
    st.sampled_from(["", " ", "U" + "0" * 32, "C" + "0" * 32, "R" + "0" * 32, "null", "..", "/", "../../etc/passwd",
                     "group", "room", "user", "message", "text", "image", "file", "postback", "standby", "active",
                     "\u0000", "\ufeff", "🙂" * 50, -1, 0, 2**63, 1.5, 1e308, float("nan"), float("inf"), True,
                     [], {}, [[]], {"type": "group"}]),
    st.integers(min_value=1, max_value=30_000).map(lambda n: "ก" * n),  # huge strings (3 bytes a character)
    # Odd digits, control characters and lone surrogates, alone or inside plausible values (ids, postback data).
    st.lists(odd_chars, min_size=1, max_size=6).map("".join),
    st.tuples(st.sampled_from(["", "1", "r=measure&n=", "r=status&s=doing&p=", "../", "text\n", "image"]),
              st.lists(odd_chars, min_size=1, max_size=3).map("".join)).map("".join),
    st.integers(min_value=10, max_value=200).map(lambda d: nested(d, "junk")),
)
weird_sources = st.sampled_from([
    {"type": "group"}, {"type": "room", "userId": STAFF_SP}, {"type": "user"}, {"type": "group", "groupId": GROUP},
    {"type": "user", "userId": "not-a-line-id"}, {"type": "martian", "userId": STAFF_SP},
    {"type": "group", "groupId": GROUP, "userId": STRANGER}, {"type": "room", "roomId": "R" + "0" * 32,
                                                              "userId": STAFF_SP},
])
other_types = st.sampled_from(["message", "postback", "beacon", "accountLink", "things", "videoPlayComplete",
                               "unsend", "membership", "module", "activated", "", "?"]) | st.text(max_size=20)


@st.composite
def mutated_events(draw: st.DrawFn, bot: ChatBot) -> list[Any]:
    """One to three real events, then one to four mutations anywhere inside them."""
    doc: dict[str, Any] = {"events": [base_event(bot, draw(st.sampled_from(KINDS)))
                                      for _ in range(draw(st.integers(1, 3)))]}
    for _ in range(draw(st.integers(1, 4))):
        where = [p for p in paths(doc) if len(p) > 1]  # inside the events list, not the list itself
        if not where:
            break
        path = draw(st.sampled_from(where))
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        op = draw(st.sampled_from(["drop", "set", "set", "type", "source"]))
        if op == "drop":
            del parent[key]
        elif op == "set" or not isinstance(parent, dict):
            # A copy: sampled_from hands out the same object each time, and later mutations go inside it.
            parent[key] = copy.deepcopy(draw(weird_values))
        elif op == "type":
            parent["type"] = draw(other_types)
        else:
            parent["source"] = copy.deepcopy(draw(weird_sources))
    events = doc["events"]
    if events and draw(st.booleans()):  # the same event twice in one body (a redelivery racing the original)
        events.append(copy.deepcopy(events[0]))
    return events


@pytest.mark.timeout(150)
def test_mutated_signed_events_are_never_5xx_and_the_journal_drains(
    fuzz_bot: ChatBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = fuzz_bot
    ran = 0

    @fuzz(N_MUTATED)
    @given(data=st.data())
    def prop(data: st.DataObject) -> None:
        nonlocal ran
        ran += 1
        events = data.draw(mutated_events(bot))
        body = signed_payload(bot, events)
        well_formed = all(isinstance(e, dict) for e in events) and not has_surrogate(events)
        expected = 413 if len(body) > MAX_BODY else 200 if well_formed else 400
        status = bot.post(body).status_code
        assert status == expected, (status, str(events)[:300])

    prop()
    assert ran >= N_MUTATED
    drain(bot)  # every accepted event was processed or given up; the worker is alive
    # Processing failures are contained (logged, marked failed, the chat moves on); that they happen at all
    # for malformed events is test_malformed_events_are_ignored_without_a_traceback's business, and what
    # the log says about odd event types is test_event_types_are_not_logged_verbatim's.
    assert bot.config.line.channel_secret not in "\n".join(r.getMessage() for r in caplog.records)
    # The bot still answers real commands after all that.
    assert "มาตรการ" in bot.send("/มาตรการ", user=STAFF_SP).all_text
    assert "มาตรการที่ 1" in bot.send("/รายงาน 1 กำลังทำ 30% หลังการทดสอบ", user=STAFF_SP).all_text


# --- chat texts through the command path ---------------------------------------------------------------

COMMAND_WORDS = sorted({w for c in COMMANDS for w in c.words})
ARG_WORDS = [
    "1", "2", "3", "4", "5", "0", "99", "-1", "๑", "๒", "๔", "๕๐%", "50%", "100%", "0%", "101%", "-5%", "%", "1e9",
    "9" * 40, "เสร็จ", "เสร็จแล้ว", "เสร็จสิ้น", "กำลังทำ", "กำลังดำเนินการ", "ยังไม่เริ่ม", "ติดปัญหา", "todo", "doing",
    "done", "blocked", "สป.", "สำนักปลัด", "คลัง", "กองคลัง", "ช่าง", "กองการศึกษา", "การศึกษา", "ก.พ.", "กุมภาพันธ์",
    "2/2564", "ก.พ. 64", "13/2564", "29/2/2564", "31/2/2564", "25/2/2564", "@25/2/2564", "@1/1/2500", "2021-02-25",
    "chair", "secretary", "member", "vice_chair", "assistant_secretary", "ABCD2345EF", "ไม่มีชื่อ", "\n", "\u200b",
    "\u202e", "ฯลฯ", "🙂", "<script>", "{{7*7}}", "%s%n", "\\", '"', "'", "U" + "f" * 32,
    "²", "1²", "2/2564²", "26/2/2564 ²", "⑵", "፪", "٢", "२", "２", "50²%", "\x1b", "\x0b", "\x00", "\ud800",
    # Numbers past int()'s 4,300 digits, percents that are infinity as floats, years that break date arithmetic.
    "9" * 4400, "9" * 400 + "%", "5." + "9" * 400 + "%", "9999-12-31", "0001-01-01", "@9999-12-31", "2/9999",
]
chat_texts = st.one_of(
    st.text(max_size=120),
    st.lists(st.one_of(st.sampled_from(COMMAND_WORDS + ARG_WORDS), st.text(max_size=10)), max_size=8).map(" ".join),
    st.tuples(
        st.sampled_from(["/", "／", " /", "", "@ITA Bot "]),
        st.sampled_from(COMMAND_WORDS),
        st.lists(st.one_of(st.sampled_from(ARG_WORDS), st.text(max_size=12)), max_size=6),
    ).map(lambda t: t[0] + t[1] + ("" if not t[2] else " " + " ".join(t[2]))),
    # Commands whose numbers, dates and details hold odd digits, control characters or lone surrogates.
    st.tuples(
        st.sampled_from(["/", "", "/รายงาน 1 กำลังทำ ", "/แก้ไข ", "/รายงานแทน สป. 1 เสร็จ ", "/อนุมัติ #"]),
        st.sampled_from([*COMMAND_WORDS, ""]),
        st.lists(st.one_of(odd_chars, st.sampled_from(ARG_WORDS)), min_size=1, max_size=6).map(" ".join),
    ).map(lambda t: f"{t[0]}{t[1]} {t[2]}"),
    # Texts longer than LINE lets a reply quote back (5,000 characters), through commands that echo details.
    st.tuples(st.sampled_from(["/รายงาน 1 ", "/แก้ไข ", "/รายงานแทน สป. 1 ", "/ประชุม ", "/ลงทะเบียน ", "/"]),
              st.integers(min_value=4000, max_value=12_000)).map(lambda t: t[0] + "ข้อความยาว " * (t[1] // 11)),
)


@pytest.mark.timeout(150)
def test_random_chat_texts_never_5xx_never_error_and_replies_fit_line(
    fuzz_bot: ChatBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = fuzz_bot
    bot.now = bot.now.replace(hour=8)
    ran = 0
    sent: dict[str, str] = {}  # webhookEventId -> text, to name the input behind any failure

    @fuzz(N_TEXTS)
    @given(
        text=chat_texts,
        who=st.sampled_from([STAFF_SP, STAFF_KLANG, SECRETARY, CHAIR, STRANGER]),
        where=st.sampled_from(["user", "group", "room", "other"]),
        mention=st.booleans(),
    )
    def prop(text: str, who: str, where: str, mention: bool) -> None:
        nonlocal ran
        ran += 1
        if where == "room" and who not in (STAFF_SP, SECRETARY):
            where = "user"
        if where == "other" and who not in (STAFF_SP, STRANGER):
            where = "group"
        bot.advance(seconds=20)  # the texts spread over the days before the February meeting
        event = bot.standin.text_event(
            text, user_id=who, group_id={"group": GROUP, "other": OTHER_GROUP}.get(where),
            room_id=ROOM if where == "room" else None, timestamp=bot.now, mention_self=mention and where != "user",
        )
        sent[event["webhookEventId"]] = text
        # A lone surrogate cannot be UTF-8: such a body is malformed text, refused before it is stored.
        status = bot.post(signed_payload(bot, [event])).status_code
        assert status == (400 if has_surrogate(text) else 200), (status, text[:80])

    prop()
    assert ran >= N_TEXTS
    drain(bot)
    failed = {i: sent.get(i, "?")[:200] for i in failed_event_ids(caplog)}
    assert errors(caplog) == [], f"processing failed for {failed}"
    refused = [(c.status, c.response) for c in bot.standin.calls if c.path == REPLY and c.status != 200]
    assert refused == [], f"LINE refused {len(refused)} replies (over its limits?), e.g. {refused[:3]}"
    assert len(bot.standin.replies()) > N_TEXTS // 3, "the texts did not reach the commands"
    assert bot.standin.pushes() == []
    # Whatever was stored, the cycle's memo, CSV and pages still build (one control character once broke the memo).
    for path in ("/reports/2564", "/reports/2564/2021-02", "/reports/2564/2021-02.docx", "/reports/2564/2021-02.csv",
                 "/reports/2564/2021-03.docx"):
        assert bot.client.get(path).status_code == 200, path


# --- what the fuzzing found, pinned as plain regression tests -----------------------------------------------


@pytest.mark.timeout(30)
def test_a_deeply_nested_signed_body_is_4xx_not_5xx(bot: ChatBot) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000,
                 b'{"events": [{"type": "message", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}]}"):
        assert bot.post(body).status_code == 400
    assert bot.journal_files() == []


TS = 1_613_358_000_000  # 2021-02-15 10:00 Bangkok, in LINE's milliseconds
MALFORMED = {
    "source is a string": {"type": "message", "timestamp": TS, "source": "U" + "1" * 32,
                           "message": {"type": "text", "id": "1", "text": "/ช่วยเหลือ"}},
    "message is a list": {"type": "message", "timestamp": TS, "source": {"type": "user", "userId": STAFF_SP},
                          "message": ["text"]},
    "postback is a string": {"type": "postback", "timestamp": TS, "source": {"type": "user", "userId": STAFF_SP},
                             "postback": "r=x"},
    "text without a timestamp": {"type": "message", "source": {"type": "user", "userId": STAFF_SP},
                                 "message": {"type": "text", "id": "2", "text": "/ช่วยเหลือ"}},
    "reply token a number": {"type": "message", "timestamp": TS, "replyToken": 12345,
                             "source": {"type": "user", "userId": STAFF_SP},
                             "message": {"type": "text", "id": "3", "text": "/ช่วยเหลือ"}},
    "joined is a list": {"type": "memberJoined", "timestamp": TS, "source": {"type": "group", "groupId": GROUP},
                         "joined": [STAFF_SP]},
    # The handler is found as getattr(self, "on_" + type): these types reach helpers that are not event handlers.
    "type 'text'": {"type": "text", "timestamp": TS, "source": {"type": "user", "userId": STAFF_SP}},
    "type 'evidence'": {"type": "evidence", "timestamp": TS, "source": {"type": "user", "userId": STAFF_SP}},
}


@pytest.mark.timeout(30)
def test_malformed_events_are_ignored_without_a_traceback(bot: ChatBot, caplog: pytest.LogCaptureFixture) -> None:
    events = [{**event, "webhookEventId": f"MALFORMED{i:02d}", "mode": "active"}
              for i, event in enumerate(MALFORMED.values())]
    with caplog.at_level(logging.INFO):
        bot.post_events(events)
        bot.wait_idle()
    failed = sorted(failed_event_ids(caplog))
    assert failed == [], [list(MALFORMED)[int(i[-2:])] for i in failed]


@pytest.mark.timeout(30)
def test_event_types_are_not_logged_verbatim(bot: ChatBot, caplog: pytest.LogCaptureFixture) -> None:
    forged = "x\n2021-02-15 10:00:00 CRITICAL ita_bot: forged line"
    kinds = ["U" + "0" * 32, forged, "ก" * 100_000]
    events = [{"type": kind, "webhookEventId": f"ODDTYPE{i}", "timestamp": TS + i, "mode": "active",
               "source": {"type": "user", "userId": STAFF_SP}} for i, kind in enumerate(kinds)]
    with caplog.at_level(logging.INFO):
        bot.post_events(events)
        bot.wait_idle()
    logged = [r.getMessage() for r in caplog.records]
    assert not any(USER_ID.search(m) for m in logged), "a LINE user ID reached the log"
    assert not any("forged line" in m for m in logged), "a log line forged through an event type"
    assert max(len(m) for m in logged) < 2000, "an event type's whole text in the log"


# --- plan fields: through the reader and out through the memo ---------------------------------------------

N_PLAN_FIELDS = 150
# Text a plan field may be given: control characters (Word's vertical tab and form feed among them),
# noncharacters, Thai typed as look-alikes (SARA AM as two marks, two SARA E), joiners and emoji, long numbers.
PLAN_PIECES = [
    *CONTROL, "\ufffe", "\uffff", "\u0e4d\u0e32", "ก\u0e4d\u0e48\u0e32", "เเ", "\u200d", "\u200b", "\u202e", "\ufe0f",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467", "กำลังทำ", "มาตรการ", "9" * 400, "-" + "9" * 40, "1e309", "๙" * 60,
    "\\u000B", '"', "'", "[", "]", "{", "}", ".", "=", "#", "\n", "\t", " ",
]
plan_field_texts = st.one_of(
    st.lists(st.sampled_from(PLAN_PIECES), min_size=1, max_size=8).map("".join),
    st.lists(st.sampled_from(PLAN_PIECES), min_size=1, max_size=8).map(lambda p: "มาตรการ" + "".join(p)),
    st.text(max_size=40),
    st.tuples(st.text(alphabet="กขคงจเแ", min_size=1, max_size=6), st.lists(odd_chars, max_size=3).map("".join))
    .map("".join),
)
# Mostly a usable number, so most examples reach the memo; now and then one no count could be.
plan_numbers = st.one_of(*[st.integers(min_value=1, max_value=30)] * 6, st.integers(),
                         st.sampled_from([0, -1, 2**63, 10**40, -(10**40)]))
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@pytest.mark.timeout(300)
def test_plan_fields_through_the_reader_and_out_through_the_memo_never_raise(bot: ChatBot) -> None:
    """Control characters, look-alike Thai and huge numbers in plan fields, read as an uploaded file would be:
    the reader answers with a plan or its problems, a saved plan holds none of what XML cannot, and the
    cycle's memo always builds."""
    from ita_bot.domain.plan import PlanProblems
    from ita_bot.domain.plan_reader import parse_plan_text
    from ita_bot.domain.plan_writer import data_to_toml, plan_to_data

    book = bot.office.plans
    base = plan_to_data(book.get(2564))
    ran = saved = 0

    @fuzz(N_PLAN_FIELDS)
    @given(title=plan_field_texts, org=plan_field_texts, division=plan_field_texts, method=plan_field_texts,
           number=plan_numbers, minimum=plan_numbers)
    def prop(title: str, org: str, division: str, method: str, number: int, minimum: int) -> None:
        nonlocal ran, saved
        ran += 1
        if has_surrogate([title, org, division, method]):
            return  # no UTF-8 file or form can carry a lone surrogate
        data = copy.deepcopy(base)
        # A letter first in most fields, so most plans are valid and reach the memo (the organization's name
        # alone may end up blank, which is a problem named, not a crash); 101–130 is no other measure's number.
        data["measures"][0].update(title="ม" + title, number=number + 100 if 0 < number <= 30 else number,
                                   methods=["ว" + method])
        data["organization"]["name"] = org
        data["divisions"][1]["name"] = "กอง" + division
        data["sample_rules"]["IIT"]["minimum"] = minimum
        try:
            plan = parse_plan_text(data_to_toml(data), "2564.toml")
        except PlanProblems as problems:
            assert 1 <= len(problems.problems) <= 51
            return
        texts = [plan.measures[0].title, plan.organization.name, plan.divisions[1].name, *plan.measures[0].methods]
        assert not any(XML_ILLEGAL.search(t) or "\u0e4d\u0e32" in t for t in texts), texts
        book.save_data(2564, plan_to_data(plan), expected_version=book.version(2564), who="fuzz", now=bot.now)
        saved += 1
        response = bot.client.get("/reports/2564/2021-02.docx")
        assert response.status_code == 200, (title, org, division, method, number)

    prop()
    assert ran >= N_PLAN_FIELDS
    assert saved > N_PLAN_FIELDS // 10, "hardly any plan was valid: the memo was not exercised"
