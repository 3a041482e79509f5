"""The till's payment panel (F-22) through the test client: one tap for a method, a mixed
WeChat + cash payment whose cash part shows the change, and what cannot be paid refused with
nothing written. THIRDS costs 148.01 (tests/sales/test_tenders.py)."""

from __future__ import annotations

from typing import Any

import pytest

from patron.sales.models import Sale, SaleTender
from tests.sales.test_cashier_views import FRAGMENT, basket, figure, logged_in, page, sell
from tests.sales.test_tenders import THIRDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(cashier, program):
    return logged_in(cashier, "zh-hans")


def press(till, body: dict[str, Any], op: str) -> str:
    response = till.post("/cashier/quote/", {**body, "op": op}, headers=FRAGMENT)
    assert response.status_code == 200
    return page(response)


def test_one_tap_pays_everything_by_wechat(till):
    body = basket(lines=THIRDS)
    html = press(till, body, "pay_by:wechat")
    assert figure(html, "tender-wechat") == 14801
    assert 'aria-pressed="true" data-method="wechat"' in html
    sale = sell(till, {**body, "tender_method": ["wechat"], "tender_amount": [""]})
    assert [(t.method, t.amount) for t in sale.tenders.all()] == [("wechat", 14801)]


def test_a_mixed_wechat_and_cash_sale_shows_the_change(till):
    body = basket(lines=THIRDS)
    # WeChat first, then cash added: WeChat wants its amount, cash pays the rest.
    html = press(till, {**body, "tender_method": ["wechat"], "tender_amount": [""]}, "split:cash")
    assert 'id="tender-amount-0"' in html and "组合支付" in html
    mixed = {**body, "tender_method": ["wechat", "cash"], "tender_amount": ["100", ""]}
    html = press(till, {**mixed, "cash_handed": "50"}, "quote")
    # 148.01 - 100.00 = 48.01 in cash; 50.00 handed over: 1.99 back.
    assert figure(html, "tender-cash") == 4801
    assert figure(html, "change") == 199
    sale = sell(till, {**mixed, "cash_handed": "50"})
    rows = [(t.method, t.amount, t.tendered, t.change) for t in sale.tenders.all()]
    assert rows == [("wechat", 10000, None, 0), ("cash", 4801, 5000, 199)]
    receipt = page(till.get(f"/cashier/sales/{sale.pk}/"))
    assert "微信支付" in receipt and "现金" in receipt and "找零" in receipt
    assert 'data-figure="change" data-fen="199"' in receipt


@pytest.mark.parametrize(
    "payment",
    [
        {"cash_handed": "40"},  # less than the 148.01 cash part
        {"tender_method": ["wechat", "cash"], "tender_amount": ["160", ""]},  # beyond what is due
        {"tender_method": ["wechat", "cash"], "tender_amount": ["", ""]},  # WeChat's part untyped
    ],
)
def test_a_payment_that_does_not_fit_is_refused_and_nothing_written(till, payment):
    response = till.post("/cashier/commit/", {**basket(lines=THIRDS), **payment}, headers=FRAGMENT)
    assert response.status_code == 200
    assert 'role="alert"' in page(response)
    assert not Sale.objects.exists() and not SaleTender.objects.exists()


def test_a_typo_in_the_cash_handed_over_keeps_the_total(till):
    html = press(till, {**basket(lines=THIRDS), "cash_handed": "五十"}, "quote")
    assert figure(html, "cash-due") == 14801
    assert 'value="五十"' in html
