"""Join (/m/join, F-03), log in by one-time SMS code (/m/login), log out, the privacy policy.

Owner: the auth part. Uses patron.portal.session (login_member, merchant_page) and
patron.portal.otp (codes, limits) and patron.portal.sms (backends)."""

from django.http import Http404, HttpRequest, HttpResponse


def join(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


def login(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


def login_code(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


def logout(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


def policy(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
