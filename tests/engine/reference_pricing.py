"""The pricing engine as it was before it was tuned for speed: a straightforward reference.

`patron.engine.pricing.quote` prepares each promotion once and takes shortcuts (integer
arithmetic instead of Fraction, passes skipped when their outcome is known, cheaper
allocation for one line or equal weights). This module keeps the original, plain algorithm,
copied verbatim from the engine at commit b506200 (only the imports differ, and its own copy
of `allocate`), so `test_pricing_reference.py` can check that the fast engine returns equal
quotes on random sales. Do not optimise this file: its value is being obviously right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from zoneinfo import ZoneInfo

from patron.engine.money import div_round_half_up
from patron.engine.pricing import (
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
    Coupon,
    Line,
    MemberContext,
    PricedLine,
    Program,
    Promotion,
    Quote,
    Rejected,
    Tier,
    normalize_code,
)


def allocate(total: int, weights: Sequence[int], ranks: Sequence[int] | None = None) -> list[int]:
    """Split `total` over `weights` proportionally so the parts add up to `total` exactly.

    Largest-remainder method: every part is floor(total * w / sum(w)); the fen left over go to
    the largest remainders, ties to the lowest rank (`ranks[i]`, default the position), so the
    result is deterministic. Pricing ranks lines by their content, not their position, so
    scanning the same basket in another order never moves a fen between lines.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes non-negative amounts")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a positive total over zero weights")
        return [0] * len(weights)
    parts = [total * w // weight_sum for w in weights]
    leftover = total - sum(parts)
    if leftover == 0:
        return parts
    tie = ranks if ranks is not None else range(len(weights))
    # Tuples sort without a key function: (-remainder, rank, index), largest remainder first.
    keys = [-(total * w % weight_sum) for w in weights]
    order = sorted(zip(keys, tie, range(len(weights)), strict=True))
    for _remainder, _rank, index in order[:leftover]:
        parts[index] += 1
    return parts


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
    multipliers: list[tuple[list[int], int]] = field(default_factory=list)

    @property
    def amount(self) -> int:
        return sum(applied.amount for applied in self.applied)


class _Work:
    """One quote's basket facts, computed once: the line sets, each line's rank by content
    (for tie-breaks that do not depend on scanning order) and each benefit's scope."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines
        self.skus = {line.sku for line in lines}
        self.categories = {line.category for line in lines}
        by_content = sorted(
            range(len(lines)),
            key=lambda i: (
                lines[i].sku,
                lines[i].category,
                lines[i].unit_price,
                lines[i].quantity,
                -1 if lines[i].member_price is None else lines[i].member_price,
            ),
        )
        self.ranks = [0] * len(lines)
        for rank, index in enumerate(by_content):
            self.ranks[index] = rank
        self._scopes: dict[int, list[int]] = {}

    def scope(self, benefit: Benefit) -> list[int]:
        """Indexes of the lines a benefit applies to."""
        found = self._scopes.get(id(benefit))
        if found is None:
            found = self._scopes[id(benefit)] = _scope(benefit, self.lines)
        return found

    def spread(self, total: int, scope: list[int], rests: list[int]) -> list[int]:
        return allocate(total, rests, [self.ranks[i] for i in scope])


def quote(basket: Basket, member: MemberContext, program: Program, now: dt.datetime) -> Quote:
    """Price `basket` for `member` under `program` at `now` (see the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    _check_lines(basket.lines)
    is_member = member.member_id is not None
    tier = _effective_tier(program, member) if is_member else None
    lines = basket.lines
    work = _Work(lines)
    member_prices = [_member_price(line, tier, is_member) for line in lines]
    amounts = [line.unit_price * line.quantity for line in lines]
    base = [price * line.quantity for price, line in zip(member_prices, lines, strict=True)]
    candidates, rejected = _candidates(basket, member, program, now, tier, work)
    outcome = _choose(candidates, work, base, rejected)
    left = [b - d for b, d in zip(base, outcome.discounts, strict=True)]
    points_redeemed, points_value, short_of_points = _redeem(basket, member, program, sum(left))
    everything = list(range(len(lines)))
    offsets = work.spread(points_value, everything, left) if points_value else [0] * len(lines)
    totals = [rest - offset for rest, offset in zip(left, offsets, strict=True)]
    earned_total, earned = _earn(totals, tier, program, outcome.multipliers, work, is_member)
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
    member_discount = subtotal - sum(base)
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
    work: _Work,
) -> tuple[list[_Candidate], list[Rejected]]:
    """Automatic promotions and the sale's codes that pass every amount-free condition."""
    local = now.astimezone(ZoneInfo(program.timezone))
    candidates: list[_Candidate] = []
    rejected: list[Rejected] = []

    def admit(candidate: _Candidate) -> None:
        reason = _static_failure(candidate.promotion, basket, member, local, tier, work)
        if reason is None:
            candidates.append(candidate)
        elif candidate.typed is not None:
            rejected.append(Rejected(candidate.typed, reason))

    for promotion in program.promotions:
        if promotion.kind == "automatic":
            admit(_Candidate(promotion, promotion.code, None))
    if not basket.codes:
        return candidates, rejected
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
    work: _Work,
) -> str | None:
    """Why a promotion cannot apply to this sale at all, whatever the amounts (or None)."""
    is_member = member.member_id is not None
    if promotion.members_only and not is_member:
        return MEMBERS_ONLY
    condition = promotion.condition
    holds = (
        (condition.starts_at is None or local >= condition.starts_at)
        and (condition.ends_at is None or local < condition.ends_at)
        and (not condition.weekdays or local.isoweekday() in condition.weekdays)
        and (not condition.stores or basket.store in condition.stores)
        and (not condition.tiers or (tier is not None and tier.code in condition.tiers))
        and (not condition.first_purchase or (is_member and member.first_purchase))
        and condition.skus <= work.skus
        and condition.categories <= work.categories
        and _enough_units(promotion, work)
    )
    return None if holds else CONDITION_NOT_MET


