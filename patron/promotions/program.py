"""Program-file sections owned by promotions: `tiers`, `promotions`, `coupon_templates`.

The models check a section without the database (every error with its path, e.g.
`promotions[2].benefit.value`) and give it cleaned (`cleaned()`); `plan_*` compare it with the
stored rows and queue the writes; `export_*` give the section back so that applying the export
changes nothing.

Times: a time without an offset is in the merchant's zone (known only when planning, so the
conversion happens there); they are stored in UTC and exported in the merchant's zone with
the offset. A bare date means the start of that day, or for `ends_at` / `valid_until` (both
exclusive) the end of it: `ends_at: 2027-03-31` still includes the 31st.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import AfterValidator, Field

from patron.core.errors import FieldError, ValidationFailed
from patron.engine import tiers as tier_rules
from patron.engine.pricing import BENEFIT_TYPES
from patron.program.fields import (
    CODE,
    END,
    MAX_COUNT,
    START,
    Bool,
    Category,
    CategorySet,
    Code,
    CodeSet,
    Count,
    End,
    Fen,
    MultiplierPercent,
    Name,
    OneOf,
    Percent,
    PositiveFen,
    Sku,
    SkuSet,
    Start,
    Text,
    Whole,
    sorted_unique,
)
from patron.program.schema import (
    CodedList,
    ProgramModel,
    Refusal,
    mappings,
    repeats,
    tagged_union,
)
from patron.program.services import Change, Plan
from patron.promotions import services, store_activities
from patron.promotions.models import CouponTemplate, Promotion, Stacking, Tier
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Store

RANK = Whole(0, 1000)
MAX_PRIORITY = 10**6
MAX_DAYS = 36500
COMMON_BENEFIT_KEYS = ("skus", "categories", "max_discount")
KIND = OneOf(
    tuple(Promotion.Kind.values),
    {"coupon": gettext_lazy("Coupons are configured under coupon_templates, not as promotions.")},
)
StackingRule = Annotated[str, OneOf(tuple(Stacking.values))]
Priority = Annotated[int, Whole(-MAX_PRIORITY, MAX_PRIORITY)]
Weekdays = Annotated[list[Annotated[int, Whole(1, 7)]], AfterValidator(sorted_unique)]


def multiplier_number(percent: int) -> int | float:
    """200 -> 2, 150 -> 1.5: a stored multiplier as the program file writes it."""
    return percent // 100 if percent % 100 == 0 else percent / 100


def window_problems(value: dict[Any, Any], start: str, end: str) -> Iterator[Refusal]:
    """An end not later than its start, when both are valid and comparable without the
    merchant's zone (a naive time against one with an offset is left to Zone, when planning)."""
    if start not in value or end not in value:
        return
    first, last = START.parse(value[start]), END.parse(value[end])
    if first is None or last is None or (first.tzinfo is None) != (last.tzinfo is None):
        return
    if last <= first:
        yield (end,), _("Must be later than the start.")


# --- condition and benefit -------------------------------------------------------------------


class Condition(ProgramModel):
    """What must hold for a promotion or coupon to apply: every part given (API.md §4)."""

    min_amount: Fen = None
    min_quantity: Count = None
    skus: SkuSet = None
    categories: CategorySet = None
    tiers: CodeSet = None
    weekdays: Weekdays = None
    stores: CodeSet = None
    starts_at: Start = None
    ends_at: End = None
    first_purchase: Bool = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if isinstance(value, dict):
            yield from window_problems(value, "starts_at", "ends_at")

    def cleaned(self) -> dict[str, Any]:
        """The parts that say something: empty lists and `false` are left out."""
        return {key: item for key, item in self.given().items() if item not in (None, [], False)}


class Benefit(ProgramModel):
    """What every benefit may add: `skus` / `categories` limit it to those lines,
    `max_discount` caps one application."""

    skus: SkuSet = None
    categories: CategorySet = None
    max_discount: PositiveFen = None

    def cleaned(self) -> dict[str, Any]:
        """`type` and its own keys, then the common ones; what is not given is left out."""
        own = [key for key in type(self).model_fields if key not in COMMON_BENEFIT_KEYS]
        shown = {key: getattr(self, key) for key in [*own, *COMMON_BENEFIT_KEYS]}
        return {key: item for key, item in shown.items() if item not in (None, [])}


