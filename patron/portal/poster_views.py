"""Console: each store's printable join poster with its QR (segno) to /m/join?store=CODE.

Owner: the auth part."""

from django.http import Http404, HttpRequest, HttpResponse


def posters(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


def poster(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


def poster_qr(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
