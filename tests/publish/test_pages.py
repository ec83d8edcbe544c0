"""Public report pages: the year page and JSON contract, cycle meeting reports (HTML/JSON/CSV), PDPA, errors."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ita_bot.domain.config import Config
from ita_bot.domain.links import report_url
from ita_bot.domain.office import Office
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from ita_bot.domain.wording import NEVER_REPORTED
from ita_bot.publish import disclosure
from ita_bot.web import create_app
from tests.conftest import SECRETARY, STAFF_CHANG, STAFF_KLANG, STAFF_SP
from tests.tiny import tiny_store

pytestmark = pytest.mark.backends("tinydb", "postgresql")

USER_ID = re.compile(r"U[0-9a-f]{32}")
CHAT = "C" + "0" * 32
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf0000000301010018dd8db00000000049454e44ae426082"
)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)


class Site:
    """The real app over a temp store, with reports seeded straight into the report book."""

    def __init__(self, config: Config) -> None:
        self.app: Flask = create_app(config, start_worker=False)
        self.office: Office = self.app.extensions["ita_bot"].office
        self.client: FlaskClient = self.app.test_client()

    def add(
        self,
        measure: int,
        division: str,
        status: str,
        percent: int | None,
        details: str,
        when: datetime,
        *,
        user: str = STAFF_SP,
        name: str = "สมชาย ใจดี",
        evidence: int = 0,
    ) -> Report:
        report = Report(
            2564, measure, division, status, percent, details, when, when,
            chat_id=CHAT, reporter_id=user, reporter_name=name,
        )  # fmt: skip
        self.office.reports.add(report)
        for n in range(evidence):
            rel = f"2564/{report.id}/{n + 1}.png"
            self.office.repositories.evidence.save(rel, TINY_PNG)
            item = {"file": rel, "kind": "image", "name": f"{user}.png", "content_type": "image/png"}
            report = self.office.reports.attach_evidence(2564, report.id, item)
        return report

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def seed(self) -> dict[str, Report]:
        """A February 2564 cycle (meeting Thu 25 Feb, Makha Bucha moves it from Fri 26) with history before it."""
        return {
            "jan_done": self.add(4, "sp", "done", 100, "แต่งตั้งผู้ดูแลเว็บไซต์ 3 คน", at(2021, 1, 20, 9)),
            "jan_m1": self.add(1, "sp", "doing", 20, "เริ่มประชาสัมพันธ์ขั้นตอนการให้บริการ", at(2021, 1, 22, 11)),
            "feb_m1": self.add(
                1, "sp", "doing", 50, "ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว", at(2021, 2, 15, 10), evidence=2
            ),
            "feb_klang": self.add(
                4, "klang", "blocked", None, "ยังไม่มีงบประมาณจ้างพัฒนาระบบ E-service", at(2021, 2, 20, 9),
                user=STAFF_KLANG, name="มานี มีนา",
            ),
            # Reported on meeting day: counts for that meeting.
            "meeting_day": self.add(2, "sp", "doing", 30, "ปรับหน้าเว็บไซต์ให้ค้นหาง่ายขึ้น", at(2021, 2, 25, 8)),
            # The day after the meeting: the March cycle.
            "march": self.add(3, "sp", "doing", 10, "ติดตั้งกล่องรับฟังความคิดเห็นหน้า อบต.", at(2021, 2, 26, 9)),
        }


@pytest.fixture
def make_site(make_config: Callable[..., Config]) -> Callable[..., Site]:
    return lambda **sections: Site(make_config(**sections))


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM to read Thai"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


# --------------------------------------------------------------------------------------------- year JSON


def test_year_json_follows_the_contract(site: Site) -> None:
    seeded = site.seed()
    withdrawn = site.add(2, "sp", "doing", 40, "รายงานที่ถอนแล้ว", at(2021, 2, 16, 9))
    site.office.reports.withdraw(2564, withdrawn.id, at(2021, 2, 16, 10))
    # Stored in UTC: the contract wants Bangkok time.
    site.add(4, "chang", "doing", 60, "ทดสอบระบบ E-service", datetime(2021, 3, 1, 2, 30, tzinfo=UTC), user=STAFF_CHANG)

    r = site.get("/reports/2564.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = json.loads(r.data)
    assert data["fiscal_year"] == 2564
    assert data["organization"] == "องค์การบริหารส่วนตำบลหนองเมือง"
    assert [m["number"] for m in data["measures"]] == [1, 2, 3, 4]
    m1, m2, _, m4 = data["measures"]
    assert m1["title"] == "ให้พัฒนาคุณภาพการดำเนินงาน"
    assert m1["divisions"] == ["สำนักงานปลัด"]
    assert m4["divisions"] == ["สำนักงานปลัด", "กองคลัง", "กองช่าง"]
    assert [x.pop("id") for x in m1["reports"]] == [seeded["jan_m1"].id, seeded["feb_m1"].id]
    assert m1["reports"] == [
        {"division": "สำนักงานปลัด", "status": "doing", "percent": 20,
         "details": "เริ่มประชาสัมพันธ์ขั้นตอนการให้บริการ", "reported_at": "2021-01-22T11:00:00+07:00",
         "cycle": "2021-01", "evidence": 0},
        {"division": "สำนักงานปลัด", "status": "doing", "percent": 50,
         "details": "ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว", "reported_at": "2021-02-15T10:00:00+07:00",
         "cycle": "2021-02", "evidence": 2},
    ]  # fmt: skip
    assert [x["details"] for x in m2["reports"]] == ["ปรับหน้าเว็บไซต์ให้ค้นหาง่ายขึ้น"], "withdrawn left out"
    assert m2["reports"][0]["cycle"] == "2021-02", "a report on meeting day counts for that meeting"
    assert data["measures"][2]["reports"][0]["cycle"] == "2021-03", "the day after the meeting is next cycle"
    times = [x["reported_at"] for x in m4["reports"]]
    assert times == sorted(times), "oldest first"
    assert [x["division"] for x in m4["reports"]] == ["สำนักงานปลัด", "กองคลัง", "กองช่าง"]
    assert m4["reports"][1].pop("id") == seeded["feb_klang"].id
    assert m4["reports"][1] == {
        "division": "กองคลัง", "status": "blocked", "percent": None,
        "details": seeded["feb_klang"].details, "reported_at": "2021-02-20T09:00:00+07:00",
        "cycle": "2021-02", "evidence": 0,
    }  # fmt: skip
    assert m4["reports"][2]["reported_at"] == "2021-03-01T09:30:00+07:00"
    for m in data["measures"]:
        for x in m["reports"]:
            assert x["status"] in {"todo", "doing", "done", "blocked"}
            assert x["percent"] is None or (isinstance(x["percent"], int) and 0 <= x["percent"] <= 100)
            assert isinstance(x["evidence"], int)
    # Extra fields: methods, assessment, cycles with their meeting dates, the year's problems.
    assert m1["methods"][0].startswith("ประชาสัมพันธ์เกี่ยวกับระบบ")
    assert {i["name"] for i in data["assessment"]["indicators"] if i["below_target"]} == {
        "ประสิทธิภาพการสื่อสาร", "การปรับปรุงการทำงาน"
    }
    # The NACC's own indicator numbers (1-10, as its report and ITAS give them) beside the plan's per-instrument ones.
    numbered = {i["name"]: (i["instrument"], i["number"], i["nacc_number"]) for i in data["assessment"]["indicators"]}
    assert numbered["ประสิทธิภาพการสื่อสาร"] == ("EIT", 2, 7)
    assert sorted(n for _, _, n in numbered.values()) == list(range(1, 11))
    feb = next(c for c in data["cycles"] if c["id"] == "2021-02")
    assert feb["meeting"] == "2021-02-25"
    assert [p["details"] for p in data["problems"]] == [seeded["feb_klang"].details]


def test_year_json_numbers_stay_numbers_with_thai_numerals(make_site: Callable[..., Site]) -> None:
    site = make_site(display={"numerals": "thai"})
    site.seed()
    data = json.loads(site.get("/reports/2564.json").data)
    assert data["fiscal_year"] == 2564
    assert data["measures"][0]["reports"][0]["percent"] == 20


def test_empty_year_lists_every_measure_without_reports(site: Site) -> None:
    data = json.loads(site.get("/reports/2564.json").data)
    assert [len(m["reports"]) for m in data["measures"]] == [0, 0, 0, 0]
    page = site.get("/reports/2564").get_data(as_text=True)
    assert "ยังไม่มีรายงานผลการดำเนินการ" in page
    assert "ไม่มีรายงานปัญหาหรืออุปสรรค" in page


# --------------------------------------------------------------------------------------------- year page


def test_year_page_content(site: Site) -> None:
    seeded = site.seed()
    r = site.get("/reports/2564")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert '<html lang="th">' in page
    assert "<script" not in page, "works without JavaScript"
    assert "องค์การบริหารส่วนตำบลหนองเมือง" in page
    assert "ปีงบประมาณ พ.ศ. 2564" in page
    # The ITA result that motivated the measures, indicators under 85 flagged.
    assert "92.65" in page and "ระดับ <strong>A</strong>" in page
    # Numbered as the NACC's report numbers them: 1–10 across the three instruments.
    assert re.search(r'class="below">\s*<td class="head">7\. ประสิทธิภาพการสื่อสาร</td>\s*<td class="num".*?>81\.80', page)
    assert re.search(r'class="below">\s*<td class="head">8\. การปรับปรุงการทำงาน</td>\s*<td class="num".*?>81\.70', page)
    assert "ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT) (81.80)" in page  # the ones under the target, named
    assert "ประเด็นที่ต้องแก้ไข/ปรับปรุง (ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT)):" in page
    assert page.count('class="below"') == 2
    # Each measure with methods, responsible divisions, period, follow-up.
    assert "มาตรการที่ 4 ต้องมีการพัฒนาทักษะ" in page
    assert "จัดให้มีการบริการ E-service ในเว็บไซต์อย่างน้อย ๓ กระบวนงาน" in page, "plan text as written"
    assert "สำนักงานปลัด, กองคลัง, กองช่าง" in page
    assert "ปีงบประมาณ ๒๕๖๔" in page
    # A progress bar per division, from the latest report.
    assert 'style="width: 50%"' in page and 'style="width: 100%"' in page
    # Dated reports per cycle with details and evidence counts, BE dates.
    assert "รอบการประชุมเดือนกุมภาพันธ์ 2564 (ประชุม 25 ก.พ. 2564)" in page
    assert "15 ก.พ. 2564" in page and seeded["feb_m1"].details in page
    assert "หลักฐาน 2 รายการ" in page
    # Problems and obstacles: blocked reports and their details.
    problems = page[page.index('id="problems"'):]
    assert "กองคลัง" in problems and seeded["feb_klang"].details in problems
    # Cycle table links every month's meeting report.
    assert 'href="/reports/2564/2021-02.docx"' in page and 'href="/reports/2564/2021-09"' in page


def test_year_page_print_css_and_thai_fonts(site: Site) -> None:
    page = site.get("/reports/2564").get_data(as_text=True)
    assert re.search(r'font-family: "TH Sarabun New",[^;]*"Sarabun",[^;]*"Laksaman"', page)
    assert "@page { size: A4" in page and "@media print" in page


def test_year_page_follows_thai_numerals(make_site: Callable[..., Site]) -> None:
    site = make_site(display={"numerals": "thai"})
    site.seed()
    page = site.get("/reports/2564").get_data(as_text=True)
    assert "ปีงบประมาณ พ.ศ. ๒๕๖๔" in page
    assert "๑๕ ก.พ. ๒๕๖๔" in page and "๙๒.๖๕" in page and "๕๐%" in page
    assert "15 ก.พ. 2564" not in page


def test_year_becomes_the_year_end_summary_after_the_fiscal_year(site: Site) -> None:
    site.seed()
    plan, cal = site.office.plan, site.office.calendar()
    reports = site.office.reports.all(2564)
    during = disclosure.build_year(plan, cal, reports, now=at(2021, 3, 1, 9), disclosure=disclosure.Disclosure())
    after = disclosure.build_year(plan, cal, reports, now=at(2021, 10, 1, 9), disclosure=disclosure.Disclosure())
    assert not during.closed and after.closed
    assert [p.division for p in after.problems] == ["กองคลัง"]
    assert after.counts == {"todo": 0, "doing": 3, "done": 1, "blocked": 1, "none": 1}
    # The live page (the clock is past 2564 by now) reads as the committee's summary.
    assert "สรุปผลการดำเนินการตามมาตรการ" in site.get("/reports/2564").get_data(as_text=True)


def test_thai_digit_addresses_and_the_index(site: Site) -> None:
    assert site.get("/reports/๒๕๖๔").status_code == 200
    assert site.get("/reports/2564/๒๐๒๑-๐๒").status_code == 200
    r = site.get("/reports")
    assert r.status_code == 302 and r.headers["Location"].endswith("/reports/2564")


# --------------------------------------------------------------------------------------------- cycle report


def test_cycle_page_is_the_meeting_agenda_item(site: Site) -> None:
    seeded = site.seed()
    r = site.get("/reports/2564/2021-02")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "<script" not in page
    assert "รายงานผลการดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส" in page
    assert "การประชุมพนักงานประจำเดือนกุมภาพันธ์ 2564" in page and "25 กุมภาพันธ์ 2564" in page
    # This cycle's work is shown; earlier cycles' details are not this cycle's work.
    assert seeded["feb_m1"].details in page and seeded["meeting_day"].details in page
    assert seeded["jan_m1"].details not in page
    assert seeded["march"].details not in page
    pending = page[page.index("หน่วยงานที่ยังไม่ได้รายงานผลในรอบนี้"):]
    assert "สำนักงานปลัด — มาตรการที่ 3" in pending and "กองช่าง — มาตรการที่ 4" in pending
    assert "กองคลัง" not in pending.split("</ul>")[0]
    assert 'href="/reports/2564/2021-02.docx"' in page and 'href="/reports/2564/2021-02.csv"' in page


def test_cycle_json(site: Site) -> None:
    site.seed()
    data = json.loads(site.get("/reports/2564/2021-02.json").data)
    assert data["cycle"] == "2021-02" and data["meeting"] == "2021-02-25"
    assert data["agenda"] == disclosure.AGENDA
    pairs = {(m["number"], d["division"]): d for m in data["measures"] for d in m["divisions"]}
    assert len(pairs) == 6
    assert pairs[(1, "สำนักงานปลัด")]["status"] == "doing" and pairs[(1, "สำนักงานปลัด")]["percent"] == 50
    assert [x["cycle"] for x in pairs[(1, "สำนักงานปลัด")]["reports"]] == ["2021-02"]
    # Done in January: nothing owed this cycle.
    assert pairs[(4, "สำนักงานปลัด")]["latest"]["reported_at"] == "2021-01-20T09:00:00+07:00"
    assert pairs[(4, "สำนักงานปลัด")] | {"latest": None} == {
        "division": "สำนักงานปลัด", "status": "done", "percent": 100, "pending": False, "latest": None, "reports": [],
    }  # fmt: skip
    assert pairs[(4, "กองช่าง")]["pending"] and pairs[(4, "กองช่าง")]["status"] is None
    assert data["pending"] == [
        {"division": "สำนักงานปลัด", "measures": [3]},
        {"division": "กองช่าง", "measures": [4]},
    ]
    assert data["counts"]["pending"] == 2


def test_cycle_csv_opens_in_excel_with_thai(site: Site) -> None:
    site.seed()
    r = site.get("/reports/2564/2021-02.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="ita-2564-2021-02.csv"; ')
    thai_name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert thai_name == "รายงานผลมาตรการ ITA กุมภาพันธ์ 2564.csv"
    rows = csv_rows(r.data)
    assert rows[0][:4] == ["มาตรการที่", "มาตรการ", "หน่วยงาน", "สถานะล่าสุด"]
    body = {(row[0], row[2]): row for row in rows[1:]}
    assert len(body) == 6
    m1 = body[("1", "สำนักงานปลัด")]
    assert m1[3] == "กำลังดำเนินการ" and m1[4] == "50" and m1[5] == "15 ก.พ. 2564"
    assert "ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว" in m1[6] and m1[7] == "2" and m1[8] == ""
    assert body[("4", "กองช่าง")][3] == NEVER_REPORTED and body[("4", "กองช่าง")][8] == "ค้าง"
    assert body[("4", "กองคลัง")][3] == "ติดปัญหา" and body[("4", "กองคลัง")][4] == ""
    assert b"\r\n" in r.data, "Excel-style line ends"


def test_cycle_csv_keeps_arabic_digits_for_spreadsheets_whatever_the_numerals(make_site: Callable[..., Site]) -> None:
    site = make_site(display={"numerals": "thai"})
    site.seed()
    rows = csv_rows(site.get("/reports/2564/2021-02.csv").data)
    m1 = next(row for row in rows if row[2] == "สำนักงานปลัด" and row[0] == "1")
    assert m1[4] == "50" and m1[5] == "15 ก.พ. 2564"
    # The page, for people, follows display.numerals.
    assert "๑๕ ก.พ. ๒๕๖๔" in site.get("/reports/2564/2021-02").get_data(as_text=True)


def test_year_puts_reports_after_the_last_meeting_in_the_last_cycle(site: Site) -> None:
    site.add(2, "sp", "done", 100, "อัปเดตเว็บไซต์ครบทุกกระบวนการ", at(2021, 9, 30, 15))
    data = json.loads(site.get("/reports/2564.json").data)
    assert data["measures"][1]["reports"][0]["cycle"] == "2021-09"


def test_last_cycle_report_takes_reports_after_the_last_meeting(site: Site) -> None:
    late = site.add(2, "sp", "done", 100, "อัปเดตเว็บไซต์ครบทุกกระบวนการ", at(2021, 9, 30, 15))
    data = json.loads(site.get("/reports/2564/2021-09.json").data)
    m2 = next(m for m in data["measures"] if m["number"] == 2)
    assert [x["details"] for x in m2["divisions"][0]["reports"]] == [late.details]


# --------------------------------------------------------------------------------------------- PDPA


def public_outputs(site: Site) -> dict[str, str]:
    """Every public output's text (the DOCX unzipped to its document XML)."""
    import zipfile

    out = {}
    for path in ("/reports/2564", "/reports/2564.json", "/reports/2564/2021-02", "/reports/2564/2021-02.json"):
        out[path] = site.get(path).get_data(as_text=True)
    out["csv"] = site.get("/reports/2564/2021-02.csv").data.decode("utf-8-sig")
    docx = site.get("/reports/2564/2021-02.docx").data
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        out["docx"] = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return out