class PercentOff(Benefit):
    """`value` percent off."""

    type: Literal["percent"]
    value: Percent


class FixedOff(Benefit):
    """`value` fen off."""

    type: Literal["fixed"]
    value: PositiveFen


class FixedPrice(Benefit):
    """Each matching unit for `value` fen."""

    type: Literal["fixed_price"]
    value: Fen


class FreeItems(Benefit):
    """In every group of `buy + get` matching units, the `get` cheapest are free; or
    `quantity` units free."""

    type: Literal["free_items"]
    buy: Count = None
    get: Count = None
    quantity: Count = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        pair = "buy" in value or "get" in value
        if pair and "quantity" in value:
            yield ("quantity",), _("Give buy and get, or quantity, not both.")
        elif pair:
            for key in ("buy", "get"):
                if key not in value:
                    yield (key,), _("Required with %s.") % "buy/get"
        elif "quantity" not in value:
            yield (), _("Give buy and get (e.g. buy 2 get 1), or quantity.")


class CheapestPercent(Benefit):
    """`value` percent off the single cheapest matching unit."""

    type: Literal["cheapest_percent"]
    value: Percent


class Gift(Benefit):
    """`quantity` units of `sku` added to the sale at 0."""

    type: Literal["gift"]
    sku: Sku
    quantity: Count = 1


class PointsMultiplier(Benefit):
    """Points earned times `value` (e.g. 2 or 1.5)."""

    type: Literal["points_multiplier"]
    value: MultiplierPercent


class FreeShipping(Benefit):
    """No shipping charge."""

    type: Literal["free_shipping"]


BENEFITS: dict[str, type[Benefit]] = {
    "percent": PercentOff,
    "fixed": FixedOff,
    "fixed_price": FixedPrice,
    "free_items": FreeItems,
    "cheapest_percent": CheapestPercent,
    "gift": Gift,
    "points_multiplier": PointsMultiplier,
    "free_shipping": FreeShipping,
}
# In the engine's order; a type the engine adds without a model here fails at import.
AnyBenefit = tagged_union("type", *(BENEFITS[kind] for kind in BENEFIT_TYPES))


# --- tiers -----------------------------------------------------------------------------------


class UpgradeWhen(ProgramModel):
    """Any one threshold reached moves a member up to the tier (fen, points or visits); the
    12-month figures count the last 12 months in the merchant's zone (docs/tiers.md)."""

    spend_12m: Fen = None
    spend_total: Fen = None
    points_12m: Fen = None
    points_total: Fen = None
    single_topup: Fen = None
    single_sale: Fen = None
    visits_12m: Annotated[int, Whole(0, MAX_COUNT)] = None


class KeepWhen(UpgradeWhen):
    """Reviewed nightly: a member below every threshold given for `grace_days` drops one rank."""


class BirthdayGift(ProgramModel):
    """Given on the member's birthday: points, a coupon of a template, or both."""

    points: Annotated[int, Whole(1, MAX_COUNT)] = None
    coupon: Code = None


class TierRow(ProgramModel):
    """A membership tier; rank 0 is where new members start."""

    code: Code
    name: Name
    rank: Annotated[int, RANK]
    discount: dict[Category, Percent] = Field(
        None, description="Member prices: category -> percent of the price paid (88 = 8.8折)."
    )
    points_multiplier: MultiplierPercent = Field(
        None, description="Points earned times this, e.g. 1.5 (1 when left out)."
    )
    upgrade_when: UpgradeWhen = None
    keep_when: KeepWhen = None
    grace_days: Annotated[int, Whole(0, 3650)] = Field(
        None, description="Days below keep_when before dropping one rank (30 when left out)."
    )
    birthday_gift: BirthdayGift = None
    privileges: list[Annotated[str, Text(100)]] = Field(
        None, description="Privileges in words, shown to the member and the cashier."
    )

    def cleaned(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "rank": self.rank,
            "discount": dict(sorted((self.discount or {}).items())),
            "points_multiplier_percent": self.points_multiplier or 100,
            "upgrade_when": self.upgrade_when.given() if self.upgrade_when else {},
            "keep_when": self.keep_when.given() if self.keep_when else {},
            "grace_days": 30 if self.grace_days is None else self.grace_days,
            "birthday_gift": self.birthday_gift.given() if self.birthday_gift else {},
            "privileges": list(self.privileges or []),
        }


