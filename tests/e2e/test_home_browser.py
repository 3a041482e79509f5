"""The console home in a real browser at 1366×768: the figures and the 90-day chart drawn by the
vendored ECharts under the Content-Security-Policy (the `page` fixture fails on any CSP
report), and the store picker redraws it."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales import services as sales

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def sell(actor, store: str, price: int, member=None, key: str = "") -> None:
    line = sales.LineInput(sku="DISH", name="菜", category="dishes", quantity=1, unit_price=price)
    request = sales.SaleRequest(
        lines=[line],
        member=member.pk if member else None,
        store=store,
        occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
    )
    sales.commit_sale(actor, request, key=key)


def test_hq_sees_the_figures_and_the_chart_and_picks_a_store(
    live_server, page, hq, stores, screenshot_dir
):
    apply_program(hq, {"categories": ["dishes"]})
    member = register_member(hq, {"mobile": "13900139000", "name": "李雷", "store": "S1"})
    sell(hq, "S1", 8800, member, key="a")
    sell(hq, "S2", 1200, key="b")
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "hq")
    page.fill("#id_password", "password123")
    page.click("button[type=submit]")

    expect(page.locator('[data-figure="sales"]')).to_have_text("¥100.00")
    expect(page.locator('[data-figure="member_share"]')).to_have_text("88.0%")
    chart = page.locator("#sales-chart")
    expect(chart).to_have_attribute("data-chart-drawn", "1")
    assert chart.locator(".chart-canvas canvas").count() == 1  # ECharts drew, no CDN needed
    page.screenshot(path=str(screenshot_dir / "patron-home-hq.png"))

    chart.locator("select[data-chart-view]").select_option(label="滨江店")
    expect(chart).to_have_attribute("data-chart-view", "S2")

    page.click('.period-tabs a[data-period="month"]')
    expect(page.locator(".period-tabs a[aria-current=page]")).to_have_text("本月")
    expect(page.locator('#store-figures tr[data-store="S2"] [data-cell="sales"]')).to_have_text(
        "¥12.00"
    )
