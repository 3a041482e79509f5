"""Member-only events (issue 19 §6, F-27): create and edit an event, sign up with a waitlist,
cancel (the first waitlisted moves up and is told), check in at the door with a signed token,
and the day-before reminder.

Every change of who holds a place locks the event's row first, so sign-ups and cancellations
of one event run one after the other: never more confirmed than the capacity, whatever the
concurrency, and the waitlist moves in the order members joined it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from patron.activities.models import EventSignup, MemberOnlyEvent
from patron.campaigns import notices
from patron.campaigns.templating import member_language
from patron.core.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from patron.members.models import Member, MemberStatus
from patron.promotions.models import Tier
from patron.promotions.selectors import member_tier_code
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Store
from patron.tenancy.permissions import merchant_zone
from patron.tenancy.services import audit

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
DOOR_SALT = "patron.activities.event-door"
REMINDER_HOUR = 10  # reminders go from 10:00 on the day before, in the merchant's zone
Status = EventSignup.Status
LIVE = (Status.CONFIRMED, Status.WAITLISTED)


# --- reading ---------------------------------------------------------------------------------


def events_for(actor: Actor) -> QuerySet[MemberOnlyEvent]:
    """The merchant's events with their counts (confirmed, waitlisted, checked_in)."""
    return (
        MemberOnlyEvent.objects.filter(merchant=actor.merchant)
        .select_related("store")
        .annotate(
            confirmed=Count("signups", filter=Q(signups__status=Status.CONFIRMED)),
            waitlisted=Count("signups", filter=Q(signups__status=Status.WAITLISTED)),
            checked_in=Count("signups", filter=Q(signups__checked_in_at__isnull=False)),
        )
    )


def event_for(actor: Actor, code: str) -> MemberOnlyEvent:
    event = events_for(actor).filter(code=code).first()
    if event is None:
        raise NotFound(_("Event not found"))
    return event


def signups_of(event: MemberOnlyEvent) -> QuerySet[EventSignup]:
    return event.signups.select_related("member").order_by("signed_up_at", "pk")


def live_signup(event: MemberOnlyEvent, member: Member) -> EventSignup | None:
    return event.signups.filter(member=member, status__in=LIVE).first()


def waitlist_position(signup: EventSignup) -> int | None:
    """1 for the first on the waitlist; None when not waitlisted."""
    if signup.status != Status.WAITLISTED:
        return None
    ahead = signup.event.signups.filter(status=Status.WAITLISTED).filter(
        Q(signed_up_at__lt=signup.signed_up_at)
        | Q(signed_up_at=signup.signed_up_at, pk__lt=signup.pk)
    )
    return ahead.count() + 1


def may_join(event: MemberOnlyEvent, member: Member) -> bool:
    return not event.tiers or member_tier_code(member) in event.tiers


def open_events(member: Member, now: dt.datetime | None = None) -> list[MemberOnlyEvent]:
    """Events not started yet that `member` may sign up for, soonest first."""
    now = now or timezone.now()
    upcoming = MemberOnlyEvent.objects.filter(merchant_id=member.merchant_id, starts_at__gt=now)
    return [event for event in upcoming.select_related("store") if may_join(event, member)]


# --- creating and editing --------------------------------------------------------------------


@dataclass
class EventInput:
    """An event as typed: the service checks everything and reports each error's field."""

    name: Any = None
    starts_at: Any = None
    place: Any = None
    capacity: Any = None
    ends_at: Any = None
    store: Any = None
    tiers: Any = None
    description: Any = None


def _when(value: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """A datetime or ISO text; naive ones are in the merchant's zone."""
    if isinstance(value, str):
        value = parse_datetime(value.strip())
    if not isinstance(value, dt.datetime):
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value, zone)


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _checked(actor: Actor, data: EventInput) -> tuple[dict[str, Any], list[FieldError]]:
    zone = merchant_zone(actor.merchant.timezone)
    errors: list[FieldError] = []
    fields: dict[str, Any] = {}
    name = str(data.name or "").strip()
    if not name or len(name) > 100:
        errors.append(FieldError("name", _("Give the event a name of up to 100 characters.")))
    place = str(data.place or "").strip()
    if not place or len(place) > 200:
        errors.append(FieldError("place", _("Say where it takes place (up to 200 characters).")))
    starts_at = _when(data.starts_at, zone)
    if starts_at is None:
        errors.append(FieldError("starts_at", _("Give the start as a date and time.")))
    ends_at = None
    if data.ends_at not in (None, ""):
        ends_at = _when(data.ends_at, zone)
        if ends_at is None:
            errors.append(FieldError("ends_at", _("Give the end as a date and time.")))
        elif starts_at is not None and ends_at <= starts_at:
            errors.append(FieldError("ends_at", _("The event must end after it starts.")))
    capacity = _whole(data.capacity)
    if capacity is None or capacity < 1 or capacity > 100_000:
        errors.append(
            FieldError("capacity", _("Capacity is a whole number of places, at least 1."))
        )
    store = None
    if data.store not in (None, ""):
        store = Store.objects.filter(merchant=actor.merchant, code=str(data.store)).first()
        if store is None:
            errors.append(FieldError("store", _("Unknown store “%s”.") % data.store))
    tiers = data.tiers or []
    if isinstance(tiers, str):
        tiers = [t.strip() for t in tiers.split(",") if t.strip()]
    if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
        errors.append(FieldError("tiers", _("List tier codes.")))
        tiers = []
    known = set(Tier.objects.filter(merchant=actor.merchant).values_list("code", flat=True))
    for index, code in enumerate(tiers):
        if code not in known:
            errors.append(FieldError(f"tiers.{index}", _("Unknown tier “%s”.") % code))
    fields.update(
        name=name,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        store=store,
        tiers=list(dict.fromkeys(tiers)),
        description=str(data.description or "").strip(),
    )
    return fields, errors


