"""The privacy pages at 360×640 in Chromium: the data page, the settlement before deleting,
the refusal without the tick, then the deletion; no CSP violation, nothing wider than the
screen, the first page under 100 KB."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from patron.ledger import services as ledger
from patron.members.models import Member, MemberStatus
from patron.portal.models import ErasureRequest
from tests.portal.conftest import log_in_as
from tests.portal.privacy_support import apply, give_history

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def phone_page(browser, live_server, system, stores, portal_member):
    apply(system)
    give_history(system, portal_member, tea="龙井", note="林小雨 生日快乐")
    session = log_in_as(Client(), portal_member).session
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 640})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    yield page
    context.close()
    assert blocked == []


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_see_and_delete_at_360(phone_page, live_server, portal_member, screenshot_dir, system):
    page = phone_page
    response = page.goto(f"{live_server.url}/m/privacy")
    assert len(response.body()) < 100_000
    assert page.locator("#export-json").is_visible() and page.locator("text=林小雨").first
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "privacy-360.png"), full_page=True)

    page.click("#delete-link")
    assert page.locator('[data-figure="points"]').inner_text().startswith("530")
    assert fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / "privacy-delete-360.png"), full_page=True)
    page.click("#delete-form button[type=submit]")
    assert page.locator(".m-error").is_visible()  # not ticked: refused
    assert Member.objects.get(pk=portal_member.pk).status == MemberStatus.ACTIVE

    page.check("#id_understood")
    page.click("#delete-form button[type=submit]")
    page.wait_for_selector("#erasure-done")
    page.screenshot(path=str(screenshot_dir / "privacy-deleted-360.png"), full_page=True)
    assert Member.objects.get(pk=portal_member.pk).status == MemberStatus.CLOSED
    assert ErasureRequest.objects.get().status == ErasureRequest.Status.COMPLETED
    page.goto(f"{live_server.url}/m/privacy")
    assert "/m/login" in page.url


def test_a_pending_request_at_360(phone_page, live_server, portal_member, system):
    ledger.top_up(system, portal_member, 10000, key="sv")
    page = phone_page
    page.goto(f"{live_server.url}/m/privacy/delete")
    assert "¥100.00" in page.locator('[data-figure="refundable"]').inner_text()
    page.check("#id_understood")
    page.click("#delete-form button[type=submit]")
    page.wait_for_selector("#erasure-pending")
    assert fits_the_screen(page)
    page.click("#erasure-pending button[type=submit]")  # withdraw
    page.wait_for_selector("#delete-link")
    assert ErasureRequest.objects.get().status == ErasureRequest.Status.WITHDRAWN
