"""Staff commissions through the real API (API.md §12): the seed's numbers (a card 8 yuan, a
500 and a 1,000 yuan top-up 8 + 16, 3 and 6 recruits 30 / 80 yuan), what a refund or a reversal
in the month takes away, the month in the merchant's zone, and the `staff` parameter's errors."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.cards.models import Card
from patron.ledger import services as ledger
from patron.ledger.models import Transaction
from patron.members.models import Member
from patron.program.services import apply_program
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.network.commission_support import (
    MARCH,
    PROGRAM,
    SHANGHAI,
    at,
    new_member,
    post,
    rows_of,
)

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def team(system, stores, cashier):
    apply_program(system, PROGRAM)
    return {
        "cashier1": cashier,
        "cashier2": staff_actor(system, "cashier2", Role.CASHIER, stores["S2"]),
        "boss": staff_actor(system, "boss", Role.HQ_ADMIN),
    }


def issue(api, member: int, staff: str | None = "cashier1", **more):
    body = {"member": member, "product": "std", **({"staff": staff} if staff else {}), **more}
    return post(api, "/cards", body)


def top_up(api, member: int, amount: int, staff: str | None = "cashier1", **more):
    body = {"member": member, "amount": amount, **({"staff": staff} if staff else {}), **more}
    return post(api, "/topups", body)


def test_the_seed_month(api, team, monkeypatch):
    with at(monkeypatch, MARCH):
        members = [new_member(api, "S1", "cashier1") for _ in range(6)]
        assert issue(api, members[0]).status_code == 201
        assert top_up(api, members[0], 50000).status_code == 201
        assert top_up(api, members[1], 100000).status_code == 201
        assert top_up(api, members[1], 49900).status_code == 201  # under a step: nothing
        for _ in range(3):
            new_member(api, "S2", "cashier2")
    assert Card.objects.get(member_id=members[0]).issued_by.username == "cashier1"
    assert Member.objects.get(pk=members[0]).recruited_by.username == "cashier1"
    assert set(
        Transaction.objects.filter(kind="topup").values_list("user__username", "store__code")
    ) == {("cashier1", "S1")}
    rows = rows_of(api)
    assert rows[("cashier1", "S1")] == {
        "staff": "cashier1",
        "name": "cashier1",
        "store": "S1",
        "cards": 1,
        "topup_amount": 199900,
        "recruited": 6,
        "card_amount": 800,
        "topup_commission": 800 + 1600,
        "ladder_bonus": 8000,
        "amount": 11200,
    }
    assert rows[("cashier2", "S2")]["ladder_bonus"] == rows[("cashier2", "S2")]["amount"] == 3000
    assert list(rows_of(api, staff="cashier2")) == [("cashier2", "S2")]
    assert list(rows_of(api, store="S1")) == [("cashier1", "S1")]
    assert rows_of(api, month="2027-04") == {}


def test_a_refund_or_reversal_in_the_month_takes_it_away(api, team, system, monkeypatch):
    with at(monkeypatch, MARCH):
        kept, refunded = new_member(api), new_member(api)
        issue(api, kept), issue(api, refunded)
        first = top_up(api, kept, 100000).json()["id"]
        top_up(api, kept, 50000)
    assert rows_of(api)[("cashier1", "S1")]["cards"] == 2
    with at(monkeypatch, MARCH + dt.timedelta(days=5)):
        card_no = Member.objects.get(pk=refunded).card_no
        answer = post(api, f"/cards/{card_no}/refund", {"identity_checked": True})
        assert answer.status_code == 200, answer.content
        ledger.reverse(system, Transaction.objects.get(pk=first), key="undo-first")
    row = rows_of(api)[("cashier1", "S1")]
    assert (row["cards"], row["topup_amount"], row["topup_commission"]) == (1, 50000, 800)
    assert row["amount"] == 1600


def test_refunded_or_reversed_next_month_still_counts(api, team, system, monkeypatch):
    late_march = dt.datetime(2027, 3, 31, 23, 30, tzinfo=SHANGHAI)
    with at(monkeypatch, late_march):
        member = new_member(api)
        issue(api, member)
        txn = top_up(api, member, 100000).json()["id"]
    with at(monkeypatch, late_march + dt.timedelta(hours=1)):  # April 1st in Shanghai
        card_no = Member.objects.get(pk=member).card_no
        ledger.reverse(system, Transaction.objects.get(pk=txn), key="undo")
        assert post(api, f"/cards/{card_no}/refund", {"identity_checked": True}).status_code == 200
        top_up(api, new_member(api, "S1", "cashier1"), 50000)
    march = rows_of(api)[("cashier1", "S1")]
    assert (march["cards"], march["topup_commission"], march["amount"]) == (1, 1600, 2400)
    april = rows_of(api, month="2027-04")[("cashier1", "S1")]
    assert (april["cards"], april["topup_amount"], april["recruited"]) == (0, 50000, 1)


def test_a_malformed_month_is_422(api, team):
    for month in ("2027-13", "2027-3", "march", "2027-03-01"):
        answer = api.get(f"/api/v1/commissions?month={month}")
        assert answer.status_code == 422, month


@pytest.mark.parametrize("path", ["/members", "/cards", "/topups"])
def test_staff_errors(api, team, path, monkeypatch):
    member = new_member(api)
    bodies = {
        "/members": lambda staff, store: {"mobile": "13700000001", "store": store, "staff": staff},
        "/cards": lambda staff, store: {
            "member": member,
            "product": "std",
            "store": store,
            "staff": staff,
        },
        "/topups": lambda staff, store: {
            "member": member,
            "amount": 50000,
            "store": store,
            "staff": staff,
        },
    }
    before = (
        Member.objects.count(),
        Card.objects.exclude(product=None).count(),
        Transaction.objects.count(),
    )
    unknown = post(api, path, bodies[path]("nobody", "S1"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_staff"
    elsewhere = post(api, path, bodies[path]("cashier1", "S2"))
    assert elsewhere.status_code == 422 and elsewhere.json()["code"] == "staff_not_at_store"
    after = (
        Member.objects.count(),
        Card.objects.exclude(product=None).count(),
        Transaction.objects.count(),
    )
    assert after == before
    # HQ staff work at any store
    assert post(api, path, bodies[path]("boss", "S2")).status_code == 201
