"""Program-file sections owned by promotions: `tiers`, `promotions`, `coupon_templates`.

`check_*` validate a section without the database and return it cleaned (every error with its
path, e.g. `promotions[2].benefit.value`); `plan_*` compare it with the stored rows and queue
the writes; `export_*` give the section back so that applying the export changes nothing.

Times: a time without an offset is in the merchant's zone (known only when planning, so the
conversion happens there); they are stored in UTC and exported in the merchant's zone with
the offset. A bare date means the start of that day, or for `ends_at` / `valid_until` (both
exclusive) the end of it: `ends_at: 2027-03-31` still includes the 31st.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Model
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, ValidationFailed
from patron.engine.pricing import BENEFIT_TYPES
from patron.program.services import CATEGORY_SHAPE, CODE_SHAPE, Change, Plan
from patron.promotions import services
from patron.promotions.models import CouponTemplate, Promotion, Stacking, Tier
from patron.tenancy.actor import Actor

MAX_FEN = 10**12
MAX_RANK = 1000
MAX_PRIORITY = 10**6
MAX_DAYS = 36500
MAX_COUNT = 10**9
SKU_SHAPE = re.compile(r"[^\s\x00]{1,64}")
# Upgrade thresholds a tier may name (F-10): spend, points, one top-up or one sale.
UPGRADE_KEYS = (
    "spend_12m",
    "spend_total",
    "points_12m",
    "points_total",
    "single_topup",
    "single_sale",
)
CONDITION_KEYS = (
    "min_amount",
    "min_quantity",
    "skus",
    "categories",
    "tiers",
    "weekdays",
    "stores",
    "starts_at",
    "ends_at",
    "first_purchase",
)
# Per benefit type, the keys that type takes besides `type` and the common ones.
BENEFIT_KEYS: dict[str, tuple[str, ...]] = {
    "percent": ("value",),
    "fixed": ("value",),
    "fixed_price": ("value",),
    "free_items": ("buy", "get", "quantity"),
    "cheapest_percent": ("value",),
    "gift": ("sku", "quantity"),
    "points_multiplier": ("value",),
    "free_shipping": (),
}
COMMON_BENEFIT_KEYS = ("type", "skus", "categories", "max_discount")
STACKING = tuple(Stacking.values)
PROMOTION_KINDS = tuple(Promotion.Kind.values)

Errors = list[FieldError]


# --- small checks ----------------------------------------------------------------------------


def _mapping(value: Any, path: str, errors: Errors, allowed: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        errors.append(FieldError(path, _("Must be a mapping.")))
        return {}
    for key in sorted(set(value) - set(allowed), key=str):
        errors.append(FieldError(f"{path}.{key}", _("Unknown key.")))
    return value


def _list(value: Any, path: str, errors: Errors) -> list:
    if not isinstance(value, list):
        errors.append(FieldError(path, _("Must be a list.")))
        return []
    return value


def _int(value: Any, path: str, errors: Errors, *, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(
                path, _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
            )
        )
        return None
    return value


def _bool(value: Any, path: str, errors: Errors) -> bool:
    if not isinstance(value, bool):
        errors.append(FieldError(path, _("Must be true or false.")))
        return False
    return value


def _code(value: Any, path: str, errors: Errors) -> str | None:
    if not isinstance(value, str) or not CODE_SHAPE.fullmatch(value):
        errors.append(FieldError(path, _("Use 1 to 32 letters, digits, - or _.")))
        return None
    return value


def _name(value: Any, path: str, errors: Errors) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
        errors.append(FieldError(path, _("A name of 1 to 100 characters.")))
        return None
    return value.strip()


def _names(value: Any, path: str, errors: Errors, shape: re.Pattern, message: str) -> list[str]:
    """A list of names (SKUs, categories, codes) -> sorted without repeats."""
    names: set[str] = set()
    for index, item in enumerate(_list(value, path, errors)):
        if isinstance(item, str) and shape.fullmatch(item):
            names.add(item)
        else:
            errors.append(FieldError(f"{path}[{index}]", message))
    return sorted(names)


def _skus(value: Any, path: str, errors: Errors) -> list[str]:
    return _names(value, path, errors, SKU_SHAPE, _("A SKU of 1 to 64 characters, no spaces."))


def _categories(value: Any, path: str, errors: Errors) -> list[str]:
    message = _("A category of 1 to 40 characters without spaces or commas.")
    return _names(value, path, errors, CATEGORY_SHAPE, message)


def _codes(value: Any, path: str, errors: Errors) -> list[str]:
    return _names(value, path, errors, CODE_SHAPE, _("Use 1 to 32 letters, digits, - or _."))


def _multiplier(value: Any, path: str, errors: Errors) -> int | None:
    """A multiplier such as 2 or 1.5 -> whole percent (200, 150)."""
    message = _("A number greater than 0 and at most 100, with at most two decimals (e.g. 1.5).")
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(FieldError(path, message))
        return None
    try:
        percent = Decimal(str(value)) * 100
    except InvalidOperation:  # inf / nan
        errors.append(FieldError(path, message))
        return None
    if percent != percent.to_integral_value() or not 0 < percent <= 10000:
        errors.append(FieldError(path, message))
        return None
    return int(percent)


def multiplier_number(percent: int) -> int | float:
    """200 -> 2, 150 -> 1.5: a stored multiplier as the program file writes it."""
    return percent // 100 if percent % 100 == 0 else percent / 100


DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _moment(value: Any, path: str, errors: Errors, *, end: bool = False) -> dt.datetime | None:
    """ISO 8601 text (or a YAML date / timestamp) -> datetime, naive when no offset was given."""
    if isinstance(value, str) and DATE_ONLY.fullmatch(value.strip()):
        with contextlib.suppress(ValueError):  # a bad date falls through to the error below
            value = dt.date.fromisoformat(value.strip())
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        start = dt.datetime.combine(value, dt.time.min)
        return start + dt.timedelta(days=1) if end else start
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.append(
        FieldError(
            path, _("An ISO 8601 date or time, e.g. 2027-03-01 or 2027-03-01T09:00:00+08:00.")
        )
    )
    return None


def _same_kind(first: dt.datetime, second: dt.datetime) -> bool:
    return (first.tzinfo is None) == (second.tzinfo is None)


def _window_error(start: Any, end: Any, path: str, errors: Errors) -> None:
    """End after start, when both are known and comparable without the merchant's zone."""
    comparable = (
        isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and _same_kind(start, end)
    )
    if comparable and end <= start:
        errors.append(FieldError(path, _("Must be later than the start.")))


