"""The till at a till's size (1366×768): the cart, the total and the confirm button on one screen
with eight lines, the basket kept over a reload, "−" and "+" on the selected line, a refund above
the store's limit approved by a store manager, and a cashier landing on the till."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patron.sales import services
from patron.sales.models import Refund, Sale
from patron.tenancy.models import Role
from patron.tenancy.services import update_store
from tests.conftest import staff_actor
from tests.sales.conftest import gold, program  # noqa: F401  (the checkout fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "program")]

TILL = {"width": 1366, "height": 768}
WIDE = {"width": 1920, "height": 1080}
# Eight lines, as a table of four might order: 8 SKUs, some several times.
EIGHT = [
    ("ROOM-STD", "rooms", 32000, 1, "湖景标准间"),
    ("DISH-FISH", "dishes", 6800, 2, "西湖醋鱼"),
    ("DISH-PORK", "dishes", 5800, 1, "东坡肉"),
    ("DISH-SHRIMP", "dishes", 8800, 1, "龙井虾仁"),
    ("TEA-LJ", "drinks", 3800, 3, "明前龙井"),
    ("BEER-LOCAL", "drinks", 1500, 6, "西湖啤酒"),
    ("GIFT-TEA", "retail", 16800, 1, "龙井礼盒"),
    ("ROOM-DLX", "rooms", 52000, 1, "湖景豪华间"),
]
# Until the catalogue names every SKU, eight lines are put in the basket as the page itself
# posts them (one `quote` with the lines' hidden fields); the page then shows them on reload.
PUT_LINES = """(lines) => {
  const data = new FormData(document.getElementById('till-form'));
  data.set('op', 'quote');
  for (const [sku, category, price, quantity, name] of lines) {
    data.append('line_sku', sku); data.append('line_category', category);
    data.append('line_price', String(price)); data.append('line_qty', String(quantity));
    data.append('line_name', name);
  }
  return fetch(document.getElementById('till-form').action,
               {method: 'POST', body: data, headers: {'HX-Request': 'true'}}).then(r => r.status);
}"""


@pytest.fixture
def till_page(browser):
    context = browser.new_context(locale="zh-CN", viewport=TILL)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "password123")
    page.press("#id_password", "Enter")
    page.wait_for_load_state()


def inside_viewport(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None, f"{selector} is not on the page"
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"], (selector, box, size)
    assert box["y"] + box["height"] <= size["height"], (selector, box, size)
    return box


def no_page_scroll(page) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollHeight, window.innerHeight]")
    assert scroll <= inner, f"the page scrolls: {scroll} > {inner}"


def eight_lines(page) -> None:
    # The page's own first requests (the favourites grid) save the session too: let them end
    # first, or one that finishes after this put writes back the session it read, basketless.
    page.wait_for_load_state("networkidle")
    assert page.evaluate(PUT_LINES, EIGHT) == 200
    page.reload()
    expect(page.locator("#basket tr.till-line")).to_have_count(8)


def quantity(page, index: int):
    return page.locator(f"#qty-{index}")


def test_a_cashier_lands_on_the_till_and_eight_lines_fit(
    live_server, till_page, cashier, screenshot_dir
):
    page = till_page
    log_in(page, live_server.url, "cashier1")
    expect(page).to_have_url(f"{live_server.url}/cashier/")
    expect(page.locator("#scan-input")).to_be_focused()
    eight_lines(page)

    # The total and the confirm button are on screen together with the cart; the page itself
    # never scrolls: the cart scrolls in its own box.
    inside_viewport(page, '[data-figure="total"]')
    inside_viewport(page, "#confirm-button")
    inside_viewport(page, "#scan-input")
    inside_viewport(page, "#line-less")
    inside_viewport(page, "#line-more")
    basket = inside_viewport(page, "#basket-scroll")
    assert basket["height"] >= 300  # room for several lines, not a slit
    no_page_scroll(page)
    expect(page.locator("#confirm-button")).to_be_enabled()
    page.screenshot(path=str(screenshot_dir / "patron-till-1366x768.png"))

    # The last line is reached by scrolling the cart, and the total stays where it was.
    total_before = page.locator('[data-figure="total"]').bounding_box()
    page.locator("#line-7").click()
    inside_viewport(page, "#line-7")
    assert page.locator('[data-figure="total"]').bounding_box() == total_before

    page.set_viewport_size(WIDE)
    inside_viewport(page, '[data-figure="total"]')
    inside_viewport(page, "#confirm-button")
    no_page_scroll(page)
    page.screenshot(path=str(screenshot_dir / "patron-till-1920x1080.png"))


def test_the_basket_survives_a_reload_until_cleared(live_server, till_page, cashier):
    page = till_page
    log_in(page, live_server.url, "cashier1")
    eight_lines(page)
    key = page.locator('input[name="key"]').get_attribute("value")
    page.reload()
    expect(page.locator("#basket tr.till-line")).to_have_count(8)
    assert page.locator('input[name="key"]').get_attribute("value") == key
    expect(page.locator('[data-figure="total"]')).to_be_visible()

    # Esc twice clears it, and a reload then shows an empty till.
    page.focus("#scan-input")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.locator("#basket tr.till-line")).to_have_count(0)
    page.reload()
    expect(page.locator("#basket tr.till-line")).to_have_count(0)
    assert Sale.objects.count() == 0


def test_plus_and_minus_act_on_the_selected_line(live_server, till_page, cashier, screenshot_dir):
    page = till_page
    log_in(page, live_server.url, "cashier1")
    eight_lines(page)

    # A tap selects a line; "+" and "−" on screen change it, and only it.
    page.locator("#line-1 .till-line-name").click()
    expect(page.locator("#line-1")).to_have_class(re.compile("is-selected"))
    expect(page.locator("#scan-input")).to_be_focused()
    page.click("#line-more")
    expect(quantity(page, 1)).to_have_value("3")
    expect(quantity(page, 0)).to_have_value("1")

    # The keys in the empty scan box: "-" and "+" act on the line, nothing is typed.
    page.keyboard.press("-")
    expect(quantity(page, 1)).to_have_value("2")
    expect(page.locator("#scan-input")).to_have_value("")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#line-0")).to_have_class(re.compile("is-selected"))
    page.keyboard.press("+")
    expect(quantity(page, 0)).to_have_value("2")
    expect(page.locator("#scan-input")).to_have_value("")

    # "−" on a quantity of 1 removes the line, with Undo.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#line-2")).to_have_class(re.compile("is-selected"))
    page.click("#line-less")
    expect(page.locator("#basket tr.till-line")).to_have_count(7)
    expect(page.locator("#basket tr[data-sku=DISH-PORK]")).to_have_count(0)
    expect(page.locator("#undo-button")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "patron-till-undo.png"))
    page.click("#undo-button")
    expect(page.locator("#basket tr.till-line")).to_have_count(8)
    expect(page.locator("#line-2")).to_have_attribute("data-sku", "DISH-PORK")
    expect(quantity(page, 2)).to_have_value("1")

    # Typed after a SKU, "-" is text again (SKUs hold dashes).
    page.focus("#scan-input")
    page.keyboard.type("ROOM-")
    expect(page.locator("#scan-input")).to_have_value("ROOM-")


@pytest.mark.usefixtures("gold")
def test_a_refund_above_the_limit_needs_a_store_manager(
    live_server, till_page, system, stores, cashier, screenshot_dir
):
    update_store(system, stores["S1"], refund_approval_above=10000)  # 100 yuan
    manager = staff_actor(system, "s1.manager", Role.STORE_MANAGER, stores["S1"])
    manager.staff.user.first_name = "王店长"
    manager.staff.user.save()
    sale = services.commit_sale(
        cashier,
        services.SaleRequest(lines=[services.LineInput("ROOM-STD", "rooms", 1, 32000)]),
    )
    page = till_page
    log_in(page, live_server.url, "cashier1")
    page.goto(f"{live_server.url}/cashier/sales/{sale.pk}/")
    page.click("#refund-all")

    # A confirmation always; above 100 yuan the manager's name and password are asked.
    expect(page.locator("#refund-confirm")).to_be_visible()
    preview = page.locator('[data-figure="refund-preview"]')
    expect(preview).to_have_attribute("data-fen", str(sale.total))  # 320 - 50 (满300减50)
    expect(page.locator("#refund-approval")).to_be_visible()
    page.click("#refund-confirm-button")
    expect(page.locator("#refund-approval .field-error").first).to_be_visible()
    assert Refund.objects.count() == 0

    page.select_option("#approve-manager", str(manager.staff.pk))
    page.fill("#approve-password", "not-the-password")
    page.click("#refund-confirm-button")
    expect(page.locator("#refund-approval .alert-error")).to_contain_text("王店长")
    assert Refund.objects.count() == 0
    page.screenshot(path=str(screenshot_dir / "patron-till-refund-approval.png"))

    page.select_option("#approve-manager", str(manager.staff.pk))
    page.fill("#approve-password", "password123")
    page.click("#refund-confirm-button")
    expect(page.locator("#refunds [data-refund]")).to_have_count(1)
    refund = Refund.objects.get()
    assert refund.amount == sale.total and refund.user == cashier.user
    expect(page.locator("[data-refund-by]")).to_have_text("cashier1")


@pytest.mark.usefixtures("gold")
def test_a_found_member_leaves_an_empty_member_box(live_server, till_page, cashier):
    page = till_page
    log_in(page, live_server.url, "cashier1")
    page.keyboard.press("F2")
    page.keyboard.type("13800138000")
    page.keyboard.press("Enter")
    expect(page.locator("#member-card")).to_contain_text("138****8000")
    # The number was used up: the box is ready for the next customer, the scanner has focus.
    expect(page.locator("#member-input")).to_have_value("")
    expect(page.locator("#scan-input")).to_be_focused()
    page.reload()
    expect(page.locator("#member-card")).to_contain_text("138****8000")  # kept over F5