class Tiers(CodedList[TierRow]):
    """The tiers, each with its own rank; one has rank 0."""

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        yield from super().problems(value)
        ranks = [(index, RANK.parse(item.get("rank"))) for index, item in mappings(value)]
        for index, rank in repeats(ranks):
            yield (index, "rank"), _("Two tiers with rank %d.") % rank
        # Only when every rank is valid: a refused rank may be the 0 meant.
        known = {rank for _index, rank in ranks}
        if ranks and None not in known and 0 not in known:
            yield (), _("One tier must have rank 0: new members start there.")
        yield from _order_problems(value)

    def cleaned(self) -> list[dict[str, Any]]:
        return [row.cleaned() for row in self.root]


def _thresholds(item: dict[Any, Any], part: str) -> dict[str, int]:
    """The valid thresholds of `upgrade_when` / `keep_when` (invalid ones have their own error)."""
    given = item.get(part)
    if not isinstance(given, dict):
        return {}
    return {
        key: number
        for key, number in given.items()
        if key in tier_rules.KEYS
        and isinstance(number, int)
        and not isinstance(number, bool)
        and number >= 0
    }


def _order_problems(value: Any) -> Iterator[Refusal]:
    """Tier rules that overlap or form no order (F-10): a higher rank must ask more than a
    lower one for the same figure, rank 0 asks nothing, and keeping a tier asks no more than
    reaching it."""
    indexed = [
        (index, item, RANK.parse(item.get("rank")), CODE.parse(item.get("code")))
        for index, item in mappings(value)
    ]
    rows = [(index, item, rank, code) for index, item, rank, code in indexed if rank is not None]
    found = tier_rules.rule_problems(
        [
            tier_rules.TierRule(
                code=str(code),
                rank=rank,
                upgrade_when=_thresholds(item, "upgrade_when"),
                keep_when=_thresholds(item, "keep_when"),
            )
            for _index, item, rank, code in rows
        ]
    )
    for position, part, key, other in found:
        index, item = rows[position][0], rows[position][1]
        if part == "rank0":
            yield (index, key), _("The rank-0 tier is where new members start: no %s here.") % key
        elif part == "upgrade_when":
            lower = rows[other][1]
            yield (
                (index, part, key),
                _("Must be greater than %(value)s, what %(tier)s (a lower rank) asks.")
                % {"value": _thresholds(lower, part)[key], "tier": lower.get("code")},
            )
        else:
            yield (
                (index, part, key),
                _("Must not be more than this tier's own upgrade threshold (%s).")
                % _thresholds(item, "upgrade_when")[key],
            )


def _tier_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "code"}, "is_active": True}


