"""The alliance pages in a real browser at 1366×768: the partner accepts with a confirmation,
a cashier previews and confirms an exchange, both HQs read the statement; nothing the
Content-Security-Policy blocks, no sideways scrolling."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from patron.network import alliance_services
from patron.network.models import Alliance
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.services import create_staff
from tests.network.alliance_support import member_with_points, points_of, tea

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]
__all__ = ["tea"]  # fixtures


def console(browser, live_server, merchant, username: str, role=Role.HQ_ADMIN, store=None):
    staff = create_staff(Actor.system(merchant), username, "password123", role, store)
    client = Client()
    client.force_login(staff.user)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation questions
    return context, page, blocked


def test_alliance_pages_in_the_browser(browser, live_server, merchant, stores, tea, screenshot_dir):
    wang = member_with_points(merchant, "13800000031", 2000, name="王小明")
    alliance_services.propose(Actor.system(merchant), "tea", 100, 80)
    tea_context, page, blocked = console(browser, live_server, tea, "tea-hq")
    page.goto(f"{live_server.url}/network/alliances/")
    expect(page.locator("#alliance-list")).to_contain_text("Acme 连锁")
    page.screenshot(path=str(screenshot_dir / "ally-list-invited.png"), full_page=True)
    page.click('[data-action="accept"]')
    expect(page.locator("#alliance-list [data-status]")).to_have_attribute("data-status", "active")
    page.screenshot(path=str(screenshot_dir / "ally-list-active.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    alliance = Alliance.objects.get()
    acme_context, counter, acme_blocked = console(
        browser, live_server, merchant, "acme-cashier", Role.CASHIER, stores["S1"]
    )
    counter.goto(f"{live_server.url}/network/alliances/{alliance.pk}/exchange/")
    counter.fill("#id_member", wang.mobile)
    counter.fill("#id_points", "500")
    counter.click('[data-action="preview"]')
    expect(counter.locator('[data-figure="in"]')).to_contain_text("400")
    counter.screenshot(path=str(screenshot_dir / "ally-exchange-preview.png"), full_page=True)
    counter.click('[data-action="confirm"]')
    expect(counter.locator(".alert, .messages, [role=status]").first).to_contain_text("400")
    counter.screenshot(path=str(screenshot_dir / "ally-exchange-done.png"), full_page=True)
    assert points_of(wang) == 1500

    page.goto(f"{live_server.url}/network/alliances/{alliance.pk}/statement/")
    expect(page.locator("#statement-summary")).to_contain_text("¥4.00")
    page.screenshot(path=str(screenshot_dir / "ally-statement-tea.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    acme_hq_context, acme_hq, hq_blocked = console(browser, live_server, merchant, "acme-hq")
    acme_hq.goto(f"{live_server.url}/network/alliances/{alliance.pk}/statement/")
    expect(acme_hq.locator("#statement-summary")).to_contain_text("¥4.00")
    acme_hq.goto(f"{live_server.url}/network/alliances/")
    acme_hq.click('[data-action="pause"]')
    expect(acme_hq.locator("#alliance-list [data-status]")).to_have_attribute(
        "data-status", "paused"
    )
    acme_hq.screenshot(path=str(screenshot_dir / "ally-list-paused-acme.png"), full_page=True)
    for context in (tea_context, acme_context, acme_hq_context):
        context.close()
    assert blocked == acme_blocked == hq_blocked == []
