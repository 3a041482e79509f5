"""A mixed WeChat + cash sale at the till in a real browser at 1366×768, with the change shown
before confirming; then the cashier closes the shift and the slip renders 80 mm wide."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patron.sales.models import Sale
from patron.shifts.models import Shift
from tests.e2e.test_cashier_browser import describe_new_sku, log_in_as_cashier, scan
from tests.sales.conftest import gold, program  # noqa: F401  (the checkout fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "gold")]

MM = 96 / 25.4  # CSS pixels per millimetre


def test_a_mixed_wechat_and_cash_sale_then_the_shift_slip(
    live_server, page, cashier, screenshot_dir
):
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in_as_cashier(page, base)
    page.goto(f"{base}/cashier/")
    # 49.34 + 49.34 + 49.33 = 148.01
    for sku, price in (("MUG", "49.34"), ("BAG", "49.34"), ("PEN", "49.33")):
        scan(page, sku)
        describe_new_sku(page, "retail", price)
    expect(page.locator('[data-figure="cash-due"]')).to_have_attribute("data-fen", "14801")

    # One tap: all by WeChat; then cash joins, WeChat takes 100.00, cash the rest.
    page.click('#tender-panel button[data-method="wechat"]')
    expect(page.locator('[data-figure="tender-wechat"]')).to_have_attribute("data-fen", "14801")
    page.click('#tender-panel button[data-split="cash"]')
    expect(page.locator("#tender-amount-0")).to_be_focused()
    page.keyboard.type("100")
    page.keyboard.press("Enter")
    expect(page.locator('[data-figure="tender-cash"]')).to_have_attribute("data-fen", "4801")
    page.click("#cash-handed-input")
    page.keyboard.type("50")
    page.keyboard.press("Enter")
    change = page.locator('[data-figure="change"]')
    expect(change).to_have_attribute("data-fen", "199")
    expect(change).to_have_text("¥1.99")
    # The change, the cash due and the confirm button on one 1366×768 screen.
    for selector in ('[data-figure="change"]', '[data-figure="cash-due"]', "#confirm-button"):
        expect(page.locator(selector)).to_be_in_viewport()
    page.screenshot(path=str(screenshot_dir / "tenders-till-mixed.png"))

    page.keyboard.press("F8")
    expect(page).to_have_url(re.compile(r"/cashier/sales/[0-9]+/$"))
    sale = Sale.objects.get()
    assert [(t.method, t.amount, t.change) for t in sale.tenders.all()] == [
        ("wechat", 10000, 0),
        ("cash", 4801, 199),
    ]
    tenders = page.locator("#receipt-tenders")
    expect(tenders).to_contain_text("微信支付")
    expect(tenders).to_contain_text("找零")
    page.screenshot(path=str(screenshot_dir / "tenders-receipt.png"), full_page=True)

    # 交班: the till links to the close page; cash expected 48.01, counted 48.00.
    page.goto(f"{base}/cashier/")
    page.click("#till-close-shift")
    expect(page).to_have_url(f"{base}/shifts/close/")
    expect(
        page.locator('#shift-tenders tr[data-method="wechat"] [data-figure="expected"]')
    ).to_have_attribute("data-fen", "10000")
    page.fill("#id_cash_counted", "48")
    page.click("#check-cash")
    expect(page.locator('#cash-check [data-figure="cash-difference"]')).to_have_attribute(
        "data-fen", "-1"
    )
    page.screenshot(path=str(screenshot_dir / "tenders-shift-close.png"), full_page=True)
    page.click("#close-shift")
    expect(page).to_have_url(re.compile(r"/shifts/[0-9]+/$"))
    shift = Shift.objects.get()
    assert (shift.cash_expected, shift.cash_counted, shift.cash_difference) == (4801, 4800, -1)

    page.click("#slip-link")
    expect(page).to_have_url(f"{base}/shifts/{shift.pk}/slip/")
    slip = page.locator("#slip")
    expect(slip).to_contain_text("交班单")
    expect(slip).to_contain_text("微信支付")
    # The URL changes before slip.css has loaded: measure once the stylesheet applies.
    page.wait_for_load_state("load")
    expect(slip).to_have_css("width", re.compile(r"^30[12](\.\d+)?px$"))
    width = slip.bounding_box()["width"]
    assert abs(width - 80 * MM) < 1.5, width
    family = slip.evaluate("element => getComputedStyle(element).fontFamily")
    assert "mono" in family.lower()
    page.screenshot(path=str(screenshot_dir / "tenders-shift-slip.png"), full_page=True)
    page.emulate_media(media="print")
    expect(page.locator(".slip-actions")).to_be_hidden()
    page.screenshot(path=str(screenshot_dir / "tenders-shift-slip-print.png"), full_page=True)
