"""Tenders (F-22, API.md §3): how the part not paid by stored value or points was paid, and
refunds going back by those tenders, fen-exact. Every figure is worked out by hand."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.ledger import selectors as ledger_selectors
from patron.ledger.models import Transaction
from patron.sales.models import RefundTender, Sale, SaleTender
from tests.sales.conftest import BASKET

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Three retail lines (no tier, no promotion touches them): 49.34 + 49.34 + 49.33 = 148.01.
THIRDS = [
    {"sku": "MUG", "category": "retail", "quantity": 1, "unit_price": 4934},
    {"sku": "BAG", "category": "retail", "quantity": 1, "unit_price": 4934},
    {"sku": "PEN", "category": "retail", "quantity": 1, "unit_price": 4933},
]
WECHAT_AND_CASH = [
    {"method": "wechat", "amount": 10000},
    {"method": "cash", "amount": 4801, "tendered": 5000},
]


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


def sale_body(**extra) -> dict:
    return {"store": "S1", "lines": THIRDS, **extra}


def tenders_of(answer: dict) -> list[tuple]:
    return [(t["method"], t["amount"], t["tendered"], t["change"]) for t in answer["tenders"]]


def refund_tenders(answer: dict) -> dict[str, int]:
    return {t["method"]: t["amount"] for t in answer["tenders"]}


@pytest.fixture
def mixed_sale(api, program) -> dict:
    response = post(api, "/api/v1/sales", sale_body(tenders=WECHAT_AND_CASH))
    assert response.status_code == 201, response.content
    return response.json()


def test_mixed_wechat_and_cash_with_change(api, mixed_sale):
    assert mixed_sale["cash_due"] == 14801
    # 148.01 due: 100.00 by WeChat, 48.01 in cash; 50.00 handed over, 1.99 back.
    assert tenders_of(mixed_sale) == [("wechat", 10000, None, 0), ("cash", 4801, 5000, 199)]
    again = api.get(f"/api/v1/sales/{mixed_sale['id']}").json()
    assert tenders_of(again) == tenders_of(mixed_sale)
    rows = SaleTender.objects.filter(sale_id=mixed_sale["id"]).order_by("position")
    assert [(r.method, r.amount, r.tendered, r.change) for r in rows] == tenders_of(mixed_sale)


def test_no_tenders_means_all_cash(api, program):
    quote = post(api, "/api/v1/sales/quote", sale_body()).json()
    assert tenders_of(quote) == [("cash", 14801, None, 0)]
    sale = post(api, "/api/v1/sales", sale_body()).json()
    assert tenders_of(sale) == [("cash", 14801, None, 0)]


def test_a_quote_checks_tenders_when_given(api, program):
    good = post(api, "/api/v1/sales/quote", sale_body(tenders=WECHAT_AND_CASH))
    assert good.status_code == 200
    assert tenders_of(good.json())[1] == ("cash", 4801, 5000, 199)
    bad = post(api, "/api/v1/sales/quote", sale_body(tenders=[{"method": "card", "amount": 1}]))
    assert bad.status_code == 422 and bad.json()["code"] == "tenders_mismatch"
    assert not Sale.objects.exists()


def test_tenders_not_adding_up_are_refused_and_nothing_is_written(api, gold):
    body = {
        "member": gold.pk,
        "store": "S1",
        "lines": THIRDS,
        "stored_value": 5000,  # 148.01 - 50.00 = 98.01 due
        "tenders": [{"method": "wechat", "amount": 9000}, {"method": "cash", "amount": 800}],
    }

    def held():
        figures = ledger_selectors.member_balances(gold)
        return figures["points"]["available"], figures["stored_value"]["total"]

    before = held()
    transactions = Transaction.objects.count()
    response = post(api, "/api/v1/sales", body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "tenders_mismatch"
    # Both sums, in yuan: 90.00 + 8.00 = 98.00 given, 98.01 due.
    assert "¥98.00" in problem["detail"] and "¥98.01" in problem["detail"]
    assert not Sale.objects.exists() and not SaleTender.objects.exists()
    assert Transaction.objects.count() == transactions
    assert held() == before


@pytest.mark.parametrize(
    "tenders",
    [
        [{"method": "cash", "amount": 14801, "tendered": 14800}],  # less than the cash part
        [{"method": "wechat", "amount": 14801, "tendered": 20000}],  # only cash is handed over
        [],  # a list that names nothing pays nothing
    ],
)
def test_cash_handed_over_must_cover_the_cash_part(api, program, tenders):
    response = post(api, "/api/v1/sales", sale_body(tenders=tenders))
    assert response.status_code == 422 and response.json()["code"] == "tenders_mismatch"
    assert not Sale.objects.exists()


def test_an_unknown_method_is_a_validation_error(api, program):
    response = post(api, "/api/v1/sales", sale_body(tenders=[{"method": "bitcoin", "amount": 1}]))
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_a_method_named_twice_is_merged(api, program):
    tenders = [
        {"method": "cash", "amount": 4000, "tendered": 5000},
        {"method": "alipay", "amount": 801},
        {"method": "cash", "amount": 10000},
    ]
    sale = post(api, "/api/v1/sales", sale_body(tenders=tenders)).json()
    # cash 40.00 + 100.00 = 140.00; handed over 50.00 + (100.00, given exactly) = 150.00.
    assert tenders_of(sale) == [("cash", 14000, 15000, 1000), ("alipay", 801, None, 0)]


def test_nothing_due_records_no_tender(api, gold):
    body = {"member": gold.pk, "store": "S1", "lines": THIRDS[:1], "stored_value": 4934}
    sale = post(api, "/api/v1/sales", body).json()
    assert sale["cash_due"] == 0 and sale["tenders"] == []


def test_a_retried_sale_with_tenders_is_recorded_once(api, program):
    body = sale_body(tenders=WECHAT_AND_CASH)
    first = post(api, "/api/v1/sales", body, **{"Idempotency-Key": "till-1"})
    again = post(api, "/api/v1/sales", body, **{"Idempotency-Key": "till-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert Sale.objects.count() == 1 and SaleTender.objects.count() == 2
    other = sale_body(tenders=[{"method": "cash", "amount": 14801}])
    conflict = post(api, "/api/v1/sales", other, **{"Idempotency-Key": "till-1"})
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"


# --- refunds by tender -----------------------------------------------------------------------


def refund(api, sale_id: int, body: dict) -> dict:
    response = post(api, f"/api/v1/sales/{sale_id}/refunds", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_partial_refunds_go_back_by_tender_and_never_beyond(api, mixed_sale):
    sale_id = mixed_sale["id"]
    # MUG 49.34 over what each tender still holds, 100.00 and 48.01 of 148.01:
    # 4934 * 10000 / 14801 = 3333.56, 4934 * 4801 / 14801 = 1600.44 -> 3333 + 1600, the one
    # fen left to the larger remainder (WeChat): 3334 + 1600.
    first = refund(api, sale_id, {"lines": [{"sku": "MUG", "quantity": 1}]})
    assert first["cash_refunded"] == 4934
    assert refund_tenders(first) == {"wechat": 3334, "cash": 1600}
    # BAG 49.34 over what is left, 66.66 and 32.01 of 98.67:
    # 4934 * 6666 / 9867 = 3333.33, 4934 * 3201 / 9867 = 1600.67 -> 3333 + 1601.
    second = refund(api, sale_id, {"lines": [{"sku": "BAG", "quantity": 1}]})
    assert refund_tenders(second) == {"wechat": 3333, "cash": 1601}
    # The rest (PEN 49.33) returns exactly what each still holds: 33.33 and 16.00.
    last = refund(api, sale_id, {"all": True})
    assert last["cash_refunded"] == 4933
    assert refund_tenders(last) == {"wechat": 3333, "cash": 1600}
    back = {"wechat": 0, "cash": 0}
    for row in RefundTender.objects.filter(refund__sale_id=sale_id):
        back[row.method] += row.amount
    assert back == {"wechat": 10000, "cash": 4801}


def test_a_full_refund_returns_each_tender_exactly(api, mixed_sale):
    done = refund(api, mixed_sale["id"], {"all": True})
    assert done["cash_refunded"] == 14801
    assert done["tenders"] == [
        {"method": "wechat", "amount": 10000},
        {"method": "cash", "amount": 4801},
    ]


def test_only_the_cash_part_goes_back_by_tender(api, gold):
    """The hand-worked basket of test_refunds.big_sale: total 249.40, 100.00 from stored value,
    149.40 due, paid 100.00 WeChat + 49.40 cash."""
    body = {
        "member": gold.pk,
        "store": "S1",
        "lines": BASKET,
        "codes": ["SPRING10"],
        "points_to_redeem": 3000,
        "stored_value": 10000,
        "tenders": [{"method": "wechat", "amount": 10000}, {"method": "cash", "amount": 4940}],
    }
    sale = post(api, "/api/v1/sales", body).json()
    assert (sale["total"], sale["cash_due"]) == (24940, 14940)
    done = refund(api, sale["id"], {"lines": [{"sku": "DISH-FISH", "quantity": 1}]})
    # One dish: 30.66 back, 12.29 of it to stored value, 18.37 by tender:
    # 1837 * 10000 / 14940 = 1229.59, 1837 * 4940 / 14940 = 607.41 -> 1229 + 607, the fen
    # left to WeChat (larger remainder): 1230 + 607.
    assert (done["amount"], done["stored_value_returned"], done["cash_refunded"]) == (
        3066,
        1229,
        1837,
    )
    assert refund_tenders(done) == {"wechat": 1230, "cash": 607}
    rest = refund(api, sale["id"], {"all": True})
    assert refund_tenders(rest) == {"wechat": 10000 - 1230, "cash": 4940 - 607}
