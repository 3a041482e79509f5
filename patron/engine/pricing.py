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

import contextlib
import datetime as dt
import math
import operator
import weakref
from collections.abc import Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from patron.engine.money import div_round_half_up
from patron.engine.pricing_data import (
    BENEFIT_TYPES,
    CONDITION_NOT_MET,
    COUPON_EXPIRED,
    COUPON_NOT_YET_VALID,
    COUPON_OTHER_MEMBER,
    COUPON_USED,
    DUPLICATE_CODE,
    MEMBERS_ONLY,
    NO_DISCOUNT,
    NOT_COMBINABLE,
    SHIPPING_CATEGORY,
    UNKNOWN_CODE,
    Applied,
    Basket,
    Benefit,
    Condition,
    Coupon,
    Line,
    MemberContext,
    PricedLine,
    Program,
    Promotion,
    PromotionKind,
    Quote,
    RedeemRule,
    Rejected,
    Stacking,
    Tier,
)

# The values live in pricing_data (never compiled); they are part of this module's interface.
__all__ = [
    "PromotionKind",
    "Stacking",
    "BENEFIT_TYPES",
    "SHIPPING_CATEGORY",
    "UNKNOWN_CODE",
    "COUPON_USED",
    "COUPON_EXPIRED",
    "COUPON_NOT_YET_VALID",
    "COUPON_OTHER_MEMBER",
    "MEMBERS_ONLY",
    "CONDITION_NOT_MET",
    "NOT_COMBINABLE",
    "DUPLICATE_CODE",
    "NO_DISCOUNT",
    "Line",
    "Basket",
    "Condition",
    "Benefit",
    "Promotion",
    "Coupon",
    "Tier",
    "RedeemRule",
    "MemberContext",
    "Program",
    "PricedLine",
    "Applied",
    "Rejected",
    "Quote",
    "normalize_code",
    "quote",
]

# --- quoting ---------------------------------------------------------------------------------
#
# `quote` runs on every sale, so the work that depends only on a promotion (its condition's
# parts, its benefit's scope, its sort key) is done once per promotion object and cached
# (`_rule`), and the work that depends only on the sale (local time, weekday, the basket's
# SKUs and categories, line ranks, scopes) once per quote (`_Sale`). What is left per
# promotion is comparisons and integer arithmetic; the results are those of the plain
# algorithm, which tests/engine/reference_pricing.py keeps and a property test compares.


def normalize_code(code: str) -> str:
    """Codes are typed at tills: case, spaces and dashes do not matter."""
    return code.replace(" ", "").replace("-", "").upper()


class _Rule:
    """One promotion, prepared for quoting: what every quote would otherwise recompute."""

    __slots__ = (
        "promotion",
        "benefit",
        "benefit_type",
        "kind",
        "key",
        "order",
        "stackable",
        "exclusive",
        "members_only",
        "condition",
        "unconditional",
        "min_amount",
        "whole_order",
        "scope_key",
        "normalized",
        "as_automatic",
        "always",
    )

    def __init__(self, promotion: Promotion) -> None:
        condition, benefit = promotion.condition, promotion.benefit
        self.promotion = promotion
        self.benefit = benefit
        self.benefit_type = benefit.type
        self.kind = promotion.kind
        self.key = _key(promotion, promotion.code)
        self.order = (promotion.priority, promotion.code)  # promotions apply in this order
        # Neither flag for an unknown stacking value: such a promotion never applies.
        self.stackable = promotion.stacking == "stackable"
        self.exclusive = promotion.stacking == "exclusive"
        self.members_only = promotion.members_only
        self.condition = condition
        # Most promotions have no amount-free condition at all: skip the checks for them.
        self.unconditional = not (
            condition.starts_at is not None
            or condition.ends_at is not None
            or condition.weekdays
            or condition.stores
            or condition.tiers
            or condition.first_purchase
            or condition.skus
            or condition.categories
            or condition.min_quantity
        )
        self.min_amount = condition.min_amount
        categories = benefit.categories
        if benefit.type == "free_shipping" and not categories:
            categories = frozenset({SHIPPING_CATEGORY})
        self.whole_order = not benefit.skus and not categories
        # Frozen copies: hashable, so rules with the same scope share it within a quote.
        self.scope_key = (frozenset(benefit.skus), frozenset(categories))
        self.normalized = normalize_code(promotion.code) if promotion.kind == "code" else ""
        # An automatic promotion's candidate is the same tuple on every quote.
        self.as_automatic: _Candidate = (self.order, self, promotion.code, None, self.key)
        self.always = self.unconditional and not promotion.members_only