# --- condition and benefit -------------------------------------------------------------------


def check_condition(value: Any, path: str, errors: Errors) -> dict[str, Any]:
    """The parts of a condition that say something; empty lists and `false` are left out."""
    section = _mapping(value, path, errors, CONDITION_KEYS)
    cleaned: dict[str, Any] = {}
    if "min_amount" in section:
        cleaned["min_amount"] = _int(
            section["min_amount"], f"{path}.min_amount", errors, low=0, high=MAX_FEN
        )
    if "min_quantity" in section:
        cleaned["min_quantity"] = _int(
            section["min_quantity"], f"{path}.min_quantity", errors, low=1, high=MAX_COUNT
        )
    lists: dict[str, Callable[[Any, str, Errors], list]] = {
        "skus": _skus,
        "categories": _categories,
        "tiers": _codes,
        "stores": _codes,
    }
    for key, check in lists.items():
        if key in section:
            cleaned[key] = check(section[key], f"{path}.{key}", errors)
    if "weekdays" in section:
        days: set[int] = set()
        for index, day in enumerate(_list(section["weekdays"], f"{path}.weekdays", errors)):
            found = _int(day, f"{path}.weekdays[{index}]", errors, low=1, high=7)
            if found is not None:
                days.add(found)
        cleaned["weekdays"] = sorted(days)
    for key in ("starts_at", "ends_at"):
        if key in section:
            cleaned[key] = _moment(section[key], f"{path}.{key}", errors, end=key == "ends_at")
    _window_error(cleaned.get("starts_at"), cleaned.get("ends_at"), f"{path}.ends_at", errors)
    if "first_purchase" in section:
        cleaned["first_purchase"] = _bool(
            section["first_purchase"], f"{path}.first_purchase", errors
        )
    return {key: item for key, item in cleaned.items() if item not in (None, [], False)}


