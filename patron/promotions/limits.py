"""Limited offers (API.md §11, F-27): a promotion's `limits` counted in committed sales.

The pricing engine decides whether a sale may apply a limited promotion from what is used so
far (`usage`, read here and passed as data). Committing takes the sale's applications with
guarded statements in the sale's transaction: each checks the limit and counts in one
statement (`sold + n <= total`, an upsert for the member's rows), so concurrent sales never
hold more than a limit whatever the timing; a take that fails tells the sales service to price
the sale again without that promotion. There is no read-then-write counter anywhere.

Refunds give back what the sale took (`give_back`): the units of the refunded lines the
promotion counted, or its one application per sale when the sale is refunded in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F

from patron.engine import pricing
from patron.promotions.models import LimitTake, Promotion, PromotionStock, PromotionUse

ALL = PromotionUse.ALL


def period_of(moment: dt.datetime, zone: str) -> str:
    """The day a sale counts on for `per_member_per_day`: its date in the merchant's zone."""
    return moment.astimezone(ZoneInfo(zone)).date().isoformat()


def engine_limits(data: dict | None) -> pricing.Limits | None:
    """The stored `limits` as the engine takes them (None when the promotion has none)."""
    if not data:
        return None
    return pricing.Limits(
        total=data.get("total"),
        per_member=data.get("per_member"),
        per_member_per_day=data.get("per_member_per_day"),
    )


@dataclass(frozen=True)
class State:
    """What a sale's pricing read about the limited promotions it may apply."""

    ids: dict[str, int]  # promotion code -> row id
    limits: dict[str, pricing.Limits]
    usage: dict[str, pricing.LimitUsage]
    member_id: int | None
    period: str


def limited(program: pricing.Program) -> list[pricing.Promotion]:
    return [promotion for promotion in program.promotions if promotion.limits is not None]


def read_state(
    merchant_id: int,
    member_id: int | None,
    promotions: Sequence[pricing.Promotion],
    period: str,
    refused: dict[str, str] | None = None,
) -> State:
    """Use so far of `promotions` (the limited ones of the sale's program), for the engine.

    `refused`: promotion code -> reason, for promotions whose take just failed in this sale's
    commit; they read as used up, so the engine prices the sale without them whatever a
    concurrent refund did meanwhile (the commit's rounds then end)."""
    limits = {promotion.code: promotion.limits for promotion in promotions if promotion.limits}
    rows = Promotion.objects.filter(merchant_id=merchant_id, code__in=limits, is_active=True)
    found = {code: (pk, sold) for pk, code, sold in rows.values_list("pk", "code", "stock__sold")}
    ids = {code: pk for code, (pk, _sold) in found.items()}
    used: dict[tuple[int, str], int] = {}
    if member_id is not None and ids:
        uses = PromotionUse.objects.filter(
            promotion_id__in=ids.values(), member_id=member_id, period__in=(ALL, period)
        )
        for promotion_id, row_period, count in uses.values_list("promotion_id", "period", "used"):
            used[promotion_id, row_period] = count
    usage = {
        code: pricing.LimitUsage(
            sold=sold or 0,
            member=used.get((pk, ALL), 0),
            member_today=used.get((pk, period), 0),
        )
        for code, (pk, sold) in found.items()
    }
    for code, reason in (refused or {}).items():
        if code in limits:
            usage[code] = _used_up(limits[code], usage.get(code, pricing.LimitUsage()), reason)
    return State(ids, {c: limits[c] for c in ids}, usage, member_id, period)


def _used_up(limits: pricing.Limits, usage: pricing.LimitUsage, reason: str) -> pricing.LimitUsage:
    if reason == pricing.SOLD_OUT and limits.total is not None:
        return replace(usage, sold=limits.total)
    if limits.per_member is not None:
        return replace(usage, member=limits.per_member)
    return replace(usage, member_today=limits.per_member_per_day or 0)


@dataclass(frozen=True)
class Want:
    """What a priced sale would take from one limited promotion."""

    promotion_id: int
    code: str
    units: int
    limits: pricing.Limits
    skus: tuple[str, ...]
    categories: tuple[str, ...]


def wanted(quote: pricing.Quote, state: State | None, scopes: dict[str, tuple]) -> list[Want]:
    """The takes of a priced sale, in promotion id order (concurrent sales lock the counters
    in the same order, so they never deadlock). `scopes`: code -> (skus, categories) counted."""
    if state is None:
        return []
    wants = []
    for applied in quote.applied:
        if applied.kind == "coupon" or applied.code not in state.ids:
            continue
        skus, categories = scopes.get(applied.code, ((), ()))
        wants.append(
            Want(
                state.ids[applied.code],
                applied.code,
                applied.applications,
                state.limits[applied.code],
                skus,
                categories,
            )
        )
    return sorted(wants, key=lambda want: want.promotion_id)


