"""The console's settlement pages: statement, pair drill-down, export and close."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from patron.network import settlement_selectors as selectors
from patron.network.models import SettlementMonth
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.console.conftest import logged_in
from tests.network.settlement_support import last_month_moves, make_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(system, stores):
    return make_chain(system, stores)


@pytest.fixture
def month(system, chain):
    """Last month: S1 owes S2 120 yuan, S2 owes S3 30 yuan."""
    moves = [("13700137001", "S1", 12000, "S2"), ("13700137002", "S2", 3000, "S3")]
    return last_month_moves(system, chain, moves)


def test_hq_sees_every_pair_by_store_name_in_chinese(hq, month):
    html = logged_in(hq, "zh-hans").get("/network/settlements/").content.decode()
    assert "门店间结算" in html and month in html
    assert 'data-pair="S1-S2"' in html and 'data-pair="S2-S3"' in html
    assert "西湖店" in html and "钱江店" in html and "¥120.00" in html
    assert "+¥90.00" in html  # S2: owed 120, owes 30
    assert 'id="settlement-close"' in html


def test_a_store_manager_sees_only_their_store_and_cannot_close(system, chain, month):
    manager = staff_actor(system, "s3boss", Role.STORE_MANAGER, chain["S3"])
    client = logged_in(manager)
    html = client.get(f"/network/settlements/?month={month}").content.decode()
    assert 'data-pair="S2-S3"' in html and 'data-pair="S1-S2"' not in html
    # Only their own net: S2's, built from the S2-S3 pair alone, would be a partial figure.
    assert '<tr data-store="S3">' in html and '<tr data-store="S2">' not in html
    assert "Settlement between stores" in html and "Who owes whom" in html  # in English
    assert 'id="settlement-close"' not in html
    assert client.post(f"/network/settlements/{month}/close/").status_code == 403
    assert not SettlementMonth.objects.exists()


def test_a_cashier_may_not_see_the_settlement(cashier, month):
    assert logged_in(cashier).get("/network/settlements/").status_code == 403


def test_the_pair_page_links_the_sales_and_the_members(hq, month):
    html = logged_in(hq).get(f"/network/settlements/{month}/S1/S2/").content.decode()
    assert "137****7001" in html and "/cashier/sales/" in html and "/members/" in html


def test_a_bad_month_is_said_and_last_month_shown(hq, month):
    response = logged_in(hq).get("/network/settlements/?month=2027-13")
    assert response.status_code == 200 and "YYYY-MM" in response.content.decode()


def test_export(hq, month):
    response = logged_in(hq).get(f"/network/settlements/?month={month}&format=xlsx")
    book = load_workbook(io.BytesIO(response.content))
    pairs = [row[:2] for row in list(book.worksheets[0].values)[1:]]
    assert pairs == [("西湖店", "滨江店"), ("滨江店", "钱江店")]


def test_close_asks_then_freezes_and_refuses_an_open_month(hq, month, merchant):
    client = logged_in(hq)
    ask = client.get(f"/network/settlements/{month}/close/")
    assert ask.status_code == 200 and 'id="settlement-close-form"' in ask.content.decode()
    done = client.post(f"/network/settlements/{month}/close/", {"key": "x"}, follow=True)
    assert "is closed" in done.content.decode()
    assert SettlementMonth.objects.filter(month=month).exists()
    this = selectors.month_of(timezone.now(), selectors.merchant_zone(merchant.timezone))
    refused = client.post(f"/network/settlements/{this}/close/", {"key": "y"})
    assert refused.status_code == 422 and "has not ended" in refused.content.decode()
    assert SettlementMonth.objects.count() == 1
