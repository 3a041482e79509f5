"""Triggered journeys (F-36): who a running `trigger` campaign contacts, when, and with what.

Three ways in, one way out (`delivery.contact`, idempotent per campaign, member, occurrence):
- **Outbox events** (`on_event`, registered by journey_wiring): tier up or down, lifecycle to
  dormant (win-back), thanks after a sale (now or `delay_hours` later: a `JourneyStep` that
  `send_due_steps` hands over once due), stored value low after a top-up or a sale, points
  expiring within `days`, and any other API.md §9 type as is. Occurrence: the event's uid,
  except points expiring (once per expiry date) and stored value low (once per top-up cycle).
- **The daily birthday scan** (`greet_birthdays`, hourly from 09:00 in the merchant's zone):
  solar or lunar, on the day, `days_before` it or the first of the month; occurrence
  `birthday:<year>`, so a member is greeted once a year even if the birthday is edited.
- **The complaint scan** (`follow_up_complaints`, every few minutes): insight's member events
  of kind complaint are not outbox events, so the scan reads the recent ones; occurrence
  `complaint:<event id>`.
A campaign's audience, when it has one, restricts whom the trigger applies to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from patron.campaigns import audience, birthdays, delivery
from patron.campaigns.models import Campaign, JourneyStep, Purpose, Target
from patron.core.money import yuan
from patron.events import types as event_types
from patron.events.models import Event
from patron.insight.models import MemberEvent
from patron.ledger.selectors import member_balances
from patron.members.models import Member, MemberStatus
from patron.promotions.models import Tier
from patron.tenancy.models import Merchant
from patron.tenancy.permissions import merchant_zone

BIRTHDAY = "birthday"
COMPLAINT = "complaint"  # insight's member events, not an outbox type (see the module doc)
# Every outbox type a journey may start on; never `message.sent`: a journey that sends a
# message on a message would feed itself.
TRIGGER_EVENTS = tuple(t for t in event_types.EVENT_TYPES if t != event_types.MESSAGE_SENT)
TRIGGERS = (*TRIGGER_EVENTS, BIRTHDAY, COMPLAINT)
GREETING_HOUR = 9  # birthdays are greeted from 09:00 in the merchant's zone
COMPLAINT_LOOKBACK = dt.timedelta(days=2)  # the scan re-reads this far back (a worker down)
CHUNK = 500

Context = dict[str, Any]


@dataclass(frozen=True)
class Contact:
    """What a matching event asks of a campaign for one member."""

    occurrence: str
    context: Context = field(default_factory=dict)
    due_at: dt.datetime | None = None  # later than now: wait in a JourneyStep


# --- the outbox consumer --------------------------------------------------------------------


def on_event(event: Event) -> None:
    """The outbox consumer: contact (or schedule) the event's member for every running
    journey of the merchant that the event and its options match. Writes rows only."""
    if event.member_id is None:
        return
    campaigns = list(
        Campaign.objects.filter(
            merchant_id=event.merchant_id,
            kind=Campaign.Kind.TRIGGER,
            status=Campaign.Status.RUNNING,
            trigger__event=event.type,
            # A journey answers what happens once it is launched, not the outbox's past
            # (events written before it existed, e.g. by the demo or an earlier launch).
            launched_at__lte=event.created_at,
        ).select_related("merchant")
    )
    if not campaigns:
        return
    member = Member.objects.filter(
        pk=event.member_id, merchant_id=event.merchant_id, status=MemberStatus.ACTIVE
    ).first()
    if member is None:
        return
    now = timezone.now()
    for campaign in campaigns:
        wanted = match(campaign, event, member)
        if wanted is None or not in_audience(campaign, member):
            continue
        if wanted.due_at is not None and wanted.due_at > now:
            schedule_step(campaign, member, wanted)
        else:
            delivery.contact(
                campaign,
                [member.pk],
                occurrence=wanted.occurrence,
                context={member.pk: wanted.context},
                now=now,
            )


def match(campaign: Campaign, event: Event, member: Member) -> Contact | None:
    """The contact the event asks of this campaign, or None when its options say no."""
    options = campaign.trigger or {}
    data = event.data or {}
    if event.type == event_types.TIER_CHANGED:
        return _tier_changed(options, data, event)
    if event.type == event_types.LIFECYCLE_CHANGED:
        stage = data.get("to") or data.get("to_stage")
        if stage != options.get("to", stage):
            return None
        return Contact(str(event.uid), {"stage": stage})
    if "stored_value_below" in options:
        return _stored_value_low(options, event, member)
    if event.type == event_types.POINTS_EXPIRING:
        return _points_expiring(campaign, options, data, event)
    if event.type == event_types.SALE_COMPLETED:
        delay = dt.timedelta(hours=_number(options.get("delay_hours"), 0))
        context = {"points": data.get("points_earned", 0)}
        return Contact(str(event.uid), context, event.created_at + delay if delay else None)
    return Contact(str(event.uid), {})


def _number(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return value


def _tier_changed(options: dict, data: dict, event: Event) -> Contact | None:
    direction = data.get("direction") or _direction(event.merchant_id, data)
    if options.get("direction") not in (None, direction):
        return None
    tier = Tier.objects.filter(merchant_id=event.merchant_id, code=data.get("to")).first()
    return Contact(str(event.uid), {"tier": tier.name if tier else data.get("to") or ""})


def _direction(merchant_id: int, data: dict) -> str | None:
    """Up or down by the tiers' ranks, for a payload that did not say (no tier is rank 0)."""
    ranks = dict(
        Tier.objects.filter(
            merchant_id=merchant_id, code__in=[data.get("from"), data.get("to")]
        ).values_list("code", "rank")
    )
    before, after = ranks.get(data.get("from"), 0), ranks.get(data.get("to"), 0)
    return "up" if after > before else "down" if after < before else None