def test_public_outputs_never_show_line_user_ids_or_names_by_default(site: Site) -> None:
    site.seed()
    # Someone pasted a user ID into the details: it must not leak either.
    site.add(3, "sp", "doing", 40, f"ประสานงานกับ {STAFF_CHANG} แล้ว", at(2021, 2, 18, 9))
    for where, text in public_outputs(site).items():
        assert not USER_ID.search(text), where
        assert "สมชาย ใจดี" not in text and "มานี มีนา" not in text, where
    # Division names are what the public sees.
    assert "สำนักงานปลัด" in site.get("/reports/2564").get_data(as_text=True)
    # Evidence file names carry the uploader's ID here; with evidence private nothing lists them.
    assert ".png" not in site.get("/reports/2564").get_data(as_text=True)


def test_names_only_with_show_names(make_site: Callable[..., Site]) -> None:
    site = make_site(web={"show_names": True})
    site.seed()
    outputs = public_outputs(site)
    for where in ("/reports/2564", "/reports/2564.json", "/reports/2564/2021-02", "csv", "docx"):
        assert "สมชาย ใจดี" in outputs[where], where
    assert json.loads(outputs["/reports/2564.json"])["measures"][0]["reports"][0]["reporter"] == "สมชาย ใจดี"
    for where, text in outputs.items():
        assert not USER_ID.search(text), where


