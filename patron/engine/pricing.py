"""The pricing engine (API.md §4, DESIGN.md §4, F-21): `quote(basket, member, program, now)`.

Pure: plain frozen dataclasses in, a `Quote` out; integer fen, integer points; `now` passed
in. The sales service loads the context from the database, calls `quote`, and persists what
it returns; the console preview and what-if simulation call the same function.

Order of work, each step on what the previous one left:
1. member prices: per unit, the lower of the line's `member_price` and the tier's category
   discount (percent of price, 88 = 12 % off), rounded half up to the fen;
2. promotions and coupons, in ascending priority: every condition is checked, a `min_amount`
   threshold on what is left of its scope when its turn comes; among the `exclusive` ones
   that qualify only the largest is a candidate, and it applies alone when it beats all the
   stackable ones together;
3. the points cash offset (whole redemption units, at most `max_share_percent` of what is
   left), then stored value; points earned on what is actually paid (stored value counts as
   paid), times the tier and any points-multiplier promotions.
Every discount is spread over the lines it applies to with the largest-remainder method, so
line totals add up to the order total exactly and no line goes below zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo

from patron.engine.money import allocate, div_round_half_up
from patron.engine.points import EarnRule

PromotionKind = Literal["automatic", "code", "coupon"]
Stacking = Literal["stackable", "exclusive"]
BENEFIT_TYPES = (
    "percent",
    "fixed",
    "fixed_price",
    "free_items",
    "cheapest_percent",
    "gift",
    "points_multiplier",
    "free_shipping",
)
SHIPPING_CATEGORY = "shipping"

# Why a code on the sale did not apply (stable strings: the API returns them).
UNKNOWN_CODE = "unknown_code"
COUPON_USED = "coupon_used"
COUPON_EXPIRED = "coupon_expired"
COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
COUPON_OTHER_MEMBER = "coupon_other_member"
MEMBERS_ONLY = "members_only"
CONDITION_NOT_MET = "condition_not_met"
NOT_COMBINABLE = "not_combinable"
DUPLICATE_CODE = "duplicate_code"
NO_DISCOUNT = "no_discount"


# --- input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    sku: str
    category: str
    quantity: int
    unit_price: int
    member_price: int | None = None  # the POS's own member price for this SKU, if any


@dataclass(frozen=True)
class Basket:
    store: str
    lines: tuple[Line, ...]
    codes: tuple[str, ...] = ()
    points_to_redeem: int = 0
    stored_value: int = 0


@dataclass(frozen=True)
class Condition:
    """All given parts must hold (API.md §4)."""

    min_amount: int | None = None
    min_quantity: int | None = None
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    weekdays: frozenset[int] = frozenset()  # 1 = Monday ... 7 = Sunday, merchant's zone
    stores: frozenset[str] = frozenset()
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None  # exclusive
    first_purchase: bool = False


@dataclass(frozen=True)
class Benefit:
    type: str
    value: int = 0  # percent, fen, fen per unit, or multiplier percent (200 = 2x)
    buy: int = 0
    get: int = 0
    quantity: int = 0  # free_items without buy/get: this many units free; gift: units given
    sku: str = ""  # gift
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    max_discount: int | None = None


@dataclass(frozen=True)
class Promotion:
    code: str
    kind: PromotionKind
    benefit: Benefit
    condition: Condition = Condition()
    name: str = ""
    stacking: Stacking = "stackable"
    priority: int = 100
    members_only: bool = False


@dataclass(frozen=True)
class Coupon:
    """One issued coupon named by a code on the sale, as the database sees it right now."""

    code: str
    promotion: Promotion  # built from the coupon template
    member_id: str | None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None  # exclusive
    used: bool = False


@dataclass(frozen=True)
class Tier:
    code: str
    rank: int = 0
    discount: Mapping[str, int] = field(default_factory=dict)  # category -> percent of price
    points_multiplier_percent: int = 100


@dataclass(frozen=True)
class RedeemRule:
    """`points` points pay `value` fen, at most `max_share_percent` of what is left to pay."""

    points: int = 100
    value: int = 100
    max_share_percent: int = 100


@dataclass(frozen=True)
class MemberContext:
    member_id: str | None = None  # None: a walk-in customer
    tier: str | None = None  # None: the lowest-ranked tier
    points_available: int = 0
    stored_value: int = 0
    first_purchase: bool = False
    coupons: Mapping[str, Coupon] = field(default_factory=dict)  # the sale's codes found


@dataclass(frozen=True)
class Program:
    timezone: str = "Asia/Shanghai"
    tiers: tuple[Tier, ...] = ()
    promotions: tuple[Promotion, ...] = ()  # automatic and code promotions
    earn: EarnRule | None = None
    earn_exclude_categories: frozenset[str] = frozenset()
    redeem: RedeemRule | None = None


# --- output ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedLine:
    sku: str
    category: str
    quantity: int
    unit_price: int
    member_price: int  # per unit after the member price / tier discount
    discount: int  # member price + promotions + coupons, in fen, for the whole line
    points_offset: int  # fen paid with points on this line
    total: int  # quantity * unit_price - discount - points_offset
    points_earned: int = 0
    gift: bool = False


@dataclass(frozen=True)
class Applied:
    code: str
    kind: PromotionKind
    name: str
    amount: int  # fen off (0 for gifts and points multipliers)
    benefit: str = ""


@dataclass(frozen=True)
class Rejected:
    code: str
    reason: str


@dataclass(frozen=True)
class Quote:
    subtotal: int
    member_discount: int
    discount: int  # member_discount + every applied amount
    total: int  # subtotal - discount - points_value
    lines: tuple[PricedLine, ...]
    applied: tuple[Applied, ...]
    rejected: tuple[Rejected, ...]
    points_redeemed: int
    points_value: int
    points_earned: int
    stored_value_paid: int
    cash_due: int  # total - stored_value_paid
    saved: int  # subtotal - total: member prices, promotions, coupons and points
    insufficient_points: bool = False  # asked to redeem more than the member holds
    insufficient_stored_value: bool = False


# --- quoting ---------------------------------------------------------------------------------


def normalize_code(code: str) -> str:
    """Codes are typed at tills: case, spaces and dashes do not matter."""
    return code.replace(" ", "").replace("-", "").upper()


@dataclass
class _Candidate:
    promotion: Promotion
    code: str  # as shown to the customer: the promotion code or the coupon code
    typed: str | None  # the code as typed on the sale, None for automatic promotions

    @property
    def key(self) -> str:
        return f"{self.promotion.kind}:{self.code}"


@dataclass
class _Outcome:
    """What one run of promotions did to the lines."""

    discounts: list[int]
    applied: list[Applied] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (candidate key, reason)
    gifts: list[tuple[_Candidate, Benefit]] = field(default_factory=list)
    multipliers: list[tuple[frozenset[int], int]] = field(default_factory=list)

    @property
    def amount(self) -> int:
        return sum(applied.amount for applied in self.applied)


def quote(basket: Basket, member: MemberContext, program: Program, now: dt.datetime) -> Quote:
    """Price `basket` for `member` under `program` at `now` (see the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    _check_lines(basket.lines)
    is_member = member.member_id is not None
    tier = _effective_tier(program, member) if is_member else None
    lines = basket.lines
    member_prices = [_member_price(line, tier, is_member) for line in lines]
    amounts = [line.unit_price * line.quantity for line in lines]
    base = [price * line.quantity for price, line in zip(member_prices, lines, strict=True)]
    candidates, rejected = _candidates(basket, member, program, now, tier)
    outcome = _choose(candidates, lines, base, rejected)
    left = [b - d for b, d in zip(base, outcome.discounts, strict=True)]
    points_redeemed, points_value, short_of_points = _redeem(basket, member, program, sum(left))
    offsets = allocate(points_value, left) if points_value else [0] * len(lines)
    totals = [rest - offset for rest, offset in zip(left, offsets, strict=True)]
    multipliers = _line_multipliers(lines, tier, program, outcome.multipliers)
    earned_total, earned = _earn(totals, multipliers, program, is_member)
    priced = [
        PricedLine(
            sku=line.sku,
            category=line.category,
            quantity=line.quantity,
            unit_price=line.unit_price,
            member_price=member_prices[i],
            discount=amounts[i] - left[i],
            points_offset=offsets[i],
            total=totals[i],
            points_earned=earned[i],
        )
        for i, line in enumerate(lines)
    ]
    priced += _gift_lines(outcome.gifts)
    subtotal = sum(amounts)
    member_discount = sum(amounts) - sum(base)
    discount = member_discount + outcome.amount
    total = subtotal - discount - points_value
    stored_value_paid = min(max(basket.stored_value, 0), total)
    return Quote(
        subtotal=subtotal,
        member_discount=member_discount,
        discount=discount,
        total=total,
        lines=tuple(priced),
        applied=tuple(outcome.applied),
        rejected=tuple(rejected),
        points_redeemed=points_redeemed,
        points_value=points_value,
        points_earned=earned_total,
        stored_value_paid=stored_value_paid,
        cash_due=total - stored_value_paid,
        saved=subtotal - total,
        insufficient_points=short_of_points,
        insufficient_stored_value=basket.stored_value > 0
        and stored_value_paid > (member.stored_value if is_member else 0),
    )


def _check_lines(lines: Sequence[Line]) -> None:
    for line in lines:
        if line.quantity <= 0 or line.unit_price < 0:
            raise ValueError(f"line {line.sku!r}: quantity must be > 0 and unit_price >= 0")
        if line.member_price is not None and line.member_price < 0:
            raise ValueError(f"line {line.sku!r}: member_price must be >= 0")


def _effective_tier(program: Program, member: MemberContext) -> Tier | None:
    if not program.tiers:
        return None
    if member.tier is not None:
        for tier in program.tiers:
            if tier.code == member.tier:
                return tier
    return min(program.tiers, key=lambda tier: tier.rank)


def _member_price(line: Line, tier: Tier | None, is_member: bool) -> int:
    """Per unit: the lower of the POS's member price and the tier's category discount."""
    if not is_member:
        return line.unit_price
    price = line.unit_price
    if tier is not None and line.category in tier.discount:
        price = div_round_half_up(line.unit_price * tier.discount[line.category], 100)
    if line.member_price is not None:
        price = min(price, line.member_price)
    return min(price, line.unit_price)


# --- which promotions may apply ----------------------------------------------------------


def _candidates(
    basket: Basket,
    member: MemberContext,
    program: Program,
    now: dt.datetime,
    tier: Tier | None,
) -> tuple[list[_Candidate], list[Rejected]]:
    """Automatic promotions and the sale's codes that pass every amount-free condition."""
    local = now.astimezone(ZoneInfo(program.timezone))
    candidates: list[_Candidate] = []
    rejected: list[Rejected] = []

    def admit(candidate: _Candidate) -> None:
        reason = _static_failure(candidate.promotion, basket, member, local, tier)
        if reason is None:
            candidates.append(candidate)
        elif candidate.typed is not None:
            rejected.append(Rejected(candidate.typed, reason))

    for promotion in program.promotions:
        if promotion.kind == "automatic":
            admit(_Candidate(promotion, promotion.code, None))
    by_code = {normalize_code(p.code): p for p in program.promotions if p.kind == "code"}
    coupons = {normalize_code(code): coupon for code, coupon in member.coupons.items()}
    seen: set[str] = set()
    for typed in basket.codes:
        key = normalize_code(typed)
        if key in seen:
            rejected.append(Rejected(typed, DUPLICATE_CODE))
            continue
        seen.add(key)
        if key in by_code:
            admit(_Candidate(by_code[key], by_code[key].code, typed))
        elif key in coupons:
            reason = _coupon_failure(coupons[key], member, now)
            if reason is None:
                admit(_Candidate(coupons[key].promotion, coupons[key].code, typed))
            else:
                rejected.append(Rejected(typed, reason))
        else:
            rejected.append(Rejected(typed, UNKNOWN_CODE))
    return candidates, rejected


def _coupon_failure(coupon: Coupon, member: MemberContext, now: dt.datetime) -> str | None:
    if coupon.member_id is not None and coupon.member_id != member.member_id:
        return COUPON_OTHER_MEMBER
    if coupon.used:
        return COUPON_USED
    if coupon.valid_from is not None and now < coupon.valid_from:
        return COUPON_NOT_YET_VALID
    if coupon.valid_until is not None and now >= coupon.valid_until:
        return COUPON_EXPIRED
    return None


def _static_failure(
    promotion: Promotion,
    basket: Basket,
    member: MemberContext,
    local: dt.datetime,
    tier: Tier | None,
) -> str | None:
    """Why a promotion cannot apply to this sale at all, whatever the amounts (or None)."""
    is_member = member.member_id is not None
    if promotion.members_only and not is_member:
        return MEMBERS_ONLY
    condition = promotion.condition
    in_window = (condition.starts_at is None or local >= condition.starts_at) and (
        condition.ends_at is None or local < condition.ends_at
    )
    holds = (
        in_window
        and (not condition.weekdays or local.isoweekday() in condition.weekdays)
        and (not condition.stores or basket.store in condition.stores)
        and (not condition.tiers or (tier is not None and tier.code in condition.tiers))
        and (not condition.first_purchase or (is_member and member.first_purchase))
        and condition.skus <= {line.sku for line in basket.lines}
        and condition.categories <= {line.category for line in basket.lines}
        and _enough_units(promotion, basket.lines)
    )
    return None if holds else CONDITION_NOT_MET


def _enough_units(promotion: Promotion, lines: Sequence[Line]) -> bool:
    needed = promotion.condition.min_quantity
    if not needed:
        return True
    scope = _scope(promotion.benefit, lines)
    return sum(lines[i].quantity for i in scope) >= needed


def _scope(benefit: Benefit, lines: Sequence[Line]) -> list[int]:
    """Indexes of the lines a benefit applies to."""
    categories = benefit.categories
    if benefit.type == "free_shipping" and not categories:
        categories = frozenset({SHIPPING_CATEGORY})
    if not benefit.skus and not categories:
        return list(range(len(lines)))
    return [
        i for i, line in enumerate(lines) if line.sku in benefit.skus or line.category in categories
    ]


# --- applying them -----------------------------------------------------------------------


def _ordered(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    return sorted(candidates, key=lambda c: (c.promotion.priority, c.code))


def _choose(
    candidates: Sequence[_Candidate],
    lines: Sequence[Line],
    base: list[int],
    rejected: list[Rejected],
) -> _Outcome:
    """Stackable ones in sequence, or the best exclusive one alone when it beats them."""
    ordered = _ordered(candidates)
    stackable = _run([c for c in ordered if c.promotion.stacking == "stackable"], lines, base)
    failures = dict(stackable.failed)
    best: _Outcome | None = None
    for candidate in ordered:
        if candidate.promotion.stacking != "exclusive":
            continue
        alone = _run([candidate], lines, base)
        failures.update(alone.failed)
        if alone.applied and (best is None or alone.amount > best.amount):
            best = alone
    use_best = best is not None and (best.amount > stackable.amount or not stackable.applied)
    chosen = best if use_best and best is not None else stackable
    winners = {f"{applied.kind}:{applied.code}" for applied in chosen.applied}
    for candidate in ordered:
        if candidate.typed is not None and candidate.key not in winners:
            reason = failures.get(candidate.key, NOT_COMBINABLE)
            rejected.append(Rejected(candidate.typed, reason))
    return chosen


def _threshold_met(promotion: Promotion, lines: Sequence[Line], left: Sequence[int]) -> bool:
    threshold = promotion.condition.min_amount
    if not threshold:
        return True
    return sum(left[i] for i in _scope(promotion.benefit, lines)) >= threshold


def _run(candidates: Sequence[_Candidate], lines: Sequence[Line], base: list[int]) -> _Outcome:
    """Apply `candidates` in order, each on what the earlier ones left."""
    left = list(base)
    outcome = _Outcome(discounts=[0] * len(lines))
    for candidate in candidates:
        promotion = candidate.promotion
        if not _threshold_met(promotion, lines, left):
            outcome.failed.append((candidate.key, CONDITION_NOT_MET))
            continue
        benefit = promotion.benefit
        scope = _scope(benefit, lines)
        if benefit.type == "gift":
            outcome.gifts.append((candidate, benefit))
            outcome.applied.append(_applied(candidate, 0))
            continue
        if benefit.type == "points_multiplier":
            if scope:
                outcome.multipliers.append((frozenset(scope), benefit.value))
                outcome.applied.append(_applied(candidate, 0))
            else:
                outcome.failed.append((candidate.key, NO_DISCOUNT))
            continue
        parts = _cap(_discounts(benefit, scope, lines, left), benefit.max_discount)
        amount = sum(parts)
        if amount <= 0:
            outcome.failed.append((candidate.key, NO_DISCOUNT))
            continue
        for i, part in zip(scope, parts, strict=True):
            left[i] -= part
            outcome.discounts[i] += part
        outcome.applied.append(_applied(candidate, amount))
    return outcome


def _applied(candidate: _Candidate, amount: int) -> Applied:
    promotion = candidate.promotion
    return Applied(
        code=candidate.code,
        kind=promotion.kind,
        name=promotion.name,
        amount=amount,
        benefit=promotion.benefit.type,
    )


def _cap(parts: list[int], cap: int | None) -> list[int]:
    if cap is None or sum(parts) <= cap:
        return parts
    return allocate(cap, parts)


def _discounts(
    benefit: Benefit, scope: list[int], lines: Sequence[Line], left: Sequence[int]
) -> list[int]:
    """Fen off each scope line (same order as `scope`), never more than the line has left."""
    rests = [left[i] for i in scope]
    rest = sum(rests)
    if rest <= 0:
        return [0] * len(scope)
    kind = benefit.type
    if kind == "percent":
        return allocate(div_round_half_up(rest * min(benefit.value, 100), 100), rests)
    if kind == "fixed":
        return allocate(min(benefit.value, rest), rests)
    if kind == "fixed_price":
        units = sum(lines[i].quantity for i in scope)
        return allocate(max(0, rest - benefit.value * units), rests)
    if kind == "free_shipping":
        return rests
    if kind == "free_items":
        return _free_units(benefit, scope, lines, left)
    if kind == "cheapest_percent":
        return _cheapest_percent(benefit, scope, lines, left)
    raise ValueError(f"unknown benefit type {kind!r}")


def _units_cheapest_first(scope: list[int], lines: Sequence[Line], left: Sequence[int]):
    """Scope positions, cheapest unit (what is left per unit) first; ties by content, not
    position, so the order of lines never changes which ones are free."""
    return sorted(
        range(len(scope)),
        key=lambda k: (
            Fraction(left[scope[k]], lines[scope[k]].quantity),
            lines[scope[k]].sku,
            lines[scope[k]].category,
            lines[scope[k]].unit_price,
            lines[scope[k]].quantity,
        ),
    )


def _free_units(
    benefit: Benefit, scope: list[int], lines: Sequence[Line], left: Sequence[int]
) -> list[int]:
    units = sum(lines[i].quantity for i in scope)
    if benefit.buy and benefit.get:
        free = units // (benefit.buy + benefit.get) * benefit.get
    else:
        free = min(benefit.quantity, units)
    parts = [0] * len(scope)
    for k in _units_cheapest_first(scope, lines, left):
        if free <= 0:
            break
        line = lines[scope[k]]
        take = min(free, line.quantity)
        parts[k] = div_round_half_up(left[scope[k]] * take, line.quantity)
        free -= take
    return parts


def _cheapest_percent(
    benefit: Benefit, scope: list[int], lines: Sequence[Line], left: Sequence[int]
) -> list[int]:
    parts = [0] * len(scope)
    cheapest = _units_cheapest_first(scope, lines, left)[0]
    line = lines[scope[cheapest]]
    parts[cheapest] = div_round_half_up(
        left[scope[cheapest]] * min(benefit.value, 100), line.quantity * 100
    )
    return parts


def _gift_lines(gifts: Sequence[tuple[_Candidate, Benefit]]) -> list[PricedLine]:
    return [
        PricedLine(
            sku=benefit.sku,
            category="",
            quantity=max(benefit.quantity, 1),
            unit_price=0,
            member_price=0,
            discount=0,
            points_offset=0,
            total=0,
            gift=True,
        )
        for _candidate, benefit in gifts
    ]


# --- points ------------------------------------------------------------------------------


def _redeem(
    basket: Basket, member: MemberContext, program: Program, left: int
) -> tuple[int, int, bool]:
    """(points redeemed, fen they pay, asked for more than the member holds)."""
    asked = max(basket.points_to_redeem, 0)
    held = member.points_available if member.member_id is not None else 0
    short = asked > held
    rule = program.redeem
    if rule is None or member.member_id is None or asked == 0:
        return 0, 0, short
    allowed_value = left * rule.max_share_percent // 100
    units = min(min(asked, held) // rule.points, allowed_value // rule.value)
    return units * rule.points, units * rule.value, short


def _line_multipliers(
    lines: Sequence[Line],
    tier: Tier | None,
    program: Program,
    promotions: Sequence[tuple[frozenset[int], int]],
) -> list[Fraction]:
    base = Fraction(tier.points_multiplier_percent if tier else 100, 100)
    multipliers = []
    for i, line in enumerate(lines):
        if line.category in program.earn_exclude_categories:
            multipliers.append(Fraction(0))
            continue
        multiplier = base
        for scope, percent in promotions:
            if i in scope:
                multiplier *= Fraction(percent, 100)
        multipliers.append(multiplier)
    return multipliers


def _earn(
    totals: Sequence[int], multipliers: Sequence[Fraction], program: Program, is_member: bool
) -> tuple[int, list[int]]:
    """Points for the whole sale, and the same points spread over the lines that earned."""
    rule = program.earn
    if rule is None or not is_member:
        return 0, [0] * len(totals)
    weighted = [total * multiplier for total, multiplier in zip(totals, multipliers, strict=True)]
    points = int(sum(weighted, Fraction(0)) // rule.per_amount) * rule.points
    weights = [int(w) for w in weighted]
    if points == 0 or sum(weights) == 0:
        return points, [0] * len(totals)
    return points, allocate(points, weights)


def with_codes(basket: Basket, codes: Sequence[str]) -> Basket:
    """The same basket with other codes (the cashier screen re-quotes as codes are typed)."""
    return replace(basket, codes=tuple(codes))
