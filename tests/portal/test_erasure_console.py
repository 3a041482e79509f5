"""Console /portal/erasure/: the requests by status for HQ and the member's store manager;
completing one refunds the principal through the card refund, forfeits the rest, erases the
member and keeps the books reconciling (PostgreSQL too); other stores see nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.cards.models import CardEvent, CardPayment
from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.ledger.models import Transaction
from patron.members.models import Member, MemberStatus
from patron.portal import privacy
from patron.portal.models import ErasureRequest
from patron.portal.session import member_actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_staff
from tests.portal.conftest import MOBILE
from tests.portal.privacy_support import apply, assert_books_balance, give_history

pytestmark = [pytest.mark.postgres]


def logged_in(system, username: str, role: str, store=None) -> Client:
    staff = create_staff(system, username, "password123", role, store)
    client = Client()
    client.force_login(staff.user)
    return client


@pytest.fixture
def pending(system, stores, portal_member) -> ErasureRequest:
    apply(system)
    give_history(system, portal_member, tea="龙井", note="林小雨 你好", top_up=10000)
    request = privacy.request_erasure(member_actor(portal_member), portal_member, understood=True)
    assert request.status == ErasureRequest.Status.PENDING
    return request


def test_hq_lists_the_pending_request_with_its_settlement(system, pending):
    hq = logged_in(system, "hq", Role.HQ_ADMIN)
    html = hq.get("/portal/erasure/").content.decode()
    assert 'id="erasure-requests"' in html
    assert pending.member.card_no in html and "¥100.00" in html and MOBILE in html
    assert (
        pending.member.card_no not in hq.get("/portal/erasure/?status=completed").content.decode()
    )


def test_hq_completes_with_a_refund_of_the_principal(system, pending, merchant):
    hq = logged_in(system, "hq", Role.HQ_ADMIN)
    url = f"/portal/erasure/{pending.pk}/"
    html = hq.get(url).content.decode()
    assert "¥100.00" in html and 'name="payment_method"' in html and "林小雨" in html
    assert AuditEntry.objects.filter(action="view", object_id=str(pending.member_id)).exists()

    refused = hq.post(url, {"payment_method": "wechat"})  # identity not checked
    assert refused.status_code == 422
    assert Member.objects.get(pk=pending.member_id).name == "林小雨"

    response = hq.post(url, {"payment_method": "wechat", "identity_checked": "on"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == ErasureRequest.Status.COMPLETED
    assert pending.completed_by.user.username == "hq"
    assert pending.settlement["done"] == {
        "refunded": 10000, "points_forfeited": 530, "coupons_ended": 1, "method": "wechat"
    }  # fmt: skip
    member = Member.objects.get(pk=pending.member_id)
    assert member.status == MemberStatus.CLOSED and member.name == "" and member.mobile != MOBILE
    event = CardEvent.objects.get(member=member, kind=CardEvent.Kind.REFUNDED)
    assert event.detail["principal_returned"] == 10000 and event.detail["bonus_forfeited"] == 2000
    balances = ledger_selectors.member_balances(member)
    assert balances["stored_value"]["total"] == 0 and balances["points"]["available"] == 0
    assert Transaction.objects.filter(member=member, kind="card_refund").count() == 1
    assert_books_balance(merchant)
    page = hq.get(url).content.decode()
    assert "¥100.00" in page and "微信支付" in page and 'name="payment_method"' not in page


def test_a_member_with_a_pin_gives_it(system, pending, merchant):
    from patron.sales.services import set_pin

    set_pin(system, pending.member, "135790")
    hq = logged_in(system, "hq", Role.HQ_ADMIN)
    url = f"/portal/erasure/{pending.pk}/"
    assert 'name="pin"' in hq.get(url).content.decode()
    wrong = hq.post(url, {"payment_method": "cash", "identity_checked": "on", "pin": "000000"})
    assert wrong.status_code == 422
    assert ErasureRequest.objects.get(pk=pending.pk).status == ErasureRequest.Status.PENDING
    assert CardPayment.objects.count() == 0 and not Transaction.objects.filter(kind="card_refund")
    ok = hq.post(url, {"payment_method": "cash", "identity_checked": "on", "pin": "135790"})
    assert ok.status_code == 302
    assert_books_balance(merchant)


def test_the_store_manager_of_the_members_store_sees_and_completes(system, stores, pending):
    manager = logged_in(system, "m1", Role.STORE_MANAGER, stores["S1"])
    html = manager.get("/portal/erasure/").content.decode()
    assert pending.member.card_no in html
    response = manager.post(
        f"/portal/erasure/{pending.pk}/", {"payment_method": "cash", "identity_checked": "on"}
    )
    assert response.status_code == 302
    assert ErasureRequest.objects.get(pk=pending.pk).status == ErasureRequest.Status.COMPLETED


def test_a_manager_of_another_store_cannot_see_or_complete(system, stores, pending):
    other = logged_in(system, "m2", Role.STORE_MANAGER, stores["S2"])
    assert pending.member.card_no not in other.get("/portal/erasure/").content.decode()
    assert other.get(f"/portal/erasure/{pending.pk}/").status_code == 404
    response = other.post(
        f"/portal/erasure/{pending.pk}/", {"payment_method": "cash", "identity_checked": "on"}
    )
    assert response.status_code == 404
    assert ErasureRequest.objects.get(pk=pending.pk).status == ErasureRequest.Status.PENDING
    assert Member.objects.get(pk=pending.member_id).name == "林小雨"


def test_cashiers_and_marketers_are_refused(system, stores, pending):
    for username, role, store in (("c1", Role.CASHIER, stores["S1"]), ("mk", Role.MARKETER, None)):
        client = logged_in(system, username, role, store)
        assert client.get("/portal/erasure/").status_code == 403


def test_a_withdrawn_request_cannot_be_completed(system, pending):
    privacy.withdraw_erasure(member_actor(pending.member), pending)
    hq = logged_in(system, "hq", Role.HQ_ADMIN)
    response = hq.post(
        f"/portal/erasure/{pending.pk}/", {"payment_method": "cash", "identity_checked": "on"}
    )
    assert response.status_code == 200 and 'name="payment_method"' not in response.content.decode()
    assert Member.objects.get(pk=pending.member_id).status == MemberStatus.ACTIVE
    assert ledger.quick_balances(pending.member)["stored_value.principal"] == 10000
