"""Reads of tiers, promotions and coupons, and the bridge to the pricing engine.

`engine_program` runs on every quote and sale, so it is cached per process: the tiers and
promotions of a merchant are kept under a key made of the merchant's latest program revision
(every program apply that changes anything records one) and the merchant row's creation time
(so a reused primary key, as SQLite hands out after a rollback, never finds a stranger's
entry). A hit costs two small queries: the revision id and the points policy, which is read
fresh every time because it is small and has writers outside the program file.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from patron.core import rawsql
from patron.engine import pricing
from patron.engine.points import EarnRule
from patron.members.models import Member
from patron.program.models import Category, ProgramRevision
from patron.promotions.codes import CODE_LENGTH, normalize_code
from patron.promotions.limits import engine_limits
from patron.promotions.models import Coupon, CouponStatus, CouponTemplate, Promotion, Tier
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import scoped

# Coupons that can no longer be used look expired to the engine (it has no "ended" reason).
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
SHOWN_STATUSES = ("available", "expired", "used", "ended")
CACHE_SIZE = 512


# --- tiers -----------------------------------------------------------------------------------


def active_tiers(merchant: Merchant) -> QuerySet[Tier]:
    return Tier.objects.filter(merchant=merchant, is_active=True).order_by("rank")


def base_tier(merchant: Merchant | int) -> Tier | None:
    """The active tier of rank 0, where members without a tier are."""
    return Tier.objects.filter(merchant=merchant, is_active=True, rank=0).first()


def with_tiers(members: QuerySet[Member]) -> QuerySet[Member]:
    """Members with their tier and the merchant's rank-0 tier code loaded in the same query,
    so showing a page of members' tiers costs no query per member."""
    base = Tier.objects.filter(merchant=OuterRef("merchant"), is_active=True, rank=0)
    return members.select_related("tier").annotate(base_tier_code=Subquery(base.values("code")[:1]))


def with_tier_ranks(members: QuerySet[Member]) -> QuerySet[Member]:
    """Members with the rank and name of the tier whose benefits they get (their own while it
    is active, else the rank-0 tier), for the member list's sortable tier column."""
    base = Tier.objects.filter(merchant=OuterRef("merchant"), is_active=True, rank=0)
    own_active = Q(tier__isnull=False, tier__is_active=True)
    return members.select_related("tier").annotate(
        tier_rank=Case(When(own_active, then=F("tier__rank")), default=Value(0)),
        base_tier_name=Subquery(base.values("name")[:1]),
    )


def member_tier_name(member: Member) -> str:
    """The name of the member's tier as `with_tier_ranks` loaded it ("—" without tiers)."""
    if member.tier_id is not None and member.tier.is_active:
        return member.tier.name
    return getattr(member, "base_tier_name", None) or "—"


def member_tier(member: Member) -> Tier | None:
    """The tier whose benefits the member gets: their own while it is active, else rank 0."""
    if member.tier_id is not None and member.tier.is_active:
        return member.tier
    return base_tier(member.merchant_id)


def member_tier_code(member: Member) -> str | None:
    """The member's tier code for the engine and the API; None when the merchant has no tiers."""
    if member.tier_id is not None and member.tier.is_active:
        return member.tier.code
    if hasattr(member, "base_tier_code"):  # annotated by with_tiers()
        return member.base_tier_code
    tier = base_tier(member.merchant_id)
    return tier.code if tier else None


def tier_code_sql(*, tier_id: rawsql.Column, merchant_id: rawsql.Column) -> rawsql.Statement:
    """`member_tier_code` as a scalar sub-query, for other apps' statements: the member's tier
    (`tier_id`) while it is active, else the merchant's active tier of rank 0."""
    tier = rawsql.Table(Tier, "t")
    return rawsql.Statement(
        "COALESCE((SELECT {t.code} FROM {t} WHERE {t.id} = {tier_id} AND {t.is_active}),"
        " (SELECT {t.code} FROM {t} WHERE {t.merchant_id} = {merchant_id}"
        " AND {t.is_active} AND {t.rank} = 0 ORDER BY {t.code} LIMIT 1))",
        t=tier,
        tier_id=tier_id,
        merchant_id=merchant_id,
    )


# --- promotions and templates ----------------------------------------------------------------


def program_promotions(merchant: Merchant) -> QuerySet[Promotion]:
    """The promotions of the current program, paused ones included."""
    return Promotion.objects.filter(merchant=merchant, is_active=True).order_by("priority", "code")


def active_promotions(merchant: Merchant) -> QuerySet[Promotion]:
    """The promotions that apply at the till: in the program and not paused."""
    return program_promotions(merchant).filter(paused=False)


