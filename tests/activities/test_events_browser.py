"""Member-only events in a real browser: a member signs up on a 360×640 phone and sees the
door QR; staff check the pass in at the door page. Nothing blocked by the CSP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from patron.activities import events_service as service
from patron.activities.models import EventSignup
from patron.members.services import register_member
from tests.portal.test_card_browser import phone_page

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_sign_up_on_a_phone_then_check_in_at_the_door(
    browser, live_server, system, hq, screenshot_dir
):
    service.create_event(
        system,
        "TEA",
        service.EventInput(
            name="龙井品茶会",
            starts_at=timezone.now() + dt.timedelta(days=2),
            place="西湖店二楼茶室",
            capacity=10,
            description="会员专享，名额有限。",
        ),
    )
    member = register_member(system, {"mobile": "13512345678", "name": "林小雨"})
    context = phone_page(browser, live_server, member)
    blocked: list[str] = []
    phone = context.new_page()
    phone.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    phone.goto(f"{live_server.url}/m/events")
    phone.get_by_text("龙井品茶会").click()
    phone.locator("#sign-up").click()
    expect(phone.locator("#event-qr svg.qr")).to_be_visible()
    expect(phone.locator("#signup-status")).to_have_text("已确认")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=str(screenshot_dir / "events-member-phone.png"), full_page=True)
    token = phone.locator("#event-token").inner_text().strip()
    assert blocked == [], blocked
    context.close()

    staff = Client()
    staff.force_login(hq.staff.user)
    console = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    console.add_cookies(
        [
            {"name": name, "value": morsel.value, "url": live_server.url}
            for name, morsel in staff.cookies.items()
        ]
    )
    door = console.new_page()
    door.goto(f"{live_server.url}/activities/events/TEA/door/")
    door.locator("#id_token").fill(token)
    door.get_by_role("button", name="签到").click()
    expect(door.locator("#checked-in")).to_contain_text("林小雨")
    door.screenshot(path=str(screenshot_dir / "events-door.png"), full_page=True)
    door.locator("#id_token").fill(token)
    door.get_by_role("button", name="签到").click()
    expect(door.locator(".alert-error, .field-error, .errorlist").first).to_be_visible()
    console.close()
    assert EventSignup.objects.get().checked_in_at is not None