def create_event(actor: Actor, code: Any, data: EventInput) -> MemberOnlyEvent:
    fields, errors = _checked(actor, data)
    code = str(code or "").strip()
    if not CODE.match(code):
        errors.insert(0, FieldError("code", _("A code of letters, digits, - and _ (up to 32).")))
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            event = MemberOnlyEvent.objects.create(merchant=actor.merchant, code=code, **fields)
            audit(actor, AuditEntry.Action.CREATE, event, label=event.name)
    except IntegrityError:
        raise Conflict(
            _("An event with code %s exists already.") % code, "duplicate_code"
        ) from None
    return event_for(actor, code)


def update_event(actor: Actor, event: MemberOnlyEvent, data: EventInput) -> MemberOnlyEvent:
    """Change an event; a larger capacity lets the waitlist move up (and tells them)."""
    fields, errors = _checked(actor, data)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = MemberOnlyEvent.objects.select_for_update().get(pk=event.pk)
        changes = {
            name: [str(getattr(locked, name)), str(value)]
            for name, value in fields.items()
            if getattr(locked, name) != value
        }
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
        _promote(locked, timezone.now())
        if changes:
            audit(actor, AuditEntry.Action.UPDATE, locked, changes, label=locked.name)
    return event_for(actor, event.code)


# --- signing up and cancelling -----------------------------------------------------------------


def _locked_event(event: MemberOnlyEvent) -> MemberOnlyEvent:
    return MemberOnlyEvent.objects.select_for_update().get(pk=event.pk)


def sign_up(
    actor: Actor, event: MemberOnlyEvent, member: Member, now: dt.datetime | None = None
) -> EventSignup:
    """A place if one is left, else the end of the waitlist. A member signs up once (409
    `already_signed_up`); not after the start (409 `event_closed`); only the event's tiers
    (403 `tier_not_allowed`)."""
    now = now or timezone.now()
    if member.merchant_id != event.merchant_id or member.status != MemberStatus.ACTIVE:
        raise NotFound(_("Member not found"))
    if event.starts_at <= now:
        raise Conflict(_("Sign-up for this event has closed."), "event_closed")
    if not may_join(event, member):
        raise DomainError(
            _("This event is for other membership tiers."), code="tier_not_allowed", status=403
        )
    with transaction.atomic():
        locked = _locked_event(event)
        if live_signup(locked, member) is not None:
            raise Conflict(_("This member has signed up already."), "already_signed_up")
        taken = locked.signups.filter(status=Status.CONFIRMED).count()
        status = Status.CONFIRMED if taken < locked.capacity else Status.WAITLISTED
        signup = EventSignup.objects.create(
            event=locked, member=member, status=status, signed_up_at=now
        )
    signup.event = event
    return signup


def signup_for(event: MemberOnlyEvent, signup_id: Any) -> EventSignup:
    signup = None
    if _whole(signup_id) is not None:
        signup = signups_of(event).filter(pk=_whole(signup_id)).first()
    if signup is None:
        raise NotFound(_("Sign-up not found"))
    return signup


def cancel(actor: Actor, signup: EventSignup, now: dt.datetime | None = None) -> EventSignup | None:
    """Cancel a live sign-up; when it held a place, the first waitlisted takes it and is told.
    Returns the sign-up promoted, if any. Cancelling twice: 409 `already_cancelled`."""
    now = now or timezone.now()
    with transaction.atomic():
        event = _locked_event(signup.event)
        current = EventSignup.objects.select_for_update().get(pk=signup.pk)
        if current.status == Status.CANCELLED:
            raise Conflict(_("This sign-up is cancelled already."), "already_cancelled")
        if current.checked_in_at is not None:
            raise Conflict(_("This member has checked in already."), "already_checked_in")
        current.status, current.cancelled_at = Status.CANCELLED, now
        current.save(update_fields=["status", "cancelled_at"])
        promoted = _promote(event, now)
    signup.status, signup.cancelled_at = current.status, current.cancelled_at
    return promoted[0] if promoted else None


