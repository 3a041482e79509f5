"""Joining and logging in on a phone (360×640, zh-CN) in a real browser: the pages fit the
screen, the targets are big enough, and the code from the SMS log completes each flow."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from patron.members.models import Member
from tests.portal.auth_support import sms_log_fixture  # noqa: F401 (the sms_log fixture)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PHONE = {"width": 360, "height": 640}
NEW = "13900139000"


def fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    for selector in ("button.m-btn", "input[type=tel]:visible, input[name=code]:visible"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["height"] >= 44, (selector, box)


def test_join_on_a_phone(live_server, page, stores, sms_log, screenshot_dir):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/m/join?store=S1&merchant=acme")
    expect(page.locator("h1")).to_have_text("注册会员")
    fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "portal-join-360.png"), full_page=True)
    page.fill("input[name=mobile]", NEW)
    page.fill("input[name=name]", "王五")
    page.fill("input[name=birthday]", "1990-05-01")
    page.check("input[name=consent_sms]")
    page.check("input[name=agree]")
    page.click("button.m-btn")
    expect(page.locator("input[name=code]")).to_be_visible()
    fits_the_screen(page)
    expect(page.locator("#resend")).to_be_disabled()  # code.js counts the 60 s down
    page.screenshot(path=str(screenshot_dir / "portal-join-code-360.png"), full_page=True)
    page.fill("input[name=code]", sms_log(NEW)[-1])
    page.click("button.m-btn")
    page.wait_for_url(f"{live_server.url}/m/**")
    member = Member.objects.get(mobile=NEW)
    assert member.consent_sms and not member.consent_wechat and member.store.code == "S1"


def test_log_in_on_a_phone(live_server, page, portal_member, sms_log, screenshot_dir):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/m/login?merchant=acme")
    expect(page.locator("h1")).to_have_text("手机号登录")
    fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "portal-login-360.png"), full_page=True)
    page.fill("input[name=mobile]", portal_member.mobile)
    page.click("button.m-btn")
    expect(page.locator("input[name=code]")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "portal-login-code-360.png"), full_page=True)
    page.fill(
        "input[name=code]", "000000" if sms_log(portal_member.mobile)[-1] != "000000" else "111111"
    )
    page.click("button.m-btn")
    expect(page.locator(".m-error")).to_contain_text("还可以再试 4 次")
    page.fill("input[name=code]", sms_log(portal_member.mobile)[-1])
    page.click("button.m-btn")
    page.wait_for_url(f"{live_server.url}/m/**")
    assert "/m/login" not in page.url
