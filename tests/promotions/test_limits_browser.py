"""The till in a browser (1366×768) says a limited offer is used up, in words: a member who
already bought the flash sale's tea sees 已达限购 next to its name, and pays the full price."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales.services import LineInput, SaleRequest, commit_sale
from tests.e2e.test_till_browser import log_in, till_page  # noqa: F401  (the till's fixtures)
from tests.promotions.test_limits import FLASH, TEA, program_with

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PUT_BASKET = """([line, member]) => {
  const form = document.getElementById('till-form');
  const data = new FormData(form);
  data.set('op', 'quote');
  data.set('member', String(member));
  data.append('line_sku', line.sku); data.append('line_category', line.category);
  data.append('line_price', String(line.unit_price)); data.append('line_qty', '1');
  data.append('line_name', '明前龙井');
  return fetch(form.action, {method: 'POST', body: data, headers: {'HX-Request': 'true'}})
    .then(r => r.status);
}"""


def test_the_till_shows_limit_reached_in_words(
    live_server,
    till_page,  # noqa: F811  (the fixture imported above)
    system,
    stores,
    cashier,
    screenshot_dir,  # noqa: F811
):
    apply_program(system, program_with(FLASH))
    member = register_member(system, {"mobile": "13900130001", "store": "S1"})
    request = SaleRequest(lines=[LineInput(**TEA)], member=member.pk, store="S1")
    assert commit_sale(system, request).total == 990

    page = till_page
    log_in(page, live_server.url, "cashier1")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(PUT_BASKET, [TEA, member.pk]) == 200
    page.reload()
    offer = page.locator('#offers li[data-code="flash-tea"]')
    expect(offer).to_contain_text("龙井秒杀")
    expect(offer).to_contain_text("已达限购")
    expect(page.locator('[data-figure="total"]')).to_have_attribute("data-fen", "2000")
    page.screenshot(path=str(screenshot_dir / "patron-till-limit-reached.png"))
