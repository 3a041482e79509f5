"""/m/events: member-only events on the member pages (issue 19 §6): the events the member may
join, sign up and cancel (plain POST forms), their status and place on the waitlist, and the
QR they show at the door.

Owner: the events part. Only the logged-in member's own sign-up is ever read or changed."""

from __future__ import annotations

import segno
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from patron.activities import events_service as service
from patron.activities.models import EventSignup, MemberOnlyEvent
from patron.core.errors import DomainError
from patron.portal.session import member_actor, member_page


def door_qr(token: str) -> str:
    """The door pass as an inline SVG QR (class "qr"), sized by CSS through its viewBox."""
    return segno.make(token, error="m").svg_inline(
        scale=1, border=2, svgclass="qr", lineclass=None, omitsize=True, title=_("Event pass QR")
    )


@member_page
def event_list(request: HttpRequest) -> HttpResponse:
    member = request.member
    mine = {
        s.event_id: s
        for s in EventSignup.objects.filter(
            member=member, status__in=service.LIVE, event__starts_at__gt=timezone.now()
        )
    }
    rows = [(event, mine.get(event.pk)) for event in service.open_events(member)]
    context = {"merchant": request.merchant, "member": member, "tab": "card", "rows": rows}
    return render(request, "portal/events.html", context)


def _event_or_404(request: HttpRequest, code: str) -> MemberOnlyEvent:
    event = (
        MemberOnlyEvent.objects.select_related("store")
        .filter(merchant=request.merchant, code=code)
        .first()
    )
    if event is None:
        raise Http404(_("Event not found"))
    return event


@member_page
def event_detail(request: HttpRequest, code: str) -> HttpResponse:
    event = _event_or_404(request, code)
    member = request.member
    signup = service.live_signup(event, member)
    if request.method == "POST":
        return _act(request, event, signup)
    if signup is None and not service.may_join(event, member):
        raise Http404(_("Event not found"))
    holds_place = signup is not None and signup.status == EventSignup.Status.CONFIRMED
    token = service.door_token(signup) if holds_place else ""
    confirmed = event.signups.filter(status=EventSignup.Status.CONFIRMED).count()
    context = {
        "merchant": request.merchant,
        "member": member,
        "tab": "card",
        "event": event,
        "signup": signup,
        "position": service.waitlist_position(signup) if signup else None,
        "places_left": max(event.capacity - confirmed, 0),
        "open": event.starts_at > timezone.now(),
        "qr": mark_safe(door_qr(token)) if token else None,  # segno's own markup
        "token": token,
    }
    return render(request, "portal/event_detail.html", context)


def _act(request: HttpRequest, event: MemberOnlyEvent, signup: EventSignup | None) -> HttpResponse:
    """Sign up or cancel, then back to the event's page (post/redirect/get)."""
    actor = member_actor(request.member, request)
    action = request.POST.get("action")
    try:
        if action == "signup":
            signup = service.sign_up(actor, event, request.member)
            if signup.status == EventSignup.Status.CONFIRMED:
                flash.success(request, _("You have a place. See you there!"))
            else:
                flash.info(
                    request,
                    _("The event is full: you are number %(n)s on the waitlist.")
                    % {"n": service.waitlist_position(signup)},
                )
        elif action == "cancel" and signup is not None:
            service.cancel(actor, signup)
            flash.success(request, _("Your sign-up is cancelled."))
        else:
            flash.error(request, _("Nothing to do: reload the page and try again."))
    except DomainError as problem:
        flash.error(request, str(problem.detail))
    return redirect("portal:event", code=event.code)
