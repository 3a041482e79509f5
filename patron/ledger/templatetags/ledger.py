"""Money and points as the console shows them: integer fen become ¥1,234.50, never via floats."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Line icons in the style of `console.icon` (24x24 grid), for the ledger's own menu entries.
ICONS = {
    "topup": '<rect x="3" y="6" width="18" height="14" rx="2"/><path d="M3 10h18"/>'
    '<path d="M12 13v5"/><path d="M9.5 15.5h5"/>',
    "liabilities": '<path d="M12 3v18"/><path d="M5 7h14"/><path d="M5 7l-3 7a3 3 0 0 0 6 0z"/>'
    '<path d="M19 7l-3 7a3 3 0 0 0 6 0z"/><path d="M8 21h8"/>',
}


def as_int(value: Any) -> int | None:
    """An integer amount, or None for anything that is not one (shown as a dash)."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def format_fen(fen: int, sign: str = "") -> str:
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


@register.filter
def yuan(value: Any) -> str:
    """12345 (fen) -> '¥123.45'; negative amounts keep their sign: '-¥3.00'."""
    fen = as_int(value)
    if fen is None:
        return "—"
    return format_fen(fen, "-" if fen < 0 else "")


@register.filter
def signed_yuan(value: Any) -> str:
    """A movement: '+¥100.00' in, '-¥3.00' out."""
    fen = as_int(value)
    if fen is None:
        return "—"
    return format_fen(fen, "-" if fen < 0 else "+")


@register.filter
def yuan_plain(value: Any) -> str:
    """12345 -> '123.45' (for inputs: what the form accepts back)."""
    fen = as_int(value)
    if fen is None:
        return ""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


@register.filter
def points(value: Any) -> str:
    number = as_int(value)
    return "—" if number is None else f"{number:,}"


@register.filter
def signed_points(value: Any) -> str:
    number = as_int(value)
    return "—" if number is None else f"{number:+,}"


@register.filter
def amount_for(value: Any, asset: str) -> str:
    """A signed ledger amount in its asset's unit: points as a count, stored value in yuan."""
    return signed_points(value) if asset == "points" else signed_yuan(value)


@register.simple_tag
def ledger_icon(name: str, css_class: str = "icon") -> SafeString:
    return format_html(
        '<svg class="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" '
        'aria-hidden="true">{}</svg>',
        css_class,
        mark_safe(ICONS[name]),  # constant markup defined above, never user input
    )


@register.inclusion_tag("ledger/_member_card.html", takes_context=True)
def member_value_card(context: template.Context, member) -> dict[str, Any]:
    """The 'Stored value & points' card of the member detail page."""
    from patron.ledger.selectors import member_balances

    return {
        "member": member,
        "balances": member_balances(member),
        "request": context.get("request"),
    }
