"""History, a receipt and the messages at 360×640 in a real browser (zh-CN): nothing wider
than the phone, links and buttons at least 44 px tall, no script or style blocked by the
Content-Security-Policy (the `page` fixture fails on any report), opting out without JS."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.campaigns.channels_support import queued
from tests.portal.conftest import log_in_as
from tests.portal.test_history_pages import busy_member, program  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

WIDTH = 360


def logged_in(page, live_server, member) -> None:
    client = log_in_as(Client(), member)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.set_viewport_size({"width": WIDTH, "height": 640})


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    small = page.evaluate(
        """[...document.querySelectorAll('main a, main button')]
             .filter(e => e.getBoundingClientRect().height < 44)
             .map(e => e.textContent.trim())"""
    )
    assert small == []


def test_history_receipt_and_messages_on_a_phone(
    live_server,
    page,
    busy_member,  # noqa: F811 (the fixture imported above)
    screenshot_dir,
):
    queued(busy_member, "inbox", "本周末会员日八折", status="sent", subject="会员日")
    logged_in(page, live_server, busy_member)

    page.goto(f"{live_server.url}/m/history")
    expect(page.locator("#history")).to_contain_text("消费退款")
    fits_the_phone(page)
    page.screenshot(path=str(screenshot_dir / "patron-m-history.png"), full_page=True)

    page.click("text=查看小票 >> nth=0")
    expect(page.locator("#receipt-lines")).to_contain_text("DISH-FISH")
    fits_the_phone(page)
    page.screenshot(path=str(screenshot_dir / "patron-m-receipt.png"), full_page=True)

    page.goto(f"{live_server.url}/m/messages")
    expect(page.locator(".m-tabs .m-badge")).to_have_text("1")
    fits_the_phone(page)
    page.screenshot(path=str(screenshot_dir / "patron-m-messages.png"), full_page=True)
    page.click("text=会员日")
    expect(page.locator("#message")).to_contain_text("本周末会员日八折")
    expect(page.locator(".m-tabs .m-badge")).to_have_count(0)

    page.goto(f"{live_server.url}/m/messages")
    page.click("#channel-sms button")
    expect(page.locator(".m-alert-success")).to_contain_text("您将不再通过短信收到优惠信息")
    expect(page.locator("#channel-sms")).to_contain_text("未接收")
