"""The lottery on a phone (360×640) in a real browser: published odds, a draw and its result,
nothing the Content-Security-Policy blocks, no sideways scrolling; the console's verify page."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from patron.ledger import services as ledger
from patron.members.services import register_member
from patron.portal.session import MERCHANT_KEY, SESSION_KEY
from tests.activities.lottery_support import set_up, wheel

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]
PRIZES = [
    {"code": "p50", "name": "500积分", "kind": "points", "points": 500, "value": 500, "odds": 99},
    {"code": "none", "kind": "none", "odds": 1},
]


def context_with(browser, live_server, cookie: str, **options):
    context = browser.new_context(locale="zh-CN", **options)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return context


def member_cookie(member) -> str:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = {str(member.merchant_id): member.pk}
    session[MERCHANT_KEY] = member.merchant_id
    session.create()
    return session.session_key


def test_a_draw_on_a_phone_and_its_verification(
    browser, live_server, system, stores, hq, screenshot_dir
):
    set_up(system, wheel(prizes=PRIZES))
    member = register_member(system, {"mobile": "13512345678", "name": "林小雨"})
    ledger.earn_points(system, member, 1000, key="gift", pending_days=0)
    blocked: list[str] = []

    def watch(page):
        page.on(
            "console",
            lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
        )
        return page

    phone = context_with(
        browser,
        live_server,
        member_cookie(member),
        viewport={"width": 360, "height": 640},
        is_mobile=True,
    )
    page = watch(phone.new_page())
    page.goto(f"{live_server.url}/m/lottery/wheel")
    expect(page.locator("#odds")).to_contain_text("99%")
    expect(page.locator("#draws-left")).to_have_text("3")
    page.screenshot(path=str(screenshot_dir / "portal-lottery-360.png"), full_page=True)
    page.click("#draw button[type=submit]")
    expect(page.locator("#draw-result")).to_be_visible()
    expect(page.locator("#draws-left")).to_have_text("2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(screenshot_dir / "portal-lottery-drawn-360.png"), full_page=True)
    phone.close()

    staff = Client()
    staff.force_login(hq.staff.user)
    console = context_with(
        browser,
        live_server,
        staff.cookies[settings.SESSION_COOKIE_NAME].value,
        viewport={"width": 1366, "height": 900},
    )
    page = watch(console.new_page())
    page.goto(f"{live_server.url}/activities/lotteries/wheel/")
    expect(page.locator("#draws")).to_contain_text("13512345678")
    page.click("#draws a.btn")
    expect(page.locator("#verify-result")).to_have_attribute("data-matches", "yes")
    page.screenshot(path=str(screenshot_dir / "console-lottery-verify.png"), full_page=True)
    page.goto(f"{live_server.url}/activities/lotteries/")
    page.screenshot(path=str(screenshot_dir / "console-lotteries.png"), full_page=True)
    console.close()
    assert blocked == [], blocked
