"""Small template helpers for the console layout."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Line icons drawn on a 24x24 grid, inline so they need no icon font and no extra request.
ICONS = {
    "home": '<path d="M3 11l9-8 9 8"/><path d="M5 10v10h5v-6h4v6h5V10"/>',
    "members": (
        '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c.8-3.6 3.4-5.5 6.5-5.5s5.7 1.9 6.5 5.5"/>'
        '<path d="M16 4.6a3.5 3.5 0 0 1 0 6.8"/><path d="M18 14.8c1.9.7 3.1 2.4 3.5 5.2"/>'
    ),
    "import": '<path d="M12 15V3"/><path d="M7 8l5-5 5 5"/><path d="M4 15v5h16v-5"/>',
    "stores": (
        '<path d="M3 9l1.5-5h15L21 9"/><path d="M3 9a3 3 0 0 0 6 0 3 3 0 0 0 6 0 3 3 0 0 0 6 0"/>'
        '<path d="M5 11v9h14v-9"/><path d="M10 20v-5h4v5"/>'
    ),
    "staff": (
        '<rect x="4" y="3" width="16" height="18" rx="2"/><circle cx="12" cy="10" r="3"/>'
        '<path d="M8 17c.8-1.8 2.2-2.7 4-2.7s3.2.9 4 2.7"/>'
    ),
    "key": '<circle cx="8" cy="15" r="4"/><path d="M11 12l9-9"/><path d="M17 6l3 3"/>'
    '<path d="M14.5 8.5l2 2"/>',
    "audit": (
        '<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 4V3h6v1"/>'
        '<path d="M9 10h6"/><path d="M9 14h6"/><path d="M9 18h3"/>'
    ),
    "wallet": '<rect x="3" y="6" width="18" height="14" rx="2"/><path d="M3 10h18"/>'
    '<path d="M16 15h2"/>',
    "cashier": '<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8"/>'
    '<path d="M12 16v4"/>',
    "campaigns": '<path d="M3 10v4h4l8 5V5l-8 5H3z"/><path d="M18.5 9a3.5 3.5 0 0 1 0 6"/>',
    "reports": '<path d="M4 20V11"/><path d="M10 20V5"/><path d="M16 20v-7"/><path d="M2 20h20"/>',
    # A price tag: the product catalogue.
    "products": '<path d="M3 12V4h8l10 10-8 8z"/><circle cx="7.5" cy="8.5" r="1.5"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="M20 20l-4-4"/>',
    "lock": '<rect x="4" y="10" width="16" height="11" rx="2"/><path d="M8 10V7a4 4 0 0 1 8 0v3"/>',
    "topup": '<rect x="3" y="6" width="18" height="14" rx="2"/><path d="M3 10h18"/>'
    '<path d="M12 13v5"/><path d="M9.5 15.5h5"/>',
    "liabilities": '<path d="M12 3v18"/><path d="M5 7h14"/><path d="M5 7l-3 7a3 3 0 0 0 6 0z"/>'
    '<path d="M19 7l-3 7a3 3 0 0 0 6 0z"/><path d="M8 21h8"/>',
    # A card with a magnetic stripe: membership cards and card products.
    "card": '<rect x="2.5" y="5" width="19" height="14" rx="2"/><path d="M2.5 9.5h19"/>'
    '<path d="M6 15h4"/>',
    # Three rising steps: tiers members climb.
    "tiers": '<path d="M3 20h18"/><path d="M4 20v-5h5v5"/><path d="M9.5 20V10h5v10"/>'
    '<path d="M15 20V4h5v16"/>',
    # A crown: a paid membership (SVIP).
    "crown": '<path d="M3 8l4.5 4L12 5l4.5 7L21 8l-2 11H5z"/>',
    # An office building: agreement units (协议单位).
    "units": '<rect x="5" y="3" width="14" height="18" rx="1"/><path d="M9 7h2"/>'
    '<path d="M13 7h2"/><path d="M9 11h2"/><path d="M13 11h2"/><path d="M10 21v-4h4v4"/>',
    # Funnel: segments.
    "segments": '<path d="M3 4h18l-7 8v6l-4 2v-8z"/>',
    # A 3x3 grid of cells: the RFM heat map.
    "grid": '<rect x="3" y="3" width="18" height="18" rx="1"/>'
    '<path d="M9 3v18M15 3v18M3 9h18M3 15h18"/>',
    # A rising line with a dot: predicted value.
    "value": '<path d="M3 17l6-6 4 4 8-8"/><path d="M15 7h6v6"/>',
    # A calendar with a tick: due to buy again.
    "due": '<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>'
    '<path d="M9 15l2 2 4-4"/>',
    # A speech bubble: feedback and follow-ups.
    "feedback": '<path d="M4 5h16v11H9l-5 4z"/><path d="M8 9h8M8 12h5"/>',
    # A ticket with a perforation: promotions and coupons.
    "promotions": (
        '<path d="M3 7a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v3a2 2 0 0 0 0 4v3a2 2 0 0 1-2 2H5'
        'a2 2 0 0 1-2-2v-3a2 2 0 0 0 0-4z"/><path d="M14 5v2"/><path d="M14 11v2"/>'
        '<path d="M14 17v2"/>'
    ),
}


@register.simple_tag
def icon(name: str, css_class: str = "icon") -> SafeString:
    return format_html(
        '<svg class="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" '
        'aria-hidden="true">{}</svg>',
        css_class,
        mark_safe(ICONS[name]),  # constant markup defined above, never user input
    )


@register.simple_tag(takes_context=True)
def nav_class(context: template.Context, prefix: str, exact: bool = False) -> str:
    """'active' when the current page lives under `prefix` (or is exactly it)."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    if exact:
        return "active" if path == prefix else ""
    # The import pages sit under /members/ but have their own entry in the navigation.
    if prefix == "/members/" and path.startswith("/members/import/"):
        return ""
    return "active" if path.startswith(prefix) else ""


@register.filter
def person(user) -> str:
    """A user's full name, else their user name; a dash when there is nobody."""
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()
