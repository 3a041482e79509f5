"""`{% load paging %}`: links to a keyset page's neighbours that keep the list's filters."""

from __future__ import annotations

from django import template
from django.http import QueryDict

register = template.Library()


@register.simple_tag(takes_context=True)
def cursor_query(context: template.Context, cursor: str, param: str = "cursor") -> str:
    """The current query string with `param` set to `cursor` (and any old `page` number
    dropped: the cursor says where the page starts)."""
    request = context.get("request")
    query: QueryDict = request.GET.copy() if request is not None else QueryDict(mutable=True)
    query.pop("page", None)
    query[param] = cursor
    return "?" + query.urlencode()
