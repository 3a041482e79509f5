"""Daily check-in on the member pages /m/checkin (issue 19 §4, §5): the check-in button,
the streak, this month's days, make-up cards (fill a missed day) and the member's referral
code and link with how many friends joined.

Owner: the check-in part. Writes through patron.activities.checkin."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from patron.activities import checkin as services
from patron.activities import referral
from patron.activities.checkin_program import MAKEUP_WINDOW_DEFAULT
from patron.activities.models import CheckIn
from patron.core.errors import DomainError, ValidationFailed
from patron.portal.session import member_actor, member_page, with_merchant


@never_cache
@require_http_methods(["GET", "POST"])
@member_page
def checkin(request: HttpRequest) -> HttpResponse:
    member = request.member
    if request.method == "POST":
        _post(request)
        return redirect("portal:checkin")
    config = services.rules(member.merchant_id)
    today = services.local_today(request.merchant)
    done = set(
        CheckIn.objects.filter(
            member=member, day__gte=today.replace(day=1) - dt.timedelta(days=31)
        ).values_list("day", flat=True)
    )
    cards = services.makeup_cards_of(member)
    join_url = with_merchant(reverse("portal:join"), request.merchant)
    context = {
        "merchant": request.merchant,
        "member": member,
        "tab": "card",
        "offered": bool(config),
        "points": config.get("points", 0),
        "streaks": config.get("streaks", []),
        "today": today,
        "checked_in": today in done,
        "streak": services.current_streak(member, today),
        "month": _month(today, done),
        "makeup_cards": cards,
        "missed": _missed(config, today, done) if cards else [],
        "referral_code": member.referral_code,
        "referral_link": request.build_absolute_uri(f"{join_url}&ref={member.referral_code}"),
        "friends": referral.friends_joined(member),
    }
    return render(request, "portal/checkin.html", context)


def _month(today: dt.date, done: set[dt.date]) -> list[dict]:
    """Every day of this month so far: checked in or not."""
    return [
        {"day": day, "done": day in done, "today": day == today}
        for day in (today.replace(day=n) for n in range(1, today.day + 1))
    ]


def _missed(config: dict, today: dt.date, done: set[dt.date]) -> list[dt.date]:
    window = config.get("makeup_cards", {}).get("window_days", MAKEUP_WINDOW_DEFAULT)
    days = (today - dt.timedelta(days=n) for n in range(1, window + 1))
    return [day for day in days if day not in done]


def _post(request: HttpRequest) -> None:
    member = request.member
    actor = member_actor(member, request)
    makeup = None
    if request.POST.get("action") == "makeup":
        makeup = parse_date(request.POST.get("day") or "")
        if makeup is None:
            messages.error(request, _("Choose the day to fill."))
            return
    try:
        outcome = services.check_in(actor, member, makeup_day=makeup)
    except ValidationFailed as refused:
        messages.error(request, " ".join(str(e.message) for e in refused.errors))
        return
    except DomainError as refused:
        messages.error(request, str(refused.detail))
        return
    message = _("Checked in: %(points)d points, %(days)d days in a row.") % {
        "points": outcome.points,
        "days": outcome.checkin.streak,
    }
    messages.success(request, message)
