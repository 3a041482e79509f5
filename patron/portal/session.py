"""Who the member is on the member pages: Django's session, one member per merchant.

The session holds {merchant id: member id} under SESSION_KEY and the merchant chosen last under
MERCHANT_KEY, so a phone logged in at merchant A sees nothing of merchant B until it logs in
there too (API.md §10: `?merchant=SLUG`, kept in the session, may be left out when the
installation has one merchant). No member id ever appears in a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from patron.members.models import Member, MemberStatus
from patron.tenancy.actor import Actor
from patron.tenancy.middleware import client_ip
from patron.tenancy.models import Merchant
from patron.tenancy.permissions import merchant_zone

SESSION_KEY = "portal.members"
MERCHANT_KEY = "portal.merchant"
CHANNEL = "h5"  # the Actor channel and the member's source channel of the member pages

View = Callable[..., HttpResponse]


def merchant_for(request: HttpRequest) -> Merchant | None:
    """The merchant these pages serve: `?merchant=SLUG`, else the session's, else the only one."""
    slug = (request.GET.get("merchant") or "").strip()
    if slug:
        merchant = Merchant.objects.filter(slug=slug).first()
        if merchant is not None and hasattr(request, "session"):
            request.session[MERCHANT_KEY] = merchant.pk
        return merchant
    chosen = request.session.get(MERCHANT_KEY) if hasattr(request, "session") else None
    if chosen:
        merchant = Merchant.objects.filter(pk=chosen).first()
        if merchant is not None:
            return merchant
    only = list(Merchant.objects.order_by("pk")[:2])
    return only[0] if len(only) == 1 else None


def login_member(request: HttpRequest, member: Member) -> None:
    """Log `member` in for their merchant (a new session key: no fixation)."""
    members = dict(request.session.get(SESSION_KEY) or {})
    request.session.cycle_key()
    members[str(member.merchant_id)] = member.pk
    request.session[SESSION_KEY] = members
    request.session[MERCHANT_KEY] = member.merchant_id


def logout_member(request: HttpRequest, merchant: Merchant) -> None:
    members = dict(request.session.get(SESSION_KEY) or {})
    members.pop(str(merchant.pk), None)
    request.session[SESSION_KEY] = members


def current_member(request: HttpRequest, merchant: Merchant) -> Member | None:
    """The member logged in at `merchant`, or None (never one of another merchant).

    A closed member (card refunded and closed, or erased on request) is logged out."""
    member_id = (request.session.get(SESSION_KEY) or {}).get(str(merchant.pk))
    if not member_id:
        return None
    member = (
        Member.objects.filter(pk=member_id, merchant=merchant)
        .exclude(status=MemberStatus.CLOSED)
        .select_related("merchant", "tier", "store")
        .first()
    )
    if member is None:
        logout_member(request, merchant)
    return member


def member_actor(member: Member, request: HttpRequest | None = None) -> Actor:
    """The Actor of a member acting on their own data from the member pages (channel "h5").

    It has no staff: services see it as the system acting for the member, so a portal view must
    only ever pass the logged-in member's own objects to them."""
    return Actor(
        merchant=member.merchant, ip=client_ip(request) if request else None, channel=CHANNEL
    )


def login_url(merchant: Merchant | None, next_path: str = "") -> str:
    params = {}
    if merchant is not None:
        params["merchant"] = merchant.slug
    if next_path:
        params["next"] = next_path
    url = reverse("portal:login")
    return f"{url}?{urlencode(params)}" if params else url


def with_merchant(url: str, merchant: Merchant) -> str:
    """`url` carrying the merchant, for links that leave the session (posters, messages)."""
    return f"{url}{'&' if '?' in url else '?'}merchant={merchant.slug}"


def merchant_page(view: View) -> View:
    """A member page that needs the merchant but no login (join, log in, privacy notice).

    Sets request.merchant; an unknown or missing merchant gets a friendly 404 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        merchant = merchant_for(request)
        if merchant is None:
            return render(request, "portal/no_merchant.html", status=404)
        request.merchant = merchant
        with timezone.override(merchant_zone(merchant.timezone)):
            return view(request, *args, **kwargs)

    return wrapper


def member_page(view: View) -> View:
    """A member page behind login: request.merchant and request.member are set; an anonymous
    visitor is sent to /m/login (and back here after)."""

    @merchant_page
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        member = current_member(request, request.merchant)
        if member is None:
            return redirect(login_url(request.merchant, request.get_full_path()))
        request.member = member
        return view(request, *args, **kwargs)

    return wrapper
