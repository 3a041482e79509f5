"""When campaigns run: the cron check, the console's calendar and the scheduler's next time.

A one-off sends at `schedule.at` (or as soon as it is launched without one); a recurring
campaign at each time of its cron expression, read on the wall clock of the merchant's zone;
a triggered journey has no times of its own (events and the daily scans start it).

Cron times are computed on naive local times and only then placed in the zone, so a daylight
saving change neither skips nor doubles a run: a time that falls in the spring gap runs at the
first moment after it, a time that happens twice in autumn runs once (the first).
Asia/Shanghai has no daylight saving; other zones may.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from patron.campaigns import delivery
from patron.campaigns.models import Campaign, CampaignRun
from patron.tenancy.permissions import merchant_zone

# Runs at most in one calendar page: a cron of every minute over a month is 43,200 of them.
_CALENDAR_LIMIT = 1000


def check_cron(expr: str) -> str | None:
    """A translated error for a cron that does not parse or never fires, else None."""
    if not isinstance(expr, str) or not expr.strip():
        return _("Give a cron expression, e.g. “0 10 * * 1” for Mondays at 10:00.")
    expr = expr.strip()
    if len(expr.split()) != 5:
        return _("A cron expression has five fields: minute, hour, day, month, weekday.")
    if not croniter.is_valid(expr):
        return _("This cron expression does not parse: %(expr)s") % {"expr": expr}
    try:  # croniter gives up after about 50 years without a match ("0 0 30 2 *")
        croniter(expr, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
    except (CroniterBadDateError, CroniterBadCronError):
        return _("This cron expression never fires (no such date): %(expr)s") % {"expr": expr}
    return None


# A trigger's options (brief 17, "Trigger and action JSON"): name -> the events that take it.
_OPTIONS: dict[str, tuple[str, ...]] = {
    "calendar": ("birthday",),
    "when": ("birthday",),
    "days_before": ("birthday",),
    "to": ("lifecycle.changed",),
    "direction": ("tier.changed",),
    "delay_hours": ("sale.completed",),
    "stored_value_below": ("sale.completed", "topup.completed"),
    "days": ("points.expiring",),
}
MAX_DELAY_HOURS = 24 * 30
MAX_DAYS_AHEAD = 366
MAX_BALANCE_FEN = 10**11


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_trigger(trigger: dict) -> list[tuple[str, str]]:
    """The options of a trigger that are wrong, as (option, translated message); the event
    itself is checked by `services.validate_spec`. Unknown options are refused rather than
    ignored: a typo ("delay_hour") would otherwise send the thanks at once."""
    from patron.campaigns.birthdays import CALENDARS, DAY, MONTH  # the journeys' calendars
    from patron.insight.models import Lifecycle

    event = trigger.get("event")
    errors: list[tuple[str, str]] = []
    for name in trigger:
        if name != "event" and event not in _OPTIONS.get(name, ()):
            errors.append((name, _("This trigger takes no option “%(name)s”.") % {"name": name}))
    checks = {
        "calendar": (
            lambda v: v in CALENDARS,
            _("Choose solar, lunar or member (lunar when the member gave one)."),
        ),
        "when": (lambda v: v in (DAY, MONTH), _("Choose day or month.")),
        "days_before": (lambda v: _whole(v, 0, 60), _("Give a whole number of days, 0 to 60.")),
        "to": (lambda v: v in Lifecycle.values, _("Choose a lifecycle stage.")),
        "direction": (lambda v: v in ("up", "down"), _("Choose up or down.")),
        "delay_hours": (
            lambda v: _whole(v, 0, MAX_DELAY_HOURS),
            _("Give a whole number of hours, 0 to %(max)d.") % {"max": MAX_DELAY_HOURS},
        ),
        "stored_value_below": (
            lambda v: _whole(v, 1, MAX_BALANCE_FEN),
            _("Give an amount in fen greater than 0."),
        ),
        "days": (
            lambda v: _whole(v, 1, MAX_DAYS_AHEAD),
            _("Give a whole number of days, 1 to %(max)d.") % {"max": MAX_DAYS_AHEAD},
        ),
    }
    for name, (valid, message) in checks.items():
        if name in trigger and event in _OPTIONS[name] and not valid(trigger[name]):
            errors.append((name, message))
    if "delay_hours" in trigger and "stored_value_below" in trigger:
        errors.append(("delay_hours", _("A stored-value reminder goes at once: remove the delay.")))
    if trigger.get("when") == MONTH and trigger.get("days_before"):
        errors.append(("days_before", _("Days before apply to greetings on the day.")))
    return errors


def zone_of(campaign: Campaign) -> zoneinfo.ZoneInfo:
    return merchant_zone(campaign.merchant.timezone)


def at_of(campaign: Campaign) -> dt.datetime | None:
    """A one-off's `schedule.at` as an aware time, or None when it has none (or a bad one,
    which `services.validate_spec` refuses before it is saved)."""
    raw = (campaign.schedule or {}).get("at")
    if not raw:
        return None
    when = raw if isinstance(raw, dt.datetime) else parse_datetime(str(raw))
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone_of(campaign))
    return when


def cron_times(expr: str, zone: zoneinfo.ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    """The cron's times strictly after `after`, aware, in `zone`, each instant once."""
    local_after = after.astimezone(zone).replace(tzinfo=None)
    times = croniter(expr, local_after)
    last: dt.datetime | None = None
    while True:
        try:
            naive = times.get_next(dt.datetime)
        except CroniterBadDateError:
            return
        # fold=0: an autumn wall time that happens twice is taken once, at its first instant;
        # a spring time that never happens converts to the instant just after the gap.
        instant = naive.replace(tzinfo=zone).astimezone(dt.UTC)
        if instant <= after or (last is not None and instant <= last):
            continue
        last = instant
        yield instant.astimezone(zone)


