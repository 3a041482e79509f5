"""The dashboard's figures (F-47) over a range of local days, for the chain or one store (F-48).

Every figure is summed by the database (grouped by store, staff, member or period); Python
only merges the groups, ranks them and divides. Definitions, the JSON shape and the
diagnosis rule are in docs/reports.md.
"""

from __future__ import annotations

import datetime as dt
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, DateField, Q, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.dates import local_day, start_of_day, steady_offset
from patron.core.errors import FieldError, NotFound, ValidationFailed
from patron.core.forms import EARLIEST_DAY, LATEST_DAY
from patron.engine.money import div_round_half_up
from patron.insight.models import Lifecycle, MemberInsight
from patron.ledger.selectors import liabilities, points_value
from patron.ledger.services import policy_for
from patron.members.models import Member
from patron.members.selectors import members_for
from patron.promotions.models import Coupon, Promotion
from patron.sales.models import Refund, Sale, SaleDiscount
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.selectors import scoped

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # three years: longer ranges are a data export, not a dashboard
DAILY_UP_TO = 92  # days shown one by one; weeks up to WEEKLY_UP_TO, then months
WEEKLY_UP_TO = 731
PARETO_SHARE = 0.8  # "the members giving 80 % of member sales"
STAGES = [stage.value for stage in Lifecycle]
SERIES = ("sales", "member_sales", "new_members", "active_members")


