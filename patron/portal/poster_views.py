"""Console: each store's printable join poster with its QR (segno) to /m/join?store=CODE (F-03).

HQ admins see every open store of the merchant (tenancy's scoped()); a store manager or cashier
only their own.
The QR holds the absolute join URL with the merchant, so a phone that never saw Patron lands
on the right merchant's join form.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe

from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.selectors import scoped

POSTER_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)


def poster_stores(actor: Actor):
    """The open stores the actor may print a poster for."""
    stores = scoped(Store.objects.filter(is_active=True), actor, store_field=None)
    bound = actor.store_bound
    if bound is not None:
        stores = stores.filter(pk=bound.pk)
    return stores.order_by("code")


def _store(actor: Actor, code: str) -> Store:
    store = poster_stores(actor).filter(code=code).first()
    if store is None:
        raise Http404
    return store


def join_url(request: HttpRequest, store: Store) -> str:
    query = urlencode({"store": store.code, "merchant": store.merchant.slug})
    return request.build_absolute_uri(f"{reverse('portal:join')}?{query}")


def qr_svg(url: str) -> str:
    """The QR of `url` as an SVG element sized by CSS (error correction M survives print wear)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        border=2,
        omitsize=True,
        svgclass="poster-qr",
        title=url,
    )
    return out.getvalue().decode()


@require_role(*POSTER_ROLES)
def posters(request: HttpRequest) -> HttpResponse:
    stores = list(poster_stores(request.actor))
    return render(request, "portal/console/posters.html", {"stores": stores})


@require_role(*POSTER_ROLES)
def poster(request: HttpRequest, code: str) -> HttpResponse:
    store = _store(request.actor, code)
    url = join_url(request, store)
    context = {
        "store": store,
        "merchant": store.merchant,
        "url": url,
        "qr": mark_safe(qr_svg(url)),  # segno's own markup; the URL inside is escaped by it
        "size": "a5" if request.GET.get("size") == "a5" else "a4",
    }
    return render(request, "portal/console/poster.html", context)


@require_role(*POSTER_ROLES)
def poster_qr(request: HttpRequest, code: str) -> HttpResponse:
    store = _store(request.actor, code)
    response = HttpResponse(qr_svg(join_url(request, store)), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="join-{store.code}.svg"'
    return response
