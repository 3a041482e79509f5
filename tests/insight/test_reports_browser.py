"""The 报表 dashboard in a real browser at 1366×768 (zh-CN): change the range and the store,
see the figures and the charts drawn by the vendored ECharts under the Content-Security-Policy
(the `page` fixture fails on any CSP report), then the diagnosis scatter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.insight.reports_history import build

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_hq_changes_the_range_and_the_store(live_server, page, hq, system, stores, screenshot_dir):
    history = build(system, stores)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/reports/?preset=7d")
    expect(page.locator('[data-figure="sales"]')).to_have_text("¥0.00")  # the history is older
    expect(page.locator("#no-data")).to_contain_text("暂无数据")

    page.fill("input[name=from]", history.d1.isoformat())
    page.fill("input[name=to]", history.d3.isoformat())
    page.click("#report-filter button[type=submit]")
    expect(page.locator('[data-figure="sales"]')).to_have_text("¥475.00")
    expect(page.locator('[data-figure="member_share"]')).to_have_text("86.3%")
    expect(page.locator('[data-figure="repeat_rate"]')).to_have_text("66.7%")
    for chart in ("#chart-sales", "#chart-members", "#chart-lifecycle"):
        expect(page.locator(chart)).to_have_attribute("data-chart-drawn", "1")
        assert page.locator(f"{chart} .chart-canvas canvas").count() == 1
    expect(page.locator("#no-data")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "patron-reports-hq.png"), full_page=True)

    page.select_option("select[name=store]", "S2")
    page.click("#report-filter button[type=submit]")
    expect(page.locator('[data-figure="sales"]')).to_have_text("¥195.00")
    expect(page.locator("#report-scope")).to_contain_text("滨江店")

    page.click(".report-tabs a:nth-child(2)")
    expect(page.locator("#chart-diagnosis")).to_have_attribute("data-chart-drawn", "1")
    expect(page.locator('#diagnosis-table tr[data-store="S2"]')).to_contain_text("保持")
    page.select_option("select[name=store]", "")
    page.click("#report-filter button[type=submit]")
    expect(page.locator('#diagnosis-table tr[data-store="S1"]')).to_contain_text(
        "检查产品质量与服务"
    )
    page.screenshot(path=str(screenshot_dir / "patron-reports-diagnosis.png"), full_page=True)
