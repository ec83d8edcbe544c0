"""Hostile and careless input end to end: each attack of the red-team pass, through signed webhooks and real pages."""

from __future__ import annotations

import csv
import io
import logging
import re
import time
import zipfile
from typing import Any

import pytest

from tests.conftest import ASSISTANT, CHAIR, GROUP, MEMBER, NAMES, SECRETARY, STAFF_KLANG, STAFF_SP
from tests.tiny import tiny_store

DOCX = "/reports/2564/2021-02.docx"


@pytest.fixture
def staff(bot: Any) -> Any:
    for user, division in ((STAFF_SP, "สป."), (STAFF_KLANG, "คลัง")):
        bot.send(f"/ลงทะเบียน {division}", user=user, group=True)
    return bot



# --- M1: XML-illegal characters never reach the stored text -------------------------------------


@pytest.mark.parametrize("junk", ["\x1b", "\x07", "\x00", "\x0b", "\ufffe", "\uffff", "\x1f\x08"])
def test_control_characters_in_a_typed_report_leave_the_memo_working(staff: Any, junk: str) -> None:
    replies = staff.send(f"/รายงาน 1 กำลังทำ 50% ติด{junk}ตั้งป้าย", user=STAFF_SP, group=True)
    assert "บันทึกรายงานแล้ว" in replies.text
    [report] = staff.reports()
    assert junk not in report.details and "ตั้งป้าย" in report.details
    assert "ตั้งป้าย" in staff.memo_xml(DOCX)


def test_control_characters_in_an_edit_and_the_guided_flow_leave_the_memo_working(staff: Any) -> None:
    staff.send("/รายงาน 1 กำลังทำ 50% เดิม", user=STAFF_SP, group=True)
    assert "แก้รายละเอียด" in staff.send("/แก้ไข ใหม่\x0bบรรทัดสอง\x1b", user=STAFF_SP, group=True).text
    staff.send("/รายงาน 4", user=STAFF_KLANG, group=True)
    staff.send("เสร็จแล้ว", user=STAFF_KLANG, group=True)
    staff.send("ติดตั้ง\x07แล้ว\x00", user=STAFF_KLANG, group=True)
    details = sorted(r.details for r in staff.reports())
    assert all(not any(ord(c) < 32 and c not in "\n\t\r" for c in d) for d in details), details
    memo = staff.memo_xml(DOCX)
    assert "บรรทัดสอง" in memo and "ติดตั้งแล้ว" in memo


def test_control_characters_in_a_display_name_leave_the_memo_and_pages_working(make_bot: Any) -> None:
    bot = make_bot(web={"show_names": True})
    bot.standin.add_user(STAFF_SP, "สมชาย\x1b[31m\x07 สป")
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/รายงาน 1 กำลังทำ 50% ติดตั้งป้าย", user=STAFF_SP, group=GROUP)
    person = bot.office.people.get(STAFF_SP)
    assert person is not None and person.name == "สมชาย[31m สป"
    assert "สมชาย[31m สป" in bot.memo_xml(DOCX)
    assert bot.client.get("/reports/2564/2021-02.csv").status_code == 200


# --- L5: numbers are read with isdecimal()/regex, so superscripts are bad input, not a traceback ----


@pytest.mark.parametrize("text,user", [
    ("/สรุป ²", STAFF_SP), ("/สรุป²", STAFF_SP), ("/ส่งออก ²", SECRETARY), ("/ประชุม 26/2/2564 ²", SECRETARY),
    ("/ประชุม ²/2/2564", SECRETARY), ("/สถานะ ²", STAFF_SP), ("/กลุ่มตัวอย่าง ²", STAFF_SP), ("/รายงาน ²", STAFF_SP),
    ("/สรุป ⑵", STAFF_SP), ("/สรุป ፪", STAFF_SP),
])
def test_odd_unicode_digits_get_the_normal_bad_input_reply(staff: Any, caplog: Any, text: str, user: str) -> None:
    replies = staff.send(text, user=user)
    assert replies.text.startswith(("ขออภัย", "กรุณา")), replies.text
    assert "Traceback" not in caplog.text
    assert staff.reports() == []


