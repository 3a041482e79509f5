"""Commissions in a real browser at 1366×768: HQ's monthly statement and leaderboard, and the
till's pill (本月我的提成) opening the store's top 5 over the page without pushing the basket or
the keys out of view."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from patron.ledger import services as ledger
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.e2e.test_cashier_browser import log_in_as_cashier
from tests.e2e.test_promotion_editor_browser import log_in
from tests.network.commission_support import PROGRAM

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def month(system, stores, cashier, hq):
    """This month: cashier1 recruits 6 and takes 1,500 yuan at S1; cashier3 recruits 3 there."""
    apply_program(system, PROGRAM)
    other = staff_actor(system, "cashier3", Role.CASHIER, stores["S1"])
    for n in range(6):
        member = register_member(cashier, {"mobile": f"1380013{8000 + n}", "name": f"会员{n}"})
    ledger.top_up(cashier, member, 150000, key="t1", context=ledger.Context(store=stores["S1"]))
    for n in range(3):
        register_member(other, {"mobile": f"1380013{8100 + n}", "name": "客人"})
    return Actor(system.merchant)


def test_statement_leaderboard_and_till(live_server, page, month, screenshot_dir):
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, base, "hq")
    page.goto(f"{base}/network/commissions/")
    row = page.locator('#commission-statement tr[data-staff="cashier1"]')
    expect(row).to_contain_text("西湖店")
    expect(row.locator("td[data-fen]")).to_have_attribute("data-fen", str(8000 + 2400))
    page.screenshot(path=str(screenshot_dir / "commission-statement.png"), full_page=True)
    page.click("#commission-leaderboard-link")
    expect(page.locator("#commission-leaderboard tbody tr").first).to_have_attribute(
        "data-staff", "cashier1"
    )
    page.screenshot(path=str(screenshot_dir / "commission-leaderboard.png"), full_page=True)
    # The top-up and new member forms credit a staff: the signed-in user unless HQ picks another.
    for form in ("/ledger/topup/", "/members/new/"):
        page.goto(f"{base}{form}")
        expect(page.locator("select[name=staff]")).to_have_value("hq")
        page.screenshot(path=str(screenshot_dir / f"commission-staff-{form.split('/')[1]}.png"))
    page.context.clear_cookies()

    log_in_as_cashier(page, base)
    pill = page.locator("#till-commission summary")
    expect(pill).to_contain_text("本月我的提成")
    expect(page.locator('[data-figure="my-commission"]')).to_have_attribute("data-fen", "10400")
    scan_box = page.locator("#scan-input").bounding_box()
    pill.click()
    top = page.locator("#till-commission-top")
    expect(top).to_be_visible()
    expect(top.locator("tbody tr")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "commission-till.png"))
    # Open or shut, the pill moves nothing: the scan box stays where it was, on screen.
    assert page.locator("#scan-input").bounding_box() == scan_box
    expect(page.locator("#scan-input")).to_be_in_viewport()
    expect(page.locator("#confirm-button")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollHeight") <= 768
    pill.click()
    page.screenshot(path=str(screenshot_dir / "commission-till-closed.png"))
