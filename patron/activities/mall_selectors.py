"""Reads of the points mall: rewards with what is left, the redemption queue, points spent
per reward, a member's own view, the ledger's words and links, the shift's takings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from patron.activities.models import MallPayment, Redemption, Reward
from patron.ledger import payments
from patron.ledger.models import Transaction
from patron.ledger.references import Reference, refs_as_ids
from patron.ledger.services import quick_balances
from patron.members.models import Member
from patron.promotions.models import CouponStatus
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role
from patron.tenancy.selectors import scoped

SOURCE = "mall"
REASON = pgettext_lazy("ledger reason", "Points mall redemption")
TAKINGS_GROUP = "mall"
TAKINGS_LABEL = gettext_lazy("Points mall cash parts")
QUEUE_ROLES = {Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER}


def rewards(actor: Actor) -> QuerySet[Reward]:
    return Reward.objects.filter(merchant=actor.merchant, is_active=True)


def open_rewards(merchant: Any, now: dt.datetime | None = None) -> list[Reward]:
    now = now or timezone.now()
    return [r for r in Reward.objects.filter(merchant=merchant, is_active=True) if r.is_open(now)]


def redemptions(actor: Actor) -> QuerySet[Redemption]:
    return scoped(Redemption.objects.select_related("reward", "member", "store", "coupon"), actor)


def shown_status(redemption: Redemption) -> str:
    """A coupon reward whose coupon was used counts as fulfilled on every screen."""
    if (
        redemption.status == Redemption.Status.PENDING
        and redemption.coupon is not None
        and redemption.coupon.status == CouponStatus.USED
    ):
        return Redemption.Status.FULFILLED
    return redemption.status


def status_label(redemption: Redemption) -> str:
    status = shown_status(redemption)
    if status == Redemption.Status.FULFILLED and redemption.tracking_no:
        return _("Shipped")
    return str(Redemption.Status(status).label)


def queue(actor: Actor) -> QuerySet[Redemption]:
    """Goods waiting to be handed over or shipped, oldest first."""
    return (
        redemptions(actor)
        .filter(status=Redemption.Status.PENDING, reward__kind=Reward.Kind.GOODS)
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class ReportRow:
    reward: Reward
    redemptions: int
    points: int
    cash: int


def points_per_reward(
    actor: Actor, start: dt.datetime | None, end: dt.datetime | None
) -> list[ReportRow]:
    """Per reward, the redemptions not cancelled in [start, end), points spent and cash due."""
    found = redemptions(actor).exclude(status=Redemption.Status.CANCELLED)
    if start is not None:
        found = found.filter(created_at__gte=start)
    if end is not None:
        found = found.filter(created_at__lt=end)
    totals = {
        row["reward"]: row
        for row in found.values("reward").annotate(
            count=Count("pk"), points_sum=Sum("points"), cash_sum=Sum("cash_due")
        )
    }
    every = Reward.objects.filter(merchant=actor.merchant, pk__in=list(totals))
    rows = [
        ReportRow(
            reward,
            totals[reward.pk]["count"],
            totals[reward.pk]["points_sum"] or 0,
            totals[reward.pk]["cash_sum"] or 0,
        )
        for reward in every
    ]
    return sorted(rows, key=lambda row: (-row.points, row.reward.code))


@dataclass(frozen=True)
class MemberReward:
    reward: Reward
    affordable: bool
    held: int  # this member's redemptions not cancelled

    @property
    def limit_reached(self) -> bool:
        return self.reward.per_member is not None and self.held >= self.reward.per_member

    @property
    def sold_out(self) -> bool:
        return self.reward.left == 0

    @property
    def redeemable(self) -> bool:
        return self.affordable and not self.limit_reached and not self.sold_out


def member_points(member: Member) -> int:
    return quick_balances(member)["points"]


def member_rewards(member: Member) -> list[MemberReward]:
    """The open rewards, those the member can redeem now first, then by points."""
    points = member_points(member)
    held = dict(
        Redemption.objects.filter(member=member)
        .exclude(status=Redemption.Status.CANCELLED)
        .values_list("reward")
        .annotate(count=Count("pk"))
    )
    rows = [
        MemberReward(reward, reward.points <= points, held.get(reward.pk, 0))
        for reward in open_rewards(member.merchant)
    ]
    return sorted(rows, key=lambda row: (not row.redeemable, row.reward.points, row.reward.code))


def member_redemptions(member: Member) -> QuerySet[Redemption]:
    return Redemption.objects.filter(member=member).select_related("reward", "coupon")


def ledger_references(actor: Actor, transactions: list[Transaction]) -> dict[int, Reference]:
    """A redemption's movements -> 积分兑换 马克杯, linked to the redemption for staff."""
    wanted = refs_as_ids(transactions)
    found = {}
    rows = scoped(Redemption.objects.filter(pk__in=list(wanted)), actor).select_related("reward")
    may_open = actor.role in QUEUE_ROLES or actor.staff is None
    for redemption in rows:
        label = _("Points mall: %(reward)s") % {"reward": redemption.reward.name}
        url = reverse("mall:redemption", args=[redemption.pk]) if may_open else ""
        for txn in wanted[redemption.pk]:
            found[txn.pk] = Reference(label=label, url=url)
    return found


def takings(
    merchant: Any, store: Any, user: Any, start: dt.datetime, end: dt.datetime | None
) -> tuple[dict[str, int], int, dt.datetime | None]:
    """The cash parts `user` took (less those given back) at `store`, by method."""
    rows = MallPayment.objects.filter(
        merchant=merchant, store=store, user=user, created_at__gte=start
    )
    if end is not None:
        rows = rows.filter(created_at__lt=end)
    by_method: dict[str, int] = dict.fromkeys(payments.METHODS, 0)
    for method, total in rows.values_list("method").annotate(total=Coalesce(Sum("amount"), 0)):
        method = payments.canonical(method)
        by_method[method if method in payments.METHODS else payments.OTHER] += total
    count = rows.filter(amount__gt=0).values("redemption").distinct().count()
    first = rows.order_by("created_at").values_list("created_at", flat=True).first()
    return by_method, count, first


def stock_counts(actor: Actor) -> dict[int, dict[str, int]]:
    """Per reward: pending, fulfilled and cancelled redemptions."""
    counts = (
        Redemption.objects.filter(merchant=actor.merchant)
        .values("reward")
        .annotate(
            pending=Count("pk", filter=Q(status=Redemption.Status.PENDING)),
            fulfilled=Count("pk", filter=Q(status=Redemption.Status.FULFILLED)),
            cancelled=Count("pk", filter=Q(status=Redemption.Status.CANCELLED)),
        )
    )
    return {row["reward"]: row for row in counts}
