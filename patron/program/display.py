"""A program revision's changes in words (the revision page, the audit log)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

SECTION_NAMES = {
    "stores": lambda: _("Stores"),
    "categories": lambda: _("Categories"),
    "tiers": lambda: _("Tiers"),
    "promotions": lambda: _("Promotions"),
    "coupon_templates": lambda: _("Coupon templates"),
    "points": lambda: _("Points"),
    "topup_bonus": lambda: _("Top-up bonus"),
    "stored_value": lambda: _("Stored value"),
    "checkout": lambda: _("Checkout"),
}
FIELD_NAMES = {
    "name": lambda: _("name"),
    "kind": lambda: _("how it applies"),
    "members_only": lambda: _("members only"),
    "condition": lambda: _("condition"),
    "benefit": lambda: _("benefit"),
    "stacking": lambda: _("stacking"),
    "priority": lambda: _("priority"),
    "starts_at": lambda: _("starts at"),
    "ends_at": lambda: _("ends at"),
    "valid_days": lambda: _("valid days"),
    "valid_from": lambda: _("valid from"),
    "valid_until": lambda: _("valid until"),
    "per_member_limit": lambda: _("per member limit"),
    "stock": lambda: _("stock"),
    "rank": lambda: _("rank"),
    "discount": lambda: _("member prices"),
    "points_multiplier_percent": lambda: _("points multiplier"),
    "upgrade_when": lambda: _("upgrade when"),
    "address": lambda: _("address"),
    "phone": lambda: _("phone"),
}
# "key: old -> new, key: old -> new" as the plans write a changed row (values are reprs, so a
# bare word before ": " is a key).
CHANGED_KEY = re.compile(r"(?:^|, )([a-z_]+): ")
OPS = {"+": lambda: _("added"), "~": lambda: _("changed"), "-": lambda: _("ended")}


def section_name(name: str) -> str:
    return SECTION_NAMES[name]() if name in SECTION_NAMES else name


def shown_change(line: str) -> tuple[str, str, str, str]:
    """'~ promotions spring name: ...' -> (changed, Promotions, spring, name: ...)."""
    sign, _space, rest = line.partition(" ")
    section, _space, rest = rest.partition(" ")
    key, _space, detail = rest.partition(" ")
    return (
        OPS[sign]() if sign in OPS else sign,
        section_name(section),
        key,
        detail_in_words(detail),
    )


def detail_in_words(detail: str) -> str:
    """A note such as "(paused)" as it is; changed fields by name (the diff shows values)."""
    if not detail or detail.startswith("(") or "->" not in detail:
        return detail
    keys = dict.fromkeys(CHANGED_KEY.findall(detail))
    if not keys:
        return ""
    names = [FIELD_NAMES[key]() if key in FIELD_NAMES else key for key in keys]
    return _("changed: %s") % "、".join(names)


def change_in_words(line: str) -> str:
    """'~ promotions spring (paused)' -> 'changed Promotions spring (paused)', translated."""
    return " ".join(part for part in shown_change(line) if part)
