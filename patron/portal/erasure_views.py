"""Console: members' erasure (account deletion) requests; staff settle and complete them.

Owner: the privacy part."""

from django.http import Http404, HttpRequest, HttpResponse


def requests(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


def detail(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
