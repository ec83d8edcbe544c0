"""A year-page site for the OIT tests: three years' plans, OIT items, reports with evidence, approval, snapshots."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from ita_bot.domain.config import Config
from ita_bot.domain.office import Office
from ita_bot.domain.oit import OitItem
from ita_bot.domain.plan_writer import data_to_toml
from ita_bot.domain.progress import Report
from ita_bot.domain.publication import Approval
from ita_bot.domain.thai import BANGKOK
from ita_bot.web import create_app
from tests.conftest import STAFF_KLANG, STAFF_SP
from tests.plan_files import three_years

__all__ = ["O26", "O42", "O43", "OitSite", "at", "with_oit"]

O42 = OitItem("O42", "มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน", "measures", 2564)
O43 = OitItem("O43", "การดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน", "report", 2564)
#: The next year's list names this year's page as the evidence of its report item (2569 lists do: O26).
O26 = OitItem("O26", "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน", "report", 2564)
REPORTERS = ("สมชาย ใจดี", "มานี มีนา")  # staff names: never on a public page (PDPA)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)


def with_oit(folder: Path, items: dict[int, tuple[OitItem, ...]]) -> None:
    """Write each year's ``[[oit]]`` list into its plan file in ``folder``, as a manager's edit would (a year not
    given lists none), so the page reads them as every plan's items are read."""
    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        data.pop("oit", None)
        listed = items.get(int(path.stem), ())
        if listed:
            data["oit"] = [dataclasses.asdict(item) for item in listed]
        path.write_text(data_to_toml(data), encoding="utf-8")


class OitSite:
    """The real app over the test's backend with plans 2563–2565 (the 2564 page has two years of history)."""

    def __init__(self, make_config: Callable[..., Config], tmp_path: Path,
                 **sections: dict[str, Any]) -> None:
        plan = three_years(tmp_path / "plans")
        with_oit(plan.parent, {2564: (O42, O43), 2565: (O26,)})
        config = make_config(organization={"plan": str(plan)}, **sections)
        self.app: Flask = create_app(config, start_worker=False)
        self.office: Office = self.app.extensions["ita_bot"].office
        self.client: FlaskClient = self.app.test_client()

    def seed(self) -> None:
        for measure, division, status, percent, details, when, user, name, evidence in [
            (4, "sp", "done", 100, "แต่งตั้งผู้ดูแลเว็บไซต์ 3 คน", at(2021, 1, 20, 9), STAFF_SP, REPORTERS[0], 0),
            (1, "sp", "doing", 50, "ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว", at(2021, 2, 15, 10),
             STAFF_SP, REPORTERS[0], 1),
            (4, "klang", "blocked", None, "ยังไม่มีงบประมาณจ้างพัฒนาระบบ E-service", at(2021, 2, 20, 9),
             STAFF_KLANG, REPORTERS[1], 0),
            (2, "sp", "doing", 40, "ลงประกาศที่ https://www.nongmuang.go.th/news/ita-2564/communication-channels-update",
             at(2021, 2, 22, 9), STAFF_SP, REPORTERS[0], 0),
        ]:
            report = Report(2564, measure, division, status, percent, details, when, when,
                            reporter_id=user, reporter_name=name)
            self.office.reports.add(report)
            for n in range(evidence):
                rel = f"2564/{report.id}/{n + 1}.png"
                self.office.repositories.evidence.save(rel, PNG)
                item = {"file": rel, "kind": "image", "name": "ป้ายประกาศ.png", "content_type": "image/png"}
                self.office.reports.attach_evidence(2564, report.id, item)

    def approve(self) -> None:
        self.office.publications.set_approval(2564, Approval(
            "นายสมศักดิ์ รักษ์ถิ่น", "นายกองค์การบริหารส่วนตำบลหนองเมือง", date(2021, 3, 1),
            "เลขาทดสอบ", at(2021, 3, 2, 10)))

    def get(self, path: str) -> Any:
        return self.client.get(path)


#: A 1×1 PNG (evidence bytes the store accepts).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf0000000301010018dd8db00000000049454e44ae426082"
)
