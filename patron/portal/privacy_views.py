"""/m/privacy (F-45, PIPL): see my data, export it (JSON and xlsx), correct it, withdraw
consent, ask to delete my account. Owner: the privacy part; the work is in patron.portal.privacy."""

from django.http import Http404, HttpRequest, HttpResponse

from patron.portal.session import member_page


@member_page
def privacy(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def export_json(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def export_xlsx(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def correct(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def consent(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def delete(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
