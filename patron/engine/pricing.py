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
import math
import types
import weakref
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final, TypeVar, final
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
    LIMIT_REACHED,
    MEMBERS_ONLY,
    NO_DISCOUNT,
    NOT_COMBINABLE,
    SHIPPING_CATEGORY,
    SOLD_OUT,
    UNKNOWN_CODE,
    Applied,
    Basket,
    Benefit,
    Condition,
    Coupon,
    Limits,
    LimitUsage,
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
    "SOLD_OUT",
    "LIMIT_REACHED",
    "Limits",
    "LimitUsage",
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
# lines, SKUs and categories, line ranks, scopes) once per quote (`_Sale`). What is left per
# promotion is comparisons and integer arithmetic; the results are those of the plain
# algorithm, which tests/engine/reference_pricing.py keeps and a property test compares.
#
# Written for mypyc too (patron/engine/native.py): the hot loops read the fields they need
# from `_Rule` and `_Sale` (native classes when compiled: a field read is a load) instead of
# the input dataclasses (a dictionary look-up each), and use loops over int lists instead of
# sum/zip/sorted-with-a-key (builtins that the compiled code calls like Python would).
# Values the hints call `int` or `str` are ints and strs; compiled, that is checked where they
# are read. Containers and flags are read through `Any`, as loosely as the source reads them.


def normalize_code(code: str) -> str:
    """Codes are typed at tills: case, spaces and dashes do not matter."""
    return code.replace(" ", "").replace("-", "").upper()


_SHIPPING_ONLY: Final = frozenset({SHIPPING_CATEGORY})


@final
class _Rule:
    """One promotion, prepared for quoting: what every quote would otherwise recompute, and
    the fields of its condition and benefit that quoting reads."""

    __slots__ = (
        "promotion",
        "code",
        "name",
        "kind",
        "key",
        "order",
        "stackable",
        "exclusive",
        "members_only",
        "unconditional",
        "always",
        "normalized",
        "as_automatic",
        "limits",
        "per_unit",
        # condition
        "min_amount",
        "starts_at",
        "ends_at",
        "weekdays",
        "stores",
        "tiers",
        "first_purchase",
        "skus",
        "categories",
        "min_quantity",
        # benefit
        "benefit_type",
        "value",
        "buy",
        "get",
        "quantity",
        "gift_sku",
        "max_discount",
        "whole_order",
        "scope_key",
    )

    def __init__(self, promotion: Promotion) -> None:
        # Read through Any: compiled, a read typed by the dataclass hint is checked (a `set`
        # where the hint says frozenset would raise), and the Python source never checked.
        loose: Any = promotion
        condition: Any = promotion.condition
        benefit: Any = promotion.benefit
        self.promotion = promotion
        self.code: str = promotion.code
        self.name: str = promotion.name
        self.kind: str = promotion.kind
        self.key = _key(promotion.kind, promotion.code)
        self.order: tuple[int, str] = (promotion.priority, promotion.code)  # applies in order
        # Neither flag for an unknown stacking value: such a promotion never applies.
        self.stackable = promotion.stacking == "stackable"
        self.exclusive = promotion.stacking == "exclusive"
        limits: Limits | None = getattr(loose, "limits", None)
        self.limits = limits
        # A per-member limit counts a member's sales: a walk-in cannot be counted.
        self.members_only = bool(loose.members_only) or (
            limits is not None and limits.per_member_limited
        )
        self.min_amount: int | None = condition.min_amount
        self.starts_at: dt.datetime | None = condition.starts_at
        self.ends_at: dt.datetime | None = condition.ends_at
        self.weekdays: AbstractSet[int] = condition.weekdays
        self.stores: AbstractSet[str] = condition.stores
        self.tiers: AbstractSet[str] = condition.tiers
        self.first_purchase = bool(condition.first_purchase)
        self.skus: AbstractSet[str] = condition.skus
        self.categories: AbstractSet[str] = condition.categories
        self.min_quantity: int | None = condition.min_quantity
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
        self.always = self.unconditional and not self.members_only
        self.benefit_type: str = benefit.type
        self.value: int = benefit.value
        self.buy: int = benefit.buy
        self.get: int = benefit.get
        self.quantity: int = benefit.quantity
        self.gift_sku: str = benefit.sku
        self.max_discount: int | None = benefit.max_discount
        categories: AbstractSet[str] = benefit.categories
        if benefit.type == "free_shipping" and not categories:
            categories = _SHIPPING_ONLY
        self.whole_order = not benefit.skus and not categories
        # Counted against its limits per unit of the lines it names, else once per sale.
        self.per_unit = bool(benefit.skus or benefit.categories) and benefit.type != "gift"
        # Frozen copies: hashable, so rules with the same scope share it within a quote.
        self.scope_key: tuple[frozenset[str], frozenset[str]] = (
            frozenset(benefit.skus),
            frozenset(categories),
        )
        self.normalized = normalize_code(promotion.code) if promotion.kind == "code" else ""
        # An automatic promotion's candidate is the same tuple on every quote.
        self.as_automatic: _Candidate = (self.order, self, promotion.code, None, self.key)