def test_a_superscript_in_a_guided_postback_gets_the_buttons_again(staff: Any, caplog: Any) -> None:
    first = staff.send("/รายงาน", user=STAFF_SP)
    data = next(a["data"] for a in first.quick_replies() if "n=1" in a.get("data", ""))
    replies = staff.postback(data.replace("n=1", "n=%C2%B2"), user=STAFF_SP)
    assert "เลือกมาตรการ" in replies.text
    assert "Traceback" not in caplog.text


# --- L6: every malformed report address is a 4xx ------------------------------------------------


@pytest.mark.parametrize("path", [
    "/reports/2564/0000-01", "/reports/2564/0000-01.docx", "/reports/2564/9999-12.csv", "/reports/2564/2021-00",
    "/reports/2564/2021-13.json", "/reports/2564/99999-02", "/reports/2564/2021-02.pdf", "/reports/0000/2021-02",
    "/reports/2564/²", "/reports/2564/2021-0²", "/reports/²⁵⁶⁴", "/reports/2564/-1--1", "/reports/2564/.docx",
    "/reports/2564/evidence/zz/1", "/reports/2564/evidence/" + "a" * 8 + "/0", "/reports/2564/2021-02%00",
    "/reports/2564/1-1", "/reports/2564/2564-02",
])
def test_malformed_report_addresses_are_4xx(bot: Any, path: str) -> None:
    status = bot.client.get(path).status_code
    assert 400 <= status < 500, (path, status)


# --- L9: no CSV cell starts a formula, names included -------------------------------------------