def program_templates(merchant: Merchant) -> QuerySet[CouponTemplate]:
    """The coupon templates of the current program, paused ones included."""
    return CouponTemplate.objects.filter(merchant=merchant, is_active=True).order_by("code")


def active_templates(merchant: Merchant) -> QuerySet[CouponTemplate]:
    """The coupon templates that issue coupons: in the program and not paused."""
    return program_templates(merchant).filter(paused=False)


# --- coupons ---------------------------------------------------------------------------------


def shown_status(coupon: Coupon, now: dt.datetime | None = None) -> str:
    """available / expired / used / ended: an available coupon past its validity is expired."""
    if coupon.status == CouponStatus.AVAILABLE and coupon.valid_until <= (now or timezone.now()):
        return "expired"
    return coupon.status


def member_coupons(member: Member, status: str | None = None) -> QuerySet[Coupon]:
    """The member's coupons, newest first; `status` as `shown_status` names them."""
    coupons = Coupon.objects.filter(member=member).select_related("template")
    now = timezone.now()
    if status is None or status == "":
        return coupons
    if status == "available":
        return coupons.filter(status=CouponStatus.AVAILABLE, valid_until__gt=now)
    if status == "expired":
        return coupons.filter(status=CouponStatus.AVAILABLE, valid_until__lte=now)
    if status in (CouponStatus.USED, CouponStatus.ENDED):
        return coupons.filter(status=status)
    raise ValueError(f"unknown coupon status {status!r}")


def coupon_for(actor: Actor, pk: Any) -> Coupon | None:
    """One of the merchant's coupons (the caller checks its member is in the actor's scope)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    coupons = Coupon.objects.select_related("template", "member").filter(pk=pk)
    return scoped(coupons, actor, store_field=None).first()


# --- the engine bridge -----------------------------------------------------------------------


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def engine_condition(data: dict[str, Any]) -> pricing.Condition:
    return pricing.Condition(
        min_amount=data.get("min_amount"),
        min_quantity=data.get("min_quantity"),
        skus=frozenset(data.get("skus", ())),
        categories=frozenset(data.get("categories", ())),
        tiers=frozenset(data.get("tiers", ())),
        weekdays=frozenset(data.get("weekdays", ())),
        stores=frozenset(data.get("stores", ())),
        starts_at=_moment(data.get("starts_at")),
        ends_at=_moment(data.get("ends_at")),
        first_purchase=bool(data.get("first_purchase", False)),
    )


def engine_benefit(data: dict[str, Any]) -> pricing.Benefit:
    """Stored benefits already use the engine's units (points multipliers in percent)."""
    return pricing.Benefit(
        type=data["type"],
        value=data.get("value", 0),
        buy=data.get("buy", 0),
        get=data.get("get", 0),
        quantity=data.get("quantity", 0),
        sku=data.get("sku", ""),
        skus=frozenset(data.get("skus", ())),
        categories=frozenset(data.get("categories", ())),
        max_discount=data.get("max_discount"),
    )


def engine_promotion(promotion: Promotion) -> pricing.Promotion:
    return pricing.Promotion(
        code=promotion.code,
        kind=promotion.kind,
        benefit=engine_benefit(promotion.benefit),
        condition=engine_condition(promotion.condition),
        name=promotion.name,
        stacking=promotion.stacking,
        priority=promotion.priority,
        members_only=promotion.members_only,
        limits=engine_limits(promotion.limits),
    )


def engine_tier(tier: Tier) -> pricing.Tier:
    return pricing.Tier(
        code=tier.code,
        rank=tier.rank,
        discount=dict(tier.discount),
        points_multiplier_percent=tier.points_multiplier_percent,
    )


@dataclass(frozen=True)
class _Cached:
    key: tuple
    tiers: tuple[pricing.Tier, ...]
    promotions: tuple[pricing.Promotion, ...]
    categories: frozenset[str]  # active category codes (sale lines must use one)


_cache: OrderedDict[int, _Cached] = OrderedDict()
_cache_lock = threading.Lock()


def _program_key(merchant: Merchant) -> tuple:
    latest = (
        ProgramRevision.objects.filter(merchant=merchant)
        .order_by("-id")
        .values_list("id", "applied_at")
        .first()
    )
    return (merchant.created_at, latest or (None, None))