# A promotion that may apply to this sale: (sort key, rule, code shown to the customer (the
# promotion's or the coupon's), the code as typed on the sale or None, key naming it in
# failures and winners). A plain tuple: quotes build many and read them in tight loops.
_Candidate = tuple[tuple[int, str], _Rule, str, "str | None", str]


def _key(kind: str, code: str) -> str:
    return f"{kind}:{code}"


def _by_order(candidate: _Candidate) -> tuple[int, str]:
    """A candidate's sort key: (priority, code)."""
    return candidate[0]


# Rules by the identity of their promotion. Promotions are frozen, and the sales app keeps
# the same Promotion objects for as long as the program does not change (it builds a new
# Program around them for each sale), so identity is the right key: hashing a Promotion would
# walk its condition and benefit on every look-up, which is what the cache is there to save.
# A weak reference drops the entry when the promotion goes away, and proves that an entry
# found under an id belongs to this object and not to a dead one whose id was reused.
_rules: Final[dict[int, tuple[weakref.ref[Promotion], _Rule]]] = {}


def _rule(promotion: Promotion) -> _Rule:
    """`promotion` prepared for quoting, from the cache when it has been seen before."""
    key = id(promotion)
    found = _rules.get(key)
    if found is not None and found[0]() is promotion:
        return found[1]
    rule = _Rule(promotion)
    try:
        ref = weakref.ref(promotion, _Forget(key))
    except TypeError:  # a subclass without weak references: not cached
        return rule
    _rules[key] = (ref, rule)
    return rule


@final
class _Forget:
    """The weak reference's callback: drops the cache entry of the promotion that died (and
    not a newer entry under the same id)."""

    __slots__ = ("key",)

    def __init__(self, key: int) -> None:
        self.key = key

    def __call__(self, ref: weakref.ref[Promotion]) -> None:
        entry = _rules.get(self.key)
        if entry is not None and entry[0] is ref:
            _rules.pop(self.key, None)


@final
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
_programs: Final[dict[tuple[int, ...], _Rules]] = {}
_PROGRAMS_KEPT: Final = 256


def _rules_for(promotions: Sequence[Promotion]) -> _Rules:
    key = tuple([id(promotion) for promotion in promotions])
    found = _programs.get(key)
    if found is None:
        if len(_programs) >= _PROGRAMS_KEPT:
            _programs.clear()
        found = _programs[key] = _Rules(promotions)
    return found


