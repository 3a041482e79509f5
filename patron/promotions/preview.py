"""The promotion editor's preview: a draft priced by the engine on an example basket.

The draft (a promotion or coupon template as the program file has it) is checked by the
section's own model, added to the merchant's current program (replacing the version being
edited) and the example basket is quoted twice by `engine.pricing.quote`: with the program as
it is, and with the draft. Nothing is written. When the draft does not apply, the engine's
reason is asked for (the draft quoted as a code given at the till) and a condition that does
not hold is named part by part.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from pydantic import ValidationError

from patron.core.money import yuan
from patron.engine import pricing
from patron.program.models import Category
from patron.program.schema import field_errors
from patron.promotions import selectors
from patron.promotions.models import Tier
from patron.promotions.program import PromotionRow, TemplateRow, Zone
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Store

PREVIEW_MEMBER = "preview"
EXAMPLE_LINES = 4


@dataclass(frozen=True)
class ExampleLine:
    sku: str
    category: str
    quantity: int
    unit_price: int  # fen
    name: str = ""


# Where example baskets come from (the catalogue, recent sales): apps above register a
# function of the merchant giving a few typical lines, best first.
EXAMPLE_SOURCES: list[Callable[[Merchant], list[ExampleLine]]] = []


def register_example_source(source: Callable[[Merchant], list[ExampleLine]]) -> None:
    if source not in EXAMPLE_SOURCES:
        EXAMPLE_SOURCES.append(source)


def example_lines(merchant: Merchant) -> list[ExampleLine]:
    """A few lines to start the example basket with: from the registered sources, else one
    line per category at ¥100."""
    for source in EXAMPLE_SOURCES:
        lines = source(merchant)[:EXAMPLE_LINES]
        if lines:
            return lines
    categories = Category.objects.filter(merchant=merchant, is_active=True)[:EXAMPLE_LINES]
    return [
        ExampleLine(
            sku=f"{category.code.upper()}-1", category=category.code, quantity=1, unit_price=10000
        )
        for category in categories
    ] or [ExampleLine(sku="ITEM-1", category="", quantity=1, unit_price=10000)]


# --- the example ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """The example sale: its lines, who buys (a tier code, or None for a walk-in), where and
    when."""

    lines: tuple[pricing.Line, ...]
    store: str
    at: dt.datetime
    tier: str | None = None
    first_purchase: bool = False

    @property
    def is_member(self) -> bool:
        return self.tier is not None

    def member(self, coupons: dict[str, pricing.Coupon] | None = None) -> pricing.MemberContext:
        return pricing.MemberContext(
            member_id=PREVIEW_MEMBER if self.is_member else None,
            tier=self.tier,
            first_purchase=self.first_purchase,
            coupons=coupons or {},
        )

    def basket(self, codes: tuple[str, ...] = ()) -> pricing.Basket:
        return pricing.Basket(store=self.store, lines=self.lines, codes=codes)


# --- the result ----------------------------------------------------------------------------


@dataclass
class AppliedLine:
    name: str
    amount: int
    is_draft: bool
    note: str = ""


@dataclass
class Preview:
    errors: list[str] = field(default_factory=list)
    # Refusals of the draft by the program schema: (path below the row, message).
    refusals: list[tuple[str, str]] = field(default_factory=list)
    before: pricing.Quote | None = None
    after: pricing.Quote | None = None
    applied: list[AppliedLine] = field(default_factory=list)
    draft_applied: bool = False
    draft_amount: int = 0
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def saving(self) -> int:
        if self.before is None or self.after is None:
            return 0
        return self.before.total - self.after.total


# --- the draft as the engine sees it ---------------------------------------------------------


def _draft_rule(actor: Actor, section: str, row: dict[str, Any]) -> pricing.Promotion:
    """The draft checked by its section's model; ValueError with the refusals (path below the
    row, message) when refused."""
    model = PromotionRow if section == "promotions" else TemplateRow
    try:
        parsed = model.model_validate(row)
    except ValidationError as error:
        raise ValueError(
            [(_below_row(e.field), str(e.message)) for e in field_errors(error)]
        ) from None
    cleaned = parsed.cleaned(section)
    zone = Zone(actor)
    condition = zone.condition(cleaned["condition"], "")
    if zone.errors:
        raise ValueError([(_below_row(e.field), str(e.message)) for e in zone.errors])
    return pricing.Promotion(
        code=cleaned["code"],
        kind=cleaned.get("kind", "coupon"),
        benefit=selectors.engine_benefit(cleaned["benefit"]),
        condition=selectors.engine_condition(condition),
        name=cleaned["name"],
        stacking=cleaned["stacking"],
        priority=cleaned["priority"],
        members_only=cleaned.get("members_only", False),
    )


def _below_row(path: str) -> str:
    return "" if path == "$" else path.lstrip(".")


# --- quoting ---------------------------------------------------------------------------------


def preview(
    actor: Actor, section: str, row: dict[str, Any], example: Example, editing: str | None = None
) -> Preview:
    """Quote `example` with the current program and with the draft `row` (nothing written)."""
    try:
        draft = _draft_rule(actor, section, row)
    except ValueError as refused:
        return Preview(refusals=list(refused.args[0]))
    program = selectors.engine_program(actor.merchant)
    replaced = {draft.code, editing}
    others = tuple(p for p in program.promotions if p.code not in replaced)
    try:
        if section == "coupon_templates":
            return _preview_coupon(actor.merchant, program, draft, example)
        return _preview_promotion(actor.merchant, program, others, draft, example)
    except ValueError as refused:  # lines the engine refuses
        return Preview(errors=[str(refused)])


def _quote(
    program: pricing.Program, example: Example, codes: tuple[str, ...] = (), coupons=None
) -> pricing.Quote:
    return pricing.quote(example.basket(codes), example.member(coupons), program, example.at)


def _preview_promotion(
    merchant: Merchant,
    program: pricing.Program,
    others: tuple[pricing.Promotion, ...],
    draft: pricing.Promotion,
    example: Example,
) -> Preview:
    codes = (draft.code,) if draft.kind == "code" else ()
    with_draft = dataclasses.replace(program, promotions=(*others, draft))
    result = Preview(
        before=_quote(program, example, codes), after=_quote(with_draft, example, codes)
    )
    if draft.kind == "code":
        result.notes.append(_("As if the customer gives the code %s at the till.") % draft.code)
    _read_applied(result, lambda applied: applied.code == draft.code and applied.kind != "coupon")
    if not result.draft_applied:
        # The engine gives reasons for codes only: ask again with the draft as a code.
        as_code = dataclasses.replace(draft, kind="code")
        asked = dataclasses.replace(program, promotions=(*others, as_code))
        reasons = _quote(asked, example, (*codes, draft.code)).rejected
        reason = next((r.reason for r in reasons if r.code == draft.code), None)
        result.reasons = explain(reason, draft, example, program, merchant)
    return result


def _preview_coupon(
    merchant: Merchant, program: pricing.Program, draft: pricing.Promotion, example: Example
) -> Preview:
    coupon = pricing.Coupon(code=draft.code, promotion=draft, member_id=None)
    result = Preview(
        before=_quote(program, example),
        after=_quote(program, example, (draft.code,), {draft.code: coupon}),
    )
    result.notes.append(_("As if the customer shows one of these coupons at the till."))
    _read_applied(result, lambda applied: applied.kind == "coupon")
    if not result.draft_applied:
        rejected = result.after.rejected if result.after else ()
        reason = next((r.reason for r in rejected if r.code == draft.code), None)
        result.reasons = explain(reason, draft, example, program, merchant)
    return result


def _read_applied(result: Preview, is_draft: Callable[[pricing.Applied], bool]) -> None:
    assert result.after is not None
    if result.after.member_discount:
        result.applied.append(
            AppliedLine(_("Member prices"), result.after.member_discount, is_draft=False)
        )
    for applied in result.after.applied:
        draft = is_draft(applied)
        note = ""
        if applied.benefit == "gift":
            note = _("gift added")
        elif applied.benefit == "points_multiplier":
            note = _("extra points")
        result.applied.append(
            AppliedLine(applied.name or applied.code, applied.amount, draft, note)
        )
        if draft:
            result.draft_applied = True
            result.draft_amount = applied.amount


# --- why a draft does not apply ------------------------------------------------------------


REASONS = {
    pricing.MEMBERS_ONLY: lambda: _("Members only: the example customer is not a member."),
    pricing.NOT_COMBINABLE: lambda: _(
        "Not combined: an exclusive promotion gives more, or the stackable ones together "
        "give more than this exclusive one."
    ),
    pricing.NO_DISCOUNT: lambda: _(
        "Nothing to discount: no line of the basket is in its scope, or nothing is left to pay."
    ),
}


def explain(
    reason: str | None,
    draft: pricing.Promotion,
    example: Example,
    program: pricing.Program,
    merchant: Merchant,
) -> list[str]:
    if reason in REASONS:
        return [REASONS[reason]()]
    if reason != pricing.CONDITION_NOT_MET:
        return [_("It does not apply to this basket.")]
    parts = unmet_parts(draft.condition, draft.benefit, example, merchant)
    return parts or [_("Its threshold is not reached once the promotions before it have applied.")]


def _scope_lines(benefit: pricing.Benefit, lines: tuple[pricing.Line, ...]) -> list[pricing.Line]:
    if not benefit.skus and not benefit.categories:
        return list(lines)
    return [
        line for line in lines if line.sku in benefit.skus or line.category in benefit.categories
    ]


WEEKDAY_NAMES = (
    lambda: pgettext("weekday", "Mon"),
    lambda: pgettext("weekday", "Tue"),
    lambda: pgettext("weekday", "Wed"),
    lambda: pgettext("weekday", "Thu"),
    lambda: pgettext("weekday", "Fri"),
    lambda: pgettext("weekday", "Sat"),
    lambda: pgettext("weekday", "Sun"),
)


def weekday_name(day: int) -> str:
    return WEEKDAY_NAMES[day - 1]()


def unmet_parts(
    condition: pricing.Condition, benefit: pricing.Benefit, example: Example, merchant: Merchant
) -> list[str]:
    """Each part of `condition` the example does not meet, in words (what the engine checks
    before any amount, then the threshold on the scope before other promotions)."""
    zone = ZoneInfo(merchant.timezone)
    local = example.at.astimezone(zone)
    parts = []
    if condition.starts_at and example.at < condition.starts_at:
        parts.append(_("Not started yet: from %s.") % _local(condition.starts_at, zone))
    if condition.ends_at and example.at >= condition.ends_at:
        parts.append(_("Already over: until %s.") % _local(condition.ends_at, zone))
    if condition.weekdays and local.isoweekday() not in condition.weekdays:
        days = "、".join(weekday_name(day) for day in sorted(condition.weekdays))
        parts.append(
            _("Only on %(days)s; the example is on %(day)s.")
            % {"days": days, "day": weekday_name(local.isoweekday())}
        )
    if condition.stores and example.store not in condition.stores:
        names = _names(Store.objects.filter(merchant=merchant), condition.stores)
        parts.append(_("Only at %s.") % "、".join(names))
    if condition.tiers and example.tier not in condition.tiers:
        names = _names(Tier.objects.filter(merchant=merchant), condition.tiers)
        parts.append(_("Only for %s.") % "、".join(names))
    if condition.first_purchase and not example.first_purchase:
        parts.append(_("First purchase only."))
    skus = {line.sku for line in example.lines}
    missing_skus = sorted(condition.skus - skus)
    if missing_skus:
        parts.append(_("The basket must hold SKU %s.") % "、".join(missing_skus))
    categories = {line.category for line in example.lines}
    missing = sorted(condition.categories - categories)
    if missing:
        parts.append(_("The basket must hold category %s.") % "、".join(missing))
    scope = _scope_lines(benefit, example.lines)
    units = sum(line.quantity for line in scope)
    if condition.min_quantity and units < condition.min_quantity:
        parts.append(
            ngettext(
                "At least %(count)d item; the example has %(units)d.",
                "At least %(count)d items; the example has %(units)d.",
                condition.min_quantity,
            )
            % {"count": condition.min_quantity, "units": units}
        )
    amount = sum(line.quantity * line.unit_price for line in scope)
    if condition.min_amount and amount < condition.min_amount:
        parts.append(
            _("Spend at least %(min)s; the example has %(amount)s.")
            % {"min": yuan(condition.min_amount), "amount": yuan(amount)}
        )
    return parts


def _local(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _names(rows: QuerySet, codes: frozenset[str]) -> list[str]:
    names = dict(rows.filter(code__in=codes).values_list("code", "name"))
    return [names.get(code, code) for code in sorted(codes)]