# A promotion that may apply to this sale: (sort key, rule, code shown to the customer (the
# promotion's or the coupon's), the code as typed on the sale or None, key naming it in
# failures and winners). A plain tuple: quotes build many and read them in tight loops.
_Candidate = tuple[tuple[int, str], _Rule, str, "str | None", str]


def _key(promotion: Promotion, code: str) -> str:
    return f"{promotion.kind}:{code}"


_by_order = operator.itemgetter(0)  # a candidate's sort key: (priority, code)


# Rules by the identity of their promotion. Promotions are frozen, and the sales app keeps
# the same Promotion objects for as long as the program does not change (it builds a new
# Program around them for each sale), so identity is the right key: hashing a Promotion would
# walk its condition and benefit on every look-up, which is what the cache is there to save.
# A weak reference drops the entry when the promotion goes away, and proves that an entry
# found under an id belongs to this object and not to a dead one whose id was reused.
_rules: dict[int, tuple[weakref.ref[Promotion], _Rule]] = {}


def _rule(promotion: Promotion) -> _Rule:
    """`promotion` prepared for quoting, from the cache when it has been seen before."""
    key = id(promotion)
    found = _rules.get(key)
    if found is not None and found[0]() is promotion:
        return found[1]
    rule = _Rule(promotion)

    def forget(ref: weakref.ref[Promotion]) -> None:
        entry = _rules.get(key)
        if entry is not None and entry[0] is ref:
            _rules.pop(key, None)

    with contextlib.suppress(TypeError):  # a subclass without weak references: not cached
        _rules[key] = (weakref.ref(promotion, forget), rule)
    return rule


class _Rules:
    """A program's promotions prepared: the automatic ones in program order (candidates keep
    it, so equal sort keys tie as before), and the code promotions by normalized code (of
    equal codes the last one listed wins)."""

    __slots__ = ("automatic", "by_code")

    def __init__(self, promotions: Sequence[Promotion]) -> None:
        rules = [_rule(promotion) for promotion in promotions]
        self.automatic = [rule for rule in rules if rule.kind == "automatic"]
        self.by_code = {rule.normalized: rule for rule in rules if rule.kind == "code"}


# Prepared promotion lists by the ids of their promotions, in order. The sales app builds a
# new Program, and a new tuple of the same Promotion objects, for every sale, so neither
# object's identity would ever hit; the ids of the promotions do. An entry holds its
# promotions (through its rules), so none of them can die and hand its id to another object
# while the entry exists: an entry found is always for these very objects. Bounded: when
# full it is emptied (programs change rarely; a miss costs one look-up per promotion).
_programs: dict[tuple[int, ...], _Rules] = {}
_PROGRAMS_KEPT = 256


def _rules_for(promotions: Sequence[Promotion]) -> _Rules:
    key = tuple(map(id, promotions))
    found = _programs.get(key)
    if found is None:
        if len(_programs) >= _PROGRAMS_KEPT:
            _programs.clear()
        found = _programs[key] = _Rules(promotions)
    return found