@final
class _Sale:
    """One quote's facts, computed once: the lines' fields (read and checked once), who buys
    where and when, the basket's SKUs and categories, each line's rank by content (for
    tie-breaks that do not depend on scanning order) and each benefit's scope."""

    __slots__ = (
        "skus_of",
        "categories_of",
        "quantities",
        "unit_prices",
        "member_prices",
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
        "_by_sku",
        "_by_category",
        "_orders",
    )

    def __init__(self, basket: Basket, member: MemberContext) -> None:
        # Per line, in line order; the checks raise what they always raised, first thing.
        self.skus_of: list[str] = []
        self.categories_of: list[str] = []
        self.quantities: list[int] = []
        self.unit_prices: list[int] = []
        self.member_prices: list[int | None] = []  # the POS's own, if any
        loose: Any = basket  # any sequence of lines, as in the source (see _Rule)
        for line in loose.lines:
            sku, quantity, unit_price = line.sku, line.quantity, line.unit_price
            if quantity <= 0 or unit_price < 0:
                raise ValueError(f"line {sku!r}: quantity must be > 0 and unit_price >= 0")
            member_price = line.member_price
            if member_price is not None and member_price < 0:
                raise ValueError(f"line {sku!r}: member_price must be >= 0")
            self.skus_of.append(sku)
            self.categories_of.append(line.category)
            self.quantities.append(quantity)
            self.unit_prices.append(unit_price)
            self.member_prices.append(member_price)
        self.store: str = basket.store
        self.is_member: bool = member.member_id is not None
        loose_member: Any = member
        self.first_purchase = self.is_member and bool(loose_member.first_purchase)
        self.tier: Tier | None = None
        self.local: dt.datetime | None = None
        self.weekday = 0
        self.skus = set(self.skus_of)
        self.categories = set(self.categories_of)
        count = len(self.quantities)
        contents = [
            (
                self.skus_of[i],
                self.categories_of[i],
                self.unit_prices[i],
                self.quantities[i],
                _or_minus_one(self.member_prices[i]),
            )
            for i in range(count)
        ]
        # Line indexes by content (equal lines by position), and each line's place in it.
        self.by_rank: list[int] = sorted(range(count), key=contents.__getitem__)
        self.ranks = [0] * count
        for rank in range(count):
            self.ranks[self.by_rank[rank]] = rank
        self.everything = list(range(count))  # the scope of whole-order benefits
        self.scopes: dict[tuple[frozenset[str], frozenset[str]], list[int]] = {}
        self._by_sku: dict[str, list[int]] | None = None  # when a scope asks
        self._by_category: dict[str, list[int]] = {}
        self._orders: dict[int, list[int]] = {}

    def at(self, local: dt.datetime) -> None:
        self.local = local
        self.weekday = local.isoweekday()

    def scope(self, rule: _Rule) -> list[int]:
        """Indexes of the lines `rule`'s benefit applies to, in line order."""
        found = self.scopes.get(rule.scope_key)
        if found is None:
            skus, categories = rule.scope_key
            if rule.whole_order:
                found = self.everything
            elif len(skus) + len(categories) == 1:  # the usual case: one SKU or one category
                by_sku = self._by_sku
                if by_sku is None:
                    by_sku = self._by_sku = _positions(self.skus_of)
                    self._by_category = _positions(self.categories_of)
                if skus:
                    found = by_sku.get(next(iter(skus)), [])
                else:
                    found = self._by_category.get(next(iter(categories)), [])
            else:
                skus_of, categories_of = self.skus_of, self.categories_of
                found = [
                    i
                    for i in range(len(skus_of))
                    if skus_of[i] in skus or categories_of[i] in categories
                ]
            self.scopes[rule.scope_key] = found
        return found

    def units(self, scope: list[int]) -> int:
        quantities = self.quantities
        if not _COMPILED:
            return sum([quantities[i] for i in scope])
        units = 0
        for i in scope:
            units += quantities[i]
        return units

    def in_rank_order(self, scope: list[int]) -> list[int]:
        """Positions in `scope`, the lowest-ranked line's first: the tie-break order."""
        if scope is self.everything:
            return self.by_rank
        # Scopes live as long as the sale (in self.scopes), so their ids are stable keys.
        found = self._orders.get(id(scope))
        if found is None:
            ranks = [self.ranks[i] for i in scope]
            found = self._orders[id(scope)] = _sorted_by(list(range(len(ranks))), ranks)
        return found


