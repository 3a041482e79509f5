"""Conditions, benefits and validity in plain words, for the console and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dates import WEEKDAYS
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from patron.core.money import yuan
from patron.promotions.models import CouponTemplate
from patron.promotions.program import multiplier_number


def _listed(names: list[str]) -> str:
    return ", ".join(str(name) for name in names)


def _moment(text: str, zone: ZoneInfo) -> str:
    return dt.datetime.fromisoformat(text).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _scope(benefit: dict[str, Any]) -> str:
    parts = []
    if benefit.get("skus"):
        parts.append(_("SKUs %(skus)s") % {"skus": _listed(benefit["skus"])})
    if benefit.get("categories"):
        parts.append(_("categories %(names)s") % {"names": _listed(benefit["categories"])})
    return _(" on %(items)s") % {"items": _(" and ").join(parts)} if parts else ""


def describe_benefit(benefit: dict[str, Any]) -> str:
    kind = benefit.get("type")
    value = benefit.get("value", 0)
    if kind == "percent":
        text = _("%(percent)d%% off") % {"percent": value} + (
            _scope(benefit) or _(" the whole order")
        )
    elif kind == "fixed":
        text = _("%(amount)s off") % {"amount": yuan(value)} + _scope(benefit)
    elif kind == "fixed_price":
        text = _("%(amount)s per item") % {"amount": yuan(value)} + _scope(benefit)
    elif kind == "free_items" and benefit.get("buy"):
        text = _("Buy %(buy)d, get %(get)d free (the cheapest)") % {
            "buy": benefit["buy"],
            "get": benefit["get"],
        } + _scope(benefit)
    elif kind == "free_items":
        quantity = benefit.get("quantity", 1)
        text = ngettext("%(count)d item free", "%(count)d items free", quantity) % {
            "count": quantity
        } + _scope(benefit)
    elif kind == "cheapest_percent":
        text = _("%(percent)d%% off the cheapest item") % {"percent": value} + _scope(benefit)
    elif kind == "gift":
        text = _("Gift: %(quantity)d × %(sku)s") % {
            "quantity": benefit.get("quantity", 1),
            "sku": benefit.get("sku", ""),
        }
    elif kind == "points_multiplier":
        text = _("%(multiplier)s× points") % {
            "multiplier": number_format(multiplier_number(value))
        } + _scope(benefit)
    elif kind == "free_shipping":
        text = _("Free shipping")
    else:
        text = str(kind)
    if benefit.get("max_discount"):
        text += _(", at most %(amount)s") % {"amount": yuan(benefit["max_discount"])}
    return text


def describe_condition(
    condition: dict[str, Any],
    zone: ZoneInfo,
    *,
    members_only: bool = False,
    names: dict[str, dict[str, str]] | None = None,
) -> str:
    """`names` (section -> code -> name: tiers, stores, categories) shows names, not codes."""
    names = names or {}

    def named(section: str) -> str:
        found = names.get(section, {})
        return _listed([found.get(code, code) for code in condition[section]])

    parts = []
    if members_only:
        parts.append(_("members only"))
    if condition.get("min_amount"):
        parts.append(_("spend at least %(amount)s") % {"amount": yuan(condition["min_amount"])})
    if condition.get("min_quantity"):
        count = condition["min_quantity"]
        parts.append(
            ngettext("at least %(count)d item", "at least %(count)d items", count)
            % {"count": count}
        )
    if condition.get("skus"):
        parts.append(_("with SKUs %(skus)s") % {"skus": named("skus")})
    if condition.get("categories"):
        parts.append(_("with categories %(names)s") % {"names": named("categories")})
    if condition.get("tiers"):
        parts.append(_("tiers %(tiers)s") % {"tiers": named("tiers")})
    if condition.get("weekdays"):
        days = [str(WEEKDAYS[day - 1]) for day in condition["weekdays"]]
        parts.append(_("on %(days)s") % {"days": _listed(days)})
    if condition.get("stores"):
        parts.append(_("at stores %(stores)s") % {"stores": named("stores")})
    if condition.get("starts_at"):
        parts.append(_("from %(moment)s") % {"moment": _moment(condition["starts_at"], zone)})
    if condition.get("ends_at"):
        parts.append(_("until %(moment)s") % {"moment": _moment(condition["ends_at"], zone)})
    if condition.get("first_purchase"):
        parts.append(_("first purchase only"))
    return "; ".join(parts) if parts else _("Every sale")


def describe_validity(template: CouponTemplate, zone: ZoneInfo) -> str:
    if template.valid_days is not None:
        return ngettext(
            "%(days)d day after issue", "%(days)d days after issue", template.valid_days
        ) % {"days": template.valid_days}
    return _("%(start)s to %(end)s") % {
        "start": template.valid_from.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "end": template.valid_until.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
    }


def describe_upgrade(upgrade_when: dict[str, int]) -> str:
    """Tier thresholds; any one of them is enough."""
    labels = {
        "spend_12m": _("spend %(amount)s in 12 months"),
        "spend_total": _("spend %(amount)s in all"),
        "single_topup": _("top up %(amount)s at once"),
        "single_sale": _("spend %(amount)s in one purchase"),
        "points_12m": _("earn %(points)s points in 12 months"),
        "points_total": _("earn %(points)s points in all"),
    }
    parts = []
    for key, label in labels.items():
        if key in upgrade_when:
            number = upgrade_when[key]
            parts.append(label % {"amount": yuan(number), "points": f"{number:,}"})
    return _(" or ").join(parts)
