"""The what-if page in a real browser at 1366×768 (zh-CN): a draft edited in the textarea,
replayed, its figures and both charts drawn by the vendored ECharts under the
Content-Security-Policy (the `page` fixture fails on any CSP report), the chart's figure
picker switched to points, then the draft applied through the confirm step."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from patron.program.models import ProgramRevision
from patron.promotions.models import Tier
from patron.promotions.services import set_member_tier
from tests.whatif.support import member, sell, setup, today

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_hq_replays_a_draft_sees_the_charts_and_applies_it(
    live_server, page, hq, system, stores, screenshot_dir
):
    setup(system)
    gold = member(system, "13800138001")
    set_member_tier(system, gold, "gold", reason="VIP")
    sell(system, gold, [("ROOM", "rooms", 100000)], "s1")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/whatif/")
    text = page.input_value("textarea[name=program]")
    assert "discount: {dishes: 90, rooms: 80}" in text
    page.fill(
        "textarea[name=program]",
        text.replace("discount: {dishes: 90, rooms: 80}", "discount: {dishes: 90, rooms: 88}"),
    )
    page.fill("input[name=from]", (today() - dt.timedelta(days=7)).isoformat())
    page.fill("input[name=to]", today().isoformat())
    page.click("#whatif-run")

    expect(page.locator('tr[data-figure="revenue"] [data-draft]')).to_have_text("¥880.00")
    expect(page.locator('tr[data-figure="revenue"] .diff')).to_contain_text("+¥80.00")
    for chart in ("#whatif-months", "#whatif-stores"):
        expect(page.locator(chart)).to_have_attribute("data-chart-drawn", "1")
        assert page.locator(f"{chart} .chart-canvas canvas").count() == 1
    page.select_option("#whatif-months select[data-chart-view]", "3")
    expect(page.locator("#whatif-months")).to_have_attribute("data-chart-view", "points_earned")
    page.screenshot(path=str(screenshot_dir / "patron-whatif-result.png"), full_page=True)

    page.click("#whatif-apply-button")
    expect(page.locator("#whatif-confirm")).to_contain_text("金卡会员")
    page.click("#whatif-confirm-button")
    expect(page.locator(".alert-success")).to_contain_text("草案已应用")
    assert ProgramRevision.objects.filter(channel="console").count() == 1
    assert Tier.objects.get(code="gold").discount == {"rooms": 88, "dishes": 90}