def _or_minus_one(value: int | None) -> int:
    return -1 if value is None else value


# Compiled, these helpers run their own loops over native ints; as Python source they call
# the builtins, whose loops run in C. Same results either way (both engines are tested).
_COMPILED: Final = not isinstance(_or_minus_one, types.FunctionType)  # mypyc makes builtins


def _positions(keys: list[str]) -> dict[str, list[int]]:
    """Line indexes by key (SKU or category), in line order: one pass over the lines instead
    of one per benefit that names a single SKU or category."""
    found: dict[str, list[int]] = {}
    for i in range(len(keys)):
        indexes = found.get(keys[i])
        if indexes is None:
            found[keys[i]] = [i]
        else:
            indexes.append(i)
    return found


def _sorted_by(positions: list[int], keys: list[int]) -> list[int]:
    """`sorted(positions, key=keys.__getitem__)`: stable, equal keys keep their order. An
    insertion sort on the short lists a basket has (plain int compares, no key calls)."""
    if not _COMPILED or len(positions) > 32:
        return sorted(positions, key=keys.__getitem__)
    result: list[int] = []
    for position in positions:
        key = keys[position]
        i = len(result)
        result.append(position)
        while i > 0 and keys[result[i - 1]] > key:
            result[i] = result[i - 1]
            i -= 1
        result[i] = position
    return result


def _total(values: list[int]) -> int:
    if not _COMPILED:
        return sum(values)
    total = 0
    for value in values:
        total += value
    return total


