"""The console's "staff" (经办人) on a new member and a top-up: the signed-in user by default,
HQ may credit anyone working at the store, a cashier only themselves; it lands on
Member.recruited_by and the top-up's ledger Transaction.user."""

from __future__ import annotations

import uuid

import pytest

from patron.ledger.models import Transaction
from patron.members.models import Member
from patron.members.services import register_member
from tests.console.conftest import logged_in

pytestmark = [pytest.mark.postgres]


def new_member(client, mobile: str, **more):
    data = {"mobile": mobile, "name": "会员", "gender": "U", "store": "S1"}
    data.update(source_channel="console", income_band="", **more)
    return client.post("/members/new/", data)


def test_hq_credits_a_cashier_with_a_member(hq, cashier):
    client = logged_in(hq)
    page = client.get("/members/new/").content.decode()
    assert 'name="staff"' in page and 'value="cashier1"' in page
    assert new_member(client, "13800138001", staff="cashier1").status_code == 302
    assert Member.objects.get(mobile="13800138001").recruited_by.username == "cashier1"
    assert new_member(client, "13800138002").status_code == 302  # default: me
    assert Member.objects.get(mobile="13800138002").recruited_by.username == "hq"
    refused = new_member(client, "13800138003", staff="cashier1", store="S2")
    assert refused.status_code == 200 and "field-error" in refused.content.decode()
    assert not Member.objects.filter(mobile="13800138003").exists()


def test_a_cashier_may_name_only_themselves(cashier, hq):
    client = logged_in(cashier)
    page = client.get("/members/new/").content.decode()
    assert 'value="cashier1"' in page and 'value="hq"' not in page
    refused = new_member(client, "13800138004", staff="hq")
    assert refused.status_code == 200
    assert not Member.objects.filter(mobile="13800138004").exists()


def test_a_top_up_credits_the_staff_named(system, hq, cashier):
    member = register_member(system, {"mobile": "13800138005", "store": "S1"})
    client = logged_in(hq)
    data = {
        "member": member.card_no,
        "amount": "500",
        "payment_method": "cash",
        "store": "S1",
        "staff": "cashier1",
    }
    preview = client.post("/ledger/topup/", {**data, "step": "preview"})
    assert 'id="topup-staff"' in preview.content.decode()
    token = preview.context["token"]
    client.post("/ledger/topup/", {**data, "step": "confirm", "token": token})
    txn = Transaction.objects.get(kind="topup", member=member)
    assert (txn.user.username, txn.store.code) == ("cashier1", "S1")
    bad = client.post(
        "/ledger/topup/", {**data, "store": "S2", "step": "preview", "token": str(uuid.uuid4())}
    )
    assert "field-error" in bad.content.decode() and "preview" not in (bad.context or {})