def scopes(program: pricing.Program) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """What each limited promotion counts per unit: its benefit's SKUs and categories (both
    empty: once per sale), as the engine counts them."""
    found = {}
    for promotion in limited(program):
        benefit = promotion.benefit
        if benefit.type == "gift":
            found[promotion.code] = ((), ())
        else:
            found[promotion.code] = (tuple(sorted(benefit.skus)), tuple(sorted(benefit.categories)))
    return found


def _guarded_upsert(table: str, key: tuple[str, ...], values: dict, column: str, limit) -> bool:
    """Add `values[column]` to the row of `key`, or insert it, only if the sum stays within
    `limit` (None: no limit): one statement, so the check and the count are one."""
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    guard = "" if limit is None else f" WHERE {table}.{column} + excluded.{column} <= %s"
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {column} = {table}.{column} + "
        f"excluded.{column}{guard} RETURNING {column}"
    )
    params = [*values.values(), *([] if limit is None else [limit])]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _take_one(merchant_id: int, member_id: int | None, period: str, want: Want) -> str | None:
    """Take `want`, all of it or nothing; why not (a reason of the engine) or None."""
    limits, units = want.limits, want.units
    stock = PromotionStock._meta.db_table
    if limits.total is not None and units > limits.total:
        return pricing.SOLD_OUT
    row = {"promotion_id": want.promotion_id, "merchant_id": merchant_id, "sold": units}
    if not _guarded_upsert(stock, ("promotion_id",), row, "sold", limits.total):
        return pricing.SOLD_OUT
    if member_id is None:
        return None
    uses = PromotionUse._meta.db_table
    taken: list[str] = []
    for period_key, limit in ((ALL, limits.per_member), (period, limits.per_member_per_day)):
        use = {
            "merchant_id": merchant_id,
            "promotion_id": want.promotion_id,
            "member_id": member_id,
            "period": period_key,
            "used": units,
        }
        fits = limit is None or units <= limit
        if not fits or not _guarded_upsert(
            uses, ("promotion_id", "member_id", "period"), use, "used", limit
        ):
            _untake(want.promotion_id, member_id, taken, units, stock_too=True)
            return pricing.LIMIT_REACHED
        taken.append(period_key)
    return None


def _untake(
    promotion_id: int, member_id: int | None, periods: Iterable[str], units: int, *, stock_too: bool
) -> None:
    if stock_too:
        PromotionStock.objects.filter(promotion_id=promotion_id).update(sold=F("sold") - units)
    if member_id is not None:
        PromotionUse.objects.filter(
            promotion_id=promotion_id, member_id=member_id, period__in=list(periods)
        ).update(used=F("used") - units)


def take(merchant_id: int, state: State, wants: Sequence[Want]) -> dict[str, str]:
    """Take every want in the caller's transaction, or none: {code: reason} of those that do
    not fit now (empty: all taken)."""
    done: list[Want] = []
    failed: dict[str, str] = {}
    for want in wants:
        reason = _take_one(merchant_id, state.member_id, state.period, want)
        if reason is None:
            done.append(want)
        else:
            failed[want.code] = reason
    if failed:
        for want in done:
            _untake(
                want.promotion_id, state.member_id, (ALL, state.period), want.units, stock_too=True
            )
    return failed


def record(merchant_id: int, state: State, wants: Sequence[Want], sale_id: int) -> None:
    """What the sale took, for its refunds."""
    LimitTake.objects.bulk_create(
        [
            LimitTake(
                merchant_id=merchant_id,
                promotion_id=want.promotion_id,
                sale_id=sale_id,
                member_id=state.member_id,
                period=state.period,
                units=want.units,
                skus=list(want.skus),
                categories=list(want.categories),
            )
            for want in wants
        ]
    )


def give_back(
    sale_id: int, refunded: Sequence[tuple[str, str, int]], full: Callable[[], bool]
) -> None:
    """Give back what a refund returns: `refunded` as (sku, category, quantity) of this
    refund's lines; `full()`: nothing of the sale is left to refund (asked only when needed)."""
    takes = LimitTake.objects.select_for_update().filter(sale_id=sale_id, returned__lt=F("units"))
    whole: bool | None = None
    for take_row in takes.order_by("promotion_id"):
        left = take_row.units - take_row.returned
        if take_row.skus or take_row.categories:
            skus, categories = set(take_row.skus), set(take_row.categories)
            counted = sum(q for sku, cat, q in refunded if sku in skus or cat in categories)
            back = min(left, counted)
        else:
            if whole is None:
                whole = full()
            back = left if whole else 0
        if back <= 0:
            continue
        _untake(
            take_row.promotion_id,
            take_row.member_id,
            (ALL, take_row.period),
            back,
            stock_too=True,
        )
        LimitTake.objects.filter(pk=take_row.pk).update(returned=F("returned") + back)


def sold(promotion_ids: Iterable[int]) -> dict[int, int]:
    """Applications held by committed sales, by promotion id (absent: none yet)."""
    rows = PromotionStock.objects.filter(promotion_id__in=list(promotion_ids))
    return dict(rows.values_list("promotion_id", "sold"))