# --- the range asked for ---------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Local days `first`..`last` (inclusive) in the merchant's zone, and the store asked for
    (None: every store the actor may see)."""

    first: dt.date
    last: dt.date
    zone: zoneinfo.ZoneInfo
    store: Store | None = None

    @property
    def start(self) -> dt.datetime:
        return start_of_day(self.first, self.zone)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the range (compare with <)."""
        return start_of_day(self.last + dt.timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def granularity(self) -> str:
        if self.days <= DAILY_UP_TO:
            return "day"
        return "week" if self.days <= WEEKLY_UP_TO else "month"


def merchant_zone(actor: Actor) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(actor.merchant.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def parse_day(text: str | None, name: str) -> dt.date | None:
    if text is None or not str(text).strip():
        return None
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationFailed([FieldError(name, _("Not a date: write YYYY-MM-DD"))]) from None


def store_asked(actor: Actor, code: str | None) -> Store | None:
    """The store named by `code`, if the actor may see it. A store-bound actor always reads
    their own store; naming another (or none that exists) is a 404, so nobody learns which
    codes exist elsewhere. For chain-wide actors an unknown code is a 422 on `store`."""
    code = (code or "").strip()
    bound = actor.store_bound
    if bound is not None:
        if code and code != bound.code:
            raise NotFound("No such store")
        return bound
    if not code:
        return None
    store = Store.objects.filter(merchant=actor.merchant, code=code).first()
    if store is None:
        raise ValidationFailed([FieldError("store", _("Unknown store %s.") % code[:40])])
    return store


def window_for(
    actor: Actor,
    first: str | dt.date | None = None,
    last: str | dt.date | None = None,
    store: str | None = None,
    *,
    today: dt.date | None = None,
) -> Window:
    """Check what was asked (dates as YYYY-MM-DD or date objects) and name the range: by
    default the 30 days up to today; a missing start is 30 days before the end."""
    zone = merchant_zone(actor)
    today = today or timezone.now().astimezone(zone).date()
    errors: list[FieldError] = []
    days: dict[str, dt.date | None] = {}
    for name, value in (("from", first), ("to", last)):
        try:
            days[name] = value if isinstance(value, dt.date) else parse_day(value, name)
        except ValidationFailed as failed:
            errors += failed.errors
    if errors:
        raise ValidationFailed(errors)
    for name, day in days.items():
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            errors.append(
                FieldError(
                    name,
                    _("Give a day from %(first)s to %(last)s")
                    % {"first": EARLIEST_DAY, "last": LATEST_DAY},
                )
            )
    if errors:
        raise ValidationFailed(errors)
    end = days["to"] or today
    begin = days["from"] or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if begin > end:
        raise ValidationFailed([FieldError("from", _("The range starts after it ends."))])
    if (end - begin).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            [FieldError("to", _("The range is longer than %s days: ask for less.") % MAX_DAYS)]
        )
    return Window(begin, end, zone, store_asked(actor, store))


# --- the rows read ---------------------------------------------------------------------------


def sales_in(actor: Actor, window: Window) -> QuerySet[Sale]:
    """Sales made in the range (imported history included), in the actor's scope."""
    sales = scoped(
        Sale.objects.filter(occurred_at__gte=window.start, occurred_at__lt=window.end), actor
    )
    return sales.filter(store=window.store) if window.store else sales


def refunds_in(actor: Actor, window: Window) -> QuerySet[Refund]:
    """Refunds made in the range, counted against the store of the sale they refund."""
    refunds = scoped(
        Refund.objects.filter(created_at__gte=window.start, created_at__lt=window.end),
        actor,
        store_field="sale__store",
    )
    return refunds.filter(sale__store=window.store) if window.store else refunds


def members_in_scope(actor: Actor, window: Window) -> QuerySet[Member]:
    """Members by home store: the actor's, or the store asked for."""
    members = members_for(actor)
    return members.filter(store=window.store) if window.store else members


def joined_in(actor: Actor, window: Window) -> QuerySet[Member]:
    return members_in_scope(actor, window).filter(
        joined_at__gte=window.start, joined_at__lt=window.end
    )


def ratio(part: int, whole: int) -> float | None:
    """part / whole to four decimals; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def per(amount: int, count: int) -> int | None:
    """An average in whole fen (half up); None without anything to average."""
    return div_round_half_up(amount, count) if count else None


# --- sales and members -----------------------------------------------------------------------


def sales_figures(actor: Actor, window: Window) -> dict[str, Any]:
    """Sales net of the range's refunds; counts are sales made (a refund makes no sale)."""
    member = Q(member__isnull=False)
    sold = sales_in(actor, window).aggregate(
        sold=Sum("total"),
        count=Count("id"),
        member_sold=Sum("total", filter=member),
        member_count=Count("id", filter=member),
    )
    refunded = refunds_in(actor, window).aggregate(
        refunded=Sum("amount"), member_refunded=Sum("amount", filter=Q(sale__member__isnull=False))
    )
    refunds = refunded["refunded"] or 0
    member_refunds = refunded["member_refunded"] or 0
    total = (sold["sold"] or 0) - refunds
    member_total = (sold["member_sold"] or 0) - member_refunds
    non_member_total = total - member_total
    non_member_count = sold["count"] - sold["member_count"]
    return {
        "total": total,
        "count": sold["count"],
        "refunds": refunds,
        "member_total": member_total,
        "member_count": sold["member_count"],
        "non_member_total": non_member_total,
        "non_member_count": non_member_count,
        "member_share_amount": ratio(member_total, total) if total > 0 else None,
        "member_share_count": ratio(sold["member_count"], sold["count"]),
        "average_ticket": per(total, sold["count"]),
        "average_ticket_member": per(member_total, sold["member_count"]),
        "average_ticket_non_member": per(non_member_total, non_member_count),
    }


def member_spend(actor: Actor, window: Window) -> dict[int, int]:
    """Each member who bought in the range: their sales in it, net of the range's refunds of
    their sales."""
    spend: dict[int, int] = defaultdict(int)
    sold = (
        sales_in(actor, window)
        .filter(member__isnull=False)
        .values("member_id")
        .annotate(spent=Sum("total"))
        .order_by()
    )
    for row in sold:
        spend[row["member_id"]] += row["spent"] or 0
    refunded = (
        refunds_in(actor, window)
        .filter(sale__member__isnull=False)
        .values("sale__member_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in refunded:
        # Only members who bought in the range are active; a refund alone (of an older sale)
        # lowers a buyer's figure but makes nobody active.
        if row["sale__member_id"] in spend:
            spend[row["sale__member_id"]] -= row["total"] or 0
    return dict(spend)


def pareto(spend: Iterable[int]) -> tuple[int, float | None]:
    """The fewest members whose sales reach 80 % of all members' sales, and their share of the
    members who bought (the biggest spenders first)."""
    amounts = sorted((amount for amount in spend), reverse=True)
    positive = sum(amount for amount in amounts if amount > 0)
    if not amounts or positive <= 0:
        return 0, None
    goal, running = PARETO_SHARE * positive, 0
    for count, amount in enumerate(amounts, start=1):
        running += amount
        if running >= goal:
            return count, ratio(count, len(amounts))
    return len(amounts), 1.0


def repeat_buyers(actor: Actor, window: Window) -> int:
    """Members who bought on two or more local days of the range."""
    day = local_day("occurred_at", window.zone, window.start)
    return (
        sales_in(actor, window)
        .filter(member__isnull=False)
        .values("member_id")
        .annotate(days=Count(day, distinct=True))
        .filter(days__gte=2)
        .order_by()
        .count()
    )


def lifecycle_mix(actor: Actor, window: Window) -> dict[str, int]:
    """Members by lifecycle stage now (stages as the lifecycle step last wrote them; members
    it has not scored yet are `unscored`)."""
    members = members_in_scope(actor, window)
    counts = dict.fromkeys(STAGES, 0)
    rows = (
        MemberInsight.objects.filter(merchant=actor.merchant, member__in=members)
        .exclude(lifecycle="")
        .values("lifecycle")
        .annotate(n=Count("member"))
        .order_by()
    )
    for row in rows:
        counts[row["lifecycle"]] = row["n"]
    counts["unscored"] = members.count() - sum(counts.values())
    return counts


def member_figures(actor: Actor, window: Window, spend: dict[int, int]) -> dict[str, Any]:
    stages = lifecycle_mix(actor, window)
    repeat = repeat_buyers(actor, window)
    pareto_members, pareto_share = pareto(spend.values())
    return {
        "new": joined_in(actor, window).count(),
        "active": len(spend),
        "dormant": stages[Lifecycle.DORMANT],
        "total": sum(stages.values()),
        "lifecycle": stages,
        "repeat_buyers": repeat,
        "repeat_rate": ratio(repeat, len(spend)),
        "pareto_members": pareto_members,
        "pareto_share": pareto_share,
    }


# --- liabilities and coupons -----------------------------------------------------------------


def liability_figures(
    actor: Actor, window: Window, now: dt.datetime | None = None
) -> dict[str, Any]:
    """What members are owed at the end of the range (now, when the range reaches today):
    the ledger's own liabilities, for the members of the store asked for or the actor's."""
    now = now or timezone.now()
    as_of = window.end - dt.timedelta(microseconds=1)
    moment = None if as_of >= now else as_of
    store = window.store or actor.store_bound
    rows = liabilities(actor.merchant, moment, [store.pk] if store else None)
    principal = sum(row.principal for row in rows)
    bonus = sum(row.bonus for row in rows)
    points = sum(row.points for row in rows)
    redeem = policy_for(actor.merchant).points_policy()["redeem_cash"]
    return {
        "as_of": moment or now,
        "principal": principal,
        "bonus": bonus,
        "stored_value": principal + bonus,
        "points": points,
        "points_value": points_value(points, redeem),
        "by_store": [
            {
                "store": row.store_code,
                "name": row.store_name or _("No store (registered at HQ)"),
                "principal": row.principal,
                "bonus": row.bonus,
                "stored_value": row.principal + row.bonus,
                "points": row.points,
                "points_value": points_value(row.points, redeem),
            }
            for row in rows
        ],
    }


def net_totals(sale_ids: set[int]) -> dict[int, int]:
    """What each sale finally took: its total less every refund of it so far."""
    if not sale_ids:
        return {}
    totals = dict(Sale.objects.filter(pk__in=sale_ids).values_list("pk", "total"))
    refunded = (
        Refund.objects.filter(sale_id__in=sale_ids)
        .values("sale_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in refunded:
        totals[row["sale_id"]] -= row["total"] or 0
    return totals


def coupon_figures(actor: Actor, window: Window) -> dict[str, Any]:
    """Coupons used in the range's sales: the discount they gave (cost; a coupon given back by
    a refund cost nothing) and what those sales finally took (return), per coupon template."""
    used = (
        SaleDiscount.objects.filter(
            sale__in=sales_in(actor, window), coupon__isnull=False, returned=False
        )
        .values(
            "sale_id", "coupon__template_id", "coupon__template__code", "coupon__template__name"
        )
        .annotate(cost=Sum("amount"), n=Count("id"))
        .order_by()
    )
    templates: dict[int, dict[str, Any]] = {}
    sales_of: dict[int, set[int]] = defaultdict(set)
    for row in used:
        key = row["coupon__template_id"]
        into = templates.setdefault(
            key,
            {
                "code": row["coupon__template__code"],
                "name": row["coupon__template__name"],
                "issued": 0,
                "used": 0,
                "cost": 0,
                "sales": 0,
            },
        )
        into["used"] += row["n"]
        into["cost"] += row["cost"] or 0
        sales_of[key].add(row["sale_id"])
    every_sale = set().union(*sales_of.values()) if sales_of else set()
    totals = net_totals(every_sale)
    for key, sale_ids in sales_of.items():
        templates[key]["sales"] = sum(totals[pk] for pk in sale_ids)
    issued = (
        Coupon.objects.filter(
            merchant=actor.merchant,
            member__in=members_in_scope(actor, window),
            issued_at__gte=window.start,
            issued_at__lt=window.end,
        )
        .values("template_id", "template__code", "template__name")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in issued:
        into = templates.setdefault(
            row["template_id"],
            {
                "code": row["template__code"],
                "name": row["template__name"],
                "issued": 0,
                "used": 0,
                "cost": 0,
                "sales": 0,
            },
        )
        into["issued"] = row["n"]
    rows = sorted(templates.values(), key=lambda t: (-t["cost"], -t["issued"], t["code"]))
    for row in rows:
        row["return_ratio"] = ratio(row["sales"], row["cost"])
    cost = sum(row["cost"] for row in rows)
    sales = sum(totals.values())
    return {
        "issued": sum(row["issued"] for row in rows),
        "used": sum(row["used"] for row in rows),
        "sales_count": len(every_sale),
        "cost": cost,
        "sales": sales,
        "return_ratio": ratio(sales, cost),
        "by_template": rows,
    }


def owner_figures(actor: Actor, window: Window) -> list[dict[str, Any]]:
    """Discounts given and sales influenced per owner of the promotion or coupon that gave them
    (F-41): HQ, then each store that ran its own. `discount` is what that owner's promotions
    and coupons took off the range's sales (a coupon given back by a refund cost nothing),
    `sales` what those sales finally took (after refunds); a sale with discounts of two owners
    counts for both."""
    rows = list(
        SaleDiscount.objects.filter(sale__in=sales_in(actor, window), returned=False).values_list(
            "sale_id", "code", "amount", "coupon_id", "coupon__template__owner_store_id"
        )
    )
    codes = {code for _sale, code, _amount, coupon, _owner in rows if coupon is None}
    promotion_owner = dict(
        Promotion.objects.filter(merchant=actor.merchant, code__in=codes).values_list(
            "code", "owner_store_id"
        )
    )
    owners: dict[int | None, dict[str, Any]] = {}
    sales_of: dict[int | None, set[int]] = defaultdict(set)
    for sale_id, code, amount, coupon, coupon_owner in rows:
        owner = coupon_owner if coupon is not None else promotion_owner.get(code)
        into = owners.setdefault(owner, {"discount": 0, "applications": 0})
        into["discount"] += amount
        into["applications"] += 1
        sales_of[owner].add(sale_id)
    totals = net_totals(set().union(*sales_of.values()) if sales_of else set())
    stores = Store.objects.filter(merchant=actor.merchant).in_bulk([o for o in owners if o])
    shown = []
    for owner, figures in owners.items():
        store = stores.get(owner) if owner else None
        shown.append(
            {
                "owner": store.code if store else None,
                "name": store.name if store else _("HQ"),
                "discount": figures["discount"],
                "applications": figures["applications"],
                "sales_count": len(sales_of[owner]),
                "sales": sum(totals[pk] for pk in sales_of[owner]),
            }
        )
    return sorted(shown, key=lambda row: (row["owner"] is not None, row["owner"] or ""))


# --- rankings --------------------------------------------------------------------------------


def empty_rank() -> dict[str, int]:
    return {"sales": 0, "member_sales": 0, "count": 0, "active_members": 0, "new_members": 0}


def ranking_rows(sold: QuerySet, refunded: QuerySet, key: str, refund_key: str) -> dict:
    """Sales, member sales, counts and buying members per `key`, net of refunds."""
    rows: dict[Any, dict[str, int]] = defaultdict(empty_rank)
    sold = (
        sold.values(key)
        .annotate(
            sales=Sum("total"),
            member_sales=Sum("total", filter=Q(member__isnull=False)),
            count=Count("id"),
            active=Count("member", distinct=True),
        )
        .order_by()
    )
    for row in sold:
        into = rows[row[key]]
        into["sales"] += row["sales"] or 0
        into["member_sales"] += row["member_sales"] or 0
        into["count"] += row["count"]
        into["active_members"] += row["active"]
    refunds = (
        refunded.values(refund_key)
        .annotate(
            sales=Sum("amount"), member_sales=Sum("amount", filter=Q(sale__member__isnull=False))
        )
        .order_by()
    )
    for row in refunds:
        into = rows[row[refund_key]]
        into["sales"] -= row["sales"] or 0
        into["member_sales"] -= row["member_sales"] or 0
    return rows


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows.sort(key=lambda row: (-row["sales"], -row["new_members"], row["name"]))
    for place, row in enumerate(rows, start=1):
        row["rank"] = place
    return rows


def store_ranking(actor: Actor, window: Window) -> list[dict[str, Any]]:
    """Every store in scope (active ones, and any other with figures in the range)."""
    rows = ranking_rows(
        sales_in(actor, window), refunds_in(actor, window), "store_id", "sale__store_id"
    )
    joined = joined_in(actor, window).values("store_id").annotate(n=Count("id")).order_by()
    for row in joined:
        rows[row["store_id"]]["new_members"] += row["n"]
    stores = scoped(Store.objects.all(), actor, store_field=None)
    asked = window.store or actor.store_bound
    if asked is not None:
        stores = stores.filter(pk=asked.pk)
    stores = stores.filter(Q(is_active=True) | Q(pk__in=[pk for pk in rows if pk]))
    out = [
        {"store": each.code, "name": each.name, **rows.get(each.pk, empty_rank())}
        for each in stores
    ]
    if rows.get(None):  # members registered at HQ, with no home store
        out.append({"store": None, "name": _("No store (HQ)"), **rows[None]})
    return ranked(out)


def staff_ranking(actor: Actor, window: Window) -> list[dict[str, Any]]:
    """Sales by who rang them up (Sale.user) and members recruited (Member.recruited_by).
    Sales without a user (API, imports) are one row of their own."""
    rows = ranking_rows(
        sales_in(actor, window), refunds_in(actor, window), "user_id", "sale__user_id"
    )
    recruited = (
        joined_in(actor, window)
        .filter(recruited_by__isnull=False)
        .values("recruited_by_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in recruited:
        rows[row["recruited_by_id"]]["new_members"] += row["n"]
    users = get_user_model().objects.in_bulk([pk for pk in rows if pk is not None])
    out = []
    for pk, figures in rows.items():
        if pk is None:
            name, username = _("No staff (API or import)"), None
        else:
            user = users[pk]
            username = user.get_username()
            name = user.get_full_name() or username
        out.append({"username": username, "name": name, **figures})
    return ranked(out)


# --- over time -------------------------------------------------------------------------------


class LocalPeriodStart(Trunc):
    """The Monday of a moment's local week, or the first of its local month: Django's Trunc,
    except on SQLite when the zone keeps one offset over the days read, where SQLite's own
    date(moment, '+480 minutes', 'weekday 0', '-6 days') replaces a Python call per row
    (the same shortcut as core.dates.LocalDay; docs/reports.md has the figures)."""

    def __init__(self, field: str, kind: str, zone: dt.tzinfo, offset: dt.timedelta | None):
        super().__init__(field, kind, output_field=DateField(), tzinfo=zone)
        self.offset = offset

    def as_sqlite(self, compiler, connection, **extra_context):
        if self.offset is None:
            return super().as_sql(compiler, connection, **extra_context)
        sql, params = compiler.compile(self.lhs)
        minutes = int(self.offset.total_seconds()) // 60
        # 'weekday 0' moves to the coming Sunday (or stays on one): six days before is Monday.
        modifiers = ["weekday 0", "-6 days"] if self.kind == "week" else ["start of month"]
        marks = ", ".join(["%s"] * (1 + len(modifiers)))
        return f"date({sql}, {marks})", (*params, f"{minutes:+d} minutes", *modifiers)


def bucket(field: str, window: Window):
    """The period of a moment in the merchant's zone: its local day, or the Monday of its
    week, or the first of its month."""
    if window.granularity == "day":
        return local_day(field, window.zone, window.start)
    offset = steady_offset(window.zone, window.start, max(window.end, timezone.now()))
    return LocalPeriodStart(field, window.granularity, window.zone, offset)


def period_starts(window: Window) -> list[dt.date]:
    if window.granularity == "day":
        return [window.first + dt.timedelta(days=n) for n in range(window.days)]
    if window.granularity == "week":
        day = window.first - dt.timedelta(days=window.first.weekday())
        periods = []
        while day <= window.last:
            periods.append(day)
            day += dt.timedelta(days=7)
        return periods
    day, periods = window.first.replace(day=1), []
    while day <= window.last:
        periods.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return periods


def series(actor: Actor, window: Window) -> dict[str, Any]:
    """Sales, member sales (net of refunds), new and active members per period."""
    periods = period_starts(window)
    index = {day: n for n, day in enumerate(periods)}
    values = {name: [0] * len(periods) for name in SERIES}

    def add(name: str, rows: Iterable[dict], column: str, sign: int = 1) -> None:
        for row in rows:
            if row["period"] in index:
                values[name][index[row["period"]]] += sign * (row[column] or 0)

    member = Q(member__isnull=False)
    sold = (
        sales_in(actor, window)
        .annotate(period=bucket("occurred_at", window))
        .values("period")
        .annotate(
            sales=Sum("total"),
            member_sales=Sum("total", filter=member),
            active=Count("member", distinct=True),
        )
        .order_by()
    )
    sold = list(sold)
    add("sales", sold, "sales")
    add("member_sales", sold, "member_sales")
    add("active_members", sold, "active")
    refunded = list(
        refunds_in(actor, window)
        .annotate(period=bucket("created_at", window))
        .values("period")
        .annotate(
            sales=Sum("amount"), member_sales=Sum("amount", filter=Q(sale__member__isnull=False))
        )
        .order_by()
    )
    add("sales", refunded, "sales", -1)
    add("member_sales", refunded, "member_sales", -1)
    joined = (
        joined_in(actor, window)
        .annotate(period=bucket("joined_at", window))
        .values("period")
        .annotate(n=Count("id"))
        .order_by()
    )
    add("new_members", joined, "n")
    return {"granularity": window.granularity, "periods": periods, **values}


# --- diagnosis (F-31) ------------------------------------------------------------------------

# The seed's grid (seeds/003, 忠誠度管理) for stores: (activity high?, loyalty high?) -> reading.
QUADRANTS = {
    (True, True): "keep",
    (True, False): "product_or_price",
    (False, True): "win_back",
    (False, False): "quality_or_service",
}


def reading(quadrant: str) -> str:
    return {
        "keep": _("Members come often and spend well: keep it up"),
        "product_or_price": _(
            "Members come often but spend little: check the new products' styles and prices"
        ),
        "win_back": _("Members spend well but come seldom: they like the store, bring them back"),
        "quality_or_service": _(
            "Members come seldom and spend little: check product quality and service"
        ),
    }[quadrant]


def quadrants(
    figures: dict[Any, tuple[float, float]],
) -> tuple[float, float, dict[Any, str]]:
    """Place each store, by (activity, loyalty), in the seed's grid against the medians of
    all the stores given; a store at a median counts as high. Returns both medians too."""
    median_activity = statistics.median(activity for activity, _loyalty in figures.values())
    median_loyalty = statistics.median(loyalty for _activity, loyalty in figures.values())
    placed = {
        key: QUADRANTS[(activity >= median_activity, loyalty >= median_loyalty)]
        for key, (activity, loyalty) in figures.items()
    }
    return median_activity, median_loyalty, placed


def diagnosis(actor: Actor, window: Window) -> dict[str, Any]:
    """Each store's member visits per buying member (activity) and member spend per visit
    (loyalty) in the range, against the chain's medians. The medians are always the chain's
    (every store with member visits, whatever store was asked for) so a store is judged
    against the chain; a store-bound actor or a store asked for gets that store's row only."""
    chain = Actor.system(actor.merchant)
    whole = Window(window.first, window.last, window.zone)
    rows = (
        sales_in(chain, whole)
        .filter(member__isnull=False)
        .values("store_id")
        .annotate(visits=Count("id"), members=Count("member", distinct=True), spend=Sum("total"))
        .order_by()
    )
    figures = {
        row["store_id"]: {
            "visits": row["visits"],
            "members": row["members"],
            "spend": row["spend"] or 0,
            "activity": round(row["visits"] / row["members"], 2),
            "loyalty": div_round_half_up(row["spend"] or 0, row["visits"]),
        }
        for row in rows
        if row["members"]
    }
    if not figures:
        return {"median_activity": None, "median_loyalty": None, "stores": []}
    median_activity, median_loyalty, placed = quadrants(
        {pk: (found["activity"], found["loyalty"]) for pk, found in figures.items()}
    )
    shown = Store.objects.filter(pk__in=figures, merchant=actor.merchant)
    store = window.store or actor.store_bound
    if store is not None:
        shown = shown.filter(pk=store.pk)
    stores = [
        {
            "store": each.code,
            "name": each.name,
            **figures[each.pk],
            "quadrant": placed[each.pk],
            "reading": reading(placed[each.pk]),
        }
        for each in shown.order_by("code")
    ]
    return {
        "median_activity": round(median_activity, 2),
        "median_loyalty": round(median_loyalty),
        "stores": stores,
    }


# --- everything ------------------------------------------------------------------------------


def dashboard(actor: Actor, window: Window, now: dt.datetime | None = None) -> dict[str, Any]:
    """The F-47 figures as plain data (the API's JSON; the console page shows the same)."""
    spend = member_spend(actor, window)
    return {
        "from": window.first,
        "to": window.last,
        "store": window.store.code if window.store else None,
        "members": member_figures(actor, window, spend),
        "sales": sales_figures(actor, window),
        "liabilities": liability_figures(actor, window, now),
        "coupons": coupon_figures(actor, window),
        "owners": owner_figures(actor, window),
        "stores": store_ranking(actor, window),
        "staff": staff_ranking(actor, window),
        "series": series(actor, window),
        "diagnosis": diagnosis(actor, window),
    }
