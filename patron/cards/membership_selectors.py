"""Reads for the console's paid-membership pages: the list of periods by where they stand,
and the member page's panel."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from patron.cards.memberships import active_periods, current_membership, paid_until
from patron.cards.models import Membership
from patron.members.models import Member
from patron.members.selectors import members_for
from patron.promotions.models import Tier
from patron.tenancy.actor import Actor

EXPIRING_SOON_DAYS = 30
VIEWS = ("active", "expiring", "expired")


@dataclass(frozen=True)
class Standing:
    """The member's paid membership as the member page shows it."""

    current: Membership | None
    tier_name: str
    until: dt.datetime | None
    days_left: int
    refundable: list[Membership]


def tier_names(merchant) -> dict[str, str]:
    return dict(Tier.objects.filter(merchant=merchant).values_list("code", "name"))


def days_left(until: dt.datetime | None, now: dt.datetime | None = None) -> int:
    if until is None:
        return 0
    now = now or timezone.now()
    # A day begun counts as a day left: a year bought now shows 365.
    return max(math.ceil((until - now) / dt.timedelta(days=1)), 0)


def standing(member: Member) -> Standing:
    now = timezone.now()
    current = current_membership(member, now)
    until = paid_until(member, now)
    names = tier_names(member.merchant)
    return Standing(
        current=current,
        tier_name=names.get(current.tier_code, current.tier_code) if current else "",
        until=until,
        days_left=days_left(until, now),
        refundable=list(active_periods(member, now).select_related("product")),
    )


def periods(actor: Actor, view: str, now: dt.datetime | None = None) -> QuerySet[Membership]:
    """The periods of the members `actor` may see: running, ending within 30 days, or over."""
    now = now or timezone.now()
    rows = Membership.objects.filter(
        merchant=actor.merchant, member__in=members_for(actor)
    ).select_related("member", "product")
    soon = now + dt.timedelta(days=EXPIRING_SOON_DAYS)
    if view == "expiring":
        return rows.filter(
            status=Membership.Status.ACTIVE, valid_until__gt=now, valid_until__lte=soon
        ).order_by("valid_until", "pk")
    if view == "expired":
        return rows.exclude(status=Membership.Status.ACTIVE, valid_until__gt=now).order_by(
            "-valid_until", "-pk"
        )
    return rows.filter(status=Membership.Status.ACTIVE, valid_until__gt=now).order_by(
        "valid_until", "pk"
    )