def _free_items(section: dict, path: str, errors: Errors, cleaned: dict[str, Any]) -> None:
    """`buy` and `get` together, or `quantity` alone."""
    has_pair = "buy" in section or "get" in section
    if has_pair and "quantity" in section:
        errors.append(FieldError(f"{path}.quantity", _("Give buy and get, or quantity, not both.")))
    elif has_pair:
        for key in ("buy", "get"):
            if key not in section:
                errors.append(FieldError(f"{path}.{key}", _("Required with %s.") % "buy/get"))
            else:
                cleaned[key] = _int(section[key], f"{path}.{key}", errors, low=1, high=MAX_COUNT)
    elif "quantity" in section:
        cleaned["quantity"] = _int(
            section["quantity"], f"{path}.quantity", errors, low=1, high=MAX_COUNT
        )
    else:
        errors.append(FieldError(path, _("Give buy and get (e.g. buy 2 get 1), or quantity.")))


def _benefit_value(kind: str, section: dict, path: str, errors: Errors) -> int | None:
    value = section.get("value")
    if "value" not in section:
        errors.append(FieldError(f"{path}.value", _("Required for this benefit type.")))
        return None
    if kind in ("percent", "cheapest_percent"):
        return _int(value, f"{path}.value", errors, low=1, high=100)
    if kind == "fixed":
        return _int(value, f"{path}.value", errors, low=1, high=MAX_FEN)
    if kind == "fixed_price":
        return _int(value, f"{path}.value", errors, low=0, high=MAX_FEN)
    return _multiplier(value, f"{path}.value", errors)  # points_multiplier: stored in percent


def check_benefit(value: Any, path: str, errors: Errors) -> dict[str, Any]:
    if not isinstance(value, dict):
        errors.append(FieldError(path, _("Must be a mapping with a type.")))
        return {}
    kind = value.get("type")
    if kind not in BENEFIT_TYPES:
        errors.append(FieldError(f"{path}.type", _("One of: %s") % ", ".join(BENEFIT_TYPES)))
        return {}
    section = _mapping(value, path, errors, COMMON_BENEFIT_KEYS + BENEFIT_KEYS[kind])
    cleaned: dict[str, Any] = {"type": kind}
    if "value" in BENEFIT_KEYS[kind]:
        cleaned["value"] = _benefit_value(kind, section, path, errors)
    if kind == "free_items":
        _free_items(section, path, errors, cleaned)
    if kind == "gift":
        sku = section.get("sku")
        if not isinstance(sku, str) or not SKU_SHAPE.fullmatch(sku):
            errors.append(FieldError(f"{path}.sku", _("The SKU given away (1 to 64 characters).")))
        else:
            cleaned["sku"] = sku
        cleaned["quantity"] = _int(
            section.get("quantity", 1), f"{path}.quantity", errors, low=1, high=MAX_COUNT
        )
    if "skus" in section:
        cleaned["skus"] = _skus(section["skus"], f"{path}.skus", errors)
    if "categories" in section:
        cleaned["categories"] = _categories(section["categories"], f"{path}.categories", errors)
    if "max_discount" in section:
        cleaned["max_discount"] = _int(
            section["max_discount"], f"{path}.max_discount", errors, low=1, high=MAX_FEN
        )
    return {key: item for key, item in cleaned.items() if item not in (None, [])}