def test_evidence_is_private_by_default(site: Site) -> None:
    report = site.seed()["feb_m1"]
    assert site.get(f"/reports/2564/evidence/{report.id}/1").status_code == 404
    assert f"/evidence/{report.id}/" not in site.get("/reports/2564").get_data(as_text=True)


def test_public_evidence_is_served_by_report_id(make_site: Callable[..., Site]) -> None:
    site = make_site(web={"public_evidence": True})
    seeded = site.seed()
    report = seeded["feb_m1"]
    page = site.get("/reports/2564").get_data(as_text=True)
    assert f'src="/reports/2564/evidence/{report.id}/1"' in page
    assert not USER_ID.search(page), "file names with IDs are redacted"
    r = site.get(f"/reports/2564/evidence/{report.id}/2")
    assert r.status_code == 200 and r.data == TINY_PNG and r.mimetype == "image/png"
    assert site.get(f"/reports/2564/evidence/{report.id}/3").status_code == 404
    assert site.get(f"/reports/2564/evidence/{report.id}/0").status_code == 404
    assert site.get(f"/reports/2599/evidence/{report.id}/1").status_code == 404
    assert site.get("/reports/2564/evidence/..%2F..%2Fita-bot/1").status_code == 404
    site.office.reports.withdraw(2564, report.id, at(2021, 2, 16, 9))
    assert site.get(f"/reports/2564/evidence/{report.id}/1").status_code == 404