def _cached_rules(merchant: Merchant, revision: tuple | None = None) -> _Cached:
    """`revision`: the latest revision's (id, applied_at) when the caller already read it."""
    key = _program_key(merchant) if revision is None else (merchant.created_at, revision)
    with _cache_lock:
        found = _cache.get(merchant.pk)
        if found is not None and found.key == key:
            _cache.move_to_end(merchant.pk)
            return found
    loaded = _Cached(
        key=key,
        tiers=tuple(engine_tier(t) for t in active_tiers(merchant)),
        promotions=tuple(engine_promotion(p) for p in active_promotions(merchant)),
        categories=frozenset(
            Category.objects.filter(merchant=merchant, is_active=True).values_list(
                "code", flat=True
            )
        ),
    )
    with _cache_lock:
        _cache[merchant.pk] = loaded
        _cache.move_to_end(merchant.pk)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def cached_program_key(merchant_id: int) -> tuple | None:
    """The program key of the rules cached for a merchant (None when none are): a sale that
    was just priced validated it, so apps above may key their own caches on it."""
    with _cache_lock:
        found = _cache.get(merchant_id)
    return found.key if found is not None else None


def forget_program(merchant_id: int | None = None) -> None:
    """Drop cached rules (all merchants when None); a program apply makes this unnecessary."""
    with _cache_lock:
        if merchant_id is None:
            _cache.clear()
        else:
            _cache.pop(merchant_id, None)


def _could_apply(promotion: pricing.Promotion, at: dt.datetime) -> bool:
    condition = promotion.condition
    if condition.starts_at is not None and at < condition.starts_at:
        return False
    return condition.ends_at is None or at < condition.ends_at


def active_category_codes(merchant: Merchant, revision: tuple | None = None) -> frozenset[str]:
    """The codes of the merchant's active categories (cached with the rules)."""
    return _cached_rules(merchant, revision).categories


def engine_program(
    merchant: Merchant,
    *,
    at: dt.datetime | None = None,
    revision: tuple | None = None,
    points: dict[str, Any] | None = None,
) -> pricing.Program:
    """The merchant's rules as the engine takes them. With `at`, promotions whose window
    excludes that moment are left out (the engine would reject them anyway). `revision` and
    `points` (the ledger's points policy) spare the queries when the caller has them."""
    from patron.ledger.services import policy_for

    rules = _cached_rules(merchant, revision)
    promotions = rules.promotions
    if at is not None:
        promotions = tuple(p for p in promotions if _could_apply(p, at))
    if points is None:
        points = policy_for(merchant).points_policy()
    earn, redeem = points.get("earn"), points.get("redeem_cash")
    return pricing.Program(
        timezone=merchant.timezone,
        tiers=rules.tiers,
        promotions=promotions,
        earn=EarnRule(per_amount=earn["per_amount"], points=earn["points"]) if earn else None,
        earn_exclude_categories=frozenset(points.get("earn_exclude_categories") or ()),
        redeem=pricing.RedeemRule(
            points=redeem["points"],
            value=redeem["value"],
            max_share_percent=redeem.get("max_share_percent", 100),
        )
        if redeem
        else None,
    )


def engine_promotion_of_template(template: CouponTemplate, code: str = "") -> pricing.Promotion:
    """What a coupon of `template` does, as the engine takes it (`code`: the coupon's)."""
    return pricing.Promotion(
        code=code or template.code,
        kind="coupon",
        benefit=engine_benefit(template.benefit),
        condition=engine_condition(template.condition),
        name=template.name,
        stacking=template.stacking,
        priority=template.priority,
    )


def engine_coupon(coupon: Coupon) -> pricing.Coupon:
    usable = coupon.status != CouponStatus.ENDED
    return pricing.Coupon(
        code=coupon.code,
        promotion=engine_promotion_of_template(coupon.template, coupon.code),
        member_id=str(coupon.member_id),
        valid_from=coupon.valid_from if usable else None,
        valid_until=coupon.valid_until if usable else LONG_AGO,
        used=coupon.status == CouponStatus.USED,
    )


@dataclass(frozen=True)
class SaleCoupon:
    """A coupon named on a sale: its row id (to consume it) and the engine's view of it."""

    id: int
    coupon: pricing.Coupon


def coupons_for_sale(merchant: Merchant, codes: Iterable[str]) -> dict[str, SaleCoupon]:
    """The merchant's coupons among `codes`, keyed by the code as the sale gave it (case,
    spaces and dashes do not matter). Codes that are not coupons are simply absent."""
    wanted: dict[str, list[str]] = {}
    for given in codes:
        if not isinstance(given, str):
            continue
        code = normalize_code(given)
        if len(code) == CODE_LENGTH:
            wanted.setdefault(code, []).append(given)
    if not wanted:
        return {}
    found = Coupon.objects.select_related("template").filter(merchant=merchant, code__in=wanted)
    result = {}
    for coupon in found:
        converted = SaleCoupon(coupon.pk, engine_coupon(coupon))
        for given in wanted[coupon.code]:
            result[given] = converted
    return result


def engine_coupons(merchant: Merchant, codes: Iterable[str]) -> dict[str, pricing.Coupon]:
    return {given: found.coupon for given, found in coupons_for_sale(merchant, codes).items()}