def _stacking_priority(item: dict, path: str, errors: Errors) -> dict[str, Any]:
    stacking = item.get("stacking", Stacking.STACKABLE.value)
    if stacking not in STACKING:
        errors.append(FieldError(f"{path}.stacking", _("One of: %s") % ", ".join(STACKING)))
    priority = _int(
        item.get("priority", 100), f"{path}.priority", errors, low=-MAX_PRIORITY, high=MAX_PRIORITY
    )
    return {"stacking": stacking, "priority": priority}


def _items(value: Any, section: str, errors: Errors, allowed: tuple[str, ...]):
    """(index, path, item) for each mapping of a section list; a repeated code is an error."""
    if not isinstance(value, list):
        errors.append(FieldError(section, _("Must be a list.")))
        return
    seen: set[str] = set()
    for index, item in enumerate(value):
        path = f"{section}[{index}]"
        item = _mapping(item, path, errors, allowed)
        if not item and not isinstance(value[index], dict):
            continue
        code = _code(item.get("code"), f"{path}.code", errors)
        if code is not None and code in seen:
            errors.append(FieldError(f"{path}.code", _("Duplicate code %s.") % code))
            code = None
        if code is not None:
            seen.add(code)
        yield path, code, item


# --- tiers -----------------------------------------------------------------------------------

TIER_KEYS = ("code", "name", "rank", "discount", "points_multiplier", "upgrade_when")


def _tier_discount(value: Any, path: str, errors: Errors) -> dict[str, int]:
    if not isinstance(value, dict):
        errors.append(FieldError(path, _("Must be a mapping of category to percent of price.")))
        return {}
    discount = {}
    for category, percent in value.items():
        if not isinstance(category, str) or not CATEGORY_SHAPE.fullmatch(category):
            errors.append(FieldError(f"{path}.{category}", _("Not a category name.")))
            continue
        found = _int(percent, f"{path}.{category}", errors, low=1, high=100)
        if found is not None:
            discount[category] = found
    return dict(sorted(discount.items()))


def _upgrade_when(value: Any, path: str, errors: Errors) -> dict[str, int]:
    section = _mapping(value, path, errors, UPGRADE_KEYS)
    found = {
        key: _int(section[key], f"{path}.{key}", errors, low=0, high=MAX_FEN)
        for key in UPGRADE_KEYS
        if key in section
    }
    return {key: number for key, number in found.items() if number is not None}


def check_tiers(value: Any, errors: Errors) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    ranks: set[int] = set()
    valid = True
    for path, code, item in _items(value, "tiers", errors, TIER_KEYS):
        name = _name(item.get("name"), f"{path}.name", errors)
        rank = _int(item.get("rank"), f"{path}.rank", errors, low=0, high=MAX_RANK)
        if rank is not None and rank in ranks:
            errors.append(FieldError(f"{path}.rank", _("Two tiers with rank %d.") % rank))
        multiplier = _multiplier(
            item.get("points_multiplier", 1), f"{path}.points_multiplier", errors
        )
        row = {
            "code": code,
            "name": name,
            "rank": rank,
            "discount": _tier_discount(item.get("discount", {}), f"{path}.discount", errors),
            "points_multiplier_percent": multiplier,
            "upgrade_when": _upgrade_when(
                item.get("upgrade_when", {}), f"{path}.upgrade_when", errors
            ),
        }
        valid = valid and rank is not None
        if rank is not None:
            ranks.add(rank)
        rows.append(row)
    if isinstance(value, list) and value and valid and 0 not in ranks:
        errors.append(FieldError("tiers", _("One tier must have rank 0: new members start there.")))
    return rows


def _tier_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "code"}, "is_active": True}