@pytest.mark.parametrize("name", ['=HYPERLINK("//x.co")', "+1+1", "-2+3", "@SUM(A1)", "\tสมชาย", "\r=1"])
def test_display_names_never_become_csv_formulas(make_bot: Any, name: str) -> None:
    bot = make_bot(web={"show_names": True})
    bot.standin.add_user(STAFF_SP, name)
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/รายงาน 1 กำลังทำ 50% =1+1", user=STAFF_SP, group=True)
    response = bot.client.get("/reports/2564/2021-02.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(name.strip() in cell for cell in cells)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


# --- L4: malformed text, forged types and ids with a valid signature ----------------------------


def test_a_lone_surrogate_in_a_signed_text_is_refused_with_400(bot: Any) -> None:
    event = bot.text_event("/ฉัน", user=STAFF_SP)
    body = bot.standin.webhook_body([event]).replace("/ฉัน".encode(), b"/\\ud800\\udc00x\\ud800")
    response = bot.post(body)
    assert response.status_code == 400
    assert bot.journal_files() == []


def test_a_forged_message_type_never_reaches_the_log_verbatim(staff: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    event = staff.text_event("สวัสดี", user=STAFF_SP)
    forged = f"sticker\nCRITICAL fake line from {STAFF_SP}"
    event["message"]["type"] = forged
    event["type"] = "message\nERROR forged"
    staff.deliver(event)
    event = staff.text_event("สวัสดี", user=STAFF_SP)
    event["message"]["type"] = forged
    assert staff.deliver(event) == []
    for record in caplog.records:
        message = record.getMessage()
        assert "fake line" not in message and "forged" not in message and STAFF_SP not in message, message


@pytest.mark.parametrize("message_id", ["../../../../x", "1/../../x", "12a", "", "x" * 70, "١٢٣"])
def test_evidence_with_a_non_numeric_message_id_is_ignored(staff: Any, tmp_path: Any, message_id: str) -> None:
    staff.send("/รายงาน 1 กำลังทำ 50% ติดตั้งป้าย", user=STAFF_SP)
    event = staff.standin.image_event(user_id=STAFF_SP, timestamp=staff._at(None))
    staff.standin.add_content(message_id, b"\xff\xd8\xff\xe0 not-really", "image/jpeg")
    event["message"]["id"] = message_id
    assert staff.deliver(event) == []
    [report] = staff.reports()
    assert report.evidence == []
    store = tiny_store(staff.office).folder
    assert not (store.parent / "x").exists() and not (store.parent.parent / "x").exists()


def test_store_and_evidence_writes_check_containment_on_the_resolved_path(bot: Any, tmp_path: Any) -> None:
    store = tiny_store(bot.office)
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.folder / "evidence").mkdir(parents=True, exist_ok=True)
    (store.folder / "evidence" / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        store.write_file(store.folder / "evidence" / "link" / "x.jpg", b"data")
    with pytest.raises(ValueError):
        store.write_file(store.folder / "evidence" / ".." / ".." / "x.jpg", b"data")
    evidence = bot.office.repositories.evidence
    for name in ("link/x.jpg", "../../x.jpg", "/x.jpg"):
        with pytest.raises(ValueError):
            evidence.save(name, b"data")
    (outside / "y.jpg").write_bytes(b"outside")
    assert evidence.open("link/y.jpg") is None  # nor read through the planted link
    assert [p.name for p in outside.iterdir()] == ["y.jpg"] and not (store.folder.parent / "x.jpg").exists()


# --- L2: the wrong-code limit holds against one body of many chats -------------------------------


def test_wrong_code_limit_holds_for_events_processed_in_parallel(bot: Any) -> None:
    groups = ["C" + f"{i:02d}" * 16 for i in range(12)]
    events = [bot.text_event(f"/รหัส WRONG{i:05d}", user=STAFF_SP, group=g) for i, g in enumerate(groups)]
    replies = bot.deliver(*events)
    wrong = [t for t in replies.texts if "รหัสไม่ถูกต้อง" in t]
    limited = [t for t in replies.texts if "หลายครั้งเกินไป" in t]
    assert len(wrong) == 5 and len(limited) == 7, replies.texts
    with tiny_store(bot.office).read() as db:
        assert len(db.table("claim_attempts")) == 5


# --- M2: public evidence is served by type from its bytes, never as a page -------------------------

HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.fixture
def public(make_bot: Any) -> Any:
    bot = make_bot(web={"public_evidence": True})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/รายงาน 1 กำลังทำ 50% ติดตั้งป้าย", user=STAFF_SP)
    return bot


def evidence_urls(bot: Any) -> list[str]:
    [report] = bot.reports()
    return [f"/reports/2564/evidence/{report.id}/{n}" for n in range(1, len(report.evidence) + 1)]


def assert_sandboxed(response: Any) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp


@pytest.mark.parametrize("name,data,claimed", [
    ("หลักฐาน.pdf", HTML, "text/html"), ("หลักฐาน.docx", SVG, "image/svg+xml"), ("หลักฐาน.xlsx", docx_bytes(), ""),
    ("หลักฐาน.doc", b"plain text", "application/msword"),
])
def test_files_whose_bytes_are_not_their_type_are_refused(public: Any, name: str, data: bytes, claimed: str) -> None:
    replies = public.send_file(name, data, content_type=claimed, user=STAFF_SP)
    assert "แนบหลักฐานได้เฉพาะ" in replies.text
    assert evidence_urls(public) == []


@pytest.mark.parametrize("data,claimed", [(HTML, "text/html"), (SVG, "image/svg+xml"), (b"GIF8", "image/gif")])
def test_images_whose_bytes_are_not_an_image_are_refused(public: Any, data: bytes, claimed: str) -> None:
    assert "แนบหลักฐานได้เฉพาะ" in public.send_image(data=data, content_type=claimed, user=STAFF_SP).text
    assert evidence_urls(public) == []


def test_accepted_evidence_is_served_by_its_bytes_with_nosniff_and_a_sandbox(public: Any) -> None:
    from ita_bot.line_standin import TINY_JPEG

    assert "แนบรูปภาพ" in public.send_image(data=TINY_JPEG, content_type="text/html", user=STAFF_SP).text
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert "แนบไฟล์" in public.send_file("หลักฐาน.pdf", pdf, content_type="text/html", user=STAFF_SP).text
    assert "แนบไฟล์" in public.send_file("สรุป.docx", docx_bytes(), content_type="", user=STAFF_SP).text
    image, document, word = (public.client.get(url) for url in evidence_urls(public))
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data == TINY_JPEG
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    assert document.status_code == 200 and document.mimetype == "application/pdf"
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert word.mimetype.endswith("wordprocessingml.document") and "attachment" in word.headers["Content-Disposition"]
    for response in (image, document, word):
        assert_sandboxed(response)


def test_stored_evidence_of_a_forbidden_type_is_never_served(public: Any) -> None:
    # Evidence stored before types were checked kept the sender's claim: the bytes decide now.
    [report] = public.reports()
    for n, (data, claimed) in enumerate(((HTML, "text/html"), (SVG, "image/svg+xml")), start=1):
        relative = f"2564/{report.id}/{n}.html"
        public.office.repositories.evidence.save(relative, data)
        public.office.reports.attach_evidence(2564, report.id, {
            "file": relative, "kind": "image" if n == 2 else "file", "name": f"x{n}.pdf", "content_type": claimed})
    for url in evidence_urls(public):
        response = public.client.get(url)
        assert response.status_code == 404 and b"<script>" not in response.data


# --- M6: people are told apart by a short stable handle, not by display name ---------------------

IMPOSTOR = "U" + "6" * 32


def handle_of(text: str, name: str) -> str:
    """The #handle printed before a name in /สมาชิก or the approval list."""
    match = re.search(r"(#\d+) " + re.escape(name), text)
    assert match, text
    return match[1]


def test_an_impostor_with_a_colleagues_name_is_not_approved_by_name(make_bot: Any) -> None:
    bot = make_bot(registration={"mode": "approve"})
    bot.standin.add_user(IMPOSTOR, NAMES[STAFF_SP])
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send(f"/อนุมัติ {NAMES[STAFF_SP]}", user=SECRETARY)
    assert bot.office.people.get(STAFF_SP).is_staff
    bot.send("/ลงทะเบียน สป.", user=IMPOSTOR, group=True)
    waiting = bot.send("/อนุมัติ", user=SECRETARY).text
    impostor = handle_of(waiting, NAMES[STAFF_SP])
    text = bot.send(f"/อนุมัติ {NAMES[STAFF_SP]}", user=SECRETARY).text
    assert "หลายคน" in text and impostor in text, text
    assert not bot.office.people.get(IMPOSTOR).is_staff
    members = bot.send("/สมาชิก", user=SECRETARY).text
    colleague = handle_of(members.split("รออนุมัติ")[0], NAMES[STAFF_SP])
    assert colleague != impostor and handle_of(members.split("รออนุมัติ")[1], NAMES[STAFF_SP]) == impostor
    assert "อนุมัติ" in bot.send(f"/อนุมัติ {impostor}", user=SECRETARY).text
    assert bot.office.people.get(IMPOSTOR).is_staff
    assert f"({impostor})" in bot.send("/ฉัน", user=IMPOSTOR).text  # people can tell a manager their handle


def test_two_people_with_one_name_can_each_be_removed_by_handle(bot: Any) -> None:
    bot.standin.add_user(STAFF_KLANG, NAMES[STAFF_SP])
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/ลงทะเบียน คลัง", user=STAFF_KLANG, group=True)
    text = bot.send(f"/ลบสมาชิก {NAMES[STAFF_SP]}", user=SECRETARY).text
    assert "หลายคน" in text and len(set(re.findall(r"#\d+", text))) == 2, text
    members = bot.send("/สมาชิก", user=SECRETARY).text
    sp, klang = handle_of(members.split("กองคลัง")[0], NAMES[STAFF_SP]), handle_of(members.split("กองคลัง")[1],
                                                                                   NAMES[STAFF_SP])
    assert "ลบ" in bot.send(f"/ลบสมาชิก {klang}", user=SECRETARY).text
    assert bot.office.people.get(STAFF_KLANG) is None and bot.office.people.get(STAFF_SP) is not None
    # Handles are stable: the remaining person keeps theirs, and a removed handle is never reused.
    assert handle_of(bot.send("/สมาชิก", user=SECRETARY).text, NAMES[STAFF_SP]) == sp
    bot.send("/ลงทะเบียน คลัง", user=STAFF_KLANG, group=True)
    assert handle_of(bot.send("/สมาชิก", user=SECRETARY).text.split("กองคลัง")[1], NAMES[STAFF_SP]) != klang
    assert "ไม่พบ" in bot.send("/ลบสมาชิก #999", user=SECRETARY).text
    assert "ลบ" in bot.send(f"/ลบสมาชิก {sp.replace('#', '＃')}", user=SECRETARY).text


# --- L1: chair codes come from the chair or config; codes can be listed and revoked ------------------


def invite_code(replies: Any) -> str | None:
    match = re.search(r"/รหัส ([A-Z0-9]{10})", replies.text)
    return match[1] if match else None


def test_only_the_chair_grants_chair_and_vice_chair_codes(make_bot: Any) -> None:
    bot = make_bot(roles={"assistant_secretary": [ASSISTANT]})
    for role in ("ประธาน", "รองประธาน", "chair", "vice_chair"):
        for manager in (SECRETARY, ASSISTANT):
            replies = bot.send(f"/เชิญ {role}", user=manager)
            assert invite_code(replies) is None and "ประธาน" in replies.text, replies.text
    with tiny_store(bot.office).read() as db:
        assert len(db.table("codes")) == 0
    code = invite_code(bot.send("/เชิญ รองประธาน", user=CHAIR))
    assert code and "รับบทบาท" in bot.send(f"/รหัส {code}", user=MEMBER).text
    assert invite_code(bot.send("/เชิญ กรรมการ", user=ASSISTANT))  # other roles: any manager


def test_only_the_chair_removes_a_code_claimed_chair(bot: Any) -> None:
    code = bot.office.people.issue_code("chair", None, bot.now)[0]  # `bot.py invite chair`: the config's way
    bot.send(f"/รหัส {code}", user=MEMBER)
    assert "chair" in bot.office.roles_of(MEMBER)
    handle = bot.office.people.get(MEMBER).tag
    text = bot.send(f"/ลบสมาชิก {handle}", user=SECRETARY).text
    assert text.startswith("ขออภัย") and "ประธาน" in text
    assert "chair" in bot.office.roles_of(MEMBER)
    assert "ลบ" in bot.send(f"/ลบสมาชิก {handle}", user=CHAIR).text
    assert "chair" not in bot.office.roles_of(MEMBER)


def test_managers_list_and_revoke_unused_codes(bot: Any) -> None:
    first = invite_code(bot.send("/เชิญ กรรมการ", user=SECRETARY))
    second = invite_code(bot.send("/เชิญ เลขานุการ", user=SECRETARY))
    used = invite_code(bot.send("/เชิญ กรรมการ", user=SECRETARY))
    bot.send(f"/รหัส {used}", user=MEMBER)
    listing = bot.send("/รหัสเชิญ", user=CHAIR).text
    assert "กรรมการ" in listing and "เลขานุการ" in listing
    assert first not in listing and second not in listing and used not in listing  # codes are never shown
    numbers = re.findall(r"^• #(\d+)", listing, re.MULTILINE)  # each code's number (issuers carry their handle)
    assert len(numbers) == 2, listing
    assert "ยกเลิก" in bot.send(f"/รหัสเชิญ ยกเลิก {numbers[0]}", user=SECRETARY).text
    assert "ไม่ถูกต้อง" in bot.send(f"/รหัส {first}", user=STAFF_KLANG).text
    assert "รับบทบาท" in bot.send(f"/รหัส {second}", user=STAFF_KLANG).text
    assert "ไม่มีรหัสเชิญ" in bot.send("/รหัสเชิญ", user=SECRETARY).text
    assert "ไม่พบ" in bot.send("/รหัสเชิญ ยกเลิก 99", user=SECRETARY).text
    assert bot.send("/รหัสเชิญ", user=STAFF_SP).text.startswith("ขออภัย")
    assert "/รหัสเชิญ" in bot.send("/ช่วยเหลือ", user=SECRETARY).text


# --- L3: a captured request replayed after the journal forgot it does not run again ----------------


def test_an_event_replayed_after_the_retention_window_is_refused(staff: Any, caplog: Any) -> None:
    staff.send("/รายงาน 1 กำลังทำ 20% แรก", user=STAFF_SP)
    withdraw = staff.text_event("/ถอนรายงาน", user=STAFF_SP)
    captured = staff.standin.webhook_body([withdraw])
    assert staff.post(captured).status_code == 200
    staff.wait_idle()
    staff.send("/รายงาน 1 กำลังทำ 40% ที่สอง", user=STAFF_SP)
    staff.advance(days=8)
    staff.send("/ฉัน", user=STAFF_KLANG)
    staff.journal.prune(now=time.time() + 8 * 86400)  # 7 days on, the journal no longer knows the event id
    assert staff.journal_files() == []
    caplog.set_level(logging.INFO)
    assert staff.post(captured).status_code == 200  # LINE must not redeliver it, so 200 (not stored)
    staff.wait_idle()
    live = [r.details for r in staff.office.reports.all(2564)]
    assert live == ["ที่สอง"], live
    assert staff.journal_files() == []
    assert any("too old" in r.getMessage() for r in caplog.records)
    assert not any(STAFF_SP in r.getMessage() or withdraw["webhookEventId"] in r.getMessage() for r in caplog.records)
