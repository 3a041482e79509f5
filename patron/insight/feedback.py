"""Member events and the follow-ups complaints open (F-32): services and selectors.

People record what a member said or did (a cancellation, a return, a complaint, a review, a
suggestion, a referral); refunds and registrations with a referrer record theirs by
themselves (`on_activity`, `on_registration`). A complaint opens a follow-up task in the same
transaction: someone must call the member back by a date and write down what came of it.
Every write is audited. docs/member-events.md tells the rules and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from patron.insight.models import FollowUpTask, MemberEvent
from patron.members import hooks
from patron.sales.models import Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role, Staff, Store
from patron.tenancy.permissions import merchant_zone
from patron.tenancy.selectors import scoped
from patron.tenancy.services import audit

if TYPE_CHECKING:
    from patron.members.models import Member

User = get_user_model()
Kind = MemberEvent.Kind
Status = FollowUpTask.Status

# Two days to call a complaining member back: soon enough that they still remember, long
# enough for a store that is closed one day. `due_in_days` changes it per complaint.
DEFAULT_DUE_DAYS = 2
MAX_DUE_DAYS = 90
MAX_TEXT = 2000
# Kinds whose details say what happened: an empty complaint cannot be followed up.
NEEDS_BODY = {Kind.COMPLAINT, Kind.SUGGESTION}
# Who closes or hands over anyone's task (an assignee always closes their own).
TASK_MANAGERS = (Role.HQ_ADMIN, Role.STORE_MANAGER)


@dataclass(frozen=True)
class EventInput:
    kind: str
    body: str = ""
    rating: int | None = None
    store: str | Store | None = None  # a store code; default the actor's, else the member's
    sale_id: int | None = None
    occurred_at: dt.datetime | str | None = None  # default now
    assignee: int | None = None  # a user id, for a complaint's task
    due_in_days: int | None = None  # for a complaint's task


# --- reading the input ----------------------------------------------------------------------


def _clean_kind(kind: Any, errors: list[FieldError]) -> str:
    if kind not in Kind.values:
        errors.append(FieldError("kind", _("Unknown kind of event.")))
        return ""
    return kind


def _clean_rating(kind: str, rating: Any, errors: list[FieldError]) -> int | None:
    if kind == Kind.REVIEW:
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            errors.append(FieldError("rating", _("A review needs a rating from 1 to 5.")))
            return None
        return rating
    if rating is not None:
        errors.append(FieldError("rating", _("Only a review carries a rating.")))
    return None


def _clean_body(kind: str, body: Any, errors: list[FieldError]) -> str:
    text = (body or "").strip() if isinstance(body, str) or body is None else None
    if text is None or len(text) > MAX_TEXT:
        errors.append(FieldError("body", _("At most %d characters.") % MAX_TEXT))
        return ""
    if kind in NEEDS_BODY and not text:
        errors.append(FieldError("body", _("Say what the member said.")))
    return text


def _clean_time(raw: Any, now: dt.datetime, errors: list[FieldError]) -> dt.datetime:
    if raw in (None, ""):
        return now
    when = raw if isinstance(raw, dt.datetime) else None
    if isinstance(raw, str):
        try:
            when = parse_datetime(raw)
        except ValueError:
            when = None
    if when is None:
        errors.append(FieldError("occurred_at", _("Give a date and time.")))
        return now
    if timezone.is_naive(when):
        errors.append(FieldError("occurred_at", _("Give the time with its time zone.")))
        return now
    if when > now:
        errors.append(FieldError("occurred_at", _("The time cannot be in the future.")))
    return when


def _clean_store(actor: Actor, member: Member, raw: Any, errors: list[FieldError]) -> Store | None:
    bound = actor.store_bound
    if raw in (None, ""):
        return bound or actor.store or member.store
    if isinstance(raw, Store):
        store = raw if raw.merchant_id == actor.merchant.pk else None
    elif isinstance(raw, str) and len(raw) <= 32 and "\x00" not in raw:
        store = Store.objects.filter(merchant=actor.merchant, code=raw).first()
    else:
        store = None
    if store is None:
        errors.append(FieldError("store", _("Unknown store.")))
    elif bound is not None and store.pk != bound.pk:
        errors.append(FieldError("store", _("You can only record events at your own store.")))
        return None
    return store


def _clean_sale(member: Member, sale_id: Any, errors: list[FieldError]) -> Sale | None:
    if sale_id in (None, ""):
        return None
    if isinstance(sale_id, bool) or not isinstance(sale_id, int):
        errors.append(FieldError("sale_id", _("Unknown sale of this member.")))
        return None
    sale = Sale.objects.filter(pk=sale_id, merchant_id=member.merchant_id, member=member).first()
    if sale is None:
        errors.append(FieldError("sale_id", _("Unknown sale of this member.")))
    return sale


def _clean_due(raw: Any, errors: list[FieldError]) -> int:
    if raw in (None, ""):
        return DEFAULT_DUE_DAYS
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DUE_DAYS:
        errors.append(
            FieldError("due_in_days", _("A whole number of days from 0 to %d.") % MAX_DUE_DAYS)
        )
        return DEFAULT_DUE_DAYS
    return raw


# --- who follows up -------------------------------------------------------------------------


def assignable_staff(merchant_id: int, store: Store | None) -> QuerySet[Staff]:
    """Who may follow up a complaint at `store`: its own staff and the chain-wide roles."""
    staff = Staff.objects.filter(merchant_id=merchant_id, is_active=True, user__is_active=True)
    chain_wide = Q(role__in=[Role.HQ_ADMIN, Role.MARKETER])
    if store is not None:
        staff = staff.filter(chain_wide | Q(store=store))
    else:
        staff = staff.filter(chain_wide)
    return staff.select_related("user", "store").order_by("role", "user__username")


def default_assignee(merchant_id: int, store: Store | None) -> Any:
    """The store's manager, else an HQ admin (the one added first), else nobody."""
    staff = Staff.objects.filter(merchant_id=merchant_id, is_active=True, user__is_active=True)
    if store is not None:
        manager = staff.filter(role=Role.STORE_MANAGER, store=store).order_by("pk").first()
        if manager is not None:
            return manager.user
    hq = staff.filter(role=Role.HQ_ADMIN).order_by("pk").first()
    return hq.user if hq is not None else None


