"""The member list and page in a browser at 1366×768: sort by a header, search in pinyin, open
a member, follow a purchase to its receipt."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from patron.ledger import services as ledger
from patron.members.services import register_member
from patron.program.services import apply_program
from tests.e2e.test_console_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PROGRAM = {
    "categories": ["rooms", "drinks"],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "never"},
        "pending_days": 0,
    },
}


def test_sort_search_and_follow_a_purchase(live_server, page, hq, system, stores, screenshot_dir):
    from patron.sales.services import LineInput, SaleRequest, commit_sale

    apply_program(system, PROGRAM)
    wang = register_member(hq, {"mobile": "13800138001", "name": "王小明", "store": "S1"})
    zhang = register_member(hq, {"mobile": "13800138002", "name": "张三", "store": "S1"})
    ledger.top_up(hq, zhang, 50000, key="zhang-topup")
    line = LineInput(
        sku="ROOM-STD", name="湖景标准间", category="rooms", quantity=1, unit_price=32000
    )
    sale = commit_sale(hq, SaleRequest(lines=[line], member=wang.pk, store="S1"))
    page.set_viewport_size({"width": 1366, "height": 768})
    base = live_server.url
    log_in(page, base)

    # Sort by stored value (biggest first), then turn it round.
    page.goto(f"{base}/members/")
    page.click('th[data-column="stored_value"] a')
    expect(page.locator("#member-table tbody tr").first).to_contain_text("张三")
    expect(page.locator('th[data-column="stored_value"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    page.screenshot(path=str(screenshot_dir / "member-list.png"))
    page.click('th[data-column="stored_value"] a')
    expect(page.locator("#member-table tbody tr").first).to_contain_text("王小明")

    # Pinyin initials find 王小明 (live search).
    page.fill("#id_q", "wxm")
    expect(page.locator("#member-table tbody tr")).to_have_count(1)
    expect(page.locator("#member-table tbody tr")).to_contain_text("王小明")

    # His page: the purchase, the figures, the balances; the receipt one click away.
    page.click("#member-table tbody tr a >> nth=1")
    expect(page.locator("#member-sales")).to_contain_text("湖景标准间 ×1")
    expect(page.locator('#member-figures [data-figure="visits"]')).to_have_text("1")
    expect(page.locator('#member-value [data-figure="points"]')).to_have_text("320")
    page.screenshot(path=str(screenshot_dir / "member-page.png"))
    page.click(f'#member-sales a[href="/cashier/sales/{sale.pk}/"]')
    expect(page).to_have_url(f"{base}/cashier/sales/{sale.pk}/")
