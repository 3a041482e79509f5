"""What a campaign did (API.md §9 `GET /campaigns/{id}/report`, F-39).

- targeted: every target row (holdout included); once the run is done it is holdout + reached
  + the suppressed. Messages held for quiet hours count under `suppressed.quiet_hours` until
  they are sent.
- redeemed: the campaign's coupons used in a sale.
- revenue: the totals of completed sales of reached members within `window_days` of contact.
- cost: what the campaign's coupons took off those sales, the points it gave at their cash
  value, and messages at the merchant's configured price per channel (program `campaigns`).
- uplift: conversion (any completed sale within the window after being targeted) of the
  treated group against the holdout, by intention to treat (every treated member counts,
  suppressed ones too: the holdout was drawn from the same whole). `diff` is the difference of
  the two rates and `ci95` its 95 % interval by the normal approximation for a difference of
  two proportions: diff ± z(0.975) · sqrt(p1(1-p1)/n1 + p2(1-p2)/n2).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from scipy.stats import norm

from patron.campaigns.models import Campaign, Message, Target
from patron.sales.models import Sale, SaleDiscount

REASONS = ("consent", "cap", "quiet_hours", "opted_out", "budget")
# A partly refunded sale still happened; a wholly refunded one did not convert anybody.
COUNTED_SALES = (Sale.Status.COMPLETED, Sale.Status.PARTLY_REFUNDED)
Z95 = float(norm.ppf(0.975))


def uplift(converted_t: int, n_t: int, converted_h: int, n_h: int) -> dict[str, Any]:
    """Treated vs holdout conversion: rates, difference and its 95 % interval (None where a
    group is empty)."""
    treated = converted_t / n_t if n_t else None
    holdout = converted_h / n_h if n_h else None
    if treated is None or holdout is None:
        return {"treated_rate": treated, "holdout_rate": holdout, "diff": None, "ci95": None}
    diff = treated - holdout
    se = math.sqrt(treated * (1 - treated) / n_t + holdout * (1 - holdout) / n_h)
    return {
        "treated_rate": round(treated, 6),
        "holdout_rate": round(holdout, 6),
        "diff": round(diff, 6),
        "ci95": [round(diff - Z95 * se, 6), round(diff + Z95 * se, 6)],
    }


def _window_sales(campaign: Campaign, since: str) -> Any:
    """Completed sales of the target's member from `since` to the end of the window."""
    window = dt.timedelta(days=campaign.window_days)
    return Sale.objects.filter(
        member_id=OuterRef("member_id"),
        status__in=COUNTED_SALES,
        occurred_at__gte=OuterRef(since),
        occurred_at__lt=OuterRef(since) + window,
    )


def _coupon_prefix(campaign: Campaign) -> str:
    return f"campaign:{campaign.pk}:"


def report(campaign: Campaign) -> dict[str, Any]:
    campaign.refresh_from_db(fields=["spent_fen", "budget_fen"])  # chunks spend meanwhile
    targets = Target.objects.filter(campaign=campaign)
    counts = targets.aggregate(
        targeted=Count("id"),
        holdout=Count("id", filter=Q(group=Target.Group.HOLDOUT)),
        reached=Count("id", filter=Q(outcome=Target.Outcome.REACHED)),
        held=Count("id", filter=Q(outcome=Target.Outcome.HELD)),
        failed=Count("id", filter=Q(outcome=Target.Outcome.FAILED)),
        **{
            reason: Count("id", filter=Q(outcome=Target.Outcome.SUPPRESSED, reason=reason))
            for reason in REASONS
        },
    )
    suppressed = {reason: counts[reason] for reason in REASONS}
    suppressed["quiet_hours"] += counts["held"]

    from patron.promotions.models import Coupon

    coupons = Coupon.objects.filter(
        merchant=campaign.merchant, issue_key__startswith=_coupon_prefix(campaign)
    )
    redeemed = coupons.filter(used_at__isnull=False).count()

    reached = targets.filter(outcome=Target.Outcome.REACHED, contacted_at__isnull=False)
    revenue_per_target = (
        _window_sales(campaign, "contacted_at")
        .values("member_id")
        .annotate(total=Sum("total"))
        .values("total")
    )
    revenue = (
        reached.annotate(revenue=Coalesce(Subquery(revenue_per_target), 0)).aggregate(
            s=Sum("revenue")
        )["s"]
        or 0
    )
    coupon_cost = (
        SaleDiscount.objects.filter(
            coupon__in=coupons, returned=False, sale__status__in=COUNTED_SALES
        ).aggregate(s=Sum("amount"))["s"]
        or 0
    )
    cost = (
        coupon_cost
        + _points_cost(campaign, counts["reached"] + counts["held"])
        + _message_cost(campaign)
    )

    converted = targets.annotate(bought=Exists(_window_sales(campaign, "created_at")))
    groups = converted.aggregate(
        n_t=Count("id", filter=Q(group=Target.Group.TREATED)),
        c_t=Count("id", filter=Q(group=Target.Group.TREATED, bought=True)),
        n_h=Count("id", filter=Q(group=Target.Group.HOLDOUT)),
        c_h=Count("id", filter=Q(group=Target.Group.HOLDOUT, bought=True)),
    )
    return {
        "targeted": counts["targeted"],
        "holdout": counts["holdout"],
        "reached": counts["reached"],
        "suppressed": suppressed,
        "failed": counts["failed"],
        "redeemed": redeemed,
        "revenue": int(revenue),
        "cost": int(cost),
        "spent": campaign.spent_fen,
        "budget": campaign.budget_fen,
        "uplift": uplift(groups["c_t"], groups["n_t"], groups["c_h"], groups["n_h"]),
    }


def _points_cost(campaign: Campaign, reached: int) -> int:
    from patron.campaigns.delivery import points_value

    points = sum(a["points"] for a in campaign.actions if a.get("type") == "points")
    return points_value(campaign.merchant, points) * reached if points else 0


def _message_cost(campaign: Campaign) -> int:
    from patron.campaigns.services import defaults_for

    prices = defaults_for(campaign.merchant_id).message_cost_fen or {}
    if not prices:
        return 0
    sent = (
        Message.objects.filter(campaign=campaign, status__in=["sent", "delivered"])
        .values_list("channel")
        .annotate(n=Count("id"))
    )
    return sum(int(prices.get(channel, 0)) * n for channel, n in sent)


def return_on(figures: dict[str, Any]) -> float | None:
    """(revenue - cost) / cost; None without cost."""
    if not figures["cost"]:
        return None
    return (figures["revenue"] - figures["cost"]) / figures["cost"]


def dashboard_rows(merchant, limit: int = 5) -> list[dict[str, Any]]:
    """The latest launched campaigns with reach, revenue, cost and ROI (console home)."""
    launched = Campaign.objects.filter(merchant=merchant, launched_at__isnull=False).order_by(
        "-launched_at", "-pk"
    )[:limit]
    rows = []
    for campaign in launched:
        figures = report(campaign)
        rows.append({"campaign": campaign, "figures": figures, "roi": return_on(figures)})
    return rows
