"""htmx helpers shared by every console page: fragments, and leaving a page from a fragment."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def wants_fragment(request: HttpRequest) -> bool:
    """htmx asks for a part of the page; a history restore needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def htmx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Leave the page. htmx (a fetch) would follow a plain 302 inside the swapped part, so a
    fragment request is told where to go with HX-Redirect; a plain request gets the 302."""
    if wants_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
