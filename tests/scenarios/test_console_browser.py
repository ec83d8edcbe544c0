"""A manager's year in a real browser: /จัดการ in LINE, the console's forms in headless Chromium, the new plan in use.

Selenium drives Debian's `chromium` through `chromium-driver` against the app served on 127.0.0.1 with the
LINE stand-in; every chat message is a signed webhook.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.plan_writer import plan_to_data
from ita_bot.domain.thai import BANGKOK
from tests.conftest import SECRETARY, STAFF_SP
from tests.scenarios.console_stage import ConsoleStage, chromium_driver, missing_browser, seed_year

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or "")

OCT_2021 = datetime(2021, 10, 5, 9, 0, tzinfo=BANGKOK)  # fiscal year 2565 has begun and has no plan yet
LINK = re.compile(r"http://127\.0\.0\.1:\d+/admin/login/[A-Za-z0-9_-]+")
EIT2_NOTES = "ประชาสัมพันธ์ช่องทางร้องเรียนให้ประชาชนทราบ"


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[ConsoleStage]:
    s = ConsoleStage(tmp_path / "site", OCT_2021)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = chromium_driver(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def text_of(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def fill(driver: Any, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def submit(driver: Any, selector: str = "main form button[type=submit]") -> None:
    """Press a form button (default: the page's main form, not the header's logout) and wait for the next page."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, selector).click()

    def replaced(_: Any) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            # Asked while the next page replaces the old one, chromedriver may say so in its own words.
            if "does not belong to the document" in str(e):
                return True
            raise
        return False

    WebDriverWait(driver, 30).until(replaced)