def _stored_value_low(options: dict, event: Event, member: Member) -> Contact | None:
    """Below the threshold after this top-up or sale: once per top-up cycle (the occurrence
    names the member's latest top-up), so a member who keeps spending a low balance hears
    once, and again only after topping up. Reads the balance when the event is dispatched."""
    threshold = _number(options.get("stored_value_below"), 0)
    balance = member_balances(member)["stored_value"]["total"]
    if balance >= threshold:
        return None
    last_topup = (
        Event.objects.filter(
            member_id=member.pk, type=event_types.TOPUP_COMPLETED, id__lte=event.pk
        )
        .order_by("-id")
        .values_list("uid", flat=True)
        .first()
    )
    occurrence = f"stored_value_low:{last_topup or 'start'}"
    return Contact(occurrence, {"stored_value": yuan(balance)})


def _points_expiring(campaign: Campaign, options: dict, data: dict, event: Event) -> Contact | None:
    """Points expiring within `days` (default 7) of the event; once per expiry date, however
    many reminders (30 days, 7 days) the ledger sends for it."""
    zone = merchant_zone(campaign.merchant.timezone)
    expires = _local_date(data.get("expires_at"), zone)
    if expires is None:
        return None
    days_left = (expires - event.created_at.astimezone(zone).date()).days
    if days_left > _number(options.get("days"), 7):
        return None
    context = {"points": data.get("points", 0), "expires_at": expires.isoformat()}
    return Contact(f"points_expiring:{expires.isoformat()}", context)


def _local_date(raw: Any, zone: dt.tzinfo) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.astimezone(zone).date()
    if isinstance(raw, dt.date):
        return raw
    if not isinstance(raw, str):
        return None
    moment = parse_datetime(raw)
    if moment is not None:
        return moment.astimezone(zone).date() if moment.tzinfo else moment.date()
    return parse_date(raw)


def in_audience(campaign: Campaign, member: Member) -> bool:
    """A journey's audience is optional: without one it applies to every member."""
    if not campaign.audience and not campaign.owner_store_id:
        return True
    return audience.campaign_members(campaign).filter(pk=member.pk).exists()


# --- contacts that wait ---------------------------------------------------------------------


def schedule_step(campaign: Campaign, member: Member, wanted: Contact) -> None:
    """Record a contact due later; a replayed event finds it there and adds nothing."""
    JourneyStep.objects.bulk_create(
        [
            JourneyStep(
                campaign=campaign,
                member=member,
                occurrence=wanted.occurrence,
                due_at=wanted.due_at,
                context=wanted.context,
            )
        ],
        ignore_conflicts=True,
    )


