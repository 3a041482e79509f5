"""Settlement through the API (API.md §12) and the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from patron.network import settlement_selectors as selectors
from patron.network.models import SettlementMonth
from tests.network.settlement_support import last_month_moves, make_chain

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def chain(system, stores):
    return make_chain(system, stores)


@pytest.fixture
def last_month(system, chain):
    """Last month: 120 yuan topped up at S1 and spent at S2 (S1 owes S2 12000)."""
    return last_month_moves(system, chain, [("13900139001", "S1", 12000, "S2")])


def test_the_statement_answers_pairs_and_nets_by_store_code(api, last_month):
    body = api.get(f"/api/v1/settlements?month={last_month}").json()
    assert body["month"] == last_month and body["status"] == "open"
    assert body["rows"] == [{"payer": "S1", "payee": "S2", "amount": 12000}]
    assert body["net"] == {"S1": -12000, "S2": 12000}
    assert body["late"] == [] and body["activities"] == []


def test_close_answers_the_frozen_statement_and_again_the_same(api, last_month):
    first = api.post(f"/api/v1/settlements/{last_month}/close", headers={"Idempotency-Key": "c1"})
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "closed"
    assert first.json()["net"] == {"S1": -12000, "S2": 12000}
    again = api.post(f"/api/v1/settlements/{last_month}/close", headers={"Idempotency-Key": "c2"})
    assert again.status_code == 200 and again.json() == first.json()
    assert SettlementMonth.objects.count() == 1


def test_bad_months_are_problems_and_write_nothing(api, chain, merchant):
    this = selectors.month_of(timezone.now(), selectors.merchant_zone(merchant.timezone))
    response = api.post(f"/api/v1/settlements/{this}/close")
    assert response.status_code == 422 and response.json()["code"] == "month_not_ended"
    assert response["Content-Type"].startswith("application/problem+json")
    for bad in ("2027-13", "march"):
        response = api.post(f"/api/v1/settlements/{bad}/close")
        assert response.status_code == 422 and response.json()["code"] == "validation_error"
        assert api.get(f"/api/v1/settlements?month={bad}").json()["code"] == "validation_error"
    assert not SettlementMonth.objects.exists()


def test_the_flows_behind_a_pair(api, last_month):
    flows = api.get(f"/api/v1/settlements/{last_month}/flows?payer=S1&payee=S2").json()
    assert [(f["amount"], f["topup_store"], f["member_mobile"]) for f in flows] == [
        (12000, "S1", "139****9001")
    ]
    assert flows[0]["sale"] and flows[0]["topup"]


@pytest.mark.parametrize("suffix", [".xlsx", "?format=xlsx"])
def test_the_xlsx_export(api, last_month, suffix):
    path = f"/api/v1/settlements/{last_month}{suffix}"
    if suffix.startswith("?"):
        path = f"/api/v1/settlements?month={last_month}&format=xlsx"
    response = api.get(path)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    pairs = list(book.worksheets[0].values)
    assert pairs[1][:2] == ("西湖店", "滨江店") and float(pairs[1][2]) == 120.0


def test_another_merchant_sees_nothing_of_ours(other_api, last_month):
    body = other_api.get(f"/api/v1/settlements?month={last_month}").json()
    assert body["rows"] == [] and body["net"] == {}


class TestCommand:
    def run(self, *args) -> str:
        out = io.StringIO()
        call_command("settle", *args, stdout=out)
        return out.getvalue()

    def test_it_prints_the_same_figures(self, merchant, last_month):
        text = self.run("--merchant", merchant.slug, "--month", last_month)
        assert f"settlement {last_month}: open" in text
        assert "S1 owes S2\t¥120.00" in text
        assert "S1\t-¥120.00" in text and "S2\t+¥120.00" in text

    def test_close_and_xlsx(self, merchant, last_month, tmp_path):
        target = tmp_path / "s.xlsx"
        text = self.run(
            "--merchant", merchant.slug, "--month", last_month, "--close", "--xlsx", str(target)
        )
        assert "closed" in text and target.stat().st_size > 0
        assert SettlementMonth.objects.filter(month=last_month).exists()

    @pytest.mark.parametrize("month", ["2027-00", "soon"])
    def test_bad_input_is_a_readable_error(self, merchant, chain, month):
        with pytest.raises(CommandError, match="YYYY-MM"):
            self.run("--merchant", merchant.slug, "--month", month, "--close")
        assert not SettlementMonth.objects.exists()