def next_runs(campaign: Campaign, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """When a scheduled or recurring campaign sends in [start, end) (the console's calendar);
    triggered journeys: []. Times are aware, in the merchant's zone."""
    zone = zone_of(campaign)
    if campaign.kind == Campaign.Kind.ONCE:
        at = at_of(campaign) or campaign.next_run_at
        return [at.astimezone(zone)] if at is not None and start <= at < end else []
    if campaign.kind == Campaign.Kind.RECURRING:
        expr = (campaign.schedule or {}).get("cron") or ""
        if check_cron(expr) is not None:
            return []
        runs: list[dt.datetime] = []
        for when in cron_times(expr, zone, start - dt.timedelta(microseconds=1)):
            if when >= end or len(runs) >= _CALENDAR_LIMIT:
                break
            runs.append(when)
        return runs
    return []


def next_run_at(campaign: Campaign, after: dt.datetime) -> dt.datetime | None:
    """When the scheduler next starts a run of the campaign, after `after`.

    once: `schedule.at` (or `after` itself when it has none or it has passed: launched late,
    it runs at once) unless it already ran; recurring: the next cron time; trigger: None.
    The engine's `launch` stores it in `campaign.next_run_at`; the scheduler advances it."""
    if campaign.kind == Campaign.Kind.ONCE:
        if campaign.pk and campaign.runs.exists():
            return None
        at = at_of(campaign)
        return max(at, after) if at is not None else after
    if campaign.kind == Campaign.Kind.RECURRING:
        expr = (campaign.schedule or {}).get("cron") or ""
        if check_cron(expr) is not None:
            return None
        return next(cron_times(expr, zone_of(campaign), after), None)
    return None


def occurrence_of(campaign: Campaign, when: dt.datetime) -> str:
    """A run's occurrence: its local date and time ("2026-12-07 10:00"), or "once"."""
    if campaign.kind == Campaign.Kind.ONCE:
        return "once"
    return when.astimezone(zone_of(campaign)).strftime("%Y-%m-%d %H:%M")


# --- the scheduler --------------------------------------------------------------------------

STARTABLE = (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED)


def start_due_runs(now: dt.datetime | None = None) -> int:
    """Start the run of every one-off or recurring campaign whose `next_run_at` has come,
    then advance it (once: none; recurring: the next cron time after now, so runs missed
    while no worker ran are not sent late in a burst). The campaign row is locked and the
    run's occurrence checked first, so a job that runs twice (two workers, a retry) starts
    each occurrence once; the CampaignRun unique (campaign, occurrence) is the last guard."""
    # In UTC, as the database gives times back: the engine compares a run's start time
    # with the one it queued its chunks under.
    now = (now or timezone.now()).astimezone(dt.UTC)
    due = list(
        Campaign.objects.filter(
            status__in=STARTABLE,
            kind__in=(Campaign.Kind.ONCE, Campaign.Kind.RECURRING),
            next_run_at__lte=now,
        )
        .order_by("next_run_at", "pk")
        .values_list("pk", flat=True)
    )
    started = sum(_start_one(pk, now) for pk in due)
    _finish_one_offs(now)
    return started


def _start_one(pk: int, now: dt.datetime) -> int:
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status__in=STARTABLE, next_run_at__lte=now)
            .select_related("merchant")
            .first()
        )
        if campaign is None:  # another worker has it, or it was paused meanwhile
            return 0
        occurrence = occurrence_of(campaign, campaign.next_run_at)
        started = 0
        if not CampaignRun.objects.filter(campaign=campaign, occurrence=occurrence).exists():
            delivery.start_run(campaign, occurrence=occurrence, now=now)
            started = 1
        if campaign.kind == Campaign.Kind.ONCE:
            campaign.next_run_at = None
        else:
            campaign.next_run_at = next_run_at(campaign, max(campaign.next_run_at, now))
        fields = ["next_run_at", "updated_at"]
        if campaign.status == Campaign.Status.SCHEDULED:
            campaign.status = Campaign.Status.RUNNING
            fields.append("status")
        campaign.save(update_fields=fields)
        return started


def _finish_one_offs(now: dt.datetime) -> int:
    """A one-off is done once its run is: nothing more will start."""
    unfinished = CampaignRun.objects.filter(
        status__in=(CampaignRun.Status.QUEUED, CampaignRun.Status.RUNNING)
    )
    return (
        Campaign.objects.filter(
            kind=Campaign.Kind.ONCE, status=Campaign.Status.RUNNING, next_run_at__isnull=True
        )
        .filter(runs__isnull=False)
        .exclude(runs__in=unfinished)
        .distinct()
        .update(status=Campaign.Status.DONE, finished_at=now)
    )