def plan_tiers(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    wanted = {row["code"]: _tier_fields(row) for row in rows}
    plan_rows("tiers", Tier, actor, wanted, plan)


def export_tiers(actor: Actor) -> list[dict[str, Any]]:
    rows = []
    for tier in Tier.objects.filter(merchant=actor.merchant, is_active=True).order_by("rank"):
        row: dict[str, Any] = {"code": tier.code, "name": tier.name, "rank": tier.rank}
        if tier.discount:
            row["discount"] = dict(tier.discount)
        if tier.points_multiplier_percent != 100:
            row["points_multiplier"] = multiplier_number(tier.points_multiplier_percent)
        if tier.upgrade_when:
            row["upgrade_when"] = dict(tier.upgrade_when)
        if tier.keep_when:
            row["keep_when"] = dict(tier.keep_when)
        if tier.grace_days != 30:
            row["grace_days"] = tier.grace_days
        if tier.birthday_gift:
            row["birthday_gift"] = dict(tier.birthday_gift)
        if tier.privileges:
            row["privileges"] = list(tier.privileges)
        rows.append(row)
    return rows


# --- promotions ------------------------------------------------------------------------------


class Limits(ProgramModel):
    """How many applications committed sales may hold (API.md §11; docs/activities.md
    "Limited offers"): in all, per member, per member per day in the merchant's zone."""

    total: Count = None
    per_member: Count = None
    per_member_per_day: Count = None


class PromotionRow(ProgramModel):
    """A promotion: `automatic` applies by itself, `code` when a sale gives its code;
    `paused: true` keeps it in the program without applying it (docs/promotions.md).
    `starts_at` / `ends_at` may sit on the promotion itself, as in API.md §11: they are the
    condition's."""

    code: Code
    name: Name
    owner: Code = Field(None, description="The store that runs it (its code); absent: HQ.")
    kind: Annotated[str, KIND]
    paused: Bool = False
    members_only: Bool = False
    condition: Condition = None
    benefit: AnyBenefit
    stacking: StackingRule = Stacking.STACKABLE.value
    priority: Priority = 100
    limits: Limits = None
    starts_at: Start = None
    ends_at: End = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        yield from window_problems(value, "starts_at", "ends_at")
        condition = value.get("condition")
        if isinstance(condition, dict):
            for key in ("starts_at", "ends_at"):
                if key in value and key in condition:
                    yield (key,), _("Given in the condition too: give it once.")

    def cleaned(self, path: str) -> dict[str, Any]:
        condition = self.condition.cleaned() if self.condition else {}
        for key in ("starts_at", "ends_at"):
            if getattr(self, key) is not None:
                condition[key] = getattr(self, key)
        cleaned = {
            "code": self.code,
            "name": self.name,
            "owner": self.owner,
            "kind": self.kind,
            "paused": self.paused,
            "members_only": self.members_only,
            "condition": condition,
            "benefit": self.benefit.cleaned(),
            "stacking": self.stacking,
            "priority": self.priority,
            "path": path,  # where plan_promotions reports what only the merchant's zone shows
        }
        if self.limits:
            cleaned["limits"] = self.limits.given()
        return cleaned


class Promotions(CodedList[PromotionRow]):
    """Promotions (API.md §4), applied in ascending priority."""

    def cleaned(self) -> list[dict[str, Any]]:
        return [row.cleaned(f"promotions[{index}]") for index, row in enumerate(self.root)]


class Zone:
    """Makes the times of a section aware in the merchant's zone and checks their order."""

    def __init__(self, actor: Actor) -> None:
        self.zone = ZoneInfo(actor.merchant.timezone)
        self.errors: list[FieldError] = []

    def aware(self, moment: dt.datetime | None) -> dt.datetime | None:
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(dt.UTC)

    def window(
        self, start: dt.datetime | None, end: dt.datetime | None, path: str
    ) -> tuple[dt.datetime | None, dt.datetime | None]:
        start, end = self.aware(start), self.aware(end)
        # Only a naive time against one with an offset is left for here: check() did the rest.
        if start is not None and end is not None and end <= start:
            self.errors.append(FieldError(path, _("Must be later than the start.")))
        return start, end

    def condition(self, condition: dict[str, Any], path: str) -> dict[str, Any]:
        """The condition as stored: times as ISO 8601 in UTC."""
        stored = dict(condition)
        start, end = self.window(
            condition.get("starts_at"), condition.get("ends_at"), f"{path}.condition.ends_at"
        )
        for key, moment in (("starts_at", start), ("ends_at", end)):
            if moment is not None:
                stored[key] = moment.isoformat()
        return stored

    def raise_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


class NewStore:
    """A store the same file adds, found by its code when the plan runs (stores are planned
    before every other section, so it exists by then)."""

    def __init__(self, merchant: Merchant, code: str) -> None:
        self.merchant, self.code = merchant, code

    def __repr__(self) -> str:
        return self.code

    def resolve(self) -> Store:
        return Store.objects.get(merchant=self.merchant, code=self.code)


class Owners:
    """The stores that own promotions and coupon templates (`owner: S1`; absent: HQ)."""

    def __init__(self, actor: Actor, plan: Plan) -> None:
        self.merchant = actor.merchant
        self.stores = {s.code: s for s in Store.objects.filter(merchant=actor.merchant)}
        self.added = {c.key for c in plan.changes if c.section == "stores" and c.op == "add"}
        self.errors: list[FieldError] = []

    def store(self, code: str | None, path: str) -> Store | NewStore | None:
        if code is None:
            return None
        if code in self.stores:
            return self.stores[code]
        if code in self.added:
            return NewStore(self.merchant, code)
        self.errors.append(FieldError(path, _("Unknown store %s.") % code))
        return None


def resolved(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.resolve() if isinstance(v, NewStore) else v for k, v in fields.items()}


def stored_moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def plan_promotions(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    zone = Zone(actor)
    owners = Owners(actor, plan)
    wanted = {}
    for row in rows:
        condition = zone.condition(row["condition"], row["path"])
        wanted[row["code"]] = {
            "name": row["name"],
            "owner_store": owners.store(row["owner"], f"{row['path']}.owner"),
            "kind": row["kind"],
            "paused": row["paused"],
            "members_only": row["members_only"],
            "condition": condition,
            "benefit": row["benefit"],
            "stacking": row["stacking"],
            "priority": row["priority"],
            "limits": row.get("limits") or {},
            "starts_at": stored_moment(condition.get("starts_at")),
            "ends_at": stored_moment(condition.get("ends_at")),
            "is_active": True,
        }
    zone.errors += owners.errors
    zone.raise_errors()
    plan_rows("promotions", Promotion, actor, wanted, plan)


def export_condition(condition: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    shown = dict(condition)
    for key in ("starts_at", "ends_at"):
        if key in shown:
            shown[key] = dt.datetime.fromisoformat(shown[key]).astimezone(zone).isoformat()
    return shown


def export_benefit(benefit: dict[str, Any]) -> dict[str, Any]:
    shown = dict(benefit)
    if shown["type"] == "points_multiplier":
        shown["value"] = multiplier_number(shown["value"])
    return shown


def export_promotion(promotion: Promotion, zone: ZoneInfo) -> dict[str, Any]:
    row: dict[str, Any] = {"code": promotion.code, "name": promotion.name}
    if promotion.owner_store_id:
        row["owner"] = promotion.owner_store.code
    row["kind"] = promotion.kind
    if promotion.paused:
        row["paused"] = True
    if promotion.members_only:
        row["members_only"] = True
    if promotion.condition:
        row["condition"] = export_condition(promotion.condition, zone)
    row["benefit"] = export_benefit(promotion.benefit)
    row["stacking"] = promotion.stacking
    row["priority"] = promotion.priority
    if promotion.limits:
        row["limits"] = dict(promotion.limits)
    return row


def export_promotions(actor: Actor) -> list[dict[str, Any]]:
    zone = ZoneInfo(actor.merchant.timezone)
    promotions = Promotion.objects.filter(merchant=actor.merchant, is_active=True)
    promotions = promotions.select_related("owner_store")
    return [export_promotion(p, zone) for p in promotions.order_by("priority", "code")]


# --- coupon templates ------------------------------------------------------------------------


class TemplateRow(ProgramModel):
    """A coupon members are given; valid `valid_days` from issue, or from `valid_from` until
    `valid_until`; `paused: true` issues no new coupons (those held still count)."""

    code: Code
    name: Name
    owner: Code = Field(None, description="The store that runs it (its code); absent: HQ.")
    paused: Bool = False
    benefit: AnyBenefit
    condition: Condition = None
    stacking: StackingRule = Stacking.STACKABLE.value
    priority: Priority = 100
    valid_days: Annotated[int, Whole(1, MAX_DAYS)] = None
    valid_from: Start = None
    valid_until: End = None
    per_member_limit: Count = None
    stock: Annotated[int, Whole(0, MAX_COUNT)] = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        """Exactly one of `valid_days` or the window `valid_from` + `valid_until`."""
        if not isinstance(value, dict):
            return
        window = [key for key in ("valid_from", "valid_until") if key in value]
        if "valid_days" in value and window:
            yield ("valid_days",), _("Give valid_days or valid_from and valid_until, not both.")
        elif "valid_days" in value:
            return
        elif not window:
            yield (
                (),
                _("Say how long coupons are valid: valid_days, or valid_from and valid_until."),
            )
        elif len(window) == 1:
            missing = "valid_until" if window == ["valid_from"] else "valid_from"
            yield (missing,), _("Required with the other one.")
        else:
            yield from window_problems(value, "valid_from", "valid_until")

    def cleaned(self, path: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "owner": self.owner,
            "paused": self.paused,
            "condition": self.condition.cleaned() if self.condition else {},
            "benefit": self.benefit.cleaned(),
            "stacking": self.stacking,
            "priority": self.priority,
            "valid_days": self.valid_days,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "per_member_limit": self.per_member_limit,
            "stock": self.stock,
            "path": path,
        }


class CouponTemplates(CodedList[TemplateRow]):
    """Coupon templates: what a coupon gives, on which condition, how long it lasts."""

    def cleaned(self) -> list[dict[str, Any]]:
        return [row.cleaned(f"coupon_templates[{index}]") for index, row in enumerate(self.root)]


def plan_coupon_templates(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    zone = Zone(actor)
    owners = Owners(actor, plan)
    wanted = {}
    for row in rows:
        start, end = zone.window(
            row["valid_from"], row["valid_until"], f"{row['path']}.valid_until"
        )
        wanted[row["code"]] = {
            "name": row["name"],
            "owner_store": owners.store(row["owner"], f"{row['path']}.owner"),
            "paused": row["paused"],
            "condition": zone.condition(row["condition"], row["path"]),
            "benefit": row["benefit"],
            "stacking": row["stacking"],
            "priority": row["priority"],
            "valid_days": row["valid_days"],
            "valid_from": start,
            "valid_until": end,
            "per_member_limit": row["per_member_limit"],
            "stock": row["stock"],
            "is_active": True,
        }
    zone.errors += owners.errors
    zone.raise_errors()
    plan_rows("coupon_templates", CouponTemplate, actor, wanted, plan)


def export_template(template: CouponTemplate, zone: ZoneInfo) -> dict[str, Any]:
    row: dict[str, Any] = {"code": template.code, "name": template.name}
    if template.owner_store_id:
        row["owner"] = template.owner_store.code
    if template.paused:
        row["paused"] = True
    row["benefit"] = export_benefit(template.benefit)
    if template.condition:
        row["condition"] = export_condition(template.condition, zone)
    row["stacking"] = template.stacking
    row["priority"] = template.priority
    if template.valid_days is not None:
        row["valid_days"] = template.valid_days
    else:
        row["valid_from"] = template.valid_from.astimezone(zone).isoformat()
        row["valid_until"] = template.valid_until.astimezone(zone).isoformat()
    for key in ("per_member_limit", "stock"):
        if getattr(template, key) is not None:
            row[key] = getattr(template, key)
    return row


def export_coupon_templates(actor: Actor) -> list[dict[str, Any]]:
    zone = ZoneInfo(actor.merchant.timezone)
    templates = CouponTemplate.objects.filter(merchant=actor.merchant, is_active=True)
    templates = templates.select_related("owner_store")
    return [export_template(t, zone) for t in templates.order_by("code")]


# --- replacing a section ---------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Store):
        return value.code
    return repr(value)


def plan_rows(
    section: str,
    model: type[Model],
    actor: Actor,
    wanted: dict[str, dict[str, Any]],
    plan: Plan,
) -> None:
    """Add what is new, change what differs, end what the file no longer lists.

    Nothing is planned when the stored rows already equal the file, so applying the same
    file twice writes nothing and records no revision.
    """
    current = {row.code: row for row in model.objects.filter(merchant=actor.merchant)}
    for code, fields in wanted.items():
        row = current.get(code)
        if row is None:
            plan.changes.append(Change(section, "add", code, fields["name"]))
            plan.steps.append(
                lambda code=code, fields=fields: services.create_program_row(
                    model, actor.merchant, code, resolved(fields)
                )
            )
            continue
        changed = {key: value for key, value in fields.items() if getattr(row, key) != value}
        if not changed:
            continue
        details = [
            f"{key}: {_shown(getattr(row, key))} -> {_shown(value)}"
            for key, value in changed.items()
            if key not in ("is_active", "paused")
        ]
        if "paused" in changed:
            details.insert(0, _("(paused)") if changed["paused"] else _("(resumed)"))
        if "is_active" in changed:
            details.insert(0, _("(reactivated)"))
        plan.changes.append(Change(section, "change", code, ", ".join(details)))
        plan.steps.append(
            lambda row=row, changed=changed: services.update_program_row(row, resolved(changed))
        )
    for code, row in current.items():
        if code not in wanted and row.is_active:
            plan.changes.append(Change(section, "end", code, _("(ended, history kept)")))
            plan.steps.append(
                lambda row=row: services.update_program_row(row, {"is_active": False})
            )


def register() -> None:
    from patron.program.services import register_section

    register_section("tiers", Tiers, plan_tiers, export_tiers)
    register_section("promotions", Promotions, plan_promotions, export_promotions)
    register_section(
        "coupon_templates", CouponTemplates, plan_coupon_templates, export_coupon_templates
    )
    store_activities.register()