def _promote(event: MemberOnlyEvent, now: dt.datetime) -> list[EventSignup]:
    """Fill free places from the waitlist, first come first served (the event row is locked
    by the caller); each promoted member is told."""
    if event.starts_at <= now:
        return []
    free = event.capacity - event.signups.filter(status=Status.CONFIRMED).count()
    if free <= 0:
        return []
    moving = list(
        event.signups.select_related("member", "member__merchant")
        .filter(status=Status.WAITLISTED)
        .order_by("signed_up_at", "pk")[:free]
    )
    for signup in moving:
        signup.status, signup.promoted_at = Status.CONFIRMED, now
        signup.save(update_fields=["status", "promoted_at"])
        signup.event = event
        _tell(signup, "promoted", now)
    return moving


# --- telling members ---------------------------------------------------------------------------


def _when_text(event: MemberOnlyEvent) -> str:
    zone = merchant_zone(event.merchant.timezone)
    local = timezone.localtime(event.starts_at, zone)
    return formats.date_format(local, "DATETIME_FORMAT")


def _tell(signup: EventSignup, what: str, now: dt.datetime) -> None:
    event, member = signup.event, signup.member
    with translation.override(member_language(member)):
        values = {"event": event.name, "when": _when_text(event), "place": event.place}
        if what == "promoted":
            subject = _("You have a place at %(event)s") % values
            body = (
                _(
                    "A place came free: you are now confirmed for %(event)s, %(when)s at "
                    "%(place)s. Show the QR on the events page at the door."
                )
                % values
            )
        else:
            subject = _("Tomorrow: %(event)s") % values
            body = (
                _(
                    "A reminder: %(event)s is tomorrow, %(when)s at %(place)s. Show the QR on the "
                    "events page at the door."
                )
                % values
            )
    notices.notify(member, subject=subject, body=body, now=now)


def send_reminders(now: dt.datetime | None = None) -> int:
    """Remind confirmed members of events that start tomorrow in the merchant's zone (from
    REMINDER_HOUR there), once per sign-up; how many were reminded."""
    now = now or timezone.now()
    sent = 0
    candidates = MemberOnlyEvent.objects.select_related("merchant").filter(
        starts_at__gt=now, starts_at__lt=now + dt.timedelta(days=3)
    )
    for event in candidates:
        local_now = timezone.localtime(now, merchant_zone(event.merchant.timezone))
        local_start = timezone.localtime(event.starts_at, local_now.tzinfo)
        if local_now.hour < REMINDER_HOUR:
            continue
        if local_start.date() != local_now.date() + dt.timedelta(days=1):
            continue
        for signup_id in event.signups.filter(
            status=Status.CONFIRMED, reminded_at__isnull=True
        ).values_list("pk", flat=True):
            sent += _remind(event, signup_id, now)
    return sent


def _remind(event: MemberOnlyEvent, signup_id: int, now: dt.datetime) -> int:
    with transaction.atomic():
        # The marker is claimed by a guarded UPDATE: two jobs never remind one sign-up twice.
        claimed = EventSignup.objects.filter(
            pk=signup_id, status=Status.CONFIRMED, reminded_at__isnull=True
        ).update(reminded_at=now)
        if not claimed:
            return 0
        signup = EventSignup.objects.select_related("member", "member__merchant").get(pk=signup_id)
        signup.event = event
        _tell(signup, "reminder", now)
    return 1


# --- the door ---------------------------------------------------------------------------------


def door_token(signup: EventSignup) -> str:
    """The short signed token of the member's QR at the door: it names the event and the
    sign-up, and only this server can make one."""
    return signing.Signer(salt=DOOR_SALT).sign(f"{signup.event_id}.{signup.pk}")


def check_in(
    actor: Actor, event: MemberOnlyEvent, token: str, now: dt.datetime | None = None
) -> EventSignup:
    """Check the token's member in at `event`'s door, once. A tampered token: 422
    `invalid_token`; another event's: 422 `wrong_event`; a second scan: 409
    `already_checked_in`; a waitlisted or cancelled sign-up: 409 `not_confirmed`."""
    now = now or timezone.now()
    try:
        named = signing.Signer(salt=DOOR_SALT).unsign(str(token or "").strip())
        event_id, signup_id = (int(part) for part in named.split("."))
    except (signing.BadSignature, ValueError):
        raise DomainError(
            _("This code is not a valid event pass."), code="invalid_token", status=422
        ) from None
    if event_id != event.pk:
        raise DomainError(_("This pass is for another event."), code="wrong_event", status=422)
    with transaction.atomic():
        signup = (
            EventSignup.objects.select_for_update(of=("self",))
            .select_related("member")
            .filter(pk=signup_id, event=event)
            .first()
        )
        if signup is None:
            raise NotFound(_("Sign-up not found"))
        if signup.checked_in_at is not None:
            raise Conflict(
                _("Already checked in at %s.")
                % formats.time_format(timezone.localtime(signup.checked_in_at)),
                "already_checked_in",
            )
        if signup.status != Status.CONFIRMED:
            raise Conflict(_("This sign-up holds no place."), "not_confirmed")
        signup.checked_in_at = now
        signup.save(update_fields=["checked_in_at"])
    signup.event = event
    return signup
