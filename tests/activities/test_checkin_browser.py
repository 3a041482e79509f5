"""The check-in page in a phone's browser at 360×640: check in, see the day marked, no
Content-Security-Policy complaint (the `page` fixture fails on one)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from patron.members.services import register_member
from patron.program.services import apply_program
from tests.portal.conftest import log_in_as

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_check_in_on_a_phone(live_server, page, system, stores, screenshot_dir):
    apply_program(
        system,
        {"checkin": {"points": 5, "streaks": [{"days": 7, "points": 20, "makeup_cards": 1}]}},
    )
    member = register_member(system, {"mobile": "13512345678", "name": "林小雨", "store": "S1"})
    session = log_in_as(Client(), member).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(f"{live_server.url}/m/checkin")
    expect(page.locator("#streak")).to_have_text("0")
    expect(page.locator("#referral-code")).to_have_text(member.referral_code)
    page.screenshot(path=str(screenshot_dir / "checkin-before.png"), full_page=True)
    page.click("#checkin-button")
    expect(page.locator("#checked-in")).to_be_visible()
    expect(page.locator("#streak")).to_have_text("1")
    expect(page.locator(".c-days li.c-today")).to_have_class("c-done c-today")
    page.screenshot(path=str(screenshot_dir / "checkin-after.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing wider than the phone
