"""Console pages of member-only events: the list with places taken, waitlist and check-ins;
create and edit an event; its sign-ups (mobiles masked by role) with cancel; the door page
where staff scan or type a member's pass."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patron.activities import events_service as service
from patron.activities.event_forms import DoorForm, EventForm
from patron.activities.models import MemberOnlyEvent
from patron.core.errors import DomainError, NotFound
from patron.members.validation import mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.permissions import require_role
from patron.tenancy.services import audit

may_see = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER, Role.CASHIER)
may_edit = require_role(Role.HQ_ADMIN, Role.MARKETER)
may_cancel = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
EDITORS = (Role.HQ_ADMIN, Role.MARKETER)


def event_or_404(actor: Actor, code: str) -> MemberOnlyEvent:
    try:
        return service.event_for(actor, code)
    except NotFound:
        raise Http404(_("Event not found")) from None


@may_see
def event_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    context = {"events": list(service.events_for(actor)), "may_edit": actor.role in EDITORS}
    return render(request, "activities/events/list.html", context)


def _save(request: HttpRequest, event: MemberOnlyEvent | None) -> HttpResponse:
    actor: Actor = request.actor
    form = EventForm(request.POST or None, actor=actor, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            if event is None:
                saved = service.create_event(actor, form.cleaned_data["code"], form.service_input())
                messages.success(request, _("Event %(name)s added.") % {"name": saved.name})
            else:
                saved = service.update_event(actor, event, form.service_input())
                messages.success(request, _("Event %(name)s saved.") % {"name": saved.name})
        except DomainError as problem:
            form.errors_by_code = {"duplicate_code": "code"}
            form.add_service_errors(problem)
        else:
            return redirect("event:detail", code=saved.code)
    return render(request, "activities/events/form.html", {"form": form, "event": event})


@may_edit
def event_add(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@may_edit
def event_edit(request: HttpRequest, code: str) -> HttpResponse:
    return _save(request, event_or_404(request.actor, code))


@may_see
def event_detail(request: HttpRequest, code: str) -> HttpResponse:
    actor: Actor = request.actor
    event = event_or_404(actor, code)
    shown = actor.sees_personal_data
    signups = list(service.signups_of(event))
    waiting = [s.pk for s in signups if s.status == "waitlisted"]
    rows = [
        (
            signup,
            signup.member.mobile if shown else mask_mobile(signup.member.mobile),
            waiting.index(signup.pk) + 1 if signup.pk in waiting else None,
        )
        for signup in signups
    ]
    if shown and rows and actor.staff is not None:
        # Full mobiles on screen are personal data seen (F-45): the audit log says who saw them.
        audit(actor, AuditEntry.Action.VIEW, event, label=event.name)
    context = {
        "event": event,
        "rows": rows,
        "may_edit": actor.role in EDITORS,
        "may_cancel": actor.role in (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER),
    }
    return render(request, "activities/events/detail.html", context)


@may_cancel
@require_POST
def cancel(request: HttpRequest, code: str, signup_id: int) -> HttpResponse:
    actor: Actor = request.actor
    event = event_or_404(actor, code)
    try:
        signup = service.signup_for(event, signup_id)
        promoted = service.cancel(actor, signup)
    except NotFound:
        raise Http404(_("Sign-up not found")) from None
    except DomainError as problem:
        messages.error(request, str(problem.detail))
    else:
        messages.success(request, _("Sign-up cancelled."))
        if promoted is not None:
            messages.info(
                request,
                _("%(name)s moved up from the waitlist and was told.")
                % {"name": promoted.member.name or _("A member")},
            )
    return redirect("event:detail", code=event.code)


@may_see
def door(request: HttpRequest, code: str) -> HttpResponse:
    actor: Actor = request.actor
    event = event_or_404(actor, code)
    form = DoorForm(request.POST or None)
    checked = None
    if request.method == "POST" and form.is_valid():
        try:
            checked = service.check_in(actor, event, form.cleaned_data["token"])
        except DomainError as problem:
            form.add_error("token", str(problem.detail))
        else:
            form = DoorForm()  # ready for the next member
    event = event_or_404(actor, code)  # the counts after this check-in
    context = {
        "event": event,
        "form": form,
        "checked": checked,
        "checked_name": checked.member.name if checked else "",
        "checked_mobile": (
            (
                checked.member.mobile
                if actor.sees_personal_data
                else mask_mobile(checked.member.mobile)
            )
            if checked
            else ""
        ),
    }
    return render(request, "activities/events/door.html", context, status=200)
