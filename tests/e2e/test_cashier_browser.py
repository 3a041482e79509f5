"""The cashier screen in a real browser, driven by the keyboard as a cashier with a barcode
scanner would: identify the member, scan, apply a code, redeem points, pay, refund a line."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patron.members.models import Member
from patron.sales import services
from patron.sales.models import Refund, Sale
from tests.sales.conftest import gold, program  # noqa: F401  (the checkout fixtures)

# The program and the gold member (13800138000: 5,000 points, 100 yuan stored value) of the
# checkout tests.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "gold")]


def log_in_as_cashier(page, base_url: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", "cashier1")
    page.fill("#id_password", "password123")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(f"{base_url}/cashier/")  # a cashier lands on the till


def fen(locator) -> int:
    return int(locator.get_attribute("data-fen"))


def scan(page, text: str) -> None:
    """A scanner: characters fast, then Enter, into whatever has the focus (the scan field)."""
    expect(page.locator("#scan-input")).to_be_focused()
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Enter")


def describe_new_sku(page, category: str, price: str) -> None:
    form = page.locator("#item-form")
    expect(form).to_be_visible()
    expect(page.locator("#item-category")).to_be_focused()
    page.select_option("#item-category", category)
    page.keyboard.press("Tab")
    expect(page.locator("#item-price")).to_be_focused()
    page.keyboard.type(price)
    page.keyboard.press("Enter")
    expect(form).to_have_count(0)


def test_a_cashier_sells_with_the_keyboard_and_refunds_a_line(
    live_server, page, cashier, screenshot_dir
):
    base = live_server.url
    member = Member.objects.get(mobile="13800138000")
    log_in_as_cashier(page, base)
    page.click('.sidebar a[href="/cashier/"]')
    expect(page).to_have_url(f"{base}/cashier/")
    expect(page.locator("#scan-input")).to_be_focused()

    # F2: the member, by mobile + Enter; the focus goes back to scanning.
    page.keyboard.press("F2")
    expect(page.locator("#member-input")).to_be_focused()
    page.keyboard.type("13800138000")
    page.keyboard.press("Enter")
    card = page.locator("#member-card")
    expect(card).to_contain_text("138****8000")
    expect(card.locator("[data-tier]")).to_have_attribute("data-tier", "gold")
    expect(card.locator('[data-figure="member-points"]')).to_have_attribute("data-value", "5000")

    # Two SKUs this till has never seen: each asks for its category and price once.
    scan(page, "ROOM-STD")
    describe_new_sku(page, "rooms", "320")
    scan(page, "DISH-FISH")
    describe_new_sku(page, "dishes", "50")
    # The same dish again: remembered, one more on its line, no form.
    scan(page, "DISH-FISH")
    expect(page.locator("#item-form")).to_have_count(0)
    expect(page.locator("#qty-1")).to_have_value("2")
    expect(page.locator("#basket tbody tr[data-sku]")).to_have_count(2)

    # F4: a promotion code; F9: points.
    page.keyboard.press("F4")
    page.keyboard.type("spring10")
    page.keyboard.press("Enter")
    expect(page.locator("#offers .offer-applied[data-code=spring10]")).to_be_visible()
    page.keyboard.press("F9")
    expect(page.locator("#points-help")).to_contain_text("5,000")
    page.keyboard.type("3000")
    page.keyboard.press("Enter")
    expect(page.locator('[data-figure="points-value"]')).to_have_attribute("data-fen", "3000")

    # What the page shows is what the server prices: 320 + 2 x 50 yuan for a gold member.
    expected = services.price(
        cashier,
        services.SaleRequest(
            lines=[
                services.LineInput("ROOM-STD", "rooms", 1, 32000),
                services.LineInput("DISH-FISH", "dishes", 2, 5000),
            ],
            member=member.pk,
            codes=["spring10"],
            points_to_redeem=3000,
        ),
    ).quote
    cash = page.locator('[data-figure="cash-due"]')
    expect(cash).to_have_attribute("data-fen", str(expected.cash_due))
    assert fen(page.locator('[data-figure="saved"]')) == expected.saved
    expect(page.locator("#scan-input")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "patron-cashier-till.png"), full_page=True)

    # F8: confirm; the receipt follows.
    page.keyboard.press("F8")
    expect(page).to_have_url(re.compile(r"/cashier/sales/[0-9]+/$"))
    sale = Sale.objects.get()
    assert (sale.total, sale.points_redeemed) == (expected.total, 3000)
    receipt = page.locator("#receipt")
    expect(receipt.locator("#you-saved")).to_be_visible()
    expect(receipt.locator('[data-figure="saved"]')).to_have_attribute(
        "data-fen", str(expected.saved)
    )
    expect(receipt.locator('[data-figure="points-earned"]')).to_have_attribute(
        "data-value", str(expected.points_earned)
    )
    expect(receipt.locator("[data-mobile]")).to_have_text("138****8000")
    expect(page.locator("#new-sale")).to_be_focused()
    page.screenshot(path=str(screenshot_dir / "patron-cashier-receipt.png"), full_page=True)
    # On paper only the slip remains, in the 80 mm column of a receipt printer.
    page.emulate_media(media="print")
    expect(page.locator("#refund-panel")).to_be_hidden()
    assert receipt.bounding_box()["width"] <= 80 / 25.4 * 96
    page.screenshot(path=str(screenshot_dir / "patron-cashier-receipt-print.png"), full_page=True)
    page.emulate_media(media="screen")

    # Refund one dish: its quantity, then Enter; what goes back is shown, Enter confirms.
    dish = sale.lines.get(sku="DISH-FISH")
    page.focus(f"#refund-qty-{dish.position}")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator("#refund-confirm-button")).to_be_focused()
    assert Refund.objects.count() == 0
    page.keyboard.press("Enter")
    refunds = page.locator("#refunds [data-refund]")
    expect(refunds).to_have_count(1)
    refund = Refund.objects.get()
    expect(refunds.first.locator('[data-figure="refund-amount"]')).to_have_attribute(
        "data-fen", str(refund.amount)
    )
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "partly_refunded")
    expect(page.locator('#receipt-lines tr[data-sku="DISH-FISH"] [data-refunded]')).to_have_text(
        re.compile("1")
    )
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar, not mid-page, in the shot
    page.screenshot(path=str(screenshot_dir / "patron-cashier-refund.png"), full_page=True)


def test_escape_twice_clears_the_sale_and_an_unknown_member_is_explained(
    live_server, page, cashier
):
    base = live_server.url
    log_in_as_cashier(page, base)
    page.goto(f"{base}/cashier/")
    page.keyboard.press("F2")
    page.keyboard.type("13999999999")
    page.keyboard.press("Enter")
    expect(page.locator("#member-error")).to_be_visible()
    expect(page.locator("#member-input")).to_be_focused()

    page.keyboard.press("Escape")  # clears the typed mobile
    expect(page.locator("#member-input")).to_have_value("")
    page.keyboard.press("Escape")  # back to scanning
    expect(page.locator("#scan-input")).to_be_focused()
    scan(page, "TEA-LJ")
    describe_new_sku(page, "drinks", "20")
    expect(page.locator("#basket tbody tr[data-sku]")).to_have_count(1)

    page.keyboard.press("Escape")
    expect(page.locator("#till-status")).not_to_be_empty()
    expect(page.locator("#basket tbody tr[data-sku]")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#basket tbody tr[data-sku]")).to_have_count(0)
    assert Sale.objects.count() == 0