def send_due_steps(now: dt.datetime | None = None, limit: int = CHUNK) -> int:
    """Hand the steps that are due to `contact`. Steps of a paused journey wait for it to
    resume; those of a journey that ended are closed unsent. Locked rows are skipped, so two
    workers never hand over the same step."""
    now = now or timezone.now()
    handled = 0
    with transaction.atomic():
        steps = list(
            JourneyStep.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(done_at__isnull=True, due_at__lte=now)
            .exclude(campaign__status=Campaign.Status.PAUSED)
            .select_related("campaign__merchant")
            .order_by("due_at", "pk")[:limit]
        )
        for step in steps:
            if step.campaign.status == Campaign.Status.RUNNING:
                delivery.contact(
                    step.campaign,
                    [step.member_id],
                    occurrence=step.occurrence,
                    context={step.member_id: step.context},
                    now=now,
                )
                handled += 1
            step.done_at = now
        JourneyStep.objects.bulk_update(steps, ["done_at"])
    return handled


# --- the time scans -------------------------------------------------------------------------


def _running(merchant: Merchant, trigger: str) -> list[Campaign]:
    return list(
        Campaign.objects.filter(
            merchant=merchant,
            kind=Campaign.Kind.TRIGGER,
            status=Campaign.Status.RUNNING,
            trigger__event=trigger,
        ).select_related("merchant")
    )


def _not_yet(campaign: Campaign, member_ids: Iterable[int], occurrence: str) -> list[int]:
    """The members this campaign has not contacted (nor held out) for this occurrence."""
    ids = list(member_ids)
    done = set(
        Target.objects.filter(
            campaign=campaign, occurrence=occurrence, member_id__in=ids
        ).values_list("member_id", flat=True)
    )
    return [pk for pk in ids if pk not in done]


def _contact_in_chunks(
    campaign: Campaign, ids: list[int], occurrence: str, contexts: dict[int, Context]
) -> int:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with transaction.atomic():
            delivery.contact(
                campaign,
                chunk,
                occurrence=occurrence,
                context={pk: contexts.get(pk, {}) for pk in chunk},
            )
    return len(ids)


def greet_birthdays(merchant: Merchant, now: dt.datetime | None = None) -> int:
    """Every running birthday journey of the merchant, from 09:00 local time (each later run
    of the day finds the same members already contacted). Returns the members handed over."""
    now = now or timezone.now()
    local = now.astimezone(merchant_zone(merchant.timezone))
    if local.hour < GREETING_HOUR:
        return 0
    today = local.date()
    handed = 0
    for campaign in _running(merchant, BIRTHDAY):
        options = campaign.trigger or {}
        when = options.get("when", birthdays.DAY)
        days = birthdays.days_due(today, when, int(_number(options.get("days_before"), 0)))
        if not days:
            continue
        calendar_name = options.get("calendar", birthdays.MEMBER)
        members = birthdays.members_on(merchant.pk, days, calendar_name)
        if campaign.audience or campaign.owner_store_id:
            allowed = audience.campaign_members(campaign).values("pk")
            members = members.filter(pk__in=allowed)
        year = days[0].year
        occurrence = f"birthday:{year}"
        found = {m.pk: m for m in members.order_by("pk")}
        ids = _not_yet(campaign, found, occurrence)
        contexts = {pk: {"birthday": _kept_on(found[pk], year, calendar_name, days)} for pk in ids}
        handed += _contact_in_chunks(campaign, ids, occurrence, contexts)
    return handed


def _kept_on(member: Member, year: int, calendar_name: str, days: list[dt.date]) -> str:
    kept = [d for d in birthdays.birthdays_in(member, year, calendar_name) if d in set(days)]
    return kept[0].isoformat() if kept else ""


