"""/m/privacy/delete: the settlement shown before confirming, refusal without confirmation,
immediate erasure when nothing is refundable (no personal field left, no log-in with that
mobile, books reconcile), a pending request when principal is to be refunded, withdrawal."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.campaigns.models import Message
from patron.cards.models import Card
from patron.insight.models import ExternalMember, MemberEvent
from patron.ledger import selectors as ledger_selectors
from patron.ledger.models import Transaction
from patron.members.models import ConsentRecord, Member, MemberStatus, Tag
from patron.members.services import ERASED_FIELDS, erased_mobile, update_member
from patron.portal.models import ErasureRequest
from patron.portal.session import current_member
from patron.promotions.models import Coupon, CouponStatus
from patron.sales.models import Sale
from patron.tenancy.models import AuditEntry
from tests.portal.conftest import MOBILE
from tests.portal.privacy_support import apply, assert_books_balance, give_history, page

pytestmark = [pytest.mark.postgres]

PERSONAL = {
    "name": "林小雨",
    "gender": "F",
    "birthday": "1990-05-01",
    "lunar_birthday": "04-07",
    "email": "lin@example.cn",
    "region": "浙江 杭州",
    "address": "西湖区文三路 1 号",
    "occupation": "教师",
    "id_number": "11010519491231002X",
    "income_band": "middle",
    "tags": ["常客"],
}


@pytest.fixture
def member(system, stores, portal_member):
    """The portal member with every personal field filled and some history."""
    apply(system)
    member = update_member(system, portal_member, PERSONAL)
    give_history(system, member, tea="龙井", note="林小雨 生日快乐")
    MemberEvent.objects.create(
        member=member, merchant=member.merchant, kind="complaint", body="林小雨 说茶凉了",
        occurred_at=member.joined_at,
    )  # fmt: skip
    ExternalMember.objects.create(merchant=member.merchant, member=member, external_id="OLD-1")
    Card.objects.create(
        merchant=member.merchant, member=member, card_no=member.card_no, physical_id="NFC-77",
        issued_at=member.joined_at,
    )  # fmt: skip
    return Member.objects.get(pk=member.pk)


def written() -> tuple[int, ...]:
    return (
        ErasureRequest.objects.count(),
        Transaction.objects.count(),
        AuditEntry.objects.count(),
        Coupon.objects.filter(status=CouponStatus.AVAILABLE).count(),
    )


def test_the_settlement_is_shown_before_confirming(phone, member, system):
    from patron.ledger import services as ledger

    ledger.top_up(system, member, 10000, key="sv")  # 100 yuan + 20 bonus
    html = page(phone, "/m/privacy/delete")
    assert 'data-figure="refundable"><strong>¥100.00' in html
    assert 'data-figure="bonus">¥20.00' in html
    assert 'data-figure="points">530' in html  # 500 given + 30 earned on the sale
    assert 'data-figure="coupons">1' in html and "满100减20" in html
    assert 'name="understood"' in html


def test_deleting_without_confirmation_is_refused_and_nothing_is_written(phone, member):
    before = written()
    response = phone.post("/m/privacy/delete", {})
    assert response.status_code == 422
    assert "m-error" in response.content.decode()
    assert written() == before
    assert Member.objects.get(pk=member.pk).name == "林小雨"


def test_nothing_refundable_erases_at_once(phone, member, merchant):
    old_card = member.card_no
    last_audit = AuditEntry.objects.latest("id").pk
    response = phone.post("/m/privacy/delete", {"understood": "on"})
    assert response.status_code == 200 and 'id="erasure-done"' in response.content.decode()

    erased = Member.objects.get(pk=member.pk)
    assert erased.status == MemberStatus.CLOSED
    assert erased.mobile == erased_mobile(erased) and not erased.mobile.isdigit()
    assert len(erased.mobile) <= 11
    for name, value in ERASED_FIELDS.items():
        assert getattr(erased, name) == value, name
    assert erased.name_pinyin == "" and erased.id_number == ""
    assert not erased.tags.exists() and Tag.objects.filter(name="常客").exists()
    assert erased.card_no == old_card  # the books' anonymous id
    assert not Card.objects.filter(member=erased).exclude(physical_id="").exists()
    assert not Message.objects.filter(member=erased).exclude(body="").exists()
    assert not MemberEvent.objects.filter(member=erased).exclude(body="").exists()
    assert not ExternalMember.objects.filter(member=erased).exists()
    assert not ConsentRecord.objects.filter(member=erased).order_by("-id")[0].granted

    # Balances settled through the ledger: nothing left, the books still add up.
    balances = ledger_selectors.member_balances(erased)
    assert balances["points"]["available"] == 0
    assert balances["stored_value"]["total"] == 0
    assert not Coupon.objects.filter(member=erased, status=CouponStatus.AVAILABLE).exists()
    assert Sale.objects.filter(member=erased).count() == 1
    assert_books_balance(merchant)

    request = ErasureRequest.objects.get(member=erased)
    assert request.status == ErasureRequest.Status.COMPLETED
    assert request.settlement["points"] == 530 and request.settlement["done"]["refunded"] == 0

    # Logged out, and the mobile no longer finds anyone.
    assert phone.get("/m/privacy").status_code == 302
    assert not Member.objects.filter(merchant=merchant, mobile=MOBILE).exists()

    # Every step is audited, and no audit row of the erasure names an erased value.
    steps = AuditEntry.objects.filter(pk__gt=last_audit)
    assert steps.filter(object_type="erasurerequest", action="create").exists()
    assert steps.filter(object_type="erasurerequest", action="update").exists()
    assert steps.filter(object_type="member", object_id=str(erased.pk), action="update").exists()
    text = str(list(steps.values_list("changes", "object_repr")))
    for value in (
        "林小雨",
        MOBILE,
        "lin@example.cn",
        "文三路",
        "教师",
        "1990-05-01",
        "04-07",
        "常客",
        "NFC-77",
    ):
        assert value not in text


def test_the_same_mobile_can_join_again_after_erasure(phone, member, system):
    from patron.members.services import register_member

    phone.post("/m/privacy/delete", {"understood": "on"})
    again = register_member(system, {"mobile": MOBILE, "name": "新会员"})
    assert again.pk != member.pk


def test_principal_waits_for_a_store_and_can_be_withdrawn(phone, member, system):
    from patron.ledger import services as ledger

    ledger.top_up(system, member, 10000, key="sv")
    response = phone.post("/m/privacy/delete", {"understood": "on"})
    assert response.status_code == 302
    html = page(phone, "/m/privacy/delete")
    assert 'id="erasure-pending"' in html and "¥100.00" in html
    assert 'id="erasure-pending"' in page(phone, "/m/privacy")
    request = ErasureRequest.objects.get(member=member)
    assert request.status == ErasureRequest.Status.PENDING
    assert request.settlement["refundable"] == 10000 and request.settlement["bonus"] == 2000
    assert Member.objects.get(pk=member.pk).name == "林小雨"  # nothing erased yet

    # A second request while one waits does not make another.
    phone.post("/m/privacy/delete", {"understood": "on"})
    assert ErasureRequest.objects.filter(member=member).count() == 1

    response = phone.post("/m/privacy/delete", {"action": "withdraw"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == ErasureRequest.Status.WITHDRAWN
    actions = list(
        AuditEntry.objects.filter(object_type="erasurerequest", object_id=str(request.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update"]
    assert Member.objects.get(pk=member.pk).status == MemberStatus.ACTIVE


def test_a_closed_member_is_logged_out(member, merchant):
    client = Client()
    from tests.portal.conftest import log_in_as

    log_in_as(client, member)
    client.post("/m/privacy/delete", {"understood": "on"})

    class Request:
        session = client.session

    assert current_member(Request, merchant) is None