@pytest.mark.backends("tinydb")  # evidence files in a folder are TinyDB's
def test_evidence_outside_the_evidence_folder_is_refused(make_site: Callable[..., Site]) -> None:
    site = make_site(web={"public_evidence": True})
    report = site.add(1, "sp", "doing", 10, "x", at(2021, 2, 1, 9))
    secret = tiny_store(site.office).folder / "secret.txt"
    secret.write_text("do not serve", encoding="utf-8")
    site.office.reports.attach_evidence(
        2564, report.id, {"file": "../secret.txt", "kind": "file", "name": "x", "content_type": "text/plain"}
    )
    assert site.get(f"/reports/2564/evidence/{report.id}/1").status_code == 404


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/reports/2599", 404),
        ("/reports/2599.json", 404),
        ("/reports/abcd", 404),
        ("/reports/2564.xml", 404),
        ("/reports/2599/2021-02", 404),
        ("/reports/2564/2022-02", 404),  # a month of another fiscal year
        ("/reports/2564/2020-09.csv", 404),
        ("/reports/2564/2021-13", 400),
        ("/reports/2564/2021-2", 400),
        ("/reports/2564/feb", 400),
        ("/reports/2564/2021-02.pdf", 400),
        ("/reports/2564/2021-02.docx.csv", 400),
    ],
)
def test_errors_are_small_thai_pages(site: Site, path: str, status: int) -> None:
    r = site.get(path)
    assert r.status_code == status
    assert r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert '<html lang="th">' in page
    assert ("ไม่พบ" if status == 404 else "ไม่ถูกต้อง") in page


