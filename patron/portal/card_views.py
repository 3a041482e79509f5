"""The member's card page /m/ (issue 18 §3): card face, rotating QR and barcode, tier and
progress, points with the next expiry, stored value (principal and bonus), coupons; report lost.

Owner: the card part. Reads through patron.portal.card_selectors."""

from django.http import Http404, HttpRequest, HttpResponse

from patron.portal.session import member_page


@member_page
def card(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def qr(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module


@member_page
def report_lost(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404  # built by the part that owns this module
