"""/m/history: sales with their receipts, top-ups, points movements in words (issue 18 §4).

Owner: the history part."""

from django.http import Http404, HttpRequest, HttpResponse

from patron.portal.session import member_page


@member_page
def history(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def receipt(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
