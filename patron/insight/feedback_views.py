"""Console pages of member events and follow-ups (F-32): the event list, the 待回访 board, a
follow-up's page (close, hand over), recording an event from the member page, and the member
page's panel."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from patron.core.dates import end_of_day, start_of_day
from patron.core.errors import DomainError, NotFound
from patron.insight import feedback
from patron.insight.feedback_forms import CloseForm, EventFilterForm, EventForm, ReassignForm
from patron.insight.models import FollowUpTask, MemberEvent
from patron.members.models import Member
from patron.members.selectors import member_or_404, search_members
from patron.tenancy.actor import Actor
from patron.tenancy.permissions import console_view, merchant_zone

PAGE_SIZE = 50
# The member page holds other panels' forms: ids of its own so no label points elsewhere.
FORM_IDS = "event-%s"
PANEL_EVENTS = 5
# Which tasks a role looks at on the board: its own, its store's, or everyone's.
SCOPES = {
    "mine": gettext_lazy("Mine"),
    "store": gettext_lazy("My store"),
    "all": gettext_lazy("All stores"),
}


def scopes_for(actor: Actor) -> list[str]:
    return ["mine", "store"] if actor.store_bound is not None else ["mine", "all"]


# --- the event list --------------------------------------------------------------------------


def filtered_events(actor: Actor, criteria: dict) -> QuerySet[MemberEvent]:
    events = feedback.events_for(actor)
    zone = merchant_zone(actor.merchant.timezone)
    if "kind" in criteria:
        events = events.filter(kind=criteria["kind"])
    if "store" in criteria:
        events = events.filter(store__code=criteria["store"])
    if "since" in criteria:
        events = events.filter(occurred_at__gte=start_of_day(criteria["since"], zone))
    if "until" in criteria:
        events = events.filter(occurred_at__lte=end_of_day(criteria["until"], zone))
    if "q" in criteria:
        found = search_members(actor, criteria["q"]).values("pk")
        events = events.filter(member__in=found)
    return events


@console_view
def event_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    filters = EventFilterForm(request.GET or None, actor=actor)
    events = filtered_events(actor, filters.criteria())
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "today": feedback.local_today(actor),
        "open_tasks": feedback.tasks_for(actor).filter(status=FollowUpTask.Status.OPEN).count(),
    }
    return render(request, "insight/feedback/events.html", context)


# --- the follow-up board ---------------------------------------------------------------------


@console_view
def task_board(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    allowed = scopes_for(actor)
    scope = request.GET.get("scope", "")
    if scope not in allowed:
        scope = allowed[1]  # a store's staff see their store's, HQ everyone's
    done = request.GET.get("status") == "done"
    tasks = feedback.tasks_for(actor).filter(
        status=FollowUpTask.Status.DONE if done else FollowUpTask.Status.OPEN
    )
    if scope == "mine":
        tasks = tasks.filter(assignee=actor.user) if actor.user else tasks.none()
    elif scope == "store":
        tasks = tasks.filter(store=actor.store_bound)
    if done:
        tasks = tasks.order_by("-closed_at", "-pk")
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    today = feedback.local_today(actor)
    context = {
        "page": page,
        "rows": [(task, feedback.is_overdue(task, today)) for task in page],
        "scopes": [(name, SCOPES[name]) for name in allowed],
        "scope": scope,
        "done": done,
        "today": today,
    }
    return render(request, "insight/feedback/tasks.html", context)


def task_or_404(actor: Actor, pk: int) -> FollowUpTask:
    try:
        return feedback.task_for(actor, pk)
    except NotFound:
        raise Http404(_("Follow-up not found")) from None


def render_task(
    request: HttpRequest,
    task: FollowUpTask,
    close_form: CloseForm | None = None,
    reassign_form: ReassignForm | None = None,
) -> HttpResponse:
    actor: Actor = request.actor
    is_open = task.status == FollowUpTask.Status.OPEN
    may_close = is_open and feedback.may_close(actor, task)
    may_reassign = is_open and feedback.may_manage(actor, task)
    context = {
        "task": task,
        "event": task.event,
        "member": task.event.member,
        "overdue": feedback.is_overdue(task, feedback.local_today(actor)),
        "close_form": (close_form or CloseForm()) if may_close else None,
        "reassign_form": (reassign_form or ReassignForm(task=task)) if may_reassign else None,
    }
    return render(request, "insight/feedback/task.html", context)


@console_view
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_task(request, task_or_404(request.actor, pk))


@console_view
@require_POST
def task_close(request: HttpRequest, pk: int) -> HttpResponse:
    actor: Actor = request.actor
    task = task_or_404(actor, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            feedback.close_task(actor, task, form.cleaned_data["outcome"])
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("Follow-up closed."))
            return redirect("feedback:tasks")
    return render_task(request, task, close_form=form)


@console_view
@require_POST
def task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    actor: Actor = request.actor
    task = task_or_404(actor, pk)
    form = ReassignForm(request.POST, task=task)
    if form.is_valid():
        try:
            feedback.reassign_task(actor, task, form.cleaned_data["assignee"])
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("Follow-up handed over."))
            return redirect("feedback:task", pk=task.pk)
    return render_task(request, task, reassign_form=form)


# --- recording an event from the member page -------------------------------------------------


@console_view
def record_event(request: HttpRequest, pk: int) -> HttpResponse:
    """The member page's "记录事件" posts here; errors (and a plain GET) show the whole form."""
    actor: Actor = request.actor
    member = member_or_404(actor, pk)
    form = EventForm(request.POST or None, auto_id=FORM_IDS)
    if request.method == "POST" and form.is_valid():
        try:
            event = feedback.record_event(actor, member, form.service_data())
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, recorded_message(event))
            return redirect(reverse("members:detail", args=[member.pk]) + "#member-events")
    context = {"member": member, "form": form}
    return render(request, "insight/feedback/record.html", context)


def recorded_message(event: MemberEvent) -> str:
    task = getattr(event, "task", None)
    if task is None:
        return _("%(kind)s recorded.") % {"kind": event.get_kind_display()}
    who = task.assignee.get_full_name() or task.assignee.get_username() if task.assignee else "—"
    return _("Complaint recorded; a follow-up is due on %(day)s, assigned to %(who)s.") % {
        "day": task.due_on.isoformat(),
        "who": who,
    }


def member_events_panel(request: HttpRequest, member: Member) -> SafeString:
    actor: Actor = request.actor
    with timezone.override(merchant_zone(actor.merchant.timezone)):
        events = list(feedback.member_events(actor, member)[:PANEL_EVENTS])
        context = {
            "member": member,
            "events": events,
            "count": feedback.member_events(actor, member).count(),
            "form": EventForm(auto_id=FORM_IDS),
            "today": feedback.local_today(actor),
        }
        return render_to_string("insight/feedback/_member_panel.html", context, request=request)
