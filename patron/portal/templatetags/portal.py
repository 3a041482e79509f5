"""Template helpers of the member pages: `{% load portal %}`."""

from __future__ import annotations

from django import template

from patron.portal.history_selectors import unread_total
from patron.promotions.codes import display_code

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    """Unread inbox messages of the logged-in member (0 when nobody is logged in): one COUNT.

    Owner: the history part (reads the campaigns inbox)."""
    member = context.get("member")
    if member is None or not getattr(member, "pk", None):
        return 0
    return unread_total(member)


@register.filter
def coupon_code(code: str) -> str:
    """A coupon's code grouped as the card page shows it (7KQ2-M9XR-T4HD)."""
    return display_code(code or "")
