"""Template helpers of the member pages: `{% load portal %}`."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_count(context) -> int:
    """Unread inbox messages of the logged-in member (0 when nobody is logged in).

    Owner: the history part (reads the campaigns inbox)."""
    return 0
