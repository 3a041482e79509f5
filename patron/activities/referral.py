"""Referral (F-04): the referrer earns `referrer_points` when the referee's FIRST committed
sale commits (never for joining alone), at most `monthly_cap` rewards a month (merchant's
zone); the referee gets `referee_coupon` with that first sale. A refund of that sale takes
both back. One ReferralReward per referee makes all of it exact and idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.activities.checkin import local_today
from patron.activities.checkin_program import sale_policy
from patron.activities.models import MemberDevice, ReferralReward
from patron.core.errors import DomainError, FieldError
from patron.ledger import services as ledger
from patron.members.models import Member
from patron.members.services import resolve_referrer
from patron.promotions import services as promotions
from patron.promotions.models import CouponStatus
from patron.sales.models import Sale
from patron.tenancy.actor import Actor

SOURCE = "referral"
DEVICE_KEY = "device_id"
DEVICE_MAX = 64
Status = ReferralReward.Status


# --- at registration -------------------------------------------------------------------------


def _device(data: Mapping[str, Any]) -> str:
    value = data.get(DEVICE_KEY)
    return value.strip()[:DEVICE_MAX] if isinstance(value, str) else ""


def registration_errors(
    actor: Actor, data: Mapping[str, Any], fields: Mapping[str, Any]
) -> list[FieldError]:
    """No self-referral: the referrer may not be the same mobile or the same device."""
    errors = []
    value = data.get(DEVICE_KEY)
    if value is not None and (not isinstance(value, str) or len(value) > DEVICE_MAX):
        errors.append(FieldError(DEVICE_KEY, _("A device id of at most 64 characters.")))
    referrer, _problems = resolve_referrer(actor.merchant, data.get("referrer_code"))
    if referrer is None:
        return errors
    device = _device(data)
    same_device = device and MemberDevice.objects.filter(member=referrer, device_id=device).exists()
    if referrer.mobile == fields.get("mobile") or same_device:
        errors.append(FieldError("referrer_code", _("You cannot refer yourself.")))
    return errors


def after_registration(actor: Actor, member: Member, data: Mapping[str, Any]) -> None:
    """Remember the device a member joined from, for the self-referral check."""
    device = _device(data)
    if device:
        MemberDevice.objects.get_or_create(merchant=actor.merchant, member=member, device_id=device)


def is_self_referral(referrer: Member, referee: Member) -> bool:
    if referrer.pk == referee.pk or referrer.mobile == referee.mobile:
        return True
    devices = MemberDevice.objects.filter(member=referee).values("device_id")
    return MemberDevice.objects.filter(member=referrer, device_id__in=devices).exists()


# --- the first sale and its refund -----------------------------------------------------------


def month_of(actor: Actor, at: dt.datetime | None = None) -> str:
    return local_today(actor.merchant, at).strftime("%Y-%m")


def on_sale(actor: Actor, member: Member, sale: Sale) -> ReferralReward | None:
    """Reward the referral when `sale` is the referee's first; None when there is nothing to
    reward (no referrer, no rules, not the first sale, rewarded before)."""
    if member.referred_by_id is None:
        return None
    config = sale_policy(member.merchant_id).referral
    if not config or ReferralReward.objects.filter(referee=member).exists():
        return None
    if Sale.objects.filter(member=member).exclude(pk=sale.pk).exists():
        return None  # only the first committed sale counts
    referrer = Member.objects.select_for_update().filter(pk=member.referred_by_id).first()
    if referrer is None or is_self_referral(referrer, member):
        return None
    month = month_of(actor)
    try:
        with transaction.atomic():
            return _reward(actor, config, referrer, member, sale, month)
    except IntegrityError:  # the referee's other first sale, concurrently: rewarded there
        return None


def _reward(
    actor: Actor,
    config: Mapping[str, Any],
    referrer: Member,
    referee: Member,
    sale: Sale,
    month: str,
) -> ReferralReward:
    cap = config.get("monthly_cap")
    taken = ReferralReward.objects.filter(referrer=referrer, month=month, status=Status.REWARDED)
    capped = cap is not None and taken.count() >= cap  # the referrer's row lock keeps it exact
    reward = ReferralReward.objects.create(
        merchant=actor.merchant,
        referrer=referrer,
        referee=referee,
        sale=sale,
        month=month,
        status=Status.CAPPED if capped else Status.REWARDED,
    )
    if not capped:
        reward.points = config["referrer_points"]
        reward.transaction = ledger.earn_points(
            actor,
            referrer,
            reward.points,
            key=f"referral:{referee.pk}",
            pending_days=0,
            context=ledger.Context(
                reason=_("Referral reward"), source=SOURCE, source_ref=str(referee.pk)
            ),
        )
    if config.get("referee_coupon"):
        reward.coupon = _welcome_coupon(actor, referee, config["referee_coupon"])
    reward.save(update_fields=["points", "transaction", "coupon"])
    return reward


def _welcome_coupon(actor: Actor, referee: Member, code: str):
    """The referee's coupon; a template out of stock or ended must not fail their sale."""
    try:
        return promotions.issue_coupon(actor, referee, code, key=f"referral-coupon:{referee.pk}")
    except DomainError:
        return None


def on_refund(actor: Actor, member: Member, sale: Sale) -> ReferralReward | None:
    """A refund of the rewarded first sale takes the points back (a ledger reversal: what
    the referrer already spent is a shortfall) and voids the coupon if it is unused."""
    reward = ReferralReward.objects.filter(referee=member, sale=sale).exclude(status=Status.REVOKED)
    reward = reward.select_for_update().first()
    if reward is None:
        return None
    reason = _("Referral reward taken back: the first purchase was refunded")
    if reward.transaction_id is not None:
        ledger.reverse(actor, reward.transaction, key=f"referral-revoke:{reward.pk}", reason=reason)
    if reward.coupon_id is not None and reward.coupon.status == CouponStatus.AVAILABLE:
        promotions.end_coupon(Actor.system(actor.merchant), reward.coupon, reason=reason)
    reward.status, reward.revoked_at = Status.REVOKED, timezone.now()
    reward.save(update_fields=["status", "revoked_at"])
    return reward


# --- reads -----------------------------------------------------------------------------------


def leaderboard(merchant_id: int, month: str, limit: int = 20) -> QuerySet[Member]:
    """Referrers by rewarded referrals in `month`, most first (ties: who got there first)."""
    rewarded = Q(referral_rewards__month=month, referral_rewards__status=Status.REWARDED)
    return (
        Member.objects.filter(merchant_id=merchant_id)
        .annotate(rewarded=Count("referral_rewards", filter=rewarded))
        .filter(rewarded__gt=0)
        .order_by("-rewarded", "pk")[:limit]
    )


def friends_joined(member: Member) -> int:
    return Member.objects.filter(referred_by=member).count()