class _Sale:
    """One quote's facts, computed once: who buys where and when, the basket's SKUs and
    categories, each line's rank by content (for tie-breaks that do not depend on scanning
    order) and each benefit's scope."""

    __slots__ = (
        "lines",
        "store",
        "is_member",
        "first_purchase",
        "tier",
        "local",
        "weekday",
        "skus",
        "categories",
        "ranks",
        "by_rank",
        "everything",
        "scopes",
        "_by_key",
        "_orders",
    )

    def __init__(
        self,
        basket: Basket,
        member: MemberContext,
        tier: Tier | None,
        local: dt.datetime,
    ) -> None:
        lines = basket.lines
        self.lines = lines
        self.store = basket.store
        self.is_member = member.member_id is not None
        self.first_purchase = self.is_member and member.first_purchase
        self.tier = tier
        self.local = local
        self.weekday = local.isoweekday()
        self.skus = {line.sku for line in lines}
        self.categories = {line.category for line in lines}
        contents = [
            (
                line.sku,
                line.category,
                line.unit_price,
                line.quantity,
                -1 if line.member_price is None else line.member_price,
            )
            for line in lines
        ]
        # Line indexes by content (equal lines by position), and each line's place in it.
        self.by_rank = sorted(range(len(lines)), key=contents.__getitem__)
        self.ranks = [0] * len(lines)
        for rank, index in enumerate(self.by_rank):
            self.ranks[index] = rank
        self.everything = list(range(len(lines)))  # the scope of whole-order benefits
        self.scopes: dict[tuple[frozenset[str], frozenset[str]], list[int]] = {}
        self._by_key: dict[tuple[bool, str], list[int]] | None = None  # when a scope asks
        self._orders: dict[int, list[int]] = {}

    def scope(self, rule: _Rule) -> list[int]:
        """Indexes of the lines `rule`'s benefit applies to, in line order."""
        found = self.scopes.get(rule.scope_key)
        if found is None:
            skus, categories = rule.scope_key
            if rule.whole_order:
                found = self.everything
            elif len(skus) + len(categories) == 1:  # the usual case: one SKU or one category
                if self._by_key is None:
                    self._by_key = _lines_by_key(self.lines)
                (key,) = skus or categories
                found = self._by_key.get((bool(skus), key), [])
            else:
                found = [
                    i
                    for i, line in enumerate(self.lines)
                    if line.sku in skus or line.category in categories
                ]
            self.scopes[rule.scope_key] = found
        return found

    def units(self, scope: list[int]) -> int:
        lines = self.lines
        return sum([lines[i].quantity for i in scope])

    def in_rank_order(self, scope: list[int]) -> list[int]:
        """Positions in `scope`, the lowest-ranked line's first: the tie-break order."""
        if scope is self.everything:
            return self.by_rank
        # Scopes live as long as the sale (in self.scopes), so their ids are stable keys.
        found = self._orders.get(id(scope))
        if found is None:
            ranks = [self.ranks[i] for i in scope]
            found = self._orders[id(scope)] = sorted(range(len(ranks)), key=ranks.__getitem__)
        return found


def _lines_by_key(lines: Sequence[Line]) -> dict[tuple[bool, str], list[int]]:
    """Line indexes by (True, SKU) and by (False, category), in line order: one pass over
    the lines instead of one per benefit that names a single SKU or category."""
    found: dict[tuple[bool, str], list[int]] = {}
    for i, line in enumerate(lines):
        found.setdefault((True, line.sku), []).append(i)
        found.setdefault((False, line.category), []).append(i)
    return found