def plan_tiers(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    wanted = {row["code"]: _tier_fields(row) for row in rows}
    _plan_rows("tiers", Tier, actor, wanted, plan)


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
        rows.append(row)
    return rows


# --- promotions ------------------------------------------------------------------------------

PROMOTION_KEYS = (
    "code",
    "name",
    "kind",
    "members_only",
    "condition",
    "benefit",
    "stacking",
    "priority",
)


def check_promotions(value: Any, errors: Errors) -> list[dict[str, Any]]:
    rows = []
    for path, code, item in _items(value, "promotions", errors, PROMOTION_KEYS):
        kind = item.get("kind")
        if kind == "coupon":
            errors.append(
                FieldError(
                    f"{path}.kind",
                    _("Coupons are configured under coupon_templates, not as promotions."),
                )
            )
        elif kind not in PROMOTION_KINDS:
            errors.append(FieldError(f"{path}.kind", _("One of: %s") % ", ".join(PROMOTION_KINDS)))
        if "benefit" not in item:
            errors.append(FieldError(f"{path}.benefit", _("Required.")))
        rows.append(
            {
                "code": code,
                "name": _name(item.get("name"), f"{path}.name", errors),
                "kind": kind,
                "members_only": _bool(
                    item.get("members_only", False), f"{path}.members_only", errors
                ),
                "condition": check_condition(
                    item.get("condition", {}), f"{path}.condition", errors
                ),
                "benefit": check_benefit(item.get("benefit", {}), f"{path}.benefit", errors)
                if "benefit" in item
                else {},
                **_stacking_priority(item, path, errors),
                "path": path,
            }
        )
    return rows


class Zone:
    """Makes the times of a section aware in the merchant's zone and checks their order."""

    def __init__(self, actor: Actor) -> None:
        self.zone = ZoneInfo(actor.merchant.timezone)
        self.errors: Errors = []

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


def stored_moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def plan_promotions(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    zone = Zone(actor)
    wanted = {}
    for row in rows:
        condition = zone.condition(row["condition"], row["path"])
        wanted[row["code"]] = {
            "name": row["name"],
            "kind": row["kind"],
            "members_only": row["members_only"],
            "condition": condition,
            "benefit": row["benefit"],
            "stacking": row["stacking"],
            "priority": row["priority"],
            "starts_at": stored_moment(condition.get("starts_at")),
            "ends_at": stored_moment(condition.get("ends_at")),
            "is_active": True,
        }
    zone.raise_errors()
    _plan_rows("promotions", Promotion, actor, wanted, plan)


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
    row: dict[str, Any] = {"code": promotion.code, "name": promotion.name, "kind": promotion.kind}
    if promotion.members_only:
        row["members_only"] = True
    if promotion.condition:
        row["condition"] = export_condition(promotion.condition, zone)
    row["benefit"] = export_benefit(promotion.benefit)
    row["stacking"] = promotion.stacking
    row["priority"] = promotion.priority
    return row


def export_promotions(actor: Actor) -> list[dict[str, Any]]:
    zone = ZoneInfo(actor.merchant.timezone)
    promotions = Promotion.objects.filter(merchant=actor.merchant, is_active=True)
    return [export_promotion(p, zone) for p in promotions.order_by("priority", "code")]


# --- coupon templates ------------------------------------------------------------------------

TEMPLATE_KEYS = (
    "code",
    "name",
    "benefit",
    "condition",
    "stacking",
    "priority",
    "valid_days",
    "valid_from",
    "valid_until",
    "per_member_limit",
    "stock",
)


def _validity(item: dict, path: str, errors: Errors) -> dict[str, Any]:
    """Exactly one of `valid_days` or the window `valid_from` + `valid_until`."""
    window = [key for key in ("valid_from", "valid_until") if key in item]
    if "valid_days" in item and window:
        errors.append(
            FieldError(
                f"{path}.valid_days",
                _("Give valid_days or valid_from and valid_until, not both."),
            )
        )
        return {}
    if "valid_days" in item:
        days = _int(item["valid_days"], f"{path}.valid_days", errors, low=1, high=MAX_DAYS)
        return {"valid_days": days, "valid_from": None, "valid_until": None}
    if not window:
        errors.append(
            FieldError(
                path,
                _("Say how long coupons are valid: valid_days, or valid_from and valid_until."),
            )
        )
        return {}
    for key in ("valid_from", "valid_until"):
        if key not in item:
            errors.append(FieldError(f"{path}.{key}", _("Required with the other one.")))
    start = (
        _moment(item.get("valid_from"), f"{path}.valid_from", errors)
        if "valid_from" in item
        else None
    )
    end = (
        _moment(item["valid_until"], f"{path}.valid_until", errors, end=True)
        if "valid_until" in item
        else None
    )
    _window_error(start, end, f"{path}.valid_until", errors)
    return {"valid_days": None, "valid_from": start, "valid_until": end}


def check_coupon_templates(value: Any, errors: Errors) -> list[dict[str, Any]]:
    rows = []
    for path, code, item in _items(value, "coupon_templates", errors, TEMPLATE_KEYS):
        if "benefit" not in item:
            errors.append(FieldError(f"{path}.benefit", _("Required.")))
        limits = {}
        for key in ("per_member_limit", "stock"):
            low = 1 if key == "per_member_limit" else 0
            limits[key] = (
                _int(item[key], f"{path}.{key}", errors, low=low, high=MAX_COUNT)
                if key in item
                else None
            )
        rows.append(
            {
                "code": code,
                "name": _name(item.get("name"), f"{path}.name", errors),
                "condition": check_condition(
                    item.get("condition", {}), f"{path}.condition", errors
                ),
                "benefit": check_benefit(item.get("benefit", {}), f"{path}.benefit", errors)
                if "benefit" in item
                else {},
                **_stacking_priority(item, path, errors),
                **_validity(item, path, errors),
                **limits,
                "path": path,
            }
        )
    return rows


def plan_coupon_templates(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    zone = Zone(actor)
    wanted = {}
    for row in rows:
        start, end = zone.window(
            row["valid_from"], row["valid_until"], f"{row['path']}.valid_until"
        )
        wanted[row["code"]] = {
            "name": row["name"],
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
    zone.raise_errors()
    _plan_rows("coupon_templates", CouponTemplate, actor, wanted, plan)


def export_template(template: CouponTemplate, zone: ZoneInfo) -> dict[str, Any]:
    row: dict[str, Any] = {"code": template.code, "name": template.name}
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
    return [export_template(t, zone) for t in templates.order_by("code")]


# --- replacing a section ---------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return repr(value)


def _plan_rows(
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
                    model, actor.merchant, code, fields
                )
            )
            continue
        changed = {key: value for key, value in fields.items() if getattr(row, key) != value}
        if not changed:
            continue
        details = [
            f"{key}: {_shown(getattr(row, key))} -> {_shown(value)}"
            for key, value in changed.items()
            if key != "is_active"
        ]
        if "is_active" in changed:
            details.insert(0, _("(reactivated)"))
        plan.changes.append(Change(section, "change", code, ", ".join(details)))
        plan.steps.append(
            lambda row=row, changed=changed: services.update_program_row(row, changed)
        )
    for code, row in current.items():
        if code not in wanted and row.is_active:
            plan.changes.append(Change(section, "end", code, _("(ended, history kept)")))
            plan.steps.append(
                lambda row=row: services.update_program_row(row, {"is_active": False})
            )


def register() -> None:
    from patron.program.services import register_section

    register_section("tiers", check_tiers, plan_tiers, export_tiers)
    register_section("promotions", check_promotions, plan_promotions, export_promotions)
    register_section(
        "coupon_templates", check_coupon_templates, plan_coupon_templates, export_coupon_templates
    )
