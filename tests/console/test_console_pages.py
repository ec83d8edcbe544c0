"""Signing out, unknown console addresses, an expired session on submit, and what every page links to."""

from __future__ import annotations

from typing import Any

from tests.console_harness import Browser


def test_logout_leads_to_a_signed_out_page_without_name_or_menu(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    out = browser.post("/admin/logout", page="/admin")
    assert out.status_code == 303 and out.headers["Location"].endswith("/admin/signed-out")
    page = browser.html("/admin/signed-out")
    assert "ออกจากระบบแล้ว" in page and "/จัดการ" in page
    assert "เลขาทดสอบ" not in page and 'nav class="menu"' not in page and "/admin/logout" not in page
    assert browser.get("/admin").status_code == 303


def test_an_unknown_console_address_is_a_thai_page_with_a_viewport(bot: Any) -> None:
    anonymous = Browser(bot)
    for path in ("/admin/no-such-page", "/admin/plans/2564/x/y"):
        response = anonymous.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 404 and "ไม่พบหน้าที่ต้องการ" in html and 'name="viewport"' in html, path
        assert "Not Found" not in html and 'nav class="menu"' not in html  # no data without a session
    browser = Browser(bot)
    browser.sign_in()
    signed = browser.get("/admin/no-such-page").get_data(as_text=True)
    assert "ไม่พบหน้าที่ต้องการ" in signed and 'nav class="menu"' in signed  # the way back is the menu
    wrong_method = browser.get("/admin/logout")
    assert wrong_method.status_code == 405 and "ไม่ได้ทำอะไร" in wrong_method.get_data(as_text=True)
    # Public addresses keep their own answers.
    assert browser.get("/no-such-page").status_code == 404
    assert "ไม่พบหน้าที่ต้องการ" not in browser.get("/no-such-page").get_data(as_text=True)