def _chosen_assignee(
    merchant_id: int, store: Store | None, user_id: Any, errors: list[FieldError]
) -> Any:
    if user_id in (None, ""):
        return None
    found = None
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        found = assignable_staff(merchant_id, store).filter(user_id=user_id).first()
    if found is None:
        errors.append(FieldError("assignee", _("Choose someone of this store or HQ.")))
        return None
    return found.user


def local_today(actor: Actor, now: dt.datetime | None = None) -> dt.date:
    zone = merchant_zone(actor.merchant.timezone)
    return timezone.localtime(now or timezone.now(), zone).date()


# --- writes ---------------------------------------------------------------------------------


def record_event(
    actor: Actor, member: Member, data: EventInput, *, source: str = ""
) -> MemberEvent:
    """Record one event of `member` (whom the caller already found within the actor's scope);
    a complaint opens its follow-up task in the same transaction. Raises with every error."""
    now = timezone.now()
    errors: list[FieldError] = []
    kind = _clean_kind(data.kind, errors)
    rating = _clean_rating(kind, data.rating, errors)
    body = _clean_body(kind, data.body, errors)
    occurred_at = _clean_time(data.occurred_at, now, errors)
    store = _clean_store(actor, member, data.store, errors)
    sale = _clean_sale(member, data.sale_id, errors)
    assignee = due_days = None
    if kind == Kind.COMPLAINT:
        assignee = _chosen_assignee(actor.merchant.pk, store, data.assignee, errors)
        due_days = _clean_due(data.due_in_days, errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        event = MemberEvent.objects.create(
            member=member,
            merchant=actor.merchant,
            kind=kind,
            store=store,
            sale=sale,
            rating=rating,
            body=body,
            occurred_at=occurred_at,
            recorded_by=actor.user,
            source=source,
        )
        audit(actor, AuditEntry.Action.CREATE, event, _event_changes(event), label=member.card_no)
        if kind == Kind.COMPLAINT:
            _open_task(actor, event, assignee, due_days or 0, now)
        elif kind == Kind.REVIEW:  # the apps above may reward it (points for actions, F-16)
            hooks.member_activity(actor, member, "review", {"event": event})
    return event


def _event_changes(event: MemberEvent) -> dict[str, list[Any]]:
    shown = {"kind": event.kind, "member": event.member.card_no, "store_id": event.store_id}
    if event.rating is not None:
        shown["rating"] = event.rating
    if event.sale_id is not None:
        shown["sale"] = event.sale_id
    return {key: [None, value] for key, value in shown.items()}


def _open_task(
    actor: Actor, event: MemberEvent, assignee: Any, due_days: int, now: dt.datetime
) -> FollowUpTask:
    if assignee is None:
        assignee = default_assignee(actor.merchant.pk, event.store)
    task = FollowUpTask.objects.create(
        event=event,
        merchant=actor.merchant,
        store=event.store,
        assignee=assignee,
        due_on=local_today(actor, now) + dt.timedelta(days=due_days),
        status=Status.OPEN,
    )
    audit(
        actor,
        AuditEntry.Action.CREATE,
        task,
        {
            "assignee": [None, assignee.get_username() if assignee else None],
            "due_on": [None, task.due_on],
        },
        label=event.member.card_no,
    )
    return task


def may_manage(actor: Actor, task: FollowUpTask) -> bool:
    """HQ (and API keys, which act for the whole merchant), or the manager of the task's
    store."""
    if actor.is_hq_admin:
        return True
    return (
        actor.role == Role.STORE_MANAGER
        and actor.store_bound is not None
        and (task.store_id == actor.store_bound.pk)
    )


def may_close(actor: Actor, task: FollowUpTask) -> bool:
    mine = actor.user is not None and task.assignee_id == actor.user.pk
    return mine or may_manage(actor, task)


def close_task(actor: Actor, task: FollowUpTask, outcome: Any) -> FollowUpTask:
    """Close a follow-up with what came of it: by its assignee, the store's manager or HQ."""
    if not may_close(actor, task):
        raise PermissionDenied(_("Only the assignee, the store's manager or HQ can close it."))
    text = outcome.strip() if isinstance(outcome, str) else ""
    if not text or len(text) > MAX_TEXT:
        raise ValidationFailed(
            [FieldError("outcome", _("Say what came of it (1 to %d characters).") % MAX_TEXT)]
        )
    with transaction.atomic():
        task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
        if task.status == Status.DONE:
            raise ValidationFailed([FieldError("outcome", _("This follow-up is closed already."))])
        task.status, task.outcome = Status.DONE, text
        task.closed_at, task.closed_by = timezone.now(), actor.user
        task.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            task,
            {"status": [Status.OPEN, Status.DONE], "outcome": [None, text]},
            label=task.event.member.card_no,
        )
    return task


