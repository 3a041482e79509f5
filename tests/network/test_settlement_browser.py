"""Settlement between stores in a real browser at 1366×768 (zh-CN): the statement with its
chart, a pair's sales and top-ups, closing the month, and a late upload in the next month."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patron.network import settlement_selectors as selectors
from patron.promotions.models import CouponTemplate
from patron.promotions.services import issue_coupon
from tests.network.settlement_support import deposit, last_month_day, make_chain, member, spend

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_hq_reads_closes_and_sees_the_late_upload(
    live_server, page, hq, system, stores, merchant, screenshot_dir
):
    chain = make_chain(system, stores)
    CouponTemplate.objects.filter(code="s1cash").update(owner_store=chain["S1"])
    day = last_month_day(merchant)
    month = selectors.month_of(day, selectors.merchant_zone(merchant.timezone))
    ann, bo = member(system, "13600136001"), member(system, "13600136002")
    deposit(system, ann, 100000, chain["S1"], at=day)
    deposit(system, bo, 50000, chain["S2"], at=day)
    spend(system, ann, "S2", [32000], at=day)
    spend(system, bo, "S3", [12000], at=day)
    coupon = issue_coupon(system, bo, "s1cash")
    spend(system, bo, "S3", [5000], codes=[coupon.code], stored_value=4000)  # this month

    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/network/settlements/")
    expect(page.locator("#settlement-status")).to_contain_text("未关账")
    expect(page.locator('#settlement-pairs tr[data-pair="S1-S2"]')).to_contain_text("¥320.00")
    expect(page.locator('#settlement-pairs tr[data-pair="S2-S3"]')).to_contain_text("¥120.00")
    expect(page.locator("#settlement-chart")).to_have_attribute("data-chart-drawn", "1")
    page.screenshot(path=str(screenshot_dir / "settlement-open.png"), full_page=True)

    page.click('#settlement-pairs tr[data-pair="S2-S3"] a')
    expect(page.locator("#settlement-flows")).to_contain_text("136****6002")
    page.screenshot(path=str(screenshot_dir / "settlement-pair.png"), full_page=True)

    page.goto(f"{live_server.url}/network/settlements/?month={month}")
    page.click("#settlement-close")
    page.screenshot(path=str(screenshot_dir / "settlement-close-confirm.png"), full_page=True)
    page.click("#settlement-close-form button[type=submit]")
    expect(page.locator("#settlement-status")).to_contain_text("已关账")
    expect(page.locator("#settlement-close")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "settlement-closed.png"), full_page=True)

    spend(system, ann, "S3", [8800], at=day)  # a till uploads last month's sale late
    this = selectors.month_of(timezone.now(), selectors.merchant_zone(merchant.timezone))
    page.goto(f"{live_server.url}/network/settlements/?month={this}")
    expect(page.locator("#settlement-late-note")).to_contain_text("上传晚于结算关账，计入本月")
    expect(page.locator("#settlement-close")).to_have_count(0)  # this month has not ended
    # The late 88 and S1's coupon (10) redeemed at S3 this month; Bo's 40 of S2's cash at S3.
    expect(page.locator('#settlement-pairs tr[data-pair="S1-S3"]')).to_contain_text("¥98.00")
    expect(page.locator('#settlement-pairs tr[data-pair="S2-S3"]')).to_contain_text("¥40.00")
    expect(page.locator("#settlement-activities")).to_contain_text("西湖店十元券")
    page.screenshot(path=str(screenshot_dir / "settlement-late.png"), full_page=True)
    page.goto(f"{live_server.url}/network/settlements/?month={month}")
    expect(page.locator('#settlement-pairs tr[data-pair="S1-S3"]')).to_have_count(0)
