"""The member's card page /m/ (issue 18 §3): card face, rotating QR and barcode, tier and
progress, points with the next expiry, stored value (principal and bonus), coupons; report lost.

Owner: the card part. Reads through patron.portal.card_selectors."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from patron.cards import faces
from patron.cards import services as card_services
from patron.cards.models import CardStatus
from patron.core.errors import DomainError
from patron.portal import activity_selectors, card_selectors, codes, once
from patron.portal.session import member_actor, member_page

REASON_MAX = 200


@never_cache
@require_GET
@member_page
def card(request: HttpRequest) -> HttpResponse:
    member = request.member
    actor = member_actor(member, request)
    page = card_selectors.card_page(actor, member)
    context = {
        "merchant": request.merchant,
        "member": member,
        "tab": "card",
        "page": page,
        "codes": None if page.face.is_lost else codes.member_codes(actor, member),
        "activities": activity_selectors.offered(member),
    }
    return render(request, "portal/card.html", context)


@never_cache
@require_GET
@member_page
def qr(request: HttpRequest) -> HttpResponse:
    """Fresh codes for card.js, as JSON; nothing once the card is reported lost."""
    member = request.member
    if card_selectors.held_card(member).status == CardStatus.LOST:
        problem = {"code": "card_lost", "detail": _("Your card is reported lost.")}
        return JsonResponse(problem, status=409)
    return JsonResponse(codes.member_codes(member_actor(member, request), member).as_json())


@never_cache
@require_http_methods(["GET", "POST"])
@member_page
def report_lost(request: HttpRequest) -> HttpResponse:
    """A confirm page, then the card is frozen at once (cards.services.report_lost)."""
    member = request.member
    held = card_selectors.held_card(member)
    if held.status == CardStatus.LOST:
        return redirect("portal:card")
    error = ""
    if request.method == "POST":
        key = once.posted(request, "portal-lost")
        reason = (request.POST.get("reason") or "").strip()[:REASON_MAX]
        if not key:
            error = once.expired()
        else:
            try:
                card_services.report_lost(
                    member_actor(member, request),
                    held.card_no,
                    reason=reason or _("Reported by the member on the member pages"),
                    key=key,
                )
            except DomainError as problem:
                error = str(problem.detail)
            else:
                messages.success(
                    request,
                    _("Your card is reported lost and frozen. Go to a store to replace it."),
                )
                return redirect("portal:card")
    context = {
        "merchant": request.merchant,
        "member": member,
        "tab": "card",
        "card_no": card_selectors.card_face(member).number_spaced,
        "key": once.new_key(),
        "error": error,
    }
    return render(request, "portal/card_lost.html", context, status=422 if error else 200)


@require_GET
@member_page
def face_image(request: HttpRequest) -> HttpResponse:
    """The face image of the product of the card the member holds (none: 404)."""
    held = card_selectors.held_card(request.member)
    found = faces.path_of(held.product.face_image) if held.product_id else None
    if found is None:
        raise Http404
    path, content_type = found
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
