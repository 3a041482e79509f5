"""Paid memberships (F-12; API.md §7): buy a period of a card product with `paid_days`
(年卡SVIP), renew it, let it expire, refund it pro rata.

While a period is valid the member holds the product's tier (when it is above what they hold;
`Membership.tier_before` keeps what they held). When the last period ends, by expiry or refund,
they go back to the tier they earn (`_tier_after_expiry`). The fee and any refund are
`CardPayment` rows with their tender and receipt number (counted by the shift close).
See docs/memberships.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.cards.models import CardPayment, CardProduct, Membership
from patron.cards.payments import checked_method, take_payment
from patron.cards.tiers import earned_tier
from patron.core.errors import Conflict, DomainError, NotFound
from patron.engine.money import div_round_half_up
from patron.members.models import Member
from patron.promotions import selectors as tiers
from patron.promotions.models import Tier, TierChange
from patron.promotions.services import change_member_tier
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.services import audit

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Refund:
    membership: Membership
    amount: int  # fen given back (0 when the rule returns nothing)
    payment: CardPayment | None


# --- reads -----------------------------------------------------------------------------------


def paid_product(merchant: Merchant, code: str) -> CardProduct:
    """The active card product `code`, which must be a paid membership."""
    product = CardProduct.objects.filter(merchant=merchant, code=code, is_active=True).first()
    if product is None:
        raise DomainError(_("Unknown card product %s.") % code, "unknown_product", 422)
    if not product.is_paid_membership:
        raise DomainError(
            _("%s is not a paid membership (it has no paid days).") % product.name,
            "not_a_paid_membership",
            422,
        )
    return product


def active_periods(member: Member, at: dt.datetime | None = None):
    """The member's paid periods not yet ended at `at` (now), the current one first."""
    at = at or timezone.now()
    return Membership.objects.filter(
        member=member, status=Membership.Status.ACTIVE, valid_until__gt=at
    ).order_by("valid_from", "pk")


def current_membership(member: Member, at: dt.datetime | None = None) -> Membership | None:
    """The period that gives the member their paid tier now (renewals after it extend it)."""
    at = at or timezone.now()
    return active_periods(member, at).filter(valid_from__lte=at).first()


def paid_until(member: Member, at: dt.datetime | None = None) -> dt.datetime | None:
    """When the member's paid membership ends, renewals included."""
    last = active_periods(member, at).order_by("-valid_until").first()
    return last.valid_until if last else None


