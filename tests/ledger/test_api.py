"""Ledger endpoints of API.md §3: top-ups, balances, ledger history, point adjustments."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from patron.ledger.models import Account, Asset, Entry, LedgerPolicy, Transaction
from patron.members.services import register_member
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def member(system, stores):
    LedgerPolicy.objects.create(
        merchant=system.merchant, topup_bonus=[{"min": 10000, "bonus": 1000}]
    )
    return register_member(system, {"mobile": "13800138000", "store": "S1"})


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.django_db
class TestTopUps:
    def test_top_up_returns_principal_bonus_and_balance(self, api, member):
        response = post(
            api,
            "/api/v1/topups",
            {"member": member.pk, "amount": 10000, "store": "S1", "payment_method": "wechat"},
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["principal"], body["bonus"], body["balance"]) == (10000, 1000, 11000)
        assert body["stored_value"] == {"principal": 10000, "bonus": 1000, "total": 11000}
        txn = Transaction.objects.get(pk=body["id"])
        assert txn.store.code == "S1" and txn.api_key is not None and txn.reason == "wechat"

    def test_idempotency_key_replays_without_a_second_top_up(self, api, member):
        first = post(
            api,
            "/api/v1/topups",
            {"member": member.pk, "amount": 5000},
            **{"Idempotency-Key": "till-7-0001"},
        )
        again = post(
            api,
            "/api/v1/topups",
            {"member": member.pk, "amount": 5000},
            **{"Idempotency-Key": "till-7-0001"},
        )
        assert again.status_code == 201 and again.json() == first.json()
        assert Account.objects.get(member=member, asset=Asset.PRINCIPAL).balance == 5000

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"member": None, "amount": 100}, 422, "validation_error"),
            ({"amount": 0}, 422, "validation_error"),
            ({"amount": -100}, 422, "validation_error"),
            ({"amount": 10.5}, 422, "validation_error"),
            ({"amount": "100"}, 422, "validation_error"),
            ({"amount": 5_000_001}, 422, "validation_error"),
            ({"amount": 100, "payment_method": "shells"}, 422, "validation_error"),
            ({"amount": 100, "store": "NOPE"}, 404, "not_found"),
        ],
    )
    def test_bad_top_ups_are_refused_and_write_nothing(self, api, member, body, status, code):
        payload = {"member": member.pk, **body}
        if payload["member"] is None:
            del payload["member"]  # no member at all
        response = post(api, "/api/v1/topups", payload)
        assert response.status_code == status, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == code
        assert not Entry.objects.exists() and not Transaction.objects.exists()

    def test_unknown_and_foreign_members_are_404(self, api, other_api, member):
        assert post(api, "/api/v1/topups", {"member": 999999, "amount": 100}).status_code == 404
        foreign = post(other_api, "/api/v1/topups", {"member": member.pk, "amount": 100})
        assert foreign.status_code == 404
        assert other_api.get(f"/api/v1/members/{member.pk}/balances").status_code == 404

    def test_frozen_member_is_409(self, api, member):
        member.status = "frozen"
        member.save()
        response = post(api, "/api/v1/topups", {"member": member.pk, "amount": 100})
        assert (response.status_code, response.json()["code"]) == (409, "member_frozen")


@pytest.mark.django_db
def test_balances_and_ledger_history(api, member):
    post(api, "/api/v1/topups", {"member": member.pk, "amount": 10000})
    post(
        api,
        f"/api/v1/members/{member.pk}/points/adjustments",
        {"points": 120, "reason": "welcome gift"},
    )
    balances = api.get(f"/api/v1/members/{member.pk}/balances").json()
    assert balances["stored_value"] == {"principal": 10000, "bonus": 1000, "total": 11000}
    assert balances["points"]["available"] == 120
    assert sum(e["points"] for e in balances["points"]["expiring"]) == 120
    before = api.get(
        f"/api/v1/members/{member.pk}/balances", {"as_of": "2000-01-01T00:00:00+08:00"}
    )
    assert before.json()["stored_value"]["total"] == 0
    history = api.get(f"/api/v1/members/{member.pk}/ledger?asset=points").json()
    assert [(e["kind"], e["amount"]) for e in history["items"]] == [("adjust", 120)]
    sv = api.get(f"/api/v1/members/{member.pk}/ledger?asset=stored_value").json()
    assert {e["asset"] for e in sv["items"]} == {"stored_value.principal", "stored_value.bonus"}
    assert api.get(f"/api/v1/members/{member.pk}/ledger?asset=gold").status_code == 422
    assert api.get(f"/api/v1/members/{member.pk}/balances?as_of=yesterday").status_code == 422


@pytest.mark.django_db
def test_point_adjustments_need_a_reason_and_are_audited(api, member):
    path = f"/api/v1/members/{member.pk}/points/adjustments"
    assert post(api, path, {"points": 10}).status_code == 422
    assert post(api, path, {"points": 10, "reason": ""}).status_code == 422
    assert post(api, path, {"points": 0, "reason": "x"}).status_code == 422
    short = post(api, path, {"points": -10, "reason": "typo"})
    assert (short.status_code, short.json()["code"]) == (422, "insufficient_points")
    assert post(api, path, {"points": 10, "reason": "complaint"}).status_code == 201
    audit = AuditEntry.objects.get(object_type="transaction")
    assert audit.api_key is not None and audit.channel == "api"


@pytest.mark.django_db(transaction=True)
def test_same_topup_sent_20_times_concurrently_posts_once(api_key, member):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests need PostgreSQL (run with PATRON_TEST_POSTGRES)")
    results: list[tuple[int, bytes]] = []
    start = threading.Barrier(20)

    def send() -> None:
        client = Client(
            headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "same-topup"}
        )
        start.wait()
        try:
            response = client.post(
                "/api/v1/topups",
                {"member": member.pk, "amount": 10000},
                content_type="application/json",
            )
            results.append((response.status_code, response.content))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in results} == {201}
    assert len({body for _, body in results}) == 1
    assert Transaction.objects.filter(kind="topup").count() == 1
    assert Account.objects.get(member=member, asset=Asset.PRINCIPAL).balance == 10000
