"""The card page on a phone (360×640) in a real browser: the card face, the codes rotating when
the page is shown again, nothing the Content-Security-Policy blocks, no sideways scrolling."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from playwright.sync_api import expect

from patron.cards.services import IssueRequest, issue_card
from patron.ledger import services as ledger
from patron.portal.session import MERCHANT_KEY, SESSION_KEY
from patron.program.services import apply_program
from patron.promotions.services import issue_coupon

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PROGRAM = {
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "gold", "name": "金卡会员", "rank": 1, "upgrade_when": {"spend_12m": 100000}},
    ],
    "card_products": [{"code": "std", "name": "西湖会员卡", "face_colour": "#8A1C2B"}],
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        }
    ],
}


def phone_page(browser, live_server, member):
    """A 360×640 phone whose browser holds the member's session cookie."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = {str(member.merchant_id): member.pk}
    session[MERCHANT_KEY] = member.merchant_id
    session.create()
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 360, "height": 640}, is_mobile=True
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
    return context


def test_the_card_page_on_a_phone(browser, live_server, system, portal_member, screenshot_dir):
    apply_program(system, PROGRAM)
    issue_card(system, portal_member, IssueRequest(product="std"), key="issue")
    ledger.top_up(system, portal_member, 30000, key="fund")
    issue_coupon(system, portal_member, "cash20", key="c1")
    context = phone_page(browser, live_server, portal_member)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/m/")
    expect(page.locator("#card-face")).to_contain_text("西湖会员卡")
    colour = page.eval_on_selector("#card-face", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(138, 28, 43)"
    expect(page.locator("svg.qr")).to_be_visible()
    expect(page.locator("svg.barcode")).to_be_visible()
    expect(page.locator("#codes-countdown")).to_contain_text("秒后刷新")
    expect(page.locator("#sv-principal")).to_have_text("¥300.00")
    expect(page.locator("#coupons")).to_contain_text("满100减20")
    assert page.eval_on_selector("svg.qr", "e => e.getBoundingClientRect().width") >= 180
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(screenshot_dir / "portal-card-360.png"), full_page=True)

    first = page.get_attribute("#barcode-digits", "data-digits")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("#barcode-digits")).not_to_have_attribute("data-digits", first)

    page.click("#report-lost")
    page.click("button[type=submit]:has-text('确认冻结')")
    expect(page.locator("#card-lost")).to_be_visible()
    assert page.locator("svg.qr").count() == 0
    page.screenshot(path=str(screenshot_dir / "portal-card-lost-360.png"), full_page=True)
    context.close()
    assert blocked == [], blocked
