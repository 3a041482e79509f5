"""Template helpers of the member pages: `{% load portal %}`."""

from __future__ import annotations

from django import template

from patron.portal.history_selectors import unread_total

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    """Unread inbox messages of the logged-in member (0 when nobody is logged in): one COUNT.

    Owner: the history part (reads the campaigns inbox)."""
    member = context.get("member")
    if member is None or not getattr(member, "pk", None):
        return 0
    return unread_total(member)
