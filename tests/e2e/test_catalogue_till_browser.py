"""The till's scan side in a real browser at 1366x768: a scanned barcode adds the catalogue's
line at once, an unknown code adds nothing, a favourite is one tap, a search finds by pinyin."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from patron.catalogue.services import put_product
from patron.program.services import apply_program
from patron.sales.models import Sale

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

CATEGORIES = [
    {"code": "rooms", "name": "客房"},
    {"code": "dishes", "name": "餐饮"},
    {"code": "drinks", "name": "酒水饮品"},
]
PRODUCTS = [
    ("BEER-LOCAL", "西湖啤酒", "drinks", 1500, "6970218000472"),
    ("TEA-LONGJING", "明前龙井", "drinks", 3800, "6970218000434"),
    ("DISH-FISH", "西湖醋鱼", "dishes", 6800, "6970218000137"),
    ("ROOM-STD", "湖景标准间", "rooms", 32000, "6970218000014"),
]


@pytest.fixture
def shots() -> Path:
    directory = Path(os.environ.get("PATRON_SCREENSHOT_DIR", "/tmp/shots-catalogue"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def catalogue(system, stores):
    apply_program(system, {"categories": CATEGORIES})
    for sku, name, category, price, barcode in PRODUCTS:
        body = {"name": name, "category": category, "price": price, "barcode": barcode}
        put_product(system, sku, body)


def test_scan_a_barcode_then_tap_a_favourite(live_server, browser, cashier, catalogue, shots):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "cashier1")
    page.fill("#id_password", "password123")
    page.press("#id_password", "Enter")
    page.goto(f"{base}/cashier/")
    scan_input = page.locator("#scan-input")
    expect(scan_input).to_be_focused()

    # A barcode: the line comes with the catalogue's name and price; no form.
    page.keyboard.type("6970218000472", delay=5)
    page.keyboard.press("Enter")
    line = page.locator('#basket tr[data-sku="BEER-LOCAL"]')
    expect(line).to_contain_text("西湖啤酒")
    expect(line).to_contain_text("¥15.00")
    expect(page.locator("#item-form")).to_have_count(0)

    # A favourite: one tap (the grid shows the catalogue in its order for a new store).
    favourite = page.locator('#till-favourites button[data-sku="DISH-FISH"]')
    expect(favourite).to_be_visible()
    favourite.click()
    expect(page.locator('#basket tr[data-sku="DISH-FISH"]')).to_contain_text("西湖醋鱼")
    expect(page.locator('[data-figure="cash-due"]')).to_have_attribute("data-fen", "8300")
    page.screenshot(path=str(shots / "till-scan-and-favourite.png"))

    # A search by pinyin initials, Enter picks the first result.
    page.click("#product-search")
    page.keyboard.type("mqlj")
    expect(page.locator('#product-results button[data-sku="TEA-LONGJING"]')).to_be_visible()
    page.screenshot(path=str(shots / "till-product-search.png"))
    page.keyboard.press("Enter")
    expect(page.locator('#basket tr[data-sku="TEA-LONGJING"]')).to_be_visible()
    expect(page.locator("#product-results")).to_be_empty()

    # An unknown code: a clear prompt, nothing added.
    page.click("#scan-input")
    page.keyboard.type("6901234567892", delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#unknown-code")).to_contain_text("6901234567892")
    expect(page.locator("#basket tbody tr[data-sku]")).to_have_count(3)
    page.screenshot(path=str(shots / "till-unknown-code.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#item-form")).to_have_count(0)

    page.keyboard.press("F8")
    expect(page).to_have_url(re.compile(r"/cashier/sales/[0-9]+/$"))
    sale = Sale.objects.get()
    assert sale.total == 1500 + 6800 + 3800
    assert sorted(sale.lines.values_list("name", flat=True)) == ["明前龙井", "西湖啤酒", "西湖醋鱼"]
    context.close()