def _spread(total: int, weights: list[int], scope: list[int], sale: _Sale) -> list[int]:
    """`money.allocate(total, weights, ranks of the scope lines)`: the same parts (largest
    remainder first, equal remainders to the lowest rank), found by a stable sort on the
    remainders of the positions in rank order instead of sorting (remainder, rank, index)
    tuples. Every discount, points offset and points share goes through here, so it is the
    innermost loop of a quote."""
    weight_sum = 0
    negative = False
    for weight in weights:
        if weight < 0:
            negative = True
        weight_sum += weight
    if total < 0 or negative:
        raise ValueError("allocate takes non-negative amounts")
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a positive total over zero weights")
        return [0] * len(weights)
    if len(weights) == 1:
        return [total]
    parts = [total * weight // weight_sum for weight in weights]
    leftover = total - _total(parts)
    if leftover:
        negative_remainders = [-(total * weight % weight_sum) for weight in weights]
        in_order = _sorted_by(sale.in_rank_order(scope), negative_remainders)
        for position in in_order[:leftover]:
            parts[position] += 1
    return parts


def quote(basket: Basket, member: MemberContext, program: Program, now: dt.datetime) -> Quote:
    """Price `basket` for `member` under `program` at `now` (see the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    sale = _Sale(basket, member)  # checks the lines
    is_member = sale.is_member
    tier = sale.tier = _effective_tier(program, member) if is_member else None
    quantities, unit_prices = sale.quantities, sale.unit_prices
    count = len(quantities)
    member_prices = _member_prices(sale, tier) if is_member else list(unit_prices)
    amounts = [unit_prices[i] * quantities[i] for i in range(count)]
    base = [member_prices[i] * quantities[i] for i in range(count)]
    sale.at(now.astimezone(ZoneInfo(program.timezone)))
    candidates, rejected = _candidates(sale, basket, member, program, now)
    if _any_limited(candidates):
        outcome = _choose_within_limits(candidates, sale, base, rejected, member.usage)
    else:
        outcome = _choose(candidates, sale, base, rejected)
    left = outcome.left
    points_redeemed, points_value, short_of_points = _redeem(basket, member, program, _total(left))
    everything = sale.everything
    offsets = _spread(points_value, left, everything, sale) if points_value else [0] * count
    totals = [left[i] - offsets[i] for i in range(count)]
    earned_total, earned = _earn(totals, tier, program, outcome.multipliers, sale, is_member)
    skus_of, categories_of = sale.skus_of, sale.categories_of
    priced: list[PricedLine] = [
        _make(
            PricedLine,
            {
                "sku": skus_of[i],
                "category": categories_of[i],
                "quantity": quantities[i],
                "unit_price": unit_prices[i],
                "member_price": member_prices[i],
                "discount": amounts[i] - left[i],
                "points_offset": offsets[i],
                "total": totals[i],
                "points_earned": earned[i],
                "gift": False,
            },
        )
        for i in range(count)
    ]
    for gift in outcome.gifts:
        priced.append(_gift_line(gift))
    subtotal = _total(amounts)
    member_discount = subtotal - _total(base)
    discount = member_discount + outcome.amount
    total = subtotal - discount - points_value
    stored_value: int = basket.stored_value
    stored_value_paid = min(max(stored_value, 0), total)
    return _make(
        Quote,
        {
            "subtotal": subtotal,
            "member_discount": member_discount,
            "discount": discount,
            "total": total,
            "lines": tuple(priced),
            "applied": tuple(
                [_applied(candidate, amount, sale) for candidate, amount in outcome.applied]
            ),
            "rejected": tuple(rejected),
            "points_redeemed": points_redeemed,
            "points_value": points_value,
            "points_earned": earned_total,
            "stored_value_paid": stored_value_paid,
            "cash_due": total - stored_value_paid,
            "saved": subtotal - total,
            "insufficient_points": short_of_points,
            "insufficient_stored_value": stored_value > 0
            and stored_value_paid > (member.stored_value if is_member else 0),
        },
    )


_Frozen = TypeVar("_Frozen")
_new: Final = object.__new__
_set: Final = object.__setattr__


def _make(cls: type[_Frozen], fields: dict[str, Any]) -> _Frozen:
    """An instance of the frozen dataclass `cls` holding `fields` (every field, in order).

    The very object `cls(**fields)` makes (the output classes have no __post_init__ and no
    default factories: a test compares them), at a fifth of the cost: a frozen dataclass's
    __init__ calls object.__setattr__ once per field, and a quote builds a dozen of them.
    """
    instance: _Frozen = _new(cls)
    _set(instance, "__dict__", fields)
    return instance


def _effective_tier(program: Program, member: MemberContext) -> Tier | None:
    loose: Any = program
    tiers = loose.tiers  # any sequence (see _Rule)
    if not tiers:
        return None
    if member.tier is not None:
        for tier in tiers:
            if tier.code == member.tier:
                return tier  # type: ignore[no-any-return]
    return min(tiers, key=_tier_rank)  # type: ignore[no-any-return]


def _tier_rank(tier: Tier) -> int:
    return tier.rank


def _member_prices(sale: _Sale, tier: Tier | None) -> list[int]:
    """Per unit, for a member: the lower of the POS's member price and the tier's category
    discount."""
    discount: Mapping[str, int] = tier.discount if tier is not None else {}
    unit_prices, member_prices = sale.unit_prices, sale.member_prices
    categories_of = sale.categories_of
    prices = []
    for i in range(len(unit_prices)):
        unit_price = unit_prices[i]
        price = unit_price
        category = categories_of[i]
        if category in discount:
            price = div_round_half_up(unit_price * discount[category], 100)
        member_price = member_prices[i]
        if member_price is not None:
            price = min(price, member_price)
        prices.append(min(price, unit_price))
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
    loose: Any = program  # any sequence of promotions (see _Rule)
    rules = _rules_for(loose.promotions)
    candidates = [
        rule.as_automatic
        for rule in rules.automatic
        if rule.always or _context_failure(rule, sale) is None
    ]
    rejected: list[Rejected] = []
    loose_basket: Any = basket
    codes = loose_basket.codes
    if not codes:
        return candidates, rejected
    by_code = rules.by_code
    coupons = {normalize_code(code): coupon for code, coupon in member.coupons.items()}
    seen: set[str] = set()
    for typed in codes:
        key = normalize_code(typed)
        if key in seen:
            rejected.append(Rejected(typed, DUPLICATE_CODE))
            continue
        seen.add(key)
        reason: str | None
        if key in by_code:
            rule = by_code[key]
            reason = _context_failure(rule, sale)
            if reason is None:
                candidates.append((rule.order, rule, rule.code, typed, rule.key))
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
    code: str = coupon.code
    return ((rule.order[0], code), rule, code, typed, _key(rule.kind, code))


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
    local: Any = sale.local  # compared as the plain algorithm compares it (see below)
    tier = sale.tier
    min_quantity = rule.min_quantity
    # The parts in this order, as the plain algorithm checks them (a naive datetime in a
    # window fails the same way, at the same point).
    holds = (
        (rule.starts_at is None or local >= rule.starts_at)
        and (rule.ends_at is None or local < rule.ends_at)
        and (not rule.weekdays or sale.weekday in rule.weekdays)
        and (not rule.stores or sale.store in rule.stores)
        and (not rule.tiers or (tier is not None and tier.code in rule.tiers))
        and (not rule.first_purchase or sale.first_purchase)
        and rule.skus <= sale.skus
        and rule.categories <= sale.categories
        and (not min_quantity or sale.units(sale.scope(rule)) >= min_quantity)
    )
    return None if holds else CONDITION_NOT_MET


# --- applying them -----------------------------------------------------------------------


@final
class _Outcome:
    """What one run of promotions did to the lines."""

    __slots__ = ("left", "applied", "amount", "failed", "gifts", "multipliers")

    def __init__(self, base: list[int]) -> None:
        self.left = list(base)  # per line, what is left to pay after this run's discounts
        self.applied: list[tuple[_Candidate, int]] = []  # (candidate, fen off)
        self.amount = 0  # the fen off of every applied candidate
        self.failed: list[tuple[str, str]] = []  # (candidate key, reason)
        self.gifts: list[_Rule] = []
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
    best_candidate: _Candidate | None = None
    for candidate in ordered:
        if not candidate[1].exclusive:
            continue
        # Only its amount counts unless it wins, so its discount is not spread yet.
        alone = _run([candidate], sale, base, spread=False)
        failures.update(alone.failed)
        if alone.applied and (best is None or alone.amount > best.amount):
            best, best_candidate = alone, candidate
    use_best = best is not None and (best.amount > stackable.amount or not stackable.applied)
    if use_best and best_candidate is not None:
        chosen = _run([best_candidate], sale, base)  # the same run, spread over the lines
    else:
        chosen = stackable
    winners = {candidate[4] for candidate, _amount in chosen.applied}
    for candidate in ordered:
        typed, key = candidate[3], candidate[4]
        if typed is not None and key not in winners:
            rejected.append(Rejected(typed, failures.get(key, NOT_COMBINABLE)))
    return chosen


# --- limits (API.md §11) ----------------------------------------------------------------------


def _any_limited(candidates: list[_Candidate]) -> bool:
    # A loop, not any() over a generator: compiled, it stays native (see above).
    for candidate in candidates:  # noqa: SIM110
        if candidate[1].limits is not None:
            return True
    return False


def _applications(rule: _Rule, sale: _Sale) -> int:
    """What applying `rule` to this sale counts against its limits (see `Limits`)."""
    return sale.units(sale.scope(rule)) if rule.per_unit else 1


def _over_limit(rule: _Rule, count: int, usage: LimitUsage | None) -> str | None:
    """Why `count` more applications would exceed a limit of `rule`, or None."""
    limits: Any = rule.limits
    used = usage if usage is not None else LimitUsage()
    total = limits.total
    if total is not None and used.sold >= total:
        return SOLD_OUT  # none left for anyone
    if limits.per_member is not None and used.member + count > limits.per_member:
        return LIMIT_REACHED  # before a total short of this sale: fewer units would do
    day_limit = limits.per_member_per_day
    if day_limit is not None and used.member_today + count > day_limit:
        return LIMIT_REACHED
    if total is not None and used.sold + count > total:
        return SOLD_OUT
    return None


def _choose_within_limits(
    candidates: list[_Candidate],
    sale: _Sale,
    base: list[int],
    rejected: list[Rejected],
    usage: Mapping[str, LimitUsage],
) -> _Outcome:
    """`_choose`, then again without every limited promotion that won but would exceed a limit
    (removing one can let another win, which is checked in turn): the sale is priced as if
    those promotions were not there, and each is rejected with its reason."""
    over: list[Rejected] = []
    while True:
        found: list[Rejected] = []
        outcome = _choose(candidates, sale, base, found)
        refused: set[str] = set()
        for candidate, _amount in outcome.applied:
            rule = candidate[1]
            if rule.limits is None:
                continue
            reason = _over_limit(rule, _applications(rule, sale), usage.get(rule.code))
            if reason is not None:
                refused.add(candidate[4])
                typed = candidate[3]
                over.append(Rejected(typed if typed is not None else candidate[2], reason))
        if not refused:
            rejected.extend(found)
            rejected.extend(over)
            return outcome
        candidates = [c for c in candidates if c[4] not in refused]


def _run(
    candidates: list[_Candidate], sale: _Sale, base: list[int], spread: bool = True
) -> _Outcome:
    """Apply `candidates` in order, each on what the earlier ones left. `spread=False` leaves
    `left` as it was: enough for one candidate's amount, not for the next candidate's."""
    outcome = _Outcome(base)
    left, applied, failed = outcome.left, outcome.applied, outcome.failed
    scopes, everything = sale.scopes, sale.everything
    for candidate in candidates:
        rule = candidate[1]
        scope = scopes.get(rule.scope_key)
        if scope is None:
            scope = sale.scope(rule)
        whole = scope is everything
        rests = left[:] if whole else [left[i] for i in scope]
        rest = _total(rests)
        threshold = rule.min_amount
        if threshold and rest < threshold:
            failed.append((candidate[4], CONDITION_NOT_MET))
            continue
        kind = rule.benefit_type
        if kind == "gift":
            outcome.gifts.append(rule)
            applied.append((candidate, 0))
            continue
        if kind == "points_multiplier":
            if scope:
                outcome.multipliers.append((scope, rule.value))
                applied.append((candidate, 0))
            else:
                failed.append((candidate[4], NO_DISCOUNT))
            continue
        amount = _discount(rule, scope, sale, left, rest) if rest > 0 else 0
        if amount <= 0:
            failed.append((candidate[4], NO_DISCOUNT))
            continue
        if spread and len(scope) == 1:
            left[scope[0]] -= amount  # all of it on the one line (amount <= rest)
        elif spread:  # by what each line has left: no line goes below zero
            parts = _spread(amount, rests, scope, sale)
            for k in range(len(scope)):
                left[scope[k]] -= parts[k]
        applied.append((candidate, amount))
        outcome.amount += amount
    return outcome


def _applied(candidate: _Candidate, amount: int, sale: _Sale) -> Applied:
    rule = candidate[1]
    return _make(
        Applied,
        {
            "code": candidate[2],
            "kind": rule.kind,
            "name": rule.name,
            "amount": amount,
            "benefit": rule.benefit_type,
            "applications": 0 if rule.limits is None else _applications(rule, sale),
        },
    )


def _discount(rule: _Rule, scope: list[int], sale: _Sale, left: list[int], rest: int) -> int:
    """Fen off the scope lines, which have `rest` > 0 left: within it and within the cap."""
    kind = rule.benefit_type
    if kind == "percent":
        amount = div_round_half_up(rest * min(rule.value, 100), 100)
    elif kind == "fixed":
        amount = rule.value
    elif kind == "fixed_price":
        amount = max(0, rest - rule.value * sale.units(scope))
    elif kind == "free_shipping":
        amount = rest
    elif kind == "free_items":
        amount = _free_units_value(rule, scope, sale, left)
    elif kind == "cheapest_percent":
        order, _per_unit, _denominator = _units_cheapest_first(scope, sale, left)
        index = scope[order[0]]
        amount = div_round_half_up(left[index] * min(rule.value, 100), sale.quantities[index] * 100)
    else:
        raise ValueError(f"unknown benefit type {kind!r}")
    amount = min(amount, rest)
    cap = rule.max_discount
    if cap is not None:
        amount = min(amount, cap)
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
    quantities = [sale.quantities[i] for i in scope]
    denominator = _lcm(quantities)
    per_unit = [left[scope[k]] * (denominator // quantities[k]) for k in range(len(scope))]
    # Stable: equal prices stay in rank order.
    return _sorted_by(sale.in_rank_order(scope), per_unit), per_unit, denominator


def _lcm(values: list[int]) -> int:
    """`math.lcm(*values)` for positive values (line quantities are > 0)."""
    if not _COMPILED:
        return math.lcm(*values)
    result = 1
    for value in values:
        a, b = result, value
        while b:
            a, b = b, a % b
        result = result // a * value
    return result


def _free_units_value(rule: _Rule, scope: list[int], sale: _Sale, left: list[int]) -> int:
    """What the free units are worth (the cheapest ones); the discount is then spread over
    every line of the offer, so returning the paid items gives back only what they cost."""
    units = sale.units(scope)
    if rule.buy and rule.get:
        free = units // (rule.buy + rule.get) * rule.get
    else:
        free = min(rule.quantity, units)
    order, per_unit, denominator = _units_cheapest_first(scope, sale, left)
    quantities = sale.quantities
    value = 0  # in 1/denominator fen
    for k in order:
        if free <= 0:
            break
        take = min(free, quantities[scope[k]])
        value += per_unit[k] * take
        free -= take
    return div_round_half_up(value, denominator)


def _gift_line(rule: _Rule) -> PricedLine:
    return _make(
        PricedLine,
        {
            "sku": rule.gift_sku,
            "category": "",
            "quantity": max(rule.quantity, 1),
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
    """(points redeemed, fen they pay, asked for more than the member holds).

    The points asked are first lowered to what the rule allows on this basket (whole units
    worth at most `max_share_percent` of what is left); only what remains is checked against
    the points held (API.md §3).
    """
    asked = max(basket.points_to_redeem, 0)
    if member.member_id is None:
        return 0, 0, asked > 0
    held = member.points_available
    rule = program.redeem
    if rule is None:
        return 0, 0, asked > held
    allowed_value = left * rule.max_share_percent // 100
    wanted = min(asked, allowed_value // rule.value * rule.points)
    units = min(wanted, held) // rule.points
    return units * rule.points, units * rule.value, wanted > held


def _earn(
    totals: list[int],
    tier: Tier | None,
    program: Program,
    promotions: list[tuple[list[int], int]],
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
    base: int = tier.points_multiplier_percent if tier else 100
    loose: Any = program
    excluded = loose.earn_exclude_categories  # any set (see _Rule)
    categories_of = sale.categories_of
    weights = []
    for i in range(len(categories_of)):
        if categories_of[i] in excluded:
            weights.append(0)
            continue
        weight = totals[i] * base
        for scope, percent in promotions:
            weight *= percent if i in scope else 100
        weights.append(weight)
    denominator = 100 ** (1 + len(promotions))
    per_amount: int = rule.per_amount
    points = _total(weights) // (denominator * per_amount) * rule.points
    if points == 0:
        return 0, [0] * len(totals)
    return points, _spread(points, weights, sale.everything, sale)