def reassign_task(actor: Actor, task: FollowUpTask, user_id: Any) -> FollowUpTask:
    """Hand an open follow-up to someone else of its store or HQ (managers and HQ only)."""
    if not may_manage(actor, task):
        raise PermissionDenied(_("Only the store's manager or HQ can hand it over."))
    errors: list[FieldError] = []
    if task.status != Status.OPEN:
        errors.append(FieldError("assignee", _("This follow-up is closed already.")))
    user = _chosen_assignee(actor.merchant.pk, task.store, user_id, errors)
    if user is None and not errors:
        errors.append(FieldError("assignee", _("Choose someone of this store or HQ.")))
    if errors:
        raise ValidationFailed(errors)
    before = task.assignee.get_username() if task.assignee else None
    with transaction.atomic():
        FollowUpTask.objects.filter(pk=task.pk).update(assignee=user)
        task.assignee = user
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            task,
            {"assignee": [before, user.get_username()]},
            label=task.event.member.card_no,
        )
    return task


# --- recorded by themselves -----------------------------------------------------------------


def on_activity(actor: Actor, member: Member, kind: str, detail: Mapping[str, Any]) -> None:
    """A refund of a member's sale is a return on their timeline (one per refund: a replayed
    refund records nothing more)."""
    if kind != "refund" or detail.get("refund") is None:
        return
    refund = detail["refund"]
    source = f"refund:{refund.pk}"
    if MemberEvent.objects.filter(merchant_id=member.merchant_id, source=source).exists():
        return
    sale = detail.get("sale") or refund.sale
    _record_quietly(
        actor,
        member,
        MemberEvent.Kind.RETURN,
        source,
        store=refund.store or sale.store,
        sale=sale,
        body=refund.reason or "",
    )


