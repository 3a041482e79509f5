"""The campaign calendar (F-36): a month grid of what goes out when, in the merchant's time.

One-off and recurring campaigns show each run `schedules.next_runs` gives for the month;
birthday journeys show how many members have their (solar) birthday that day, which is one
grouped query; lunar birthdays move every year and are left out of the count (said on the page).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count
from django.db.models.functions import ExtractDay, ExtractMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.campaigns import schedules
from patron.campaigns.models import Campaign
from patron.campaigns.views import may_use
from patron.members.models import Member
from patron.tenancy.actor import Actor

# Campaigns that may still send: drafts are not on the calendar until launched.
LIVE = (Campaign.Status.SCHEDULED, Campaign.Status.RUNNING, Campaign.Status.PAUSED)


def month_of(raw: str, today: dt.date) -> dt.date:
    """'2026-12' -> 2026-12-01; anything else (or a year out of 2000..2100): this month."""
    try:
        year, month = (int(part) for part in raw.split("-"))
        first = dt.date(year, month, 1)
    except (ValueError, TypeError):
        return today.replace(day=1)
    return first if 2000 <= year <= 2100 else today.replace(day=1)


def shifted(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(shifted(first, 1), dt.time(), tzinfo=zone)
    return start, end


def scheduled_sends(actor: Actor, first: dt.date) -> dict[dt.date, list[dict[str, Any]]]:
    start, end = month_bounds(first)
    days: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    campaigns = Campaign.objects.filter(merchant=actor.merchant, status__in=LIVE).exclude(
        kind=Campaign.Kind.TRIGGER
    )
    for campaign in campaigns:
        for run in schedules.next_runs(campaign, start, end):
            local = timezone.localtime(run)
            days[local.date()].append({"campaign": campaign, "time": local})
    return days


def birthdays(actor: Actor, first: dt.date) -> dict[int, int]:
    """Active members by solar birthday day in the month: one grouped query."""
    rows = (
        Member.objects.filter(merchant=actor.merchant, status="active", birthday__isnull=False)
        .annotate(month=ExtractMonth("birthday"), day=ExtractDay("birthday"))
        .filter(month=first.month)
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def birthday_journeys(actor: Actor) -> list[Campaign]:
    return [
        c
        for c in Campaign.objects.filter(
            merchant=actor.merchant, status__in=LIVE, kind=Campaign.Kind.TRIGGER
        )
        if (c.trigger or {}).get("event") == "birthday"
    ]


@may_use
def campaign_calendar(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    today = timezone.localdate()
    first = month_of(request.GET.get("month", ""), today)
    sends = scheduled_sends(actor, first)
    journeys = birthday_journeys(actor)
    born = birthdays(actor, first) if journeys else {}
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        weeks.append(
            [
                {
                    "date": day,
                    "in_month": day.month == first.month,
                    "today": day == today,
                    "sends": sorted(sends.get(day, []), key=lambda s: s["time"]),
                    "birthdays": born.get(day.day, 0) if day.month == first.month else 0,
                }
                for day in week
            ]
        )
    context = {
        "first": first,
        "weeks": weeks,
        "previous": shifted(first, -1),
        "next": shifted(first, 1),
        "journeys": journeys,
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
    }
    return render(request, "campaigns/calendar.html", context)