def refund_amount(membership: Membership, at: dt.datetime | None = None) -> int:
    """What a refund at `at` gives back under the product's rule: the unused days of the
    period times the fee over its days (half-up to the fen); 0 when the rule says no pro rata.

    Used days are the whole days gone since the period began: the day under way counts as
    unused (in the member's favour), so a refund right after buying returns the whole fee.
    """
    rule = membership.product.refund or {}
    if not rule.get("pro_rata", True):
        return 0
    at = at or timezone.now()
    paid_days = max((membership.valid_until - membership.valid_from) // DAY, 1)
    used = max((at - membership.valid_from) // DAY, 0)
    unused = max(paid_days - used, 0)
    return div_round_half_up(unused * membership.fee_paid, paid_days)


# --- buying ----------------------------------------------------------------------------------


def _tier(merchant_id: int, code: str) -> Tier | None:
    if not code:
        return None
    return Tier.objects.filter(merchant_id=merchant_id, code=code, is_active=True).first()


def _rank(tier: Tier | None) -> int:
    return tier.rank if tier is not None else 0


def buy_membership(
    actor: Actor, member: Member, product_code: str, *, method: str | None = None, key: str
) -> Membership:
    """Sell one period of a paid membership; a renewal starts when the current one ends
    (or now, when none is running). The same key answers with the first purchase."""
    done = CardPayment.objects.filter(merchant=actor.merchant, idempotency_key=key).first()
    if done is not None and done.membership_id:
        return done.membership
    product = paid_product(actor.merchant, product_code)
    method = checked_method(method)
    with transaction.atomic():
        # One purchase of a member at a time: a renewal must see the period before it.
        locked = (
            Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member.pk)
        )
        now = timezone.now()
        last = active_periods(locked, now).order_by("-valid_until").first()
        start = max(now, last.valid_until) if last else now
        held = tiers.member_tier(locked)
        membership = Membership.objects.create(
            merchant=actor.merchant,
            member=locked,
            product=product,
            tier_code=product.tier_code,
            valid_from=start,
            valid_until=start + product.paid_days * DAY,
            fee_paid=product.fee,
            # A renewal keeps what the member held before their paid tier.
            tier_before=last.tier_before if last else (held.code if held else ""),
        )
        if product.fee:
            take_payment(
                actor,
                locked,
                CardPayment.Kind.MEMBERSHIP,
                product.fee,
                method=method,
                key=key,
                membership=membership,
            )
        granted = _tier(actor.merchant.pk, product.tier_code)
        if granted is not None and _rank(granted) > _rank(held):
            change_member_tier(
                actor,
                locked,
                granted,
                TierChange.Reason.PAID,
                detail={"membership": membership.pk, "product": product.code},
            )
        audit(
            actor,
            "create",
            membership,
            {
                "product": [None, product.code],
                "valid_until": [None, membership.valid_until],
                "fee_paid": [None, product.fee],
            },
            label=_("Paid membership %(product)s of %(member)s")
            % {"product": product.name, "member": locked},
        )
    return membership


# --- the end of a period ---------------------------------------------------------------------


def _tier_after_expiry(member: Member, membership: Membership) -> Tier | None:
    """The tier a member goes back to when their paid membership ends: the tier the rules
    give them now, or the one they held before it when that is higher (a tier set by hand or
    earned earlier is left to the nightly review, with its keep_when and grace)."""
    earned = earned_tier(member)
    before = _tier(member.merchant_id, membership.tier_before)
    if before is not None and (earned is None or before.rank > earned.rank):
        return before
    return earned


def _return_tier(actor: Actor, member: Member, membership: Membership, reason: str) -> None:
    """Back to the earned tier, unless another period still runs or staff moved the member
    off the paid tier meanwhile."""
    if active_periods(member).exclude(pk=membership.pk).exists():
        return
    member = Member.objects.select_related("tier").get(pk=member.pk)
    if tiers.member_tier_code(member) != membership.tier_code:
        return
    change_member_tier(
        actor,
        member,
        _tier_after_expiry(member, membership),
        TierChange.Reason.PAID_EXPIRED,
        detail={"membership": membership.pk, "why": reason},
    )


def expire_due(as_of: dt.datetime | None = None, merchant: Merchant | None = None) -> int:
    """Mark the periods ended by `as_of` expired and return their members to the tier they
    earn. Idempotent: an expired period is never looked at again."""
    as_of = as_of or timezone.now()
    due = Membership.objects.filter(status=Membership.Status.ACTIVE, valid_until__lte=as_of)
    if merchant is not None:
        due = due.filter(merchant=merchant)
    expired = 0
    for pk in due.order_by("valid_until", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            membership = (
                Membership.objects.select_for_update()
                .select_related("merchant", "member")
                .filter(pk=pk, status=Membership.Status.ACTIVE)
                .first()
            )
            if membership is None:
                continue
            actor = Actor.system(membership.merchant)
            membership.status = Membership.Status.EXPIRED
            membership.save(update_fields=["status"])
            if not active_periods(membership.member, as_of).exists():
                _return_tier(actor, membership.member, membership, "expired")
            audit(
                actor,
                "update",
                membership,
                {"status": [Membership.Status.ACTIVE, Membership.Status.EXPIRED]},
                label=_("Paid membership of %s") % membership.member,
            )
            expired += 1
    return expired


def refund_membership(
    actor: Actor, member: Member, membership_id: int, *, method: str | None = None, key: str
) -> Refund:
    """End a period now and give back its unused days per the product's rule. Refunding a
    refunded period answers with the first refund."""
    method = checked_method(method)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("product")
            .filter(merchant=actor.merchant, member=member, pk=membership_id)
            .first()
        )
        if membership is None:
            raise NotFound(_("Paid membership not found"))
        if membership.status == Membership.Status.REFUNDED:
            payment = membership.payments.filter(kind=CardPayment.Kind.MEMBERSHIP_REFUND).first()
            return Refund(membership, membership.refunded, payment)
        if membership.status != Membership.Status.ACTIVE:
            raise Conflict(
                _("This paid membership has ended; there is nothing to refund."),
                "membership_ended",
            )
        if not (membership.product.refund or {}).get("allowed", True):
            raise Conflict(
                _("The rules of %s allow no refund.") % membership.product.name,
                "refund_not_allowed",
            )
        now = timezone.now()
        amount = refund_amount(membership, now)
        payment = None
        if amount:
            payment = take_payment(
                actor,
                member,
                CardPayment.Kind.MEMBERSHIP_REFUND,
                -amount,
                method=method,
                key=key,
                membership=membership,
            )
        membership.status = Membership.Status.REFUNDED
        membership.refunded = amount
        membership.save(update_fields=["status", "refunded"])
        _return_tier(actor, member, membership, "refunded")
        audit(
            actor,
            "update",
            membership,
            {
                "status": [Membership.Status.ACTIVE, Membership.Status.REFUNDED],
                "refunded": [0, amount],
            },
            label=_("Paid membership of %s") % member,
        )
    return Refund(membership, amount, payment)
