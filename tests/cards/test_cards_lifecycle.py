"""A card's life through the API (API.md §7): issue with its fee, report lost (frozen in
every spending path), replace and exchange (nothing moves in the ledger), bind, refund and
close; bad input refused with nothing written; replays answer the first call."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from stdnum import luhn

from patron.cards.models import Card, CardEvent, CardPayment
from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.ledger.models import Transaction
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales import services as sales
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres]

PROGRAM = {
    "categories": ["rooms", "drinks"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "silver", "name": "银卡会员", "rank": 1},
        {"code": "gold", "name": "金卡会员", "rank": 2},
    ],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "topup_bonus": [{"min": 10000, "bonus": 2000}],
    "card_products": [
        {
            "code": "silver_card",
            "name": "银卡",
            "fee": 2000,
            "tier": "silver",
            "validity_days": 365,
            "physical": True,
            "fee_waived_by_topup": 50000,
            "replace_fee": 1000,
        },
        {"code": "wait_card", "name": "等待卡", "replace_wait_days": 7},
        {
            "code": "keep_card",
            "name": "全退卡",
            "fee": 1500,
            "refund": {"fee": True, "bonus": "keep"},
        },
        {"code": "svip", "name": "年卡", "fee": 19900, "tier": "gold", "paid_days": 365},
    ],
}
TEA = {"sku": "TEA", "category": "drinks", "quantity": 1, "unit_price": 20000}


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)


@pytest.fixture
def member(system, program):
    return register_member(system, {"mobile": "13800138000", "name": "张三", "store": "S1"})


@pytest.fixture
def funded(system, member):
    ledger.top_up(system, member, 10000, key="fund-sv")  # 100 yuan + 20 bonus
    ledger.adjust_points(system, member, 5000, reason="opening", key="fund-points")
    return member


def post(client: Client, path: str, body: dict | None = None, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def balances(member: Member) -> dict:
    figures = ledger_selectors.member_balances(member)
    return {"points": figures["points"]["available"], **figures["stored_value"]}


def counts() -> tuple[int, ...]:
    return (
        Card.objects.count(),
        CardEvent.objects.count(),
        CardPayment.objects.count(),
        Transaction.objects.count(),
        AuditEntry.objects.filter(object_type="card").count(),
    )


class TestIssue:
    def test_issue_takes_the_fee_with_a_receipt_and_starts_the_tier(self, api, member):
        answer = post(
            api,
            "/api/v1/cards",
            {
                "member": member.pk,
                "product": "silver_card",
                "payment_method": "wechat",
                "physical_id": "MAG-1",
            },
        )
        assert answer.status_code == 201, answer.content
        body = answer.json()
        assert body["card_no"] == Member.objects.get(pk=member.pk).card_no
        assert (body["status"], body["fee_paid"], body["fee_waived"]) == ("active", 2000, False)
        payment = CardPayment.objects.get(kind="card_fee")
        assert (payment.amount, payment.method) == (2000, "wechat") and payment.receipt_no
        assert Member.objects.get(pk=member.pk).tier.code == "silver"
        card = api.get(f"/api/v1/cards/{body['card_no']}").json()
        assert card["physical_id"] == "MAG-1" and card["valid_until"]
        assert card["member"]["mobile"] == "138****8000"
        assert [event["kind"] for event in card["history"]] == ["issued"]

    def test_a_large_enough_top_up_waives_the_fee(self, api, member):
        body = post(
            api, "/api/v1/cards", {"member": member.pk, "product": "silver_card", "topup": 50000}
        ).json()
        assert (body["fee_paid"], body["fee_waived"]) == (0, True)
        assert not CardPayment.objects.exists()
        assert balances(member)["principal"] == 50000

    def test_a_lower_starting_tier_never_steps_the_member_down(self, api, hq, member):
        from patron.promotions.services import set_member_tier

        set_member_tier(hq, member, "gold")
        post(api, "/api/v1/cards", {"member": member.pk, "product": "silver_card"})
        assert Member.objects.get(pk=member.pk).tier.code == "gold"

    @pytest.mark.parametrize(
        ("product", "code"), [("nope", "unknown_product"), ("svip", "paid_membership")]
    )
    def test_unknown_and_paid_membership_products_are_refused(self, api, member, product, code):
        before = counts()
        answer = post(api, "/api/v1/cards", {"member": member.pk, "product": product})
        assert (answer.status_code, answer.json()["code"]) == (422, code)
        assert counts() == before

    def test_a_taken_physical_id_is_409_and_writes_nothing(self, api, system, member):
        other = register_member(system, {"mobile": "13900139000"})
        post(
            api,
            "/api/v1/cards",
            {"member": other.pk, "product": "silver_card", "physical_id": "MAG-1"},
        )
        before = counts()
        answer = post(
            api,
            "/api/v1/cards",
            {"member": member.pk, "product": "silver_card", "physical_id": "MAG-1"},
        )
        assert (answer.status_code, answer.json()["code"]) == (409, "physical_id_taken")
        assert counts() == before

    def test_a_replayed_issue_answers_the_same_and_charges_once(self, api, member):
        body = {"member": member.pk, "product": "silver_card"}
        first = post(api, "/api/v1/cards", body, key="issue-1")
        again = post(api, "/api/v1/cards", body, key="issue-1")
        assert first.json() == again.json()
        assert CardPayment.objects.count() == 1

    def test_registration_issues_the_card_on_the_members_number(self, api, program):
        answer = post(
            api,
            "/api/v1/members",
            {"mobile": "13700137000", "card_product": "silver_card", "physical_id": "NFC-9"},
        )
        assert answer.status_code == 201, answer.content
        member = answer.json()
        card = Card.objects.get()
        assert (card.card_no, card.physical_id, card.fee_paid) == (member["card_no"], "NFC-9", 2000)
        assert Member.objects.count() == 1
        cards = api.get(f"/api/v1/members/{member['id']}").json()["cards"]
        assert [c["card_no"] for c in cards] == [member["card_no"]]

    @pytest.mark.parametrize(
        ("extra", "field", "status"),
        [
            ({"card_product": "nope"}, "card_product", 422),
            # another card holds it: a conflict with what is stored, as when binding
            ({"card_product": "silver_card", "physical_id": "MAG-1"}, "physical_id", 409),
        ],
    )
    def test_registration_with_a_bad_card_writes_nothing(
        self, api, system, program, extra, field, status
    ):
        other = register_member(system, {"mobile": "13900139000"})
        post(
            api,
            "/api/v1/cards",
            {"member": other.pk, "product": "silver_card", "physical_id": "MAG-1"},
        )
        members, before = Member.objects.count(), counts()
        answer = post(api, "/api/v1/members", {"mobile": "13700137000", **extra})
        assert answer.status_code == status
        assert field in {error["field"] for error in answer.json()["errors"]}
        assert (Member.objects.count(), counts()) == (members, before)


def sale(client, member_ref, **extra):
    return post(
        client, "/api/v1/sales", {"member": member_ref, "store": "S1", "lines": [TEA], **extra}
    )


class TestLost:
    @pytest.fixture
    def lost(self, api, funded):
        answer = post(api, f"/api/v1/cards/{funded.card_no}/report-lost", {"reason": "丢在出租车"})
        assert answer.status_code == 200 and answer.json()["status"] == "lost"
        return funded

    @pytest.mark.parametrize(
        ("path", "extra"),
        [
            ("/api/v1/sales", {"stored_value": 5000}),
            ("/api/v1/sales", {"points_to_redeem": 1000}),
            ("/api/v1/sales/quote", {"stored_value": 5000}),
            ("/api/v1/sales/quote", {"points_to_redeem": 1000}),
        ],
    )
    def test_stored_value_and_points_are_refused_in_sales_and_quotes(self, api, lost, path, extra):
        before = balances(lost)
        answer = post(api, path, {"member": lost.pk, "store": "S1", "lines": [TEA], **extra})
        assert (answer.status_code, answer.json()["code"]) == (409, "card_lost")
        assert balances(lost) == before

    def test_naming_the_lost_card_is_refused_even_for_cash(self, api, lost):
        answer = sale(api, lost.card_no)
        assert (answer.status_code, answer.json()["code"]) == (409, "card_lost")
        assert lost.card_no in answer.json()["detail"]

    def test_a_cash_sale_by_mobile_still_goes_through(self, api, lost):
        assert sale(api, lost.mobile).status_code == 201

    def test_every_ledger_spending_path_refuses(self, system, lost):
        from patron.core.errors import DomainError

        with pytest.raises(DomainError) as points:
            ledger.spend_points(system, lost, 100, key="mall-redeem")  # a points-mall redemption
        with pytest.raises(DomainError) as stored:
            ledger.pay_stored_value(system, lost, 100, key="direct-pay")
        assert points.value.code == stored.value.code == "card_lost"

    def test_top_ups_are_still_accepted(self, api, lost):
        answer = post(api, "/api/v1/topups", {"member": lost.pk, "amount": 1000})
        assert answer.status_code == 201

    def test_reporting_again_changes_nothing(self, api, lost):
        before = counts()
        again = post(api, f"/api/v1/cards/{lost.card_no}/report-lost")
        assert again.json()["status"] == "lost" and counts() == before

    def test_the_till_shows_the_refusal(self, lost, cashier):
        with pytest.raises(Exception) as problem:
            sales.identify_member(cashier, lost.card_no)
        assert getattr(problem.value, "code", "") == "card_lost"


class TestReplace:
    @pytest.fixture
    def issued(self, api, funded):
        post(
            api,
            "/api/v1/cards",
            {"member": funded.pk, "product": "silver_card", "physical_id": "MAG-OLD"},
        )
        return Member.objects.get(pk=funded.pk)

    def test_replace_keeps_every_balance_and_moves_nothing(self, api, issued):
        old_no, before = issued.card_no, balances(issued)
        tier = Member.objects.get(pk=issued.pk).tier_id
        post(api, f"/api/v1/cards/{old_no}/report-lost")
        movements = Transaction.objects.count()
        answer = post(
            api,
            f"/api/v1/cards/{old_no}/replace",
            {"physical_id": "MAG-NEW", "payment_method": "alipay"},
        )
        assert answer.status_code == 201, answer.content
        new_no = answer.json()["card_no"]
        assert new_no != old_no and luhn.is_valid(new_no) and new_no.startswith("8")
        assert (answer.json()["replaces"], answer.json()["replace_fee_paid"]) == (old_no, 1000)
        member = Member.objects.get(pk=issued.pk)
        assert (member.card_no, member.tier_id) == (new_no, tier)
        assert balances(member) == before and Transaction.objects.count() == movements
        assert ledger_selectors.reconcile(member.merchant) == []
        old = api.get(f"/api/v1/cards/{old_no}").json()
        assert (old["status"], old["replaced_by"]) == ("replaced", new_no)
        fee = CardPayment.objects.get(kind="replace_fee")
        assert (fee.amount, fee.method) == (1000, "alipay")
        # Unfrozen: the new card pays with stored value again.
        assert sale(api, new_no, stored_value=5000).status_code == 201

    def test_the_old_number_and_physical_id_are_refused_naming_nothing(self, api, issued):
        old_no = issued.card_no
        post(api, f"/api/v1/cards/{old_no}/replace")
        for name in (old_no, "MAG-OLD"):
            answer = sale(api, name)
            assert (answer.status_code, answer.json()["code"]) == (409, "card_replaced")
            new_no = Member.objects.get(pk=issued.pk).card_no
            assert new_no not in answer.json()["detail"]

    def test_a_physical_id_identifies_the_member(self, api, issued):
        answer = sale(api, "MAG-OLD")
        assert answer.status_code == 201 and answer.json()["member"] == issued.pk

    def test_replace_is_idempotent(self, api, issued):
        first = post(api, f"/api/v1/cards/{issued.card_no}/replace", key="r-1")
        again = post(api, f"/api/v1/cards/{issued.card_no}/replace", key="r-1")
        assert first.json() == again.json()
        assert Card.objects.filter(member=issued).count() == 2

    def test_the_service_replays_by_its_key(self, system, issued):
        from patron.cards import services

        first = services.replace_card(system, issued.card_no, key="svc-1")
        again = services.replace_card(system, issued.card_no, key="svc-1")
        assert first.pk == again.pk and CardPayment.objects.filter(kind="replace_fee").count() == 1

    def test_a_waiting_period_holds_the_replacement(self, api, system, program):
        member = register_member(system, {"mobile": "13600136000"})
        post(api, "/api/v1/cards", {"member": member.pk, "product": "wait_card"})
        post(api, f"/api/v1/cards/{member.card_no}/report-lost")
        answer = post(api, f"/api/v1/cards/{member.card_no}/replace")
        assert (answer.status_code, answer.json()["code"]) == (409, "replace_waiting")

    def test_exchange_a_damaged_card(self, api, issued):
        answer = post(api, f"/api/v1/cards/{issued.card_no}/exchange", {"physical_id": "MAG-2"})
        assert answer.status_code == 201
        old = Card.objects.get(card_no=issued.card_no)
        assert old.status == "replaced" and old.events.filter(kind="exchanged").exists()

    def test_bind_and_a_taken_physical_id(self, api, system, issued):
        answer = post(api, f"/api/v1/cards/{issued.card_no}/bind", {"physical_id": "MAG-3"})
        assert answer.status_code == 200
        other = register_member(system, {"mobile": "13900139000"})
        taken = post(api, f"/api/v1/cards/{other.card_no}/bind", {"physical_id": "MAG-3"})
        assert (taken.status_code, taken.json()["code"]) == (409, "physical_id_taken")
        joining = post(api, "/api/v1/members", {"mobile": "13900139001", "physical_id": "MAG-3"})
        assert (joining.status_code, joining.json()["code"]) == (409, "physical_id_taken")
        assert not Member.objects.filter(mobile="13900139001").exists()

    def test_replacing_a_closed_card_is_409(self, api, issued):
        post(api, f"/api/v1/cards/{issued.card_no}/refund", {"identity_checked": True})
        before = counts()
        answer = post(api, f"/api/v1/cards/{issued.card_no}/replace")
        assert (answer.status_code, answer.json()["code"]) == (409, "card_closed")
        assert counts() == before


class TestRefund:
    def test_refund_returns_principal_only_and_closes(self, api, funded):
        answer = post(api, f"/api/v1/cards/{funded.card_no}/refund", {"identity_checked": True})
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert (body["principal_returned"], body["bonus_forfeited"], body["fee_returned"]) == (
            10000,
            2000,
            0,
        )
        assert body["status"] == "closed"
        after = balances(funded)
        assert (after["principal"], after["bonus"], after["points"]) == (0, 0, 5000)
        assert ledger_selectors.reconcile(funded.merchant) == []
        history = api.get(f"/api/v1/cards/{funded.card_no}").json()["history"]
        assert [e["kind"] for e in history] == ["refunded"]
        again = post(api, f"/api/v1/cards/{funded.card_no}/refund", {"identity_checked": True})
        assert (again.status_code, again.json()["code"]) == (409, "card_closed")

    def test_a_keep_rule_returns_the_bonus_and_the_fee(self, api, funded):
        post(
            api,
            "/api/v1/cards",
            {"member": funded.pk, "product": "keep_card", "payment_method": "wechat"},
        )
        body = post(
            api, f"/api/v1/cards/{funded.card_no}/refund", {"identity_checked": True}
        ).json()
        assert (body["principal_returned"], body["bonus_returned"], body["fee_returned"]) == (
            10000,
            2000,
            1500,
        )
        back = CardPayment.objects.get(kind="fee_refund")
        assert (back.amount, back.method) == (-1500, "wechat")
        assert ledger_selectors.reconcile(funded.merchant) == []

    def test_without_identity_check_nothing_is_written(self, api, funded):
        before, money = counts(), balances(funded)
        answer = post(api, f"/api/v1/cards/{funded.card_no}/refund", {})
        assert (answer.status_code, answer.json()["code"]) == (422, "identity_not_checked")
        assert (counts(), balances(funded)) == (before, money)

    def test_a_wrong_pin_refuses_and_writes_nothing(self, api, system, funded):
        sales.set_pin(system, funded, "135790")
        before, money = counts(), balances(funded)
        answer = post(
            api,
            f"/api/v1/cards/{funded.card_no}/refund",
            {"identity_checked": True, "pin": "111222"},
        )
        assert answer.status_code == 422 and answer.json()["code"] == "pin_invalid"
        assert (counts(), balances(funded)) == (before, money)
        right = post(
            api,
            f"/api/v1/cards/{funded.card_no}/refund",
            {"identity_checked": True, "pin": "135790"},
        )
        assert right.status_code == 200

    def test_a_replayed_refund_answers_the_same(self, api, funded):
        path = f"/api/v1/cards/{funded.card_no}/refund"
        first = post(api, path, {"identity_checked": True}, key="ref-1")
        again = post(api, path, {"identity_checked": True}, key="ref-1")
        assert first.json() == again.json() and first.status_code == 200


def test_every_issued_number_passes_luhn_under_the_merchant_prefix(api, system, program):
    from patron.tenancy.models import Merchant

    Merchant.objects.filter(pk=system.merchant.pk).update(card_prefix="62")
    member = register_member(system, {"mobile": "13500135000"})
    numbers = [member.card_no]
    for _ in range(3):
        numbers.append(post(api, f"/api/v1/cards/{numbers[-1]}/replace").json()["card_no"])
    assert all(luhn.is_valid(n) and n.startswith("62") for n in numbers)
    assert len(set(numbers)) == 4