def follow_up_complaints(merchant: Merchant, now: dt.datetime | None = None) -> int:
    """Running complaint journeys contact each member who complained since the journey was
    launched (at most `COMPLAINT_LOOKBACK` ago), once per complaint."""
    now = now or timezone.now()
    handed = 0
    for campaign in _running(merchant, COMPLAINT):
        since = max(campaign.launched_at or now, now - COMPLAINT_LOOKBACK)
        complaints = MemberEvent.objects.filter(
            merchant=merchant,
            kind=MemberEvent.Kind.COMPLAINT,
            created_at__gte=since,
            member__status=MemberStatus.ACTIVE,
        ).order_by("pk")
        if campaign.audience or campaign.owner_store_id:
            allowed = audience.campaign_members(campaign).values("pk")
            complaints = complaints.filter(member_id__in=allowed)
        for complaint in complaints:
            occurrence = f"{COMPLAINT}:{complaint.pk}"
            if not _not_yet(campaign, [complaint.member_id], occurrence):
                continue
            with transaction.atomic():
                delivery.contact(
                    campaign,
                    [complaint.member_id],
                    occurrence=occurrence,
                    context={complaint.member_id: {"complaint": complaint.body[:100]}},
                    now=now,
                )
            handed += 1
    return handed


# --- built-in journeys for the console ------------------------------------------------------


def _message(template: str) -> dict[str, str]:
    return {"type": "message", "channel": "inbox", "template": template}


def journey_presets() -> list[dict[str, Any]]:
    """The console's "start from a template": ready-made campaigns for the seeds' three kinds
    (relationship care, exclusive promotion, information). Each names a built-in message
    template by code (the channels part's builtin_templates)."""
    care, promotion, information = Purpose.CARE, Purpose.PROMOTION, Purpose.INFORMATION
    trigger, once = Campaign.Kind.TRIGGER, Campaign.Kind.ONCE
    rows = [
        (
            "birthday",
            _("Birthday greeting"),
            _("On the member's birthday (lunar if they gave one), a greeting."),
            care,
            trigger,
            {"event": BIRTHDAY, "calendar": birthdays.MEMBER, "when": birthdays.DAY},
            [_message("birthday")],
        ),
        (
            "thanks",
            _("Thanks after a visit"),
            _("Two hours after a purchase, a thank-you."),
            care,
            trigger,
            {"event": event_types.SALE_COMPLETED, "delay_hours": 2},
            [_message("thanks")],
        ),
        (
            "win_back",
            _("Win back dormant members"),
            _("When a member becomes dormant, an invitation to come back."),
            care,
            trigger,
            {"event": event_types.LIFECYCLE_CHANGED, "to": "dormant"},
            [_message("win_back")],
        ),
        (
            "points_expiring",
            _("Points about to expire"),
            _("Seven days before points expire, a reminder to use them."),
            care,
            trigger,
            {"event": event_types.POINTS_EXPIRING, "days": 7},
            [_message("points_expiring")],
        ),
        (
            "stored_value_low",
            _("Stored value running low"),
            _("When a purchase leaves less than ¥100 of stored value, a top-up reminder."),
            care,
            trigger,
            {"event": event_types.SALE_COMPLETED, "stored_value_below": 10000},
            [_message("stored_value_low")],
        ),
        (
            "tier_up",
            _("Congratulations on a new tier"),
            _("When a member moves up a tier, congratulations and the new privileges."),
            care,
            trigger,
            {"event": event_types.TIER_CHANGED, "direction": "up"},
            [_message("tier_up")],
        ),
        (
            "complaint_follow_up",
            _("Complaint follow-up"),
            _("After a complaint, an apology and a call-back task for the store manager."),
            care,
            trigger,
            {"event": COMPLAINT},
            [_message("complaint_follow_up"), {"type": "task", "assignee_role": "store_manager"}],
        ),
        (
            "promotion",
            _("Exclusive promotion"),
            _("An offer for a segment you choose, sent once at a time you choose."),
            promotion,
            once,
            {},
            [_message("promotion")],
        ),
        (
            "information",
            _("Information"),
            _("News for members (opening hours, a new store), sent once."),
            information,
            once,
            {},
            [_message("information")],
        ),
    ]
    return [
        {
            "code": code,
            "name": name,
            "description": description,
            "purpose": str(purpose),
            "kind": str(kind),
            "trigger": trigger_spec,
            "actions": actions,
        }
        for code, name, description, purpose, kind, trigger_spec, actions in rows
    ]