def on_registration(actor: Actor, member: Member, data: Mapping[str, Any]) -> None:
    """A member who joined with a referral code is a referral on the REFERRER's timeline."""
    if member.referred_by_id is None:
        return
    source = f"referral:{member.pk}"
    if MemberEvent.objects.filter(merchant_id=member.merchant_id, source=source).exists():
        return
    _record_quietly(
        actor,
        member.referred_by,
        MemberEvent.Kind.REFERRAL,
        source,
        store=member.store,
        sale=None,
        body=_("Referred %(name)s (card %(card)s)")
        % {"name": member.name or member.card_no, "card": member.card_no},
    )


def _record_quietly(
    actor: Actor,
    member: Member,
    kind: str,
    source: str,
    *,
    store: Store | None,
    sale: Sale | None,
    body: str,
) -> None:
    """An event the system records from another write (in that write's transaction): audited
    like one recorded by hand, with nothing to validate."""
    event = MemberEvent.objects.create(
        member=member,
        merchant_id=member.merchant_id,
        kind=kind,
        store=store,
        sale=sale,
        body=body[:MAX_TEXT],
        occurred_at=timezone.now(),
        recorded_by=actor.user,
        source=source,
    )
    audit(actor, AuditEntry.Action.CREATE, event, _event_changes(event), label=member.card_no)


# --- reads ----------------------------------------------------------------------------------


def events_for(actor: Actor) -> QuerySet[MemberEvent]:
    """The events of the members the actor sees (a store's staff: their store's members)."""
    return scoped(MemberEvent.objects.all(), actor, store_field="member__store").select_related(
        "member", "store", "recorded_by", "task", "task__assignee"
    )


def member_events(actor: Actor, member: Member) -> QuerySet[MemberEvent]:
    return events_for(actor).filter(member=member)


def tasks_for(actor: Actor) -> QuerySet[FollowUpTask]:
    """Follow-ups the actor sees: HQ and chain-wide roles all, a store's staff their store's
    and their own."""
    tasks = FollowUpTask.objects.filter(merchant=actor.merchant)
    bound = actor.store_bound
    if bound is not None:
        mine = Q(assignee=actor.user) if actor.user is not None else Q(pk__in=[])
        tasks = tasks.filter(Q(store=bound) | mine)
    return tasks.select_related("event", "event__member", "store", "assignee", "closed_by")


def task_for(actor: Actor, task_id: Any) -> FollowUpTask:
    try:
        task_id = int(task_id)
    except (TypeError, ValueError):
        raise NotFound(_("Follow-up not found")) from None
    task = tasks_for(actor).filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("Follow-up not found"))
    return task


def is_overdue(task: FollowUpTask, today: dt.date) -> bool:
    return task.status == Status.OPEN and task.due_on < today
