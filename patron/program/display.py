"""A program revision's changes in words (the revision page, the audit log)."""

from __future__ import annotations

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
OPS = {"+": lambda: _("added"), "~": lambda: _("changed"), "-": lambda: _("ended")}


def section_name(name: str) -> str:
    return SECTION_NAMES[name]() if name in SECTION_NAMES else name


def shown_change(line: str) -> tuple[str, str, str, str]:
    """'~ promotions spring name: ...' -> (changed, Promotions, spring, name: ...)."""
    sign, _space, rest = line.partition(" ")
    section, _space, rest = rest.partition(" ")
    key, _space, detail = rest.partition(" ")
    return (OPS[sign]() if sign in OPS else sign, section_name(section), key, detail)


def change_in_words(line: str) -> str:
    """'~ promotions spring (paused)' -> 'changed Promotions spring (paused)', translated."""
    return " ".join(part for part in shown_change(line) if part)
