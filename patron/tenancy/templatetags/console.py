"""Small template helpers for the console layout."""

from __future__ import annotations

from django import template

register = template.Library()


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
