"""The segment builder in a real browser at 1366×900 (zh-CN): two conditions added, the live
count follows each, the segment is saved and listed with its count; no script is blocked by
the Content-Security-Policy (the `page` fixture fails on any report)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from patron.insight.models import Segment
from tests.insight import segments_support as support

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_build_two_conditions_see_the_count_change_and_save(
    live_server, page, merchant, stores, hq, screenshot_dir
):
    support.build(merchant, stores)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/segments/new/")
    count = page.locator("#segment-count")
    expect(count).to_have_attribute("data-count", "4")  # no condition: everyone

    page.click(".seg-add")
    first = page.locator(".seg-row").nth(0)
    first.locator(".seg-field").select_option("gender")
    page.locator(".seg-row").nth(0).locator(".seg-value").select_option("F")
    expect(count).to_have_attribute("data-count", "2")  # A and D

    page.click(".seg-add")
    second = page.locator(".seg-row").nth(1)
    second.locator(".seg-field").select_option("spend_12m")
    second = page.locator(".seg-row").nth(1)
    second.locator(".seg-op").select_option("gte")
    page.locator(".seg-row").nth(1).locator(".seg-value").fill("1000")  # yuan: 100000 fen
    expect(count).to_have_attribute("data-count", "1")  # D spent 1,200 yuan
    expect(page.locator("#segment-sample tbody tr")).to_have_count(1)
    expect(page.locator("#segment-sample")).to_contain_text("138****8004")
    page.screenshot(path=str(screenshot_dir / "patron-segment-builder.png"), full_page=True)

    page.fill("#segment-name", "高消费女会员")
    page.click("#segment-save")
    expect(page.locator('[data-segment="高消费女会员"] [data-count]')).to_have_text("1")
    segment = Segment.objects.get()
    assert segment.filter == {
        "all": [
            {"field": "gender", "op": "eq", "value": "F"},
            {"field": "spend_12m", "op": "gte", "value": 100000},
        ]
    }
    page.screenshot(path=str(screenshot_dir / "patron-segment-list.png"), full_page=True)
