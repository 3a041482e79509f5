"""Paid memberships (F-12): buying, renewing from the later of now and the current end,
benefits while valid, expiry back to the earned tier, pro-rata refunds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.cards import memberships
from patron.cards.models import CardPayment, Membership
from patron.core.errors import DomainError
from patron.promotions.models import Tier, TierChange
from patron.promotions.selectors import member_tier_code
from patron.promotions.services import change_member_tier
from patron.tenancy.models import AuditEntry
from tests.cards.memberships_support import card_program_fixture, member_fixture  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
DAY = dt.timedelta(days=1)


def tier_of(member) -> str | None:
    member.refresh_from_db()
    return member_tier_code(member)


def buy(actor, member, product="svip", key="k1", method="wechat"):
    return memberships.buy_membership(actor, member, product, method=method, key=key)


def test_buying_takes_the_fee_with_its_tender_and_grants_the_tier(cashier, member):
    before = timezone.now()
    bought = buy(cashier, member)
    assert bought.valid_from >= before
    assert bought.valid_until - bought.valid_from == 365 * DAY
    assert (bought.tier_code, bought.fee_paid, bought.tier_before) == ("gold", 19900, "normal")
    payment = CardPayment.objects.get(membership=bought)
    assert (payment.kind, payment.amount, payment.method) == ("membership", 19900, "wechat")
    assert payment.receipt_no.startswith("C")
    assert payment.store == cashier.store_bound and payment.user == cashier.user
    assert tier_of(member) == "gold"
    change = TierChange.objects.get(member=member)
    assert change.reason == TierChange.Reason.PAID and change.to_tier.code == "gold"
    assert AuditEntry.objects.filter(object_type="membership", object_id=str(bought.pk)).exists()


def test_the_same_key_buys_once(cashier, member):
    first = buy(cashier, member)
    again = buy(cashier, member)
    assert again.pk == first.pk
    assert Membership.objects.count() == 1 and CardPayment.objects.count() == 1


def test_renewal_extends_from_the_current_end(cashier, member):
    first = buy(cashier, member, key="a")
    second = buy(cashier, member, key="b")
    assert second.valid_from == first.valid_until
    assert second.valid_until == first.valid_until + 365 * DAY
    assert second.tier_before == "normal"  # not the paid tier the member holds now
    assert memberships.paid_until(member) == second.valid_until


def test_renewal_after_the_end_starts_now(cashier, member):
    first = buy(cashier, member, key="a")
    Membership.objects.filter(pk=first.pk).update(
        valid_from=timezone.now() - 400 * DAY, valid_until=timezone.now() - 35 * DAY
    )
    memberships.expire_due()
    before = timezone.now()
    second = buy(cashier, member, key="b")
    assert before <= second.valid_from <= timezone.now()
    assert second.valid_until - second.valid_from == 365 * DAY


def test_a_higher_tier_held_is_kept(system, cashier, member):
    change_member_tier(system, member, Tier.objects.get(code="gold"), "manual")
    bought = buy(cashier, member, product="month")  # silver: below gold
    assert tier_of(member) == "gold" and bought.tier_before == "gold"
    assert TierChange.objects.filter(reason="paid").count() == 0


def test_expiry_returns_the_member_to_the_earned_tier(system, cashier, member):
    change_member_tier(system, member, Tier.objects.get(code="silver"), "manual")
    bought = buy(cashier, member)
    assert tier_of(member) == "gold"
    assert memberships.expire_due(bought.valid_until - dt.timedelta(seconds=1)) == 0
    assert memberships.expire_due(bought.valid_until) == 1
    bought.refresh_from_db()
    assert bought.status == Membership.Status.EXPIRED
    assert tier_of(member) == "silver"
    change = TierChange.objects.filter(member=member).first()
    assert change.reason == TierChange.Reason.PAID_EXPIRED
    assert memberships.expire_due(bought.valid_until) == 0  # idempotent


def test_expiry_of_a_period_with_a_renewal_keeps_the_tier(cashier, member):
    first = buy(cashier, member, key="a")
    buy(cashier, member, key="b")
    assert memberships.expire_due(first.valid_until) == 1
    assert tier_of(member) == "gold"


@pytest.mark.parametrize(
    ("days_used", "expected"),
    [
        (0, 19900),  # nothing used: all of it
        (100, 14448),  # 265 × 19900 / 365 = 14447.67 -> 14448
        (1, 19845),  # 364 × 19900 / 365 = 19845.48 -> 19845
        (364, 55),  # 1 day left: 54.52 -> 55
    ],
)
def test_refund_returns_the_unused_whole_days(cashier, member, days_used, expected):
    bought = buy(cashier, member)
    shift = days_used * DAY + dt.timedelta(hours=1)  # the day under way counts as unused
    Membership.objects.filter(pk=bought.pk).update(
        valid_from=bought.valid_from - shift, valid_until=bought.valid_until - shift
    )
    done = memberships.refund_membership(cashier, member, bought.pk, method="cash", key="r1")
    assert done.amount == expected
    assert (done.payment.kind, done.payment.amount, done.payment.method) == (
        "membership_refund",
        -expected,
        "cash",
    )
    done.membership.refresh_from_db()
    assert done.membership.status == "refunded" and done.membership.refunded == expected
    assert tier_of(member) == "normal"
    assert TierChange.objects.filter(member=member).first().reason == "paid_expired"


def test_refund_is_idempotent(cashier, member):
    bought = buy(cashier, member)
    first = memberships.refund_membership(cashier, member, bought.pk, key="r1")
    again = memberships.refund_membership(cashier, member, bought.pk, key="r2")
    assert (again.amount, again.payment.pk) == (first.amount, first.payment.pk)
    assert CardPayment.objects.filter(kind="membership_refund").count() == 1


def test_refund_not_allowed_by_the_rule(cashier, member):
    bought = buy(cashier, member, product="month")
    with pytest.raises(DomainError) as refused:
        memberships.refund_membership(cashier, member, bought.pk, key="r1")
    assert (refused.value.code, refused.value.status) == ("refund_not_allowed", 409)
    bought.refresh_from_db()
    assert bought.status == "active" and tier_of(member) == "silver"


def test_refund_without_pro_rata_gives_nothing_back(cashier, member):
    bought = buy(cashier, member, product="flat")
    done = memberships.refund_membership(cashier, member, bought.pk, key="r1")
    assert done.amount == 0 and done.payment is None
    assert tier_of(member) == "normal"


def test_unknown_and_unpaid_products_are_refused(cashier, member):
    for code, expected in (("nope", "unknown_product"), ("std", "not_a_paid_membership")):
        with pytest.raises(DomainError) as refused:
            buy(cashier, member, product=code, key=code)
        assert (refused.value.code, refused.value.status) == (expected, 422)
    assert not Membership.objects.exists() and not CardPayment.objects.exists()


def test_an_unknown_tender_is_refused(cashier, member):
    with pytest.raises(DomainError) as refused:
        buy(cashier, member, method="bitcoin")
    assert refused.value.code == "validation_error"
    assert not Membership.objects.exists()


def test_tier_after_expiry_is_the_tier_held_before(cashier, member):
    bought = buy(cashier, member)
    assert memberships._tier_after_expiry(member, bought).code == "normal"