def _spread(total: int, weights: list[int], scope: list[int], sale: _Sale) -> list[int]:
    """`money.allocate(total, weights, ranks of the scope lines)`: the same parts (largest
    remainder first, equal remainders to the lowest rank), found by a stable sort on the
    remainders of the positions in rank order instead of sorting (remainder, rank, index)
    tuples. Every discount, points offset and points share goes through here, so it is the
    innermost loop of a quote."""
    if total < 0 or (weights and min(weights) < 0):
        raise ValueError("allocate takes non-negative amounts")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a positive total over zero weights")
        return [0] * len(weights)
    if len(weights) == 1:
        return [total]
    parts = [total * w // weight_sum for w in weights]
    leftover = total - sum(parts)
    if leftover:
        negative_remainders = [-(total * w % weight_sum) for w in weights]
        in_order = sorted(sale.in_rank_order(scope), key=negative_remainders.__getitem__)
        for position in in_order[:leftover]:
            parts[position] += 1
    return parts


def quote(basket: Basket, member: MemberContext, program: Program, now: dt.datetime) -> Quote:
    """Price `basket` for `member` under `program` at `now` (see the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    _check_lines(basket.lines)
    is_member = member.member_id is not None
    tier = _effective_tier(program, member) if is_member else None
    lines = basket.lines
    member_prices = _member_prices(lines, tier) if is_member else [ln.unit_price for ln in lines]
    amounts = [line.unit_price * line.quantity for line in lines]
    base = [price * line.quantity for price, line in zip(member_prices, lines, strict=True)]
    sale = _Sale(basket, member, tier, now.astimezone(ZoneInfo(program.timezone)))
    candidates, rejected = _candidates(sale, basket, member, program, now)
    outcome = _choose(candidates, sale, base, rejected)
    left = outcome.left
    points_redeemed, points_value, short_of_points = _redeem(basket, member, program, sum(left))
    everything = sale.everything
    offsets = _spread(points_value, left, everything, sale) if points_value else [0] * len(lines)
    totals = [rest - offset for rest, offset in zip(left, offsets, strict=True)]
    earned_total, earned = _earn(totals, tier, program, outcome.multipliers, sale, is_member)
    priced = [
        _make(
            PricedLine,
            {
                "sku": line.sku,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "member_price": member_prices[i],
                "discount": amounts[i] - left[i],
                "points_offset": offsets[i],
                "total": totals[i],
                "points_earned": earned[i],
                "gift": False,
            },
        )
        for i, line in enumerate(lines)
    ]
    priced += [_gift_line(benefit) for benefit in outcome.gifts]
    subtotal = sum(amounts)
    member_discount = subtotal - sum(base)
    discount = member_discount + outcome.amount
    total = subtotal - discount - points_value
    stored_value_paid = min(max(basket.stored_value, 0), total)
    return _make(
        Quote,
        {
            "subtotal": subtotal,
            "member_discount": member_discount,
            "discount": discount,
            "total": total,
            "lines": tuple(priced),
            "applied": tuple(
                [_applied(candidate, amount) for candidate, amount in outcome.applied]
            ),
            "rejected": tuple(rejected),
            "points_redeemed": points_redeemed,
            "points_value": points_value,
            "points_earned": earned_total,
            "stored_value_paid": stored_value_paid,
            "cash_due": total - stored_value_paid,
            "saved": subtotal - total,
            "insufficient_points": short_of_points,
            "insufficient_stored_value": basket.stored_value > 0
            and stored_value_paid > (member.stored_value if is_member else 0),
        },
    )


_Frozen = TypeVar("_Frozen")


def _make(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    """An instance of the frozen dataclass `cls` holding `fields` (every field, in order).

    The very object `cls(**fields)` makes (the output classes have no __post_init__ and no
    default factories: a test compares them), at a fifth of the cost: a frozen dataclass's
    __init__ calls object.__setattr__ once per field, and a quote builds a dozen of them.
    """
    instance = object.__new__(cls)
    object.__setattr__(instance, "__dict__", fields)
    return instance


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


def _member_prices(lines: Sequence[Line], tier: Tier | None) -> list[int]:
    """Per unit, for a member: the lower of the POS's member price and the tier's category
    discount."""
    discount = tier.discount if tier is not None else {}
    prices = []
    for line in lines:
        price = line.unit_price
        if line.category in discount:
            price = div_round_half_up(line.unit_price * discount[line.category], 100)
        if line.member_price is not None:
            price = min(price, line.member_price)
        prices.append(min(price, line.unit_price))
    return prices


# --- which promotions may apply ----------------------------------------------------------


def _candidates(
    sale: _Sale,
    basket: Basket,
    member: MemberContext,
    program: Program,
    now: dt.datetime,
) -> tuple[list[_Candidate], list[Rejected]]:
    """Automatic promotions and the sale's codes that pass every amount-free condition."""
    rules = _rules_for(program.promotions)
    candidates = [
        rule.as_automatic
        for rule in rules.automatic
        if rule.always or _context_failure(rule, sale) is None
    ]
    rejected: list[Rejected] = []
    if not basket.codes:
        return candidates, rejected
    by_code = rules.by_code
    coupons = {normalize_code(code): coupon for code, coupon in member.coupons.items()}
    seen: set[str] = set()
    for typed in basket.codes:
        key = normalize_code(typed)
        if key in seen:
            rejected.append(Rejected(typed, DUPLICATE_CODE))
            continue
        seen.add(key)
        if key in by_code:
            rule = by_code[key]
            reason = _context_failure(rule, sale)
            if reason is None:
                candidates.append((rule.order, rule, rule.promotion.code, typed, rule.key))
        elif key in coupons:
            reason = _coupon_failure(coupons[key], member, now)
            if reason is None:
                candidate = _coupon_candidate(coupons[key], typed)
                reason = _context_failure(candidate[1], sale)
                if reason is None:
                    candidates.append(candidate)
        else:
            reason = UNKNOWN_CODE
        if reason is not None:
            rejected.append(Rejected(typed, reason))
    return candidates, rejected


def _coupon_candidate(coupon: Coupon, typed: str) -> _Candidate:
    """A coupon applies as its template's promotion, under the coupon's own code."""
    rule = _rule(coupon.promotion)
    code = coupon.code
    return ((rule.promotion.priority, code), rule, code, typed, _key(rule.promotion, code))


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


def _context_failure(rule: _Rule, sale: _Sale) -> str | None:
    """Why a promotion cannot apply to this sale at all, whatever the amounts (or None)."""
    if rule.members_only and not sale.is_member:
        return MEMBERS_ONLY
    if rule.unconditional:
        return None
    condition = rule.condition
    local = sale.local
    tier = sale.tier
    # The parts in this order, as the plain algorithm checks them (a naive datetime in a
    # window fails the same way, at the same point).
    holds = (
        (condition.starts_at is None or local >= condition.starts_at)
        and (condition.ends_at is None or local < condition.ends_at)
        and (not condition.weekdays or sale.weekday in condition.weekdays)
        and (not condition.stores or sale.store in condition.stores)
        and (not condition.tiers or (tier is not None and tier.code in condition.tiers))
        and (not condition.first_purchase or sale.first_purchase)
        and condition.skus <= sale.skus
        and condition.categories <= sale.categories
        and (not condition.min_quantity or sale.units(sale.scope(rule)) >= condition.min_quantity)
    )
    return None if holds else CONDITION_NOT_MET


# --- applying them -----------------------------------------------------------------------


class _Outcome:
    """What one run of promotions did to the lines."""

    __slots__ = ("left", "applied", "amount", "failed", "gifts", "multipliers")

    def __init__(self, base: list[int]) -> None:
        self.left = list(base)  # per line, what is left to pay after this run's discounts
        self.applied: list[tuple[_Candidate, int]] = []  # (candidate, fen off)
        self.amount = 0  # the fen off of every applied candidate
        self.failed: list[tuple[str, str]] = []  # (candidate key, reason)
        self.gifts: list[Benefit] = []
        self.multipliers: list[tuple[list[int], int]] = []  # (scope, percent)


def _choose(
    candidates: list[_Candidate],
    sale: _Sale,
    base: list[int],
    rejected: list[Rejected],
) -> _Outcome:
    """Stackable ones in sequence, or the best exclusive one alone when it beats them."""
    if not candidates:  # nothing to run, nothing to reject
        return _Outcome(base)
    ordered = sorted(candidates, key=_by_order)
    stackable = _run([c for c in ordered if c[1].stackable], sale, base)
    failures = dict(stackable.failed)
    best: _Outcome | None = None
    best_candidate = None
    for candidate in ordered:
        if not candidate[1].exclusive:
            continue
        # Only its amount counts unless it wins, so its discount is not spread yet.
        alone = _run((candidate,), sale, base, spread=False)
        failures.update(alone.failed)
        if alone.applied and (best is None or alone.amount > best.amount):
            best, best_candidate = alone, candidate
    use_best = best is not None and (best.amount > stackable.amount or not stackable.applied)
    if use_best and best_candidate is not None:
        chosen = _run((best_candidate,), sale, base)  # the same run, spread over the lines
    else:
        chosen = stackable
    winners = {candidate[4] for candidate, _amount in chosen.applied}
    for candidate in ordered:
        typed, key = candidate[3], candidate[4]
        if typed is not None and key not in winners:
            rejected.append(Rejected(typed, failures.get(key, NOT_COMBINABLE)))
    return chosen


def _run(
    candidates: Sequence[_Candidate], sale: _Sale, base: list[int], spread: bool = True
) -> _Outcome:
    """Apply `candidates` in order, each on what the earlier ones left. `spread=False` leaves
    `left` as it was: enough for one candidate's amount, not for the next candidate's."""
    outcome = _Outcome(base)
    left, applied, failed = outcome.left, outcome.applied, outcome.failed
    scopes, everything = sale.scopes, sale.everything
    for candidate in candidates:
        rule = candidate[1]
        scope = scopes.get(rule.scope_key) or sale.scope(rule)
        whole = scope is everything
        rests = left[:] if whole else [left[i] for i in scope]
        rest = sum(rests)
        threshold = rule.min_amount
        if threshold and rest < threshold:
            failed.append((candidate[4], CONDITION_NOT_MET))
            continue
        kind = rule.benefit_type
        if kind == "gift":
            outcome.gifts.append(rule.benefit)
            applied.append((candidate, 0))
            continue
        if kind == "points_multiplier":
            if scope:
                outcome.multipliers.append((scope, rule.benefit.value))
                applied.append((candidate, 0))
            else:
                failed.append((candidate[4], NO_DISCOUNT))
            continue
        amount = _discount(rule.benefit, scope, sale, left, rest) if rest > 0 else 0
        if amount <= 0:
            failed.append((candidate[4], NO_DISCOUNT))
            continue
        if spread and len(scope) == 1:
            left[scope[0]] -= amount  # all of it on the one line (amount <= rest)
        elif spread:  # by what each line has left: no line goes below zero
            parts = _spread(amount, rests, scope, sale)
            if whole:
                left[:] = [was - part for was, part in zip(left, parts, strict=True)]
            else:
                for i, part in zip(scope, parts, strict=True):
                    left[i] -= part
        applied.append((candidate, amount))
        outcome.amount += amount
    return outcome


def _applied(candidate: _Candidate, amount: int) -> Applied:
    promotion = candidate[1].promotion
    return _make(
        Applied,
        {
            "code": candidate[2],
            "kind": promotion.kind,
            "name": promotion.name,
            "amount": amount,
            "benefit": promotion.benefit.type,
        },
    )


def _discount(benefit: Benefit, scope: list[int], sale: _Sale, left: list[int], rest: int) -> int:
    """Fen off the scope lines, which have `rest` > 0 left: within it and within the cap."""
    kind = benefit.type
    if kind == "percent":
        amount = div_round_half_up(rest * min(benefit.value, 100), 100)
    elif kind == "fixed":
        amount = benefit.value
    elif kind == "fixed_price":
        amount = max(0, rest - benefit.value * sale.units(scope))
    elif kind == "free_shipping":
        amount = rest
    elif kind == "free_items":
        amount = _free_units_value(benefit, scope, sale, left)
    elif kind == "cheapest_percent":
        cheapest = _units_cheapest_first(scope, sale, left)[0][0]
        index = scope[cheapest]
        amount = div_round_half_up(
            left[index] * min(benefit.value, 100), sale.lines[index].quantity * 100
        )
    else:
        raise ValueError(f"unknown benefit type {kind!r}")
    amount = min(amount, rest)
    if benefit.max_discount is not None:
        amount = min(amount, benefit.max_discount)
    return amount


def _units_cheapest_first(
    scope: list[int], sale: _Sale, left: list[int]
) -> tuple[list[int], list[int], int]:
    """Scope positions, cheapest unit (what is left per unit) first, ties by content, not
    position, so the order of lines never changes which ones are free; with the price per
    unit of each position and their common denominator.

    The prices per unit are exact, like Fractions, but integers: each line's `left *
    denominator / quantity` over one denominator, the least common multiple of the
    quantities (small numbers in a basket)."""
    lines = sale.lines
    quantities = [lines[i].quantity for i in scope]
    denominator = math.lcm(*quantities)
    per_unit = [left[i] * (denominator // q) for i, q in zip(scope, quantities, strict=True)]
    # Stable: equal prices stay in rank order.
    return sorted(sale.in_rank_order(scope), key=per_unit.__getitem__), per_unit, denominator


def _free_units_value(benefit: Benefit, scope: list[int], sale: _Sale, left: list[int]) -> int:
    """What the free units are worth (the cheapest ones); the discount is then spread over
    every line of the offer, so returning the paid items gives back only what they cost."""
    units = sale.units(scope)
    if benefit.buy and benefit.get:
        free = units // (benefit.buy + benefit.get) * benefit.get
    else:
        free = min(benefit.quantity, units)
    order, per_unit, denominator = _units_cheapest_first(scope, sale, left)
    value = 0  # in 1/denominator fen
    for k in order:
        if free <= 0:
            break
        take = min(free, sale.lines[scope[k]].quantity)
        value += per_unit[k] * take
        free -= take
    return div_round_half_up(value, denominator)


def _gift_line(benefit: Benefit) -> PricedLine:
    return _make(
        PricedLine,
        {
            "sku": benefit.sku,
            "category": "",
            "quantity": max(benefit.quantity, 1),
            "unit_price": 0,
            "member_price": 0,
            "discount": 0,
            "points_offset": 0,
            "total": 0,
            "points_earned": 0,
            "gift": True,
        },
    )


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


def _earn(
    totals: Sequence[int],
    tier: Tier | None,
    program: Program,
    promotions: Sequence[tuple[list[int], int]],
    sale: _Sale,
    is_member: bool,
) -> tuple[int, list[int]]:
    """Points for the whole sale, and the same points spread over the lines that earned.

    A line weighs its total times its multiplier: the tier's percent times every
    points-multiplier promotion's percent on it (0 for excluded categories). Integers only:
    every multiplier is a percent, so the weights share the denominator 100 ** (1 + promos).
    """
    rule = program.earn
    if rule is None or not is_member:
        return 0, [0] * len(totals)
    base = tier.points_multiplier_percent if tier else 100
    excluded = program.earn_exclude_categories
    weights = []
    for i, line in enumerate(sale.lines):
        if line.category in excluded:
            weights.append(0)
            continue
        weight = totals[i] * base
        for scope, percent in promotions:
            weight *= percent if i in scope else 100
        weights.append(weight)
    denominator = 100 ** (1 + len(promotions))
    points = sum(weights) // (denominator * rule.per_amount) * rule.points
    if points == 0:
        return 0, [0] * len(totals)
    return points, _spread(points, weights, sale.everything, sale)