def test_month_outside_the_year_names_the_year(site: Site) -> None:
    page = site.get("/reports/2564/2022-02").get_data(as_text=True)
    assert "ไม่อยู่ในปีงบประมาณ 2564" in page


# --------------------------------------------------------------------------------------------- /ส่งออก links


def test_export_links_resolve(site: Site) -> None:
    """The links /ส่งออก replies with ({base_url}/reports/<fy>/<yyyy-mm> + .docx, .csv, and the year) all work."""
    base = site.office.config.web.base_url
    cycle = site.office.calendar().cycle("2021-02")
    links = [
        f"{base}/reports/{cycle.fiscal_year}/{cycle.id}",
        f"{base}/reports/{cycle.fiscal_year}/{cycle.id}.docx",
        f"{base}/reports/{cycle.fiscal_year}/{cycle.id}.csv",
        f"{base}/reports/{cycle.fiscal_year}",
    ]
    for link in links:
        assert site.get(urlsplit(link).path).status_code == 200, link


def test_chat_to_pages_end_to_end(make_bot: Callable[..., Any]) -> None:
    """Staff report in LINE with a photo; the secretary's /ส่งออก links open the cycle report with it."""
    from ita_bot.line_standin import TINY_JPEG

    bot = make_bot(web={"public_evidence": True})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/รายงาน 2 กำลังทำ 60% อัปเดตข้อมูลบนเว็บไซต์หลัก", user=STAFF_SP, group=True)
    bot.send_image(user=STAFF_SP, group=True)
    replies = bot.send("/ส่งออก ก.พ.", user=SECRETARY)
    links = re.findall(r"https?://\S+", replies.text)
    base = bot.office.config.web.base_url
    assert f"{base}/reports/2564/2021-02" in links and f"{base}/reports/2564" in links
    assert {f"{base}/reports/2564/2021-02.docx", f"{base}/reports/2564/2021-02.csv"} <= set(links)
    for link in links:
        assert bot.client.get(urlsplit(link).path).status_code == 200, link

    data = json.loads(bot.client.get("/reports/2564/2021-02.json").data)
    pair = data["measures"][1]["divisions"][0]
    assert pair["status"] == "doing" and pair["percent"] == 60
    [report] = pair["reports"]
    assert report["details"] == "อัปเดตข้อมูลบนเว็บไซต์หลัก" and report["evidence"] == 1
    assert report["reported_at"] == "2021-02-15T10:00:01+07:00"
    photo = bot.client.get(f"/reports/2564/evidence/{report['id']}/1")
    assert photo.status_code == 200 and photo.data == TINY_JPEG
    for path in ("/reports/2564", "/reports/2564.json", "/reports/2564/2021-02", "/reports/2564/2021-02.csv"):
        assert not USER_ID.search(bot.client.get(path).get_data(as_text=True)), path


# --------------------------------------------------------------------------------------------- one address shape


def test_report_url_is_the_address_the_pages_answer(site: Site) -> None:
    # Chat, the jobs, the console and the demo link with report_url; the pages must answer exactly those.
    base = "https://ita.example.go.th/"
    assert report_url(base, 2564) == "https://ita.example.go.th/reports/2564"
    assert report_url(base, 2564, "2021-02") == "https://ita.example.go.th/reports/2564/2021-02"
    assert report_url(base, 2564, anchor="milestones") == "https://ita.example.go.th/reports/2564#milestones"
    assert site.get("/reports").headers["Location"].endswith(report_url("", 2564))
    year = site.get(report_url("", 2564))
    assert year.status_code == 200 and 'id="milestones"' in year.get_data(as_text=True)
    assert site.get(report_url("", 2564, "2021-02")).status_code == 200
    for suffix in (".docx", ".csv"):
        assert site.get(report_url("", 2564, "2021-02") + suffix).status_code == 200