def _enough_units(promotion: Promotion, work: _Work) -> bool:
    needed = promotion.condition.min_quantity
    if not needed:
        return True
    return sum(work.lines[i].quantity for i in work.scope(promotion.benefit)) >= needed


def _scope(benefit: Benefit, lines: Sequence[Line]) -> list[int]:
    categories = benefit.categories
    if benefit.type == "free_shipping" and not categories:
        categories = frozenset({SHIPPING_CATEGORY})
    if not benefit.skus and not categories:
        return list(range(len(lines)))
    return [
        i for i, line in enumerate(lines) if line.sku in benefit.skus or line.category in categories
    ]


# --- applying them -----------------------------------------------------------------------


def _choose(
    candidates: Sequence[_Candidate],
    work: _Work,
    base: list[int],
    rejected: list[Rejected],
) -> _Outcome:
    """Stackable ones in sequence, or the best exclusive one alone when it beats them."""
    ordered = sorted(candidates, key=lambda c: (c.promotion.priority, c.code))
    stackable = _run([c for c in ordered if c.promotion.stacking == "stackable"], work, base)
    failures = dict(stackable.failed)
    best: _Outcome | None = None
    for candidate in ordered:
        if candidate.promotion.stacking != "exclusive":
            continue
        alone = _run([candidate], work, base)
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


def _run(candidates: Sequence[_Candidate], work: _Work, base: list[int]) -> _Outcome:
    """Apply `candidates` in order, each on what the earlier ones left."""
    left = list(base)
    outcome = _Outcome(discounts=[0] * len(base))
    for candidate in candidates:
        promotion = candidate.promotion
        benefit = promotion.benefit
        scope = work.scope(benefit)
        rests = [left[i] for i in scope]
        threshold = promotion.condition.min_amount
        if threshold and sum(rests) < threshold:
            outcome.failed.append((candidate.key, CONDITION_NOT_MET))
            continue
        if benefit.type == "gift":
            outcome.gifts.append((candidate, benefit))
            outcome.applied.append(_applied(candidate, 0))
            continue
        if benefit.type == "points_multiplier":
            if scope:
                outcome.multipliers.append((scope, benefit.value))
                outcome.applied.append(_applied(candidate, 0))
            else:
                outcome.failed.append((candidate.key, NO_DISCOUNT))
            continue
        parts = _discounts(benefit, scope, work, left, rests)
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


def _discounts(
    benefit: Benefit, scope: list[int], work: _Work, left: Sequence[int], rests: list[int]
) -> list[int]:
    """Fen off each scope line (same order as `scope`), spread by what each line has left."""
    rest = sum(rests)
    if rest <= 0:
        return [0] * len(scope)
    amount = min(_amount_off(benefit, scope, work, left, rest), rest)
    if benefit.max_discount is not None:
        amount = min(amount, benefit.max_discount)
    if amount <= 0:
        return [0] * len(scope)
    return work.spread(amount, scope, rests)


def _amount_off(
    benefit: Benefit, scope: list[int], work: _Work, left: Sequence[int], rest: int
) -> int:
    """What one application of `benefit` takes off `rest`, the fen left on its lines."""
    kind = benefit.type
    if kind == "percent":
        return div_round_half_up(rest * min(benefit.value, 100), 100)
    if kind == "fixed":
        return benefit.value
    if kind == "fixed_price":
        return max(0, rest - benefit.value * sum(work.lines[i].quantity for i in scope))
    if kind == "free_shipping":
        return rest
    if kind == "free_items":
        return _free_units_value(benefit, scope, work, left)
    if kind == "cheapest_percent":
        cheapest = _units_cheapest_first(scope, work, left)[0]
        index = scope[cheapest]
        return div_round_half_up(
            left[index] * min(benefit.value, 100), work.lines[index].quantity * 100
        )
    raise ValueError(f"unknown benefit type {kind!r}")


def _units_cheapest_first(scope: list[int], work: _Work, left: Sequence[int]) -> list[int]:
    """Scope positions, cheapest unit (what is left per unit) first; ties by content, not
    position, so the order of lines never changes which ones are free."""
    return sorted(
        range(len(scope)),
        key=lambda k: (
            Fraction(left[scope[k]], work.lines[scope[k]].quantity),
            work.ranks[scope[k]],
        ),
    )


def _free_units_value(benefit: Benefit, scope: list[int], work: _Work, left: Sequence[int]) -> int:
    """What the free units are worth (the cheapest ones); the discount is then spread over
    every line of the offer, so returning the paid items gives back only what they cost."""
    units = sum(work.lines[i].quantity for i in scope)
    if benefit.buy and benefit.get:
        free = units // (benefit.buy + benefit.get) * benefit.get
    else:
        free = min(benefit.quantity, units)
    value = Fraction(0)
    for k in _units_cheapest_first(scope, work, left):
        if free <= 0:
            break
        index = scope[k]
        take = min(free, work.lines[index].quantity)
        value += Fraction(left[index] * take, work.lines[index].quantity)
        free -= take
    return div_round_half_up(value.numerator, value.denominator)


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
    totals: Sequence[int],
    tier: Tier | None,
    program: Program,
    promotions: Sequence[tuple[list[int], int]],
    work: _Work,
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
    weights = []
    for i, line in enumerate(work.lines):
        if line.category in program.earn_exclude_categories:
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
    return points, allocate(points, weights, work.ranks)