def enter_result(driver: Any, base: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/admin/results")
    fill(driver, "ita_year", "2564")
    fill(driver, "total", "90.00")
    i = 0
    while driver.find_elements(By.NAME, f"indicators-{i}-score"):
        instrument = driver.find_element(By.NAME, f"indicators-{i}-instrument").get_attribute("value")
        number = driver.find_element(By.NAME, f"indicators-{i}-number").get_attribute("value")
        if instrument:
            low = (instrument, number) == ("EIT", "2")
            fill(driver, f"indicators-{i}-score", "80.00" if low else "90.00")
            if low:
                fill(driver, f"indicators-{i}-notes", EIT2_NOTES)
        i += 1
    submit(driver)


def test_a_manager_sets_up_the_new_year_in_the_browser(stage: ConsoleStage, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    base = stage.base_url
    stage.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)

    # No session: any console page leads to the sign-in help, which shows no data.
    browser.get(base + "/admin/members")
    assert browser.current_url.endswith("/admin/login")
    login_text = text_of(browser)
    assert "/จัดการ" in login_text and "สมชาย" not in login_text

    # The secretary asks in a 1:1 chat and opens the link.
    reply = stage.send("/จัดการ", user=SECRETARY)
    link = LINK.search(reply)
    assert link, reply
    browser.get(link.group(0))
    assert browser.current_url == base + "/admin"
    assert "ยังไม่มีแผนมาตรการของปีงบประมาณ 2565" in text_of(browser)
    browser.save_screenshot(str(tmp_path / "1-no-plan.png"))

    # The official ITA 2564 result, one indicator under the 85 target.
    enter_result(browser, base)
    assert "/admin/draft?fy=2565" in browser.current_url, text_of(browser)
    draft = text_of(browser)
    assert "ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT)" in draft and "80.00" in draft
    browser.save_screenshot(str(tmp_path / "2-draft.png"))

    # Keep the suggested measure (the default choice), name its division and save the plan.
    keep = browser.find_element(By.CSS_SELECTOR, "input[name='suggestions-0-choice'][value='keep']")
    assert keep.is_selected()
    browser.find_element(By.CSS_SELECTOR, "input[name='suggestions-0-divisions'][value='sp']").click()
    submit(browser)
    assert browser.current_url == base + "/admin/plans/2565", text_of(browser)
    plan = stage.office.plans.get(2565)
    assert plan is not None
    suggested = next(m for m in plan.measures if m.title == "พัฒนาประสิทธิภาพการสื่อสาร")
    assert "บันทึกแผนปีงบประมาณ 2565 แล้ว" in text_of(browser)
    browser.save_screenshot(str(tmp_path / "3-plan.png"))

    # A used link is refused with how to get a new one.
    browser.get(link.group(0))
    used = text_of(browser)
    assert "ใช้ไปแล้ว" in used and "/จัดการ" in used

    # A stale form: another manager saves first; this save is refused and changes nothing.
    browser.get(base + "/admin/plans/2565/organization")
    book = stage.office.plans
    data = plan_to_data(plan)
    data["organization"]["district"] = "อำเภอบ้านหมี่ (แก้โดยผู้จัดการอีกคน)"
    book.save_data(2565, data, expected_version=book.version(2565), who="ผู้ช่วยเลขาทดสอบ", section="organization",
                   now=stage.now)
    version = book.version(2565)
    fill(browser, "short_name", "ชื่อย่อที่ไม่ควรบันทึก")
    submit(browser)
    assert "ถูกแก้ไขไปแล้ว" in text_of(browser)
    assert book.version(2565) == version

    # A form without its CSRF token: 400, nothing saved.
    browser.get(base + "/admin/plans/2565/organization")
    browser.execute_script("document.querySelector(\"main input[name='csrf_token']\").remove()")
    fill(browser, "short_name", "ชื่อย่อที่ไม่ควรบันทึก")
    submit(browser)
    assert "ไม่ได้บันทึก" in text_of(browser)
    assert book.version(2565) == version
    browser.save_screenshot(str(tmp_path / "4-csrf.png"))

    # Every change is in the history; logging out ends the session.
    browser.get(base + "/admin/history")
    history = text_of(browser)
    assert "แผนปีงบประมาณ 2565" in history and "ผู้ช่วยเลขาทดสอบ" in history
    submit(browser, "header form button")
    assert "ออกจากระบบแล้ว" in text_of(browser)
    browser.get(base + "/admin")
    assert browser.current_url.endswith("/admin/login")

    # The bot follows the new plan at once: a staff report in fiscal year 2565 is accepted...
    answer = stage.send(f"/รายงาน {suggested.number} กำลังทำ 40% ติดป้ายช่องทางร้องเรียนหน้าสำนักงาน", user=STAFF_SP,
                        at=datetime(2021, 10, 6, 10, 0, tzinfo=BANGKOK))
    assert any(r.measure == suggested.number for r in stage.office.reports.all(2565)), answer
    # ...and shows on the public page of that year.
    browser.get(base + "/reports/2565")
    public = text_of(browser)
    assert "ติดป้ายช่องทางร้องเรียนหน้าสำนักงาน" in public and suggested.title in public
    browser.save_screenshot(str(tmp_path / "5-public.png"))



def sign_in(stage: ConsoleStage, driver: Any) -> None:
    reply = stage.send("/จัดการ", user=SECRETARY)
    link = LINK.search(reply)
    assert link, reply
    driver.get(link.group(0))
    assert driver.current_url == stage.base_url + "/admin"


@pytest.mark.parametrize("width", [1280, 390])  # an office PC and a phone
def test_the_year_at_a_glance_with_chart_pending_names_and_photos(tmp_path: Path, width: int) -> None:
    from selenium.webdriver.common.by import By

    stage = ConsoleStage(tmp_path / "site", OCT_2021)
    driver = chromium_driver(tmp_path / "profile", width=width, height=1400)
    try:
        seed_year(stage)
        sign_in(stage, driver)
        page = text_of(driver)
        assert "ภาพรวมปีงบประมาณ 2564" in page
        assert "มานี คลัง" in page and "สมชาย สป" in page  # reporters' names: private, here only
        assert "ค้างรายงานรอบนี้" in page and "กองการศึกษา" not in page.split("ค้างรายงานรอบนี้")[1][:20]
        bars = driver.find_elements(By.CSS_SELECTOR, "svg rect")
        assert len(bars) >= 5, "the chart has no bars"
        thumbs = driver.find_elements(By.CSS_SELECTOR, ".thumbs img")
        assert len(thumbs) == 2
        # Every photo really loaded (a broken image has no natural width).
        assert all(driver.execute_script("return arguments[0].naturalWidth", img) == 160 for img in thumbs)
        # Nothing spills sideways on a phone: only the wide table scrolls, inside its own box.
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        driver.save_screenshot(str(tmp_path / f"overview-{width}.png"))
    finally:
        driver.quit()
        stage.close()


def typed_date(driver: Any, name: str, day: str, month: str, year: str) -> None:
    """Type a date as a Thai secretary does: the day, the month picked by its Thai name, the พ.ศ. year."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    fill(driver, f"{name}-day", day)
    Select(driver.find_element(By.NAME, f"{name}-month")).select_by_visible_text(month)
    fill(driver, f"{name}-year", year)


def tick(driver: Any, name: str, label: str) -> None:
    """Tick the checkbox of a group by the Thai name written beside it."""
    from selenium.webdriver.common.by import By

    for box in driver.find_elements(By.NAME, name):
        if driver.find_element(By.CSS_SELECTOR, f"label[for='{box.get_attribute('id')}']").text == label:
            box.click()
            return
    raise AssertionError(f"no checkbox {label!r} in {name}")


@pytest.mark.parametrize("width", [1280, 390])  # an office PC and a phone
def test_the_new_years_calendar_and_dates_are_entered_in_thai(tmp_path: Path, width: int) -> None:
    import tomllib
    from datetime import date

    from selenium.webdriver.common.by import By

    stage = ConsoleStage(tmp_path / "site", OCT_2021)
    driver = chromium_driver(tmp_path / "profile", width=width, height=1400)
    try:
        base = stage.base_url
        sign_in(stage, driver)
        enter_result(driver, base)
        tick(driver, "suggestions-0-divisions", "สำนักงานปลัด")  # the draft, as suggested, once its division is named
        submit(driver)
        assert driver.current_url == base + "/admin/plans/2565", text_of(driver)
        book = stage.office.plans
        assert not book.get(2565).milestones  # type: ignore[union-attr]

        # The calendar is listed although the new plan has none yet.
        driver.find_element(By.LINK_TEXT, "ปฏิทินการประเมิน").click()
        assert driver.current_url == base + "/admin/plans/2565/milestones"
        page = text_of(driver)
        assert "committee" not in page and "managers" not in page
        typed_date(driver, "rows-0-date", "31", "มีนาคม", "2565")
        fill(driver, "rows-0-title", "ส่งแบบ OIT")
        tick(driver, "rows-0-who", "ประธาน เลขานุการ และผู้ช่วยเลขานุการ")
        tick(driver, "rows-0-who", "กองคลัง")
        driver.save_screenshot(str(tmp_path / f"milestones-{width}.png"))
        submit(driver)
        assert "บันทึกปฏิทินการประเมิน" in text_of(driver)
        plan = book.get(2565)
        assert plan is not None
        assert [(m.date, m.title, m.who) for m in plan.milestones] == [
            (date(2022, 3, 31), "ส่งแบบ OIT", ("managers", "klang"))]

        # The committee's signing date, from the plan page's "กรุณากรอก" list: marked and focused, not guessed.
        driver.get(base + "/admin/plans/2565")
        driver.find_element(By.LINK_TEXT, "วันที่ลงนามคำสั่งแต่งตั้งคณะกรรมการ").click()
        assert driver.current_url.endswith("/admin/plans/2565/committee#fill-signed")
        assert driver.switch_to.active_element.get_attribute("name") == "signed-day"
        assert driver.find_element(By.NAME, "signed-day").get_attribute("value") == ""
        assert "fill-signed" in [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, ".to-fill")]
        # A ค.ศ. year by mistake is refused at that field and nothing is saved...
        version = book.version(2565)
        typed_date(driver, "signed", "15", "ตุลาคม", "2021")
        submit(driver)
        error = driver.find_element(By.CSS_SELECTOR, "#fill-signed .error").text
        assert "กรุณากรอกปี พ.ศ. เช่น 2564" in error
        assert book.version(2565) == version
        driver.save_screenshot(str(tmp_path / f"committee-error-{width}.png"))
        # ...the พ.ศ. year is saved as its ค.ศ. date, and the next item to fill is offered.
        typed_date(driver, "signed", "15", "ตุลาคม", "2564")
        fill(driver, "order", "๑๒๓/๒๕๖๕")
        submit(driver)
        assert driver.current_url.endswith("/admin/plans/2565/memo#fill-reference")
        assert "ต่อไปกรุณากรอก: เลขที่หนังสือของบันทึกข้อความ" in text_of(driver)
        plan = book.get(2565)
        assert plan is not None and plan.committee.signed == date(2021, 10, 15)
        assert {"committee.signed", "committee.order"}.isdisjoint(plan.to_fill)

        # In the file: ค.ศ. dates and the recipients' codes, as before.
        saved = tomllib.loads(book.text(2565))
        assert saved["committee"]["signed"] == date(2021, 10, 15)
        assert saved["milestones"][0]["date"] == date(2022, 3, 31)
        assert saved["milestones"][0]["who"] == ["managers", "klang"]
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    finally:
        driver.quit()
        stage.close()
